"""Wasm-level values as the source debugger reads and writes them.

Memory types (``i8`` .. ``f64``, and their C spellings), a value with its
memory type (:class:`WasmValue`), the place it was read from so it can be
written back (:class:`Place`: a local or stack slot of a frame, a global, a
range of linear memory), and gdb's formatting of scalars, characters and C
strings.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DebugError
from ..wasm.types import ValType

__all__ = [
    "MEMTYPES",
    "VALTYPE_MEM",
    "GlobalPlace",
    "ListPlace",
    "MemoryPlace",
    "Place",
    "WasmValue",
    "c_string",
    "char_literal",
    "format_float",
    "format_scalar",
    "memtype_of",
    "read_memory",
    "wrap",
    "write_memory",
]


# --------------------------------------------------------------------------
# Wasm-level values

#: Memory types for ``{T} addr`` and casts: (struct code, size, is_float, signed).
MEMTYPES: dict[str, tuple[str, int, bool, bool]] = {
    "i8": ("b", 1, False, True),
    "u8": ("B", 1, False, False),
    "i16": ("h", 2, False, True),
    "u16": ("H", 2, False, False),
    "i32": ("i", 4, False, True),
    "u32": ("I", 4, False, False),
    "i64": ("q", 8, False, True),
    "u64": ("Q", 8, False, False),
    "f32": ("f", 4, True, True),
    "f64": ("d", 8, True, True),
}

#: C spellings of the same (wasm32: ``long`` and pointers are 4 bytes).
_C_NAMES = {
    "char": "i8", "signed char": "i8", "unsigned char": "u8", "_Bool": "u8", "bool": "u8",
    "short": "i16", "short int": "i16", "unsigned short": "u16", "unsigned short int": "u16",
    "int": "i32", "signed": "i32", "signed int": "i32", "unsigned": "u32", "unsigned int": "u32",
    "long": "i32", "long int": "i32", "unsigned long": "u32", "unsigned long int": "u32",
    "long long": "i64", "long long int": "i64", "unsigned long long": "u64",
    "unsigned long long int": "u64", "float": "f32", "double": "f64",
}

VALTYPE_MEM = {ValType.I32: "i32", ValType.I64: "i64", ValType.F32: "f32", ValType.F64: "f64"}


def memtype_of(words: Sequence[str], pointers: int = 0) -> str:
    """The memory type named by type words (``i32``, ``unsigned int`` ...); pointers are u32."""
    if pointers:
        return "u32"
    text = " ".join(words)
    name = _C_NAMES.get(text, text)
    if name not in MEMTYPES:
        raise DebugError(f"no type named {text!r} at the Wasm level")
    return name


def wrap(value: int, mtype: str) -> int:
    """``value`` wrapped to the width and signedness of an integer memory type."""
    _code, size, _is_float, signed = MEMTYPES[mtype]
    bits = size * 8
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


class Place:
    """Where a value can be written (an lvalue)."""

    def write(self, value: int | float) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class ListPlace(Place):
    """Element ``index`` of a frame's ``locals`` or ``stack``."""

    values: Any
    index: int

    def write(self, value: int | float) -> None:
        self.values[self.index] = value


@dataclass(frozen=True)
class GlobalPlace(Place):
    """A global of an instance."""

    glob: Any
    store: Any

    def write(self, value: int | float) -> None:
        try:
            self.glob.set_value(self.store, value)
        except Exception as exc:
            raise DebugError(f"cannot set the global: {exc}") from exc


@dataclass(frozen=True)
class MemoryPlace(Place):
    """``mtype`` bytes at ``address`` of a linear memory."""

    memory: Callable[[], memoryview]
    address: int
    mtype: str

    def write(self, value: int | float) -> None:
        code, _size, is_float, _signed = MEMTYPES[self.mtype]
        data = struct.pack("<" + code, float(value) if is_float else wrap(int(value), self.mtype))
        write_memory(self.memory(), self.address, data)


def read_memory(view: memoryview, address: int, size: int) -> bytes:
    """``size`` bytes of linear memory at ``address`` (DebugError when out of bounds)."""
    if address < 0 or address + size > len(view):
        raise DebugError(f"Cannot access memory at address 0x{address:x}")
    return bytes(view[address : address + size])


def write_memory(view: memoryview, address: int, data: bytes) -> None:
    """Write ``data`` to linear memory at ``address``."""
    if address < 0 or address + len(data) > len(view):
        raise DebugError(f"Cannot access memory at address 0x{address:x}")
    if view.readonly:
        raise DebugError("The program is not being run: its memory cannot be written.")
    view[address : address + len(data)] = data


@dataclass(frozen=True)
class WasmValue:
    """A value at the Wasm level: a number of memory type ``mtype``, maybe writable."""

    value: int | float
    mtype: str
    place: Place | None = field(default=None, compare=False)

    @property
    def is_float(self) -> bool:
        """True for f32 / f64."""
        return MEMTYPES[self.mtype][2]

    @property
    def size(self) -> int:
        """The width in bytes."""
        return MEMTYPES[self.mtype][1]


def format_float(value: float, mtype: str) -> str:
    """A float the way gdb prints it (shortest text that reads back; ``inf``, ``nan(0x..)``)."""
    if math.isnan(value):
        bits = struct.unpack("<Q", struct.pack("<d", value))[0] & ((1 << 52) - 1)
        if mtype == "f32":
            bits = struct.unpack("<I", struct.pack("<f", value))[0] & ((1 << 23) - 1)
        return ("-" if math.copysign(1, value) < 0 else "") + f"nan(0x{bits:x})"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if mtype == "f32":
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                return text
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def format_scalar(value: int | float, mtype: str, fmt: str | None = None) -> str:
    """One number in a gdb print format: ``x d u o t c f`` or ``None`` (natural)."""
    _code, size, is_float, signed = MEMTYPES[mtype]
    if fmt in (None, "f") and is_float:
        return format_float(float(value), mtype)
    if fmt == "f" and not is_float:
        return str(value)
    if is_float:
        if fmt == "d":
            return str(int(value))
        bits = int.from_bytes(struct.pack("<" + MEMTYPES[mtype][0], value), "little")
        value, signed = bits, False
    ivalue = int(value)
    mask = (1 << (size * 8)) - 1
    if fmt is None or fmt == "d":
        return str(wrap(ivalue, mtype) if signed or fmt == "d" else ivalue)
    if fmt == "u":
        return str(ivalue & mask)
    if fmt == "x":
        return f"0x{ivalue & mask:x}"
    if fmt == "o":
        return f"0{ivalue & mask:o}" if ivalue & mask else "0"
    if fmt == "t":
        return f"{ivalue & mask:b}"
    if fmt == "c":
        code = wrap(ivalue, "i8")
        return f"{code} {char_literal(code & 0xFF)}"
    if fmt == "a":
        return f"0x{ivalue & mask:x}"
    raise DebugError(f"undefined output format {fmt!r}")


def char_literal(byte: int) -> str:
    """``'a'``, ``'\\n'``, ``'\\377'`` as gdb shows a char."""
    names = {0: "\\000", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
             39: "\\'", 92: "\\\\"}
    if byte in names:
        return f"'{names[byte]}'"
    if 32 <= byte < 127:
        return f"'{chr(byte)}'"
    return f"'\\{byte:03o}'"


def c_string(data: bytes, limit: int = 200) -> str:
    """``"text"`` with C escapes, ``...`` when cut at ``limit``."""
    out = []
    for b in data[:limit]:
        if b == 34:
            out.append('\\"')
        elif b == 92:
            out.append("\\\\")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            lit = char_literal(b)[1:-1]
            out.append(lit if lit != "'" else "'")
    text = '"' + "".join(out) + '"'
    return text + ("..." if len(data) > limit else "")

