"""C types from DWARF, and their C spelling (gdb's ``whatis``/``ptype``).

The model, one frozen dataclass per kind::

    VoidType                          void
    BaseType(name, size, encoding)    int, unsigned char, double, _Bool ...
    PointerType(target, size)         T *
    ArrayType(element, count)         T [n]   (T [2][3] = array of arrays)
    StructType(kind, name, size, members)   struct / union / class
        Member(name, type, offset, bit_size, bit_offset)
    EnumType(name, size, enumerators, base)
    TypedefType(name, target)
    QualifiedType(qualifier, target)  const / volatile / restrict / _Atomic
    FunctionType(result, params, variadic)
    UnknownType(what, size)           a DWARF type tag not modelled (C++ member pointers ...)

NB: types compare by identity (``eq=False``): C structs are nominal, and a
linked-list node's ``next`` points back at its own struct, so structural
equality would recurse forever.  :class:`TypeReader` returns one object per
DIE; a struct is cached *before* its members are read (then filled in with
``object.__setattr__``) so that such cycles close on the cached object.

:func:`type_name` spells a type as a C declarator without a name
(``char *``, ``int [5]``, ``int (*)(int, int)``); :func:`ptype` expands the
struct, union or enum at the core of the declarator as gdb does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from elftools.dwarf.compileunit import CompileUnit
from elftools.dwarf.die import DIE

from .sections import DwarfError

__all__ = [
    "VOID",
    "ArrayType",
    "BaseType",
    "CType",
    "Encoding",
    "EnumType",
    "FunctionType",
    "Member",
    "PointerType",
    "QualifiedType",
    "StructType",
    "TypeReader",
    "TypedefType",
    "UnknownType",
    "VoidType",
    "declaration",
    "ptype",
    "strip_cv",
    "strip_typedefs",
    "type_name",
]


class Encoding(IntEnum):
    """``DW_ATE_*``: how a base type's bytes are read."""

    ADDRESS = 0x01
    BOOLEAN = 0x02
    FLOAT = 0x04
    SIGNED = 0x05
    SIGNED_CHAR = 0x06
    UNSIGNED = 0x07
    UNSIGNED_CHAR = 0x08
    UTF = 0x10


@dataclass(frozen=True, eq=False)
class VoidType:
    """``void`` (also what a pointer without ``DW_AT_type`` points to)."""

    size: int = 0


VOID = VoidType()


@dataclass(frozen=True, eq=False)
class BaseType:
    """A scalar: integers, characters, floats, ``_Bool``."""

    name: str
    size: int
    encoding: Encoding

    @property
    def is_signed(self) -> bool:
        """Whether the integer value is two's-complement signed."""
        return self.encoding in (Encoding.SIGNED, Encoding.SIGNED_CHAR)

    @property
    def is_float(self) -> bool:
        return self.encoding == Encoding.FLOAT

    @property
    def is_char(self) -> bool:
        return self.encoding in (Encoding.SIGNED_CHAR, Encoding.UNSIGNED_CHAR)


@dataclass(frozen=True, eq=False)
class PointerType:
    """``target *`` (4 bytes on wasm32)."""

    target: CType
    size: int = 4


@dataclass(frozen=True, eq=False)
class ArrayType:
    """``element [count]``; ``count`` None for ``T []`` (unknown bound)."""

    element: CType
    count: int | None

    @property
    def size(self) -> int:
        return (self.count or 0) * self.element.size


@dataclass(frozen=True, eq=False)
class Member:
    """A struct/union member.  Bitfields have ``bit_size``; ``bit_offset``
    counts bits from the start of the struct (LSB-first, as Wasm is
    little-endian); ``offset`` is the byte offset (of the storage unit for a
    bitfield)."""

    name: str | None
    type: CType
    offset: int
    bit_size: int | None = None
    bit_offset: int | None = None


@dataclass(frozen=True, eq=False)
class StructType:
    """A ``struct``, ``union`` or ``class`` (``kind``); ``name`` None if anonymous."""

    kind: str
    name: str | None
    size: int
    members: tuple[Member, ...] = field(default=())
    declaration: bool = False  # only declared here (an incomplete type)

    def member(self, name: str) -> Member | None:
        """The member called ``name``, looking into anonymous members too."""
        for m in self.members:
            if m.name == name:
                return m
        for m in self.members:
            inner = strip_typedefs(m.type)
            if m.name is None and isinstance(inner, StructType):
                found = inner.member(name)
                if found is not None:
                    return Member(
                        found.name,
                        found.type,
                        m.offset + found.offset,
                        found.bit_size,
                        None if found.bit_offset is None else found.bit_offset + 8 * m.offset,
                    )
        return None


@dataclass(frozen=True, eq=False)
class EnumType:
    """An ``enum``: its enumerators and the size of its values."""

    name: str | None
    size: int
    enumerators: tuple[tuple[str, int], ...]
    signed: bool = True

    def name_of(self, value: int) -> str | None:
        for n, v in self.enumerators:
            if v == value:
                return n
        return None


@dataclass(frozen=True, eq=False)
class TypedefType:
    """``typedef target name``."""

    name: str
    target: CType

    @property
    def size(self) -> int:
        return self.target.size


@dataclass(frozen=True, eq=False)
class QualifiedType:
    """``const``/``volatile``/``restrict``/``_Atomic`` ``target``."""

    qualifier: str
    target: CType

    @property
    def size(self) -> int:
        return self.target.size


@dataclass(frozen=True, eq=False)
class FunctionType:
    """A function type (what a function pointer points to)."""

    result: CType
    params: tuple[CType, ...]
    variadic: bool = False
    size: int = 1  # as gdb, sizeof a function is 1


@dataclass(frozen=True, eq=False)
class UnknownType:
    """A type this reader does not model (``what`` says which DWARF tag, or why)."""

    what: str
    size: int = 0


CType = (
    VoidType | BaseType | PointerType | ArrayType | StructType | EnumType | TypedefType
    | QualifiedType | FunctionType | UnknownType
)  # fmt: skip


def strip_typedefs(t: CType) -> CType:
    """``t`` without typedefs and qualifiers on top (what the value *is*)."""
    while isinstance(t, TypedefType | QualifiedType):
        t = t.target
    return t


def strip_cv(t: CType) -> CType:
    """``t`` without qualifiers on top (typedefs kept)."""
    while isinstance(t, QualifiedType):
        t = t.target
    return t


# -- spelling ------------------------------------------------------------------


def _core_name(t: CType) -> str:
    if isinstance(t, VoidType):
        return "void"
    if isinstance(t, BaseType | TypedefType):
        return t.name
    if isinstance(t, StructType):
        return f"{t.kind} {t.name}" if t.name else f"{t.kind} {{...}}"
    if isinstance(t, EnumType):
        return f"enum {t.name}" if t.name else "enum {...}"
    if isinstance(t, UnknownType):
        return f"<unknown type: {t.what}>"
    raise DwarfError(f"not a core type: {t!r}")


def _spell(t: CType, decl: str, expand: bool) -> str:
    """Spell ``t`` around declarator ``decl``; ``expand``: resolve typedefs and
    write out the body of the struct/union/enum at the core."""
    if isinstance(t, PointerType):
        inner = strip_cv(t.target)
        if isinstance(inner, ArrayType | FunctionType):
            return _spell(t.target, "(*" + decl + ")", expand)
        return _spell(t.target, "*" + decl, expand)
    if isinstance(t, ArrayType):
        n = "" if t.count is None else str(t.count)
        return _spell(t.element, decl + f"[{n}]", expand)
    if isinstance(t, FunctionType):
        params = [type_name(p) for p in t.params]
        if t.variadic:
            params.append("...")
        return _spell(t.result, decl + "(" + (", ".join(params) or "void") + ")", expand)
    if isinstance(t, QualifiedType):
        inner = strip_cv(t.target)
        if isinstance(inner, PointerType):
            return _spell(t.target, " " + t.qualifier + (" " + decl if decl else ""), expand)
        return t.qualifier + " " + _spell(t.target, decl, expand)
    if expand and isinstance(t, TypedefType):
        return _spell(t.target, decl, expand)
    head = _body(t) if (expand and isinstance(t, StructType | EnumType)) else _core_name(t)
    return head + " " + decl if decl else head


def type_name(t: CType) -> str:
    """``t`` spelled as C without a name: what gdb's ``whatis`` prints."""
    return _spell(t, "", False)


def ptype(t: CType) -> str:
    """What gdb's ``ptype`` prints after ``type = ``: typedefs resolved, the
    struct/union/enum at the core expanded with its members."""
    return _spell(t, "", True)


def declaration(t: CType, name: str) -> str:
    """``t name`` as a C declaration (``char *label``, ``int arr[5]``)."""
    return _spell(t, name, False)


def _body(t: StructType | EnumType) -> str:
    if isinstance(t, EnumType):
        items = []
        expected = 0
        for n, v in t.enumerators:
            items.append(n if v == expected else f"{n} = {v}")
            expected = v + 1
        head = f"enum {t.name} " if t.name else "enum "
        return head + "{" + ", ".join(items) + "}"
    head = f"{t.kind} {t.name} " if t.name else f"{t.kind} "
    if t.declaration:
        return head + "{\n    <incomplete type>\n}"
    lines = []
    for m in t.members:
        text = declaration(m.type, m.name or "")
        if m.bit_size is not None:
            text += f" : {m.bit_size}"
        lines.append(f"    {text};")
    return head + "{\n" + "".join(ln + "\n" for ln in lines) + "}"


# -- reading DWARF ---------------------------------------------------------------

_QUALIFIERS = {
    "DW_TAG_const_type": "const",
    "DW_TAG_volatile_type": "volatile",
    "DW_TAG_restrict_type": "restrict",
    "DW_TAG_atomic_type": "_Atomic",
}
_STRUCTS = {
    "DW_TAG_structure_type": "struct",
    "DW_TAG_union_type": "union",
    "DW_TAG_class_type": "class",
}


class TypeReader:
    """Reads the types of one compile unit, one object per DIE (cached)."""

    def __init__(self, cu: CompileUnit) -> None:
        self.cu = cu
        self._cache: dict[int, CType] = {}
        self._busy: set[int] = set()

    def type_of(self, die: DIE) -> CType:
        """The type named by ``die``'s ``DW_AT_type`` (``void`` when absent)."""
        if "DW_AT_type" not in die.attributes:
            return VOID
        return self.read(die.get_DIE_from_attribute("DW_AT_type"))

    def read(self, die: DIE) -> CType:
        """The type described by type DIE ``die``."""
        cached = self._cache.get(die.offset)
        if cached is not None:
            return cached
        if die.offset in self._busy:
            raise DwarfError(f"cyclic type at .debug_info+0x{die.offset:x}")
        self._busy.add(die.offset)
        try:
            t = self._read(die)
        finally:
            self._busy.discard(die.offset)
        self._cache[die.offset] = t
        return t

    def _read(self, die: DIE) -> CType:
        tag = die.tag
        a = die.attributes
        name = _name(die)
        size = int(a["DW_AT_byte_size"].value) if "DW_AT_byte_size" in a else 0
        if tag == "DW_TAG_base_type":
            enc = int(a["DW_AT_encoding"].value) if "DW_AT_encoding" in a else Encoding.SIGNED
            try:
                encoding = Encoding(enc)
            except ValueError:
                encoding = Encoding.UNSIGNED
            return BaseType(name or "?", size, encoding)
        if tag == "DW_TAG_unspecified_type":
            return VOID
        wrapper: PointerType | QualifiedType | TypedefType | None = None
        if tag in ("DW_TAG_pointer_type", "DW_TAG_reference_type", "DW_TAG_rvalue_reference_type"):
            wrapper = PointerType(VOID, size or 4)
        elif tag in _QUALIFIERS:
            wrapper = QualifiedType(_QUALIFIERS[tag], VOID)
        elif tag == "DW_TAG_typedef":
            wrapper = TypedefType(name or "?", VOID)
        if wrapper is not None:
            # NB: cached before the target is read, as structs are (see the
            # module docstring): `struct node { struct node *next; }` and
            # `typedef struct s *sp; struct s { sp next; }` close on it.
            self._cache[die.offset] = wrapper
            object.__setattr__(wrapper, "target", self.type_of(die))
            return wrapper
        if tag == "DW_TAG_array_type":
            return self._array(die)
        if tag in _STRUCTS:
            return self._struct(die, _STRUCTS[tag], name, size)
        if tag == "DW_TAG_enumeration_type":
            items = []
            for c in die.iter_children():
                if c.tag == "DW_TAG_enumerator":
                    items.append((_name(c) or "?", int(c.attributes["DW_AT_const_value"].value)))
            base = self.type_of(die)
            core = strip_typedefs(base)
            signed = core.is_signed if isinstance(core, BaseType) else any(v < 0 for _, v in items)
            return EnumType(
                name, size or (core.size if core is not VOID else 4), tuple(items), signed
            )
        if tag == "DW_TAG_subroutine_type":
            params = []
            variadic = False
            for c in die.iter_children():
                if c.tag == "DW_TAG_formal_parameter":
                    params.append(self.type_of(c))
                elif c.tag == "DW_TAG_unspecified_parameters":
                    variadic = True
            return FunctionType(self.type_of(die), tuple(params), variadic)
        return UnknownType(str(tag).removeprefix("DW_TAG_"), size)

    def _array(self, die: DIE) -> CType:
        counts: list[int | None] = []
        for c in die.iter_children():
            if c.tag == "DW_TAG_subrange_type":
                ca = c.attributes
                if "DW_AT_count" in ca and isinstance(ca["DW_AT_count"].value, int):
                    counts.append(int(ca["DW_AT_count"].value))
                elif "DW_AT_upper_bound" in ca and isinstance(ca["DW_AT_upper_bound"].value, int):
                    lower = int(ca["DW_AT_lower_bound"].value) if "DW_AT_lower_bound" in ca else 0
                    counts.append(int(ca["DW_AT_upper_bound"].value) - lower + 1)
                else:
                    counts.append(None)
        t: CType = self.type_of(die)
        for n in reversed(counts or [None]):
            t = ArrayType(t, n)
        return t

    def _struct(self, die: DIE, kind: str, name: str | None, size: int) -> StructType:
        decl = bool(
            die.attributes.get("DW_AT_declaration") and die.attributes["DW_AT_declaration"].value
        )
        t = StructType(kind, name, size, (), decl)
        # NB: cached before the members are read, so self-references resolve
        # to this object; the members are then set on the frozen instance.
        self._cache[die.offset] = t
        members = []
        for c in die.iter_children():
            if c.tag != "DW_TAG_member":
                continue
            ca = c.attributes
            offset = 0
            if "DW_AT_data_member_location" in ca:
                v = ca["DW_AT_data_member_location"].value
                if isinstance(v, int):
                    offset = v
                elif isinstance(v, list) and len(v) >= 2 and v[0] == 0x23:  # plus_uconst
                    offset = _uleb_list(v[1:])
            bit_size = int(ca["DW_AT_bit_size"].value) if "DW_AT_bit_size" in ca else None
            bit_offset: int | None = None
            if bit_size is not None:
                if "DW_AT_data_bit_offset" in ca:
                    bit_offset = int(ca["DW_AT_data_bit_offset"].value)
                elif "DW_AT_bit_offset" in ca:
                    # DWARF 2/3 big-endian-style numbering from the storage unit's MSB.
                    unit = int(ca["DW_AT_byte_size"].value) if "DW_AT_byte_size" in ca else 4
                    bit_offset = (
                        8 * offset + unit * 8 - int(ca["DW_AT_bit_offset"].value) - bit_size
                    )
                else:
                    bit_offset = 8 * offset
                offset = bit_offset // 8
            members.append(Member(_name(c), self.type_of(c), offset, bit_size, bit_offset))
        object.__setattr__(t, "members", tuple(members))
        return t


def _uleb_list(v: list[int]) -> int:
    result = shift = 0
    for b in v:
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    return result


def _name(die: DIE) -> str | None:
    attr = die.attributes.get("DW_AT_name")
    if attr is None or not isinstance(attr.value, bytes):
        return None
    return attr.value.decode("utf-8", "replace")
