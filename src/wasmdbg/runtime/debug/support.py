"""One Store's guest-debug support: patching, event dispatch, pauses.

Every Store whose Engine has ``Config(debug=True)`` builds one
:class:`StoreDebug` (``Store.debug_support``); the Store's debugging
methods (``runtime.debug.api``) delegate to it, and the Store's callbacks
call its hook methods:

* :meth:`StoreDebug.on_breakpoint` -- from the breakpoint trampoline, at an
  enabled patch site or at an interrupt check that saw the flag; ``saved`` is
  the trampoline's saved-register area (layout in ``jit.stubs``);
* :meth:`StoreDebug.on_code_added` -- a module was mapped into the Store;
* :meth:`StoreDebug.on_functions_mapped` -- lazily compiled functions joined
  a module's copy (``runtime.debuglayout``);
* :meth:`StoreDebug.on_host_error` -- a host function raised; the Wasm frames
  that called it are still live;
* :meth:`StoreDebug.on_trap` -- compiled code trapped; called from the trap
  path before the stack unwinds;
* :meth:`StoreDebug.on_guest_exit` -- the outermost guest call returned or
  trapped: single-stepping ends.

Per Store it keeps the :class:`~.edit.BreakpointState`, one
:class:`CodePatcher` per private code copy, the debug handler, and while the
guest is paused, the pause the frames are built from::

    trampoline ──► on_breakpoint ──► DebugEvent ──► handler(store, event)
                        │                               │ store.debug_frames()
                        └─ _Pause(fp, pc, saved, ...) ──┘ (valid until return:
                                                            its StopToken ends)

Events by source::

    patch site      ──► BREAKPOINT or STEP   (row: the site)
    interrupt check ──► INTERRUPTED          (row: the check; flag cleared;
                                              no handler -> trap INTERRUPT)
    trap path       ──► TRAP                 (frames live, read-only)
    host function   ──► HOST_ERROR           (frames live)

What a hit delivers is decided once per return address (:class:`_Plan`):
which row, which event, the recipe of its innermost frame.  The plans are
dropped whenever the breakpoint state changes (an edit session added or
removed a breakpoint, single-stepping flipped), so a hit is a dict lookup,
a stop token and the handler call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ...errors import DebugError
from ...jit import abi
from ...jit.frametable import FrameTable, Site
from ...jit.stubs import saved_gpr
from ...jit.x64 import Reg
from ..vmcontext import (
    INTERRUPT_DEADLINE,
    INTERRUPT_EDIT,
    INTERRUPT_REQUEST,
    INTERRUPT_TWIN,
    peek,
    poke,
)
from .edit import BreakpointEdit, BreakpointState
from .events import DebugEvent, DebugEventKind, DebugHandler, Resume
from .frames import SAVED_LAYOUT, MemoryAccess, ProcessMemory, ReadOnlyMemory, StopToken
from .stack import DebugFrame, FrameList, FrameSource, TopRecipe, frame_rows
from .twins import EntrySwitches, move_frames

if TYPE_CHECKING:
    from ..code import CodeObject
    from ..store import Store

__all__ = ["CodePatcher", "StoreDebug"]

_ABORT = int(abi.TrapCode.DEBUGGER_ABORT)
# NB: an Enum member looked up on its class costs about 0.2 us: not on the hot path
_RESUME_ABORT = Resume.ABORT
_INTERRUPT = int(abi.TrapCode.INTERRUPT)
_CALL_SIZE = 5
_SAVED_RSP = saved_gpr(Reg.RSP)  # the guest's rsp before the trampoline call, in the saved area
_MEMORY = ProcessMemory()
_READ_ONLY = ReadOnlyMemory()


class CodePatcher:
    """A Store's private code copy of one module, as an edit session sees it.

    With twins (``Config.debug_twins``) every patched site also flips its
    function's entry switch when the function becomes armed or unarmed
    (:class:`~.twins.EntrySwitches`).
    """

    def __init__(
        self, code: CodeObject, trampoline: int, on_armed: Callable[[], None] | None = None
    ) -> None:
        self.code = code
        self.trampoline = trampoline
        self.frame_table = code.frame_table
        self.switches = (
            EntrySwitches(code, on_armed)
            if code.has_twins and on_armed is not None
            else None
        )

    def patch_site(self, site: Site, enabled: bool) -> None:
        """Write the call (enabled) or the NOP (disabled) into this copy."""
        self.code.map_through(site.native_offset)
        if enabled:
            data = site.call_bytes(self.code.base + site.native_offset, self.trampoline)
        else:
            data = site.disable_bytes
        self.code.memory.write(site.native_offset, data)
        if self.switches is not None:
            self.switches.site_patched(site, enabled)

    def publish(self) -> None:
        """Make the copy executable again."""
        self.code.memory.publish()

    def unpublish(self) -> None:
        """Make the copy writable (all or nothing)."""
        self.code.memory.unpublish()


class _Target:
    """What a trampoline call returning to one address names (fixed for the Store's life).

    ``rows``: the patch site's rows in execution order (several when the
    compiler shared one site between consecutive opcodes), each with its
    BREAKPOINT and STEP event and its frame recipe; or, for an interrupt
    check, ``check`` with its INTERRUPTED event.
    """

    __slots__ = ("check", "module", "rows")

    def __init__(
        self,
        module: object,
        rows: tuple[tuple[Site, DebugEvent, DebugEvent, TopRecipe], ...],
        check: tuple[TopRecipe, DebugEvent] | None,
    ) -> None:
        self.module = module
        self.rows = rows
        self.check = check


class _Plan:
    """What a hit at one return address delivers while the breakpoint state stays as is.

    ``deliveries``: ``(row index, event, frame recipe)`` of each row that
    stops now, in execution order (usually one; none when nothing listens
    there any more); ``check`` for an interrupt check.
    """

    __slots__ = ("check", "deliveries", "event", "later", "recipe", "target")

    def __init__(
        self, target: _Target, deliveries: tuple[tuple[int, DebugEvent, TopRecipe], ...]
    ) -> None:
        self.target = target
        self.deliveries = deliveries
        self.check = target.check
        # the common single delivery, unpacked for the hot path; ``later``: rows
        # after it that a handler turning stepping on would make stop too
        single = len(deliveries) == 1
        self.event: DebugEvent | None = deliveries[0][1] if single else None
        self.recipe: TopRecipe | None = deliveries[0][2] if single else None
        self.later = single and deliveries[0][0] + 1 < len(target.rows)


#: A pause: (rbp of the innermost frame, native pc, saved-register area or 0,
#: recipe of the innermost frame or None, the stop's generation)
_Pause = tuple[int, int, int, "TopRecipe | None", int]


class StoreDebug:
    """The guest-debug support of one Store (built by the Store itself)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.state = BreakpointState(self, on_change=self._state_changed)
        self._patchers: dict[object, CodePatcher] = {}
        self.handler: DebugHandler | None = None
        self.exit_handler: Callable[[Any], None] | None = None
        self._pause: _Pause | None = None
        # made on demand for the current pause: its frame list and stop token
        self._frames: FrameList | None = None
        self._token: StopToken | None = None
        #: how many stops this Store has made (each stop's token carries its number)
        self.generation = 0
        self._targets: dict[int, _Target] = {}
        self._plans: dict[int, _Plan] = {}
        self._source = FrameSource(store.instance_of_vmctx)
        self._reported: set[int] = set()
        # twins (see .twins): the Store maps code with twins; an arming edit
        # left twin frames to move at the next callback
        self._twins = False
        self._move_pending = False
        # return address -> itself, or the debug version's when in a twin
        self._debug_ra: dict[int, int] = {}

    # -- CodeRegistry (for edit sessions) ---------------------------------------

    def debug_code(self, module: object) -> CodePatcher:
        """The patchable private code of ``module`` in this Store."""
        patcher = self._patchers.get(module)
        if patcher is not None:
            return patcher
        code = self._store.code_of(module)
        if code is None:
            raise DebugError(f"{module!r} is not instantiated in this store")
        if not code.debuggable:
            raise DebugError(
                "this store's code was not compiled for debugging (use Config(debug=True))"
            )
        patcher = CodePatcher(code, self._store.breakpoint_trampoline, self._armed)
        self._patchers[module] = patcher
        return patcher

    def debug_modules(self) -> Iterable[object]:
        """The Store's modules with debuggable code, in instantiation order."""
        return [c.module for c in self._store.mapped_code() if c.debuggable]

    def code_exclusive(self) -> AbstractContextManager[None]:
        """Keep the Store's guest out of machine code (waits for it to call back)."""
        return self._store.code_gate.exclusive()

    def _state_changed(self) -> None:
        self._plans.clear()

    def _armed(self) -> None:
        """An edit armed a function: its twin frames move at the next callback."""
        self._move_pending = True
        self._store.set_interrupt_bits(INTERRUPT_TWIN)

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
        frames = self._frames
        if frames is None:
            pause = self._pause
            if pause is None:
                return []
            token = self._token
            if token is None and pause[3] is not None:
                # NB: a patch-site stop: the list is the token and builds its top
                # frame at once (a conditional breakpoint asks for it next)
                frames = self._frames = self._token = FrameList.at_site(self, pause, self._source)
                return frames
            if token is None:
                token = self._token = StopToken(pause[4])
            frames = self._frames = FrameList(self, token, None, pause)
        return frames

    def current_stop(self) -> StopToken:
        """The token of the current stop (DebugError while the guest runs or is idle).

        NB: made on the first question, so a hit whose handler never looks
        at frames makes none.
        """
        token = self._token
        if token is None:
            pause = self._pause
            if pause is None:
                raise DebugError("the guest is not paused")
            token = self._token = StopToken(pause[4])
        return token

    @property
    def stop(self) -> StopToken | None:
        """The current stop (``None`` while the guest runs or is idle)."""
        return self.current_stop() if self._pause is not None else None

    # -- hook entry points ----------------------------------------------------------

    def on_code_added(self, store: Store, code: CodeObject) -> None:
        """A module was mapped into the Store: single-stepping must cover it."""
        if code.debuggable:
            if code.has_twins:
                self._twins = True
            self.state.module_added(code.module)

    def on_functions_mapped(self, store: Store, code: CodeObject, functions: list[int]) -> None:
        """Lazily compiled functions joined ``code`` (still writable, all sites
        off): the sites the Store's state wants on are enabled now (every one
        while single-stepping; breakpoints set while stepping or before the
        function was mapped)."""
        state = self.state
        stepping = state.is_single_step
        module = code.module
        pcs = state.breakpoint_pcs(module)
        if not stepping and not pcs:
            return
        patcher = self.debug_code(module)
        table = patcher.frame_table
        for func_index in functions:
            for site in table.function_sites(func_index):
                if stepping or site.pc in pcs:
                    patcher.patch_site(site, True)

    def on_breakpoint(self, store: Store, fp: int, return_address: int, saved: int) -> int:
        """The breakpoint trampoline called (see :meth:`_on_breakpoint`).

        With twins, a return address into a twin (an interrupt check) is
        moved to the debug version first, and frames left in twins by an
        arming edit (before, or made by the handler) are moved over.
        """
        if not self._twins:
            return self._on_breakpoint(store, fp, return_address, saved)
        if self._move_pending:
            self._move_pending = False
            store.clear_interrupt_bits(INTERRUPT_TWIN)
            return_address = move_frames(store, fp, peek(saved + _SAVED_RSP) - 8, return_address)
        moved = self._debug_ra.get(return_address)
        if moved is None:
            code = store.code_at(return_address - 1)
            moved = code.debug_pc(return_address) if code is not None else return_address
            self._debug_ra[return_address] = moved
        if moved != return_address:
            poke(peek(saved + _SAVED_RSP) - 8, moved)  # the trampoline's return address
        answer = self._on_breakpoint(store, fp, moved, saved)
        if self._move_pending:
            self._move_pending = False
            store.clear_interrupt_bits(INTERRUPT_TWIN)
            move_frames(store, fp, peek(saved + _SAVED_RSP) - 8, moved)
        return answer

    def _on_breakpoint(self, store: Store, fp: int, return_address: int, saved: int) -> int:
        """An enabled patch site ran (BREAKPOINT or STEP), or an interrupt check
        saw the flag (INTERRUPTED).

        A site the compiler shared between consecutive opcodes stands for
        each of them in turn: its rows are visited in execution order, each
        stopping if it has a breakpoint or the Store single-steps *at that
        moment* (a handler may turn stepping on or off for the next one).

        NB: the hot path of stepping and of every breakpoint hit; see the
        module docstring for the plans that keep it short.
        """
        plan = self._plans.get(return_address)
        if plan is None:
            plan = self._plan(return_address)
        event = plan.event
        if event is not None:
            handler = self.handler
            if handler is None:
                return 0
            self.generation += 1
            outer = self._pause, self._frames, self._token
            self._pause = (fp, return_address, saved, plan.recipe, self.generation)
            self._frames = self._token = None
            try:
                answer = handler(store, event)
            finally:
                token = self._token
                if token is not None:
                    token.live = False
                    if self._frames is not None:
                        self._frames.release()
                self._pause, self._frames, self._token = outer
            if answer is _RESUME_ABORT:
                return _ABORT
            if plan.later and self._plans.get(return_address) is not plan:
                # the handler changed breakpoints or stepping: the site's later rows decide afresh
                rest = self._plan(return_address, plan.deliveries[0][0] + 1)
                if rest.deliveries:
                    return self._deliver_rows(rest, fp, return_address, saved)
            return 0
        if plan.deliveries:
            return self._deliver_rows(plan, fp, return_address, saved)
        if plan.check is not None:
            return self._on_interrupt(store, plan.check, fp, return_address, saved)
        return 0

    def _plan(self, return_address: int, first: int = 0) -> _Plan:
        """Decide (and remember) what a hit at ``return_address`` delivers now.

        ``first``: decide only for the rows from this index on (a handler
        changed the state in the middle of a shared site).
        """
        target = self._targets.get(return_address)
        if target is None:
            target = self._resolve(return_address)
        state = self.state
        stepping = state.is_single_step
        module = target.module
        deliveries = tuple(
            (i, on_break if state.is_breakpoint(module, site.pc) else on_step, recipe)
            for i, (site, on_break, on_step, recipe) in enumerate(target.rows)
            if i >= first and (stepping or state.is_breakpoint(module, site.pc))
        )
        plan = _Plan(target, deliveries)
        if not first:
            self._plans[return_address] = plan
        return plan

    def _resolve(self, return_address: int) -> _Target:
        """What a trampoline call returning to ``return_address`` means (cached)."""
        code = self._store.code_at(return_address)
        if code is None or not code.private:
            raise DebugError(f"debug hook called from 0x{return_address:x}, outside debuggable code")
        module = code.module
        table = self.debug_code(module).frame_table
        offset = return_address - code.base
        sites = table.sites_for_return(offset)
        if sites:
            target = _Target(
                module,
                tuple(
                    (
                        site,
                        DebugEvent(DebugEventKind.BREAKPOINT, module, site.func_index, site.pc),
                        DebugEvent(DebugEventKind.STEP, module, site.func_index, site.pc),
                        TopRecipe.of(module, site, SAVED_LAYOUT),
                    )
                    for site in sites
                ),
                None,
            )
        else:
            check = table.interrupt_state(offset)
            if check is None:
                raise DebugError(f"debug hook called from 0x{return_address:x}, which is no patch site")
            event = DebugEvent(DebugEventKind.INTERRUPTED, module, check.func_index, check.pc)
            target = _Target(module, (), (TopRecipe.of(module, check, SAVED_LAYOUT), event))
        self._targets[return_address] = target
        return target

    def _deliver_rows(self, plan: _Plan, fp: int, return_address: int, saved: int) -> int:
        """A shared site with several rows to stop at, one after another.

        A handler may change breakpoints or stepping between two rows: the
        rest are then decided again from the new state.
        """
        deliveries = plan.deliveries
        while deliveries:
            index, event, recipe = deliveries[0]
            if self.handler is None:
                return 0
            if self._deliver(event, fp, return_address, saved, recipe) == _ABORT:
                return _ABORT
            if self._plans.get(return_address) is plan:
                deliveries = deliveries[1:]
            else:  # the handler edited: decide the remaining rows afresh
                plan = self._plan(return_address)
                deliveries = self._plan(return_address, index + 1).deliveries
        return 0

    def _on_interrupt(
        self,
        store: Store,
        check: tuple[TopRecipe, DebugEvent],
        fp: int,
        return_address: int,
        saved: int,
    ) -> int:
        """An interrupt check saw the flag: pause (INTERRUPTED), or trap if nobody listens.

        A flag holding only ``INTERRUPT_EDIT`` was an edit from another
        thread waiting for the code gate: the gate is open while this runs,
        and the guest waits at it on the way back until the edit is done.
        """
        flag = store.vm.interrupt
        if flag & INTERRUPT_EDIT:  # the editor clears its own bit
            store.code_gate.wait_for_editors()
            flag &= ~INTERRUPT_EDIT
        flag &= ~INTERRUPT_TWIN  # on_breakpoint moved the frames already
        if not flag:
            return 0
        if self.handler is None or flag & INTERRUPT_DEADLINE:
            return _INTERRUPT  # the runtime clears the flag when the trap arrives
        store.clear_interrupt_bits(INTERRUPT_REQUEST)
        recipe, event = check
        return self._deliver(event, fp, return_address, saved, recipe)

    def on_guest_exit(self, store: Store) -> None:
        """The outermost guest call ended: single-stepping ends with it.

        NB: otherwise a step requested at the last instruction, or at a
        trap, would stop a later, unrelated call at its first instruction.
        """
        self._reported.clear()
        if self.state.is_single_step:
            with self.state.edit() as edit:
                edit.single_step(False)
        handler = self.exit_handler
        if handler is not None:
            handler(store)

    def on_host_error(self, store: Store, exc: BaseException) -> None:
        """A host function raised; its Wasm callers are live: emit HOST_ERROR."""
        if id(exc) in self._reported:
            return  # a trap of an inner activation, already reported as such
        self._remember_reported(exc)
        ctx = store.vm
        fp, pc = int(ctx.last_exit_fp), int(ctx.last_exit_pc)
        self._deliver_walked(DebugEventKind.HOST_ERROR, fp, pc, _MEMORY, exception=exc)

    def on_trap(self, store: Store, trap: BaseException, fp: int, pc: int) -> None:
        """Compiled code trapped at native ``pc`` in frame ``fp``: emit TRAP.

        Called from the trap path before the stack unwinds: the frames are
        live; their values read, but are not written (they unwind next).
        """
        self._remember_reported(trap)
        if self.handler is None:
            return
        self._deliver_walked(DebugEventKind.TRAP, fp, pc, _READ_ONLY, trap=trap)

    def _remember_reported(self, exc: BaseException) -> None:
        # NB: by identity, until the outermost call ends (the exception is alive
        # while it propagates through nested activations, so its id is its own)
        self._reported.add(id(exc))

    def _deliver_walked(
        self,
        kind: DebugEventKind,
        fp: int,
        pc: int,
        memory: MemoryAccess,
        *,
        trap: BaseException | None = None,
        exception: BaseException | None = None,
    ) -> None:
        """A stop whose frames are walked at once (traps, host errors)."""
        self.generation += 1
        pause: _Pause = (fp, pc, 0, None, self.generation)
        token = StopToken(self.generation)
        frames = self.walk(pause, token, None, memory, trapped=kind == DebugEventKind.TRAP)
        if frames:
            top = frames[0]
            event = DebugEvent(kind, top.module, top.func_index, top.pc, trap, exception)
        else:
            event = DebugEvent(kind, trap=trap, exception=exception)
        self._run_handler(event, pause, FrameList(self, token, frames), token)

    def _deliver(
        self, event: DebugEvent, fp: int, return_address: int, saved: int, recipe: TopRecipe | None
    ) -> int:
        self.generation += 1
        return self._run_handler(event, (fp, return_address, saved, recipe, self.generation))

    def _run_handler(
        self,
        event: DebugEvent,
        pause: _Pause,
        frames: FrameList | None = None,
        token: StopToken | None = None,
    ) -> int:
        handler = self.handler
        if handler is None:
            if token is not None:
                token.end()
            return 0
        outer = self._pause, self._frames, self._token
        self._pause, self._frames, self._token = pause, frames, token
        try:
            answer = handler(self._store, event)
        finally:
            token = self._token
            if token is not None:
                token.end()
            if self._frames is not None:
                self._frames.release()
            self._pause, self._frames, self._token = outer
        return _ABORT if answer is _RESUME_ABORT else 0

    # -- frames --------------------------------------------------------------------

    def top_frame(self, pause: _Pause, stop: StopToken) -> DebugFrame | None:
        """The innermost frame alone, without walking the stack (patch-site stops)."""
        recipe = pause[3]
        if recipe is None:
            frames = self.walk(pause, stop, None, _MEMORY)
            return frames[0] if frames else None
        return DebugFrame.at_site(recipe, pause[0], pause[1], pause[2], stop, self._source)

    def walk(
        self,
        pause: _Pause,
        stop: StopToken,
        top: DebugFrame | None,
        memory: MemoryAccess = _MEMORY,
        *,
        trapped: bool = False,
    ) -> list[DebugFrame]:
        """Every Wasm frame of the pause, innermost first (``top`` reused as frame 0)."""
        fp, native_pc, _saved, recipe, _generation = pause
        out: list[DebugFrame] = []
        for depth, wf in enumerate(self._store.wasm_frames(fp, native_pc)):
            code = wf.code
            if not code.private:
                continue
            if depth == 0 and recipe is not None:
                frame = top if top is not None else self.top_frame(pause, stop)
                if frame is not None:
                    out.append(frame)
                continue
            row, pc, locals_locs, stack_locs = frame_rows(
                code, wf.wasm_pc, wf.pc, wf.func_index, depth, trapped=trapped
            )
            out.append(
                DebugFrame(
                    code.module, wf.func_index, pc, wf.fp, wf.pc, row, stop, self._source,
                    locals_locs, stack_locs, memory,
                )
            )
        return out


