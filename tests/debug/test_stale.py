"""Values kept past their stop, and debugger state kept past its guest call.

A frame, value list or register view belongs to one stop; once the guest
resumes, its addresses hold something else (a later call's frame), so every
access raises DebugError.  Stepping and run-to end with the outermost guest
call.  Writes of a value of the wrong type raise DebugError.
"""

from __future__ import annotations

from typing import Any

import pytest

from wasmdbg import Config, Engine, Instance, Module, Store, Trap
from wasmdbg.debug import DebugEvent, Debugger, Stop, StopReason
from wasmdbg.errors import DebugError
from wasmdbg.wasm.code import iter_body

FIB_WAT = """
(module
  (global $g (mut i32) (i32.const 7))
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
  (func $last (export "last") (param $x i32) (result i32)
    local.get $x)
  (func $boom (export "boom") (param $x i32) (result i32)
    unreachable)
  (func $other (export "other") (param $x i32) (result i32)
    local.get $x
    i32.const 1
    i32.add
    global.get $g
    i32.add))
"""
FIB, LAST, BOOM, OTHER = 0, 1, 2, 3


class World:
    def __init__(self) -> None:
        self.engine = Engine(Config(debug=True))
        self.store = Store(self.engine)
        self.module = Module(self.engine, FIB_WAT)
        self.exports = Instance(self.store, self.module, []).exports(self.store)

    def call(self, name: str, *args: Any) -> Any:
        return self.exports[name](self.store, *args)

    def pcs(self, func: int) -> list[int]:
        """The module offsets of the instructions of ``func``."""
        mdef = self.module.definition
        return [off for off, _, _ in iter_body(mdef, mdef.body(func))]


# -- defect: frames kept after the guest resumed ---------------------------------


def test_kept_frame_of_an_earlier_stop_is_refused() -> None:
    w = World()
    kept: list[Any] = []
    refused: list[str] = []

    def handler(store: Any, event: DebugEvent) -> None:
        frames = store.debug_frames()
        if not kept:
            kept.append(frames)
            kept.append(frames[0])
            kept.append(frames[0].locals)
            kept.append(frames[0].stack)
            return
        for what, attempt in [
            ("read", lambda: kept[1].locals[0]),
            ("write", lambda: kept[2].__setitem__(0, 10)),
            ("iterate", lambda: list(kept[3])),
            ("parent", lambda: kept[1].parent),
            ("frames", lambda: kept[0][1]),
        ]:
            try:
                attempt()
            except DebugError:
                refused.append(what)

    w.store.set_debug_handler(handler)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, w.pcs(FIB)[0])
    assert w.call("fib", 3) == 2  # a stale write would have changed a later call's n
    assert len(refused) % 5 == 0 and len(refused) >= 5
    assert set(refused) == {"read", "write", "iterate", "parent", "frames"}
    with pytest.raises(DebugError, match="resumed"):
        kept[2][0] = 10  # after the call, too
    with pytest.raises(DebugError):
        _ = kept[1].locals[0]


def test_frames_of_a_stop_are_valid_during_it_and_numbered() -> None:
    w = World()
    generations: list[int] = []

    def handler(store: Any, event: DebugEvent) -> None:
        frame = store.debug_frames()[0]
        generations.append(frame.stop.generation)
        frame.locals[0] = frame.locals[0]  # valid while paused

    w.store.set_debug_handler(handler)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, w.pcs(OTHER)[0])
    assert w.call("other", 1) == 9
    assert w.call("other", 1) == 9
    assert generations == sorted(generations) and len(set(generations)) == 2


# -- defect: stepping and run-to state leaking into the next call ------------------


class Recording(Debugger):
    """Records (reason, func, pc) of every stop and answers with ``actions``."""

    def __init__(self, store: Any, actions: list[Any]) -> None:
        super().__init__(store)
        self.actions = actions
        self.seen: list[tuple[StopReason, int | None, int | None]] = []

    def user_stop(self, stop: Stop) -> None:
        frame = stop.frame
        self.seen.append((stop.reason, frame.func_index if frame else None, stop.pc))
        if self.actions:
            self.actions.pop(0)(self)


def test_set_next_on_the_last_instruction_does_not_stop_the_next_call() -> None:
    w = World()
    last_pc = w.pcs(LAST)[-1]
    dbg = Recording(w.store, [lambda d: d.set_next()])
    bp = dbg.set_break(w.module, last_pc)
    assert w.call("last", 5) == 5
    assert dbg.seen == [(StopReason.BREAKPOINT, LAST, bp.site_pc)]
    assert not w.store.is_single_step and dbg.mode.name == "CONTINUE"
    assert w.call("other", 1) == 9  # an unrelated call runs through
    assert len(dbg.seen) == 1


def test_set_step_at_a_trap_stop_does_not_stop_the_next_call() -> None:
    w = World()
    dbg = Recording(w.store, [lambda d: d.set_step()])
    with pytest.raises(Trap):
        w.call("boom", 1)
    assert [s[0] for s in dbg.seen] == [StopReason.TRAP]
    assert not w.store.is_single_step
    assert w.call("other", 1) == 9
    assert len(dbg.seen) == 1


def test_a_run_to_never_reached_ends_with_the_call() -> None:
    w = World()
    fib_pc = w.pcs(FIB)[0]
    dbg = Recording(w.store, [lambda d: d.set_run_to(w.module, fib_pc)])
    dbg.set_break(w.module, w.pcs(OTHER)[0])
    assert w.call("other", 1) == 9
    assert len(dbg.seen) == 1
    assert w.store.breakpoints() == [(w.module, w.pcs(OTHER)[0])]  # the run-to is gone
    assert w.call("fib", 3) == 2  # no RUN_TO stop in a later call
    assert len(dbg.seen) == 1


def test_quit_ends_with_the_call() -> None:
    w = World()
    dbg = Recording(w.store, [lambda d: d.set_quit()])
    dbg.set_break(w.module, w.pcs(OTHER)[0])
    with pytest.raises(Trap):
        w.call("other", 1)
    assert w.call("other", 1) == 9  # the next call stops at the breakpoint, is not aborted
    assert len(dbg.seen) == 2


def test_store_single_step_ends_with_the_outermost_call() -> None:
    w = World()
    steps: list[int | None] = []

    def handler(store: Any, event: DebugEvent) -> None:
        steps.append(event.pc)
        with store.edit_breakpoints() as edit:
            edit.single_step(True)

    w.store.set_debug_handler(handler)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, w.pcs(LAST)[0])
    assert w.call("last", 2) == 2
    assert len(steps) >= 1 and not w.store.is_single_step
    w.store.clear_debug_handler()
    with w.store.edit_breakpoints() as edit:
        edit.remove_breakpoint(w.module, w.pcs(LAST)[0])
    w.store.set_debug_handler(handler)
    before = len(steps)
    assert w.call("other", 1) == 9
    assert len(steps) == before


# -- writes of the wrong type ------------------------------------------------------


@pytest.mark.parametrize("bad", ["7", None, [1], 1.5, 1 << 40, object()])
def test_wrong_type_writes_raise_debug_error(bad: Any) -> None:
    w = World()
    outcomes: list[str] = []

    def handler(store: Any, event: DebugEvent) -> None:
        frame = store.debug_frames()[0]
        targets = [("local", frame.locals), ("global", frame.globals)]
        if len(frame.stack):
            targets.append(("stack", frame.stack))
        for what, values in targets:
            try:
                values[0] = bad
            except DebugError:
                outcomes.append(what)

    w.store.set_debug_handler(handler)
    pcs = w.pcs(OTHER)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, pcs[2])  # global.get: x + 1 on the stack
    assert w.call("other", 1) == 9  # nothing was written
    assert sorted(outcomes) == ["global", "local", "stack"]


def test_globals_read_and_write_at_a_stop() -> None:
    w = World()

    def handler(store: Any, event: DebugEvent) -> None:
        g = store.debug_frames()[0].globals
        assert list(g) == [7]
        g[0] = 100

    w.store.set_debug_handler(handler)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, w.pcs(OTHER)[0])
    assert w.call("other", 1) == 102
