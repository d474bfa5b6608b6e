"""``wasmdbg run``: a trap's backtrace names the source line of each frame that has DWARF."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "c"


def mark(name: str) -> int:
    for number, text in enumerate((PROGRAMS / "trap.c").read_text().splitlines(), 1):
        if text.rstrip().endswith(f"// MARK: {name}"):
            return number
    raise LookupError(name)


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_trap_report_has_source_lines(opt: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "wasmdbg", "run", str(PROGRAMS / f"trap.{opt}.wasm")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 134
    err = proc.stderr
    assert re.search(rf"  0: +0x[0-9a-f]+ - trap.{opt}.wasm!average\n {{20}}at trap.c:{mark('divide')}:\d+\n", err)
    assert re.search(rf"  1: +0x[0-9a-f]+ - trap.{opt}.wasm!compute\n {{20}}at trap.c:{mark('compute-call')}:\d+\n", err)
    assert re.search(rf"  2: +0x[0-9a-f]+ - trap.{opt}.wasm!main\n {{20}}at trap.c:{mark('main-compute')}:\d+\n", err)
    assert err.rstrip().endswith("wasm trap: integer divide by zero")


def test_a_module_without_dwarf_keeps_the_plain_backtrace(tmp_path: Path) -> None:
    wat = tmp_path / "t.wat"
    wat.write_text('(module (func (export "_start") unreachable))')
    proc = subprocess.run([sys.executable, "-m", "wasmdbg", "run", str(wat)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 134
    assert "\n                    at " not in proc.stderr and "<wasm function 0>" in proc.stderr
