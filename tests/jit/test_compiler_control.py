"""Control flow, calls, spilling and traps of compiled code (stand-alone harness).

Results are checked against wasmtime where it can run the same module; the
trap tests check the trap code and that the recorded trap site maps back to
the Wasm pc of the trapping instruction.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pytest
import wasmtime
from jitharness import Instance, Trapped

from wasmdbg.jit.abi import STORE, TrapCode


def _both(wat: str, name: str, *args: Any) -> tuple[list[Any], list[Any]]:
    wasm = wasmtime.wat2wasm(wat)
    ours = Instance(wasm).call(name, *args)
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    theirs = inst.exports(store)[name](store, *args)
    if theirs is None:
        theirs = []
    elif not isinstance(theirs, list):
        theirs = [theirs]
    return ours, theirs


MULTI = """
(module
  (func (export "swap") (param i32 i64) (result i64 i32)
    local.get 1 local.get 0)
  (func (export "blocks") (param i32) (result i32 i32)
    i32.const 1 i32.const 2
    block (param i32 i32) (result i32 i32)
      local.get 0 br_if 0
      i32.add i32.const 100
    end)
  (func (export "table") (param i32) (result i32 f64)
    block (result i32 f64)
      block (result i32 f64)
        block (result i32 f64)
          i32.const 7 f64.const 1.5
          local.get 0
          br_table 0 1 2
        end
        f64.const 10 f64.add
        return
      end
      drop drop i32.const 3 f64.const 2.5
    end)
  (func (export "loopparams") (param i32) (result i32)
    i32.const 0
    local.get 0
    loop (param i32 i32) (result i32)
      local.tee 0 i32.eqz
      if (param i32) (result i32)
        return
      end
      local.get 0 i32.add
      local.get 0 i32.const 1 i32.sub
      br 0
    end)
  (func (export "ifelse") (param i32 f32) (result f32)
    local.get 1
    local.get 0
    if (param f32) (result f32)
      f32.const 2 f32.mul
    else
      f32.neg
    end))
"""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("swap", (5, -7)),
        ("blocks", (0,)),
        ("blocks", (1,)),
        ("table", (0,)),
        ("table", (1,)),
        ("table", (2,)),
        ("table", (99,)),
        ("loopparams", (10,)),
        ("loopparams", (0,)),
        ("ifelse", (0, 1.25)),
        ("ifelse", (1, 1.25)),
    ],
)
def test_multi_value_control(name: str, args: tuple[Any, ...]) -> None:
    ours, theirs = _both(MULTI, name, *args)
    assert ours == theirs


def _pressure_module(n: int, ty: str) -> str:
    gets = " ".join(f"local.get 0 {ty}.const {i + 1} {ty}.add" for i in range(n))
    adds = " ".join(f"{ty}.add" for _ in range(n - 1))
    return f'(module (func (export "f") (param {ty}) (result {ty}) {gets} {adds}))'


@pytest.mark.parametrize("ty", ["i32", "i64", "f32", "f64"])
def test_register_pressure_spills(ty: str) -> None:
    wat = _pressure_module(40, ty)
    arg = 3 if ty[0] == "i" else 0.5
    ours, theirs = _both(wat, "f", arg)
    assert ours == theirs


def test_many_params_and_results() -> None:
    n = 20
    params = " ".join(["i64", "f64"] * (n // 2))
    results = " ".join(["f64", "i64"] * 5)
    body = " ".join(f"local.get {2 * i + 1} local.get {2 * i}" for i in range(5))
    wat = f"""(module
      (func $g (param {params}) (result {results}) {body})
      (func (export "f") (result {results})
        {" ".join(f"i64.const {i} f64.const {i}.5" for i in range(n // 2))}
        call $g))"""
    ours, theirs = _both(wat, "f")
    assert ours == theirs


def test_local_set_does_not_change_stacked_reads() -> None:
    wat = """(module (func (export "f") (param i32) (result i32)
      local.get 0
      i32.const 5 local.set 0
      local.get 0
      local.get 0 i32.const 1 i32.add local.tee 0
      i32.add i32.add))"""
    ours, theirs = _both(wat, "f", 100)
    assert ours == theirs == [111]


def test_return_permutes_params() -> None:
    wat = """(module (func (export "f") (param i32 i32 i32) (result i32 i32 i32)
      local.get 2 local.get 0 local.get 1))"""
    ours, theirs = _both(wat, "f", 1, 2, 3)
    assert ours == theirs == [3, 1, 2]


def test_select_variants() -> None:
    wat = """(module
      (func (export "s") (param i64 i64 f64 f64) (result i64 f64)
        local.get 0 local.get 1 local.get 0 local.get 1 i64.lt_s select
        local.get 2 local.get 3 local.get 2 local.get 3 f64.gt select)
      (func (export "e") (param i32) (result i32)
        i32.const 10 i32.const 20 local.get 0 i32.const 3 i32.ge_u i32.eqz select))"""
    for args in [(1, 2, 1.0, 2.0), (5, -5, float("nan"), 0.0), (0, 0, -0.0, 0.0)]:
        ours, theirs = _both(wat, "s", *args)
        assert ours == theirs
    for x in (0, 3, 4):
        ours, theirs = _both(wat, "e", x)
        assert ours == theirs


def _trap_pc(inst: Instance, wat_pc_op: int) -> None:
    """The trap site recorded in the store maps to an instruction with opcode ``wat_pc_op``."""
    _code, pc_off, _fp = inst.trap_info()
    sites = {k: v for f in inst.compiled.functions for k, v in f.trap_sites.items()}
    assert pc_off in sites, "trap_pc is not a recorded trap site"
    assert inst.module.raw[sites[pc_off]] == wat_pc_op


def test_trap_sites_map_to_the_trapping_instruction() -> None:
    wat = """(module (memory 1)
      (func (export "div") (param i32) (result i32) i32.const 7 local.get 0 i32.div_u)
      (func (export "load") (param i32) (result i32) local.get 0 i32.load offset=4)
      (func (export "unreachable") unreachable))"""
    inst = Instance(wasmtime.wat2wasm(wat))
    with pytest.raises(Trapped) as e:
        inst.call("div", 0)
    assert e.value.code == TrapCode.INTEGER_DIVISION_BY_ZERO
    _trap_pc(inst, 0x6E)
    with pytest.raises(Trapped) as e:
        inst.call("load", 65533)
    assert e.value.code == TrapCode.MEMORY_OUT_OF_BOUNDS
    _trap_pc(inst, 0x28)
    with pytest.raises(Trapped) as e:
        inst.call("unreachable")
    assert e.value.code == TrapCode.UNREACHABLE_CODE_REACHED
    _trap_pc(inst, 0x00)
    assert inst.call("load", 65528) == [0]


def test_stack_overflow_traps_and_store_stays_usable() -> None:
    wat = """(module
      (func $r (export "r") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $r)
      (func (export "ok") (result i32) i32.const 42))"""
    inst = Instance(wasmtime.wat2wasm(wat))
    with pytest.raises(Trapped) as e:
        inst.call("r", 0)
    assert e.value.code == TrapCode.STACK_OVERFLOW
    assert inst.call("ok") == [42]


def test_interrupt_flag_stops_a_loop() -> None:
    wat = """(module (func (export "spin") (loop br 0)))"""
    inst = Instance(wasmtime.wat2wasm(wat))
    inst.store[STORE.INTERRUPT // 8] = 1
    with pytest.raises(Trapped) as e:
        inst.call("spin")
    assert e.value.code == TrapCode.INTERRUPT
    inst.store[STORE.INTERRUPT // 8] = 0


def test_host_calls_and_nested_traps() -> None:
    wat = """(module
      (import "env" "h" (func $h (param i32 f64) (result f64)))
      (func (export "f") (param i32) (result f64)
        local.get 0 f64.const 0.25 call $h f64.const 1 f64.add))"""
    seen: list[tuple[int, float]] = []

    def h(a: int, b: float) -> float:
        seen.append((a, b))
        if a < 0:
            raise Trapped(TrapCode.UNREACHABLE_CODE_REACHED)
        return a + b

    inst = Instance(wasmtime.wat2wasm(wat), {"env.h": h})
    assert inst.call("f", 2) == [3.25]
    assert seen == [(2, 0.25)]
    with pytest.raises(Trapped) as e:
        inst.call("f", -1)
    assert e.value.code == TrapCode.UNREACHABLE_CODE_REACHED
    # the host stub restored the previous exit record
    assert inst.store[STORE.LAST_EXIT_FP // 8] == 0
    assert inst.call("f", 5) == [6.25]


def test_call_indirect_checks() -> None:
    wat = """(module
      (type $ii (func (param i32) (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $inc $other)
      (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func $other (param f32) (result i32) i32.const 0)
      (func (export "call") (param i32 i32) (result i32)
        local.get 1 local.get 0 call_indirect (type $ii)))"""
    inst = Instance(wasmtime.wat2wasm(wat))
    assert inst.call("call", 0, 41) == [42]
    for idx, code in [
        (1, TrapCode.BAD_SIGNATURE),
        (2, TrapCode.ELEMENT_UNINITIALIZED),
        (4, TrapCode.TABLE_OUT_OF_BOUNDS),
        (-1, TrapCode.TABLE_OUT_OF_BOUNDS),
    ]:
        with pytest.raises(Trapped) as e:
            inst.call("call", idx, 0)
        assert e.value.code == code


def test_entry_restores_entry_rsp() -> None:
    wat = """(module (func (export "t") unreachable) (func (export "ok")))"""
    inst = Instance(wasmtime.wat2wasm(wat))
    before = (inst.store[STORE.ENTRY_RSP // 8], inst.store[STORE.ENTRY_FP // 8])
    with pytest.raises(Trapped):
        inst.call("t")
    inst.call("ok")
    assert (inst.store[STORE.ENTRY_RSP // 8], inst.store[STORE.ENTRY_FP // 8]) == before
    assert ctypes.sizeof(inst.store) == STORE.SIZE
