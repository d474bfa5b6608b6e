"""Tests of the code buffer: raw emission, labels and fixups, relocations."""

from __future__ import annotations

import struct

import pytest

from wasmdbg.jit.codebuf import CodeBuffer, EncodingError, Label, Relocation, RelocKind


def rel32(code: bytes, at: int) -> int:
    value: int = struct.unpack_from("<i", code, at)[0]
    return value


def test_emit_and_offset() -> None:
    buf = CodeBuffer()
    assert buf.offset == 0
    buf.emit(b"\x90\x90")
    buf.emit_u8(0xCC)
    buf.emit_u8(-1)
    buf.emit_u16(0x1234)
    buf.emit_u32(0xDEADBEEF)
    buf.emit_u32(-2)
    buf.emit_u64(-1)
    assert buf.offset == len(buf) == 2 + 1 + 1 + 2 + 4 + 4 + 8
    assert buf.finish().hex(" ") == (
        "90 90 cc ff 34 12 ef be ad de fe ff ff ff ff ff ff ff ff ff ff ff"
    )


@pytest.mark.parametrize(
    ("method", "value"),
    [
        ("emit_u8", 256),
        ("emit_u8", -129),
        ("emit_u16", 0x10000),
        ("emit_u32", 1 << 32),
        ("emit_u32", -(1 << 31) - 1),
        ("emit_u64", 1 << 64),
    ],
)
def test_emit_range(method: str, value: int) -> None:
    with pytest.raises(EncodingError):
        getattr(CodeBuffer(), method)(value)


def test_patch() -> None:
    buf = CodeBuffer()
    buf.emit(bytes(8))
    buf.patch_u32(2, 0x11223344)
    buf.patch_u8(0, 0xAB)
    buf.patch_bytes(6, b"\x01\x02")
    assert buf.finish().hex(" ") == "ab 00 44 33 22 11 01 02"
    with pytest.raises(EncodingError):
        buf.patch_u32(5, 0)
    with pytest.raises(EncodingError):
        buf.patch_bytes(-1, b"\x00")
    with pytest.raises(EncodingError):
        buf.patch_u32(0, 1 << 32)


def test_align() -> None:
    buf = CodeBuffer()
    buf.align(16)
    assert buf.offset == 0
    buf.emit(b"\xc3")
    buf.align(8)
    assert buf.finish() == b"\xc3" + b"\xcc" * 7
    buf.align(4, fill=0)
    assert buf.offset == 8
    buf.emit(b"\x00")
    buf.align(4, fill=0x90)
    assert buf.finish()[8:] == b"\x00\x90\x90\x90"
    with pytest.raises(EncodingError):
        buf.align(6)


def test_backward_label() -> None:
    buf = CodeBuffer()
    top = buf.new_label("top")
    assert not top.bound
    buf.emit(b"\x90")
    buf.bind(top)
    assert top.bound and top.offset == 1
    buf.emit(b"\xe9")
    buf.emit_label_rel32(top)
    code = buf.finish()
    assert rel32(code, 2) == 1 - 6


def test_forward_label_several_uses() -> None:
    buf = CodeBuffer()
    end = buf.new_label("end")
    uses = []
    for _ in range(3):
        buf.emit(b"\xe9")
        uses.append(buf.offset)
        buf.emit_label_rel32(end)
    buf.emit(b"\x90" * 10)
    buf.bind(end)
    buf.emit(b"\xe9")
    buf.emit_label_rel32(end)  # after binding: resolved at once
    code = buf.finish()
    for at in uses:
        assert rel32(code, at) == end.offset - (at + 4)
    assert rel32(code, len(code) - 4) == end.offset - len(code)


def test_explicit_origin_jump_table() -> None:
    buf = CodeBuffer()
    table = buf.offset
    targets = [buf.new_label(f"case{i}") for i in range(3)]
    for target in targets:
        buf.emit_label_rel32(target, origin=table)
    for target in targets:
        buf.bind(target)
        buf.emit(b"\xc3")
    code = buf.finish()
    assert [rel32(code, 4 * i) for i in range(3)] == [12, 13, 14]


def test_unbound_label_is_an_error() -> None:
    buf = CodeBuffer()
    missing = buf.new_label("missing")
    buf.emit(b"\xe9")
    buf.emit_label_rel32(missing)
    with pytest.raises(EncodingError, match="missing"):
        buf.finish()
    buf.bind(missing)
    assert len(buf.finish()) == 5


def test_unused_unbound_label_is_fine() -> None:
    buf = CodeBuffer()
    buf.new_label()
    Label("never used")
    buf.emit(b"\xc3")
    assert buf.finish() == b"\xc3"


def test_bind_twice_is_an_error() -> None:
    buf = CodeBuffer()
    label = buf.new_label("twice")
    buf.bind(label)
    with pytest.raises(EncodingError, match="already bound"):
        buf.bind(label)


def test_label_repr() -> None:
    label = Label("x")
    assert repr(label) == "Label('x', unbound)"
    buf = CodeBuffer()
    buf.emit(b"\x90" * 16)
    buf.bind(label)
    assert repr(label) == "Label('x', @0x10)"


def test_relocations() -> None:
    buf = CodeBuffer()
    buf.emit(b"\x48\xb8")
    buf.emit_abs64("vmctx_table", addend=8)
    buf.emit(b"\xe8")
    buf.add_relocation(RelocKind.REL32, buf.offset, "breakpoint_trampoline")
    buf.emit_u32(0)
    buf.emit_abs64(0)
    code = buf.finish()
    assert code == b"\x48\xb8" + bytes(8) + b"\xe8" + bytes(4) + bytes(8)
    assert buf.relocations == [
        Relocation(RelocKind.ABS64, 2, "vmctx_table", 8),
        Relocation(RelocKind.REL32, 11, "breakpoint_trampoline"),
        Relocation(RelocKind.ABS64, 15, 0),
    ]


def test_data_is_never_replaced() -> None:
    buf = CodeBuffer()
    data = buf.data
    buf.emit(bytes(100_000))
    buf.align(4096)
    buf.patch_bytes(0, b"\x01")
    assert buf.data is data
