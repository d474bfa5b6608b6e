"""Lazily compiled guest-debug code: one layout per Module, one copy per Store.

With ``Config.guest_debug`` and ``Config.lazy_compilation`` a Module is
decoded and validated, and each function is compiled (debug version, twin,
frame-table rows) only when something needs it: its first call in any
Store, or a debugger question about one of its pcs (a breakpoint, a
disassembly).  What has been compiled is kept once per Module, as a
*layout*: the image every Store's private copy is a prefix of::

    offset 0     code table: 8 bytes per defined function (each Store's own
                 values: the function's entry once mapped there, else its stub)
    stubs_at     entry stubs (lazy_common, then fwd_k/lazy_k per function,
                 as in ``jit.abi``), reading the table rip-relative
    pieces       one per compiled function, in compile order, 64-aligned:
                   [debug version (entry switch first) + stubs][twin + stubs][trap routines]
    end          (grows)                          ... reserved up to ``size``

Every reference inside the image is relative (calls through the table are
``call [rip+disp32]`` to offset ``8*k``; a call to a function compiled
before the caller is ``nop; call rel32``), so the image means the same at
any address: :class:`DebugLayout` compiles each function once, at one
module-wide offset, and its tables (call and trap sites, frame-table rows,
twin maps) are keyed by those offsets in every Store.

A Store's copy (:class:`LayoutCode`, its ``CodeObject`` of the module) is
one code block of ``size`` bytes, of which the prefix ``[0, mapped)`` holds
the image.  Mapping copies the part of the image compiled since (other
Stores' functions too: a direct call's callee always comes first), points
the new functions' table slots at them, and tells the Store, whose debug
support then enables their sites while single-stepping::

    call of f, not mapped here ──► fwd_k: jmp [slot k] ──► lazy_k ──► libcall
        └─► LayoutCode.code_address(f): layout.ensure(f)   (module lock: compile once)
            code gate held: unpublish ; map [mapped, end) ; slots ; publish
    an edit patches a site past ``mapped`` (gate held, code unpublished):
        LayoutCode.map_through(offset) maps first

:class:`LayoutFrameTable` is the layout's frame table: the reader API of
:class:`~wasmdbg.jit.frametable.FrameTable` over the pieces' tables; a
question about a pc of a function not compiled yet compiles it.
(Questions about the whole module -- ``pcs``, ``functions``, iteration --
compile every function.)

NB: the block is reserved for the worst case (``size``: 32 bytes per byte
of function bodies plus 512 per function and a margin; the compiled code
measured 8-16 bytes per byte).  A module whose code outgrows it fails that
function's compile with :class:`~wasmdbg.runtime.codemem.CodeMemoryError`.
"""

from __future__ import annotations

import bisect
import ctypes
import struct
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ..jit.abi import LAZY_ENTRY, LAZY_STUB, CompiledModule
from ..jit.compiler import FuncCompiler
from ..jit.frametable import FrameTable, Site
from ..jit.stubs import compile_lazy_stubs
from .code import CodeObject
from .codemem import PAGE, CodeMemory, CodeMemoryError
from .debug.edit import fatal_republish

if TYPE_CHECKING:
    from .config import Config
    from .module import Module

__all__ = ["DebugLayout", "LayoutCode", "LayoutFrameTable"]

_pack_i32_into = struct.Struct("<i").pack_into
_ALIGN = 64
_BYTES_PER_BODY_BYTE = 32
_BYTES_PER_FUNCTION = 512
_MARGIN = 64 * 1024


def _align(n: int, to: int = _ALIGN) -> int:
    return (n + to - 1) // to * to


class DebugLayout:
    """One Module's guest-debug code compiled so far, and where it goes."""

    def __init__(self, module: Module, sig_ids: Sequence[int], config: Config) -> None:
        mdef = module.definition
        self.module = module
        self.first = first = mdef.num_imported_funcs
        self.count = count = len(mdef.func_type_indices) - first
        self._sig_ids = list(sig_ids)
        self._config = config
        #: every piece holds a twin after its debug version (``Config.debug_twins``)
        self.has_twins = config.debug_twins
        self.stubs_at = stubs_at = _align(8 * count, 16)
        stubs, start = compile_lazy_stubs(first, count, -stubs_at)
        #: the offset of function k's entry stub (``fwd_k``) is ``stub0 + LAZY_STUB*k``
        self.stub0 = stubs_at + start
        self.image = bytearray(stubs_at) + stubs
        code_bytes = sum(b.code_end - b.code_start for b in mdef.bodies)
        self.size = _align(
            len(self.image) + _BYTES_PER_BODY_BYTE * code_bytes + _BYTES_PER_FUNCTION * count + _MARGIN, PAGE
        )
        #: the compiled functions' tables, module-wide offsets (grows; shared by every Store)
        self.compiled = CompiledModule(b"", [], True, LayoutFrameTable(self))
        #: per compiled piece, in compile (= offset) order: its start and its frame table
        self.piece_starts: list[int] = []
        self.tables: list[FrameTable] = []
        self._piece_of = [-1] * count
        self._entry = [0] * count  # entry offset per function (0: not compiled)
        self._body_starts = [b.code_start for b in mdef.bodies]
        #: one past the image's last byte (set last when a piece is added)
        self.end = len(self.image)
        self._lock = threading.Lock()
        self._compiler: FuncCompiler | None = None

    # -- questions ----------------------------------------------------------------

    def entry_offset(self, func_index: int) -> int:
        """The offset of a compiled function's entry (0 when not compiled yet)."""
        return self._entry[func_index - self.first]

    def compiled_count(self) -> int:
        """How many functions have been compiled so far."""
        return len(self.piece_starts)

    def piece_at(self, offset: int) -> int:
        """The index of the piece holding native ``offset`` (-1: none)."""
        i = bisect.bisect_right(self.piece_starts, offset) - 1
        return i if i >= 0 and offset < self._piece_end(i) else -1

    def _piece_end(self, i: int) -> int:
        starts = self.piece_starts
        return starts[i + 1] if i + 1 < len(starts) else self.end

    def function_of_pc(self, pc: int) -> int | None:
        """The defined function whose body holds module offset ``pc`` (or the next one)."""
        i = bisect.bisect_right(self._body_starts, pc) - 1
        bodies = self.module.definition.bodies
        if i >= 0 and pc < bodies[i].code_end:
            return self.first + i
        return self.first + i + 1 if i + 1 < len(bodies) else None

    def table_of(self, func_index: int) -> FrameTable:
        """The frame table of one function (compiled now if need be)."""
        self.ensure(func_index)
        return self.tables[self._piece_of[func_index - self.first]]

    # -- compiling ------------------------------------------------------------------

    def ensure(self, func_index: int) -> int:
        """The entry offset of function ``func_index``, compiled now if need be."""
        k = func_index - self.first
        if not 0 <= k < self.count:
            raise IndexError(f"function {func_index} is not a defined function")
        entry = self._entry[k]
        if entry:
            return entry
        with self._lock:
            entry = self._entry[k]
            if not entry:
                entry = self._compile(func_index)
        return entry

    def compile_all(self) -> None:
        """Compile every function not compiled yet."""
        for k in range(self.count):
            self.ensure(self.first + k)

    def _compile(self, func_index: int) -> int:
        """Compile one function at the end of the layout (lock held)."""
        compiler = self._compiler
        if compiler is None:
            config = self._config
            compiler = self._compiler = FuncCompiler(
                self.module.definition,
                guest_debug=True,
                sig_ids=self._sig_ids,
                locals_in_registers=config.locals_in_registers,
                signals_based_traps=config.signals_based_traps,
                twins=config.debug_twins,
                lazy=True,
            )
        base = _align(self.end)
        piece, calls = compiler.compile_piece(self.module.definition.body(func_index), base)
        if base + len(piece.code) > self.size:
            raise CodeMemoryError(
                f"the debug code of {self.module!r} outgrew its {self.size}-byte reservation"
            )
        code = bytearray(piece.code)
        first = self.first
        entries = self._entry
        for at, callee in calls:
            target = entries[callee - first]
            if target:
                # compiled before this one: a direct call (nop; call rel32), the same
                # length and return address as the call through the table
                code[at - base - 2] = 0x90
                code[at - base - 1] = 0xE8
                _pack_i32_into(code, at - base, target - (at + 4))
            else:
                _pack_i32_into(code, at - base, 8 * (callee - first) - (at + 4))
        image = self.image
        image += bytes(base - len(image))
        image += code
        compiled = self.compiled
        compiled.functions.extend(piece.functions)
        compiled.twins.extend(piece.twins)
        compiled.twin_returns.update(piece.twin_returns)
        compiled.twin_faults.update(piece.twin_faults)
        table = piece.frame_table
        assert isinstance(table, FrameTable)
        self._piece_of[func_index - first] = len(self.tables)
        self.tables.append(table)
        self.piece_starts.append(base)
        self.end = len(image)  # NB: after the tables: a Store maps up to here
        entry = piece.functions[0].start
        entries[func_index - first] = entry
        return entry


class LayoutFrameTable(FrameTable):
    """A :class:`DebugLayout`'s frame table: the pieces' tables behind the reader API.

    NB: a subclass so that every reader of a frame table takes it; each
    public method is answered from the pieces (the base is left empty).
    """

    def __init__(self, layout: DebugLayout) -> None:
        super().__init__([array("q")] * 7, [()], [b""])
        self._layout = layout

    def _at(self, native_offset: int) -> FrameTable | None:
        layout = self._layout
        i = layout.piece_at(native_offset)
        return layout.tables[i] if i >= 0 else None

    def _of_pc(self, pc: int) -> FrameTable | None:
        func = self._layout.function_of_pc(pc)
        return self._layout.table_of(func) if func is not None else None

    def _all(self) -> list[FrameTable]:
        self._layout.compile_all()
        return list(self._layout.tables)

    def __len__(self) -> int:
        return sum(len(t) for t in self._all())

    def __iter__(self) -> Iterator[Site]:
        return (site for t in self._all() for site in t)

    def sites_at(self, pc: int) -> tuple[Site, ...]:
        table = self._of_pc(pc)
        return table.sites_at(pc) if table is not None else ()

    def is_sequence_point(self, pc: int) -> bool:
        table = self._of_pc(pc)
        return table is not None and table.is_sequence_point(pc)

    def site_at_native(self, native_offset: int) -> Site | None:
        table = self._at(native_offset)
        return table.site_at_native(native_offset) if table is not None else None

    def site_for_return(self, return_offset: int) -> Site | None:
        return self.site_at_native(return_offset - 5)

    def sites_at_native(self, native_offset: int) -> tuple[Site, ...]:
        table = self._at(native_offset)
        return table.sites_at_native(native_offset) if table is not None else ()

    def sites_for_return(self, return_offset: int) -> tuple[Site, ...]:
        return self.sites_at_native(return_offset - 5)

    def native_sites(self) -> Iterator[tuple[Site, ...]]:
        """Every site of the functions compiled so far (the others have none yet)."""
        for table in list(self._layout.tables):
            yield from table.native_sites()

    def site_before(self, native_offset: int) -> Site | None:
        table = self._at(native_offset)
        return table.site_before(native_offset) if table is not None else None

    def slip(self, pc: int, func_index: int | None = None) -> int | None:
        layout = self._layout
        if func_index is not None:
            return layout.table_of(func_index).slip(pc, func_index)
        func = layout.function_of_pc(pc)
        while func is not None and func < layout.first + layout.count:
            found = layout.table_of(func).slip(pc)
            if found is not None:
                return found
            func += 1
        return None

    def functions(self) -> tuple[int, ...]:
        return tuple(sorted({f for t in self._all() for f in t.functions()}))

    def function_sites(self, func_index: int) -> tuple[Site, ...]:
        return self._layout.table_of(func_index).function_sites(func_index)

    def entry_site(self, func_index: int) -> Site | None:
        return self._layout.table_of(func_index).entry_site(func_index)

    def pcs(self) -> tuple[int, ...]:
        return tuple(sorted({pc for t in self._all() for pc in t.pcs()}))

    def call_state(self, return_offset: int) -> Site | None:
        table = self._at(return_offset)
        return table.call_state(return_offset) if table is not None else None

    def interrupt_state(self, return_offset: int) -> Site | None:
        table = self._at(return_offset)
        return table.interrupt_state(return_offset) if table is not None else None

    def frame_state(self, return_offset: int) -> Site | None:
        table = self._at(return_offset)
        return table.frame_state(return_offset) if table is not None else None


class LayoutCode(CodeObject):
    """One Store's private copy of a :class:`DebugLayout` (the Store's CodeObject of the module).

    ``exclusive()`` keeps the Store's guest out of machine code (the code
    gate); ``on_mapped(code, functions)`` is told of the functions each
    mapping added, while the copy is still writable.
    """

    def __init__(
        self,
        layout: DebugLayout,
        exclusive: Callable[[], AbstractContextManager[None]],
        on_mapped: Callable[[LayoutCode, list[int]], None],
    ) -> None:
        memory = CodeMemory(layout.size)
        super().__init__(layout.module, layout.compiled, memory, True)
        self.layout = layout
        self._exclusive = exclusive
        self._on_mapped = on_mapped
        self._slots = (ctypes.c_uint64 * max(layout.count, 1)).from_address(memory.address)
        #: how much of the image this copy holds, and how many of its pieces
        self.mapped = 0
        self._pieces = 0
        self._map(notify=False)  # NB: the Store learns of the whole copy (on_code_added)
        memory.publish()

    # -- CodeObject -------------------------------------------------------------------

    def entry_address(self, func_index: int) -> int:
        """A function's entry stub (calls find the code through the table)."""
        return self.base + self.layout.stub0 + LAZY_STUB * (func_index - self.layout.first)

    def in_twin(self, pc: int) -> bool:
        off = pc - self.base
        i = self.layout.piece_at(off)
        twins = self.compiled.twins
        return i >= 0 and i < len(twins) and twins[i].start <= off < twins[i].end

    @property
    def has_twins(self) -> bool:
        return self.layout.has_twins

    # -- mapping ----------------------------------------------------------------------

    def code_address(self, func_index: int) -> int:
        """Function ``func_index``'s code in this copy, compiled and mapped now if need be.

        Takes the code gate: not from a thread with an edit session open on
        the Store (an edit maps through :meth:`map_through`).
        """
        entry = self.layout.ensure(func_index)
        if entry >= self.mapped:
            with self._exclusive():
                if entry >= self.mapped:
                    memory = self.memory
                    memory.unpublish()  # raises -> nothing changed
                    try:
                        self._map()
                    finally:
                        try:
                            memory.publish()
                        except CodeMemoryError as err:
                            fatal_republish(self.module, err, "mapping lazily compiled code")
        return self.base + entry

    def map_through(self, offset: int) -> None:
        """Map the image up to ``offset`` at least (code unpublished, gate held)."""
        if offset >= self.mapped:
            self._map()

    def _map(self, *, notify: bool = True) -> None:
        """Copy the image compiled since the last mapping; point the new slots at it."""
        layout = self.layout
        # NB: another Store's thread may be adding a piece meanwhile: only the
        # pieces that start before the end read here are complete in the image
        end = layout.end
        start = self.mapped or layout.stubs_at
        if end <= start:
            return
        self.memory.write(start, bytes(layout.image[start:end]))
        slots = self._slots
        if not self.mapped:
            for k in range(layout.count):  # lazy_k: asks for the code
                slots[k] = self.entry_address(layout.first + k) + LAZY_ENTRY
        self.mapped = end
        n = bisect.bisect_left(layout.piece_starts, end)
        new = self.compiled.functions[self._pieces : n]
        for f in new:
            slots[f.func_index - layout.first] = self.base + f.start
        self._pieces = n
        self.refresh()
        if new and notify:
            self._on_mapped(self, [f.func_index for f in new])
