"""Missing, truncated or garbled DWARF: a clear note or DwarfError, never another exception."""

from __future__ import annotations

import contextlib
import dataclasses
import random

import pytest
from dwarf_oracle import module
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmdbg.dwarf import AddressMap, DebugInfo, DwarfError, load_debug_info
from wasmdbg.dwarf.lines import decode_line_program
from wasmdbg.dwarf.locations import WasmLocal, parse_location, resolve
from wasmdbg.dwarf.types import ptype, type_name
from wasmdbg.wasm.module import CustomSection, ModuleDef


def _with_sections(m: ModuleDef, change: dict[str, bytes | None]) -> ModuleDef:
    customs = []
    for c in m.customs:
        if c.name in change:
            data = change[c.name]
            if data is not None:
                customs.append(CustomSection(c.name, data, c.offset))
        else:
            customs.append(c)
    return dataclasses.replace(m, customs=customs)


def _exercise(info: DebugInfo) -> None:
    """Every query, each of which may refuse with DwarfError only."""
    m = info.module
    pcs = [b.code_start for b in m.bodies[:: max(1, len(m.bodies) // 8)]]
    queries = [
        info.source_files,
        lambda: info.function_named("main"),
        lambda: info.lines_for("recursion.c", 20),
        lambda: info.lines_for("types.c", 100),
    ]
    for pc in pcs:
        queries += [
            lambda pc=pc: info.location_of(pc),
            lambda pc=pc: [
                (v.location_at(pc), type_name(v.type), ptype(v.type)) for v in info.variables_at(pc)
            ],
        ]
    for q in queries:
        with contextlib.suppress(DwarfError):
            q()


def test_no_dwarf_is_a_note() -> None:
    m = module("recursion.O0")
    stripped = _with_sections(m, {n: None for n in m.debug_sections()})
    info, note = load_debug_info(stripped)
    assert info is None and note is not None
    assert "no DWARF" in note and "Wasm level" in note
    with pytest.raises(DwarfError):
        DebugInfo(stripped)


def test_missing_line_table_is_a_note() -> None:
    info, note = load_debug_info(_with_sections(module("recursion.O0"), {".debug_line": None}))
    assert info is None and note is not None and ".debug_line" in note


@pytest.mark.parametrize(
    "section",
    [".debug_info", ".debug_abbrev", ".debug_line", ".debug_str", ".debug_loc", ".debug_ranges"],
)
@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_section(section: str, keep: float) -> None:
    m = module("recursion.O2")
    data = m.debug_sections()[section]
    info, note = load_debug_info(_with_sections(m, {section: data[: int(len(data) * keep)]}))
    if info is None:
        assert note
    else:
        _exercise(info)


@pytest.mark.parametrize(
    "section", [".debug_info", ".debug_abbrev", ".debug_line", ".debug_loc", ".debug_ranges"]
)
@pytest.mark.parametrize("seed", range(6))
def test_garbled_section(section: str, seed: int) -> None:
    rng = random.Random(seed)
    m = module("types.O2")
    data = bytearray(m.debug_sections()[section])
    for _ in range(1 + len(data) // 200):
        data[rng.randrange(len(data))] = rng.randrange(256)
    info, note = load_debug_info(_with_sections(m, {section: bytes(data)}))
    if info is None:
        assert note
    else:
        _exercise(info)


@given(st.binary(max_size=40))
@settings(max_examples=150, deadline=None)
def test_random_location_expressions_never_crash(data: bytes) -> None:
    loc = parse_location(data)
    frame = _ZeroFrame()
    with contextlib.suppress(DwarfError):
        resolve(loc, frame, WasmLocal(0))


@given(st.binary(max_size=200))
@settings(max_examples=150, deadline=None)
def test_random_line_programs_never_crash(program: bytes) -> None:
    header = {
        "minimum_instruction_length": 1,
        "line_base": -5,
        "line_range": 14,
        "opcode_base": 13,
        "standard_opcode_lengths": [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1],
        "default_is_stmt": 1,
    }
    try:
        rows = decode_line_program(program, 0, len(program), header, AddressMap(100, 1000))
    except DwarfError:
        return
    assert all(0 <= r[0] < 1 << 64 for r in rows)


class _ZeroFrame:
    def read_local(self, index: int) -> int:
        return 0

    def read_global(self, index: int) -> int:
        return 0

    def read_stack(self, index: int) -> int:
        return 0

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(size)
