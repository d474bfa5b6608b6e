"""``DebugInfo``: the source-level view of one module, parsed lazily.

This is the facade the debugger uses.  Opening costs a pass over the
compile-unit headers and their top DIEs; everything else is parsed when a
query first needs it, one unit (or one function) at a time, and cached::

    DebugInfo(module)
      Unit: header + top DIE (name, comp_dir)           at open
        file table (line-program header)                on the first query by file
        line table (lines.decode_line_program)          on the first line query
                                                        that needs the unit's rows
        code ranges (DW_AT_ranges)                      on the first query by pc
        top-level entries (dies.skim_top_level:         on the first function,
          offsets, tags, low pcs)                       global or type query
          one Function (pyelftools parses its DIE)      when a pc or name needs it
            its scope tree (inlined calls, blocks,      when scopes, variables
            variables, types)                           or inline chains are asked

Queries: :meth:`DebugInfo.lines_for`, :meth:`DebugInfo.breakpoint_pcs`,
:meth:`DebugInfo.function_named`, :meth:`DebugInfo.function_at`,
:meth:`DebugInfo.location_of`, :meth:`DebugInfo.line_at`,
:meth:`DebugInfo.line_rows`, :meth:`DebugInfo.scopes_at`,
:meth:`DebugInfo.variables_at`, :meth:`DebugInfo.lookup_variable`,
:meth:`DebugInfo.type_named`, :meth:`DebugInfo.enumerator`.  Every pc they
take or return is a module pc.

Broken DWARF never escapes as a pyelftools or Python error: opening raises
:class:`DwarfError`; a query that meets broken data raises it too (see
:func:`guarded`), and :func:`load_debug_info` turns "absent or unreadable"
into ``None`` plus a note for the user.
"""

from __future__ import annotations

import bisect
import functools
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from elftools.dwarf.compileunit import CompileUnit
from elftools.dwarf.die import DIE
from elftools.dwarf.dwarfinfo import DWARFInfo
from elftools.dwarf.ranges import BaseAddressEntry, RangeEntry

from ..wasm.module import FunctionBody, ModuleDef
from .dies import skim_top_level
from .lines import LineRow, LineTable, decode_line_program, file_matches
from .scopes import (
    Function,
    InlineFrame,
    Scope,
    ScopeKind,
    Variable,
    build_function,
    build_variable,
)
from .sections import AddressMap, DwarfError, open_dwarf
from .types import CType, TypeReader

__all__ = [
    "DebugInfo",
    "LineMatch",
    "SourceLocation",
    "Unit",
    "guarded",
    "load_debug_info",
]

P = ParamSpec("P")
R = TypeVar("R")


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn any failure inside pyelftools into :class:`DwarfError`.

    NB: pyelftools signals malformed input with many exception types
    (its own DWARFError and ELFParseError, construct's errors, KeyError,
    IndexError, struct.error, UnicodeDecodeError ...); DWARF comes from the
    untrusted module, so every query boundary converts them all.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DwarfError:
            raise
        except RecursionError:
            raise DwarfError("DWARF too deeply nested (or cyclic)") from None
        except Exception as e:
            raise DwarfError(f"broken DWARF: {type(e).__name__}: {e}") from None

    return wrapper


@dataclass(frozen=True, slots=True)
class LineMatch:
    """The code of one source line: what ``break FILE:LINE`` resolves to.

    ``line`` is the line that has code (``requested`` slid forward to it
    when the requested line has none); ``files`` the matching paths;
    ``pcs`` every ``is_stmt`` pc of that line, in every function and inlined
    copy, in pc order.
    """

    files: tuple[str, ...]
    requested: int
    line: int
    pcs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a pc is in the source.

    ``file``/``line``/``column`` come from the line table.  ``function`` is
    the innermost function *instance* (an inlined function's name when the
    pc is in an inlined copy); ``inline_chain`` lists the inlined calls that
    contain the pc, innermost first, each with the call site in its caller.
    """

    pc: int
    file: str
    line: int
    column: int
    function: str | None
    inline_chain: tuple[InlineFrame, ...]


class Unit:
    """One compile unit: header data read at open, the rest cached on demand.

    ``cu`` is pyelftools' CompileUnit, ``top`` its unit DIE.
    """

    def __init__(self, info: DebugInfo, cu: CompileUnit) -> None:
        self.info = info
        self.cu = cu
        top = cu.get_top_DIE()
        self.top = top
        self.name = _str_attr(top, "DW_AT_name") or "<unknown>"
        self.comp_dir = _str_attr(top, "DW_AT_comp_dir") or ""
        self._ranges: list[tuple[int, int]] | None = None
        self._lines: LineTable | None = None
        self._functions: list[Function] | None = None
        self._file_names: list[str] | None = None
        self._top_level: list[tuple[int, str, int | None]] | None = None
        self._function_cache: dict[int, Function | None] = {}
        self._starts: list[tuple[int, int]] | None = None
        self._named_types: dict[str, int] | None = None
        self._enumerators: dict[str, tuple[int, int]] = {}
        self.types = TypeReader(cu)
        low = top.attributes.get("DW_AT_low_pc")
        self.base_address = int(low.value) if low is not None else 0
        self._globals: list[Variable] | None = None

    def addrx(self, index: int) -> int:
        """Entry ``index`` of the unit's ``.debug_addr`` table (DW_OP_addrx)."""
        return int(self.info.dwarf.get_addr(self.cu, index))

    @property
    def globals(self) -> list[Variable]:
        """The unit's file-scope variables (globals and statics)."""
        if self._globals is None:
            out = []
            for offset, tag, _low in self.top_level:
                if tag == "DW_TAG_variable":
                    v = build_variable(self.info, self, self.cu.get_DIE_from_refaddr(offset))
                    if v is not None and v.location is not None:
                        out.append(v)
            self._globals = out
        return self._globals

    @property
    def file_names(self) -> list[str]:
        """The unit's line-table file paths (header only, no rows decoded)."""
        if self._file_names is None:
            self._file_names = self.info.line_files(self.cu, self.comp_dir)
        return self._file_names

    @property
    def named_types(self) -> dict[str, int]:
        """C type name (``Point``, ``struct point``, ``int``) -> DIE offset, for the unit."""
        if self._named_types is None:
            index: dict[str, int] = {}
            self._enumerators = {}
            for offset, tag, _low in self.top_level:
                prefix = _TYPE_TAGS.get(tag)
                if prefix is None:
                    continue
                die = self.cu.get_DIE_from_refaddr(offset)
                if die.attributes.get("DW_AT_declaration"):
                    continue
                name = _str_attr(die, "DW_AT_name")
                if name is not None:
                    index.setdefault(prefix + name, offset)
                if tag == "DW_TAG_enumeration_type":
                    for c in die.iter_children():
                        n = _str_attr(c, "DW_AT_name")
                        if c.tag == "DW_TAG_enumerator" and n is not None:
                            self._enumerators.setdefault(
                                n, (offset, int(c.attributes["DW_AT_const_value"].value))
                            )
            self._named_types = index
        return self._named_types

    @property
    def enumerators(self) -> dict[str, tuple[int, int]]:
        """Enumerator name -> (offset of its enum's DIE, value)."""
        self.named_types  # noqa: B018 - builds both indexes
        return self._enumerators

    def function_at_offset(self, offset: int) -> Function | None:
        """The function of the subprogram DIE at ``offset`` (built once)."""
        if offset not in self._function_cache:
            die = self.cu.get_DIE_from_refaddr(offset)
            self._function_cache[offset] = build_function(self.info, self, die)
        return self._function_cache[offset]

    def function_containing(self, pc: int) -> Function | None:
        """The function whose code contains ``pc``: by the skimmed low pcs
        when they are known (one DIE parsed), else by the full list."""
        if self._starts is None:
            starts = []
            for offset, tag, low in self.top_level:
                if tag == "DW_TAG_subprogram" and low is not None:
                    lo = self.info.amap.pc(low)
                    if lo is not None:
                        starts.append((lo, offset))
            starts.sort()
            self._starts = starts
        i = bisect.bisect_right(self._starts, (pc, 1 << 62)) - 1
        if i >= 0:
            f = self.function_at_offset(self._starts[i][1])
            if f is not None and f.contains(pc):
                return f
        for f in self.functions:  # DW_AT_ranges functions, odd abbreviations
            if f.contains(pc):
                return f
        return None

    @property
    def top_level(self) -> list[tuple[int, str, int | None]]:
        """``(offset, tag, low_pc)`` of the unit DIE's children (a fast skim, see ``dies``)."""
        if self._top_level is None:
            self._top_level = skim_top_level(
                self.cu, self.info.module.debug_sections()[".debug_info"]
            )
        return self._top_level

    @property
    def lines(self) -> LineTable:
        if self._lines is None:
            self._lines = self.info.decode_lines(self.cu, self.file_names, self.comp_dir)
        return self._lines

    @property
    def functions(self) -> list[Function]:
        """The unit's concrete functions (those with code), by low pc."""
        if self._functions is None:
            out: list[Function] = []
            for offset, tag, _low in self.top_level:
                if tag == "DW_TAG_subprogram":
                    f = self.function_at_offset(offset)
                    if f is not None:
                        out.append(f)
            out.sort(key=lambda f: f.low_pc)
            self._functions = out
        return self._functions

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The unit's code ranges (module pcs)."""
        if self._ranges is None:
            self._ranges = self.info.die_ranges(self.top, self.cu)
        return self._ranges

    def covers(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)


_TYPE_TAGS = {
    "DW_TAG_base_type": "",
    "DW_TAG_typedef": "",
    "DW_TAG_structure_type": "struct ",
    "DW_TAG_union_type": "union ",
    "DW_TAG_class_type": "class ",
    "DW_TAG_enumeration_type": "enum ",
}


def _str_attr(die: DIE, name: str) -> str | None:
    attr = die.attributes.get(name)
    if attr is None or not isinstance(attr.value, bytes):
        return None
    return attr.value.decode("utf-8", "replace")


class DebugInfo:
    """The DWARF of one module (see the module docstring).

    Raises :class:`DwarfError` when the module has no usable DWARF.
    """

    def __init__(self, module: ModuleDef) -> None:
        self.module = module
        self.amap = AddressMap.of(module)
        self._bodies: list[FunctionBody] = list(module.bodies)
        self._body_starts = [b.offset for b in self._bodies]
        self.dwarf: DWARFInfo = open_dwarf(module)
        self._by_name: dict[str, list[Function]] | None = None
        self.units: list[Unit] = self._open_units()
        if not self.units:
            raise DwarfError("no DWARF compile units")

    @guarded
    def _open_units(self) -> list[Unit]:
        return [Unit(self, cu) for cu in self.dwarf.iter_CUs()]

    # -- helpers used by the unit, scope and type readers ------------------

    def die_ranges(self, die: DIE, cu: CompileUnit) -> list[tuple[int, int]]:
        """The code ranges of ``die`` as module pcs ``[lo, hi)`` (tombstones dropped)."""
        attrs = die.attributes
        out: list[tuple[int, int]] = []
        if "DW_AT_ranges" in attrs:
            rl = self.dwarf.range_lists()
            if rl is None:
                raise DwarfError("DW_AT_ranges without a range-list section")
            base = _cu_base(cu)
            for e in rl.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu):
                if isinstance(e, BaseAddressEntry):
                    base = e.base_address
                elif isinstance(e, RangeEntry):
                    lo_a = e.begin_offset if e.is_absolute else base + e.begin_offset
                    hi_a = e.end_offset if e.is_absolute else base + e.end_offset
                    self._add_range(out, lo_a, hi_a)
        elif "DW_AT_low_pc" in attrs:
            lo_a = attrs["DW_AT_low_pc"].value
            if "DW_AT_high_pc" in attrs:
                hp = attrs["DW_AT_high_pc"]
                hi_a = hp.value if hp.form == "DW_FORM_addr" else lo_a + hp.value
                self._add_range(out, lo_a, hi_a)
        out.sort()
        return out

    def _add_range(self, out: list[tuple[int, int]], lo_a: int, hi_a: int) -> None:
        lo = self.amap.pc(lo_a)
        hi = self.amap.end_pc(hi_a)
        if lo is not None and hi is not None and hi > lo:
            out.append((lo, hi))

    def line_files(self, cu: CompileUnit, comp_dir: str) -> list[str]:
        """The file table of ``cu``'s line program, as paths, by DWARF file number."""
        lp = self.dwarf.line_program_for_CU(cu)
        if lp is None:
            return []
        h = lp.header
        version = int(h["version"])
        dirs = [d.decode("utf-8", "replace") for d in h["include_directory"]]
        files = [""] if version < 5 else []
        for entry in h["file_entry"]:
            name = entry["name"].decode("utf-8", "replace")
            d = int(entry["dir_index"])
            if version < 5:
                directory = "" if d == 0 else dirs[d - 1]
            else:
                directory = dirs[d] if d < len(dirs) else ""
                if d == 0 or directory == comp_dir:
                    directory = ""
            files.append(_join(directory, name))
        return files

    def decode_lines(self, cu: CompileUnit, files: list[str], comp_dir: str) -> LineTable:
        lp = self.dwarf.line_program_for_CU(cu)
        if lp is None:
            return LineTable(files, comp_dir, [], self.amap)
        data = self.module.debug_sections()[".debug_line"]
        rows = decode_line_program(
            data, lp.program_start_offset, lp.program_end_offset, lp.header, self.amap
        )
        return LineTable(files, comp_dir, rows, self.amap)

    def body_at(self, pc: int) -> FunctionBody | None:
        """The function body whose bytes (size field included) contain ``pc``."""
        i = bisect.bisect_right(self._body_starts, pc) - 1
        if i < 0:
            return None
        body = self._bodies[i]
        return body if pc < body.code_end else None

    # -- units -----------------------------------------------------------------

    def _unit_at(self, pc: int) -> Unit | None:
        for u in self.units:
            if u.covers(pc):
                return u
        return None

    def _units_with_file(self, query: str) -> Iterator[tuple[Unit, list[int]]]:
        for u in self.units:
            numbers = [i for i, p in enumerate(u.file_names) if p and file_matches(p, query)]
            if numbers:
                yield u, numbers

    # -- queries -----------------------------------------------------------------

    @guarded
    def source_files(self) -> list[str]:
        """Every source file named by a line table (sorted, deduplicated)."""
        return sorted({p for u in self.units for p in u.file_names if p})

    @guarded
    def lines_for(self, file: str, line: int) -> LineMatch | None:
        """Every ``is_stmt`` pc of ``file:line`` (``None``: no such file or no code after).

        A line without code slides forward to the next line that has some,
        as gdb does.
        """
        found = list(self._units_with_file(file))
        files = {u.file_names[n] for u, numbers in found for n in numbers}
        if not files:
            return None
        later = [ln for u, numbers in found for ln in u.lines.stmt_lines(numbers) if ln >= line]
        if not later:
            return None
        best = min(later)
        pcs = {pc for u, numbers in found for pc in u.lines.stmt_pcs(numbers, best)}
        return LineMatch(tuple(sorted(files)), line, best, tuple(sorted(pcs)))

    @guarded
    def breakpoint_pcs(self, match: LineMatch) -> tuple[int, ...]:
        """The pcs a breakpoint on ``match`` uses: the first of each function instance.

        A line's code may be split (a ``for`` header's test and increment);
        like gdb, stop once per visit: keep the lowest pc per innermost
        function instance (the function itself or one inlined copy).
        """
        seen: dict[object, int] = {}
        for pc in match.pcs:
            scope = self._instance_at(pc)
            key: object = scope if scope is not None else ("body", self.body_at(pc))
            if key not in seen:
                seen[key] = pc
        return tuple(sorted(seen.values()))

    def _instance_at(self, pc: int) -> Scope | None:
        f = self.function_at(pc)
        if f is None:
            return None
        chain = f.scope_chain(pc)
        for s in chain:
            if s.kind in (ScopeKind.INLINED, ScopeKind.FUNCTION):
                return s
        return None

    @guarded
    def line_at(self, pc: int) -> LineRow | None:
        """The line-table row covering ``pc``."""
        u = self._unit_at(pc)
        if u is not None:
            row = u.lines.row_at(pc)
            if row is not None:
                return row
        # NB: a unit's DW_AT_ranges may omit code its line table covers
        # (hand-written assembly, odd producers): fall back to every table.
        for other in self.units:
            if other is not u and other.covers(pc):
                row = other.lines.row_at(pc)
                if row is not None:
                    return row
        return None

    @guarded
    def function_at(self, pc: int) -> Function | None:
        """The concrete function whose code contains ``pc``."""
        u = self._unit_at(pc)
        return None if u is None else u.function_containing(pc)

    @guarded
    def function_named(self, name: str) -> Function | None:
        """The function called ``name`` (its :attr:`Function.breakpoint_pc` is where to stop).

        Looks first at the bodies the ``name`` section gives that name (one
        unit parsed), then at every unit.  With several (``static``)
        functions of that name, the first; see :meth:`functions_named`.
        """
        for body in self._bodies:
            if self.module.func_name(body.func_index) == name:
                f = self.function_at(body.code_start)
                if f is not None and f.name == name:
                    return f
        found = self.functions_named(name)
        return found[0] if found else None

    @guarded
    def functions_named(self, name: str) -> list[Function]:
        """Every concrete function called ``name``, by pc (parses every unit once)."""
        if self._by_name is None:
            index: dict[str, list[Function]] = {}
            for f in self.functions():
                index.setdefault(f.name, []).append(f)
            self._by_name = index
        return sorted(self._by_name.get(name, []), key=lambda f: f.low_pc)

    @guarded
    def line_rows(self, lo: int, hi: int) -> list[LineRow]:
        """The line-table rows with ``lo <= pc < hi`` (e.g. one function's, for
        stepping by line), in pc order."""
        out: list[LineRow] = []
        for u in self.units:
            if any(a < hi and lo < b for a, b in u.ranges):
                out.extend(u.lines.rows_between(lo, hi))
        out.sort(key=lambda r: r.pc)
        return out

    @guarded
    def functions(self) -> list[Function]:
        """Every concrete function of every unit (parses all units' DIEs)."""
        return [f for u in self.units for f in u.functions]

    @guarded
    def location_of(self, pc: int) -> SourceLocation | None:
        """File, line, column, function and inline chain of ``pc``."""
        row = self.line_at(pc)
        f = self.function_at(pc)
        chain: tuple[InlineFrame, ...] = ()
        name: str | None = None
        if f is not None:
            chain = f.inline_chain(pc)
            name = chain[0].function if chain else f.name
        if row is None and f is None:
            return None
        if row is None:
            return SourceLocation(pc, f.decl_file if f else "", 0, 0, name, chain)
        return SourceLocation(pc, row.file, row.line, row.column, name, chain)

    @guarded
    def scopes_at(self, pc: int) -> list[Scope]:
        """The scopes containing ``pc``, innermost first (empty outside known code).

        Each carries its variables (with locations); an inlined copy's scope
        ends the part of the chain that belongs to it.
        """
        f = self.function_at(pc)
        return [] if f is None else f.scope_chain(pc)

    @guarded
    def variables_at(self, pc: int) -> list[Variable]:
        """The variables visible at ``pc``, innermost first (shadowed ones dropped).

        Stops at the innermost function instance: an inlined function does
        not see its caller's locals.
        """
        seen: set[str] = set()
        out: list[Variable] = []
        for scope in self.scopes_at(pc):
            for v in scope.variables:
                if v.name not in seen:
                    seen.add(v.name)
                    out.append(v)
            if scope.kind in (ScopeKind.INLINED, ScopeKind.FUNCTION):
                break
        return out

    @guarded
    def lookup_variable(self, name: str, pc: int | None = None) -> Variable | None:
        """``name`` as C sees it at ``pc``: a visible local, else a file-scope
        variable of ``pc``'s unit, else any unit's (externals first)."""
        if pc is not None:
            for v in self.variables_at(pc):
                if v.name == name:
                    return v
            u = self._unit_at(pc)
            if u is not None:
                for v in u.globals:
                    if v.name == name:
                        return v
        for u in self.units:
            for v in u.globals:
                if v.name == name:
                    return v
        return None

    def _units_from(self, pc: int | None) -> list[Unit]:
        """The units to search for a name: ``pc``'s first, then the others."""
        first = self._unit_at(pc) if pc is not None else None
        return ([first] if first is not None else []) + [u for u in self.units if u is not first]

    @guarded
    def type_named(self, name: str, pc: int | None = None) -> CType | None:
        """The type called ``name`` (``Point``, ``struct point``, ``unsigned int``),
        preferring ``pc``'s unit."""
        key = " ".join(name.split())
        for u in self._units_from(pc):
            offset = u.named_types.get(key)
            if offset is not None:
                return u.types.read(u.cu.get_DIE_from_refaddr(offset))
        return None

    @guarded
    def enumerator(self, name: str, pc: int | None = None) -> tuple[CType, int] | None:
        """The enumeration constant ``name``: its enum type and value."""
        for u in self._units_from(pc):
            found = u.enumerators.get(name)
            if found is not None:
                return u.types.read(u.cu.get_DIE_from_refaddr(found[0])), found[1]
        return None

    @guarded
    def global_variables(self, pc: int | None = None) -> list[Variable]:
        """Every file-scope variable with a location, unit by unit; with ``pc``,
        only those of the compile unit holding ``pc`` (all if no unit does)."""
        unit = self._unit_at(pc) if pc is not None else None
        if unit is not None:
            return list(unit.globals)
        return [v for u in self.units for v in u.globals]


def _cu_base(cu: CompileUnit) -> int:
    top = cu.get_top_DIE()
    low = top.attributes.get("DW_AT_low_pc")
    return int(low.value) if low is not None else 0


def _join(directory: str, name: str) -> str:
    if not directory or posixpath.isabs(name):
        return posixpath.normpath(name)
    return posixpath.normpath(posixpath.join(directory, name))


def load_debug_info(module: ModuleDef) -> tuple[DebugInfo | None, str | None]:
    """``(DebugInfo, None)``, or ``(None, note)`` when the DWARF is absent or unreadable.

    The note is one line for the user, e.g. ``"no DWARF debug information
    (missing .debug_info ...); debugging at the Wasm level"``.
    """
    try:
        return DebugInfo(module), None
    except DwarfError as e:
        return None, f"{e}; debugging at the Wasm level"
