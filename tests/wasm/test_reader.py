"""Tests of wasm.reader: LEB128 malformed rules, names, vectors."""

from __future__ import annotations

import pytest
from wasm_builder import sleb, uleb

from wasmdbg.errors import DecodeError, UnsupportedError
from wasmdbg.wasm.reader import (
    Reader,
    read_s32,
    read_s33,
    read_s64,
    read_u32,
    read_u64,
)
from wasmdbg.wasm.types import ValType


def _full(fn, data: bytes) -> int:  # type: ignore[no-untyped-def]
    v, pos = fn(data, 0, len(data))
    assert pos == len(data)
    return v  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", [0, 1, 63, 64, 127, 128, 624485, 2**31, 2**32 - 1])
def test_u32_roundtrip(value: int) -> None:
    assert _full(read_u32, uleb(value)) == value


@pytest.mark.parametrize("value", [0, 2**32, 2**63, 2**64 - 1])
def test_u64_roundtrip(value: int) -> None:
    assert _full(read_u64, uleb(value)) == value


@pytest.mark.parametrize(
    "value", [0, 1, -1, 63, -64, 64, -65, 127, -128, -123456, 2**31 - 1, -(2**31)]
)
def test_s32_roundtrip(value: int) -> None:
    assert _full(read_s32, sleb(value)) == value


@pytest.mark.parametrize("value", [0, -64, -1, 2**32 - 1, -(2**32)])
def test_s33_roundtrip(value: int) -> None:
    assert _full(read_s33, sleb(value)) == value


@pytest.mark.parametrize("value", [0, -1, 2**63 - 1, -(2**63), 0x123456789ABC])
def test_s64_roundtrip(value: int) -> None:
    assert _full(read_s64, sleb(value)) == value


def test_non_minimal_encodings_within_width_are_accepted() -> None:
    assert _full(read_u32, b"\x80\x80\x80\x80\x00") == 0
    assert _full(read_u32, b"\xff\xff\xff\xff\x0f") == 2**32 - 1
    assert _full(read_s32, b"\xff\xff\xff\xff\x7f") == -1
    assert _full(read_s32, b"\x80\x80\x80\x80\x78") == -(2**31)
    assert _full(read_s64, b"\xff" * 9 + b"\x7f") == -1


@pytest.mark.parametrize(
    ("fn", "data", "message"),
    [
        (read_u32, b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
        (read_u32, b"\x80\x80\x80\x80\x10", "integer too large"),
        (read_u32, b"\x80\x80\x80\x80\x1f", "integer too large"),
        (read_s32, b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
        (read_s32, b"\x80\x80\x80\x80\x70", "integer too large"),  # sign bits not extended
        (read_s32, b"\xff\xff\xff\xff\x0f", "integer too large"),
        (read_s33, b"\x80\x80\x80\x80\x20", "integer too large"),
        (read_s64, b"\x80" * 10 + b"\x00", "integer representation too long"),
        (read_s64, b"\x80" * 9 + b"\x01", "integer too large"),
        (read_s64, b"\xff" * 9 + b"\x7e", "integer too large"),
        (read_u64, b"\x80" * 9 + b"\x02", "integer too large"),
        (read_u64, b"\x80" * 10 + b"\x00", "integer representation too long"),
        (read_u32, b"", "unexpected end"),
        (read_u32, b"\x80\x80", "unexpected end"),
        (read_s64, b"\xff", "unexpected end"),
    ],
)
def test_malformed_leb(fn, data: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecodeError) as ei:
        fn(data, 0, len(data))
    assert ei.value.message == message


def test_leb_respects_end_not_buffer_length() -> None:
    data = b"\x80\x01"
    with pytest.raises(DecodeError, match="unexpected end"):
        read_u32(data, 0, 1)


def test_error_offsets_are_module_relative() -> None:
    data = b"\x00\x00\x00\x80\x80\x80\x80\x80\x00"
    with pytest.raises(DecodeError) as ei:
        read_u32(data, 3, len(data))
    assert ei.value.offset == 3


def test_reader_basics() -> None:
    r = Reader(b"\x05hello\x7f\x70\x02\xaa\xbb", 0)
    assert r.name() == "hello"
    assert r.valtype() is ValType.I32
    assert r.reftype() is ValType.FUNCREF
    assert r.byte_vec() == b"\xaa\xbb"
    assert r.at_end()
    with pytest.raises(DecodeError, match="unexpected end"):
        r.byte()


def test_name_malformed_utf8() -> None:
    for raw in (b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80"):
        r = Reader(bytes([len(raw)]) + raw)
        with pytest.raises(DecodeError, match="malformed UTF-8 encoding"):
            r.name()


def test_name_length_out_of_bounds() -> None:
    with pytest.raises(DecodeError):
        Reader(b"\x05abc").name()


def test_vector_count_checked_before_allocation() -> None:
    data = uleb(10**9) + b"\x00" * 100
    r = Reader(data)
    with pytest.raises(DecodeError, match="length out of bounds") as ei:
        r.count()
    assert ei.value.offset == 0
    assert Reader(uleb(3) + b"abc").count() == 3


def test_sub_reader_is_bounded() -> None:
    r = Reader(b"\x01\x02\x03\x04", 0)
    s = r.sub(2)
    assert (s.pos, s.end, r.pos) == (0, 2, 2)
    s.take(2)
    with pytest.raises(DecodeError):
        s.byte()
    with pytest.raises(DecodeError):
        r.sub(3)


def test_valtype_errors() -> None:
    with pytest.raises(UnsupportedError):
        Reader(b"\x7b").valtype()
    with pytest.raises(DecodeError, match="malformed value type"):
        Reader(b"\x40").valtype()
    with pytest.raises(DecodeError, match="malformed reference type"):
        Reader(b"\x7f").reftype()
