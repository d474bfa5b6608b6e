"""Tests of wasm.code: instruction reading, immediates, body-level malformedness."""

from __future__ import annotations

import struct

import pytest
from wasm_builder import sleb, uleb

from wasmdbg.errors import DecodeError, UnsupportedError, ValidationError
from wasmdbg.wasm.code import (
    Instruction,
    block_type,
    iter_instructions,
    iter_raw,
    read_const_expr,
)
from wasmdbg.wasm.module import ModuleDef
from wasmdbg.wasm.opcodes import OPCODES, Imm
from wasmdbg.wasm.types import FuncType, ValType

PAD = b"\xee\xee\xee"  # bytes before the code, to check module-relative offsets


def walk(code: bytes, **kw: bool) -> list[Instruction]:
    data = PAD + code
    return list(iter_instructions(data, len(PAD), len(data), **kw))


def one(code: bytes) -> Instruction:
    """The first instruction of ``code`` (a final ``end`` is appended)."""
    return walk(code + b"\x0b")[0]


def test_offsets_ops_and_final_end() -> None:
    ins = walk(b"\x01\x41\x05\x1a\x0b")
    assert ins == [(3, 0x01, None), (4, 0x41, 5), (6, 0x1A, None), (7, 0x0B, None)]
    assert all(type(i) is Instruction for i in ins)
    assert ins[1].offset == 4 and ins[1].op == 0x41 and ins[1].imm == 5


@pytest.mark.parametrize(
    ("code", "op", "imm"),
    [
        (b"\x0c\x03", 0x0C, 3),
        (b"\x0d\x80\x01", 0x0D, 128),
        (b"\x0e\x02\x00\x01\x02", 0x0E, ((0, 1), 2)),
        (b"\x0e\x00\x05", 0x0E, ((), 5)),
        (b"\x10\xff\x01", 0x10, 255),
        (b"\x11\x02\x01", 0x11, (2, 1)),
        (b"\x20\x00", 0x20, 0),
        (b"\x21\x90\x4e", 0x21, 10000),
        (b"\x23\x01", 0x23, 1),
        (b"\x25\x00", 0x25, 0),
        (b"\x28\x02\x10", 0x28, (2, 16)),
        (b"\x36\x02\x80\x80\x04", 0x36, (2, 65536)),
        (b"\x3f\x00", 0x3F, 0),
        (b"\x40\x00", 0x40, 0),
        (b"\x41\x7f", 0x41, -1),
        (b"\x41" + sleb(-(2**31)), 0x41, -(2**31)),
        (b"\x41" + sleb(2**31 - 1), 0x41, 2**31 - 1),
        (b"\x42" + sleb(-(2**63)), 0x42, -(2**63)),
        (b"\x43" + struct.pack("<I", 0x7FC00001), 0x43, 0x7FC00001),
        (b"\x44" + struct.pack("<Q", 0xFFF8000000000001), 0x44, 0xFFF8000000000001),
        (b"\x1c\x01\x7e", 0x1C, (ValType.I64,)),
        (b"\xd0\x6f", 0xD0, ValType.EXTERNREF),
        (b"\xd2\x07", 0xD2, 7),
        (b"\xfc\x00", 0xFC00, None),
        (b"\xfc\x07", 0xFC07, None),
        (b"\xfc\x08\x03\x00", 0xFC08, (3, 0)),
        (b"\xfc\x09\x03", 0xFC09, 3),
        (b"\xfc\x0a\x00\x00", 0xFC0A, (0, 0)),
        (b"\xfc\x0b\x00", 0xFC0B, 0),
        (b"\xfc\x0c\x01\x02", 0xFC0C, (1, 2)),
        (b"\xfc\x0d\x04", 0xFC0D, 4),
        (b"\xfc\x0e\x01\x00", 0xFC0E, (1, 0)),
        (b"\xfc\x0f\x00", 0xFC0F, 0),
        (b"\xfc\x10\x01", 0xFC10, 1),
        (b"\xfc\x11\x00", 0xFC11, 0),
        (b"\xfc\x80\x00", 0xFC00, None),  # sub-opcode is a u32 LEB
    ],
)
def test_immediates(code: bytes, op: int, imm: object) -> None:
    ins = one(code)
    assert (ins.offset, ins.op, ins.imm) == (3, op, imm)


def test_every_opcode_in_the_table_is_readable() -> None:
    sample = {
        Imm.NONE: b"",
        Imm.LABEL: b"\x00",
        Imm.BR_TABLE: b"\x00\x00",
        Imm.FUNC: b"\x00",
        Imm.CALL_INDIRECT: b"\x00\x00",
        Imm.LOCAL: b"\x00",
        Imm.GLOBAL: b"\x00",
        Imm.TABLE: b"\x00",
        Imm.MEMARG: b"\x00\x00",
        Imm.MEMORY: b"\x00",
        Imm.I32: b"\x00",
        Imm.I64: b"\x00",
        Imm.F32: b"\x00" * 4,
        Imm.F64: b"\x00" * 8,
        Imm.SELECT_T: b"\x01\x7f",
        Imm.REFTYPE: b"\x70",
        Imm.ELEM: b"\x00",
        Imm.DATA: b"\x00",
        Imm.TWO_INDEX: b"\x00\x00",
    }
    for code, info in OPCODES.items():
        if code in (0x0B, 0x05):
            continue
        opbytes = bytes([code]) if code < 0x100 else bytes([code >> 8]) + uleb(code & 0xFF)
        if info.imm is Imm.BLOCKTYPE:
            body = opbytes + b"\x40\x0b"  # block/loop/if need their own end
        else:
            body = opbytes + sample[info.imm]
        ins = walk(body + b"\x0b")
        assert ins[0].op == code, info.name
        assert ins[-1].op == 0x0B and ins[-1].offset == len(PAD) + len(body)


def test_blocktypes() -> None:
    assert one(b"\x02\x40\x0b")[2] == -64
    assert one(b"\x02\x7f\x0b")[2] == -1
    assert one(b"\x03\x70\x0b")[2] == -16
    assert one(b"\x04\x05\x0b")[2] == 5
    assert one(b"\x02\x80\x01\x0b")[2] == 128
    with pytest.raises(DecodeError, match="malformed value type"):
        walk(b"\x02\x50\x0b\x0b")
    with pytest.raises(UnsupportedError):
        walk(b"\x02\x7b\x0b\x0b")
    with pytest.raises(DecodeError):
        walk(b"\x02\x80\x80\x80\x80\x10\x0b\x0b")  # s33 too large


def test_nesting_and_final_end() -> None:
    code = b"\x02\x40\x03\x40\x0b\x04\x40\x05\x0b\x0b\x0b"
    ins = walk(code)
    assert [i.op for i in ins] == [2, 3, 0x0B, 4, 5, 0x0B, 0x0B, 0x0B]


def test_missing_end() -> None:
    with pytest.raises(DecodeError, match="END opcode expected"):
        walk(b"\x41\x01\x1a")
    with pytest.raises(DecodeError, match="END opcode expected"):
        walk(b"\x02\x40\x0b")


def test_content_after_final_end() -> None:
    with pytest.raises(DecodeError):
        walk(b"\x0b\x01")
    # ... is fine for constant expressions (exact=False)
    assert len(walk(b"\x41\x00\x0b\xff", exact=False)) == 2


def test_illegal_and_unsupported() -> None:
    for op in (0x06, 0x0A, 0x12, 0x27, 0xC5, 0xF3, 0xFF):
        with pytest.raises(DecodeError, match="illegal opcode") as ei:
            walk(b"\x01" + bytes([op]) + b"\x0b")
        assert ei.value.offset == len(PAD) + 1
    with pytest.raises(DecodeError, match="illegal opcode"):
        walk(b"\xfc\x12\x0b")
    with pytest.raises(UnsupportedError, match="SIMD"):
        walk(b"\xfd\x0c" + b"\x00" * 16 + b"\x0b")


@pytest.mark.parametrize(
    "code",
    [b"\x3f\x01", b"\x40\x80\x00", b"\xfc\x08\x00\x01", b"\xfc\x0a\x00\x01", b"\xfc\x0b\x01"],
)
def test_zero_byte_expected(code: bytes) -> None:
    with pytest.raises(DecodeError, match="zero byte expected"):
        walk(code + b"\x0b")


@pytest.mark.parametrize("align", [b"\x20", b"\x40", b"\x80\x01"])
def test_malformed_memop_flags(align: bytes) -> None:
    with pytest.raises(DecodeError, match="malformed memop flags"):
        walk(b"\x28" + align + b"\x00\x0b")


def test_alignment_31_is_well_formed() -> None:
    assert one(b"\x28\x1f\x00").imm == (31, 0)


def test_data_count_rule() -> None:
    for code in (b"\xfc\x08\x00\x00", b"\xfc\x09\x00"):
        walk(code + b"\x0b")
        with pytest.raises(DecodeError, match="data count section required"):
            walk(code + b"\x0b", data_count=False)


def test_truncated_immediates() -> None:
    for code in (b"\x41", b"\x41\x80", b"\x43\x00\x00", b"\x44\x00", b"\x0e\x05\x00", b"\x28\x00"):
        data = PAD + code
        with pytest.raises(DecodeError):
            list(iter_instructions(data + b"\x0b\x0b", len(PAD), len(data)))


def test_br_table_count_checked_before_allocation() -> None:
    with pytest.raises(DecodeError, match="length out of bounds"):
        walk(b"\x0e" + uleb(2**32 - 1) + b"\x00\x0b")


def test_iter_raw_matches_iter_instructions() -> None:
    code = b"\x02\x40\x20\x00\x41\x80\x01\x28\x02\x00\x1a\x0b\xfc\x09\x00\x0b"
    data = PAD + code
    assert list(iter_raw(data, 3, len(data))) == list(iter_instructions(data, 3, len(data)))


def test_read_const_expr() -> None:
    data = b"\x00\x41\x2a\x0b\x99"
    instrs, end = read_const_expr(data, 1, len(data))
    assert instrs == ((0x41, 42),)
    assert end == 4


def test_block_type() -> None:
    m = ModuleDef(raw=b"", types=[FuncType((ValType.I32,), (ValType.I64,))])
    assert block_type(m, -64) == FuncType((), ())
    assert block_type(m, -1) == FuncType((), (ValType.I32,))
    assert block_type(m, -4) == FuncType((), (ValType.F64,))
    assert block_type(m, -17) == FuncType((), (ValType.EXTERNREF,))
    assert block_type(m, 0) == m.types[0]
    with pytest.raises(ValidationError):
        block_type(m, 1, 12)
