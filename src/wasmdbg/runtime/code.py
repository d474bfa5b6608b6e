"""Mapped module code: ``CodeObject`` and the per-Store ``CodeRegistry``.

A :class:`CodeObject` is one module's compiled code placed in code memory:
the :class:`~wasmdbg.jit.abi.CompiledModule` (functions, call and trap
sites, frame table), the :class:`~wasmdbg.runtime.codemem.CodeMemory` that
holds it, and its base address.  Site tables are keyed by offsets into the
module's code blob, so ``native pc - base`` looks them up.

Without guest debugging a Module maps its code once and every Store shares
it.  With ``Config.guest_debug`` each Store maps a private copy per Module
(``private = True``), so the debugger can patch one Store's code without
affecting another: ``store.code_objects[module]`` is the seam it uses.

:class:`CodeRegistry` answers "which code object and function holds this
native pc?" for stack walking (bisect over sorted base addresses).  A lazily
compiled module (``runtime.lazy``) adds a code object per function as it is
compiled, from any Store's thread: the registry keeps a *source* per such
module and takes in its new pieces whenever a lookup misses.

Debug code compiled with twins (``Config.debug_twins``) holds a NOP-free
twin of every function (after the debug versions, or in lazily compiled
code each after its own debug version); :meth:`CodeObject.debug_pc` maps a
twin return address to the debug version's, which every table is keyed by.
Lazily compiled debug code is one growing copy per Store
(``runtime.debuglayout.LayoutCode``): :meth:`CodeObject.refresh`,
:meth:`CodeObject.code_address` and :meth:`CodeObject.map_through` are the
seams it overrides or uses.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import DebugError, WasmError
from ..jit.abi import CompiledFunction, CompiledModule
from ..jit.frametable import FrameTable
from ..wasm.module import ModuleDef
from .codemem import CodeMemory

if TYPE_CHECKING:
    from .lazy import LazyCode
    from .module import Module

__all__ = ["CodeObject", "CodeRegistry"]


def _leb_len(raw: bytes, pos: int) -> int:
    n = 0
    while raw[pos + n] & 0x80:
        n += 1
    return n + 1


@dataclass(eq=False)
class CodeObject:
    """One module's machine code, mapped at :attr:`base`."""

    module: Module
    compiled: CompiledModule = field(repr=False)
    memory: CodeMemory
    private: bool
    _starts: list[int] = field(default_factory=list, repr=False)
    _funcs: list[CompiledFunction] = field(default_factory=list, repr=False)
    _body_starts: dict[int, int] = field(default_factory=dict, repr=False)
    _entries: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Take in functions added to :attr:`compiled` (lazily compiled debug code)."""
        funcs = sorted(self.compiled.functions, key=lambda f: f.start)
        self._funcs = funcs
        self._starts = [f.start for f in funcs]
        self._entries = {f.func_index: f.start for f in funcs}

    @property
    def base(self) -> int:
        """Address of the first byte of the code blob."""
        return self.memory.address

    @property
    def end(self) -> int:
        """One past the last byte of the code blob."""
        return self.memory.address + self.memory.size

    @property
    def definition(self) -> ModuleDef:
        """The decoded module."""
        return self.module.definition

    @property
    def debuggable(self) -> bool:
        """True for a Store's private copy of code compiled for debugging."""
        return self.private and self.compiled.guest_debug

    @property
    def frame_table(self) -> FrameTable:
        """The frame table (DebugError unless compiled for debugging)."""
        table = self.compiled.frame_table
        if not isinstance(table, FrameTable):
            raise DebugError(f"{self.module!r} has no frame table (not compiled for debugging)")
        return table

    @property
    def has_twins(self) -> bool:
        """True for debug code compiled with NOP-free twins (``Config.debug_twins``)."""
        return bool(self.compiled.twins)

    def entry_address(self, func_index: int) -> int:
        """Where calls of defined function ``func_index`` go (its funcref's code)."""
        start = self._entries.get(func_index)
        if start is None:
            raise WasmError(f"compiled code lacks function {func_index}")
        return self.memory.address + start

    def code_address(self, func_index: int) -> int:
        """The native code of defined function ``func_index`` (see ``runtime.debuglayout``
        for code that compiles and maps it now)."""
        return self.entry_address(func_index)

    def map_through(self, offset: int) -> None:
        """Make sure this copy holds native ``offset`` before it is patched (code
        mapped in one piece holds everything; see ``runtime.debuglayout``)."""

    def function_address(self, func: CompiledFunction) -> int:
        """Native entry address of a compiled function."""
        return self.memory.address + func.start

    def function_at(self, pc: int) -> CompiledFunction | None:
        """The compiled function containing native ``pc`` (or None)."""
        off = pc - self.memory.address
        i = bisect.bisect_right(self._starts, off) - 1
        if i < 0:
            return None
        func = self._funcs[i]
        return func if off < func.end else None

    def debug_pc(self, pc: int) -> int:
        """``pc`` itself, or for a return address into a twin (see ``jit.compiler``)
        the matching return address of the debug version.

        Frame tables and site tables are keyed by the debug version, so a
        stack walk maps every return address through here first.
        """
        moved = self.compiled.twin_returns.get(pc - self.memory.address)
        return pc if moved is None else self.memory.address + moved

    def fault_resume(self, pc: int) -> int | None:
        """For a twin's faulting access at native ``pc``: where the debug
        version checks the same access (``jit.masm_heap``), else ``None``."""
        at = self.compiled.twin_faults.get(pc - self.memory.address)
        return None if at is None else self.memory.address + at

    def in_twin(self, pc: int) -> bool:
        """True when native ``pc`` lies in twin code (the twin half of the blob)."""
        twins = self.compiled.twins
        return bool(twins) and self.memory.address + twins[0].start <= pc < self.end

    def wasm_pc_at(self, pc: int, func: CompiledFunction) -> int | None:
        """The Wasm pc of a native return address or trap site, if recorded."""
        off = pc - self.memory.address
        wpc = func.call_sites.get(off)
        if wpc is None:
            wpc = func.trap_sites.get(off)
        return wpc

    def body_start(self, func_index: int) -> int:
        """Module offset of a function body's first byte after its size field."""
        start = self._body_starts.get(func_index)
        if start is None:
            mod = self.definition
            body = mod.body(func_index)
            start = body.offset + _leb_len(mod.raw, body.offset)
            self._body_starts[func_index] = start
        return start


class CodeRegistry:
    """The code objects a Store runs, searchable by native address."""

    def __init__(self) -> None:
        self._bases: list[int] = []
        self._objects: list[CodeObject] = []
        # lazily compiled modules, and how many of each one's pieces are registered
        self._sources: list[LazyCode] = []
        self._seen: list[int] = []

    def add(self, code: CodeObject) -> None:
        """Register ``code`` (idempotent)."""
        if code in self._objects:
            return
        i = bisect.bisect_left(self._bases, code.base)
        self._bases.insert(i, code.base)
        self._objects.insert(i, code)

    def add_source(self, source: LazyCode) -> None:
        """Follow a lazily compiled module: its pieces are registered as they appear."""
        if not any(s is source for s in self._sources):
            self._sources.append(source)
            self._seen.append(0)

    def _take_pieces(self) -> bool:
        """Register the pieces compiled since the last look; True if there were any."""
        grew = False
        for i, source in enumerate(self._sources):
            pieces = source.pieces
            n = len(pieces)  # NB: pieces is only ever appended to
            if n > self._seen[i]:
                for piece in pieces[self._seen[i] : n]:
                    self.add(piece)
                self._seen[i] = n
                grew = True
        return grew

    def lookup(self, pc: int) -> CodeObject | None:
        """The code object whose blob contains ``pc``."""
        code = self._find(pc)
        if code is None and self._sources and self._take_pieces():
            code = self._find(pc)
        return code

    def _find(self, pc: int) -> CodeObject | None:
        i = bisect.bisect_right(self._bases, pc) - 1
        if i < 0:
            return None
        code = self._objects[i]
        return code if pc < code.end else None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._objects))

    def __len__(self) -> int:
        return len(self._objects)
