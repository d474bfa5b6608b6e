"""Home registers in guest-debug builds: the hottest locals live in registers,
and the debugger still reads and writes them in every kind of stop.

A homed local is described by the frame table as the register at patch sites
and interrupt checks (the trampoline saves every register) and as its slot
while a call runs and at trap stubs (the code stores the homes there).
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

from wasmdbg import Config, Engine, Func, Linker, Module, Store, Trap
from wasmdbg.debug import DebugEvent, DebugEventKind
from wasmdbg.jit.compiler import compile_module
from wasmdbg.jit.frametable import LocKind, SiteKind
from wasmdbg.wasm.code import iter_body
from wasmdbg.wasm.decoder import decode_module

# loop(n) = sum over k = n..1 of (k + 1), plus trunc(0.5 * n); trap(n) counts to n, then divides by 0
WAT = """
(module
  (func $leaf (param $x i32) (result i32) local.get $x i32.const 1 i32.add)
  (func (export "loop") (param $n i32) (result i32) (local $acc i32) (local $f f64)
    block
      loop
        local.get $n i32.eqz br_if 1
        local.get $acc local.get $n call $leaf i32.add local.set $acc
        local.get $f f64.const 0.5 f64.add local.set $f
        local.get $n i32.const 1 i32.sub local.set $n
        br 0
      end
    end
    local.get $acc local.get $f i32.trunc_f64_s i32.add)
  (func (export "trap") (param $n i32) (result i32) (local $i i32)
    loop
      local.get $i i32.const 1 i32.add local.set $i
      local.get $i local.get $n i32.lt_u br_if 0
    end
    local.get $i i32.const 0 i32.div_u))
"""
LEAF, LOOP, TRAP = 0, 1, 2


def _world() -> tuple[Store, Module, dict[str, Func]]:
    engine = Engine(Config(debug=True))
    module = Module(engine, WAT)
    store = Store(engine)
    exports = Linker(engine).instantiate(store, module).exports(store)
    return store, module, {name: f for name, f in exports.items() if isinstance(f, Func)}


def _pcs(module: Module, func_index: int) -> list[tuple[int, int]]:
    """(module offset, opcode) of each instruction of a function."""
    mdef = module.definition
    return [(off, op) for off, op, _ in iter_body(mdef, mdef.body(func_index))]


def _first(module: Module, func_index: int, opcode: int, nth: int = 0) -> int:
    return [off for off, op in _pcs(module, func_index) if op == opcode][nth]


def test_frame_table_names_home_registers_at_sites_and_slots_during_calls() -> None:
    compiled = compile_module(decode_module(wasmtime.wat2wasm(WAT)), guest_debug=True)
    table = compiled.frame_table
    assert table is not None
    loop_sites = [s for s in table if s.func_index == LOOP]
    kinds = {tuple(loc.kind for loc in s.locals) for s in loop_sites}
    # n and acc in general registers, f in an XMM register, at every patch site
    assert kinds == {(LocKind.GPR, LocKind.GPR, LocKind.XMM)}
    func = compiled.functions[LOOP]
    (ret,) = func.call_sites  # the call of $leaf: its return address
    state = table.frame_state(ret)
    assert state is not None and state.kind is SiteKind.CALL
    assert [loc.kind for loc in state.locals] == [LocKind.SLOT] * 3


def test_top_frame_writes_to_home_registers_take_effect() -> None:
    store, module, f = _world()
    at = _first(module, LOOP, 0x20, 3)  # local.get $f, first iteration: n = 4, acc = 5
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        seen.append(tuple(frame.locals))
        frame.locals[1] = 50  # acc
        frame.locals[2] = 100.0  # f
        with st.edit_breakpoints() as edit:
            edit.remove_breakpoint(module, at)

    store.set_debug_handler(handler)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, at)
    assert f["loop"](store, 4) == 50 + 4 + 3 + 2 + 102  # f: 100.5 + 3 * 0.5
    assert seen == [(4, 5, 0.0)]


def test_caller_frame_writes_land_where_the_caller_reloads_its_homes() -> None:
    store, module, f = _world()
    leaf = _pcs(module, LEAF)[0][0]
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frames = st.debug_frames()
        seen.append((frames[0].func_index, tuple(frames[0].locals), tuple(frames[1].locals)))
        if len(seen) == 2:  # second iteration: n = 3, acc = 5, f = 0.5
            frames[1].locals[0] = 1  # n: the loop ends after this iteration
            frames[1].locals[2] = 20.0  # f

    store.set_debug_handler(handler)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, leaf)
    assert f["loop"](store, 4) == (5 + 4) + 20  # acc 9, trunc(20.5)
    assert seen == [(LEAF, (4,), (4, 0, 0.0)), (LEAF, (3,), (3, 5, 0.5))]


def test_interrupt_stop_at_a_loop_header_sees_and_writes_the_homes() -> None:
    store, module, f = _world()
    leaf = _pcs(module, LEAF)[0][0]
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        seen.append((event.kind, frame.func_index, tuple(frame.locals)))
        if event.kind is DebugEventKind.BREAKPOINT:
            st.interrupt()  # the loop header pauses next
            with st.edit_breakpoints() as edit:
                edit.remove_breakpoint(module, leaf)
        else:
            frame.locals[0] = 0  # n: leave the loop

    store.set_debug_handler(handler)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, leaf)
    assert f["loop"](store, 4) == 5  # one iteration: acc 5, trunc(0.5)
    assert seen == [
        (DebugEventKind.BREAKPOINT, LEAF, (4,)),
        (DebugEventKind.INTERRUPTED, LOOP, (3, 5, 0.5)),
    ]


def test_interrupt_at_function_entry_writes_a_homed_parameter() -> None:
    store, _module, f = _world()
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        seen.append((event.kind, tuple(frame.locals)))
        frame.locals[0] = 2  # n, before the prologue loads it into its home

    store.set_debug_handler(handler)
    store.interrupt()
    assert f["loop"](store, 10) == (3 + 2) + 1
    assert seen == [(DebugEventKind.INTERRUPTED, (10, 0, 0.0))]


def test_trap_stop_reads_homed_locals() -> None:
    store, _module, f = _world()
    seen: list[tuple[Any, ...]] = []
    store.set_debug_handler(
        lambda st, event: seen.append((event.kind, tuple(st.debug_frames()[0].locals)))
    )
    with pytest.raises(Trap, match="divide by zero"):
        f["trap"](store, 5)
    assert seen == [(DebugEventKind.TRAP, (5, 5))]
