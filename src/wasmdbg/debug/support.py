"""The debug layer's half of a Store: patching, events and live frames.

The runtime never imports this package.  It exposes seams instead, and
this module fills them:

* ``runtime.store.set_debug_support(StoreDebug)`` -- a factory the Store
  calls the first time a debugging method is used; the result becomes the
  Store's ``_debug_hook``.  The Store's public debugging methods
  (``edit_breakpoints()``, ``breakpoints()``, ``is_single_step``,
  ``set_debug_handler()``, ``clear_debug_handler()``, ``debug_frames()``,
  ``debug_frame_table()``) delegate to it.
* ``on_breakpoint(store, fp, return_address, saved)`` -- called by the
  breakpoint trampoline through the ``debughook`` callback, from an enabled
  patch site or from an interrupt check that saw the Store's interrupt flag.
  ``saved`` is the trampoline's saved-register area (layout in
  ``jit.stubs``).
* ``on_code_added(store, code)`` -- a module was mapped into the Store.
* ``on_host_error(store, exc)`` -- a host function raised; the Wasm frames
  that called it are still live.
* ``on_trap(store, trap, fp, pc)`` -- compiled code trapped; called from
  the trap path before the stack unwinds.

Per Store it keeps the :class:`~wasmdbg.debug.edit.BreakpointState`, one
:class:`CodePatcher` per private code copy, the debug handler, and while the
guest is paused, the pause record the frames are built from::

    trampoline ──► on_breakpoint ──► DebugEvent ──► handler(store, event)
                        │                               │ store.debug_frames()
                        └─ pause = (fp, pc, saved) ─────┘ (valid until return)

Events by source::

    patch site      ──► BREAKPOINT or STEP   (row: the site)
    interrupt check ──► INTERRUPTED          (row: the check; flag cleared;
                                              no handler -> trap INTERRUPT)
    trap path       ──► TRAP                 (frames live, read-only)
    host function   ──► HOST_ERROR           (frames live)

Frames: the innermost frame at a breakpoint, step or interrupt uses the
frame-table row of its site and the saved registers (so every value reads
and writes).  At a trap the innermost frame shows the operand stack as the
trapping instruction found it (its patch-site row), register-held values
read from the slots the trap stub stored them to (the trap check's row);
only an operand of the trapping instruction that was held in a register
alone is unavailable.  Every value is read-only: the frames unwind as soon
as the handler returns.  Caller frames use the row of their call instruction
without registers (calls clobber them; the compiler keeps nothing in
registers across a call) and drop the call's arguments from the operand
stack.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, overload

from ..errors import DebugError
from ..jit import abi, stubs
from ..jit.frametable import FrameTable, Loc, LocKind, Site, SiteKind
from ..runtime.store import INTERRUPT_DEADLINE, INTERRUPT_EDIT, INTERRUPT_REQUEST
from ..runtime.vmcontext import peek
from ..wasm.reader import read_u32
from .edit import BreakpointEdit, BreakpointState
from .events import DebugEvent, DebugEventKind, DebugHandler, Resume
from .frames import (
    FrameValues,
    GlobalCell,
    GlobalValues,
    MemoryAccess,
    SavedRegisters,
    StopToken,
)

if TYPE_CHECKING:
    from ..runtime.code import CodeObject
    from ..runtime.store import Store
    from ..wasm.module import ModuleDef

__all__ = ["CodePatcher", "DebugFrame", "FrameList", "ProcessMemory", "StoreDebug"]

_ABORT = int(abi.TrapCode.DEBUGGER_ABORT)
_INTERRUPT = int(abi.TrapCode.INTERRUPT)
_GPR_OFFSETS = {n: stubs.saved_gpr(n) for n in range(16) if n not in (4, 5)}
_XMM_OFFSETS = {n: stubs.saved_xmm(n) for n in range(16)}


class ProcessMemory:
    """Raw reads and writes of this process's memory (ctypes)."""

    def read(self, address: int, size: int) -> bytes:
        """``size`` bytes at ``address``."""
        return ctypes.string_at(address, size)

    def write(self, address: int, data: bytes) -> None:
        """Copy ``data`` to ``address``."""
        ctypes.memmove(address, data, len(data))


_MEMORY = ProcessMemory()

# one row of a patch site as on_breakpoint sees it: (module, row, BREAKPOINT event, STEP event)
_Hit = tuple[object, Site, DebugEvent, DebugEvent]


class _ReadOnly(ProcessMemory):
    """Live frames of a trapping guest: readable, never written (they unwind next)."""

    def write(self, address: int, data: bytes) -> None:
        raise DebugError("the guest trapped and unwinds when the handler returns: its values are read-only")


_READ_ONLY = _ReadOnly()


class CodePatcher:
    """A Store's private code copy of one module, as an edit session sees it."""

    def __init__(self, code: CodeObject, trampoline: int) -> None:
        table = code.compiled.frame_table
        if not isinstance(table, FrameTable):  # the compiler makes one when guest_debug is on
            raise DebugError(f"{code.module!r} has no frame table (not compiled for debugging)")
        self.code = code
        self.trampoline = trampoline
        self.frame_table = table

    def patch_site(self, site: Site, enabled: bool) -> None:
        """Write the call (enabled) or the NOP (disabled) into this copy."""
        if enabled:
            data = site.call_bytes(self.code.base + site.native_offset, self.trampoline)
        else:
            data = site.disable_bytes
        self.code.memory.write(site.native_offset, data)

    def publish(self) -> None:
        """Make the copy executable again."""
        self.code.memory.publish()

    def unpublish(self) -> None:
        """Make the copy writable (all or nothing)."""
        self.code.memory.unpublish()


class DebugFrame:
    """One live Wasm frame of a paused Store (see :class:`~.debugger.Frame`).

    ``locals`` and ``stack`` are :class:`~wasmdbg.debug.frames.FrameValues`
    (readable and writable while the guest is paused).  ``native_pc`` is
    the frame's native program counter; ``site`` the frame-table row used.
    """

    def __init__(
        self,
        *,
        module: object,
        instance: object,
        func_index: int,
        pc: int,
        fp: int,
        native_pc: int,
        site: Site | None,
        locals: FrameValues,
        stack: FrameValues,
        stop: StopToken,
    ) -> None:
        self.stop = stop
        self.module = module
        self.instance = instance
        self.func_index = func_index
        self.pc = pc
        self.fp = fp
        self.native_pc = native_pc
        self.site = site
        self.locals = locals
        self.stack = stack
        self._parent: DebugFrame | None = None
        self._owner: FrameList | None = None

    @property
    def parent(self) -> DebugFrame | None:
        """The next older Wasm frame (host frames skipped), or ``None``."""
        self.stop.check()
        if self._owner is not None:
            self._owner._link()
        return self._parent

    @property
    def func_name(self) -> str | None:
        """The function's name from the module's name section, if it has one."""
        definition = getattr(self.module, "definition", None)
        if definition is None:
            return None
        name: str | None = definition.func_name(self.func_index)
        return name

    @property
    def memory(self) -> memoryview | None:
        """Memory 0 of the frame's instance as a writable byte view (or None)."""
        self.stop.check()
        memories = getattr(self.instance, "memories", None)
        if not memories:
            return None
        mem = memories[0]
        size = int(mem._size)
        if size == 0:
            return memoryview(b"")
        return memoryview((ctypes.c_ubyte * size).from_address(int(mem._base))).cast("B")

    @property
    def globals(self) -> GlobalValues:
        """The instance's globals (imports first), readable and writable."""
        self.stop.check()
        cells = [
            GlobalCell(g.cell_address, g.wasm_type.valtype, g.wasm_type.mutable)
            for g in getattr(self.instance, "globals", ())
        ]
        return GlobalValues(cells, _MEMORY, self.stop)

    def __repr__(self) -> str:
        return f"<DebugFrame func {self.func_index} pc 0x{self.pc:x} fp 0x{self.fp:x}>"


def _call_arity(mdef: ModuleDef, pc: int) -> int:
    """How many operand-stack values the instruction at ``pc`` consumes if it is a call (else 0)."""
    raw = mdef.raw
    if not 0 <= pc < len(raw):
        return 0
    op = raw[pc]
    if op in (0x10, 0x12):  # call, return_call
        index, _ = read_u32(raw, pc + 1, len(raw))
        return len(mdef.func_type(index).params)
    if op in (0x11, 0x13):  # call_indirect, return_call_indirect: + the table index
        type_index, _ = read_u32(raw, pc + 1, len(raw))
        return len(mdef.types[type_index].params) + 1
    return 0


class FrameList(Sequence[DebugFrame]):
    """The paused guest's frames, innermost first, built on demand.

    NB: the debugger looks at ``frames[0]`` at every sequence point while
    stepping; only that frame is built until something asks for more (a
    length, another index, a parent), so stepping stays O(1) in the depth
    of the stack.
    """

    def __init__(
        self,
        top: Callable[[], DebugFrame | None],
        everything: Callable[[DebugFrame | None], list[DebugFrame]],
        stop: StopToken,
    ) -> None:
        self._stop = stop
        self._make_top = top
        self._make_all = everything
        self._top: DebugFrame | None = None
        self._top_made = False
        self._all: list[DebugFrame] | None = None

    def _first(self) -> DebugFrame | None:
        self._stop.check()
        if not self._top_made:
            self._top = self._make_top()
            self._top_made = True
            if self._top is not None:
                self._top._owner = self
        return self._top

    def _link(self) -> list[DebugFrame]:
        self._stop.check()
        if self._all is None:
            frames = self._make_all(self._first())
            for inner, outer in itertools.pairwise(frames):
                inner._parent = outer
            for frame in frames:
                frame._owner = None
            self._all = frames
        return self._all

    @overload
    def __getitem__(self, index: int) -> DebugFrame: ...

    @overload
    def __getitem__(self, index: slice) -> list[DebugFrame]: ...

    def __getitem__(self, index: int | slice) -> DebugFrame | list[DebugFrame]:
        if isinstance(index, int) and index == 0 and self._all is None:
            top = self._first()
            if top is None:
                raise IndexError("no Wasm frame")
            return top
        return self._link()[index]

    def __len__(self) -> int:
        return len(self._link())

    def __bool__(self) -> bool:
        return self._first() is not None


class StoreDebug:
    """The debug hook of one Store (made by the factory the runtime calls)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.state = BreakpointState(self)
        self._patchers: dict[object, CodePatcher] = {}
        self.handler: DebugHandler | None = None
        self.exit_handler: Callable[[Any], None] | None = None
        self._pause: tuple[int, int, int, Site | None, StopToken] | None = None
        self._frames: Sequence[DebugFrame] | None = None
        #: how many stops this Store has made (each stop's token carries its number)
        self.generation = 0
        # trampoline return address -> the site's rows, each with its BREAKPOINT and
        # STEP events; or -> an interrupt check's row and INTERRUPTED event
        self._hits: dict[int, tuple[_Hit, ...]] = {}
        self._checks: dict[int, tuple[Site, DebugEvent]] = {}
        # caches of _top_frame: patch-site return address -> code object, a frame's
        # VMContext* -> its instance (both fixed while the Store lives), last registers
        self._code_at: dict[int, CodeObject] = {}
        self._instances: dict[int, object] = {}

    # -- CodeRegistry (for edit sessions) ---------------------------------------

    def debug_code(self, module: object) -> CodePatcher:
        """The patchable private code of ``module`` in this Store."""
        patcher = self._patchers.get(module)
        if patcher is not None:
            return patcher
        code = self._store.code_objects.get(module)  # type: ignore[call-overload]
        if code is None:
            raise DebugError(f"{module!r} is not instantiated in this store")
        if not code.private or not code.compiled.guest_debug:
            raise DebugError(
                "this store's code was not compiled for debugging (use Config(debug=True))"
            )
        patcher = CodePatcher(code, self._store._stub_code.breakpoint_address)
        self._patchers[module] = patcher
        return patcher

    def debug_modules(self) -> Iterable[object]:
        """The Store's modules with debuggable code, in instantiation order."""
        return [m for m, c in self._store.code_objects.items() if c.private]

    def code_exclusive(self) -> AbstractContextManager[None]:
        """Keep the Store's guest out of machine code (waits for it to call back)."""
        return self._store.code_gate.exclusive()

    # -- the Store's public debugging API -----------------------------------------

    def edit_breakpoints(self) -> BreakpointEdit:
        """A new edit session."""
        return self.state.edit()

    def breakpoints(self) -> list[tuple[object, int]]:
        """Every ``(module, pc)`` with a Store-level breakpoint."""
        return self.state.breakpoints()

    @property
    def is_single_step(self) -> bool:
        """True while single-stepping."""
        return self.state.is_single_step

    def set_debug_handler(self, handler: DebugHandler | None) -> None:
        """Install (or with ``None`` remove) the handler of debug events."""
        self.handler = handler

    def set_guest_exit_handler(self, handler: Callable[[Any], None] | None) -> None:
        """Install (or with ``None`` remove) the handler of ends of outermost calls."""
        self.exit_handler = handler

    def debug_frame_table(self, module: object) -> FrameTable:
        """The frame table of ``module`` (instantiated in this Store)."""
        return self.debug_code(module).frame_table

    def debug_frames(self) -> Sequence[DebugFrame]:
        """The paused guest's Wasm frames, innermost first (empty when not paused)."""
        if self._pause is None:
            return []
        if self._frames is None:
            fp, pc, saved, site, stop = self._pause
            self._frames = FrameList(
                lambda: self._top_frame(fp, pc, saved, site, stop),
                lambda top: self._build_frames(fp, pc, saved, site, _MEMORY, stop, top),
                stop,
            )
        return self._frames

    # -- hook entry points ----------------------------------------------------------

    def on_code_added(self, store: Store, code: CodeObject) -> None:
        """A module was mapped into the Store: single-stepping must cover it."""
        if code.private and code.compiled.guest_debug:
            self.state.module_added(code.module)

    def on_breakpoint(self, store: Store, fp: int, return_address: int, saved: int) -> int:
        """An enabled patch site ran (BREAKPOINT or STEP), or an interrupt check
        saw the flag (INTERRUPTED).

        A site the compiler shared between consecutive opcodes stands for
        each of them in turn: its rows are visited in execution order, each
        stopping if it has a breakpoint or the Store single-steps *at that
        moment* (a handler may turn stepping on or off for the next one).

        NB: the hot path of stepping and of every breakpoint hit.  What a
        return address means never changes while the Store lives, so it is
        resolved once (:meth:`_resolve`) with its events made in advance; a
        hit is then a dict lookup and the handler call.
        """
        rows = self._hits.get(return_address)
        if rows is None:
            rows = self._resolve(store, return_address)
            if not rows:
                check, event = self._checks[return_address]
                return self._on_interrupt(store, check, event, fp, return_address, saved)
        state = self.state
        for module, site, on_break, on_step in rows:
            handler = self.handler
            if handler is None:
                return 0
            if state.is_breakpoint(module, site.pc):
                event = on_break
            elif state.is_single_step:
                event = on_step
            else:
                continue
            outer = (self._pause, self._frames)
            stop = self.new_stop()
            self._pause, self._frames = (fp, return_address, saved, site, stop), None
            try:
                answer = handler(store, event)
            finally:
                stop.end()
                self._pause, self._frames = outer
            if answer is Resume.ABORT:
                return _ABORT
        return 0

    def _resolve(self, store: Store, return_address: int) -> tuple[_Hit, ...]:
        """What a trampoline call returning to ``return_address`` means (cached).

        The rows of a patch site with their two possible events, or ``()``
        for an interrupt check (its row and event go to ``_checks``).
        """
        if return_address in self._checks:
            return ()
        code = store._registry.lookup(return_address)
        if code is None or not code.private:
            raise DebugError(f"debug hook called from 0x{return_address:x}, outside debuggable code")
        module = code.module
        table = self.debug_code(module).frame_table
        offset = return_address - code.base
        sites = table.sites_for_return(offset)
        if sites:
            rows = tuple(
                (
                    module,
                    site,
                    DebugEvent(DebugEventKind.BREAKPOINT, module, site.func_index, site.pc),
                    DebugEvent(DebugEventKind.STEP, module, site.func_index, site.pc),
                )
                for site in sites
            )
            self._hits[return_address] = rows
            return rows
        check = table.interrupt_state(offset)
        if check is None:
            raise DebugError(f"debug hook called from 0x{return_address:x}, which is no patch site")
        event = DebugEvent(DebugEventKind.INTERRUPTED, module, check.func_index, check.pc)
        self._checks[return_address] = (check, event)
        return ()

    def _on_interrupt(
        self, store: Store, check: Site, event: DebugEvent, fp: int, return_address: int, saved: int
    ) -> int:
        """An interrupt check saw the flag: pause (INTERRUPTED), or trap if nobody listens.

        A flag holding only ``INTERRUPT_EDIT`` was an edit from another
        thread waiting for the code gate: the gate is open while this runs,
        and the guest waits at it on the way back until the edit is done.
        """
        flag = store.vm.interrupt & ~INTERRUPT_EDIT  # the editor clears its own bit
        if not flag:
            return 0
        if self.handler is None or flag & INTERRUPT_DEADLINE:
            return _INTERRUPT  # the runtime clears the flag when the trap arrives
        store.clear_interrupt_bits(INTERRUPT_REQUEST)
        stop = self.new_stop()
        return self._deliver(event, (fp, return_address, saved, check, stop))

    def on_guest_exit(self, store: Store) -> None:
        """The outermost guest call ended: single-stepping ends with it.

        NB: otherwise a step requested at the last instruction, or at a
        trap, would stop a later, unrelated call at its first instruction.
        """
        if self.state.is_single_step:
            with self.state.edit() as edit:
                edit.single_step(False)
        handler = self.exit_handler
        if handler is not None:
            handler(store)

    def on_host_error(self, store: Store, exc: BaseException) -> None:
        """A host function raised; its Wasm callers are live: emit HOST_ERROR."""
        if getattr(exc, "_wasmdbg_debug_reported", False):
            return  # a trap of an inner activation, already reported as such
        _mark_reported(exc)
        ctx = store.vm
        fp, pc = int(ctx.last_exit_fp), int(ctx.last_exit_pc)
        stop = self.new_stop()
        frames = self._build_frames(fp, pc, 0, None, _MEMORY, stop)
        event = _event_at(DebugEventKind.HOST_ERROR, frames, exception=exc)
        self._deliver(event, (fp, pc, 0, None, stop), frames)

    def on_trap(self, store: Store, trap: BaseException, fp: int, pc: int) -> None:
        """Compiled code trapped at native ``pc`` in frame ``fp``: emit TRAP.

        Called from the trap path before the stack unwinds: the frames are
        live; their values read, but are not written (they unwind next).
        """
        _mark_reported(trap)
        if self.handler is None:
            return
        stop = self.new_stop()
        frames = self._build_frames(fp, pc, 0, None, _READ_ONLY, stop, trapped=True)
        event = _event_at(DebugEventKind.TRAP, frames, trap=trap)
        self._deliver(event, (fp, pc, 0, None, stop), frames)

    def _deliver(
        self,
        event: DebugEvent,
        pause: tuple[int, int, int, Site | None, StopToken],
        frames: Sequence[DebugFrame] | None = None,
    ) -> int:
        handler = self.handler
        stop = pause[4]
        if handler is None:
            stop.end()
            return 0
        outer = (self._pause, self._frames)
        self._pause, self._frames = pause, frames
        try:
            answer = handler(self._store, event)
        finally:
            stop.end()
            self._pause, self._frames = outer
        return _ABORT if answer is Resume.ABORT else 0

    # -- frames --------------------------------------------------------------------

    def new_stop(self) -> StopToken:
        """The token of a new stop (the next generation)."""
        self.generation += 1
        return StopToken(self.generation)

    def _top_frame(
        self, fp: int, native_pc: int, saved: int, site: Site | None, stop: StopToken
    ) -> DebugFrame | None:
        """The innermost frame alone, without walking the stack (patch-site stops)."""
        if site is None:
            frames = self._build_frames(fp, native_pc, saved, site, _MEMORY, stop)
            return frames[0] if frames else None
        # NB: built at every stop while stepping: the code object, the instance
        # and the register view are looked up once and remembered
        code = self._code_at.get(native_pc)
        if code is None:
            code = self._store._registry.lookup(native_pc)
            if code is None:
                return None
            self._code_at[native_pc] = code
        vmctx = peek(fp - 8)
        instance = self._instances.get(vmctx)
        if instance is None:
            instance = self._instances[vmctx] = self._store.instance_of_vmctx(vmctx)
        regs = SavedRegisters(saved, _GPR_OFFSETS, _XMM_OFFSETS, stubs.SAVED_FLAGS, stop)
        frame = DebugFrame(
            module=code.module,
            instance=instance,
            func_index=site.func_index,
            pc=site.pc,
            fp=fp,
            native_pc=native_pc,
            site=site,
            locals=FrameValues("locals", site.locals, fp, _MEMORY, regs, stop),
            stack=FrameValues("stack", site.stack, fp, _MEMORY, regs, stop),
            stop=stop,
        )
        FrameValues.pair(frame.locals, frame.stack)
        return frame

    def _build_frames(
        self,
        fp: int,
        native_pc: int,
        saved: int,
        site: Site | None,
        memory: MemoryAccess,
        stop: StopToken,
        top: DebugFrame | None = None,
        *,
        trapped: bool = False,
    ) -> list[DebugFrame]:
        store = self._store
        walked = store.wasm_frames(fp, native_pc)
        out: list[DebugFrame] = []
        for depth, wf in enumerate(walked):
            code = wf.code
            if not code.private:
                continue
            if depth == 0 and top is not None:
                out.append(top)
                continue
            table = self.debug_code(code.module).frame_table
            offset = wf.pc - code.base
            regs: SavedRegisters | None = None
            drop = 0
            locs: tuple[tuple[Loc, ...], tuple[Loc, ...]] | None = None
            if depth == 0 and site is not None:
                row: Site | None = site
                pc = site.pc
                regs = SavedRegisters(saved, _GPR_OFFSETS, _XMM_OFFSETS, stubs.SAVED_FLAGS, stop)
            elif depth == 0 and trapped:
                # the stack as the trapping instruction found it (its patch-site row),
                # register-held values taken from the slots the trap stub stored them to
                pc = wf.wasm_pc if wf.wasm_pc is not None else -1
                rows = [s for s in table.sites_at(pc) if s.func_index == wf.func_index]
                check = table.call_state(offset)  # the trap check's row, if recorded
                row = rows[0] if rows else check
                locs = _trap_locations(rows[0] if rows else None, check)
            elif depth == 0:
                # a host call in progress: the call's state row (or its patch site
                # without the arguments)
                pc = wf.wasm_pc if wf.wasm_pc is not None else -1
                row = table.call_state(offset)
                if row is None:
                    rows = [s for s in table.sites_at(pc) if s.func_index == wf.func_index]
                    row = rows[0] if rows else table.frame_state(offset)
                    if wf.wasm_pc is not None and rows:
                        drop = _call_arity(code.definition, pc)
            else:
                row = table.frame_state(offset)
                pc = wf.wasm_pc if wf.wasm_pc is not None else (row.pc if row else -1)
                if row is not None and row.kind == SiteKind.PATCH:  # the call's own site
                    drop = _call_arity(code.definition, pc)
            if locs is not None:
                locs_locals, locs_stack = locs
            else:
                locs_locals = row.locals if row is not None else ()
                locs_stack = row.stack if row is not None else ()
            if drop:
                locs_stack = locs_stack[: max(0, len(locs_stack) - drop)]
            frame = DebugFrame(
                module=code.module,
                instance=store.instance_of_vmctx(wf.vmctx),
                func_index=wf.func_index,
                pc=pc if pc is not None else -1,
                fp=wf.fp,
                native_pc=wf.pc,
                site=row,
                locals=FrameValues("locals", locs_locals, wf.fp, memory, regs, stop),
                stack=FrameValues("stack", locs_stack, wf.fp, memory, regs, stop),
                stop=stop,
            )
            FrameValues.pair(frame.locals, frame.stack)
            if out:
                out[-1]._parent = frame
            out.append(frame)
        return out


def _trap_locations(
    patch: Site | None, check: Site | None
) -> tuple[tuple[Loc, ...], tuple[Loc, ...]]:
    """Locals and operand stack of a frame that trapped, as readable as they get.

    ``patch`` is the trapping instruction's patch-site row (the stack before
    the instruction, some values in registers); ``check`` the row of the
    trap check (registers stored to slots by its stub, the instruction's
    operands already popped).  The stack is the patch row's, with each
    register location replaced by the check row's slot at the same depth.
    The check rows of the integer divisions also list the instruction's
    operands (their stubs store them too); any other operand that was only
    in a register stays a register location, which reads as "not saved".  Locals come from the check row when there is one
    (in a prologue it knows the declared locals are not zeroed yet).
    """
    if patch is None:
        return (check.locals, check.stack) if check is not None else ((), ())
    if check is None:
        return patch.locals, patch.stack
    below = check.stack
    stack = tuple(
        loc
        if loc.kind in (LocKind.SLOT, LocKind.CONST) or depth >= len(below)
        else below[depth]
        for depth, loc in enumerate(patch.stack)
    )
    return check.locals, stack


def _event_at(
    kind: DebugEventKind,
    frames: Sequence[DebugFrame],
    *,
    trap: BaseException | None = None,
    exception: BaseException | None = None,
) -> DebugEvent:
    """An event located at the innermost of ``frames`` (unlocated when there is none)."""
    if not frames:
        return DebugEvent(kind, trap=trap, exception=exception)
    top = frames[0]
    return DebugEvent(kind, top.module, top.func_index, top.pc, trap, exception)


def _mark_reported(exc: BaseException) -> None:
    with contextlib.suppress(AttributeError):
        exc._wasmdbg_debug_reported = True  # type: ignore[attr-defined]
