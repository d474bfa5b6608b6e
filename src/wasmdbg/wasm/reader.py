"""Byte-level reading of the Wasm binary format: LEB128 integers, names, vectors.

This module owns the spec's *malformed* rules for the primitive encodings:

* LEB128: an ``N``-bit integer takes at most ``ceil(N / 7)`` bytes; a longer
  encoding is "integer representation too long"; in the last allowed byte the
  bits beyond ``N`` must be zero (unsigned) or copies of the sign bit (signed),
  else "integer too large"; running out of bytes is "unexpected end".
* Names are UTF-8 ("malformed UTF-8 encoding"; Python's strict codec rejects
  overlong forms, surrogates and code points above U+10FFFF, as the spec does).
* A vector's element count is checked against the bytes left *before* anything
  is allocated: every vector element takes at least one byte, so a count larger
  than the remaining bytes is "length out of bounds".

Every error is a :class:`~wasmdbg.errors.DecodeError` carrying the
module-relative byte offset where the offending item starts.

Two layers are offered: plain functions ``read_u32(data, pos, end)`` returning
``(value, new_pos)`` (used by the hot instruction reader in ``wasm.code``), and
the stateful :class:`Reader` used by the section decoder.
"""

from __future__ import annotations

from ..errors import DecodeError, UnsupportedError
from .types import ValType

__all__ = [
    "REFTYPE_BY_BYTE",
    "VALTYPE_BY_BYTE",
    "Reader",
    "read_count",
    "read_reftype",
    "read_s32",
    "read_s33",
    "read_s64",
    "read_u32",
    "read_u64",
    "read_valtype",
    "valtype_error",
]

#: Byte encoding -> value type for the value types wasmdbg supports (no v128).
VALTYPE_BY_BYTE: dict[int, ValType] = {
    0x7F: ValType.I32,
    0x7E: ValType.I64,
    0x7D: ValType.F32,
    0x7C: ValType.F64,
    0x70: ValType.FUNCREF,
    0x6F: ValType.EXTERNREF,
}
#: Byte encoding -> reference type.
REFTYPE_BY_BYTE: dict[int, ValType] = {0x70: ValType.FUNCREF, 0x6F: ValType.EXTERNREF}


def _read_unsigned(data: bytes, pos: int, end: int, bits: int) -> tuple[int, int]:
    """Read an unsigned LEB128 of at most ``bits`` bits (general path)."""
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise DecodeError("unexpected end", pos)
        b = data[pos]
        pos += 1
        if shift + 7 >= bits:  # the last byte this width allows
            if b & 0x80:
                raise DecodeError("integer representation too long", start)
            if b >> (bits - shift):
                raise DecodeError("integer too large", start)
            return result | (b << shift), pos
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _read_signed(data: bytes, pos: int, end: int, bits: int) -> tuple[int, int]:
    """Read a signed LEB128 of at most ``bits`` bits (general path)."""
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise DecodeError("unexpected end", pos)
        b = data[pos]
        pos += 1
        if shift + 7 >= bits:  # the last byte this width allows
            if b & 0x80:
                raise DecodeError("integer representation too long", start)
            # Bits from the sign bit upwards must all be equal.
            keep = bits - shift - 1  # value bits below the sign bit in this byte
            high = b >> keep
            if high != 0 and high != (0x7F >> keep):
                raise DecodeError("integer too large", start)
            result |= b << shift
            shift += 7
            break
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if result >> (shift - 1) & 1:
        result -= 1 << shift
    return result, pos


def read_u32(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a ``u32`` LEB128 at ``pos`` (bytes before ``end``); return ``(value, pos)``."""
    if pos < end:
        b = data[pos]
        if b < 0x80:
            return b, pos + 1
    return _read_unsigned(data, pos, end, 32)


def read_u64(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a ``u64`` LEB128; return ``(value, pos)``."""
    return _read_unsigned(data, pos, end, 64)


def read_s32(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read an ``s32`` LEB128; return ``(value, pos)``."""
    if pos < end:
        b = data[pos]
        if b < 0x80:
            return (b - 0x80 if b & 0x40 else b), pos + 1
    return _read_signed(data, pos, end, 32)


def read_s33(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read an ``s33`` LEB128 (block types); return ``(value, pos)``."""
    if pos < end:
        b = data[pos]
        if b < 0x80:
            return (b - 0x80 if b & 0x40 else b), pos + 1
    return _read_signed(data, pos, end, 33)


def read_s64(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read an ``s64`` LEB128; return ``(value, pos)``."""
    if pos < end:
        b = data[pos]
        if b < 0x80:
            return (b - 0x80 if b & 0x40 else b), pos + 1
    return _read_signed(data, pos, end, 64)


def valtype_error(b: int, pos: int) -> DecodeError:
    """The error for byte ``b`` at ``pos`` where a value type was expected.

    ``v128`` (``0x7B``) gives :class:`UnsupportedError`, anything else
    "malformed value type".
    """
    if b == 0x7B:
        return UnsupportedError("SIMD is not supported yet", pos)
    return DecodeError("malformed value type", pos)


def read_count(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a vector length, refusing one larger than the bytes left.

    Every vector element takes at least one byte, so a longer count is
    "length out of bounds" (reported at the count), found before the caller
    allocates anything for the elements.
    """
    n, npos = read_u32(data, pos, end)
    if n > end - npos:
        raise DecodeError("length out of bounds", pos)
    return n, npos


def read_valtype(data: bytes, pos: int, end: int) -> tuple[ValType, int]:
    """Read a one-byte value type; ``v128`` raises :class:`UnsupportedError`."""
    if pos >= end:
        raise DecodeError("unexpected end", pos)
    t = VALTYPE_BY_BYTE.get(data[pos])
    if t is None:
        raise valtype_error(data[pos], pos)
    return t, pos + 1


def read_reftype(data: bytes, pos: int, end: int) -> tuple[ValType, int]:
    """Read a one-byte reference type (``funcref`` or ``externref``)."""
    if pos >= end:
        raise DecodeError("unexpected end", pos)
    t = REFTYPE_BY_BYTE.get(data[pos])
    if t is None:
        raise DecodeError("malformed reference type", pos)
    return t, pos + 1


class Reader:
    """A cursor over ``data[pos:end]`` with module-relative positions.

    ``data`` is always the whole module, so ``pos`` is the module-relative
    offset that errors report.  :meth:`sub` makes a reader bounded by a
    section or body without copying.
    """

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        """Bytes left before ``end``."""
        return self.end - self.pos

    def at_end(self) -> bool:
        """True when every byte up to ``end`` has been read."""
        return self.pos >= self.end

    def sub(self, size: int) -> Reader:
        """A reader over the next ``size`` bytes; this reader skips past them."""
        if size > self.end - self.pos:
            raise DecodeError("length out of bounds", self.pos)
        r = Reader(self.data, self.pos, self.pos + size)
        self.pos += size
        return r

    def byte(self) -> int:
        """Read one byte."""
        pos = self.pos
        if pos >= self.end:
            raise DecodeError("unexpected end", pos)
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int) -> bytes:
        """Read ``n`` raw bytes."""
        pos = self.pos
        if n > self.end - pos:
            raise DecodeError("unexpected end", pos)
        self.pos = pos + n
        return self.data[pos : pos + n]

    def u32(self) -> int:
        """Read a ``u32`` LEB128."""
        v, self.pos = read_u32(self.data, self.pos, self.end)
        return v

    def u64(self) -> int:
        """Read a ``u64`` LEB128."""
        v, self.pos = read_u64(self.data, self.pos, self.end)
        return v

    def s32(self) -> int:
        """Read an ``s32`` LEB128."""
        v, self.pos = read_s32(self.data, self.pos, self.end)
        return v

    def s33(self) -> int:
        """Read an ``s33`` LEB128."""
        v, self.pos = read_s33(self.data, self.pos, self.end)
        return v

    def s64(self) -> int:
        """Read an ``s64`` LEB128."""
        v, self.pos = read_s64(self.data, self.pos, self.end)
        return v

    def count(self) -> int:
        """Read a vector length (see :func:`read_count`)."""
        n, self.pos = read_count(self.data, self.pos, self.end)
        return n

    def byte_vec(self) -> bytes:
        """Read a length-prefixed byte string."""
        return self.take(self.count())

    def name(self) -> str:
        """Read a length-prefixed UTF-8 name."""
        raw = self.byte_vec()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError("malformed UTF-8 encoding", self.pos - len(raw) + e.start) from None

    def valtype(self) -> ValType:
        """Read a value type byte."""
        t, self.pos = read_valtype(self.data, self.pos, self.end)
        return t

    def reftype(self) -> ValType:
        """Read a reference type byte."""
        t, self.pos = read_reftype(self.data, self.pos, self.end)
        return t
