"""Source-level debug information: DWARF of a Wasm module, read with pyelftools.

Start from :class:`DebugInfo` (or :func:`load_debug_info`, which returns a
note instead of raising when DWARF is absent or broken)::

    info, note = load_debug_info(module_def)          # note: why not, if info is None
    match = info.lines_for("types.c", 42)             # every is_stmt pc of the line
    pcs = info.breakpoint_pcs(match)                  # one per function / inlined copy
    f = info.function_named("main"); f.breakpoint_pc  # after the prologue
    loc = info.location_of(pc)                        # file, line, column, inline chain
    for v in info.variables_at(pc): v.location_at(pc) # WasmLocal(2), Memory(12, FRAME_BASE) ...

    from wasmdbg.dwarf.cexpr import DebugContext, evaluate
    from wasmdbg.dwarf.cvalue import format_value
    ctx = DebugContext(info, pc, target)              # target: cvalue.Target over a frame
    format_value(evaluate("p->next->value + 1", ctx), target)

Submodules: ``sections`` (framing, the address map, :class:`DwarfError`),
``lines`` (line tables), ``dies`` (a fast skim of top-level DIEs),
``scopes`` (functions, inlining, variables), ``locations`` (where a
variable lives), ``types`` (C types and their spelling), ``cvalue`` (C
values on an abstract target, gdb's print format), ``cexpr`` (the
C-expression evaluator).

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
