"""The session controller: one guest call on a worker thread, driven by commands.

A :class:`Session` is what a front end (the REPL, the LLDB server, the DAP
server) talks to.  The guest call runs on a worker thread with a stack large
enough for the Store's Wasm stack limit; the front end, on any thread, sends
commands (continue, step into / over / out by instruction, pause, kill,
set and clear breakpoints, run a function on the guest thread) and takes
events (:class:`Stopped`, :class:`Exited`) from :meth:`Session.wait`.  There
is no I/O here.

Underneath is one :class:`~wasmdbg.debug.debugger.Debugger`.  Its
``user_stop`` hook runs on the guest thread: it publishes a Stopped event,
then blocks on the command queue, running what arrives (breakpoint edits,
:meth:`Session.call_on_guest` functions) until a resume command ends the
stop::

    front end (any thread)              guest thread (worker)
    ──────────────────────              ─────────────────────
    session.start(fn) ───────────────► fn() ... patch site / trap / interrupt
                                          Debugger decides to stop
    session.wait()    ◄── events ──────── user_stop: Stopped(stop)
    session.set_break ──── commands ──► edit applied, reply
    session.cont()    ──── commands ──► set_continue, hook returns, guest runs
    session.wait()    ◄── events ──────── fn returned / raised: Exited

States (:class:`SessionState`); every transition happens under one lock, so
``state`` is always one of these::

                 Session(store)         set_break / clear_break:
                       │                applied at once (no guest runs)
                       ▼
                ┌─────────────┐
                │ NOT_STARTED │
                └──────┬──────┘
                       │ start(fn)
                       ▼
                ┌─────────────┐   a stop to report: Stopped   ┌──────────┐
         ┌─────►│   RUNNING   ├──────────────────────────────►│  PAUSED  │
         │      │             │◄──────────────────────────────┤          │
         │      └──┬───────┬──┘ cont, step_into, step_over,   └──────────┘
         └─────────┘       │    step_out, kill (at once,       set_break,
    silent stop: edits     │    when the command is sent)      clear_break,
    asked for while        │                                   call_on_guest:
    running are applied,   │ fn returns or raises              run on the
    the guest resumes      ▼ (Exited)                          guest thread
    as it ran       ┌─────────────┐
                    │   EXITED    │  (the Debugger is detached)
                    └─────────────┘

Which methods need which state (any other raises DebugError):

=====================================  =========================================
``start``                              NOT_STARTED
``cont`` ``step_*`` ``call_on_guest``  PAUSED
``pause``                              not NOT_STARTED (a no-op unless RUNNING)
``kill``                               not NOT_STARTED (a no-op once EXITED)
``set_break`` ``clear_break`` ...      not EXITED
``wait`` ``state`` ``current`` ...     any
=====================================  =========================================

Breakpoint edits are made on the guest thread whenever a guest call is
live, because patching code under a running guest is not safe: while
PAUSED they go through the command queue; while RUNNING the session asks
for a pause through the Store's interrupt flag, the guest stops at its next
function entry or loop header (an INTERRUPTED stop, or whatever stop comes
first), the edits are applied there, and an INTERRUPTED stop that nobody
else asked for is not reported: the guest resumes in the step mode it ran
with (:attr:`Debugger.step_state`).  The caller of ``set_break`` waits for
that stop (``timeout=`` bounds the wait).

An INTERRUPTED stop the session did not ask for (``store.interrupt()``
called directly, Ctrl-C under ``store.interrupt_on_sigint()``) is reported
like a pause.  NB: the Debugger's own editing methods (``session.debugger
.set_break``, ``Breakpoint.enable`` ...) patch code on the calling thread:
call them only from the guest thread (inside :meth:`Session.call_on_guest`);
everyone else goes through the session's methods.

Stop reasons are the Debugger's, plus ENTRY: with ``stop_on_entry`` the
session starts the guest single-stepping, and the first STEP stop (before
the first instruction of the first Wasm function) is reported as ENTRY.  A
WASI ``proc_exit`` (a host function raising
:class:`~wasmdbg.runtime.wasi.ExitTrap`) is not a stop: it ends the call,
and :class:`Exited` carries the exit code.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from ..errors import DebugError
from ..runtime.store import HEADROOM, INTERRUPT_REQUEST, Store
from ..runtime.wasi import ExitTrap
from .breakpoints import Breakpoint, Condition
from .debugger import Debugger, StepState, Stop, StopReason

__all__ = ["Event", "Exited", "Session", "SessionState", "Stopped", "stack_size_for"]

T = TypeVar("T")

#: C stack the worker keeps beyond the Wasm stack limit and its headroom: the
#: Python frames of the call itself, host functions, the debugger's hook
_PYTHON_STACK = 8 * 1024 * 1024
_STACK_ALIGN = 1024 * 1024

# NB: threading.stack_size() is process-wide; it is set only around one
# Thread.start() at a time and restored at once.
_STACK_SIZE_LOCK = threading.Lock()


class SessionState(Enum):
    """Where a session is (see the module diagram)."""

    NOT_STARTED = "not started"
    RUNNING = "running"
    PAUSED = "paused"
    EXITED = "exited"


@dataclass(frozen=True, slots=True)
class Stopped:
    """The guest stopped; ``stop`` is valid until the guest resumes."""

    stop: Stop

    @property
    def reason(self) -> StopReason:
        """Why it stopped (ENTRY for the stop made by ``stop_on_entry``)."""
        return self.stop.reason


@dataclass(frozen=True, slots=True)
class Exited:
    """The guest call ended.

    ``result`` is what the call returned (``None`` if it raised);
    ``error`` what it raised (a Trap, an ExitTrap, a host function's
    exception, the abort Trap after :meth:`Session.kill`); ``exit_code`` the
    status a WASI program gave ``proc_exit``; ``killed`` whether the call
    ended because of :meth:`Session.kill`.
    """

    result: object = None
    error: BaseException | None = None
    exit_code: int | None = None
    killed: bool = False


Event = Stopped | Exited


class _How(Enum):
    """How a resume command lets the guest go on."""

    CONTINUE = "continue"
    STEP_INTO = "step into"
    STEP_OVER = "step over"
    STEP_OUT = "step out"
    KILL = "kill"


@dataclass(frozen=True, slots=True)
class _Resume:
    how: _How


@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[[], Any]
    future: Future[Any]


_Command = _Resume | _Call


def stack_size_for(max_wasm_stack: int) -> int:
    """The worker thread's stack size for a Store whose Wasm may use ``max_wasm_stack``.

    The Store sets its stack limit to ``max(stack_lo + HEADROOM, sp -
    max_wasm_stack)`` for the thread that calls in; this size makes the
    second term win, so the guest gets its whole budget and host code
    below the limit keeps more than the headroom.
    """
    size = max_wasm_stack + HEADROOM + _PYTHON_STACK
    return -(-size // _STACK_ALIGN) * _STACK_ALIGN


class Session:
    """One guest call under a debugger, driven from any thread (module docstring)."""

    def __init__(
        self, store: Store, *, stop_on_entry: bool = False, stop_on_traps: bool = True
    ) -> None:
        self.store = store
        self.stop_on_entry = stop_on_entry
        self._lock = threading.RLock()
        self._state = SessionState.NOT_STARTED
        self._current: Stop | None = None
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._pending: list[_Call] = []  # edits waiting for the running guest to stop
        self._pause_asked = False  # pause() while RUNNING: report the next stop
        self._pause_internal = False  # an edit waits: the next INTERRUPTED stop is silent
        self._kill_asked = False
        self._killed = False
        self._entry_pending = stop_on_entry
        self._evaluating = 0  # call_on_guest functions running on the guest thread
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        #: the Debugger underneath (its hook belongs to the session)
        self.debugger = Debugger(store, on_stop=self._on_stop, stop_on_traps=stop_on_traps)
        self._resume_state: StepState = self.debugger.step_state
        self._breakpoints: tuple[Breakpoint, ...] = ()

    # -- observing ------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """NOT_STARTED, RUNNING, PAUSED or EXITED."""
        with self._lock:
            return self._state

    @property
    def current(self) -> Stop | None:
        """The stop the guest is paused at (``None`` unless PAUSED)."""
        with self._lock:
            return self._current

    @property
    def breakpoints(self) -> list[Breakpoint]:
        """Every live breakpoint, by number."""
        with self._lock:
            return list(self._breakpoints)

    @property
    def guest_thread(self) -> threading.Thread | None:
        """The worker thread the guest call runs on (``None`` before start)."""
        return self._thread

    def wait(self, timeout: float | None = None) -> Event | None:
        """The next event (Stopped or Exited), or ``None`` after ``timeout`` seconds.

        Without a timeout it blocks until an event comes.  Events arrive in
        order; each Stopped is followed (after a resume) by another event,
        and Exited is the last one.
        """
        try:
            if timeout is not None and timeout <= 0:
                return self._events.get(block=False)
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    # -- starting and ending ------------------------------------------------------

    def start(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` (the guest call) on a new worker thread; NOT_STARTED only."""
        with self._lock:
            if self._state is not SessionState.NOT_STARTED:
                raise DebugError(f"the session is {self._state.value}: it starts only once")
            thread = threading.Thread(
                target=self._run, args=(fn,), name="wasmdbg-guest", daemon=True
            )
            size = stack_size_for(self.store.engine.config.max_wasm_stack)
            with _STACK_SIZE_LOCK:
                old = threading.stack_size(size)
                try:
                    thread.start()
                finally:
                    threading.stack_size(old)
            self._thread = thread
            self._state = SessionState.RUNNING

    def kill(self) -> None:
        """End the guest call: it raises (the abort Trap) and Exited follows.

        While PAUSED the guest ends at once (guest code that a
        :meth:`call_on_guest` function is running ends at its next function
        entry or loop header, and the function gets the abort Trap); while
        RUNNING at its next function entry, loop header or other stop (not
        while it is inside a host function).  A no-op once EXITED (or
        already being killed).
        """
        with self._lock:
            state = self._state
            if state is SessionState.NOT_STARTED:
                raise DebugError("the session has not started")
            if state is SessionState.PAUSED:
                self._to_running()
                self._commands.put(_Resume(_How.KILL))
                # NB: the guest thread may be running a call_on_guest function
                # that never ends (a guest loop): its next interrupt check ends it
                self._kill_asked = True
                self.store.interrupt()
            elif state is SessionState.RUNNING and not self._kill_asked:
                self._kill_asked = True
                self.store.interrupt()

    def close(self, timeout: float = 2.0) -> bool:
        """Kill the guest call if it is live and wait for its thread; True if it ended.

        For tests and front ends shutting down; safe in every state.
        """
        with self._lock:
            if self._state is SessionState.NOT_STARTED:
                self._state = SessionState.EXITED
                self.debugger.detach()
                return True
            if self._state is not SessionState.EXITED:
                self.kill()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- resuming (PAUSED only) ------------------------------------------------------

    def cont(self) -> None:
        """Run until a breakpoint, a trap or a pause."""
        self._resume(_How.CONTINUE)

    def step_into(self) -> None:
        """Stop at the next instruction, in any frame."""
        self._resume(_How.STEP_INTO)

    def step_over(self) -> None:
        """Stop at the next instruction in this frame or a caller."""
        self._resume(_How.STEP_OVER)

    def step_out(self) -> None:
        """Stop at the next instruction in a caller (runs on from the outermost frame)."""
        self._resume(_How.STEP_OUT)

    def pause(self) -> bool:
        """Ask the running guest to stop (a Stopped follows); from any thread.

        The guest stops at its next function entry or loop header
        (INTERRUPTED), or at whatever stop comes first.  Returns False, doing
        nothing, when the guest is not running (already PAUSED, or EXITED).
        """
        with self._lock:
            state = self._state
            if state is SessionState.NOT_STARTED:
                raise DebugError("the session has not started")
            if state is not SessionState.RUNNING or self._kill_asked:
                return False
            self._pause_asked = True
            self.store.interrupt()
            return True

    def _resume(self, how: _How) -> None:
        with self._lock:
            if self._state is not SessionState.PAUSED:
                raise DebugError(
                    f"cannot {how.value}: the session is {self._state.value}, not paused"
                )
            stop = self._current
            if how in (_How.STEP_OVER, _How.STEP_OUT) and (stop is None or stop.frame is None):
                raise DebugError(f"cannot {how.value}: not stopped in a Wasm frame")
            self._to_running()
            self._commands.put(_Resume(how))

    def _to_running(self) -> None:
        self._state = SessionState.RUNNING
        self._current = None

    # -- breakpoints (any state but EXITED) ------------------------------------------

    def set_break(
        self,
        module: object,
        pc: int,
        *,
        cond: Condition | None = None,
        ignore: int = 0,
        temporary: bool = False,
        timeout: float | None = None,
        placed: Callable[[Breakpoint], object] | None = None,
    ) -> Breakpoint:
        """A numbered breakpoint at ``pc`` of ``module`` (slipped forward).

        While RUNNING this waits for the guest to stop (``timeout``: at most
        that many seconds, then DebugError and no breakpoint).  ``placed``
        is called with the new breakpoint where the edit is made, before the
        guest can run into it (the caller learns its number only afterwards,
        and a front end's stop handling may need it sooner).
        """
        dbg = self.debugger

        def edit() -> Breakpoint:
            bp = dbg.set_break(module, pc, cond=cond, ignore=ignore, temporary=temporary)
            if placed is not None:
                placed(bp)
            return bp

        return self._edit(edit, timeout)

    def set_breaks(
        self, module: object, places: Sequence[tuple[int, Condition | None]], *, timeout: float | None = None
    ) -> list[Breakpoint]:
        """Several breakpoints ``(pc, cond)`` of ``module`` in one edit (one
        round trip to the guest thread, however many there are)."""
        dbg = self.debugger
        return self._edit(lambda: [dbg.set_break(module, pc, cond=cond) for pc, cond in places], timeout)

    def clear_breaks(self, numbers: Sequence[int], *, timeout: float | None = None) -> None:
        """Delete several breakpoints in one edit (numbers already gone are skipped)."""
        dbg = self.debugger

        def clear() -> None:
            live = {bp.number for bp in dbg.breakpoints}
            for number in numbers:
                if number in live:
                    dbg.clear_break(number)

        self._edit(clear, timeout)

    def set_break_function(
        self,
        module: object,
        func: int | str,
        *,
        cond: Condition | None = None,
        ignore: int = 0,
        temporary: bool = False,
        timeout: float | None = None,
    ) -> Breakpoint:
        """A breakpoint at the first instruction of a function (index or name)."""
        dbg = self.debugger
        return self._edit(
            lambda: dbg.set_break_function(
                module, func, cond=cond, ignore=ignore, temporary=temporary
            ),
            timeout,
        )

    def clear_break(self, number: int, *, timeout: float | None = None) -> Breakpoint:
        """Delete breakpoint ``number``; returns it."""
        dbg = self.debugger
        return self._edit(lambda: dbg.clear_break(number), timeout)

    def enable_break(self, number: int, *, timeout: float | None = None) -> None:
        """Enable breakpoint ``number``."""
        dbg = self.debugger
        self._edit(lambda: dbg.enable_break(number), timeout)

    def disable_break(self, number: int, *, timeout: float | None = None) -> None:
        """Disable breakpoint ``number`` (it keeps its number and hits)."""
        dbg = self.debugger
        self._edit(lambda: dbg.disable_break(number), timeout)

    def _edit(self, fn: Callable[[], T], timeout: float | None) -> T:
        """Run a breakpoint edit where it is safe (see the module docstring)."""

        def edit() -> T:
            result = fn()
            with self._lock:
                self._breakpoints = tuple(self.debugger.breakpoints)
            return result

        if self._on_guest_thread():
            return edit()
        with self._lock:
            state = self._state
            if state is SessionState.EXITED:
                raise DebugError("the guest call has ended: its breakpoints are gone")
            if state is SessionState.NOT_STARTED:
                return edit()  # no guest runs yet: edit here
            future: Future[T] = Future()
            call = _Call(edit, future)
            if state is SessionState.PAUSED:
                self._commands.put(call)
            else:
                self._pending.append(call)
                if not self._pause_internal:
                    self._pause_internal = True
                    self.store.interrupt()
        return self._result(future, timeout, "the breakpoint edit", wait_if_running=True)

    # -- running code on the guest thread (PAUSED only) ------------------------------

    def call_on_guest(self, fn: Callable[[], T], *, timeout: float | None = None) -> T:
        """Run ``fn()`` on the guest thread while PAUSED; its result, or its exception.

        For anything that must happen where the guest runs (calling a guest
        function to evaluate an expression, writing state through an API
        bound to the guest thread).  Guest code that ``fn`` calls does not
        stop: breakpoints hit in it count but are not reported, and a trap
        in it reaches ``fn`` as an exception.  ``timeout``: DebugError if
        ``fn`` has not finished by then (it still runs to its end).  Called
        on the guest thread itself (from inside ``fn``), ``fn`` runs at once.
        """
        if self._on_guest_thread():
            return fn()

        def evaluate() -> T:
            self._evaluating += 1
            try:
                if self.store.is_single_step:
                    # NB: the Debugger sets single-step for the chosen mode again when the guest resumes
                    self._single_step(False)
                return fn()
            finally:
                self._evaluating -= 1

        with self._lock:
            if self._state is not SessionState.PAUSED:
                raise DebugError(
                    f"cannot run on the guest thread: the session is {self._state.value}, not paused"
                )
            future: Future[T] = Future()
            self._commands.put(_Call(evaluate, future))
        return self._result(future, timeout, "the function", wait_if_running=False)

    def _result(
        self, future: Future[T], timeout: float | None, what: str, *, wait_if_running: bool
    ) -> T:
        try:
            return future.result(timeout)
        except FutureTimeout:
            if future.cancel():
                raise DebugError(
                    f"timed out after {timeout} s waiting for the guest: {what} was not run"
                ) from None
            if not wait_if_running:
                raise DebugError(
                    f"timed out after {timeout} s: {what} still runs on the guest thread"
                ) from None
            return future.result()
        except CancelledError:
            raise DebugError(f"{what} was cancelled") from None

    def _on_guest_thread(self) -> bool:
        return self._ident is not None and threading.get_ident() == self._ident

    # -- the guest thread ---------------------------------------------------------------

    def _run(self, fn: Callable[[], object]) -> None:
        """The worker thread: the guest call, then Exited."""
        self._ident = threading.get_ident()
        result: object = None
        error: BaseException | None = None
        try:
            if self.stop_on_entry:
                self.debugger.set_step()
                self._single_step(True)
            self._resume_state = self.debugger.step_state
            result = fn()
        except BaseException as exc:  # NB: whatever the call raised is the Exited event's error
            error = exc
        with self._lock:
            self._state = SessionState.EXITED
            self._current = None
            pending, self._pending = self._pending, []
            killed = self._killed
        for call in pending:
            if call.future.set_running_or_notify_cancel():
                call.future.set_exception(
                    DebugError("the guest call ended before the edit could be made")
                )
        try:
            self._cleanup()
        except BaseException as exc:
            if error is None:
                error = exc
        exit_code = error.code if isinstance(error, ExitTrap) else None
        self._events.put(Exited(result, error, exit_code, killed))

    def _cleanup(self) -> None:
        """Leave the Store as if no debugger had been there: no stepping, no pause, detached."""
        # a pause asked for too late must not stop the next call
        self.store.clear_interrupt_bits(INTERRUPT_REQUEST)
        self.debugger.set_continue()
        if self.store.is_single_step:
            self._single_step(False)
        self.debugger.detach()

    def _single_step(self, enabled: bool) -> None:
        with self.store.edit_breakpoints() as edit:
            edit.single_step(enabled)

    def _on_stop(self, debugger: Debugger, stop: Stop) -> None:
        """The Debugger's ``user_stop``, on the guest thread: report, then serve commands."""
        if not self._on_guest_thread():
            return  # not the session's call (the Store was used from another thread)
        with self._lock:
            self._breakpoints = tuple(debugger.breakpoints)  # a temporary one may be gone
        if self._evaluating:
            if self._kill_asked:
                debugger.set_quit()  # kill() while a call_on_guest function runs guest code
            return  # guest code called by a call_on_guest function: not a stop
        if stop.reason is StopReason.HOST_ERROR and isinstance(stop.event.exception, ExitTrap):
            return  # proc_exit: the program ends, Exited reports it
        with self._lock:
            pending, self._pending = self._pending, []
            kill, asked, internal = self._kill_asked, self._pause_asked, self._pause_internal
            self._pause_asked = self._pause_internal = False
            if kill or asked or internal:
                # this stop answers the request: no second stop for it (other bits stay)
                self.store.clear_interrupt_bits(INTERRUPT_REQUEST)
            silent = internal and not asked and not kill and stop.reason is StopReason.INTERRUPTED
            if not kill and not silent:
                if self._entry_pending and stop.reason is StopReason.STEP:
                    stop = dataclasses.replace(stop, reason=StopReason.ENTRY)
                self._entry_pending = False
                self._state = SessionState.PAUSED
                self._current = stop
                self._events.put(Stopped(stop))
        for call in pending:
            self._run_call(call)
        if kill:
            self._quit(debugger)
        elif silent:
            debugger.restore_step(self._resume_state)
        else:
            self._serve(debugger, stop)

    def _serve(self, debugger: Debugger, stop: Stop) -> None:
        """Run commands until one resumes the guest."""
        while True:
            command = self._commands.get()
            if isinstance(command, _Call):
                self._run_call(command)
                continue
            how = command.how
            if how is _How.KILL:
                self._quit(debugger)
                return
            if how is _How.CONTINUE:
                debugger.set_continue()
            elif how is _How.STEP_INTO:
                debugger.set_step()
            elif how is _How.STEP_OVER:
                debugger.set_next(stop.frame)
            else:
                debugger.set_return(stop.frame)
            self._resume_state = debugger.step_state
            return

    def _quit(self, debugger: Debugger) -> None:
        debugger.set_quit()
        with self._lock:
            self._killed = True

    @staticmethod
    def _run_call(call: _Call) -> None:
        future = call.future
        if not future.set_running_or_notify_cancel():
            return
        try:
            value = call.fn()
        except BaseException as exc:  # NB: handed to the waiting thread, which re-raises it
            future.set_exception(exc)
        else:
            future.set_result(value)
