"""Framing: the Code section offset the address map relies on, and DWARF 5 sections."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from dwarf_oracle import PROGRAMS, debug_info, module

from wasmdbg.dwarf import AddressMap
from wasmdbg.dwarf.sections import DWARF_SECTIONS


@pytest.mark.skipif(
    shutil.which("llvm-objdump-22") is None, reason="llvm-objdump-22 is not installed"
)
@pytest.mark.parametrize("name", ["types.O0", "recursion.O2", "inline.O2.dwarf5"])
def test_code_offset_is_the_code_payload(name: str) -> None:
    out = subprocess.run(
        ["llvm-objdump-22", "-h", str(PROGRAMS / f"{name}.wasm")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"CODE\s+([0-9a-f]+)\s+([0-9a-f]+)", out)
    assert m is not None
    size, offset = int(m[1], 16), int(m[2], 16)
    amap = AddressMap.of(module(name))
    assert (amap.code_offset, amap.code_size) == (offset, size)


def test_address_map_round_trip_and_tombstones() -> None:
    amap = AddressMap.of(module("types.O0"))
    assert amap.pc(0) == amap.code_offset
    assert amap.address(amap.pc(0x1E) or 0) == 0x1E
    assert amap.pc(amap.code_size) is None and amap.end_pc(amap.code_size) is not None
    assert amap.pc(0xFFFF_FFFF) is None and amap.pc(0xFFFF_FFFE) is None
    assert amap.end_pc(0) is None


def test_dwarf5_sections_are_read() -> None:
    info = debug_info("types.O2.dwarf5")
    present = set(info.module.debug_sections())
    for name in (
        ".debug_addr",
        ".debug_str_offsets",
        ".debug_line_str",
        ".debug_rnglists",
        ".debug_loclists",
    ):
        assert name in present and name in DWARF_SECTIONS
    u = next(u for u in info.units if u.name == "types.c")
    assert u.cu["version"] == 5
    assert u.file_names[0] == "types.c"
    main = info.function_named("main")
    assert main is not None and main.decl_file == "types.c"
    # DW_OP_addrx globals resolve through .debug_addr to the same addresses as DWARF 4.
    g5 = info.lookup_variable("g_counter")
    g4 = debug_info("types.O2").lookup_variable("g_counter")
    assert g5 is not None and g4 is not None and g5.location == g4.location
