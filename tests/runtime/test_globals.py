"""Globals: API, sharing through imports, exact bits."""

from __future__ import annotations

import math

import pytest

import wasmdbg
from wasmdbg import Global, GlobalType, Val, ValType, WasmError
from wasmdbg.runtime.store import Store

WAT = """
(module
  (import "env" "g" (global $g (mut i32)))
  (import "env" "c" (global $c i64))
  (global $d (export "d") i64 (global.get $c))
  (global $f (export "f") (mut f32) (f32.const nan:0x200001))
  (global $r (export "r") funcref (ref.func $get))
  (func $get (export "get") (result i32) global.get $g)
  (func (export "set") (param i32) local.get 0 global.set $g)
)
"""


def test_globals(any_store: Store) -> None:
    s = any_store
    g = Global(s, GlobalType(ValType.i32(), True), 5)
    c = Global(s, GlobalType(ValType.i64(), False), -10)
    ex = wasmdbg.Instance(s, wasmdbg.Module(s.engine, WAT), [g, c]).exports(s)
    assert ex["get"](s) == 5
    g.set_value(s, 6)
    assert ex["get"](s) == 6
    ex["set"](s, -1)
    assert g.value(s) == -1
    assert ex["d"].value(s) == -10
    assert ex["f"].value_val(s).bits == 0x7FA0_0001
    assert math.isnan(ex["f"].value(s))
    assert ex["r"].value(s) is ex["get"]
    with pytest.raises(WasmError, match="immutable global cannot be set"):
        c.set_value(s, 1)
    assert c.type(s).content == ValType.i64() and not c.type(s).mutable


def test_global_values() -> None:
    s = Store()
    f = Global(s, GlobalType(ValType.f32(), True), 0.1)
    assert f.value(s) == pytest.approx(0.1) and f.value(s) != 0.1
    f.set_value(s, Val.from_bits(ValType.f32(), 0x7F80_0001))
    assert f.value_val(s).bits == 0x7F80_0001
    e = Global(s, GlobalType(ValType.externref(), True), None)
    obj = object()
    e.set_value(s, obj)
    assert e.value(s) is obj
    with pytest.raises(TypeError):
        Global(s, GlobalType(ValType.i32(), False), "x")
