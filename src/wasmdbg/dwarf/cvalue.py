"""C values: bytes + a C type, read from and written to an abstract target,
and printed as gdb prints them.

A :class:`CValue` holds the value's bytes (little-endian, exactly
``type.size`` of them) and, when it is an lvalue, the :class:`Place` it was
read from, so that ``set var`` can write it back and ``&`` can take its
address.  Bitfields carry their bit position inside the storage bytes.  A
value that cannot be read (optimized out, unreadable memory, an
unsupported location) has ``data`` None and a ``note`` saying why.

The target is a protocol (:class:`Target`) the debugger implements over a
paused frame; nothing here touches the runtime::

    read_memory(address, size) -> bytes      write_memory(address, data)
    read_local(i)  -> int | float            write_local(i, value)
    read_global(i) -> int | float            write_global(i, value)
    read_stack(i)  -> int | float            write_stack(i, value)

Wasm locals, globals and stack slots hold i32/i64/f32/f64 values: an int is
taken as the two's-complement bit pattern, a float as an IEEE value, and
either is converted to the C type's size.

:func:`format_value` follows gdb's ``print``: ``65 'A'``, ``(int *) 0x10b30``,
``0x109f0 "greetings"``, ``{x = 3, y = 4}``, ``{1, 2, 3}``,
``'\\000' <repeats 15 times>``, ``GREEN``, ``true``, ``<optimized out>``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .locations import Location, Place, PlaceKind, resolve
from .sections import DwarfError
from .types import (
    ArrayType,
    BaseType,
    CType,
    Encoding,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    StructType,
    VoidType,
    strip_typedefs,
    type_name,
)

__all__ = [
    "BOOL",
    "CHAR",
    "DOUBLE",
    "FLOAT",
    "INT",
    "LONG",
    "LONG_LONG",
    "UNSIGNED_INT",
    "UNSIGNED_LONG",
    "UNSIGNED_LONG_LONG",
    "CValue",
    "Target",
    "format_value",
    "from_python",
    "read_variable",
    "write_value",
]

INT = BaseType("int", 4, Encoding.SIGNED)
UNSIGNED_INT = BaseType("unsigned int", 4, Encoding.UNSIGNED)
LONG = BaseType("long", 4, Encoding.SIGNED)
UNSIGNED_LONG = BaseType("unsigned long", 4, Encoding.UNSIGNED)
LONG_LONG = BaseType("long long", 8, Encoding.SIGNED)
UNSIGNED_LONG_LONG = BaseType("unsigned long long", 8, Encoding.UNSIGNED)
CHAR = BaseType("char", 1, Encoding.SIGNED_CHAR)
BOOL = BaseType("_Bool", 1, Encoding.BOOLEAN)
FLOAT = BaseType("float", 4, Encoding.FLOAT)
DOUBLE = BaseType("double", 8, Encoding.FLOAT)

#: gdb's "set print elements" and "set print repeats" defaults.
PRINT_ELEMENTS = 200
REPEAT_THRESHOLD = 10


class Target(Protocol):
    """One paused frame's storage, as the value layer needs it."""

    def read_memory(self, address: int, size: int) -> bytes: ...

    def write_memory(self, address: int, data: bytes) -> None: ...

    def read_local(self, index: int) -> int | float: ...

    def write_local(self, index: int, value: int | float) -> None: ...

    def read_global(self, index: int) -> int | float: ...

    def write_global(self, index: int, value: int | float) -> None: ...

    def read_stack(self, index: int) -> int | float: ...

    def write_stack(self, index: int, value: int | float) -> None: ...


@dataclass(frozen=True, slots=True)
class CValue:
    """A C value: ``data`` (``type.size`` bytes) or None with a ``note``.

    ``place`` is where an lvalue lives; ``bits`` is ``(bit_offset,
    bit_size)`` inside ``data`` for a bitfield.
    """

    type: CType
    data: bytes | None
    place: Place | None = None
    bits: tuple[int, int] | None = None
    note: str | None = None

    @property
    def available(self) -> bool:
        return self.data is not None

    @property
    def address(self) -> int | None:
        """The memory address of an lvalue in linear memory."""
        return self.place.address if self.place is not None and self.bits is None else None

    def raw(self) -> bytes:
        """The bytes, or :class:`DwarfError` with the note."""
        if self.data is None:
            raise DwarfError(self.note or "value unavailable")
        return self.data

    def as_int(self) -> int:
        """The value as a Python int (signed per its type; pointers unsigned)."""
        t = strip_typedefs(self.type)
        raw = self.raw()
        if isinstance(t, BaseType) and t.is_float:
            return int(self.as_float())
        if self.bits is not None:
            off, n = self.bits
            v = (int.from_bytes(raw, "little") >> off) & ((1 << n) - 1)
            if _is_signed(t) and v >> (n - 1):
                v -= 1 << n
            return v
        return int.from_bytes(raw, "little", signed=_is_signed(t))

    def as_float(self) -> float:
        t = strip_typedefs(self.type)
        raw = self.raw()
        if isinstance(t, BaseType) and t.is_float:
            if t.size == 4:
                return float(struct.unpack("<f", raw)[0])
            if t.size == 8:
                return float(struct.unpack("<d", raw)[0])
            raise DwarfError(f"cannot read a {t.size}-byte float")
        return float(self.as_int())


def _is_signed(t: CType) -> bool:
    if isinstance(t, BaseType):
        return t.is_signed
    if isinstance(t, EnumType):
        return t.signed
    return False


def unavailable(t: CType, note: str) -> CValue:
    """A value that cannot be read (``note`` says why)."""
    return CValue(t, None, None, None, note)


# -- reading ----------------------------------------------------------------------


def _slot_bytes(value: int | float, size: int) -> bytes:
    """A Wasm slot's value as ``size`` bytes: a float by IEEE encoding, an
    int as its (truncated) two's-complement bit pattern."""
    if isinstance(value, float):
        if size == 4:
            return struct.pack("<f", value)
        if size == 8:
            return struct.pack("<d", value)
        value = int(value)
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def read_place(t: CType, place: Place, target: Target) -> CValue:
    """Read a value of type ``t`` stored at ``place``."""
    size = t.size
    try:
        if place.kind == PlaceKind.MEMORY:
            data = target.read_memory(place.where, size)
            if len(data) != size:
                raise DwarfError(f"Cannot access memory at address 0x{place.where:x}")
        elif place.kind == PlaceKind.LOCAL:
            data = _slot_bytes(target.read_local(place.where), size)
        elif place.kind == PlaceKind.GLOBAL:
            data = _slot_bytes(target.read_global(place.where), size)
        elif place.kind == PlaceKind.STACK:
            data = _slot_bytes(target.read_stack(place.where), size)
        else:
            return CValue(t, _slot_bytes(place.where, size), None)
    except DwarfError as e:
        return unavailable(t, str(e))
    except Exception as e:  # NB: the target's own errors (bad address, stale frame)
        return unavailable(t, f"{type(e).__name__}: {e}")
    return CValue(t, data, place)


def read_variable(
    t: CType, location: Location, target: Target, frame_base: Location | None
) -> CValue:
    """Read a variable of type ``t`` at ``location`` (see ``locations.resolve``)."""
    try:
        place = resolve(location, _LocationFrame(target), frame_base)
    except DwarfError as e:
        return unavailable(t, str(e))
    except Exception as e:  # NB: as in read_place
        return unavailable(t, f"{type(e).__name__}: {e}")
    if place is None:
        return unavailable(t, "optimized out")
    if isinstance(place, list):
        parts = []
        for p, size in place:
            if p is None:
                return unavailable(t, "optimized out")
            v = read_place(_bytes_type(size), p, target)
            if v.data is None:
                return unavailable(t, v.note or "optimized out")
            parts.append(v.data)
        data = b"".join(parts)[: t.size].ljust(t.size, b"\0")
        return CValue(t, data, None)
    return read_place(t, place, target)


def _bytes_type(size: int) -> ArrayType:
    return ArrayType(BaseType("unsigned char", 1, Encoding.UNSIGNED_CHAR), size)


class _LocationFrame:
    """Adapts a :class:`Target` to the location evaluator's integer reads."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def read_local(self, index: int) -> int:
        return _as_bits(self.target.read_local(index))

    def read_global(self, index: int) -> int:
        return _as_bits(self.target.read_global(index))

    def read_stack(self, index: int) -> int:
        return _as_bits(self.target.read_stack(index))

    def read_memory(self, address: int, size: int) -> bytes:
        return self.target.read_memory(address, size)


def _as_bits(v: int | float) -> int:
    if isinstance(v, float):
        return int.from_bytes(struct.pack("<d", v), "little")
    return v


# -- writing ----------------------------------------------------------------------


def from_python(t: CType, value: int | float) -> CValue:
    """A value of type ``t`` (a scalar: integer, float, enum, pointer) from a Python number."""
    core = strip_typedefs(t)
    size = t.size
    if isinstance(core, BaseType) and core.is_float:
        fmt = {4: "<f", 8: "<d"}.get(size)
        if fmt is None:
            raise DwarfError(f"cannot make a {size}-byte float")
        return CValue(t, struct.pack(fmt, float(value)))
    if isinstance(core, BaseType) and core.encoding == Encoding.BOOLEAN:
        return CValue(t, (1 if value else 0).to_bytes(size, "little"))
    if not isinstance(core, BaseType | EnumType | PointerType):
        raise DwarfError(f"cannot make a value of type {type_name(t)} from a number")
    return CValue(t, (int(value) & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def write_value(dest: CValue, value: CValue, target: Target) -> CValue:
    """Store ``value`` (already of ``dest``'s type) into lvalue ``dest``; the new value."""
    if dest.place is None:
        raise DwarfError("Left operand of assignment is not an lvalue.")
    data = value.raw()
    place = dest.place
    if dest.bits is not None:
        off, n = dest.bits
        old = int.from_bytes(dest.raw(), "little")
        mask = ((1 << n) - 1) << off
        new = (old & ~mask) | ((int.from_bytes(data, "little") << off) & mask)
        data = new.to_bytes(len(dest.raw()), "little")
    if place.kind == PlaceKind.MEMORY:
        target.write_memory(place.where, data)
    elif place.kind in (PlaceKind.LOCAL, PlaceKind.GLOBAL, PlaceKind.STACK):
        core = strip_typedefs(dest.type)
        scalar: int | float
        if isinstance(core, BaseType) and core.is_float:
            scalar = CValue(dest.type, data).as_float()
        else:
            scalar = int.from_bytes(data, "little", signed=_is_signed(core))
        write = {
            PlaceKind.LOCAL: target.write_local,
            PlaceKind.GLOBAL: target.write_global,
            PlaceKind.STACK: target.write_stack,
        }[place.kind]
        write(place.where, scalar)
    else:
        raise DwarfError("cannot assign to a value the compiler computed (no storage)")
    return CValue(dest.type, data, place, dest.bits)


# -- printing ------------------------------------------------------------------------

Symbolizer = Callable[[int], str | None]  # function pointer value -> function name


def format_value(
    v: CValue, target: Target | None = None, symbolize: Symbolizer | None = None
) -> str:
    """``v`` as gdb's ``print`` shows it (after ``$1 = ``)."""
    return _fmt(v, target, symbolize, top=True)


def _fmt(v: CValue, target: Target | None, sym: Symbolizer | None, top: bool) -> str:
    if v.data is None:
        note = v.note or "unavailable"
        return "<optimized out>" if note == "optimized out" else f"<error: {note}>"
    t = strip_typedefs(v.type)
    if isinstance(t, BaseType):
        return _fmt_base(v, t)
    if isinstance(t, EnumType):
        n = v.as_int()
        name = t.name_of(n)
        return name if name is not None else str(n)
    if isinstance(t, PointerType):
        return _fmt_pointer(v, t, target, sym, top)
    if isinstance(t, ArrayType):
        return _fmt_array(v, t, target, sym)
    if isinstance(t, StructType):
        parts = []
        for m in t.members:
            mv = member_value(v, m.name or "", m)
            text = _fmt(mv, target, sym, top=False)
            parts.append(f"{m.name} = {text}" if m.name else text)
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, FunctionType):
        return f"{{{type_name(v.type)}}} 0x{v.as_int():x}"
    if isinstance(t, VoidType):
        return "void"
    return "<unknown type>"


def _fmt_base(v: CValue, t: BaseType) -> str:
    if t.is_float:
        f = v.as_float()
        if math.isnan(f):
            return "-nan" if math.copysign(1.0, f) < 0 else "nan"
        if math.isinf(f):
            return "-inf" if f < 0 else "inf"
        text = format(f, ".9g" if t.size == 4 else ".17g")
        return text
    n = v.as_int()
    if t.encoding == Encoding.BOOLEAN:
        return "true" if n == 1 else "false" if n == 0 else str(n)
    if t.is_char and t.size == 1:
        return f"{n} {char_literal(n & 0xFF)}"
    return str(n)


_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033"}


def _char_body(b: int, quote: str) -> str:
    if b in _ESCAPES:
        return _ESCAPES[b]
    if chr(b) in (quote, "\\"):
        return "\\" + chr(b)
    if 32 <= b < 127:
        return chr(b)
    return f"\\{b:03o}"


def char_literal(b: int) -> str:
    """A byte as a C character literal: ``'A'``, ``'\\n'``, ``'\\000'``."""
    return "'" + _char_body(b, "'") + "'"


def string_literal(data: bytes) -> str:
    """Bytes as gdb prints a char array: runs of more than ``REPEAT_THRESHOLD``
    equal bytes are written ``'c' <repeats N times>``."""
    segments: list[str] = []
    current = ""
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        run = j - i
        if run > REPEAT_THRESHOLD:
            if current:
                segments.append('"' + current + '"')
                current = ""
            segments.append(f"{char_literal(data[i])} <repeats {run} times>")
        else:
            current += "".join(_char_body(data[i], '"') for _ in range(run))
        i = j
    if current or not segments:
        segments.append('"' + current + '"')
    return ", ".join(segments)


def _is_char(t: CType) -> bool:
    core = strip_typedefs(t)
    return isinstance(core, BaseType) and core.is_char and core.size == 1


def read_c_string(target: Target, address: int, limit: int = PRINT_ELEMENTS) -> tuple[bytes, bool]:
    """The NUL-terminated string at ``address`` (at most ``limit`` bytes) and
    whether it was cut short."""
    out = bytearray()
    while len(out) < limit:
        chunk = target.read_memory(address + len(out), min(64, limit - len(out)))
        if not chunk:
            break
        nul = chunk.find(b"\0")
        if nul >= 0:
            out += chunk[:nul]
            return bytes(out), False
        out += chunk
    return bytes(out), len(out) >= limit


def _fmt_pointer(
    v: CValue, t: PointerType, target: Target | None, sym: Symbolizer | None, top: bool
) -> str:
    addr = v.as_int()
    target_type = strip_typedefs(t.target)
    if isinstance(target_type, FunctionType):
        name = sym(addr) if sym is not None else None
        suffix = f" <{name}>" if name else ""
        return f"({type_name(v.type)}) 0x{addr:x}{suffix}" if top else f"0x{addr:x}{suffix}"
    if _is_char(t.target) and target is not None and addr != 0:
        try:
            s, cut = read_c_string(target, addr)
        except Exception as e:  # NB: the target's own errors, shown like gdb's
            return f"0x{addr:x} <error: {e}>"
        return f"0x{addr:x} {string_literal(s)}{'...' if cut else ''}"
    if top:
        return f"({type_name(v.type)}) 0x{addr:x}"
    return f"0x{addr:x}"


def _fmt_array(v: CValue, t: ArrayType, target: Target | None, sym: Symbolizer | None) -> str:
    count = t.count or 0
    if _is_char(t.element):
        data = v.raw()[:count]
        if data.endswith(b"\0"):
            data = data[:-1]  # gdb leaves out the one terminating NUL
        return string_literal(data[:PRINT_ELEMENTS])
    texts = [
        _fmt(element_value(v, i), target, sym, top=False) for i in range(min(count, PRINT_ELEMENTS))
    ]
    out: list[str] = []
    i = 0
    while i < len(texts):
        j = i
        while j < len(texts) and texts[j] == texts[i]:
            j += 1
        if j - i > REPEAT_THRESHOLD:
            out.append(f"{texts[i]} <repeats {j - i} times>")
        else:
            out.extend(texts[i:j])
        i = j
    more = "..." if count > PRINT_ELEMENTS else ""
    return "{" + ", ".join(out) + more + "}"


# -- parts of aggregates -------------------------------------------------------------


def _sub_place(place: Place | None, offset: int) -> Place | None:
    if place is None or place.kind != PlaceKind.MEMORY:
        return None
    return Place(PlaceKind.MEMORY, place.where + offset)


def element_value(v: CValue, index: int) -> CValue:
    """Element ``index`` of array value ``v`` (from its bytes; no bounds check beyond them)."""
    t = strip_typedefs(v.type)
    if not isinstance(t, ArrayType):
        raise DwarfError(f"cannot subscript a {type_name(v.type)}")
    size = t.element.size
    data = v.raw()
    lo = index * size
    if lo < 0 or lo + size > len(data):
        raise DwarfError(f"index {index} outside the array")
    return CValue(t.element, data[lo : lo + size], _sub_place(v.place, lo))


def member_value(v: CValue, name: str, member: Member | None = None) -> CValue:
    """Member ``name`` of struct/union value ``v``."""
    t = strip_typedefs(v.type)
    if not isinstance(t, StructType):
        raise DwarfError(
            f"Attempt to extract a component of a value that is not a structure: {type_name(v.type)}"
        )
    m = member if member is not None else t.member(name)
    if m is None:
        raise DwarfError(f"There is no member named {name}.")
    data = v.raw()
    if m.bit_size is not None and m.bit_offset is not None:
        storage = m.type.size or 4
        first = m.bit_offset // 8
        first = min(first, max(0, len(data) - storage))
        chunk = data[first : first + storage].ljust(storage, b"\0")
        bits = (m.bit_offset - 8 * first, m.bit_size)
        place = _sub_place(v.place, first) if v.place is not None else None
        if v.place is not None and v.place.kind != PlaceKind.MEMORY:
            place = None
        return CValue(m.type, chunk, place, bits)
    size = m.type.size
    if m.offset + size > len(data):
        raise DwarfError(f"member {name} lies outside its struct")
    return CValue(m.type, data[m.offset : m.offset + size], _sub_place(v.place, m.offset))
