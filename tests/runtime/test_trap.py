"""Traps: codes, messages and backtraces, compared with Wasmtime's."""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

import wasmdbg
from wasmdbg import Trap, TrapCode

WAT = """
(module $mymod
  (import "env" "h" (func $h (param i32)))
  (memory 1)
  (table 2 funcref)
  (func $foo (export "foo") (param i32) (result i32) local.get 0 call $bar)
  (func $bar (param i32) (result i32) unreachable)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "rem") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)
  (func (export "ovf") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "trunc") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
  (func (export "indirect") (param i32) (result i32) local.get 0 call_indirect (result i32))
  (func (export "callh") (param i32) local.get 0 call $h)
  (func $rec (export "rec") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $rec)
  (elem (i32.const 0) $bar)
)
"""

CASES: list[tuple[str, tuple[Any, ...], TrapCode]] = [
    ("foo", (1,), TrapCode.UNREACHABLE),
    ("div", (1, 0), TrapCode.INTEGER_DIVISION_BY_ZERO),
    ("rem", (1, 0), TrapCode.INTEGER_DIVISION_BY_ZERO),
    ("ovf", (-(2**31), -1), TrapCode.INTEGER_OVERFLOW),
    ("load", (65534,), TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("trunc", (float("nan"),), TrapCode.BAD_CONVERSION_TO_INTEGER),
    ("indirect", (0,), TrapCode.BAD_SIGNATURE),
    ("indirect", (1,), TrapCode.INDIRECT_CALL_TO_NULL),
    ("indirect", (5,), TrapCode.TABLE_OUT_OF_BOUNDS),
]


def _instance(api: Any, store: Any, host: Any = None) -> Any:
    module = api.Module(store.engine, WAT)
    func = api.Func(store, api.FuncType([api.ValType.i32()], []), host or (lambda x: None))
    return api.Instance(store, module, [func]).exports(store)


@pytest.mark.parametrize(("name", "args", "code"), CASES, ids=[f"{c[0]}-{c[2].name}" for c in CASES])
def test_trap_matches_wasmtime(any_store: wasmdbg.Store, name: str, args: tuple[Any, ...], code: TrapCode) -> None:
    ours = _instance(wasmdbg, any_store)
    ref_store = wasmtime.Store()
    ref = _instance(wasmtime, ref_store)
    with pytest.raises(wasmtime.Trap) as want:
        ref[name](ref_store, *args)
    with pytest.raises(Trap) as got:
        ours[name](any_store, *args)
    trap = got.value
    assert trap.trap_code is code
    assert trap.trap_code.name == want.value.trap_code.name
    assert [(f.func_index, f.func_name, f.module_name, f.module_offset, f.func_offset) for f in trap.frames] == [
        (f.func_index, f.func_name, f.module_name, f.module_offset, f.func_offset) for f in want.value.frames
    ]
    if code is TrapCode.MEMORY_OUT_OF_BOUNDS:
        # Wasmtime adds the faulting address its signal handler saw; explicit bounds checks do not know it
        assert str(trap).endswith("\n    wasm trap: out of bounds memory access\n")
    else:
        assert str(trap) == str(want.value)
    assert trap.message == str(trap)


def test_store_usable_after_trap(any_store: wasmdbg.Store) -> None:
    ex = _instance(wasmdbg, any_store)
    for _ in range(3):
        with pytest.raises(Trap):
            ex["div"](any_store, 1, 0)
        assert ex["div"](any_store, 7, 2) == 3


def test_stack_overflow_is_a_trap(any_store: wasmdbg.Store) -> None:
    ex = _instance(wasmdbg, any_store)
    with pytest.raises(Trap) as info:
        ex["rec"](any_store, 0)
    assert info.value.trap_code is TrapCode.STACK_OVERFLOW
    assert "call stack exhausted" in str(info.value)
    frames = info.value.frames
    assert len(frames) > 100 and all(f.func_index == frames[0].func_index for f in frames)
    assert ex["div"](any_store, 9, 3) == 3


def test_stack_overflow_in_a_worker_thread(any_store: wasmdbg.Store) -> None:
    import threading

    ex = _instance(wasmdbg, any_store)
    seen: list[Any] = []

    def run() -> None:
        try:
            ex["rec"](any_store, 0)
        except Trap as trap:
            seen.append(trap.trap_code)

    old = threading.stack_size(1 << 20)
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
    assert seen == [TrapCode.STACK_OVERFLOW]


def test_backtrace_crosses_host_frames(any_store: wasmdbg.Store) -> None:
    inner: dict[str, Any] = {}

    def host(x: int) -> None:
        inner["ex"]["foo"](any_store, x)

    ex = _instance(wasmdbg, any_store, host)
    inner["ex"] = ex
    with pytest.raises(Trap) as info:
        ex["callh"](any_store, 1)
    labels = [f.label() for f in info.value.frames]
    assert labels == ["mymod!bar", "mymod!foo", "mymod!<wasm function 9>"]
    assert info.value.trap_code is TrapCode.UNREACHABLE


def test_user_trap() -> None:
    trap = Trap("custom")
    assert str(trap) == "custom" and trap.trap_code is None and trap.frames == []
    assert isinstance(trap, wasmdbg.WasmError)
