"""The Debugger core, scripted as (expected stop, action) pairs like test_bdb.py.

The guest is the fake of ``debug_fakes``: events reach the debugger only
through sites the edit sessions really patched, so these tests also check
that breakpoints and single-stepping are installed and removed correctly.

A script entry is ``((reason, func, pc[, locals]), action)``; ``reason`` is
a :class:`StopReason` value, ``locals`` (optional) the innermost frame's
locals as a tuple; ``action`` is ``"continue" | "step" | "next" | "return"
| "quit"`` or a callable ``(debugger, stop) -> action``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from debug_fakes import FakeAbort, FakeModule, FakeStore, FakeTrap, Guest
from scripted import Action, Scripted

from wasmdbg.debug.debugger import Debugger, RunState, Stop, StopReason
from wasmdbg.errors import DebugError
from wasmdbg.runtime.debug.events import DebugEventKind

MAIN, FACT, BOOM, HOSTY, OUTER, INNER, SPIN = range(7)


def main(g: Guest, n: int) -> int:
    n = g.at(0x10, n)
    g.at(0x12, n)
    r = int(g.call(fact, n))
    g.at(0x14, n)
    g.at(0x16, n)
    return r


def fact(g: Guest, n: int) -> int:
    n = g.at(0x20, n)
    n = g.at(0x22, n)
    if n <= 1:
        g.at(0x24, n)
        return 1
    g.at(0x26, n)
    r = int(g.call(fact, n - 1))
    n = g.at(0x28, n)
    g.at(0x2A, n)
    return int(n * r)


def boom(g: Guest, n: int) -> int:
    g.at(0x30, n)
    g.trap("integer divide by zero")
    return 0


def hosty(g: Guest, n: int) -> int:
    g.at(0x40, n)
    return int(g.host(lambda: 1 // (n - n)))


def outer(g: Guest, n: int) -> int:
    g.at(0x50, n)
    r = int(g.host(lambda: g.call(inner, n + 1)))
    g.at(0x52, n)
    return r


def inner(g: Guest, n: int) -> int:
    g.at(0x58, n)
    return n


def spin(g: Guest, n: int) -> int:
    i = 0
    while True:
        g.loop_header()
        i = g.at(0x60, i + 1)
        if i == 3:
            SPINNING.set()


SPINNING = threading.Event()


def _module(name: str = "m") -> FakeModule:
    return FakeModule(
        name,
        {
            MAIN: (main, [0x10, 0x12, 0x14, 0x16]),
            FACT: (fact, [0x20, 0x22, 0x24, 0x26, 0x28, 0x2A]),
            BOOM: (boom, [0x30]),
            HOSTY: (hosty, [0x40]),
            OUTER: (outer, [0x50, 0x52]),
            INNER: (inner, [0x58]),
            SPIN: (spin, [0x60]),
        },
        names={MAIN: "main", FACT: "fact"},
        local_names={FACT: {0: "n"}},
    )


Expect = tuple[Any, ...]


def brk(*pcs: int, **options: Any) -> Callable[[Scripted, FakeModule], None]:
    """A setup that sets one breakpoint per pc with the same options."""

    def setup(d: Scripted, m: FakeModule) -> None:
        for pc in pcs:
            d.set_break(m, pc, **options)

    return setup


def _run(
    script: Sequence[tuple[Expect, Action]],
    setup: Callable[[Scripted, FakeModule], None],
    body: Any = main,
    arg: int = 3,
) -> tuple[Any, Scripted, FakeStore, FakeModule]:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Scripted(store, script)
    setup(dbg, m)
    result = store.call(m, body, arg)
    assert dbg.script == [], f"stops never reached: {dbg.script}"
    return result, dbg, store, m


BP = StopReason.BREAKPOINT
STEP = StopReason.STEP


def test_breakpoint_and_continue() -> None:
    result, dbg, store, _ = _run(
        [((BP, FACT, 0x26), "continue"), ((BP, FACT, 0x26), "continue")],
        brk(0x26),
    )
    assert result == 6
    assert dbg.get_break(1).hits == 2
    assert store.seen.events[0].kind == DebugEventKind.BREAKPOINT


def test_conditional_breakpoint_in_recursive_function() -> None:
    result, dbg, _, _ = _run(
        [((BP, FACT, 0x20, (1,)), "continue")],
        brk(0x20, cond="n == 1"),
        arg=4,
    )
    assert result == 24
    assert dbg.get_break(1).hits == 4  # every hit counts, true or not


def test_condition_over_stack_depth_with_callable() -> None:
    def deep(frame: Any) -> bool:
        depth = 0
        while frame is not None:
            depth += 1
            frame = frame.parent
        return depth == 3

    _run(
        [((BP, FACT, 0x22, (2,)), "continue")],
        brk(0x21, cond=deep),
        arg=3,
    )


def test_ignore_count() -> None:
    _, dbg, _, _ = _run(
        [((BP, FACT, 0x20, (2,)), "continue"), ((BP, FACT, 0x20, (1,)), "continue")],
        brk(0x20, ignore=2),
        arg=4,
    )
    bp = dbg.get_break(1)
    assert (bp.hits, bp.ignore) == (4, 0)


def test_temporary_breakpoint_is_deleted() -> None:
    _, dbg, store, m = _run(
        [((BP, FACT, 0x20, (3,)), "continue")],
        brk(0x20, temporary=True),
    )
    assert dbg.breakpoints == []
    assert not store.state.is_breakpoint(m, 0x20)
    assert store.debug_code(m).enabled_pcs() == []


def test_failing_condition_stops_and_keeps_temporary() -> None:
    _, dbg, _, _ = _run(
        [((BP, FACT, 0x20), "continue")] * 3,
        brk(0x20, temporary=True, cond="no_such_name > 1"),
    )
    assert [bp.number for bp in dbg.breakpoints] == [1]


def test_function_breakpoint_by_name_and_slipped_pc() -> None:
    def setup(d: Scripted, m: FakeModule) -> None:
        bp = d.set_break_function(m, "fact")
        assert (bp.pc, bp.site_pc, bp.funcname, bp.func_index) == (0x20, 0x20, "fact", FACT)
        slipped = d.set_break(m, 0x15)
        assert (slipped.pc, slipped.site_pc, slipped.func_index) == (0x15, 0x16, MAIN)
        with pytest.raises(DebugError):
            d.set_break_function(m, "nope")

    _run(
        [((BP, FACT, 0x20, (1,)), "continue"), ((BP, MAIN, 0x16), "continue")],
        setup,
        arg=1,
    )


def test_step_into_exact_pc_sequence() -> None:
    seq = [
        (MAIN, 0x12),
        (FACT, 0x20),
        (FACT, 0x22),
        (FACT, 0x26),
        (FACT, 0x20),
        (FACT, 0x22),
        (FACT, 0x24),
        (FACT, 0x28),
        (FACT, 0x2A),
        (MAIN, 0x14),
        (MAIN, 0x16),
    ]
    script: list[tuple[Expect, Action]] = [((BP, MAIN, 0x10), "step")]
    script += [((STEP, f, pc), "step") for f, pc in seq[:-1]]
    script += [((STEP, *seq[-1]), "continue")]
    result, _, store, m = _run(script, brk(0x10), arg=2)
    assert result == 2
    assert not store.is_single_step
    assert store.debug_code(m).enabled_pcs() == [0x10]


def test_step_over_a_call() -> None:
    _run(
        [
            ((BP, MAIN, 0x12), "next"),
            ((STEP, MAIN, 0x14), "next"),
            ((STEP, MAIN, 0x16), "continue"),
        ],
        brk(0x12),
    )


def test_step_over_recursive_call_stays_in_frame() -> None:
    _run(
        [((BP, FACT, 0x26, (3,)), "next"), ((STEP, FACT, 0x28, (3,)), "continue")],
        brk(0x26, cond="n == 3"),
        arg=3,
    )


def test_step_over_at_end_of_function_returns_to_caller() -> None:
    _run(
        [((BP, FACT, 0x24, (1,)), "next"), ((STEP, FACT, 0x28, (2,)), "continue")],
        brk(0x24),
        arg=2,
    )


def test_step_out_of_deep_frame() -> None:
    def check_depth(d: Debugger, stop: Stop) -> str:
        assert len(stop.frames) == 5  # main + fact(4, 3, 2, 1)
        return "return"

    _run(
        [
            ((BP, FACT, 0x24, (1,)), check_depth),
            ((STEP, FACT, 0x28, (2,)), "return"),
            ((STEP, FACT, 0x28, (3,)), "return"),
            ((STEP, FACT, 0x28, (4,)), "return"),
            ((STEP, MAIN, 0x14, (4,)), "return"),  # out of the outermost: runs on
        ],
        brk(0x24),
        arg=4,
    )


def test_breakpoint_in_deeper_frame_interrupts_step_over() -> None:
    _run(
        [((BP, MAIN, 0x12), "next"), ((BP, FACT, 0x24), "continue")],
        brk(0x12, 0x24),
    )


def test_run_to_location() -> None:
    def run_to(d: Debugger, stop: Stop) -> str:
        assert d.set_run_to(stop.frame.module if stop.frame else None, 0x27) == 0x28
        return "continue"

    _, _, store, m = _run(
        [((BP, MAIN, 0x10), run_to), ((StopReason.RUN_TO, FACT, 0x28, (2,)), "continue")],
        brk(0x10),
    )
    assert store.state.breakpoints() == [(m, 0x10)]


def test_write_a_local() -> None:
    def poke(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        stop.frame.locals[0] = 5
        return "continue"

    result, _, _, _ = _run([((BP, FACT, 0x20, (3,)), poke)], brk(0x20, temporary=True))
    assert result == 120


def test_trap_stops_with_live_frames() -> None:
    def inspect(d: Debugger, stop: Stop) -> str:
        assert stop.event.kind == DebugEventKind.TRAP
        assert isinstance(stop.event.trap, FakeTrap)
        assert [f.func_index for f in stop.frames] == [BOOM]
        assert stop.frame is not None and list(stop.frame.locals) == [9]
        return "continue"

    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Scripted(store, [((StopReason.TRAP, BOOM, 0x30), inspect)])
    with pytest.raises(FakeTrap):
        store.call(m, boom, 9)
    assert dbg.script == []


def test_host_error_stops_with_live_frames() -> None:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Scripted(store, [((StopReason.HOST_ERROR, HOSTY, 0x40), "continue")])
    with pytest.raises(ZeroDivisionError):
        store.call(m, hosty, 2)
    assert isinstance(dbg.stops[0].event.exception, ZeroDivisionError)


def test_host_to_wasm_reentry_backtrace() -> None:
    def bt(d: Debugger, stop: Stop) -> str:
        assert [(f.func_index, f.pc) for f in stop.frames] == [(INNER, 0x58), (OUTER, 0x50)]
        return "step"

    result, _, _, _ = _run(
        [((BP, INNER, 0x58), bt), ((STEP, OUTER, 0x52), "continue")],
        brk(0x58),
        body=outer,
        arg=1,
    )
    assert result == 2


def test_quit_aborts_the_guest() -> None:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Scripted(store, [((BP, FACT, 0x20), "quit")])
    dbg.set_break(m, 0x20)
    with pytest.raises(FakeAbort):
        store.call(m, main, 3)
    assert dbg.state == RunState.RUNNING


def test_disable_enable_and_clear_sync_the_store() -> None:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Debugger(store)
    a = dbg.set_break(m, 0x20)
    b = dbg.set_break(m, 0x20, cond="n == 1")
    code = store.debug_code(m)
    assert store.state.refcount(m, 0x20) == 1  # one store reference per location
    dbg.disable_break(a.number)
    assert code.is_enabled(0x20)  # b still wants it
    dbg.disable_break(b.number)
    assert not code.is_enabled(0x20)
    dbg.enable_break(b.number)
    assert code.is_enabled(0x20)
    dbg.clear_break(b.number)
    assert not code.is_enabled(0x20)  # a is still disabled
    assert [bp.number for bp in dbg.breakpoints] == [a.number]
    dbg.clear_all_breaks()
    assert dbg.breakpoints == [] and store.state.breakpoints() == []
    with pytest.raises(DebugError):
        dbg.get_break(a.number)


def test_numbers_are_per_debugger() -> None:
    s1, s2 = FakeStore(), FakeStore()
    m = _module()
    s1.instantiate(m)
    s2.instantiate(m)
    assert Debugger(s1).set_break(m, 0x20).number == 1
    assert Debugger(s2).set_break(m, 0x22).number == 1


def test_breakpoint_in_one_store_does_not_fire_in_another() -> None:
    m = _module()
    s1, s2 = FakeStore(), FakeStore()
    s1.instantiate(m)
    s2.instantiate(m)
    d1 = Scripted(s1, [((BP, FACT, 0x20), "continue")] * 3)
    d1.set_break(m, 0x20)
    d2 = Scripted(s2, [])
    assert s2.call(m, main, 3) == 6
    assert d2.stops == [] and s2.seen.events == []
    assert s1.call(m, main, 3) == 6
    assert d1.script == []


def test_set_break_failure_leaves_no_breakpoint() -> None:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Debugger(store)
    store.debug_code(m).fail_unpublish = True
    with pytest.raises(Exception, match="refused"):
        dbg.set_break(m, 0x20)
    assert dbg.breakpoints == [] and dbg.get_breaks(m, 0x20) == []
    store.debug_code(m).fail_unpublish = False
    assert dbg.set_break(m, 0x20).number == 1


def test_detach_removes_everything() -> None:
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Debugger(store)
    dbg.set_break(m, 0x20)
    dbg.detach()
    assert store.handler is None and store.state.breakpoints() == []
    assert store.debug_code(m).enabled_pcs() == [] and dbg.state == RunState.DETACHED
    assert store.call(m, main, 3) == 6


def test_interrupt_from_another_thread() -> None:
    SPINNING.clear()
    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Scripted(
        store, [((StopReason.INTERRUPTED, SPIN, 0x60), "step"), ((StopReason.STEP, SPIN, 0x60), "quit")]
    )
    outcome: list[BaseException] = []

    def guest() -> None:
        try:
            store.call(m, spin, 0)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=guest)
    worker.start()
    assert SPINNING.wait(10)
    dbg.interrupt()
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], FakeAbort)
    assert dbg.script == []
    kinds = [e.kind for e in store.seen.events]
    assert kinds == [DebugEventKind.INTERRUPTED, DebugEventKind.STEP]


def test_paused_state_and_frames_helper() -> None:
    seen: list[Any] = []

    def look(d: Debugger, stop: Stop) -> None:
        seen.append((d.state, [f.func_index for f in d.frames()]))

    store = FakeStore()
    m = store.instantiate(_module())
    dbg = Debugger(store, on_stop=look)
    dbg.set_break(m, 0x24)
    store.call(m, main, 2)
    assert seen == [(RunState.PAUSED, [FACT, FACT, MAIN])]
    assert dbg.state == RunState.RUNNING and dbg.frames() == []


def test_step_commands_need_a_frame() -> None:
    store = FakeStore()
    store.instantiate(_module())
    dbg = Debugger(store)
    with pytest.raises(DebugError):
        dbg.set_next()
