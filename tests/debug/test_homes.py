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


def _world(wat: str = WAT) -> tuple[Store, Module, dict[str, Func]]:
    engine = Engine(Config(debug=True))
    module = Module(engine, wat)
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


# count(n): i = 0 .. n in a loop; f(n) runs a loop with six homed locals
# (so the caller-saved homes r10, r9 and XMM registers are taken too), then
# memory.init or memory.fill with out-of-bounds operands
TRAPS_WAT = """
(module
  (memory 1)
  (data $d "abcd")
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    loop
      local.get $i i32.const 1 i32.add local.set $i
      local.get $i local.get $n i32.lt_u br_if 0
    end
    local.get $i)
  (func $spin (param $n i32) (local $i i32) (local $a i32) (local $b i32) (local $c i32)
        (local $x f64)
    loop
      local.get $i i32.const 1 i32.add local.set $i
      local.get $a i32.const 2 i32.add local.set $a
      local.get $b i32.const 3 i32.add local.set $b
      local.get $c i32.const 4 i32.add local.set $c
      local.get $x f64.const 0.5 f64.add local.set $x
      local.get $i local.get $n i32.lt_u br_if 0
    end
    local.get $i i32.const 0 i32.ne
    if  ;; an out-of-line libcall status trap (memory.init)
      i32.const 0 i32.const 0 local.get $a memory.init $d
    end
    i32.const 65534 local.get $c local.get $b memory.fill)  ;; an inline bounds trap
  (func (export "init") (param $n i32) local.get $n call $spin)
  (func (export "fill") (param $n i32) i32.const 0 call $spin)
)
"""
COUNT, SPIN = 0, 1


def test_spin_keeps_its_locals_in_caller_saved_homes_too() -> None:
    compiled = compile_module(decode_module(wasmtime.wat2wasm(TRAPS_WAT)), guest_debug=True)
    table = compiled.frame_table
    assert table is not None
    site = next(s for s in table if s.func_index == SPIN and s.kind is SiteKind.PATCH)
    regs = {loc.value for loc in site.locals if loc.kind is LocKind.GPR}
    assert {10, 9} <= regs  # r10, r9: a System V call clobbers them
    assert site.locals[5].kind is LocKind.XMM


@pytest.mark.parametrize(("export", "n", "message"), [
    ("init", 6, "out of bounds memory access"),  # memory.init: the libcall's status
    ("fill", 0, "out of bounds memory access"),  # memory.fill: machine code's own check
])
def test_trap_stops_read_homes_after_libcalls_and_inline_checks(
    export: str, n: int, message: str
) -> None:
    store, _module, f = _world(TRAPS_WAT)
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frames = st.debug_frames()
        seen.append((event.kind, frames[0].func_index, tuple(frames[0].locals)))

    store.set_debug_handler(handler)
    with pytest.raises(Trap, match=message):
        f[export](store, n)
    iters = max(n, 1)
    assert seen == [
        (DebugEventKind.TRAP, SPIN, (n, iters, 2 * iters, 3 * iters, 4 * iters, 0.5 * iters))
    ]


def test_single_steps_see_and_write_a_homed_local() -> None:
    store, module, f = _world(TRAPS_WAT)
    pcs = _pcs(module, COUNT)  # loop, get $i, const, add, set $i, get $i, get $n, lt_u, br_if
    seen: list[tuple[Any, ...]] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        seen.append((event.kind, frame.pc, tuple(frame.locals)))
        with st.edit_breakpoints() as edit:
            if event.kind is DebugEventKind.BREAKPOINT:
                edit.remove_breakpoint(module, pcs[1][0])
                edit.single_step(True)
            elif frame.pc == pcs[5][0]:  # after local.set $i on the first iteration
                frame.locals[1] = 5000  # i: past n, the loop ends here
                edit.single_step(False)

    store.set_debug_handler(handler)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, pcs[1][0])
    assert f["count"](store, 1000) == 5000
    assert seen == [
        (DebugEventKind.BREAKPOINT, pcs[1][0], (1000, 0)),
        (DebugEventKind.STEP, pcs[2][0], (1000, 0)),
        (DebugEventKind.STEP, pcs[3][0], (1000, 0)),
        (DebugEventKind.STEP, pcs[4][0], (1000, 0)),
        (DebugEventKind.STEP, pcs[5][0], (1000, 1)),
    ]
