"""The debugger core: *whether* to stop, with no I/O (front ends do the talking).

:class:`Debugger` plays the part of CPython's ``bdb.Bdb`` for one Store: it
owns the numbered user breakpoints (see :mod:`.breakpoints`), turns the
Store's raw debug events into stops, and implements step into / step over /
step out / run to / continue / pause / quit on top of two Store
mechanisms: reference-counted sequence-point breakpoints and the per-Store
single-step flag.  A front end (the REPL, the LLDB server, a test)
subclasses it and overrides :meth:`Debugger.user_stop`, or passes
``on_stop=``; inside that hook the guest is paused, frames can be read and
written, and the front end calls one of the ``set_*`` methods to say how to
resume (doing nothing means continue).

Run / pause states::

                   Debugger(store)
                         │  attach(): store.set_debug_handler(...)
                         ▼
    ┌──────────┐   event that stops   ┌────────────────────────────────┐
    │ RUNNING  ├─────────────────────►│ PAUSED  (inside user_stop)     │
    │ (guest   │                      │  inspect / write frames,       │
    │  runs or │◄─────────────────────┤  set breakpoints, then one of: │
    │  idle)   │  hook returns:       │  set_continue  set_step        │
    └────┬─────┘  single-step flag    │  set_next      set_return      │
         │        set for the mode,   │  set_run_to    set_quit        │
         │        Resume.CONTINUE     └───────────────┬────────────────┘
         │        (ABORT after set_quit)              │
         │ detach(): breakpoints removed,             │
         ▼ single-step off, handler cleared           │
    ┌──────────┐                                      │
    │ DETACHED │◄─────────────────────────────────────┘ (detach from the hook)
    └──────────┘

Deciding at a sequence point (BREAKPOINT or STEP event), as ``bdb``'s
``break_here`` then ``stop_here``:

1. a user breakpoint at ``(module, pc)`` that :func:`effective` accepts
   -> stop, reason BREAKPOINT (a temporary one is deleted first);
2. the run-to location -> stop, reason RUN_TO;
3. the step mode, comparing frame depths::

       mode      recorded when set      stops at the next sequence point in
       STEP      --                     any frame
       NEXT      the frame F            F or a caller of F   (fp >= F.fp)
       RETURN    the frame F            a caller of F        (fp >  F.fp)
       CONTINUE  --                     never (breakpoints only)

   NB: depth is compared through frame pointers.  All frames of a guest
   call live on one native stack that grows down, so a caller's frame
   pointer is above its callee's, across host frames (Wasm -> host ->
   Wasm) too; that makes the test O(1) where counting frames is O(depth),
   which matters at every sequence point while stepping.  Like ``bdb``, a
   NEXT whose frame returned stops in whatever frame comes next at that
   height or above.

Stepping, a pending run-to and a quit request end with the outermost guest
call (the Store calls the Debugger's guest-exit handler when it returns or
traps, single-stepping already off), so they never leak into a later call.

TRAP and HOST_ERROR events stop (unless ``stop_on_traps`` is false) while
the frames are still live; the guest unwinds when the hook returns.  An
INTERRUPTED event always stops: the guest saw the Store's interrupt flag
(set by :meth:`Debugger.interrupt` from another thread, by Ctrl-C or by an
epoch deadline) at a function entry or loop header and is paused there,
with every value described by the frame table; it runs on (or steps) like
after any other stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from ..errors import DebugError
from ..jit.frametable import FrameTable
from ..runtime.debug.events import DebugEvent, DebugEventKind, DebugHandler, Resume
from .breakpoints import Breakpoint, Condition, effective

__all__ = [
    "DebugStore",
    "Debugger",
    "EditSession",
    "Frame",
    "RunState",
    "StepMode",
    "StepState",
    "Stop",
    "StopReason",
    "ValueList",
]


# --------------------------------------------------------------------------
# What the debugger needs from the runtime


class ValueList(Protocol):
    """``frame.locals`` / ``frame.stack``: indexable, writable, sized."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> Any: ...

    def __setitem__(self, index: int, value: Any, /) -> None: ...

    def __iter__(self) -> Iterator[Any]: ...


class Frame(Protocol):
    """A paused Wasm frame (``store.debug_frames()`` yields them innermost first).

    ``fp`` is the frame's native frame pointer (an identity while it lives);
    ``func_name`` the function's name from the name section (or ``None``);
    ``parent`` the next older Wasm frame (host frames skipped) or ``None``.
    """

    @property
    def func_index(self) -> int: ...

    @property
    def func_name(self) -> str | None: ...

    @property
    def pc(self) -> int: ...

    @property
    def fp(self) -> int: ...

    @property
    def locals(self) -> ValueList: ...

    @property
    def stack(self) -> ValueList: ...

    @property
    def parent(self) -> Frame | None: ...

    @property
    def module(self) -> object: ...

    @property
    def instance(self) -> object: ...


class EditSession(Protocol):
    """The edit session ``store.edit_breakpoints()`` enters (see :mod:`.edit`)."""

    def add_breakpoint(self, module: object, pc: int) -> int: ...

    def remove_breakpoint(self, module: object, pc: int) -> int: ...

    def single_step(self, enabled: bool) -> None: ...


class DebugStore(Protocol):
    """What :class:`Debugger` needs from a Store running with debugging on."""

    def edit_breakpoints(self) -> AbstractContextManager[EditSession]: ...

    def debug_frames(self) -> Sequence[Frame]: ...

    def debug_frame_table(self, module: object) -> FrameTable: ...

    def resolve_breakpoint(self, module: object, pc: int) -> int: ...

    def set_debug_handler(self, handler: DebugHandler | None) -> None: ...

    def set_guest_exit_handler(self, handler: Callable[[Any], None] | None) -> None: ...

    def interrupt(self) -> None: ...

    @property
    def is_single_step(self) -> bool: ...


# --------------------------------------------------------------------------
# Stops


class RunState(Enum):
    """Where the debugger is in its run / pause cycle (see the module diagram)."""

    DETACHED = "detached"
    RUNNING = "running"
    PAUSED = "paused"


class StepMode(Enum):
    """How the guest resumes after a stop."""

    CONTINUE = "continue"
    STEP = "step"
    NEXT = "next"
    RETURN = "return"


class StopReason(Enum):
    """Why the debugger stopped."""

    BREAKPOINT = "breakpoint"
    STEP = "step"
    RUN_TO = "run to"
    TRAP = "trap"
    HOST_ERROR = "host error"
    INTERRUPTED = "interrupted"
    #: not made by :class:`Debugger`: a session controller reports its first
    #: single-step stop, before the guest's first instruction, as ENTRY
    ENTRY = "entry"


# NB: an Enum member looked up on its class costs about 0.2 us here, several
# times per event; the hot path (every breakpoint hit and step) uses these.
_ABORT, _CONTINUE = Resume.ABORT, Resume.CONTINUE
_EV_TRAP, _EV_HOST_ERROR = DebugEventKind.TRAP, DebugEventKind.HOST_ERROR
_EV_INTERRUPTED = DebugEventKind.INTERRUPTED
_R_TRAP, _R_HOST_ERROR, _R_INTERRUPTED = StopReason.TRAP, StopReason.HOST_ERROR, StopReason.INTERRUPTED
_R_BREAKPOINT, _R_RUN_TO, _R_STEP = StopReason.BREAKPOINT, StopReason.RUN_TO, StopReason.STEP
_M_STEP, _M_NEXT, _M_RETURN, _M_CONTINUE = StepMode.STEP, StepMode.NEXT, StepMode.RETURN, StepMode.CONTINUE
_S_PAUSED, _S_RUNNING, _S_DETACHED = RunState.PAUSED, RunState.RUNNING, RunState.DETACHED


@dataclass(frozen=True, slots=True)
class Stop:
    """One stop, as handed to :meth:`Debugger.user_stop`.

    ``frame`` is the innermost Wasm frame (``None`` if the stop has no
    Wasm frame, e.g. a host error raised before any Wasm ran);
    ``frames`` all of them, innermost first; ``breakpoint`` the user
    breakpoint for BREAKPOINT stops.
    """

    reason: StopReason
    event: DebugEvent
    frame: Frame | None
    frames: Sequence[Frame] = field(repr=False)
    breakpoint: Breakpoint | None = None

    @property
    def pc(self) -> int | None:
        """The pc of the innermost frame (or of the event)."""
        return self.frame.pc if self.frame is not None else self.event.pc


@dataclass(frozen=True, slots=True)
class StepState:
    """How the guest resumes: a step mode and the frame pointer it compares with.

    Taken with :attr:`Debugger.step_state` after one of the ``set_*``
    methods and given back with :meth:`Debugger.restore_step`, so a stop the
    front end never sees (a pause made only to edit breakpoints) resumes
    exactly as the guest was running.
    """

    mode: StepMode
    fp: int = 0


# --------------------------------------------------------------------------
# The debugger


class Debugger:
    """A bdb-like debugger core over one Store (no I/O; see the module docstring)."""

    def __init__(
        self,
        store: DebugStore,
        *,
        on_stop: Callable[[Debugger, Stop], None] | None = None,
        stop_on_traps: bool = True,
        attach: bool = True,
    ) -> None:
        self.store = store
        self.stop_on_traps = stop_on_traps
        self._on_stop = on_stop
        self._state = RunState.DETACHED
        self._next_number = 1
        self._by_number: dict[int, Breakpoint] = {}
        self._by_location: dict[tuple[object, int], list[Breakpoint]] = {}
        self._installed: set[tuple[object, int]] = set()
        self._mode = StepMode.CONTINUE
        self._mode_fp = 0
        self._run_to: tuple[object, int] | None = None
        self._run_to_requested: tuple[object, int] | None = None
        self._quitting = False
        self.current: Stop | None = None
        if attach:
            self.attach()

    # -- attach / detach ----------------------------------------------------

    @property
    def state(self) -> RunState:
        """DETACHED, RUNNING or PAUSED."""
        return self._state

    def attach(self) -> None:
        """Install this debugger as the Store's debug handler."""
        if self._state != RunState.DETACHED:
            return
        self.store.set_debug_handler(self._handle)
        self.store.set_guest_exit_handler(self._guest_exited)
        self._state = RunState.RUNNING

    def detach(self) -> None:
        """Remove every breakpoint from the Store, stop single-stepping, let go."""
        if self._state == RunState.DETACHED:
            return
        with self.store.edit_breakpoints() as edit:
            for module, pc in sorted(self._installed, key=lambda k: k[1]):
                edit.remove_breakpoint(module, pc)
            if self._run_to_requested is not None:
                edit.remove_breakpoint(*self._run_to_requested)
            edit.single_step(False)
        self._installed.clear()
        self._run_to = self._run_to_requested = None
        self._mode = StepMode.CONTINUE
        self.store.set_debug_handler(None)
        self.store.set_guest_exit_handler(None)
        self._state = RunState.DETACHED

    # -- breakpoints --------------------------------------------------------

    def set_break(
        self,
        module: object,
        pc: int,
        *,
        temporary: bool = False,
        cond: Condition | None = None,
        ignore: int = 0,
        funcname: str | None = None,
    ) -> Breakpoint:
        """A new numbered breakpoint at ``pc`` of ``module`` (slipped forward)."""
        if ignore < 0:
            raise DebugError("an ignore count cannot be negative")
        table = self.store.debug_frame_table(module)
        site_pc = self.store.resolve_breakpoint(module, pc)  # the one place a pc slips forward
        sites = table.sites_at(site_pc)
        func_index = sites[0].func_index if sites else None
        bp = Breakpoint(
            self._next_number,
            module,
            pc,
            site_pc,
            func_index=func_index,
            funcname=funcname,
            temporary=temporary,
            cond=cond,
            ignore=ignore,
            on_change=self._breakpoint_changed,
        )
        key = (module, site_pc)
        self._by_location.setdefault(key, []).append(bp)
        try:
            self._sync(key)
        except BaseException:
            self._by_location[key].remove(bp)
            if not self._by_location[key]:
                del self._by_location[key]
            raise
        self._by_number[bp.number] = bp
        self._next_number += 1
        return bp

    def set_break_function(
        self,
        module: object,
        func: int | str,
        *,
        temporary: bool = False,
        cond: Condition | None = None,
        ignore: int = 0,
    ) -> Breakpoint:
        """A breakpoint at the first sequence point of a function (index or name)."""
        func_index = self.function_index(module, func) if isinstance(func, str) else func
        site = self.store.debug_frame_table(module).entry_site(func_index)
        if site is None:
            raise DebugError(f"function {func!r} has no code to stop in")
        name = func if isinstance(func, str) else self.function_names(module).get(func_index)
        return self.set_break(
            module, site.pc, temporary=temporary, cond=cond, ignore=ignore, funcname=name
        )

    def get_break(self, number: int) -> Breakpoint:
        """The breakpoint numbered ``number`` (DebugError if there is none)."""
        bp = self._by_number.get(number)
        if bp is None:
            raise DebugError(f"no breakpoint number {number}")
        return bp

    def get_breaks(self, module: object, pc: int) -> list[Breakpoint]:
        """The breakpoints whose sequence point is ``pc`` of ``module``."""
        return list(self._by_location.get((module, pc), ()))

    @property
    def breakpoints(self) -> list[Breakpoint]:
        """Every live breakpoint, by number."""
        return [self._by_number[n] for n in sorted(self._by_number)]

    def clear_break(self, number: int) -> Breakpoint:
        """Delete breakpoint ``number``; returns it."""
        bp = self.get_break(number)
        key = (bp.module, bp.site_pc)
        bps = self._by_location[key]
        bps.remove(bp)
        if not bps:
            del self._by_location[key]
        del self._by_number[number]
        bp.deleted = True
        self._sync(key)
        return bp

    def clear_all_breaks(self) -> None:
        """Delete every breakpoint."""
        for number in sorted(self._by_number):
            self.clear_break(number)

    def enable_break(self, number: int) -> None:
        """Enable breakpoint ``number``."""
        self.get_break(number).enable()

    def disable_break(self, number: int) -> None:
        """Disable breakpoint ``number`` (it keeps its number and hits)."""
        self.get_break(number).disable()

    def condition(self, number: int, cond: Condition | None) -> None:
        """Set (or with ``None`` remove) breakpoint ``number``'s condition."""
        self.get_break(number).set_condition(cond)

    def ignore(self, number: int, count: int) -> None:
        """Ignore the next ``count`` effective hits of breakpoint ``number``."""
        if count < 0:
            raise DebugError("an ignore count cannot be negative")
        self.get_break(number).ignore = count

    def _breakpoint_changed(self, bp: Breakpoint) -> None:
        self._sync((bp.module, bp.site_pc))

    def _sync(self, key: tuple[object, int]) -> None:
        """Keep one Store breakpoint at ``key`` iff an enabled user breakpoint wants it."""
        wanted = any(bp.enabled for bp in self._by_location.get(key, ()))
        if wanted and key not in self._installed:
            with self.store.edit_breakpoints() as edit:
                edit.add_breakpoint(*key)
            self._installed.add(key)
        elif not wanted and key in self._installed:
            with self.store.edit_breakpoints() as edit:
                edit.remove_breakpoint(*key)
            self._installed.discard(key)

    # -- names --------------------------------------------------------------

    def function_names(self, module: object) -> dict[int, str]:
        """Function index -> name, from the name section and the exports.

        Reads ``module.definition`` (a :class:`~wasmdbg.wasm.module.ModuleDef`,
        as the runtime's Module has) when present; front ends may override.
        """
        mdef = _module_def(module)
        names: dict[int, str] = {}
        if mdef is None:
            return names
        for export in getattr(mdef, "exports", ()):
            if int(export.kind) == 0:  # ExternKind.FUNC
                names.setdefault(export.index, export.name)
        names.update(mdef.names.functions)
        return names

    def function_index(self, module: object, name: str) -> int:
        """The index of the function called ``name`` (name section or export)."""
        for index, known in self.function_names(module).items():
            if known == name:
                return index
        if name.isdigit():
            return int(name)
        raise DebugError(f"no function named {name!r}")

    def frame_namespace(self, frame: Frame) -> dict[str, object]:
        """The names a string condition can use.

        ``locals`` and ``stack`` (the frame's value lists), ``l0``, ``l1`` ...
        (each local), local names from the name section, ``pc``,
        ``func_index``, ``frame``, and ``globals`` (a list of values) and
        ``memory`` (a writable ``memoryview`` of memory 0) when the frame
        offers them.
        """
        ns: dict[str, object] = {
            "frame": frame,
            "pc": frame.pc,
            "func_index": frame.func_index,
            "locals": frame.locals,
            "stack": frame.stack,
        }
        values = list(frame.locals)
        for i, v in enumerate(values):
            ns[f"l{i}"] = v
        mdef = _module_def(frame.module)
        if mdef is not None:
            for i, local_name in mdef.names.locals.get(frame.func_index, {}).items():
                if local_name.isidentifier() and i < len(values):
                    ns.setdefault(local_name, values[i])
        for key in ("globals", "memory"):
            value = getattr(frame, key, None)
            if value is not None:
                ns[key] = value
        return ns

    # -- resuming (called from user_stop) -----------------------------------

    def set_continue(self) -> None:
        """Run until a breakpoint (or a trap)."""
        self._mode = StepMode.CONTINUE

    def set_step(self) -> None:
        """Stop at the next sequence point, in any frame (step into)."""
        self._mode = StepMode.STEP

    def set_next(self, frame: Frame | None = None) -> None:
        """Stop at the next sequence point in ``frame`` or a caller (step over)."""
        frame = self._frame_or_current(frame)
        self._mode = StepMode.NEXT
        self._mode_fp = frame.fp

    def set_return(self, frame: Frame | None = None) -> None:
        """Stop at the next sequence point in a caller of ``frame`` (step out).

        Stepping out of the outermost Wasm frame runs on like continue.
        """
        frame = self._frame_or_current(frame)
        if frame.parent is None:
            self._mode = StepMode.CONTINUE
            return
        self._mode = StepMode.RETURN
        self._mode_fp = frame.fp

    def set_run_to(self, module: object, pc: int) -> int:
        """Continue until ``pc`` of ``module`` (slipped forward) runs; returns that pc."""
        self._clear_run_to()
        with self.store.edit_breakpoints() as edit:
            site_pc = edit.add_breakpoint(module, pc)
        self._run_to = (module, site_pc)
        self._run_to_requested = (module, pc)
        self._mode = StepMode.CONTINUE
        return site_pc

    def set_quit(self) -> None:
        """End the guest call: the hook answers ABORT (the call raises)."""
        self._quitting = True

    def interrupt(self) -> None:
        """Pause the guest as soon as possible; callable from any thread.

        The guest stops with reason INTERRUPTED at its next function entry
        or loop header (or raises INTERRUPT if the debugger is detached).
        """
        self.store.interrupt()

    def _clear_run_to(self) -> None:
        if self._run_to_requested is not None:
            with self.store.edit_breakpoints() as edit:
                edit.remove_breakpoint(*self._run_to_requested)
        self._run_to = self._run_to_requested = None

    def _frame_or_current(self, frame: Frame | None) -> Frame:
        if frame is None:
            if self.current is None or self.current.frame is None:
                raise DebugError("not stopped in a Wasm frame")
            frame = self.current.frame
        return frame

    @property
    def mode(self) -> StepMode:
        """The step mode the guest resumes with."""
        return self._mode

    @property
    def step_state(self) -> StepState:
        """The step mode and its frame pointer, as the guest will resume."""
        return StepState(self._mode, self._mode_fp)

    def restore_step(self, state: StepState) -> None:
        """Resume with a :attr:`step_state` taken earlier (from ``user_stop``)."""
        self._mode = state.mode
        self._mode_fp = state.fp

    # -- hooks ----------------------------------------------------------------

    def user_stop(self, stop: Stop) -> None:
        """Called with the guest paused; override, or pass ``on_stop=``."""
        if self._on_stop is not None:
            self._on_stop(self, stop)

    # -- event handling ---------------------------------------------------------

    def _handle(self, store: object, event: DebugEvent) -> Resume:
        """The Store's debug handler: decide, maybe stop, then say how to resume."""
        if self._quitting:
            return _ABORT
        frames = self.store.debug_frames()
        try:
            frame: Frame | None = frames[0]
        except IndexError:
            frame = None
        stop = self._decide(event, frame, frames)
        if stop is None:
            return _CONTINUE
        return self._stop(stop)

    def _decide(
        self, event: DebugEvent, frame: Frame | None, frames: Sequence[Frame]
    ) -> Stop | None:
        kind = event.kind
        if kind is _EV_TRAP or kind is _EV_HOST_ERROR:
            if not self.stop_on_traps:
                return None
            reason = _R_TRAP if kind == _EV_TRAP else _R_HOST_ERROR
            return Stop(reason, event, frame, frames)
        if kind == _EV_INTERRUPTED:
            return Stop(_R_INTERRUPTED, event, frame, frames)
        if frame is None:
            return None
        module = frame.module
        pc = frame.pc
        bps = self._by_location.get((module, pc))
        if bps:
            bp, may_delete = effective(bps, frame, lambda: self.frame_namespace(frame))
            if bp is not None:
                if may_delete and bp.temporary:
                    self.clear_break(bp.number)
                return Stop(_R_BREAKPOINT, event, frame, frames, bp)
        if self._run_to is not None and self._run_to == (module, pc):
            return Stop(_R_RUN_TO, event, frame, frames)
        mode = self._mode
        if mode == _M_STEP:
            return Stop(_R_STEP, event, frame, frames)
        if mode == _M_NEXT and frame.fp >= self._mode_fp:
            return Stop(_R_STEP, event, frame, frames)
        if mode == _M_RETURN and frame.fp > self._mode_fp:
            return Stop(_R_STEP, event, frame, frames)
        return None

    def _stop(self, stop: Stop) -> Resume:
        if self._run_to is not None:
            self._clear_run_to()
        self._mode = _M_CONTINUE
        # NB: a front end may call into the guest while paused (evaluating a
        # function), which can stop again: keep the outer stop for afterwards.
        outer = self.current
        self.current = stop
        self._state = _S_PAUSED
        try:
            self.user_stop(stop)
        finally:
            self.current = outer
            if self._state == _S_PAUSED and outer is None:
                self._state = _S_RUNNING
        if self._quitting:
            return _ABORT
        if self._state == _S_DETACHED:
            return _CONTINUE
        self._apply_single_step(self._mode != _M_CONTINUE)
        return _CONTINUE

    def _guest_exited(self, store: object) -> None:
        """The outermost guest call returned or trapped: stepping, run-to and quit end.

        (The Store has turned single-stepping off already.)
        """
        self._mode = StepMode.CONTINUE
        self._quitting = False
        if self._run_to_requested is not None:
            self._clear_run_to()

    def _apply_single_step(self, enabled: bool) -> None:
        if self.store.is_single_step != enabled:
            with self.store.edit_breakpoints() as edit:
                edit.single_step(enabled)

    # -- helpers for front ends -------------------------------------------------

    def frames(self) -> list[Frame]:
        """The paused guest's Wasm frames, innermost first (empty when running)."""
        if self.current is None:
            return []
        return list(self.current.frames)


def _module_def(module: object) -> Any:
    """The ModuleDef behind a runtime Module (``definition``), if any."""
    return getattr(module, "definition", None)
