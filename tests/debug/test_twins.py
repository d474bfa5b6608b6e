"""NOP-free twins: unarmed functions run their twin, arming moves live frames over.

Every test runs with ``Config(debug=True, debug_twins=True)``; the pcs are
module offsets from the decoder, so nothing depends on machine-code layout.
The tests that set a breakpoint in a frame already running a twin fail if
the frame is not moved to the debug version (the breakpoint would be
missed in that activation).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from wasmdbg import Config, Engine, Func, FuncType, Linker, Module, Store, Trap, ValType
from wasmdbg.debug import DebugEvent, DebugEventKind, Resume
from wasmdbg.jit.x64 import call_rel32_bytes
from wasmdbg.wasm.code import iter_body

WAT = """
(module
  (import "host" "probe" (func $probe (param i32) (result i32)))
  (func $leaf (export "leaf") (param $x i32) (result i32)
    local.get $x
    call $probe
    i32.const 3
    i32.mul)
  (func $mid (export "mid") (param $y i32) (result i32)
    (local $t i32)
    local.get $y
    i32.const 100
    i32.add
    local.set $t
    local.get $t
    call $leaf
    local.get $t
    i32.add)
  (func $spin (export "spin") (param $n i64) (result i64)
    (local $acc i64)
    (loop $l
      local.get $acc
      i64.const 1
      i64.add
      local.set $acc
      local.get $n
      local.get $acc
      i64.gt_u
      br_if $l)
    local.get $acc)
  (func $div (export "div") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.div_s)
  (func $calls_div (export "calls_div") (param $a i32) (result i32)
    (local $k i32)
    i32.const 77
    local.set $k
    local.get $a
    i32.const 0
    call $div
    local.get $k
    i32.add))
"""

LEAF, MID, SPIN, DIV, CALLS_DIV = 1, 2, 3, 4, 5


def pcs(module: Module, func_index: int) -> list[tuple[int, str]]:
    """(module offset, opcode name) of a function's instructions, in order."""
    from wasmdbg.wasm.opcodes import OPCODES

    mdef = module.definition
    return [(off, OPCODES[op].name) for off, op, _ in iter_body(mdef, mdef.body(func_index))]


def pc_after_call(module: Module, func_index: int) -> int:
    ops = pcs(module, func_index)
    i = next(i for i, (_, name) in enumerate(ops) if name == "call")
    return ops[i + 1][0]


class World:
    def __init__(self, twins: bool = True) -> None:
        self.engine = Engine(Config(debug=True, debug_twins=twins))
        self.module = Module(self.engine, WAT)
        self.store = Store(self.engine)
        self.probe: list[Any] = []
        self.on_probe: Any = None
        linker = Linker(self.engine)

        def probe(v: int) -> int:
            code = self.store.code_objects[self.module]
            self.probe.append(code.in_twin(int(self.store.vm.last_exit_pc)))
            if self.on_probe is not None:
                self.on_probe()
            return v + 1

        linker.define(
            self.store, "host", "probe", Func(self.store, FuncType([ValType.i32()], [ValType.i32()]), probe)
        )
        self.exports = linker.instantiate(self.store, self.module).exports(self.store)

    def call(self, name: str, *args: int) -> Any:
        return self.exports[name](self.store, *args)

    def add(self, pc: int) -> None:
        with self.store.edit_breakpoints() as edit:
            edit.add_breakpoint(self.module, pc)

    def remove(self, pc: int) -> None:
        with self.store.edit_breakpoints() as edit:
            edit.remove_breakpoint(self.module, pc)


def test_unarmed_functions_run_their_twin_and_arming_switches_new_calls() -> None:
    w = World()
    w.store.set_debug_handler(lambda store, event: None)
    assert w.call("leaf", 1) == 6
    first = pcs(w.module, LEAF)[0][0]
    w.add(first)
    assert w.call("leaf", 1) == 6
    w.remove(first)
    assert w.call("leaf", 1) == 6
    # twin, debug version (armed), twin again (disarming switches new calls back)
    assert w.probe == [True, False, True]


def test_twins_off_runs_debug_code_only() -> None:
    w = World(twins=False)
    assert w.call("leaf", 1) == 6
    assert w.probe == [False]
    assert not w.store.code_objects[w.module].compiled.twins


def test_breakpoint_in_a_twin_caller_hits_after_the_callee_returns() -> None:
    """mid runs its twin; a stop in leaf sets a breakpoint after mid's call."""
    w = World()
    after = pc_after_call(w.module, MID)
    leaf_first = pcs(w.module, LEAF)[0][0]
    seen: list[tuple[DebugEventKind, int | None, int | None, list[Any]]] = []

    def handler(store: Store, event: DebugEvent) -> None:
        frames = store.debug_frames()
        seen.append((event.kind, event.func_index, event.pc, [list(f.locals) for f in frames]))
        if event.pc == leaf_first:
            # the caller, still in its twin: backtrace and locals read as usual
            assert [f.func_index for f in frames] == [LEAF, MID]
            assert frames[1].pc == next(pc for pc, n in pcs(w.module, MID) if n == "call")
            with store.edit_breakpoints() as edit:
                edit.add_breakpoint(w.module, after)

    w.store.set_debug_handler(handler)
    w.add(leaf_first)
    assert w.call("mid", 5) == 106 * 3 + 105
    kinds = [(k, f, pc) for k, f, pc, _ in seen]
    assert kinds == [
        (DebugEventKind.BREAKPOINT, LEAF, leaf_first),
        (DebugEventKind.BREAKPOINT, MID, after),
    ]
    assert seen[0][3] == [[105], [5, 105]]
    assert w.probe == [False]  # leaf was armed


def test_result_of_a_moved_frame_is_right() -> None:
    w = World()
    plain = World(twins=False)
    leaf_first = pcs(w.module, LEAF)[0][0]
    after = pc_after_call(w.module, MID)

    def handler(store: Store, event: DebugEvent) -> None:
        if event.pc == leaf_first:
            with store.edit_breakpoints() as edit:
                edit.add_breakpoint(w.module, after)

    w.store.set_debug_handler(handler)
    w.add(leaf_first)
    assert w.call("mid", 5) == plain.call("mid", 5) == (106 * 3) + 105


def test_stepping_out_of_a_callee_stops_in_the_twin_caller() -> None:
    """Single-stepping from leaf reaches mid (which entered leaf from its twin)
    right after the call, and every instruction of mid after it."""
    w = World()
    leaf_first = pcs(w.module, LEAF)[0][0]
    mid_ops = pcs(w.module, MID)
    after_i = next(i for i, (_, n) in enumerate(mid_ops) if n == "call") + 1
    stops: list[tuple[int | None, int | None]] = []

    def handler(store: Store, event: DebugEvent) -> None:
        stops.append((event.func_index, event.pc))
        if event.pc == leaf_first:
            with store.edit_breakpoints() as edit:
                edit.single_step(True)

    w.store.set_debug_handler(handler)
    w.add(leaf_first)
    w.call("mid", 5)
    in_mid = [pc for f, pc in stops if f == MID]
    assert in_mid == [pc for pc, _ in mid_ops[after_i:]]


def _spin_until_paused(w: World, action: Any) -> list[tuple[DebugEventKind, int | None, int]]:
    """Run spin in the guest thread; ``action(store, event)`` runs at each stop."""
    events: list[tuple[DebugEventKind, int | None, int]] = []

    def handler(store: Store, event: DebugEvent) -> Any:
        frames = store.debug_frames()
        events.append((event.kind, event.pc, frames[0].fp))
        return action(store, event, frames)

    w.store.set_debug_handler(handler)
    timer = threading.Timer(0.2, w.store.interrupt)
    watchdog = threading.Timer(10, w.store.interrupt)  # a missed breakpoint fails, not hangs
    timer.start()
    watchdog.start()
    try:
        with pytest.raises(Trap):
            w.call("spin", 1 << 62)
    finally:
        timer.cancel()
        watchdog.cancel()
    return events


def test_breakpoint_set_at_a_pause_hits_in_the_same_activation() -> None:
    w = World()
    body = pcs(w.module, SPIN)
    target = body[3][0]  # i64.add in the loop
    pauses: list[DebugEvent] = []

    def action(store: Store, event: DebugEvent, frames: Any) -> Any:
        pauses.append(event)
        if event.kind == DebugEventKind.INTERRUPTED and len(pauses) == 1:
            with store.edit_breakpoints() as edit:
                edit.add_breakpoint(w.module, target)
            return None
        return Resume.ABORT

    events = _spin_until_paused(w, action)
    assert [(k, pc) for k, pc, _ in events] == [
        (DebugEventKind.INTERRUPTED, body[0][0]),  # the loop header's check
        (DebugEventKind.BREAKPOINT, target),
    ]
    assert events[0][2] == events[1][2]  # the same frame


def test_breakpoint_set_from_another_thread_hits_in_the_running_activation() -> None:
    w = World()
    body = pcs(w.module, SPIN)
    target = body[4][0]
    hit = threading.Event()
    events: list[tuple[DebugEventKind, int | None]] = []

    def handler(store: Store, event: DebugEvent) -> Any:
        events.append((event.kind, event.pc))
        hit.set()
        return Resume.ABORT

    w.store.set_debug_handler(handler)

    def editor() -> None:
        threading.Event().wait(0.2)
        w.add(target)

    thread = threading.Thread(target=editor)
    watchdog = threading.Timer(10, w.store.interrupt)  # a missed breakpoint fails, not hangs
    thread.start()
    watchdog.start()
    try:
        with pytest.raises(Trap):
            w.call("spin", 1 << 62)
    finally:
        watchdog.cancel()
    thread.join()
    assert events == [(DebugEventKind.BREAKPOINT, target)]


def test_breakpoint_set_by_a_host_call_hits_in_the_twin_caller() -> None:
    """leaf (twin) calls probe; probe arms leaf: the rest of leaf runs the debug version."""
    w = World()
    after = pc_after_call(w.module, LEAF)
    seen: list[tuple[DebugEventKind, int | None]] = []
    w.store.set_debug_handler(lambda store, event: seen.append((event.kind, event.pc)))
    w.on_probe = lambda: w.add(after)
    # NB: the frame that called the host moves at its next callback, which
    # the INTERRUPT_TWIN bit makes at the next interrupt check: leaf has none
    # after its call, so mid's frame (returning into the debug version) is
    # what is checked here
    assert w.call("leaf", 1) == 6
    assert w.probe == [True]
    w.on_probe = None
    assert w.call("leaf", 1) == 6
    assert seen[-1] == (DebugEventKind.BREAKPOINT, after)


def test_trap_in_twin_code_stops_with_live_frames() -> None:
    w = World()
    plain = World(twins=False)
    div_pc = next(pc for pc, n in pcs(w.module, DIV) if n == "i32.div_s")
    stops: list[tuple[DebugEventKind, list[int], list[int | None], list[list[Any]]]] = []

    def handler(store: Store, event: DebugEvent) -> None:
        frames = store.debug_frames()
        stops.append(
            (event.kind, [f.func_index for f in frames], [f.pc for f in frames], [list(f.locals) for f in frames])
        )

    w.store.set_debug_handler(handler)
    with pytest.raises(Trap) as info:
        w.call("calls_div", 9)
    with pytest.raises(Trap) as plain_info:
        plain.call("calls_div", 9)
    assert len(stops) == 1
    kind, funcs, frame_pcs, local_values = stops[0]
    assert kind == DebugEventKind.TRAP
    assert funcs == [DIV, CALLS_DIV]
    assert frame_pcs == [div_pc, next(pc for pc, n in pcs(w.module, CALLS_DIV) if n == "call")]
    assert local_values == [[9, 0], [9, 77]]
    # the Trap's backtrace reads the same as without twins
    assert [(f.func_index, f.module_offset) for f in info.value.frames] == [
        (f.func_index, f.module_offset) for f in plain_info.value.frames
    ]


def test_every_twin_return_address_maps_into_the_same_function() -> None:
    w = World()
    code = w.store.code_objects[w.module]
    compiled = code.compiled
    assert len(compiled.twins) == len(compiled.functions)
    for func, twin in zip(compiled.functions, compiled.twins, strict=True):
        ours = sorted(set(twin.call_sites) | set(twin.trap_sites))
        assert [compiled.twin_returns[r] for r in ours] == sorted(set(func.call_sites) | set(func.trap_sites))
        for r in ours:
            assert twin.call_sites.get(r, twin.trap_sites.get(r)) == func.call_sites.get(
                compiled.twin_returns[r], func.trap_sites.get(compiled.twin_returns[r])
            )
        assert code.memory.read(func.start, 1) == b"\xe9"  # unarmed: jmp to the twin


RECURSIVE = """
(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (func $f (export "f") (param $n i32) (result i32)
    local.get $n
    i32.const 10
    i32.ge_u
    if (result i32)
      local.get $n
      call $reenter
      drop
      i32.const 0
      call $f
    else
      local.get $n
    end))
"""


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager"])
def test_a_twin_frame_left_in_its_twin_still_recurses_into_the_sites(lazy: bool) -> None:
    # f(10) calls the host, which arms f (a breakpoint at its entry) and calls f(1):
    # f(10) is the first frame of an outer activation, so it is not moved to the
    # debug version; its own call of f afterwards must still stop
    engine = Engine(Config(debug=True, lazy_compilation=lazy))
    module = Module(engine, RECURSIVE)
    store = Store(engine)
    hits: list[int] = []
    store.set_debug_handler(lambda st, event: hits.append(st.debug_frames()[0].locals[0]))
    linker = Linker(engine)
    entry = pcs(module, 1)[0][0]

    def reenter(n: int) -> int:
        with store.edit_breakpoints() as edit:
            edit.add_breakpoint(module, entry)
        return int(exports["f"](store, 1))

    linker.define(store, "host", "reenter", Func(store, FuncType([ValType.i32()], [ValType.i32()]), reenter))
    exports = linker.instantiate(store, module).exports(store)
    code = store.code_objects[module]
    assert exports["f"](store, 10) == 0
    assert hits == [1, 0]
    twin = next(t for t in code.compiled.twins if t.func_index == 1)
    assert len(twin.self_calls) == 1
    with store.edit_breakpoints() as edit:
        edit.remove_breakpoint(module, entry)
    at = twin.self_calls[0]
    assert code.memory.read(at, 5) == call_rel32_bytes(at, twin.start)  # unarmed: straight to the twin
