"""The session controller on real compiled code: a guest on a worker thread, driven by commands.

Every wait has a timeout and every session is closed (killed, its daemon
thread joined) when a test ends, so a broken session fails a test instead
of hanging the run.  Expected pcs are module offsets from the decoder
(``iter_body``), as in ``test_e2e.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wasmdbg
from wasmdbg import (
    Config,
    Engine,
    Func,
    FuncType,
    Global,
    Linker,
    Module,
    Store,
    Trap,
    ValType,
    WasiConfig,
)
from wasmdbg.debug.debugger import Debugger, Stop, StopReason
from wasmdbg.debug.session import Exited, Session, SessionState, Stopped, stack_size_for
from wasmdbg.errors import DebugError
from wasmdbg.runtime.trap import TrapCode
from wasmdbg.runtime.wasi import ExitTrap
from wasmdbg.wasm.code import iter_body

TIMEOUT = 10.0  # seconds; only ever reached when something is broken

WAT = """
(module
  (import "host" "fail" (func $fail (param i32) (result i32)))
  (import "host" "poll" (func $poll (result i32)))
  (global $ticks (export "ticks") (mut i32) (i32.const 0))
  (func $fib (export "fib") (param $n i32) (result i32)
    local.get $n
    i32.const 2
    i32.lt_s
    if (result i32)
      local.get $n
    else
      local.get $n
      i32.const 1
      i32.sub
      call $fib
      local.get $n
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end)
  (func $forever (export "forever")
    loop
      global.get $ticks
      i32.const 1
      i32.add
      global.set $ticks
      br 0
    end)
  (func $tick
    global.get $ticks
    i32.const 1
    i32.add
    global.set $ticks)
  (func $done (result i32)
    global.get $ticks)
  (func $spin (export "spin") (result i32)
    loop
      call $tick
      call $poll
      i32.eqz
      br_if 0
    end
    call $done)
  (func $div (export "div") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.div_s)
  (func $callhost (export "callhost") (param $v i32) (result i32)
    local.get $v
    i32.const 1
    i32.add
    call $fail)
  (func $deep (export "deep") (param $n i32) (result i32)
    local.get $n
    i32.const 1
    i32.add
    call $deep)
  (func $wrap (export "wrap") (result i32)
    call $spin
    i32.const 1
    i32.add))
"""

FIB, FOREVER, TICK, DONE, SPIN, DIV, CALLHOST, WRAP = 2, 3, 4, 5, 6, 7, 8, 10

EXAMPLES = Path(wasmdbg.__file__).parent / "examples"


class World:
    """A debug engine, the module above, a store and its instance."""

    def __init__(self) -> None:
        self.engine = Engine(Config(debug=True))
        self.module = Module(self.engine, WAT)
        self.store = Store(self.engine)
        self.stop_polling = threading.Event()
        self.polls = 0
        linker = Linker(self.engine)

        def fail(v: int) -> int:
            raise RuntimeError(f"host function failed on {v}")

        def poll() -> int:
            self.polls += 1
            return int(self.stop_polling.is_set())

        i32 = ValType.i32()
        linker.define(self.store, "host", "fail", Func(self.store, FuncType([i32], [i32]), fail))
        linker.define(self.store, "host", "poll", Func(self.store, FuncType([], [i32]), poll))
        self.instance = linker.instantiate(self.store, self.module)
        self.exports = self.instance.exports(self.store)

    def func(self, name: str) -> Func:
        found = self.exports[name]
        assert isinstance(found, Func)
        return found

    def call(self, name: str, *args: int) -> Callable[[], Any]:
        func = self.func(name)
        return lambda: func(self.store, *args)

    def ticks(self) -> int:
        glob = self.exports["ticks"]
        assert isinstance(glob, Global)
        return int(glob.value(self.store))


def pcs(module: Module, func_index: int) -> list[int]:
    """The module offsets of a function's instructions, in order."""
    mdef = module.definition
    return [off for off, _, _ in iter_body(mdef, mdef.body(func_index))]


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def sessions() -> Iterator[Callable[..., Session]]:
    """Make sessions that are killed and joined when the test ends, however it ends."""
    made: list[Session] = []

    def make(store: Store, **kwargs: Any) -> Session:
        session = Session(store, **kwargs)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close(timeout=TIMEOUT)


def stopped(session: Session, reason: StopReason | None = None) -> Stopped:
    event = session.wait(TIMEOUT)
    assert isinstance(event, Stopped), f"expected a stop, got {event!r}"
    if reason is not None:
        assert event.reason is reason, event
    assert session.state is SessionState.PAUSED
    assert session.current is event.stop
    return event


def exited(session: Session) -> Exited:
    event = session.wait(TIMEOUT)
    assert isinstance(event, Exited), f"expected the call to end, got {event!r}"
    assert session.state is SessionState.EXITED
    assert session.current is None
    return event


def wait_until(predicate: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(int(TIMEOUT / 0.01)):
        if predicate():
            return
        done.wait(0.01)
    raise AssertionError("condition never became true")


# -- starting, entry, exit ---------------------------------------------------------


def test_run_to_exit_without_stops(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    assert session.state is SessionState.NOT_STARTED
    session.start(world.call("fib", 10))
    event = exited(session)
    assert event == Exited(result=55)


def test_stop_on_entry_before_the_first_instruction(
    world: World, sessions: Callable[..., Session]
) -> None:
    f = pcs(world.module, FIB)
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 5))
    ev = stopped(session, StopReason.ENTRY)
    frame = ev.stop.frame
    assert frame is not None
    assert (frame.func_name, frame.pc, list(frame.locals)) == ("fib", f[0], [5])
    assert len(ev.stop.frames) == 1
    session.step_into()
    ev = stopped(session, StopReason.STEP)
    assert ev.stop.pc == f[1]
    session.cont()
    assert exited(session) == Exited(result=5)
    # the session leaves the Store as it found it: later calls run plainly
    assert not world.store.is_single_step
    assert world.func("fib")(world.store, 7) == 13


def test_the_guest_runs_on_a_worker_thread_with_a_big_stack(
    world: World, sessions: Callable[..., Session]
) -> None:
    assert stack_size_for(2 * 1024 * 1024) >= 2 * 1024 * 1024 + 8 * 1024 * 1024
    session = sessions(world.store, stop_on_traps=False)
    session.start(world.call("deep", 0))
    event = exited(session)
    # the Wasm stack limit is reached before the thread's stack: a clean trap
    assert isinstance(event.error, Trap) and event.error.trap_code is TrapCode.STACK_OVERFLOW
    thread = session.guest_thread
    assert thread is not None and thread is not threading.current_thread() and thread.daemon


def test_the_guest_gets_its_whole_wasm_stack_on_the_worker(
    world: World, sessions: Callable[..., Session]
) -> None:
    depths: list[int] = []

    def on_stop(debugger: Debugger, stop: Stop) -> None:
        assert stop.frame is not None
        depths.append(int(stop.frame.locals[0]))

    debugger = Debugger(world.store, on_stop=on_stop)
    with pytest.raises(Trap):
        world.func("deep")(world.store, 0)  # on this thread
    debugger.detach()
    session = sessions(world.store)
    session.start(world.call("deep", 0))
    ev = stopped(session, StopReason.TRAP)
    assert ev.stop.frame is not None
    depth = int(ev.stop.frame.locals[0])
    assert depths and depth > 0.9 * depths[0]
    session.cont()
    assert isinstance(exited(session).error, Trap)


# -- breakpoints ---------------------------------------------------------------------


def test_breakpoint_by_pc_and_by_function_name(
    world: World, sessions: Callable[..., Session]
) -> None:
    f = pcs(world.module, FIB)
    session = sessions(world.store)
    by_pc = session.set_break(world.module, f[6])  # `local.get $n` in the else arm
    by_name = session.set_break_function(world.module, "fib", cond="l0 == 1")
    assert [bp.number for bp in session.breakpoints] == [by_pc.number, by_name.number]
    session.start(world.call("fib", 3))
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.breakpoint is by_pc and ev.stop.pc == f[6]
    assert ev.stop.frame is not None and list(ev.stop.frame.locals) == [3]
    session.cont()
    ev = stopped(session, StopReason.BREAKPOINT)  # fib(2) takes the else arm too
    assert ev.stop.breakpoint is by_pc and len(ev.stop.frames) == 2
    session.cont()
    ev = stopped(session, StopReason.BREAKPOINT)  # fib(1): the conditional one, at entry
    assert ev.stop.breakpoint is by_name and ev.stop.pc == f[0]
    assert len(ev.stop.frames) == 3
    session.clear_break(by_pc.number)  # while paused: applied on the guest thread
    session.clear_break(by_name.number)
    assert session.breakpoints == []
    session.cont()
    assert exited(session) == Exited(result=2)


def test_breakpoint_set_while_paused_and_temporary(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 4))
    stopped(session, StopReason.ENTRY)
    bp = session.set_break_function(world.module, FIB, temporary=True, cond="l0 == 2")
    assert session.breakpoints == [bp]
    session.cont()
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.frame is not None and list(ev.stop.frame.locals) == [2]
    assert session.breakpoints == []  # a temporary breakpoint goes at its hit
    session.cont()
    assert exited(session).result == 3


# -- stepping through a recursive fib -----------------------------------------------------


def test_step_into_over_and_out_through_recursive_fib(
    world: World, sessions: Callable[..., Session]
) -> None:
    f = pcs(world.module, FIB)
    call1 = f[9]  # the first `call $fib` (fib(n - 1)); f[5] is `else`
    session = sessions(world.store)
    bp = session.set_break(world.module, call1)
    session.start(world.call("fib", 4))
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.pc == call1 and len(ev.stop.frames) == 1
    session.clear_break(bp.number)

    session.step_into()  # into fib(3): its first instruction
    ev = stopped(session, StopReason.STEP)
    assert ev.stop.frame is not None
    assert (ev.stop.pc, list(ev.stop.frame.locals), len(ev.stop.frames)) == (f[0], [3], 2)

    # through the condition into the else arm, one instruction each, up to the call
    for expected in [f[1], f[2], f[3], f[6], f[7], f[8], call1]:
        session.step_over()
        ev = stopped(session, StopReason.STEP)
        assert (ev.stop.pc, len(ev.stop.frames)) == (expected, 2)
    session.step_over()  # over the whole of fib(2): the next instruction in this frame
    ev = stopped(session, StopReason.STEP)
    assert ev.stop.frame is not None
    assert (ev.stop.pc, list(ev.stop.frame.locals), len(ev.stop.frames)) == (f[10], [3], 2)
    assert list(ev.stop.frame.stack) == [1]  # fib(2)

    session.step_out()  # fib(3) returns 2 to fib(4), which goes on after its call
    ev = stopped(session, StopReason.STEP)
    assert ev.stop.frame is not None
    assert (ev.stop.pc, list(ev.stop.frame.locals), len(ev.stop.frames)) == (f[10], [4], 1)
    assert list(ev.stop.frame.stack) == [2]
    session.step_out()  # out of the outermost frame: runs to the end
    assert exited(session).result == 3


def test_step_out_of_the_outermost_frame_runs_to_the_end(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 1))
    ev = stopped(session, StopReason.ENTRY)
    assert ev.stop.frame is not None
    session.step_out()
    assert exited(session).result == 1


# -- pause ----------------------------------------------------------------------------------


def test_pause_an_infinite_loop_from_another_thread(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    session.start(world.call("forever"))
    assert session.state is SessionState.RUNNING
    assert session.wait(0.05) is None  # running, nothing to report
    asker = threading.Thread(target=session.pause, daemon=True)
    asker.start()
    ev = stopped(session, StopReason.INTERRUPTED)
    asker.join(TIMEOUT)
    assert ev.stop.frame is not None and ev.stop.frame.func_name == "forever"
    first = world.ticks()
    assert session.pause() is False  # already paused: nothing to do
    session.cont()
    wait_until(lambda: world.ticks() > first)  # it really runs again
    assert session.pause() is True
    ev = stopped(session, StopReason.INTERRUPTED)
    assert ev.stop.frame is not None and ev.stop.frame.func_name == "forever"
    session.kill()
    event = exited(session)
    assert event.killed and isinstance(event.error, Trap)
    assert event.error.trap_code is TrapCode.DEBUGGER_ABORT
    assert session.pause() is False and world.store.vm.interrupt == 0


def test_pause_while_stepping_is_reported(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("forever"))
    stopped(session, StopReason.ENTRY)
    session.cont()
    session.pause()
    stopped(session, StopReason.INTERRUPTED)
    session.step_into()
    ev = stopped(session, StopReason.STEP)
    assert ev.stop.frame is not None and ev.stop.frame.func_name == "forever"


def test_one_pause_gives_one_stop_even_when_a_breakpoint_comes_first(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    bp = session.set_break_function(world.module, TICK)
    session.start(world.call("spin"))
    stopped(session, StopReason.BREAKPOINT)
    session.cont()
    assert session.pause() is True  # races with the breakpoint in the very next call
    ev = stopped(session)
    assert ev.reason in (StopReason.BREAKPOINT, StopReason.INTERRUPTED)
    session.clear_break(bp.number)
    session.cont()
    assert session.wait(0.2) is None  # the pause was answered: no second stop for it
    world.stop_polling.set()
    assert isinstance(exited(session).result, int)


# -- breakpoints edited while the guest runs ----------------------------------------------------


def test_set_break_while_running_is_hit(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    session.start(world.call("spin"))
    wait_until(lambda: world.ticks() > 100)
    bp = session.set_break_function(world.module, TICK, timeout=TIMEOUT)  # not reported itself
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.breakpoint is bp and ev.stop.frame is not None
    assert ev.stop.frame.func_index == TICK and len(ev.stop.frames) == 2
    assert session.breakpoints == [bp]
    session.clear_break(bp.number)
    world.stop_polling.set()
    session.cont()
    assert isinstance(exited(session).result, int)


def test_a_breakpoint_is_known_before_its_first_hit_is_reported(
    world: World, sessions: Callable[..., Session]
) -> None:
    """``placed`` runs where the edit is made, before the guest can reach the
    breakpoint: a front end handling stops on another thread than the one
    that set it already knows the stop's breakpoint."""
    session = sessions(world.store)
    session.start(world.call("spin"))
    wait_until(lambda: world.ticks() > 100)
    known: dict[int, str] = {}
    setter = threading.Thread(
        target=lambda: session.set_break(
            world.module, pcs(world.module, TICK)[0], timeout=TIMEOUT,
            placed=lambda bp: known.setdefault(bp.number, "mine"),
        )
    )
    setter.start()
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.breakpoint is not None and known.get(ev.stop.breakpoint.number) == "mine"
    setter.join()
    session.clear_break(ev.stop.breakpoint.number)
    world.stop_polling.set()
    session.cont()
    assert isinstance(exited(session).result, int)


def test_clear_break_while_running(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    bp = session.set_break_function(world.module, DONE)
    session.start(world.call("spin"))
    wait_until(lambda: world.ticks() > 100)
    assert session.clear_break(bp.number, timeout=TIMEOUT) is bp
    assert session.breakpoints == [] and session.state is SessionState.RUNNING
    world.stop_polling.set()
    event = exited(session)  # `done` ran without stopping
    assert isinstance(event.result, int) and event.result > 100


def test_many_edits_while_running_take_effect_and_stay_silent(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    t = pcs(world.module, TICK)
    session.start(world.call("spin"))
    for i in range(500):  # 1,000 edits
        bp = session.set_break(world.module, t[i % len(t)], cond="False", timeout=TIMEOUT)
        assert session.breakpoints == [bp]
        assert world.store.breakpoints() == [(world.module, bp.site_pc)]
        session.clear_break(bp.number, timeout=TIMEOUT)
        assert world.store.breakpoints() == []
    assert session.state is SessionState.RUNNING
    assert session.wait(0) is None  # no stop was reported for any of them
    before = world.ticks()
    wait_until(lambda: world.ticks() > before)
    world.stop_polling.set()
    assert isinstance(exited(session).result, int)


def test_edits_from_many_threads_while_running(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    t = pcs(world.module, TICK)
    session.start(world.call("spin"))
    errors: list[BaseException] = []

    def editor() -> None:
        try:
            for _ in range(25):
                bp = session.set_break(world.module, t[0], cond="False", timeout=TIMEOUT)
                session.clear_break(bp.number, timeout=TIMEOUT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=editor, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert session.breakpoints == [] and world.store.breakpoints() == []
    assert session.wait(0) is None
    world.stop_polling.set()
    assert isinstance(exited(session).result, int)


def test_disable_and_enable_while_paused_and_running(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    bp = session.set_break_function(world.module, TICK)
    session.start(world.call("spin"))
    stopped(session, StopReason.BREAKPOINT)
    session.disable_break(bp.number)  # paused
    session.cont()
    assert session.wait(0.1) is None  # runs on past the disabled breakpoint
    session.enable_break(bp.number, timeout=TIMEOUT)  # running
    ev = stopped(session, StopReason.BREAKPOINT)
    assert ev.stop.breakpoint is bp and bp.enabled


def test_an_interrupt_nobody_asked_for_is_reported(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    session.start(world.call("forever"))
    world.store.interrupt()  # what Ctrl-C does under store.interrupt_on_sigint()
    ev = stopped(session, StopReason.INTERRUPTED)
    assert ev.stop.frame is not None and ev.stop.frame.func_name == "forever"


def test_pauses_and_edits_from_two_threads_at_once(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    t = pcs(world.module, TICK)
    session.start(world.call("spin"))
    errors: list[BaseException] = []
    reasons: list[StopReason] = []

    def pauser() -> None:
        try:
            for _ in range(50):
                if session.pause():  # True: exactly one stop follows
                    event = session.wait(TIMEOUT)
                    assert isinstance(event, Stopped), event
                    reasons.append(event.reason)
                    session.cont()
        except BaseException as exc:
            errors.append(exc)

    def editor() -> None:
        try:
            for i in range(100):
                bp = session.set_break(world.module, t[i % len(t)], cond="False", timeout=TIMEOUT)
                session.clear_break(bp.number, timeout=TIMEOUT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fn, daemon=True) for fn in (pauser, editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert reasons == [StopReason.INTERRUPTED] * 50
    assert session.breakpoints == [] and world.store.breakpoints() == []
    assert session.state is SessionState.RUNNING and session.wait(0.05) is None
    world.stop_polling.set()
    assert isinstance(exited(session).result, int)


def test_a_silent_stop_keeps_the_step_mode(world: World, sessions: Callable[..., Session]) -> None:
    w, t = pcs(world.module, WRAP), pcs(world.module, TICK)
    session = sessions(world.store)
    session.set_break(world.module, w[0])  # `call $spin`
    session.start(world.call("wrap"))
    stopped(session, StopReason.BREAKPOINT)
    session.clear_break(1)
    session.step_over()  # over spin, which runs until the test lets it return
    for _ in range(5):
        bp = session.set_break(world.module, t[0], cond="False", timeout=TIMEOUT)
        session.clear_break(bp.number, timeout=TIMEOUT)
    assert session.state is SessionState.RUNNING and session.wait(0) is None
    world.stop_polling.set()
    ev = stopped(session, StopReason.STEP)  # still stepping over: stops in wrap, after the call
    assert (ev.stop.pc, len(ev.stop.frames)) == (w[1], 1)
    session.cont()
    assert isinstance(exited(session).result, int)


# -- kill ---------------------------------------------------------------------------------------


def test_kill_while_running(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    session.start(world.call("forever"))
    wait_until(lambda: world.ticks() > 0)
    session.kill()
    event = exited(session)
    assert event.killed and isinstance(event.error, Trap)
    assert event.error.trap_code is TrapCode.DEBUGGER_ABORT
    session.kill()  # once exited: nothing to do
    # the Store works on after the session
    assert world.func("fib")(world.store, 6) == 8


def test_kill_while_paused(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 20))
    stopped(session, StopReason.ENTRY)
    session.kill()
    # NB: the guest thread may reach its exit before this thread looks
    assert session.state in (SessionState.RUNNING, SessionState.EXITED)
    event = exited(session)
    assert event.killed and event.result is None
    assert isinstance(event.error, Trap) and event.error.trap_code is TrapCode.DEBUGGER_ABORT


def test_kill_ends_a_call_on_guest_that_never_returns(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 3))
    stopped(session, StopReason.ENTRY)
    forever = world.func("forever")
    outcome: list[BaseException] = []

    def evaluate() -> None:
        try:
            session.call_on_guest(lambda: forever(world.store), timeout=TIMEOUT)
        except BaseException as exc:
            outcome.append(exc)

    evaluator = threading.Thread(target=evaluate, daemon=True)
    evaluator.start()
    wait_until(lambda: world.ticks() > 0)  # the guest thread is inside `forever`
    session.kill()
    evaluator.join(TIMEOUT)
    assert len(outcome) == 1 and isinstance(outcome[0], Trap)
    assert outcome[0].trap_code is TrapCode.DEBUGGER_ABORT
    event = exited(session)
    assert event.killed and event.result is None


# -- traps and host errors ------------------------------------------------------------------------


def test_trap_stops_with_live_frames_then_exits_with_the_trap(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    session.start(world.call("div", 7, 0))
    ev = stopped(session, StopReason.TRAP)
    frame = ev.stop.frame
    assert frame is not None and frame.func_name == "div"
    assert list(frame.locals) == [7, 0]  # readable from this (another) thread
    with pytest.raises(DebugError):
        frame.locals[0] = 1  # a trapped frame unwinds next: read-only
    session.cont()
    event = exited(session)
    assert (
        isinstance(event.error, Trap) and event.error.trap_code is TrapCode.INTEGER_DIVISION_BY_ZERO
    )
    assert not event.killed and event.exit_code is None


def test_host_function_error_stops_then_exits_with_it(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store)
    session.start(world.call("callhost", 41))
    ev = stopped(session, StopReason.HOST_ERROR)
    assert isinstance(ev.stop.event.exception, RuntimeError)
    assert ev.stop.frame is not None and ev.stop.frame.func_name == "callhost"
    assert list(ev.stop.frame.locals) == [41]
    session.cont()
    event = exited(session)
    assert event.error is ev.stop.event.exception


def test_traps_need_not_stop(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store, stop_on_traps=False)
    session.start(world.call("div", 1, 0))
    assert isinstance(exited(session).error, Trap)


# -- writing state, call_on_guest ---------------------------------------------------------------


def test_frame_writes_from_the_front_end_thread(
    world: World, sessions: Callable[..., Session]
) -> None:
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 5))
    ev = stopped(session, StopReason.ENTRY)
    assert ev.stop.frame is not None
    ev.stop.frame.locals[0] = 10
    session.cont()
    assert exited(session).result == 55


def test_call_on_guest(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    session.set_break_function(world.module, "fib")
    session.start(world.call("fib", 3))
    ev = stopped(session, StopReason.BREAKPOINT)
    guest = session.guest_thread
    assert guest is not None
    assert session.call_on_guest(threading.get_ident) == guest.ident
    # guest code run from there does not stop at the breakpoint, and returns its value
    fib = world.func("fib")
    assert session.call_on_guest(lambda: fib(world.store, 10)) == 55
    with pytest.raises(Trap) as trap:  # ... or re-raises what it raised
        session.call_on_guest(lambda: world.func("div")(world.store, 1, 0))
    assert trap.value.trap_code is TrapCode.INTEGER_DIVISION_BY_ZERO

    def nested() -> int:
        return session.call_on_guest(lambda: 42)  # on the guest thread already: runs at once

    assert session.call_on_guest(nested) == 42
    # the stop is still the one reported, and the guest resumes from it
    assert session.current is ev.stop and session.state is SessionState.PAUSED
    assert ev.stop.frame is not None and list(ev.stop.frame.locals) == [3]
    session.clear_break(1)
    session.cont()
    assert exited(session).result == 2


def test_call_on_guest_keeps_single_step_for_the_resume(
    world: World, sessions: Callable[..., Session]
) -> None:
    f = pcs(world.module, FIB)
    session = sessions(world.store, stop_on_entry=True)
    session.start(world.call("fib", 2))
    stopped(session, StopReason.ENTRY)
    fib = world.func("fib")
    assert session.call_on_guest(lambda: fib(world.store, 6)) == 8
    session.step_into()
    assert stopped(session, StopReason.STEP).stop.pc == f[1]


# -- a WASI program -----------------------------------------------------------------------------


def wasi_world(argv: list[str]) -> tuple[Store, Func, list[bytes], list[bytes]]:
    engine = Engine(Config(debug=True))
    module = Module(engine, (EXAMPLES / "primes.wasm").read_bytes())
    store = Store(engine)
    out: list[bytes] = []
    err: list[bytes] = []
    wasi = WasiConfig()
    wasi.argv = argv
    wasi.stdout_custom = out.append
    wasi.stderr_custom = err.append
    store.set_wasi(wasi)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    assert isinstance(start, Func)
    return store, start, out, err


def test_wasi_program_runs_to_exit_with_its_output(sessions: Callable[..., Session]) -> None:
    store, start, out, _err = wasi_world(["primes", "20"])
    session = sessions(store, stop_on_entry=True)
    session.start(lambda: start(store))
    ev = stopped(session, StopReason.ENTRY)
    assert ev.stop.frame is not None and (ev.stop.frame.func_name or "").startswith("_start")
    session.cont()
    event = exited(session)
    assert event.error is None and event.exit_code is None  # main returned 0: no proc_exit
    assert b"".join(out) == b"primes below 20: 2 3 5 7 11 13 17 19\n8 primes\n"


def test_wasi_exit_code_is_not_a_stop(sessions: Callable[..., Session]) -> None:
    store, start, out, err = wasi_world(["primes", "-1"])
    session = sessions(store)  # stop_on_traps: proc_exit is still not a stop
    session.start(lambda: start(store))
    event = exited(session)
    assert isinstance(event.error, ExitTrap) and event.exit_code == 2
    assert b"".join(err) == b"primes: N must be between 0 and 100000000\n" and out == []


# -- misuse and waiting ----------------------------------------------------------------------------


def test_misuse_raises_debug_error(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    for call in (
        session.cont,
        session.step_into,
        session.step_over,
        session.step_out,
        session.kill,
        session.pause,
    ):
        with pytest.raises(DebugError):
            call()  # not started
    with pytest.raises(DebugError):
        session.call_on_guest(lambda: None)
    session.start(world.call("forever"))
    with pytest.raises(DebugError):
        session.start(world.call("forever"))  # twice
    for call in (session.cont, session.step_into, session.step_over, session.step_out):
        with pytest.raises(DebugError):
            call()  # running
    with pytest.raises(DebugError):
        session.call_on_guest(lambda: None)
    session.pause()
    stopped(session, StopReason.INTERRUPTED)
    session.cont()
    with pytest.raises(DebugError):
        session.cont()  # resumed already: running again
    with pytest.raises(DebugError):
        session.clear_break(
            99, timeout=TIMEOUT
        )  # no such breakpoint: the Debugger's error, re-raised
    session.kill()
    exited(session)
    for call in (session.cont, session.step_into):
        with pytest.raises(DebugError):
            call()  # exited
    with pytest.raises(DebugError):
        session.set_break_function(world.module, "fib")
    with pytest.raises(DebugError):
        session.start(world.call("fib", 1))


def test_set_break_times_out_when_the_guest_never_stops(
    world: World, sessions: Callable[..., Session]
) -> None:
    release = threading.Event()
    store = world.store
    block = Func(store, FuncType([], []), lambda: release.wait(TIMEOUT) and None)
    session = sessions(store)
    session.start(lambda: block(store))  # inside a host function: no interrupt check runs
    with pytest.raises(DebugError, match="timed out"):
        session.set_break_function(world.module, "fib", timeout=0.05)
    release.set()
    assert exited(session) == Exited()
    assert session.breakpoints == [] and world.store.breakpoints() == []


def test_wait_times_out(world: World, sessions: Callable[..., Session]) -> None:
    session = sessions(world.store)
    assert session.wait(0.01) is None  # not started: nothing will come
    assert session.wait(0) is None
    session.start(world.call("forever"))
    assert session.wait(0.05) is None
    session.kill()
    assert isinstance(session.wait(TIMEOUT), Exited)
    assert session.wait(0.01) is None  # nothing after Exited


def test_close_ends_a_paused_session(world: World) -> None:
    with Session(world.store, stop_on_entry=True) as session:
        session.start(world.call("forever"))
        stopped(session, StopReason.ENTRY)
    assert session.state is SessionState.EXITED
    thread = session.guest_thread
    assert thread is not None and not thread.is_alive()
    assert exited(session).killed
