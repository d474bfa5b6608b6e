"""Source-level debug information: DWARF of a Wasm module, read with pyelftools.

Start from :class:`DebugInfo` (or :func:`load_debug_info`, which returns a
note instead of raising when DWARF is absent or broken)::

    info, note = load_debug_info(module_def)          # note: why not, if info is None
    match = info.lines_for("types.c", 42)             # every is_stmt pc of the line
    pcs = info.breakpoint_pcs(match)                  # one per function / inlined copy
    f = info.function_named("main"); f.breakpoint_pc  # after the prologue
    loc = info.location_of(pc)                        # file, line, column, inline chain
    for v in info.variables_at(pc): v.location_at(pc) # WasmLocal(2), Memory(12, FRAME_BASE) ...

    info.type_named("struct point", pc)               # a C type (types.CType)

Submodules: ``sections`` (framing, the address map, :class:`DwarfError`),
``lines`` (line tables), ``dies`` (a fast skim of top-level DIEs),
``scopes`` (functions, inlining, variables), ``locations`` (where a
variable lives), ``types`` (C types and their spelling).  C *values* and
the C-expression evaluator live one layer up, in ``wasmdbg.debug.values``
and ``wasmdbg.debug.expr``: this package owns the facts, not the values.

This package imports only ``wasmdbg.wasm``, ``wasmdbg.errors`` and pyelftools.
"""

from .info import DebugInfo, LineMatch, SourceLocation, Unit, load_debug_info
from .lines import LineRow, file_matches
from .scopes import Function, InlineFrame, LocationRange, Scope, ScopeKind, Variable
from .sections import AddressMap, DwarfError

__all__ = [
    "AddressMap",
    "DebugInfo",
    "DwarfError",
    "Function",
    "InlineFrame",
    "LineMatch",
    "LineRow",
    "LocationRange",
    "Scope",
    "ScopeKind",
    "SourceLocation",
    "Unit",
    "Variable",
    "file_matches",
    "load_debug_info",
]
