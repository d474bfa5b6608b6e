"""Start a program under the gdbstub and drive it with real LLDB (both as subprocesses).

Every wait is bounded: a server that never listens, an LLDB that hangs and a
server that never exits all fail the test instead of blocking it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
SRC = HERE.parent.parent / "src"
LISTEN_TIMEOUT = 60.0
LLDB_TIMEOUT = 180.0
EXIT_TIMEOUT = 30.0


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *extra.values(), env.get("PYTHONPATH", "")])
    return env


def lldb_pythonpath() -> str:
    return subprocess.check_output(["lldb-22", "-P"], text=True, timeout=30).strip()


class Server:
    """``wasmdbg OPTIONS PROGRAM ARGS`` (OPTIONS: ``run -g 127.0.0.1:0``), its port read from stderr."""

    def __init__(
        self, program: str, args: list[str] = [], options: list[str] = ["run", "-g", "127.0.0.1:0"]  # noqa: B006
    ) -> None:
        self.program = PROGRAMS / program
        cmd = [sys.executable, "-m", "wasmdbg", *options, str(self.program), *args]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            cwd=PROGRAMS,
        )
        self.port = self._read_port()

    def _read_port(self) -> int:
        import selectors

        assert self.proc.stderr is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        line = b""
        while not line.endswith(b"\n"):
            if not sel.select(LISTEN_TIMEOUT):
                self.proc.kill()
                raise TimeoutError("the server did not start listening")
            chunk = os.read(self.proc.stderr.fileno(), 1)
            if not chunk:
                raise RuntimeError(f"the server ended before listening: {line!r}")
            line += chunk
        match = re.search(rb":(\d+)\s*$", line)
        if match is None:
            raise RuntimeError(f"no port in {line!r}")
        return int(match.group(1))

    def finish(self, timeout: float = EXIT_TIMEOUT) -> tuple[int, str, str]:
        """Wait for the server to exit (killing it after ``timeout``): (status, stdout, stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"the server did not exit: {err.decode(errors='replace')[-2000:]}") from exc
        return self.proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@dataclass
class Result:
    command: str
    ok: bool
    out: str
    err: str
    state: str
    exit_status: int | None

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Run:
    results: list[Result]
    status: int
    stdout: str
    stderr: str

    def __getitem__(self, command: str) -> Result:
        """The result of the first command that is ``command`` or starts with ``command + ' '``."""
        for r in self.all(command):
            return r
        raise KeyError(command)

    def all(self, command: str) -> list[Result]:
        return [r for r in self.results if r.command == command or r.command.startswith(command + " ")]


def drive_lldb(commands: list[str], port: int = 0) -> list[Result]:
    """Run ``commands`` in a fresh LLDB (a subprocess, bounded by LLDB_TIMEOUT)."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "lldb_driver.py"), str(port)],
        input=json.dumps(commands),
        capture_output=True,
        text=True,
        env=_env(lldb=lldb_pythonpath()),
        cwd=PROGRAMS,
        timeout=LLDB_TIMEOUT,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise AssertionError(f"the LLDB driver failed ({proc.returncode}): {proc.stderr[-3000:]}")
    raw: list[dict[str, Any]] = json.loads(proc.stdout)
    return [Result(**r) for r in raw]


def run_lldb(program: str, commands: list[str], args: list[str] = []) -> Run:  # noqa: B006
    """Connect LLDB to ``program`` under the server, run ``commands``, collect everything."""
    server = Server(program, args)
    try:
        results = drive_lldb(["!connect", *commands], server.port)
    except BaseException:
        server.proc.kill()
        server.proc.communicate()
        raise
    status, out, err = server.finish()
    return Run(results, status, out, err)


def runtime_wrapper(directory: Path) -> Path:
    """An executable that runs this checkout's ``wasmdbg`` (for LLDB's runtime-path)."""
    path = directory / "wasmdbg"
    path.write_text(f'#!/bin/sh\nPYTHONPATH="{SRC}" exec "{sys.executable}" -m wasmdbg "$@"\n')
    path.chmod(0o755)
    return path
