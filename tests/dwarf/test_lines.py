"""The line tables, checked row by row against llvm-dwarfdump, and line queries."""

from __future__ import annotations

import posixpath

import pytest
from dwarf_oracle import (
    PROGRAMS,
    debug_info,
    dump_lines,
    lookup,
    marker,
    module,
    needs_dwarfdump,
)

from wasmdbg.dwarf import AddressMap, file_matches

ALL = sorted(p.name.removesuffix(".wasm") for p in PROGRAMS.glob("*.wasm"))


@needs_dwarfdump
@pytest.mark.parametrize("name", ALL)
def test_rows_match_dwarfdump(name: str) -> None:
    info = debug_info(name)
    amap = AddressMap.of(module(name))
    by_offset = {u.top.attributes["DW_AT_stmt_list"].value: u for u in info.units}
    tables = dump_lines(name)
    assert len(tables) == len(by_offset)
    for table in tables:
        unit = by_offset[table.offset]
        # llvm-dwarfdump prints every sequence; we drop the linker's tombstones.
        expected = []
        seq: list[tuple[int, int, int, int, bool, bool, bool]] = []
        for row in table.rows:
            seq.append(row)
            if row[6]:
                if seq[0][0] < amap.code_size:
                    expected.extend(seq)
                seq = []
        expected.sort(key=lambda r: r[0])
        got = unit.lines.rows()
        assert len(got) == len(expected), (name, table.offset)
        for g, (addr, line, col, fnum, stmt, prologue, end) in zip(got, expected, strict=True):
            assert (
                amap.address(g.pc),
                g.line,
                g.column,
                g.is_stmt,
                g.prologue_end,
                g.end_sequence,
            ) == (addr, line, col, stmt, prologue, end)
            assert posixpath.basename(g.file) == posixpath.basename(table.files[fnum])


@needs_dwarfdump
@pytest.mark.parametrize(
    "name", ["recursion.O0", "recursion.O2", "types.O0", "inline.O2", "trap.O0"]
)
def test_location_of_matches_lookup(name: str) -> None:
    info = debug_info(name)
    amap = AddressMap.of(module(name))
    source = name.split(".")[0] + ".c"
    match = info.lines_for(source, 1)
    assert match is not None
    unit = next(u for u in info.units if u.name == source)
    pcs = sorted({r.pc for r in unit.lines.rows() if not r.end_sequence})
    for pc in pcs[:: max(1, len(pcs) // 10)]:
        loc = info.location_of(pc)
        assert loc is not None
        text = lookup(name, amap.address(pc))
        assert f"line {loc.line}, column {loc.column}" in text, (hex(pc), text)


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_break_on_marked_lines(opt: str) -> None:
    info = debug_info(f"recursion.{opt}")
    for mark in ["fact-base", "fact-recurse", "fib-base", "hanoi-move", "main-print"]:
        line = marker("recursion.c", mark)
        match = info.lines_for("recursion.c", line)
        assert match is not None and match.pcs, mark
        # -O0 keeps a statement on every line; -O2 may merge one into the next.
        assert match.line == line if opt == "O0" else match.line >= line
        for pc in match.pcs:
            loc = info.location_of(pc)
            assert loc is not None and (loc.file, loc.line) == ("recursion.c", match.line)


def test_line_without_code_slides_forward() -> None:
    info = debug_info("recursion.O0")
    # The comment line above `static int moves;`... pick the blank line
    # before `int fib(int n) {`: the next line with code is fib's opening.
    fib_base = marker("recursion.c", "fib-base")
    blank = fib_base - 3
    match = info.lines_for("recursion.c", blank)
    assert match is not None
    assert match.requested == blank and match.line > blank
    assert info.lines_for("recursion.c", 10_000) is None
    assert info.lines_for("nosuch.c", 10) is None


def test_file_name_matching() -> None:
    assert file_matches("types.c", "types.c")
    assert file_matches("tests/programs/c/types.c", "c/types.c")
    assert file_matches("tests/programs/c/types.c", "types.c")
    assert file_matches("types.c", "tests/programs/c/types.c")  # a longer path names it too
    assert not file_matches("mytypes.c", "types.c")
    assert not file_matches("types.c", "ypes.c")
    assert not file_matches("a/types.c", "b/types.c")
    info = debug_info("types.O0")
    line = marker("types.c", "area-return")
    a = info.lines_for("types.c", line)
    b = info.lines_for("./programs/c/types.c", line)
    assert a is not None and b is not None and a.pcs == b.pcs


def test_inlined_line_has_one_pc_per_copy() -> None:
    info = debug_info("inline.O2")
    line = marker("inline.c", "clamp-test")
    match = info.lines_for("inline.c", line)
    assert match is not None and match.line == line
    sites = info.breakpoint_pcs(match)
    # clamp is inlined into smooth (itself inlined into process) and into process.
    assert len(sites) >= 2
    for pc in sites:
        loc = info.location_of(pc)
        assert loc is not None and loc.function == "clamp"
        assert loc.inline_chain and loc.inline_chain[0].function == "clamp"


def test_for_header_gets_one_breakpoint_per_function() -> None:
    info = debug_info("inline.O0")
    line = marker("inline.c", "outer-loop")
    match = info.lines_for("inline.c", line)
    assert match is not None
    assert len(match.pcs) > 1  # init, test and increment of the for
    assert info.breakpoint_pcs(match) == (min(match.pcs),)


def test_line_rows_cover_a_function() -> None:
    info = debug_info("recursion.O0")
    f = info.function_named("hanoi")
    assert f is not None
    rows = info.line_rows(f.low_pc, f.high_pc)
    assert rows and all(f.low_pc <= r.pc < f.high_pc for r in rows)
    assert [r.pc for r in rows] == sorted(r.pc for r in rows)
    lines = {r.line for r in rows if r.is_stmt}
    assert marker("recursion.c", "hanoi-move") in lines
    assert info.line_at(rows[0].pc) == rows[0]
