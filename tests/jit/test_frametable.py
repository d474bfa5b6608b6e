"""Frame tables: builder -> reader round trip, lookups, slipping, patch bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmdbg.jit.frametable import (
    CALL_SIZE,
    NOP5,
    NOPS,
    FrameTable,
    FrameTableBuilder,
    Loc,
    LocKind,
    Site,
    SiteKind,
    decode_bits,
    encode_value,
)
from wasmdbg.wasm.types import ValType

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64


def _sample() -> FrameTable:
    b = FrameTableBuilder()
    params = [Loc.slot(16, I32), Loc.slot(-16, I64)]
    # func 1: pcs 0x20, 0x22, 0x25 (two sites at 0x25), func 2: 0x40, 0x41
    b.add_site(1, 0x20, 0x100, NOP5, params, [])
    b.add_site(1, 0x22, 0x110, NOP5, params, [Loc.const(7, I32)])
    b.add_site(1, 0x25, 0x120, NOP5, params, [Loc.gpr(0, I32), Loc.xmm(1, F64)])
    b.add_site(1, 0x25, 0x130, NOPS[8], params, [])
    b.add_call_state(1, 0x25, 0x13C, params, [])
    # added out of order on purpose
    b.add_site(2, 0x41, 0x210, NOP5, [], [])
    b.add_site(2, 0x40, 0x200, NOP5, [], [])
    return b.finish()


def test_lookup_by_pc_and_native() -> None:
    t = _sample()
    assert len(t) == 6
    assert [s.native_offset for s in t] == [0x100, 0x110, 0x120, 0x130, 0x200, 0x210]
    assert [s.native_offset for s in t.sites_at(0x25)] == [0x120, 0x130]
    assert t.sites_at(0x23) == ()
    s = t.site_at_native(0x110)
    assert s is not None and s.pc == 0x22 and s.func_index == 1
    assert s.stack == (Loc(LocKind.CONST, 7, I32),)
    assert t.site_at_native(0x111) is None
    r = t.site_for_return(0x120 + CALL_SIZE)
    assert r is not None and r.pc == 0x25 and r.size == 5
    assert t.is_sequence_point(0x40) and not t.is_sequence_point(0x42)


def test_slip_forward() -> None:
    t = _sample()
    assert t.slip(0x20) == 0x20
    assert t.slip(0x21) == 0x22
    assert t.slip(0x26) == 0x40  # module-wide: into the next function
    assert t.slip(0x26, func_index=1) is None
    assert t.slip(0x42) is None
    assert t.slip(0) == 0x20


def test_functions_and_entry() -> None:
    t = _sample()
    assert t.functions() == (1, 2)
    assert [s.pc for s in t.function_sites(2)] == [0x40, 0x41]
    e = t.entry_site(1)
    assert e is not None and e.pc == 0x20
    assert t.entry_site(3) is None
    assert t.pcs() == (0x20, 0x22, 0x25, 0x40, 0x41)


def test_location_lists_are_interned() -> None:
    t = _sample()
    a, b, c = (t.site_at_native(o) for o in (0x100, 0x110, 0x120))
    assert a is not None and b is not None and c is not None
    assert a.locals is b.locals is c.locals


def test_call_state_and_fallback() -> None:
    t = _sample()
    cs = t.frame_state(0x13C)
    assert cs is not None and cs.kind == SiteKind.CALL and cs.pc == 0x25
    fallback = t.frame_state(0x128)  # no CALL row: the patch site before it
    assert fallback is not None and fallback.native_offset == 0x120
    assert t.frame_state(0x50) is None
    with pytest.raises(ValueError):
        FrameTableBuilder().add_call_state(0, 0, 0, [Loc.gpr(3, I32)], [])


def test_call_bytes() -> None:
    t = _sample()
    s = t.site_at_native(0x120)
    assert s is not None
    code = s.call_bytes(0x7000_0120, 0x7000_0000)
    assert code[0] == 0xE8 and len(code) == 5
    assert struct.unpack("<i", code[1:])[0] == 0x7000_0000 - 0x7000_0125
    long = t.site_at_native(0x130)
    assert long is not None and long.size == 8
    code8 = long.call_bytes(0x1000, 0x2000)
    assert code8[5:] == NOPS[3] and len(code8) == 8
    assert long.disable_bytes == NOPS[8]
    with pytest.raises(ValueError):
        s.call_bytes(0, 1 << 40)


def test_builder_rejects_bad_sites() -> None:
    b = FrameTableBuilder()
    with pytest.raises(ValueError):
        b.add_site(0, 0, 0, b"\x90")
    b.add_site(0, 0, 0x10, NOP5)
    b.add_site(0, 1, 0x13, NOP5)  # overlaps the first
    with pytest.raises(ValueError):
        b.finish()
    with pytest.raises(TypeError):
        FrameTableBuilder().add_site(0, 0, 0, NOP5, [("slot", 8)], [])  # type: ignore[list-item]


def test_shared_sites() -> None:
    b = FrameTableBuilder()
    b.add_site(0, 0x10, 0x100, NOP5, [], [])
    b.add_site(0, 0x12, 0x100, NOP5, [], [Loc.const(1, I32)])  # no code between: shared
    b.add_site(0, 0x14, 0x100, NOP5, [], [Loc.const(1, I32), Loc.const(2, I32)])
    b.add_site(0, 0x16, 0x110, NOP5, [], [])
    t = b.finish()
    assert len(t) == 4 and t.pcs() == (0x10, 0x12, 0x14, 0x16)
    group = t.sites_for_return(0x100 + CALL_SIZE)
    assert [s.pc for s in group] == [0x10, 0x12, 0x14]  # execution order
    assert [len(s.stack) for s in group] == [0, 1, 2]
    first = t.site_for_return(0x100 + CALL_SIZE)
    assert first is not None and first.pc == 0x10
    assert [[s.pc for s in rows] for rows in t.native_sites()] == [[0x10, 0x12, 0x14], [0x16]]
    assert t.sites_at_native(0x105) == ()
    last = t.site_before(0x10F)
    assert last is not None and last.pc == 0x14  # the last row of the group
    bad = FrameTableBuilder()
    bad.add_site(0, 0x10, 0x100, NOP5)
    bad.add_site(0, 0x12, 0x100, NOPS[8])  # same offset, different NOP: not a shared site
    with pytest.raises(ValueError):
        bad.finish()


def test_empty_table() -> None:
    t = FrameTable.empty()
    assert len(t) == 0 and t.slip(0) is None and t.site_before(100) is None


@pytest.mark.parametrize(
    ("value", "ty", "back"),
    [
        (-1, I32, -1),
        (0xFFFF_FFFF, I32, -1),
        (5, I64, 5),
        (-(1 << 63), I64, -(1 << 63)),
        (1.5, F32, 1.5),
        (2, F64, 2.0),
        (0x1234, ValType.FUNCREF, 0x1234),
    ],
)
def test_value_round_trip(value: int | float, ty: ValType, back: int | float) -> None:
    assert decode_bits(encode_value(value, ty), ty) == back


def test_value_rejects() -> None:
    for value, ty in [
        (1 << 32, I32),
        (-(1 << 31) - 1, I32),
        (1.0, I32),
        (1e39, F32),
        (-1, ValType.EXTERNREF),
    ]:
        with pytest.raises(ValueError):
            encode_value(value, ty)
    assert encode_value(-1, I32) == 0xFFFF_FFFF
    assert str(Loc.const(-3, I32)) == "i32@const -3"
    assert str(Loc.slot(-8, I64)) == "i64@[rbp-8]"


def _compiled_rows(path: Path) -> Iterator[Site]:
    from wasmdbg.jit.compiler import compile_module
    from wasmdbg.wasm.decoder import decode_module

    table = compile_module(decode_module(path.read_bytes()), guest_debug=True).frame_table
    assert isinstance(table, FrameTable)
    i = 0
    while True:
        try:
            yield table.row(i)  # patch, call and interrupt rows alike
        except IndexError:
            return
        i += 1


PROGRAMS = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "programs").glob("*.nodbg.wasm"))


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.name.split(".")[0] for p in PROGRAMS])
def test_no_stack_value_is_described_as_a_local(path: Path) -> None:
    """A debug build never leaves an operand-stack value at a local's slot (an alias the
    debugger could not write on its own): ``local.get`` copies, in every row kind."""
    rows = 0
    for site in _compiled_rows(path):
        local_slots = {loc.value for loc in site.locals if loc.kind == LocKind.SLOT}
        for loc in site.stack:
            assert not (loc.kind == LocKind.SLOT and loc.value in local_slots), (site, loc)
        rows += 1
    assert rows > 100


def test_add_nop5_site_records_the_same_row_as_add_site() -> None:
    params = (Loc.slot(16, I32),)
    stack = (Loc.gpr(0, I32), Loc.const(3, I64))
    slow = FrameTableBuilder()
    slow.add_site(1, 0x20, 0x100, NOP5, params, stack)
    fast = FrameTableBuilder()
    fast.add_nop5_site(1, 0x20, 0x100, fast.intern_locs(params), fast.intern_locs(stack))
    assert len(fast) == 1
    (a,), (b,) = tuple(slow.finish()), tuple(fast.finish())
    assert a == b and a.nop == NOP5
    assert (a.locals, a.stack) == (b.locals, b.stack) == (params, stack)


def test_lookups_order_rows_by_native_offset_whatever_the_order_added() -> None:
    b = FrameTableBuilder()
    b.add_call_state(1, 0x10, 0x105, [], [])  # a return address where the next site starts
    b.add_site(1, 0x12, 0x105, NOP5, [], [])
    b.add_site(1, 0x10, 0x100, NOP5, [], [])
    table = b.finish()
    assert [(r.native_offset, r.kind, r.pc) for r in table] == [
        (0x100, SiteKind.PATCH, 0x10),
        (0x105, SiteKind.PATCH, 0x12),
    ]
    call = table.call_state(0x105)
    assert call is not None and (call.kind, call.pc) == (SiteKind.CALL, 0x10)
    before = table.site_before(0x104)
    assert before is not None and before.pc == 0x10
    assert table.slip(0x11) == 0x12 and table.pcs() == (0x10, 0x12)
