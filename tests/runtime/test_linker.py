"""Linker: definitions, shadowing, Store-independent host functions."""

from __future__ import annotations

import pytest

import wasmdbg
from wasmdbg import Func, FuncType, Linker, LinkError, Trap, ValType, WasmError
from wasmdbg.runtime.store import Store

i32 = ValType.i32()

USER = """
(module
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (func (export "run") (param i32) (result i32) local.get 0 call $add1)
)
"""


def test_define_func_works_in_many_stores() -> None:
    engine = wasmdbg.Engine()
    linker = Linker(engine)
    linker.define_func("env", "add1", FuncType([i32], [i32]), lambda x: x + 1)
    module = wasmdbg.Module(engine, USER)
    for _ in range(2):
        store = Store(engine)
        inst = linker.instantiate(store, module)
        assert inst.exports(store)["run"](store, 1) == 2


def test_define_and_shadowing(store: Store) -> None:
    linker = Linker(store.engine)
    f = Func(store, FuncType([i32], [i32]), lambda x: x + 1)
    linker.define(store, "env", "add1", f)
    with pytest.raises(LinkError, match="import of `env::add1` defined twice"):
        linker.define(store, "env", "add1", f)
    linker.allow_shadowing = True
    linker.define(store, "env", "add1", Func(store, FuncType([i32], [i32]), lambda x: x + 10))
    inst = linker.instantiate(store, wasmdbg.Module(store.engine, USER))
    assert inst.exports(store)["run"](store, 1) == 11
    assert linker.get(store, "env", "add1") is not f


def test_unknown_and_mismatched_imports(store: Store) -> None:
    linker = Linker(store.engine)
    module = wasmdbg.Module(store.engine, USER)
    with pytest.raises(LinkError, match="unknown import: `env::add1` has not been defined"):
        linker.instantiate(store, module)
    linker.define(store, "env", "add1", Func(store, FuncType([], []), lambda: None))
    with pytest.raises(LinkError, match="incompatible import type for `env::add1`"):
        linker.instantiate(store, module)


def test_define_instance_and_module(store: Store) -> None:
    engine = store.engine
    lib = wasmdbg.Module(engine, '(module (func (export "add1") (param i32) (result i32) local.get 0 i32.const 1 i32.add))')
    linker = Linker(engine)
    linker.define_instance(store, "env", wasmdbg.Instance(store, lib, []))
    assert linker.instantiate(store, wasmdbg.Module(engine, USER)).exports(store)["run"](store, 4) == 5
    linker2 = Linker(engine)
    linker2.define_module(store, "env", lib)
    assert isinstance(linker2.get(store, "env", "add1"), Func)


def test_unknown_imports_as_traps_and_defaults(store: Store) -> None:
    module = wasmdbg.Module(store.engine, USER)
    linker = Linker(store.engine)
    linker.define_unknown_imports_as_traps(module)
    run = linker.instantiate(store, module).exports(store)["run"]
    with pytest.raises(Trap, match="unknown import"):
        run(store, 1)
    linker2 = Linker(store.engine)
    linker2.define_unknown_imports_as_default_values(store, module)
    assert linker2.instantiate(store, module).exports(store)["run"](store, 1) == 0
    linker2.define_wasi()
    with pytest.raises(WasmError, match="defined twice"):
        linker2.define_wasi()
