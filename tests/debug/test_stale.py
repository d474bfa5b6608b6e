"""Values kept past their stop, and debugger state kept past its guest call.

A frame, value list or register view belongs to one stop; once the guest
resumes, its addresses hold something else (a later call's frame), so every
access raises DebugError.  Stepping and run-to end with the outermost guest
call.  Writes of a value of the wrong type raise DebugError.
"""

from __future__ import annotations

from typing import Any

import pytest

from wasmdbg import Config, Engine, Instance, Module, Store
from wasmdbg.debug import DebugEvent
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
