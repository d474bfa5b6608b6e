"""Functions, their scope trees and their variables, from DIEs.

A concrete function (a ``DW_TAG_subprogram`` with code) is indexed cheaply
(name, ranges, frame base); its scope tree is built the first time it is
asked for::

    Scope FUNCTION  main            [lo, hi)   params + locals
      Scope BLOCK                   [lo, hi)   locals of a { ... }
      Scope INLINED smooth          ranges     call site inline.c:40:21
        Scope INLINED clamp         ranges     call site inline.c:33:12

Names, types and declaration lines of inlined copies and of out-of-line
instances come from their ``DW_AT_abstract_origin`` (or
``DW_AT_specification``).  A variable's location is either one
:mod:`~wasmdbg.dwarf.locations` shape for the whole scope or a location
list of pc ranges; :meth:`Variable.location_at` gives
:data:`~wasmdbg.dwarf.locations.OPTIMIZED_OUT` where no entry covers the pc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from elftools.dwarf.die import DIE
from elftools.dwarf.locationlists import BaseAddressEntry, LocationEntry

from .locations import OPTIMIZED_OUT, ImplicitValue, Location, parse_location
from .sections import DwarfError
from .types import CType, UnknownType

if TYPE_CHECKING:
    from .info import DebugInfo, Unit

__all__ = [
    "Function",
    "InlineFrame",
    "LocationRange",
    "Scope",
    "ScopeKind",
    "Variable",
    "build_function",
]


class ScopeKind(IntEnum):
    """What a :class:`Scope` is."""

    FUNCTION = 0
    INLINED = 1
    BLOCK = 2


@dataclass(frozen=True, slots=True)
class LocationRange:
    """One location-list entry: the variable is at ``location`` for pcs in ``[low, high)``."""

    low: int
    high: int
    location: Location


@dataclass(frozen=True, eq=False)
class Variable:
    """A parameter or local (or global) variable.

    ``location`` holds for the variable's whole scope; ``ranges`` is a
    location list instead (then ``location`` is None).
    """

    name: str
    type: CType
    is_parameter: bool
    decl_file: str
    decl_line: int
    location: Location | None
    ranges: tuple[LocationRange, ...] = ()

    def location_at(self, pc: int) -> Location:
        """Where the variable is at module pc ``pc``."""
        if self.location is not None:
            return self.location
        for r in self.ranges:
            if r.low <= pc < r.high:
                return r.location
        return OPTIMIZED_OUT


@dataclass(frozen=True, eq=False)
class Scope:
    """A function body, an inlined copy of a function, or a lexical block."""

    kind: ScopeKind
    name: str | None
    ranges: tuple[tuple[int, int], ...]
    variables: tuple[Variable, ...]
    children: tuple[Scope, ...]
    call_file: str = ""
    call_line: int = 0
    call_column: int = 0
    decl_file: str = ""
    decl_line: int = 0

    def contains(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)

    @property
    def parameters(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.is_parameter)


@dataclass(frozen=True, slots=True)
class InlineFrame:
    """One inlined call containing a pc: ``function`` was inlined into
    ``caller`` at ``call_file:call_line:call_column``."""

    function: str
    caller: str
    call_file: str
    call_line: int
    call_column: int
    scope: Scope


@dataclass(frozen=True, eq=False)
class Function:
    """A concrete function: where its code is and how to find its frame.

    ``entry_pc`` is its first instruction; :attr:`breakpoint_pc` the first
    pc after the prologue (where ``break NAME`` stops); ``frame_base`` the
    ``DW_AT_frame_base`` location (``DW_OP_fbreg`` is relative to it).
    """

    name: str
    low_pc: int
    high_pc: int
    ranges: tuple[tuple[int, int], ...]
    entry_pc: int
    func_index: int | None
    decl_file: str
    decl_line: int
    frame_base: Location | None
    external: bool
    die_offset: int
    _build_root: Callable[[], Scope] = field(repr=False)
    _find_prologue_end: Callable[[], int] = field(repr=False)
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False)

    def contains(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)

    @property
    def root(self) -> Scope:
        """The function's scope tree (built on first use)."""
        root = self._lazy.get("root")
        if root is None:
            root = self._lazy["root"] = self._build_root()
        return root

    @property
    def breakpoint_pc(self) -> int:
        """The first pc after the prologue (from the line table)."""
        pc = self._lazy.get("bp")
        if pc is None:
            pc = self._lazy["bp"] = self._find_prologue_end()
        return pc

    @property
    def parameters(self) -> tuple[Variable, ...]:
        return self.root.parameters

    def scope_chain(self, pc: int) -> list[Scope]:
        """The scopes containing ``pc``, innermost first (the function last)."""
        if not self.contains(pc):
            return []
        chain = [self.root]
        scope = self.root
        while True:
            for child in scope.children:
                if child.contains(pc):
                    chain.append(child)
                    scope = child
                    break
            else:
                break
        chain.reverse()
        return chain

    def inline_chain(self, pc: int) -> tuple[InlineFrame, ...]:
        """The inlined calls containing ``pc``, innermost first."""
        inlined = [s for s in self.scope_chain(pc) if s.kind == ScopeKind.INLINED]
        out = []
        for i, s in enumerate(inlined):
            caller = inlined[i + 1].name if i + 1 < len(inlined) else self.name
            out.append(
                InlineFrame(
                    s.name or "??", caller or "??", s.call_file, s.call_line, s.call_column, s
                )
            )
        return tuple(out)


# -- building ----------------------------------------------------------------------


def _origin(die: DIE) -> DIE | None:
    for attr in ("DW_AT_abstract_origin", "DW_AT_specification"):
        if attr in die.attributes:
            return die.get_DIE_from_attribute(attr)
    return None


def _attr(die: DIE, name: str) -> Any:
    """``die``'s attribute value, following abstract origins/specifications."""
    seen = 0
    d: DIE | None = die
    while d is not None and seen < 8:
        if name in d.attributes:
            return d.attributes[name].value
        d = _origin(d)
        seen += 1
    return None


def _origin_die_with(die: DIE, name: str) -> DIE:
    d: DIE | None = die
    for _ in range(8):
        if d is None:
            break
        if name in d.attributes:
            return d
        d = _origin(d)
    return die


def _name_of(die: DIE) -> str | None:
    v = _attr(die, "DW_AT_name")
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else None


def _file_of(unit: Unit, index: Any) -> str:
    if not isinstance(index, int):
        return ""
    names = unit.file_names
    return names[index] if 0 <= index < len(names) else ""


def build_function(info: DebugInfo, unit: Unit, die: DIE) -> Function | None:
    """Index a ``DW_TAG_subprogram``; ``None`` for one without code."""
    ranges = info.die_ranges(die, unit.cu)
    if not ranges:
        return None
    low, high = ranges[0][0], ranges[-1][1]
    body = info.body_at(low)
    entry = body.code_start if body is not None and body.code_start >= low else low
    fb_attr = die.attributes.get("DW_AT_frame_base")
    frame_base = (
        parse_location(fb_attr.value)
        if fb_attr is not None and isinstance(fb_attr.value, list)
        else None
    )
    name = _name_of(die) or (info.module.func_name(body.func_index) if body else None) or "??"
    ext = bool(_attr(die, "DW_AT_external"))

    def build_root() -> Scope:
        return _scope(info, unit, die, ScopeKind.FUNCTION, tuple(ranges))

    def prologue_end() -> int:
        rows = unit.lines.rows_between(low, ranges[0][1])
        for r in rows:
            if r.prologue_end and not r.end_sequence:
                return r.pc
        stmts = [r for r in rows if r.is_stmt and not r.end_sequence]
        if stmts:
            first = stmts[0]
            for r in stmts[1:]:
                if r.line != first.line and r.pc > first.pc:
                    return r.pc
        return entry

    return Function(
        name=name,
        low_pc=low,
        high_pc=high,
        ranges=tuple(ranges),
        entry_pc=entry,
        func_index=body.func_index if body is not None else None,
        decl_file=_file_of(unit, _attr(die, "DW_AT_decl_file")),
        decl_line=int(_attr(die, "DW_AT_decl_line") or 0),
        frame_base=frame_base,
        external=ext,
        die_offset=die.offset,
        _build_root=build_root,
        _find_prologue_end=prologue_end,
    )


def _scope(
    info: DebugInfo, unit: Unit, die: DIE, kind: ScopeKind, ranges: tuple[tuple[int, int], ...]
) -> Scope:
    variables: list[Variable] = []
    children: list[Scope] = []
    for c in die.iter_children():
        tag = c.tag
        if tag in ("DW_TAG_formal_parameter", "DW_TAG_variable"):
            v = build_variable(info, unit, c, default_ranges=ranges)
            if v is not None:
                variables.append(v)
        elif tag == "DW_TAG_lexical_block":
            r = tuple(info.die_ranges(c, unit.cu))
            if r:
                children.append(_scope(info, unit, c, ScopeKind.BLOCK, r))
            else:  # a block without code of its own: its contents belong here
                inner = _scope(info, unit, c, ScopeKind.BLOCK, ranges)
                variables.extend(inner.variables)
                children.extend(inner.children)
        elif tag == "DW_TAG_inlined_subroutine":
            r = tuple(info.die_ranges(c, unit.cu))
            if r:
                children.append(_scope(info, unit, c, ScopeKind.INLINED, r))
    a = die.attributes
    return Scope(
        kind=kind,
        name=_name_of(die) if kind != ScopeKind.BLOCK else None,
        ranges=ranges,
        variables=tuple(variables),
        children=tuple(children),
        call_file=_file_of(unit, a["DW_AT_call_file"].value) if "DW_AT_call_file" in a else "",
        call_line=int(a["DW_AT_call_line"].value) if "DW_AT_call_line" in a else 0,
        call_column=int(a["DW_AT_call_column"].value) if "DW_AT_call_column" in a else 0,
        decl_file=_file_of(unit, _attr(die, "DW_AT_decl_file")),
        decl_line=int(_attr(die, "DW_AT_decl_line") or 0),
    )


def build_variable(
    info: DebugInfo, unit: Unit, die: DIE, default_ranges: tuple[tuple[int, int], ...] = ()
) -> Variable | None:
    """A variable or parameter DIE as a :class:`Variable` (``None`` if unnamed)."""
    name = _name_of(die)
    if name is None:
        return None
    type_die = _origin_die_with(die, "DW_AT_type")
    ctype: CType
    try:
        ctype = unit.types.type_of(type_die)
    except DwarfError as e:  # one unreadable type must not hide the other variables
        ctype = UnknownType(str(e))
    a = die.attributes
    location: Location | None = OPTIMIZED_OUT
    ranges: tuple[LocationRange, ...] = ()
    if "DW_AT_location" in a:
        attr = a["DW_AT_location"]
        if attr.form == "DW_FORM_exprloc" or attr.form.startswith("DW_FORM_block"):
            location = parse_location(attr.value, unit.addrx)
        else:
            location = None
            ranges = _location_list(info, unit, die, attr.value)
    elif "DW_AT_const_value" in a and isinstance(a["DW_AT_const_value"].value, int):
        location = ImplicitValue(int(a["DW_AT_const_value"].value))
    return Variable(
        name=name,
        type=ctype,
        is_parameter=die.tag == "DW_TAG_formal_parameter",
        decl_file=_file_of(unit, _attr(die, "DW_AT_decl_file")),
        decl_line=int(_attr(die, "DW_AT_decl_line") or 0),
        location=location,
        ranges=ranges,
    )


def _location_list(info: DebugInfo, unit: Unit, die: DIE, offset: int) -> tuple[LocationRange, ...]:
    ll = info.dwarf.location_lists()
    if ll is None:
        return ()
    base = unit.base_address
    out: list[LocationRange] = []
    for e in ll.get_location_list_at_offset(offset, die):
        if isinstance(e, BaseAddressEntry):
            base = e.base_address
        elif isinstance(e, LocationEntry):
            lo_a = e.begin_offset if e.is_absolute else base + e.begin_offset
            hi_a = e.end_offset if e.is_absolute else base + e.end_offset
            lo, hi = info.amap.pc(lo_a), info.amap.end_pc(hi_a)
            if lo is not None and hi is not None and hi > lo:
                out.append(LocationRange(lo, hi, parse_location(e.loc_expr, unit.addrx)))
    return tuple(out)
