"""Source-level debug information: DWARF of a Wasm module, read with pyelftools.

Start from :class:`DebugInfo` (or :func:`load_debug_info`, which returns a
note instead of raising when DWARF is absent or broken).  Submodules:
``sections`` (framing, the address map, :class:`DwarfError`), ``lines``
(line tables), ``scopes`` (functions, inlining, variables), ``locations``
(where a variable lives), ``types`` (C types and their spelling).

This package imports only ``wasmdbg.wasm``, ``wasmdbg.errors`` and pyelftools.
"""

from .info import DebugInfo, LineMatch, SourceLocation, load_debug_info
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
    "Variable",
    "file_matches",
    "load_debug_info",
]
