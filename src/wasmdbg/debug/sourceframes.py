"""Source frames over DWARF, and the C values a source frame sees.

A Wasm frame is one or more :class:`SourceFrame` (the concrete function and
one per inlined call containing the pc); :class:`CFrameContext` is what the
C expression evaluator (``debug.expr``) reads variables, registers and
memory through in one of them; :func:`source_position` names a pc's source
line for reports outside the debugger (``wasmdbg run``'s traps).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..dwarf import load_debug_info
from ..dwarf.locations import PlaceKind
from ..dwarf.locations import resolve as resolve_location
from ..dwarf.types import VOID, BaseType, CType, EnumType, FunctionType, strip_typedefs
from ..errors import DebugError, WasmError
from . import values as cv
from .wasmvalues import (
    MEMTYPES,
    VALTYPE_MEM,
    ListPlace,
    Place,
    WasmValue,
    read_memory,
    wrap,
    write_memory,
)

if TYPE_CHECKING:
    from .source import SourceDebugger

__all__ = [
    "CFrameContext",
    "SourceFrame",
    "file_match",
    "source_frames",
    "source_position",
    "wasm_to_c",
    "wasm_to_cvalue",
]


# --------------------------------------------------------------------------
# Source level: frames over DWARF
#
# One Wasm frame is one or more source frames: the concrete function, and
# above it one frame per inlined call that contains the pc (innermost
# first), as gdb shows them::
#
#     Wasm frame (pc in process, inside smooth's copy, inside clamp's copy)
#       -> #0 clamp   at inline.c:17      (line of pc)        inline depth 2
#          #1 smooth  at inline.c:32      (clamp's call site)  inline depth 1
#          #2 process at inline.c:40      (smooth's call site) inline depth 0


@dataclass(frozen=True)
class SourceFrame:
    """A frame as a C programmer sees it.

    ``wasm`` is the Wasm frame it lives in; ``function`` the DWARF function
    (``None`` without line information); ``depth`` the inline depth (0 for
    the concrete function); ``scopes`` the scopes whose variables it sees,
    innermost first; ``file``/``line`` where it is (for an outer frame of an
    inlined call, the call site); ``at_line_start`` whether the pc starts
    that line's code.
    """

    wasm: Any
    function: Any
    name: str
    depth: int
    scopes: tuple[Any, ...]
    file: str | None
    line: int
    at_line_start: bool

    @property
    def pc(self) -> int:
        """The Wasm pc of the frame."""
        return int(self.wasm.pc)

    @property
    def has_source(self) -> bool:
        """True when the frame has a file and line."""
        return self.file is not None and self.line > 0

    def variables(self) -> list[Any]:
        """The variables visible in this frame, innermost scope first (shadowed ones dropped)."""
        seen: set[str] = set()
        out = []
        for scope in self.scopes:
            for v in scope.variables:
                if v.name not in seen:
                    seen.add(v.name)
                    out.append(v)
        return out

    def parameters(self) -> list[Any]:
        """The parameters of this frame's function (or inlined copy)."""
        return list(self.scopes[-1].parameters) if self.scopes else []


def source_frames(
    info: Any, frame: Any, *, innermost: bool, names: Callable[[int], str] | None = None
) -> list[SourceFrame]:
    """The source frames of one Wasm frame (innermost first).

    ``innermost`` is true for the Wasm frame that is executing; a caller's
    pc is its call instruction, so its line is the call's line.
    """
    pc = int(frame.pc)
    func = info.function_at(pc) if info is not None else None
    if func is None:
        name = names(frame.func_index) if names is not None else None
        name = name or getattr(frame, "func_name", None) or f"func[{frame.func_index}]"
        return [SourceFrame(frame, None, name, 0, (), None, 0, False)]
    row = info.line_at(pc)
    chain = list(func.scope_chain(pc))
    segments: list[list[Any]] = [[]]
    for scope in chain:
        segments[-1].append(scope)
        if int(scope.kind) == 1:  # ScopeKind.INLINED ends its frame's scopes
            segments.append([])
    segments = [s for s in segments if s]
    out = []
    file = row.file if row is not None else None
    line = row.line if row is not None else 0
    start = row is not None and row.pc == pc and row.is_stmt and innermost
    for k, scopes in enumerate(segments):
        top = scopes[-1]
        name = (top.name or func.name) if int(top.kind) == 1 else func.name
        out.append(SourceFrame(frame, func, name, len(segments) - 1 - k, tuple(scopes), file, line, start))
        if int(top.kind) == 1:
            file, line, start = top.call_file or file, top.call_line, False
    return out


class _Reader:
    """The dwarf FrameReader over a paused Wasm frame."""

    def __init__(self, frame: Any, globals_: Callable[[], list[Any]]) -> None:
        self.frame = frame
        self._globals = globals_

    def read_local(self, index: int) -> int:
        return _bits(self.frame.locals[index])

    def read_global(self, index: int) -> int:
        return _bits(self._globals()[index])

    def read_stack(self, index: int) -> int:
        return _bits(self.frame.stack[index])

    def read_memory(self, address: int, size: int) -> bytes:
        view = getattr(self.frame, "memory", None)
        if view is None:
            raise DebugError("the module has no linear memory")
        return read_memory(view, address, size)


class _Static:
    """The FrameReader before the program runs: static memory only."""

    def __init__(self, ctx: CFrameContext) -> None:
        self.ctx = ctx

    def read_local(self, index: int) -> int:
        raise DebugError("No frame selected.")

    read_global = read_stack = read_local

    def read_memory(self, address: int, size: int) -> bytes:
        return self.ctx.read_memory(address, size)


def _bits(value: int | float) -> int:
    if isinstance(value, float):
        return int.from_bytes(struct.pack("<d", value), "little")
    return int(value) & ((1 << 64) - 1)


# --------------------------------------------------------------------------
# C values of a source frame

_MTYPE_C = {"i8": "char", "u8": "unsigned char", "i16": "short", "u16": "unsigned short",
            "i32": "int", "u32": "unsigned int", "i64": "long long", "u64": "unsigned long long",
            "f32": "float", "f64": "double"}


def wasm_to_cvalue(value: WasmValue) -> cv.CValue:
    """A Wasm-level value as the C value of the matching base type."""
    ctype = cv.BASE_TYPES[_MTYPE_C[value.mtype]]
    out = cv.value_of(ctype, value.value)
    place = value.place
    if place is None:
        return out
    size = value.size
    is_float = value.is_float
    code = MEMTYPES[value.mtype][0]

    def write(data: bytes) -> None:
        number = struct.unpack("<" + code, data[:size].ljust(size, b"\0"))[0]
        place.write(float(number) if is_float else int(number))

    return cv.CValue(ctype, out.data, None, write)


def wasm_to_c(value: WasmValue, ctype: CType) -> cv.CValue:
    """A Wasm result (i32/i64/f32/f64) as a value of C type ``ctype``."""
    core = strip_typedefs(ctype)
    if isinstance(core, BaseType) and core.is_float:
        return cv.value_of(ctype, float(value.value))
    number = int(value.value)
    size = max(core.size, 1)
    return cv.CValue(ctype, (number & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


class CFrameContext:
    """:class:`~wasmdbg.debug.values.Context` for one source frame (or none: globals only)."""

    def __init__(self, dbg: SourceDebugger, sframe: SourceFrame | None) -> None:
        self.dbg = dbg
        self.sframe = sframe
        self.wasm = sframe.wasm if sframe is not None else None

    def _view(self) -> memoryview:
        frame = self.wasm
        if frame is None:
            frames = self.dbg.frames()
            frame = frames[0] if frames else None
        return self.dbg.memory_view(frame)

    def read_memory(self, address: int, size: int) -> bytes:
        return read_memory(self._view(), address, size)

    def write_memory(self, address: int, data: bytes) -> None:
        write_memory(self._view(), address, data)

    def lookup(self, name: str) -> cv.CValue | None:
        info = self.dbg.info
        if info is None:
            return None
        sframe = self.sframe
        if sframe is not None:
            for var in sframe.variables():
                if var.name == name:
                    return self.variable(var)
        try:
            var = info.lookup_variable(name, sframe.pc if sframe is not None else None)
        except WasmError:
            var = next((v for v in self._safe_globals() if v.name == name), None)
        if var is not None and (sframe is None or var not in sframe.variables()):
            return self.variable(var)
        try:
            func = info.function_named(name)
        except WasmError:
            func = None
        if func is not None:
            ftype = FunctionType(self.dbg.return_type(func) or VOID, tuple(v.type for v in func.parameters))
            return cv.CValue(ftype, b"", func.func_index if func.func_index is not None else 0)
        for ctype in self.dbg.named_types().values():
            core = strip_typedefs(ctype)
            if isinstance(core, EnumType):
                for enumerator, number in core.enumerators:
                    if enumerator == name:
                        return cv.value_of(core, number)
        return None

    def _safe_globals(self) -> list[Any]:
        """Every unit's file-scope variables, skipping units whose DWARF cannot be read."""
        info = self.dbg.info
        out: list[Any] = []
        for unit in info.units if info is not None else []:
            try:
                out.extend(unit.globals)
            except WasmError:
                continue
        return out

    def variable(self, var: Any) -> cv.CValue:
        """The value of a DWARF variable in this frame."""
        sframe = self.sframe
        frame = self.wasm
        pc = sframe.pc if sframe is not None else 0
        loc = var.location_at(pc)
        frame_base = sframe.function.frame_base if sframe is not None and sframe.function is not None else None
        size = strip_typedefs(var.type).size
        if frame is None:
            frames = self.dbg.frames()
            frame = frames[0] if frames else None
        reader: Any = _Reader(frame, lambda: self.dbg.global_values(frame)) if frame is not None else _Static(self)
        try:
            place = resolve_location(loc, reader, frame_base)
        except WasmError as exc:
            raise DebugError(f"cannot read {var.name}: {exc}") from exc
        if place is None:
            return cv.CValue(var.type, b"", optimized_out=True)
        if isinstance(place, list):
            data = b""
            for piece, piece_size in place:
                data += self._place_bytes(piece, piece_size, frame, var.type)[0] if piece else b"\0" * piece_size
            return cv.CValue(var.type, data[:size].ljust(size, b"\0"))
        data, address, writer = self._place_bytes(place, size, frame, var.type)
        return cv.CValue(var.type, data, address, writer)

    def _place_bytes(
        self, place: Any, size: int, frame: Any, ctype: CType
    ) -> tuple[bytes, int | None, Callable[[bytes], None] | None]:
        kind = place.kind
        if kind == PlaceKind.MEMORY:
            return self.read_memory(place.where, size), place.where, None
        if kind == PlaceKind.VALUE:
            return (place.where & ((1 << (8 * size)) - 1)).to_bytes(size, "little"), None, None
        if kind == PlaceKind.LOCAL:
            values, index = frame.locals, place.where
        elif kind == PlaceKind.STACK:
            values, index = frame.stack, place.where
        else:
            glob = self.dbg.global_place(frame, place.where)
            number = glob.value
            return _number_bytes(number, size, ctype), None, _number_writer(glob.place, glob.mtype, ctype)
        types = values.types()
        if not 0 <= index < len(types):
            raise DebugError("the variable's Wasm location does not exist at this pc")
        mtype = VALTYPE_MEM[types[index]]
        return _number_bytes(values[index], size, ctype), None, _number_writer(ListPlace(values, index), mtype, ctype)

    def dollar(self, name: str) -> cv.CValue:
        body = name[1:]
        if body == "" or body.isdigit() or body.startswith("$"):
            value = self.dbg.history_value(body)
            return value if isinstance(value, cv.CValue) else wasm_to_cvalue(value)
        return wasm_to_cvalue(self.dbg.dollar_value(name, self.wasm))

    def find_type(self, words: tuple[str, ...]) -> CType | None:
        return self.dbg.named_types().get(words)

    def function_for_pointer(self, value: int) -> str | None:
        return self.dbg.function_for_table_index(value, self.wasm)


def _number_bytes(number: int | float, size: int, ctype: CType) -> bytes:
    core = strip_typedefs(ctype)
    if isinstance(core, BaseType) and core.is_float:
        return struct.pack("<f" if size == 4 else "<d", float(number))
    if isinstance(number, float):
        number = _bits(number)
    return (int(number) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def _number_writer(place: Place | None, mtype: str, ctype: CType) -> Callable[[bytes], None] | None:
    if place is None:
        return None
    core = strip_typedefs(ctype)
    is_c_float = isinstance(core, BaseType) and core.is_float

    def write(data: bytes) -> None:
        if is_c_float:
            number: int | float = struct.unpack("<f" if len(data) == 4 else "<d", data)[0]
        else:
            number = int.from_bytes(data, "little", signed=False)
            if MEMTYPES[mtype][2]:
                number = struct.unpack("<f" if mtype == "f32" else "<d", data.ljust(MEMTYPES[mtype][1], b"\0"))[0]
            else:
                number = wrap(number, mtype)
        place.write(number)

    return write


def file_match(path: str, query: str) -> bool:
    """Whether source ``path`` is what a user means by ``query`` (a file name or path tail)."""
    from ..dwarf import file_matches

    return bool(file_matches(path, query))


# --------------------------------------------------------------------------
# Source positions for reports outside the debugger (``wasmdbg run``'s traps)

_INFO_CACHE: dict[int, tuple[Any, Any]] = {}


def source_position(module: Any, pc: int) -> list[str]:
    """``FILE:LINE:COLUMN`` of module pc ``pc``, then the call sites of the inlined
    calls containing it (innermost first); empty without DWARF for that pc.

    ``module`` is a runtime Module (or anything with ``definition``); its
    DWARF is read once and kept.
    """
    mdef = getattr(module, "definition", None)
    if mdef is None:
        return []
    cached = _INFO_CACHE.get(id(mdef))
    if cached is None or cached[0] is not mdef:
        info, _note = load_debug_info(mdef)
        cached = _INFO_CACHE[id(mdef)] = (mdef, info)
    info = cached[1]
    if info is None:
        return []
    try:
        where = info.location_of(pc)
    except WasmError:
        return []
    if where is None or not where.line:
        return []
    out = [f"{where.file}:{where.line}:{where.column}"]
    for frame in where.inline_chain:
        out.append(f"{frame.call_file}:{frame.call_line}:{frame.call_column} (inlined into {frame.caller})")
    return out
