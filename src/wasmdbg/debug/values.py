"""C values over DWARF types: reading, writing, printing and evaluating expressions.

A :class:`CValue` is the bytes of one object of a C type (from
:mod:`wasmdbg.dwarf.types`) and, when it has one, where it came from: an
address in linear memory, or a writer for a Wasm local, global or operand
stack slot.  :func:`format_value` prints it as gdb does; :class:`CEvaluator`
evaluates a parsed expression (:mod:`.expr`) over a :class:`Context` that
the debugger implements for one source frame.

What gdb prints, by type::

    int / long long        -5              char           65 'A'
    unsigned char          255 '\\377'      _Bool          true
    float / double         1.5 (9 / 17 significant digits, as gdb)
    enum                   GREEN           (an unknown value: its number)
    T *                    (T *) 0x10c0    char *         0x4a0 "a string"
    function pointer       {int (int, int)} 0x1 <add>
    T [n]                  {10, 20, 30}    char [n]       "wasm\\000\\000\\000"
    struct / union         {x = 3, y = 4}
    runs of 10 or more equal elements: 0 <repeats 16 times>

Arithmetic follows C on wasm32 (``int`` and ``long`` are 32 bits, pointers
32 bits): the usual arithmetic conversions, pointer +/- integer scaled by
the pointee size, pointer - pointer in elements, comparisons giving
``int``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..dwarf.types import (
    ArrayType,
    BaseType,
    CType,
    Encoding,
    EnumType,
    FunctionType,
    PointerType,
    StructType,
    TypedefType,
    VoidType,
    strip_typedefs,
    type_name,
)
from ..errors import DebugError
from . import expr as ex

__all__ = ["BASE_TYPES", "CEvaluator", "CValue", "Context", "format_value", "scalar_of", "value_of"]

#: C base types by spelling, as on wasm32.
BASE_TYPES: dict[str, BaseType] = {}


def _base(names: str, size: int, encoding: Encoding) -> None:
    for name in names.split(","):
        BASE_TYPES[name.strip()] = BaseType(names.split(",")[0].strip(), size, encoding)


_base("char", 1, Encoding.SIGNED_CHAR)
_base("signed char", 1, Encoding.SIGNED_CHAR)
_base("unsigned char", 1, Encoding.UNSIGNED_CHAR)
_base("short, short int, signed short", 2, Encoding.SIGNED)
_base("unsigned short, unsigned short int", 2, Encoding.UNSIGNED)
_base("int, signed, signed int", 4, Encoding.SIGNED)
_base("unsigned int, unsigned", 4, Encoding.UNSIGNED)
_base("long, long int, signed long", 4, Encoding.SIGNED)
_base("unsigned long, unsigned long int", 4, Encoding.UNSIGNED)
_base("long long, long long int, signed long long", 8, Encoding.SIGNED)
_base("unsigned long long, unsigned long long int", 8, Encoding.UNSIGNED)
_base("float", 4, Encoding.FLOAT)
_base("double", 8, Encoding.FLOAT)
_base("_Bool, bool", 1, Encoding.BOOLEAN)
_base("i8", 1, Encoding.SIGNED)
_base("u8", 1, Encoding.UNSIGNED)
_base("i16", 2, Encoding.SIGNED)
_base("u16", 2, Encoding.UNSIGNED)
_base("i32", 4, Encoding.SIGNED)
_base("u32", 4, Encoding.UNSIGNED)
_base("i64", 8, Encoding.SIGNED)
_base("u64", 8, Encoding.UNSIGNED)
_base("f32", 4, Encoding.FLOAT)
_base("f64", 8, Encoding.FLOAT)

INT = BASE_TYPES["int"]
UINT = BASE_TYPES["unsigned int"]
LLONG = BASE_TYPES["long long"]
ULLONG = BASE_TYPES["unsigned long long"]
DOUBLE = BASE_TYPES["double"]
CHAR = BASE_TYPES["char"]
REPEAT_THRESHOLD = 10
PRINT_ELEMENTS = 200


class Context(Protocol):
    """What evaluating and printing need from the paused program."""

    def read_memory(self, address: int, size: int) -> bytes: ...

    def write_memory(self, address: int, data: bytes) -> None: ...

    def lookup(self, name: str) -> CValue | None: ...

    def dollar(self, name: str) -> CValue: ...

    def find_type(self, words: tuple[str, ...]) -> CType | None: ...

    def function_for_pointer(self, value: int) -> str | None: ...


@dataclass(frozen=True)
class CValue:
    """One C object: ``data`` holds ``type``'s bytes (little-endian).

    ``address`` is set when it lives in linear memory; ``writer`` stores
    new bytes for a value held in a Wasm local, global or stack slot;
    ``bits`` = (bit offset, bit size) within ``data`` for a bitfield.
    """

    type: CType
    data: bytes
    address: int | None = None
    writer: Callable[[bytes], None] | None = None
    optimized_out: bool = False
    bits: tuple[int, int] | None = None

    @property
    def core(self) -> CType:
        """The type without typedefs and qualifiers."""
        return strip_typedefs(self.type)


def value_of(ctype: CType, number: int | float) -> CValue:
    """A value of a scalar type from a Python number (ints wrap, floats round)."""
    core = strip_typedefs(ctype)
    size = max(core.size, 1)
    if isinstance(core, BaseType) and core.is_float:
        code = "<f" if size == 4 else "<d"
        return CValue(ctype, struct.pack(code, float(number)))
    if isinstance(number, float):
        if not math.isfinite(number):
            raise DebugError("cannot convert a non-finite value to an integer")
        number = int(number)
    if isinstance(core, BaseType) and core.encoding == Encoding.BOOLEAN:
        number = int(bool(number))
    return CValue(ctype, (int(number) & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def _is_signed(core: CType) -> bool:
    if isinstance(core, BaseType):
        return core.is_signed
    if isinstance(core, EnumType):
        return core.signed
    return False


def scalar_of(value: CValue) -> int | float:
    """The number a scalar value holds (pointers as their address)."""
    if value.optimized_out:
        raise DebugError("value has been optimized out")
    core = value.core
    if isinstance(core, BaseType) and core.is_float:
        if len(value.data) == 4:
            return float(struct.unpack("<f", value.data)[0])
        if len(value.data) == 8:
            return float(struct.unpack("<d", value.data)[0])
        raise DebugError(f"cannot read a {len(value.data)}-byte float")
    if isinstance(core, StructType | ArrayType | VoidType | FunctionType):
        raise DebugError(f"a value of type {type_name(value.type)} is not a number")
    raw = int.from_bytes(value.data, "little")
    width = 8 * len(value.data)
    if value.bits is not None:
        offset, size = value.bits
        raw = (raw >> offset) & ((1 << size) - 1)
        width = size
    if _is_signed(core) and width and raw >> (width - 1):
        raw -= 1 << width
    return raw


def _write(value: CValue, data: bytes, ctx: Context) -> None:
    if value.bits is not None:
        offset, size = value.bits
        old = int.from_bytes(value.data, "little")
        mask = ((1 << size) - 1) << offset
        new = (old & ~mask) | ((int.from_bytes(data, "little") << offset) & mask)
        data = new.to_bytes(len(value.data), "little")
    if value.address is not None:
        ctx.write_memory(value.address, data)
    elif value.writer is not None:
        value.writer(data)
    else:
        raise DebugError("Left operand of assignment is not an lvalue.")


# --------------------------------------------------------------------------
# Printing


def _float_text(value: float, size: int) -> str:
    if math.isnan(value):
        return "-nan(0x8000000000000)" if math.copysign(1, value) < 0 else "nan(0x8000000000000)"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    text = f"{value:.{9 if size == 4 else 17}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{exp[0]}{exp[1:].lstrip('0').zfill(2)}"
    return text


def char_text(byte: int) -> str:
    """The quoted C character for a byte, as gdb writes it (``'A'``, ``'\\n'``, ``'\\377'``)."""
    return "'" + _char_body(byte, "'") + "'"


_ESC = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033"}


def _char_body(byte: int, quote: str) -> str:
    if byte in _ESC:
        return _ESC[byte]
    if byte == ord(quote) or byte == 92:
        return "\\" + chr(byte)
    if 32 <= byte < 127:
        return chr(byte)
    return f"\\{byte:03o}"


def string_text(data: bytes, *, limit: int = PRINT_ELEMENTS, truncated: bool = False) -> str:
    """A C string as gdb prints it: runs of 10+ equal bytes as ``'c' <repeats N times>``."""
    parts: list[str] = []
    current = ""
    i = 0
    shown = data[:limit]
    while i < len(shown):
        j = i
        while j < len(shown) and shown[j] == shown[i]:
            j += 1
        run = j - i
        if run >= REPEAT_THRESHOLD:
            if current:
                parts.append('"' + current + '"')
                current = ""
            parts.append(f"{char_text(shown[i])} <repeats {run} times>")
        else:
            current += _char_body(shown[i], '"') * run
        i = j
    if current or not parts:
        parts.append('"' + current + '"')
    text = ", ".join(parts)
    if truncated or len(data) > limit:
        text += "..."
    return text


def read_c_string(ctx: Context, address: int, limit: int = PRINT_ELEMENTS) -> tuple[bytes, bool]:
    """The NUL-terminated bytes at ``address`` (at most ``limit``) and whether they were cut."""
    out = bytearray()
    while len(out) < limit:
        chunk = ctx.read_memory(address + len(out), 1)
        if chunk == b"\0":
            return bytes(out), False
        out += chunk
    return bytes(out), True


def _int_format(number: int, size: int, fmt: str) -> str:
    mask = (1 << (8 * size)) - 1 if size else (1 << 64) - 1
    if fmt == "x":
        return f"0x{number & mask:x}"
    if fmt == "o":
        return f"0{number & mask:o}" if number & mask else "0"
    if fmt == "t":
        return f"{number & mask:b}"
    if fmt == "u":
        return str(number & mask)
    if fmt == "d":
        bits = 8 * size
        v = number & mask
        return str(v - (1 << bits) if bits and v >> (bits - 1) else v)
    if fmt == "c":
        return f"{number} {char_text(number & 0xFF)}"
    if fmt == "a":
        return f"0x{number & mask:x}"
    raise DebugError(f"Undefined output format \"{fmt}\".")


def format_value(value: CValue, ctx: Context, fmt: str | None = None, *, top: bool = True) -> str:
    """``value`` as gdb's ``print`` shows it (``fmt``: x d u o t c f a, or None)."""
    if value.optimized_out:
        return "<optimized out>"
    core = value.core
    if isinstance(core, StructType):
        fields = []
        for m in core.members:
            member = member_value(value, m)
            text = format_value(member, ctx, fmt, top=False)
            fields.append(f"{m.name} = {text}" if m.name else text)
        return "{" + ", ".join(fields) + "}"
    if isinstance(core, ArrayType):
        return _format_array(value, core, ctx, fmt)
    if isinstance(core, VoidType):
        return "void"
    if isinstance(core, FunctionType):
        return f"{{{type_name(value.type)}}} 0x{(value.address or 0):x}"
    number = scalar_of(value)
    if isinstance(core, BaseType) and core.is_float:
        if fmt in (None, "f"):
            return _float_text(float(number), len(value.data))
        if fmt == "d":
            return str(int(number))
        raw = int.from_bytes(value.data, "little")
        return _int_format(raw, len(value.data), fmt)
    assert isinstance(number, int)
    size = len(value.data)
    if fmt is not None and fmt != "f":
        return _int_format(number, size, fmt)
    if isinstance(core, PointerType):
        return _format_pointer(value, core, number, ctx, top)
    if isinstance(core, EnumType):
        name = core.name_of(number)
        return name if name is not None else str(number)
    if isinstance(core, BaseType):
        if core.encoding == Encoding.BOOLEAN:
            return {0: "false", 1: "true"}.get(number, str(number))
        if core.is_char:
            return f"{number} {char_text(number & 0xFF)}"
    return str(number)


def _format_pointer(value: CValue, core: PointerType, number: int, ctx: Context, top: bool) -> str:
    target = strip_typedefs(core.target)
    if isinstance(target, FunctionType):
        name = ctx.function_for_pointer(number)
        suffix = f" <{name}>" if name else ""
        return f"({type_name(value.type)}) 0x{number:x}{suffix}" if top else f"0x{number:x}{suffix}"
    if isinstance(target, BaseType) and target.is_char and target.size == 1:
        if number == 0:
            return "0x0"
        try:
            data, cut = read_c_string(ctx, number)
        except DebugError:
            return f"0x{number:x} <error: Cannot access memory at address 0x{number:x}>"
        return f"0x{number:x} {string_text(data, truncated=cut)}"
    return f"({type_name(value.type)}) 0x{number:x}" if top else f"0x{number:x}"


def _format_array(value: CValue, core: ArrayType, ctx: Context, fmt: str | None) -> str:
    element = strip_typedefs(core.element)
    count = core.count or 0
    if fmt is None and isinstance(element, BaseType) and element.is_char and element.size == 1:
        data = value.data[:count]
        if data.endswith(b"\0"):
            # the terminator is implied; further NULs are shown (gdb's print null-stop off)
            data = data[:-1]
        return string_text(data)
    size = core.element.size
    items = [element_value(value, core, i) for i in range(min(count, PRINT_ELEMENTS))]
    texts = [format_value(v, ctx, fmt, top=False) for v in items]
    parts = []
    i = 0
    while i < len(texts):
        j = i
        while j < len(texts) and items[j].data == items[i].data:
            j += 1
        if j - i >= REPEAT_THRESHOLD:
            parts.append(f"{texts[i]} <repeats {j - i} times>")
        else:
            parts.extend(texts[i:j])
        i = j
    del size
    return "{" + ", ".join(parts) + ("..." if count > PRINT_ELEMENTS else "") + "}"


def member_value(value: CValue, m: object) -> CValue:
    """A member of a struct/union value (bitfields keep their bit range)."""
    mtype: CType = getattr(m, "type")  # noqa: B009 - Member has no Protocol here
    offset = int(getattr(m, "offset"))  # noqa: B009
    bit_size = getattr(m, "bit_size", None)
    size = strip_typedefs(mtype).size
    address = value.address + offset if value.address is not None else None
    if bit_size is not None:
        bit_offset = int(getattr(m, "bit_offset", 0) or 0) - 8 * offset
        storage = max(size, (bit_offset + bit_size + 7) // 8)
        data = value.data[offset : offset + storage].ljust(storage, b"\0")
        return CValue(mtype, data, address, _sub_writer(value, offset), value.optimized_out,
                      (bit_offset, int(bit_size)))
    data = value.data[offset : offset + size]
    return CValue(mtype, data, address, _sub_writer(value, offset), value.optimized_out)


def element_value(value: CValue, array: ArrayType, index: int) -> CValue:
    """Element ``index`` of an array value."""
    size = array.element.size
    data = value.data[index * size : (index + 1) * size]
    address = value.address + index * size if value.address is not None else None
    return CValue(array.element, data, address, _sub_writer(value, index * size), value.optimized_out)


def _sub_writer(outer: CValue, offset: int) -> Callable[[bytes], None] | None:
    writer = outer.writer
    if writer is None or outer.address is not None:
        return None
    whole = outer.data

    def write(data: bytes) -> None:
        writer(whole[:offset] + data + whole[offset + len(data):])

    return write


# --------------------------------------------------------------------------
# Evaluation


def _rank(core: CType) -> tuple[int, bool]:
    """(size, unsigned) after integer promotion."""
    size = max(core.size, 4)
    unsigned = not _is_signed(core) and core.size >= 4
    return size, unsigned


def _arith_type(a: CType, b: CType) -> CType:
    if (isinstance(a, BaseType) and a.is_float) or (isinstance(b, BaseType) and b.is_float):
        fa = a if isinstance(a, BaseType) and a.is_float else None
        fb = b if isinstance(b, BaseType) and b.is_float else None
        return DOUBLE if (fa and fa.size == 8) or (fb and fb.size == 8) or not (fa and fb) else BASE_TYPES["float"]
    sa, ua = _rank(a)
    sb, ub = _rank(b)
    size = max(sa, sb)
    unsigned = (ua and sa == size) or (ub and sb == size)
    if size == 8:
        return ULLONG if unsigned else LLONG
    return UINT if unsigned else INT


class CEvaluator:
    """Evaluates a parsed expression to a :class:`CValue` over a :class:`Context`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def eval(self, node: ex.Node) -> CValue:
        """The value of ``node``."""
        method: Callable[[ex.Node], CValue] = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def resolve_type(self, tn: ex.TypeName) -> CType:
        """The C type a cast or sizeof names."""
        words = tuple(w for w in tn.words if w not in ("const", "volatile"))
        base: CType | None
        if words == ("void",):
            base = VoidType()
        else:
            base = BASE_TYPES.get(" ".join(words)) or self.ctx.find_type(words)
        if base is None:
            raise DebugError(f'No symbol "{" ".join(words)}" in current context.')
        for _ in range(tn.pointers):
            base = PointerType(base)
        return base

    def truth(self, value: CValue) -> bool:
        """C truth."""
        return bool(scalar_of(self._decay(value)))

    # -- leaves -------------------------------------------------------------

    def _number(self, node: ex.Number) -> CValue:
        if isinstance(node.value, float):
            return value_of(DOUBLE, node.value)
        if node.is_char:
            return value_of(CHAR, node.value)
        v = node.value
        if -(1 << 31) <= v < (1 << 31):
            return value_of(INT, v)
        if v < (1 << 32):
            return value_of(UINT, v)
        return value_of(LLONG if v < (1 << 63) else ULLONG, v)

    def _str(self, node: ex.Str) -> CValue:
        return CValue(ArrayType(CHAR, len(node.value) + 1), node.value + b"\0")

    def _name(self, node: ex.Name) -> CValue:
        if node.name.startswith("$"):
            return self.ctx.dollar(node.name)
        found = self.ctx.lookup(node.name)
        if found is None:
            raise DebugError(f'No symbol "{node.name}" in current context.')
        return found

    # -- helpers --------------------------------------------------------------

    def _decay(self, value: CValue) -> CValue:
        """Arrays become pointers to their first element (C's decay)."""
        core = value.core
        if isinstance(core, ArrayType):
            if value.address is None:
                raise DebugError("Attempt to take address of value not located in memory.")
            return value_of(PointerType(core.element), value.address)
        if isinstance(core, FunctionType):
            return value_of(PointerType(value.type), value.address or 0)
        return value

    def _load(self, ctype: CType, address: int) -> CValue:
        core = strip_typedefs(ctype)
        if isinstance(core, VoidType):
            raise DebugError("Attempt to take contents of a non-pointer value.")
        size = core.size
        if isinstance(core, FunctionType):
            return CValue(ctype, b"", address)
        return CValue(ctype, self.ctx.read_memory(address, size), address)

    def _deref(self, value: CValue) -> CValue:
        value = self._decay(value)
        core = value.core
        if not isinstance(core, PointerType):
            if isinstance(core, BaseType) and not core.is_float:
                return self._load(INT, int(scalar_of(value)) & 0xFFFF_FFFF)
            raise DebugError("Attempt to take contents of a non-pointer value.")
        return self._load(core.target, int(scalar_of(value)))

    # -- operators ----------------------------------------------------------------

    def _unary(self, node: ex.Unary) -> CValue:
        if node.op == "sizeof":
            if isinstance(node.operand, ex.Cast) and node.operand.operand == ex.Number(0):
                return value_of(UINT, self.resolve_type(node.operand.type).size)
            return value_of(UINT, self.eval(node.operand).core.size)
        if node.op == "&":
            target = self.eval(node.operand)
            if target.address is None or target.bits is not None:
                raise DebugError("Attempt to take address of value not located in memory.")
            return value_of(PointerType(target.type), target.address)
        value = self.eval(node.operand)
        if node.op == "*":
            return self._deref(value)
        value = self._decay(value)
        if node.op == "!":
            return value_of(INT, int(not scalar_of(value)))
        core = value.core
        rtype = _arith_type(core, INT) if not isinstance(core, PointerType) else core
        number = scalar_of(value)
        if node.op == "-":
            return value_of(rtype, -number)
        if node.op == "+":
            return value_of(rtype, number)
        if node.op == "~":
            if isinstance(number, float):
                raise DebugError("Argument to complement operation not an integer.")
            return value_of(rtype, ~number)
        raise DebugError(f"unknown operator {node.op}")

    def _cast(self, node: ex.Cast) -> CValue:
        ctype = self.resolve_type(node.type)
        inner = self.eval(node.operand)
        if node.at_address:
            return self._load(ctype, int(scalar_of(self._decay(inner))) & 0xFFFF_FFFF)
        core = strip_typedefs(ctype)
        if isinstance(core, StructType | ArrayType):
            if strip_typedefs(inner.type) is core:
                return replace(inner, type=ctype)
            raise DebugError(f"Invalid cast to {type_name(ctype)}.")
        return value_of(ctype, scalar_of(self._decay(inner)))

    def _member(self, node: ex.Member) -> CValue:
        base = self.eval(node.base)
        if node.arrow:
            base = self._deref(base)
        core = base.core
        if isinstance(core, PointerType) and not node.arrow:
            base = self._deref(base)
            core = base.core
        if not isinstance(core, StructType):
            raise DebugError(f"Attempt to extract a component of a value that is not a structure{' pointer' if node.arrow else ''}.")
        m = core.member(node.name)
        if m is None:
            raise DebugError(f"There is no member named {node.name}.")
        return member_value(base, m)

    def _index(self, node: ex.Index) -> CValue:
        base = self.eval(node.base)
        index = int(scalar_of(self._decay(self.eval(node.index))))
        core = base.core
        if isinstance(core, ArrayType) and base.address is None:
            if not 0 <= index < (core.count or 0):
                raise DebugError(f"no such vector element (index {index})")
            return element_value(base, core, index)
        pointer = self._decay(base)
        pcore = pointer.core
        if not isinstance(pcore, PointerType):
            raise DebugError("cannot subscript something of type " + f"`{type_name(base.type)}'")
        size = max(strip_typedefs(pcore.target).size, 1)
        return self._load(pcore.target, (int(scalar_of(pointer)) + index * size) & 0xFFFF_FFFF)

    def _conditional(self, node: ex.Conditional) -> CValue:
        return self.eval(node.then) if self.truth(self.eval(node.test)) else self.eval(node.other)

    def _binary(self, node: ex.Binary) -> CValue:
        op = node.op
        if op == "=":
            target = self.eval(node.left)
            source = self._decay(self.eval(node.right))
            tcore = target.core
            if isinstance(tcore, StructType | ArrayType):
                if source.core.size != tcore.size:
                    raise DebugError("Invalid cast.")
                data = source.data
            else:
                data = value_of(target.type, scalar_of(source)).data
                if target.bits is not None:
                    data = (int.from_bytes(data, "little") & ((1 << target.bits[1]) - 1)).to_bytes(len(data), "little")
            _write(target, data, self.ctx)
            if target.address is not None and target.bits is None:
                return self._load(target.type, target.address)
            if target.bits is not None:
                base = target.data
                old = int.from_bytes(base, "little")
                offset, size = target.bits
                mask = ((1 << size) - 1) << offset
                new = (old & ~mask) | ((int.from_bytes(data, "little") << offset) & mask)
                return replace(target, data=new.to_bytes(len(base), "little"))
            return replace(target, data=data)
        if op == "@":
            first = self.eval(node.left)
            count = int(scalar_of(self._decay(self.eval(node.right))))
            if first.address is None:
                raise DebugError("Only values in memory can be extended with '@'.")
            if count <= 0:
                raise DebugError("Non-positive repeat count.")
            array = ArrayType(first.type, count)
            return CValue(array, self.ctx.read_memory(first.address, array.size), first.address)
        if op in ("&&", "||"):
            left = self.truth(self.eval(node.left))
            if op == "&&":
                return value_of(INT, int(left and self.truth(self.eval(node.right))))
            return value_of(INT, int(left or self.truth(self.eval(node.right))))
        a = self._decay(self.eval(node.left))
        b = self._decay(self.eval(node.right))
        ca, cb = a.core, b.core
        pa, pb = isinstance(ca, PointerType), isinstance(cb, PointerType)
        if op in ("+", "-") and (pa or pb):
            return self._pointer_arith(op, a, b)
        x, y = scalar_of(a), scalar_of(b)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if not (pa or pb):
                rt = _arith_type(ca, cb)
                x, y = scalar_of(value_of(rt, x)), scalar_of(value_of(rt, y))
            result = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
            return value_of(INT, int(result))
        if pa or pb:
            raise DebugError("Argument to arithmetic operation not a number or boolean.")
        rtype = _arith_type(ca, cb)
        is_float = isinstance(rtype, BaseType) and rtype.is_float
        if not is_float:
            x, y = scalar_of(value_of(rtype, x)), scalar_of(value_of(rtype, y))
        if op == "+":
            r: int | float = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        elif op in ("/", "%"):
            if is_float:
                if op == "%":
                    raise DebugError("Integer only operation %.")
                r = x / y if y else (math.copysign(math.inf, x) if x else math.nan)
            else:
                if y == 0:
                    raise DebugError("Division by zero")
                xi, yi = int(x), int(y)
                q = abs(xi) // abs(yi) * (1 if (xi >= 0) == (yi >= 0) else -1)
                r = q if op == "/" else xi - q * yi
        else:
            if is_float:
                raise DebugError("Integer only operation.")
            xi, yi = int(x), int(y)
            bits = 8 * rtype.size
            r = {
                "<<": lambda: xi << (yi % bits),
                ">>": lambda: xi >> (yi % bits),
                "&": lambda: xi & yi,
                "|": lambda: xi | yi,
                "^": lambda: xi ^ yi,
            }[op]()
        return value_of(rtype, r)

    def _pointer_arith(self, op: str, a: CValue, b: CValue) -> CValue:
        ca, cb = a.core, b.core
        if isinstance(ca, PointerType) and isinstance(cb, PointerType):
            if op == "+":
                raise DebugError("Argument to arithmetic operation not a number or boolean.")
            size = max(strip_typedefs(ca.target).size, 1)
            return value_of(INT, (int(scalar_of(a)) - int(scalar_of(b))) // size)
        pointer, other = (a, b) if isinstance(ca, PointerType) else (b, a)
        pcore = pointer.core
        assert isinstance(pcore, PointerType)
        if op == "-" and pointer is b:
            raise DebugError("Argument to arithmetic operation not a number or boolean.")
        size = max(strip_typedefs(pcore.target).size, 1)
        delta = int(scalar_of(other)) * size
        address = int(scalar_of(pointer)) + (delta if op == "+" else -delta)
        return value_of(pointer.type, address & 0xFFFF_FFFF)


def typedef_name(t: CType) -> str | None:
    """The name a typedef gives its type, if ``t`` is one."""
    return t.name if isinstance(t, TypedefType) else None
