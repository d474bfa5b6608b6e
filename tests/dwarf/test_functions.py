"""Functions, inlining, scopes and variables, checked against llvm-dwarfdump --debug-info."""

from __future__ import annotations

import re

import pytest
from dwarf_oracle import (
    PROGRAMS,
    DumpDie,
    debug_info,
    dump_dies,
    marker,
    module,
    needs_dwarfdump,
    quoted,
    ranges_of,
    walk,
)

from wasmdbg.dwarf import AddressMap, ScopeKind
from wasmdbg.dwarf.locations import OPTIMIZED_OUT, Memory, WasmLocal
from wasmdbg.dwarf.types import type_name

ALL = sorted(p.name.removesuffix(".wasm") for p in PROGRAMS.glob("*.wasm"))


def _dump_name(die: DumpDie) -> str | None:
    for attr in ("DW_AT_name", "DW_AT_abstract_origin", "DW_AT_specification"):
        if attr in die.attrs:
            return quoted(die.attrs[attr])
    return None


def _spelling(t: str) -> str:
    """Type names as compared: llvm-dwarfdump drops `struct`/`union`/`enum` and spaces."""
    return re.sub(r"\b(struct|union|enum) ", "", t).replace(" ", "")


@needs_dwarfdump
@pytest.mark.parametrize("name", ALL)
def test_functions_match_dwarfdump(name: str) -> None:
    info = debug_info(name)
    amap = AddressMap.of(module(name))
    expected = {}
    for root in dump_dies(name):
        for die in root.children:
            if die.tag != "DW_TAG_subprogram":
                continue
            ranges = [(amap.pc(lo), amap.end_pc(hi)) for lo, hi in ranges_of(die)]
            ranges = [
                (lo, hi) for lo, hi in ranges if lo is not None and hi is not None and hi > lo
            ]
            if ranges:
                expected[ranges[0][0]] = (_dump_name(die), ranges)
    got = {f.low_pc: (f.name, list(f.ranges)) for f in info.functions()}
    assert got == expected
    for f in info.functions():
        body = info.body_at(f.low_pc)
        assert body is not None and f.entry_pc == body.code_start
        assert f.func_index == body.func_index
        assert f.low_pc <= f.breakpoint_pc < f.high_pc


@needs_dwarfdump
@pytest.mark.parametrize(
    "name", ["types.O0", "types.O2", "inline.O2", "inline.O2.dwarf5", "recursion.O2", "trap.O0"]
)
def test_variables_match_dwarfdump(name: str) -> None:
    info = debug_info(name)
    source = name.split(".")[0] + ".c"
    unit = next(u for u in info.units if u.name == source)
    dump_unit = next(r for r in dump_dies(name) if quoted(r.attrs["DW_AT_name"]) == source)
    dump_funcs = {die.offset: die for die in dump_unit.children if die.tag == "DW_TAG_subprogram"}
    checked = 0
    for f in unit.functions:
        die = dump_funcs[f.die_offset]

        def dump_vars(d: DumpDie) -> list[tuple[str, str]]:
            out = []
            for c in d.children:
                if c.tag in ("DW_TAG_formal_parameter", "DW_TAG_variable"):
                    origin = c
                    if "DW_AT_abstract_origin" in c.attrs:
                        ref = int(c.attrs["DW_AT_abstract_origin"].split()[0], 16)
                        origin = next(x for x in walk(dump_unit) if x.offset == ref)
                    nm = quoted(origin.attrs.get("DW_AT_name", ""))
                    if nm is not None:
                        out.append((nm, _spelling(quoted(origin.attrs["DW_AT_type"]) or "")))
                elif c.tag == "DW_TAG_lexical_block" and not ranges_of(c):
                    out += dump_vars(c)
            return out

        got = [(v.name, _spelling(type_name(v.type))) for v in f.root.variables]
        assert got == dump_vars(die), f.name
        checked += len(got)
    assert checked > 3


def test_recursion_o0_locals_live_in_the_frame() -> None:
    info = debug_info("recursion.O0")
    f = info.function_named("factorial")
    assert f is not None and f.name == "factorial" and f.decl_file == "recursion.c"
    assert f.decl_line == marker("recursion.c", "fact-base") - 4
    assert isinstance(f.frame_base, WasmLocal)
    names = {v.name: v for v in f.root.variables}
    assert names["n"].is_parameter and type_name(names["n"].type) == "int"
    assert type_name(names["rest"].type) == "long long"
    for v in names.values():
        assert isinstance(v.location, Memory) and v.location.base is not None
    pc = info.lines_for("recursion.c", marker("recursion.c", "fact-return"))
    assert pc is not None
    visible = [v.name for v in info.variables_at(pc.pcs[0])]
    assert visible == ["n", "rest"]
    # The breakpoint after the prologue is on the function's first line of code.
    loc = info.location_of(f.breakpoint_pc)
    assert loc is not None and loc.line == f.decl_line + 1 and loc.function == "factorial"


def test_block_scopes_and_shadowing() -> None:
    info = debug_info("types.O0")
    line = marker("types.c", "list-loop")
    match = info.lines_for("types.c", line)
    assert match is not None
    scopes = info.scopes_at(match.pcs[0])
    assert [s.kind for s in scopes] == [ScopeKind.BLOCK, ScopeKind.FUNCTION]
    assert [v.name for v in scopes[0].variables] == ["p"]
    assert [v.name for v in info.variables_at(match.pcs[0])] == ["p", "head", "sum"]


def test_o2_location_lists_and_optimized_out() -> None:
    info = debug_info("recursion.O2")
    f = info.function_named("fib")
    assert f is not None
    n = next(v for v in f.root.variables if v.name == "n")
    # -O2: n lives in a Wasm local, per a location list or one expression.
    places = [n.location] if n.location is not None else [r.location for r in n.ranges]
    assert any(isinstance(p, WasmLocal) for p in places)
    main = info.function_named("main")
    assert main is not None
    assert any(v.location is None and v.ranges for v in main.root.variables)
    outside = [v for v in main.root.variables if v.location is None and v.ranges]
    v = outside[0]
    before = v.ranges[0].low - 1
    assert v.location_at(before) is OPTIMIZED_OUT
    assert v.location_at(v.ranges[0].low) is v.ranges[0].location


@needs_dwarfdump
@pytest.mark.parametrize("name", ["inline.O2", "inline.O2.dwarf5", "inline.O0", "types.O0"])
def test_innermost_scope_matches_dwarfdump(name: str) -> None:
    """At each line-table pc, our innermost scope is the deepest DIE of the dumped tree."""
    info = debug_info(name)
    amap = AddressMap.of(module(name))
    source = name.split(".")[0] + ".c"
    unit = next(u for u in info.units if u.name == source)
    dump_unit = next(r for r in dump_dies(name) if quoted(r.attrs["DW_AT_name"]) == source)
    kinds = {
        "DW_TAG_subprogram": ScopeKind.FUNCTION,
        "DW_TAG_inlined_subroutine": ScopeKind.INLINED,
        "DW_TAG_lexical_block": ScopeKind.BLOCK,
    }

    def deepest(die: DumpDie, address: int) -> DumpDie | None:
        if not any(lo <= address < hi for lo, hi in ranges_of(die)):
            return None
        for c in die.children:
            if c.tag in kinds:
                found = deepest(c, address)
                if found is not None:
                    return found
        return die

    inlined = 0
    for row in unit.lines.rows():
        if row.end_sequence:
            continue
        address = amap.address(row.pc)
        die = None
        for top in dump_unit.children:
            if top.tag == "DW_TAG_subprogram":
                die = die or deepest(top, address)
        scopes = info.scopes_at(row.pc)
        if die is None:
            assert scopes == []
            continue
        innermost = scopes[0]
        assert innermost.kind == kinds[die.tag], hex(row.pc)
        assert list(innermost.ranges) == [(amap.pc(lo), amap.pc(hi)) for lo, hi in ranges_of(die)]
        if innermost.kind == ScopeKind.INLINED:
            inlined += 1
            chain = info.function_at(row.pc).inline_chain(row.pc)  # type: ignore[union-attr]
            assert chain[0].scope is innermost
            assert chain[0].function == _dump_name(die)
            assert chain[0].call_line == int(die.attrs["DW_AT_call_line"])
            loc = info.location_of(row.pc)
            assert loc is not None and loc.function == chain[0].function
    if name.startswith("inline.O2"):
        assert inlined > 3


def test_globals() -> None:
    info = debug_info("types.O0")
    g = info.lookup_variable("g_matrix")
    assert g is not None and type_name(g.type) == "int [2][3]"
    assert isinstance(g.location, Memory) and g.location.base is None
    assert info.lookup_variable("g_greeting") is not None
    assert info.lookup_variable("nosuch") is None
    # A local wins over a global of the same name at a pc inside main.
    main = info.function_named("main")
    assert main is not None
    v = info.lookup_variable("c", main.breakpoint_pc)
    assert (v is not None and not isinstance(v.location, Memory)) or v.location.base is not None  # type: ignore[union-attr]


def test_function_at_and_unknown_pcs() -> None:
    info = debug_info("trap.O0")
    f = info.function_named("average")
    assert f is not None
    assert info.function_at(f.low_pc) is f
    assert info.function_at(f.high_pc - 1) is f
    assert info.function_at(0) is None
    assert info.location_of(0) is None
    assert info.scopes_at(0) == []
    assert info.function_named("no_such_function") is None


def test_functions_named() -> None:
    info = debug_info("recursion.O0")
    [f] = info.functions_named("hanoi")
    assert info.function_named("hanoi") is f
    assert info.functions_named("nosuch") == []
    # Every concrete function is found by its name.
    for g in info.functions():
        assert g in info.functions_named(g.name)
