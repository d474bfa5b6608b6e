"""Tables: the API, call_indirect through tables, bulk operations from Wasm."""

from __future__ import annotations

from typing import Any

import pytest

import wasmdbg
from wasmdbg import Func, FuncType, Limits, Table, TableType, Trap, TrapCode, ValType, WasmError
from wasmdbg.runtime.store import Store

i32 = ValType.i32()

WAT = """
(module
  (type $t (func (result i32)))
  (table $tab (export "tab") 3 10 funcref)
  (table $ext (export "ext") 2 externref)
  (elem $e func $one $two)
  (elem (table $tab) (i32.const 0) func $one)
  (func $one (result i32) i32.const 1)
  (func $two (result i32) i32.const 2)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect $tab (type $t))
  (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $tab)
  (func (export "size") (result i32) table.size $tab)
  (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.init $tab $e)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy $tab $tab)
  (func (export "fill") (param i32 i32) local.get 0 ref.func $two local.get 1 table.fill $tab)
  (func (export "drop") elem.drop $e)
  (func (export "get_ext") (param i32) (result externref) local.get 0 table.get $ext)
  (func (export "set_ext") (param i32 externref) local.get 0 local.get 1 table.set $ext)
)
"""


def _ex(store: Store) -> Any:
    return wasmdbg.Instance(store, wasmdbg.Module(store.engine, WAT), []).exports(store)


def test_api_table(store: Store) -> None:
    t = Table(store, TableType(ValType.funcref(), Limits(2, 4)), None)
    f = Func(store, FuncType([], [i32]), lambda: 7)
    assert t.size(store) == 2 and t.get(store, 0) is None and t.get(store, 9) is None
    t.set(store, 1, f)
    assert t.get(store, 1) is f
    assert t.grow(store, 2, f) == 2
    assert t.get(store, 3) is f
    with pytest.raises(WasmError, match="failed to grow table by `1`"):
        t.grow(store, 1, None)
    with pytest.raises(WasmError):
        t.set(store, 4, None)
    assert t.type(store).limits == Limits(4, 4)
    ext = Table(store, TableType(ValType.externref(), Limits(1, None)), "x")
    assert ext.get(store, 0) == "x"


@pytest.mark.parametrize("amt", [1.5, "1", None])
def test_grow_by_a_non_integer_is_a_type_error(store: Store, amt: Any) -> None:
    t = Table(store, TableType(ValType.funcref(), Limits(1, None)), None)
    with pytest.raises(TypeError, match="integer"):
        t.grow(store, amt, None)
    assert t.size(store) == 1


def test_call_indirect_and_growth(any_store: Store) -> None:
    ex = _ex(any_store)
    tab = ex["tab"]
    assert ex["call"](any_store, 0) == 1
    with pytest.raises(Trap) as info:
        ex["call"](any_store, 1)
    assert info.value.trap_code is TrapCode.INDIRECT_CALL_TO_NULL
    host = Func(any_store, FuncType([], [i32]), lambda: 99)
    tab.set(any_store, 2, host)
    assert ex["call"](any_store, 2) == 99
    assert ex["grow"](any_store, 5) == 3
    assert ex["size"](any_store) == 8
    assert ex["grow"](any_store, 5) == -1
    tab.set(any_store, 7, host)
    assert ex["call"](any_store, 7) == 99
    with pytest.raises(Trap) as info:
        ex["call"](any_store, 8)
    assert info.value.trap_code is TrapCode.TABLE_OUT_OF_BOUNDS


def test_bulk(any_store: Store) -> None:
    ex = _ex(any_store)
    ex["init"](any_store, 1, 0, 2)
    assert [ex["call"](any_store, i) for i in (0, 1, 2)] == [1, 1, 2]
    ex["copy"](any_store, 0, 1, 2)
    assert [ex["call"](any_store, i) for i in (0, 1)] == [1, 2]
    ex["fill"](any_store, 0, 3)
    assert [ex["call"](any_store, i) for i in (0, 1, 2)] == [2, 2, 2]
    with pytest.raises(Trap) as info:
        ex["init"](any_store, 2, 0, 2)
    assert info.value.trap_code is TrapCode.TABLE_OUT_OF_BOUNDS
    ex["drop"](any_store)
    with pytest.raises(Trap):
        ex["init"](any_store, 0, 0, 1)


def test_externref_table(any_store: Store) -> None:
    ex = _ex(any_store)
    obj = {"k": 1}
    ex["set_ext"](any_store, 1, obj)
    assert ex["get_ext"](any_store, 1) is obj
    assert ex["ext"].get(any_store, 1) is obj
    assert ex["get_ext"](any_store, 0) is None
