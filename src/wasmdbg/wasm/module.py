"""``ModuleDef``: the decoded, immutable description of a Wasm module.

The decoder (``wasm.decoder``) builds one from bytes; the validator checks it;
the compiler and runtime read it.  Nothing here executes anything.

Index spaces follow the specification: imported functions, tables, memories
and globals come first, then the module's own definitions.  Function bodies
are *not* decoded into instruction objects here; a :class:`FunctionBody`
records where its instructions lie in ``ModuleDef.raw`` and
``wasm.code.iter_instructions`` walks them on demand, yielding each
instruction with its module-relative byte offset (the pc used by the
debugger, DWARF and LLDB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .types import ExternKind, FuncType, GlobalType, MemoryType, TableType, ValType

__all__ = [
    "ConstExpr",
    "CustomSection",
    "DataSegment",
    "ElemSegment",
    "Export",
    "FunctionBody",
    "GlobalDef",
    "Import",
    "ModuleDef",
    "NameSection",
    "SegmentMode",
]


@dataclass(frozen=True, slots=True)
class Import:
    """One import; ``desc`` is a type index for functions, else the extern type."""

    module: str
    name: str
    kind: ExternKind
    desc: int | TableType | MemoryType | GlobalType
    offset: int


@dataclass(frozen=True, slots=True)
class Export:
    """One export: a name for the ``index``-th item of kind ``kind``."""

    name: str
    kind: ExternKind
    index: int


@dataclass(frozen=True, slots=True)
class ConstExpr:
    """A constant expression: its instructions (without the final ``end``).

    ``instrs`` holds ``(opcode, immediate)`` pairs as in ``wasm.opcodes``;
    ``offset`` is where the expression starts in the module.
    """

    instrs: tuple[tuple[int, object], ...]
    offset: int


@dataclass(frozen=True, slots=True)
class GlobalDef:
    """A global defined by the module."""

    type: GlobalType
    init: ConstExpr


class SegmentMode(IntEnum):
    """How an element or data segment is used."""

    ACTIVE = 0
    PASSIVE = 1
    DECLARATIVE = 2


@dataclass(frozen=True, slots=True)
class ElemSegment:
    """An element segment (any of the eight binary forms).

    Function-index forms are normalised: each entry becomes a ``ConstExpr``
    holding one ``ref.func``.
    """

    mode: SegmentMode
    elem_type: ValType
    init: tuple[ConstExpr, ...]
    table: int = 0
    offset_expr: ConstExpr | None = None
    offset: int = 0  # where the segment starts in the module


@dataclass(frozen=True, slots=True)
class DataSegment:
    """A data segment."""

    mode: SegmentMode
    data: bytes
    memory: int = 0
    offset_expr: ConstExpr | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class FunctionBody:
    """Where one function's code lies in the module bytes.

    ``locals`` lists the declared locals (parameters excluded) expanded one
    entry per local.  Instructions occupy ``raw[code_start:code_end]``;
    the last instruction is the function's final ``end``.
    """

    func_index: int  # in the function index space (imports included)
    type_index: int
    locals: tuple[ValType, ...]
    offset: int  # start of the body entry (its size field)
    code_start: int
    code_end: int


@dataclass(frozen=True, slots=True)
class CustomSection:
    """A custom section, kept verbatim with the offset of its payload."""

    name: str
    data: bytes
    offset: int


@dataclass(slots=True)
class NameSection:
    """The decoded ``name`` custom section (names that are absent are missing)."""

    module: str | None = None
    functions: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)


@dataclass(slots=True)
class ModuleDef:
    """Everything the binary says, in index-space order."""

    raw: bytes
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    func_type_indices: list[int] = field(default_factory=list)  # all funcs, imports first
    tables: list[TableType] = field(default_factory=list)  # imports first
    memories: list[MemoryType] = field(default_factory=list)  # imports first
    globals: list[GlobalType] = field(default_factory=list)  # imports first
    global_defs: list[GlobalDef] = field(default_factory=list)  # defined globals only
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    elems: list[ElemSegment] = field(default_factory=list)
    datas: list[DataSegment] = field(default_factory=list)
    data_count: int | None = None
    bodies: list[FunctionBody] = field(default_factory=list)  # defined funcs only
    customs: list[CustomSection] = field(default_factory=list)
    names: NameSection = field(default_factory=NameSection)
    num_imported_funcs: int = 0
    num_imported_tables: int = 0
    num_imported_memories: int = 0
    num_imported_globals: int = 0
    # Where the Code section's payload (its function count) starts in ``raw``:
    # DWARF code addresses are relative to it.  0 when there is no Code section.
    code_offset: int = 0

    def func_type(self, func_index: int) -> FuncType:
        """The signature of function ``func_index`` (imports included)."""
        return self.types[self.func_type_indices[func_index]]

    def body(self, func_index: int) -> FunctionBody:
        """The body of a defined (not imported) function."""
        return self.bodies[func_index - self.num_imported_funcs]

    def func_name(self, func_index: int) -> str | None:
        """The function's name from the name section, if any."""
        return self.names.functions.get(func_index)

    def debug_sections(self) -> dict[str, bytes]:
        """The ``.debug_*`` custom sections by name, for DWARF."""
        return {c.name: c.data for c in self.customs if c.name.startswith(".debug_")}
