"""Functions: calls into Wasm, host functions, exceptions, Caller, values."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest

import wasmdbg
from wasmdbg import Func, FuncType, Trap, Val, ValType, WasmError

i32, i64, f32, f64 = ValType.i32(), ValType.i64(), ValType.f32(), ValType.f64()
funcref, externref = ValType.funcref(), ValType.externref()

WAT = """
(module $m
  (import "host" "f" (func $f (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "id32") (param i32) (result i32) local.get 0)
  (func (export "id64") (param i64) (result i64) local.get 0)
  (func (export "idf32") (param f32) (result f32) local.get 0)
  (func (export "idf64") (param f64) (result f64) local.get 0)
  (func (export "swap") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "none"))
  (func (export "call_f") (param i32) (result i32) local.get 0 call $f)
  (func (export "call_f_twice") (param i32) (result i32) local.get 0 call $f call $f)
  (func (export "idref") (param externref) (result externref) local.get 0)
  (func (export "idfunc") (param funcref) (result funcref) local.get 0)
)
"""


def _make(store: wasmdbg.Store, host: Any, access_caller: bool = False) -> Any:
    module = wasmdbg.Module(store.engine, WAT)
    f = Func(store, FuncType([i32], [i32]), host, access_caller)
    return wasmdbg.Instance(store, module, [f]).exports(store)


def test_numbers_round_trip(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: x)
    s = any_store
    assert ex["id32"](s, 5) == 5
    assert ex["id32"](s, -1) == -1
    assert ex["id32"](s, 0xFFFF_FFFF) == -1
    assert ex["id32"](s, 2**31) == -(2**31)
    assert ex["id64"](s, 2**63) == -(2**63)
    assert ex["id64"](s, -7) == -7
    assert ex["idf32"](s, 1.5) == 1.5
    assert ex["idf32"](s, 0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert ex["idf32"](s, 1e300) == math.inf
    assert ex["idf64"](s, 0.1) == 0.1
    assert math.isnan(ex["idf64"](s, math.nan))
    assert ex["swap"](s, 1, 2, 3.0, 4.0) == [4.0, 3.0, 2, 1]
    assert ex["none"](s) is None


def test_val_arguments_keep_bits(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: x)
    nan = Val.from_bits(f32, 0x7FA0_0001)
    assert ex["idf32"].call_vals(any_store, [nan])[0].bits == 0x7FA0_0001
    dnan = Val.from_bits(f64, 0xFFF0_0000_0000_0001)
    assert ex["idf64"].call_vals(any_store, [dnan])[0].bits == 0xFFF0_0000_0000_0001
    assert ex["id32"](any_store, Val.i32(-3)) == -3
    with pytest.raises(TypeError):
        ex["id32"](any_store, Val.i64(3))


def test_argument_errors(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: x)
    with pytest.raises(WasmError, match="too few parameters provided: given 0, expected 1"):
        ex["id32"](any_store)
    with pytest.raises(WasmError, match="too many parameters"):
        ex["id32"](any_store, 1, 2)
    with pytest.raises(TypeError, match=r"don't know how to convert 1\.5 to i32"):
        ex["id32"](any_store, 1.5)
    other = wasmdbg.Store(any_store.engine)
    with pytest.raises(WasmError):
        ex["id32"](other, 1)


def test_type() -> None:
    store = wasmdbg.Store()
    ex = _make(store, lambda x: x)
    ty = ex["swap"].type(store)
    assert ty.params == [i32, i64, f32, f64] and ty.results == [f64, f32, i64, i32]
    assert str(ty) == "(func (param i32 i64 f32 f64) (result f64 f32 i64 i32))"


def test_host_function_called_from_wasm(any_store: wasmdbg.Store) -> None:
    seen: list[int] = []

    def host(x: int) -> int:
        seen.append(x)
        return x * 2

    ex = _make(any_store, host)
    assert ex["call_f"](any_store, 21) == 42
    assert ex["call_f"](any_store, -4) == -8
    assert ex["call_f_twice"](any_store, 3) == 12
    assert seen == [21, -4, 3, 6]


def test_host_result_wraps(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: 0xFFFF_FFFF)
    assert ex["call_f"](any_store, 0) == -1


def test_host_exception_is_reraised_same_object(any_store: wasmdbg.Store) -> None:
    boom = ValueError("boom")

    def host(x: int) -> int:
        if x == 13:
            raise boom
        return x

    ex = _make(any_store, host)
    with pytest.raises(ValueError) as info:
        ex["call_f"](any_store, 13)
    assert info.value is boom
    frames = info.value.wasm_backtrace  # type: ignore[attr-defined]
    assert [f.label() for f in frames] == ["m!<wasm function 7>"]
    assert any("wasm backtrace" in note for note in info.value.__notes__)
    # the store stays usable
    assert ex["call_f"](any_store, 5) == 5


def test_host_base_exceptions_propagate(any_store: wasmdbg.Store) -> None:
    def host(x: int) -> int:
        raise KeyboardInterrupt

    ex = _make(any_store, host)
    with pytest.raises(KeyboardInterrupt):
        ex["call_f"](any_store, 1)
    assert ex["id32"](any_store, 3) == 3


def test_host_raising_trap(any_store: wasmdbg.Store) -> None:
    def host(x: int) -> int:
        raise Trap("nope")

    ex = _make(any_store, host)
    with pytest.raises(Trap) as info:
        ex["call_f"](any_store, 1)
    assert info.value.trap_code is None
    assert [f.label() for f in info.value.frames] == ["m!<wasm function 7>"]
    assert "nope" in str(info.value)


def test_host_returning_trap(any_store: wasmdbg.Store) -> None:
    trap = Trap("returned")
    ex = _make(any_store, lambda x: trap)
    with pytest.raises(Trap) as info:
        ex["call_f"](any_store, 1)
    assert info.value is trap


def test_host_wrong_results(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: "text")
    with pytest.raises(TypeError):
        ex["call_f"](any_store, 1)
    ex2 = _make(any_store, lambda x: None)
    with pytest.raises(TypeError):
        ex2["call_f"](any_store, 1)


def test_nested_wasm_host_wasm(any_store: wasmdbg.Store) -> None:
    ref: dict[str, Any] = {}

    def host(x: int) -> int:
        if x <= 0:
            return 0
        return x + int(ref["ex"]["call_f"](any_store, x - 1))

    ex = _make(any_store, host)
    ref["ex"] = ex
    assert ex["call_f"](any_store, 50) == sum(range(51))


def test_exception_through_nested_activations(any_store: wasmdbg.Store) -> None:
    ref: dict[str, Any] = {}

    def host(x: int) -> int:
        if x == 0:
            raise RuntimeError("deep")
        return int(ref["ex"]["call_f"](any_store, x - 1))

    ex = _make(any_store, host)
    ref["ex"] = ex
    with pytest.raises(RuntimeError) as info:
        ex["call_f"](any_store, 3)
    assert len(info.value.wasm_backtrace) == 4  # type: ignore[attr-defined]
    assert ex["id32"](any_store, 1) == 1


def test_caller_exports(any_store: wasmdbg.Store) -> None:
    got: list[Any] = []

    def host(caller: wasmdbg.Caller, x: int) -> int:
        mem = caller.get("memory")
        got.append(mem)
        assert isinstance(mem, wasmdbg.Memory)
        mem.write(caller, b"hi", x)
        assert caller.get("nope") is None
        return x

    ex = _make(any_store, host, access_caller=True)
    assert ex["call_f"](any_store, 8) == 8
    assert got[0] is ex["memory"]
    assert ex["memory"].read(any_store, 8, 10) == b"hi"
    caller_after = got  # a Caller is invalid after the call
    assert caller_after


def test_call_host_func_from_python(store: wasmdbg.Store) -> None:
    f = Func(store, FuncType([i32, f32], [i64]), lambda a, b: a + int(b))
    assert f(store, 2, 3.5) == 5
    g = Func(store, FuncType([], [i32, i32]), lambda: (1, 2))
    assert g(store) == [1, 2]
    assert f.type(store).params == [i32, f32]


def test_references(any_store: wasmdbg.Store) -> None:
    ex = _make(any_store, lambda x: x)
    obj = object()
    assert ex["idref"](any_store, obj) is obj
    assert ex["idref"](any_store, None) is None
    assert ex["idref"](any_store, "same") == "same"
    fn = ex["id32"]
    assert ex["idfunc"](any_store, fn) is fn
    assert ex["idfunc"](any_store, None) is None
    host = Func(any_store, FuncType([], []), lambda: None)
    assert ex["idfunc"](any_store, host) is host
    vals = ex["idref"].call_vals(any_store, [Val.externref(obj)])
    assert vals[0].value is obj


def test_many_arguments(any_store: wasmdbg.Store) -> None:
    params = " ".join(["i64"] * 20)
    body = " ".join(f"local.get {i} i64.add" for i in range(1, 20))
    wat = f'(module (func (export "sum") (param {params}) (result i64) local.get 0 {body}))'
    module = wasmdbg.Module(any_store.engine, wat)
    ex = wasmdbg.Instance(any_store, module, []).exports(any_store)
    assert ex["sum"](any_store, *range(20)) == sum(range(20))
