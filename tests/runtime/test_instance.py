"""Instantiation: import checks, segments, start function, exports."""

from __future__ import annotations

import pytest

import wasmdbg
from wasmdbg import (
    Func,
    FuncType,
    Global,
    GlobalType,
    Limits,
    LinkError,
    Memory,
    MemoryType,
    Table,
    TableType,
    Trap,
    TrapCode,
    ValType,
    WasmError,
)
from wasmdbg.runtime.store import Store

i32 = ValType.i32()

IMPORTS = """
(module
  (import "m" "f" (func (param i32)))
  (import "m" "t" (table 2 5 funcref))
  (import "m" "mem" (memory 1 2))
  (import "m" "g" (global i32))
)
"""


def _imports(store: Store) -> list[object]:
    return [
        Func(store, FuncType([i32], []), lambda x: None),
        Table(store, TableType(ValType.funcref(), Limits(2, 5)), None),
        Memory(store, MemoryType(Limits(1, 2))),
        Global(store, GlobalType(i32, False), 1),
    ]


def test_import_checks(store: Store) -> None:
    module = wasmdbg.Module(store.engine, IMPORTS)
    good = _imports(store)
    wasmdbg.Instance(store, module, good)
    with pytest.raises(LinkError, match="expected 4 imports, found 3"):
        wasmdbg.Instance(store, module, good[:3])
    bad_cases = [
        (0, Func(store, FuncType([], []), lambda: None)),
        (0, good[2]),
        (1, Table(store, TableType(ValType.funcref(), Limits(1, 5)), None)),
        (1, Table(store, TableType(ValType.funcref(), Limits(2, None)), None)),
        (1, Table(store, TableType(ValType.externref(), Limits(2, 5)), None)),
        (2, Memory(store, MemoryType(Limits(1, 3)))),
        (3, Global(store, GlobalType(i32, True), 1)),
        (3, Global(store, GlobalType(ValType.i64(), False), 1)),
    ]
    for index, item in bad_cases:
        imports = list(good)
        imports[index] = item
        with pytest.raises(LinkError, match="incompatible import type for `m::"):
            wasmdbg.Instance(store, module, imports)


def test_grown_table_satisfies_larger_minimum(store: Store) -> None:
    module = wasmdbg.Module(store.engine, IMPORTS)
    imports = _imports(store)
    small = Table(store, TableType(ValType.funcref(), Limits(1, 5)), None)
    small.grow(store, 1, None)
    imports[1] = small
    wasmdbg.Instance(store, module, imports)


def test_cross_store_is_refused(store: Store) -> None:
    module = wasmdbg.Module(store.engine, IMPORTS)
    other = Store(store.engine)
    with pytest.raises(WasmError, match="cross-`Store`"):
        wasmdbg.Instance(store, module, _imports(other))
    with pytest.raises(WasmError, match="cross-`Engine`"):
        wasmdbg.Instance(Store(), module, [])


SEGMENTS = """
(module
  (import "m" "mem" (memory 1))
  (import "m" "tab" (table 4 funcref))
  (func $f (result i32) i32.const 7)
  (elem (i32.const 0) $f $f)
  (elem (i32.const 3) $f $f)
  (data (i32.const 0) "ab")
  (data (i32.const 65535) "cd")
)
"""


def test_partial_effects_before_a_segment_trap(any_store: Store) -> None:
    s = any_store
    mem = Memory(s, MemoryType(Limits(1, None)))
    tab = Table(s, TableType(ValType.funcref(), Limits(4, None)), None)
    module = wasmdbg.Module(s.engine, SEGMENTS)
    with pytest.raises(Trap) as info:
        wasmdbg.Instance(s, module, [mem, tab])
    assert info.value.trap_code is TrapCode.TABLE_OUT_OF_BOUNDS
    assert "out of bounds table access" in str(info.value)
    assert tab.get(s, 0) is not None and tab.get(s, 0)(s) == 7
    assert mem.read(s, 0, 2) == b"\0\0"  # data segments never ran
    tab.grow(s, 1, None)
    with pytest.raises(Trap) as info:
        wasmdbg.Instance(s, module, [mem, tab])
    assert info.value.trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS
    assert mem.read(s, 0, 2) == b"ab"


def test_start_function_runs_and_traps(any_store: Store) -> None:
    s = any_store
    calls: list[int] = []
    f = Func(s, FuncType([i32], []), calls.append)
    wat = """(module (import "m" "f" (func $f (param i32)))
               (func $start i32.const 42 call $f) (start $start))"""
    wasmdbg.Instance(s, wasmdbg.Module(s.engine, wat), [f])
    assert calls == [42]
    trapping = '(module (func $s unreachable) (start $s))'
    with pytest.raises(Trap) as info:
        wasmdbg.Instance(s, wasmdbg.Module(s.engine, trapping), [])
    assert info.value.trap_code is TrapCode.UNREACHABLE


def test_exports(store: Store) -> None:
    wat = """(module (func (export "a")) (memory (export "b") 1)
               (global (export "c") i32 (i32.const 3)) (table (export "d") 1 funcref))"""
    inst = wasmdbg.Instance(store, wasmdbg.Module(store.engine, wat), [])
    ex = inst.exports(store)
    assert list(ex) == ["a", "b", "c", "d"] and len(ex) == 4
    assert isinstance(ex["a"], Func) and ex[0] is ex["a"]
    assert isinstance(ex[1], Memory) and isinstance(ex["c"], Global) and isinstance(ex[3], Table)
    assert ex.get("zz") is None and ex.by_index[2] is ex["c"]
    assert inst.exports(store)["a"] is ex["a"]
    with pytest.raises(KeyError):
        ex["zz"]
