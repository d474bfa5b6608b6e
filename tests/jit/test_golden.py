"""Golden tests: ``golden/*.wat`` -> the compiler's disassembly (``golden/*.txt``).

The expected files are reviewed in diffs.  Regenerate them after an
intended change with ``WASMDBG_BLESS=1 pytest tests/jit/test_golden.py``.
A ``.wat`` whose first line mentions ``GUEST_DEBUG`` is compiled with patch
sites.  Listings show each function's native code (capstone, Intel syntax)
with the Wasm pc of call and trap sites; the module's shared trap routines
at the end of the blob are listed once.
"""

from __future__ import annotations

import os
from pathlib import Path

import capstone
import pytest
import wasmtime

from wasmdbg.jit.compiler import compile_module
from wasmdbg.wasm.decoder import decode_module

GOLDEN = Path(__file__).parent / "golden"
BLESS = bool(os.environ.get("WASMDBG_BLESS"))
CASES = sorted(GOLDEN.glob("*.wat"))


def listing(wat: str) -> str:
    """The disassembly listing of ``wat`` compiled by wasmdbg."""
    debug = "GUEST_DEBUG" in wat.splitlines()[0]
    module = decode_module(wasmtime.wat2wasm(wat))
    compiled = compile_module(
        module, guest_debug=debug, sig_ids=list(range(1, len(module.types) + 1))
    )
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    out: list[str] = []
    code = compiled.code
    end = 0
    for f in compiled.functions:
        out.append(f"func {f.func_index}:")
        for ins in md.disasm(code[f.start : f.end], f.start):
            note = ""
            after = ins.address + ins.size
            if after in f.call_sites:
                note = f"  ; call site, pc {f.call_sites[after]:#x}"
            elif after in f.trap_sites:
                note = f"  ; trap site, pc {f.trap_sites[after]:#x}"
            out.append(f"  {ins.address:5x}: {ins.mnemonic} {ins.op_str}".rstrip() + note)
        end = f.end
    out.append("trap routines:")
    for ins in md.disasm(code[end:], end):
        out.append(f"  {ins.address:5x}: {ins.mnemonic} {ins.op_str}".rstrip())
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("wat", CASES, ids=[p.stem for p in CASES])
def test_golden(wat: Path) -> None:
    got = listing(wat.read_text())
    expected = wat.with_suffix(".txt")
    if BLESS or not expected.exists():
        expected.write_text(got)
        if not BLESS:
            pytest.fail(f"{expected.name} did not exist; written (review it, then rerun)")
        return
    assert got == expected.read_text(), (
        f"{wat.name}: disassembly changed; rerun with WASMDBG_BLESS=1 after review"
    )
