"""Frame values: reading and writing slots, saved registers and constants."""

from __future__ import annotations

import struct

import pytest

from wasmdbg.errors import DebugError
from wasmdbg.jit.frametable import (
    FLAG_CF,
    FLAG_OF,
    FLAG_PF,
    FLAG_SF,
    FLAG_ZF,
    Loc,
    condition_holds,
    flags_for,
)
from wasmdbg.runtime.debug.frames import FrameValues, SavedRegisters, StopToken
from wasmdbg.wasm.types import ValType

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
BASE = 0x1000


class Memory:
    """A bytearray pretending to be process memory at BASE."""

    def __init__(self, size: int = 0x200) -> None:
        self.data = bytearray(size)
        self.writes: list[tuple[int, int]] = []

    def read(self, address: int, size: int) -> bytes:
        return bytes(self.data[address - BASE : address - BASE + size])

    def write(self, address: int, data: bytes) -> None:
        self.writes.append((address, len(data)))
        self.data[address - BASE : address - BASE + len(data)] = data


FP = BASE + 0x100
REGS = SavedRegisters(BASE + 0x10, {0: 0, 3: 8}, {1: 0x40})


def _values(mem: Memory, locs: list[Loc], regs: SavedRegisters | None = REGS) -> FrameValues:
    return FrameValues("locals", locs, FP, mem, regs, StopToken(1))


def test_read_every_kind() -> None:
    mem = Memory()
    mem.write(FP - 16, struct.pack("<q", -5))
    mem.write(FP + 16, struct.pack("<I", 0xFFFF_FFFE) + b"\xaa\xaa\xaa\xaa")  # junk above i32
    mem.write(BASE + 0x10 + 8, struct.pack("<Q", 0xDEAD_0000_0000_0007))  # rbx, i32 in low half
    mem.write(BASE + 0x10 + 0x40, struct.pack("<d", 2.5) + b"\x11" * 8)
    locs = [
        Loc.slot(-16, I64),
        Loc.slot(16, I32),
        Loc.gpr(3, I32),
        Loc.xmm(1, F64),
        Loc.const(1.25, F32),
    ]
    v = _values(mem, locs)
    assert list(v) == [-5, -2, 7, 2.5, 1.25]
    assert v[-1] == 1.25 and v[1:3] == [-2, 7] and len(v) == 5
    assert v.types() == (I64, I32, I32, F64, F32)
    assert repr(v) == "[-5, -2, 7, 2.5, 1.25]"


def test_write_widths() -> None:
    mem = Memory()
    mem.write(FP - 8, b"\xff" * 8)
    v = _values(mem, [Loc.slot(-8, I32), Loc.gpr(0, I32), Loc.xmm(1, F32), Loc.slot(-24, F64)])
    mem.writes.clear()
    v[0] = 3
    v[1] = -1
    v[2] = 0.5
    v[3] = 7
    assert mem.writes == [(FP - 8, 4), (BASE + 0x10, 8), (BASE + 0x50, 4), (FP - 24, 8)]
    assert mem.read(FP - 8, 8) == struct.pack("<I", 3) + b"\xff" * 4  # neighbour untouched
    assert mem.read(BASE + 0x10, 8) == struct.pack("<Q", 0xFFFF_FFFF)  # zero-extended
    assert list(v) == [3, -1, 0.5, 7.0]


def test_constants_and_unsaved_registers_refuse_writes() -> None:
    mem = Memory()
    v = _values(mem, [Loc.const(4, I32), Loc.gpr(5, I64), Loc.slot(-8, I32)])
    assert not v.is_writable(0) and not v.is_writable(1) and v.is_writable(2)
    with pytest.raises(DebugError, match="constant"):
        v[0] = 1
    with pytest.raises(DebugError, match="register"):
        v[1]
    with pytest.raises(DebugError, match="register"):
        v[1] = 1
    with pytest.raises(DebugError):
        v[2] = 1 << 40
    with pytest.raises(IndexError):
        v[3]
    caller = _values(mem, [Loc.gpr(0, I32)], regs=None)
    with pytest.raises(DebugError):
        caller[0]
    assert repr(caller) == "[<unavailable>]"


def test_flags_location_reads_and_writes_the_saved_rflags() -> None:
    mem = Memory()
    regs = SavedRegisters(BASE + 0x10, {}, {}, flags_offset=0x80)
    flags_at = BASE + 0x10 + 0x80
    mem.write(flags_at, struct.pack("<Q", 0x202 | FLAG_ZF))  # ZF set (and the always-one bit)
    v = _values(mem, [Loc.flags(0x4), Loc.flags(0xC)], regs)  # e ("equal"), l ("less")
    assert list(v) == [1, 0] and v.is_writable(0)
    v[0] = 0  # "equal" must not hold any more
    assert v[0] == 0 and v[1] == 0
    v[1] = 42  # non-zero: "less" holds; reads back as 1
    assert v[1] == 1
    rflags = struct.unpack("<Q", mem.read(flags_at, 8))[0]
    assert rflags & 0x202 == 0x202  # other bits untouched
    with pytest.raises(DebugError, match="not saved"):
        _values(mem, [Loc.flags(0x4)], None)[0]


def test_every_condition_can_be_set_either_way() -> None:
    for cond in range(16):
        for start in (0, FLAG_CF | FLAG_ZF, FLAG_SF, FLAG_OF | FLAG_PF, 0x8C5):
            for want in (False, True):
                assert condition_holds(cond, flags_for(cond, want, start)) == want
    # spot checks against the x86 definitions
    assert condition_holds(0x2, FLAG_CF) and not condition_holds(0x3, FLAG_CF)  # b / ae
    assert condition_holds(0x7, 0) and not condition_holds(0x7, FLAG_ZF)  # a
    assert condition_holds(0xC, FLAG_SF) and not condition_holds(0xC, FLAG_SF | FLAG_OF)  # l
    assert condition_holds(0xE, FLAG_ZF) and condition_holds(0xF, 0)  # le / g
    assert condition_holds(0xA, FLAG_PF) and condition_holds(0x9, 0)  # p / ns
