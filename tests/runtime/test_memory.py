"""Memory: growth in place, reads and writes, bulk operations from Wasm."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

import wasmdbg
from wasmdbg import Limits, Memory, MemoryType, Trap, TrapCode, WasmError
from wasmdbg.runtime.store import Store

WAT = """
(module
  (memory (export "mem") 1 4)
  (data $d "hello")
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "store8") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
  (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $d)
  (func (export "drop") data.drop $d)
)
"""


def _ex(store: Store) -> Any:
    return wasmdbg.Instance(store, wasmdbg.Module(store.engine, WAT), []).exports(store)


def test_api_memory(store: Store) -> None:
    mem = Memory(store, MemoryType(Limits(1, 3)))
    assert mem.size(store) == 1 and mem.data_len(store) == 65536
    base = ctypes.addressof(mem.data_ptr(store).contents)
    assert mem.grow(store, 2) == 1
    assert mem.size(store) == 3
    assert ctypes.addressof(mem.data_ptr(store).contents) == base
    with pytest.raises(WasmError, match="failed to grow memory by `1`"):
        mem.grow(store, 1)
    assert mem.write(store, b"abc", 65536 * 3 - 3) == 3
    assert mem.read(store, -3) == bytearray(b"abc")
    with pytest.raises(IndexError):
        mem.write(store, b"abcd", 65536 * 3 - 3)
    assert mem.type(store).limits == Limits(3, 3)
    assert mem.read(store, 10, 5) == bytearray()


@pytest.mark.parametrize("delta", [1.5, "1", None])
def test_grow_by_a_non_integer_is_a_type_error(store: Store, delta: Any) -> None:
    mem = Memory(store, MemoryType(Limits(1, None)))
    with pytest.raises(TypeError, match="integer"):
        mem.grow(store, delta)
    assert mem.size(store) == 1


@pytest.mark.parametrize("value", [5, "abc", None])
def test_write_takes_only_bytes(store: Store, value: Any) -> None:
    mem = Memory(store, MemoryType(Limits(1, None)))
    mem.write(store, b"\xff" * 8, 0)
    with pytest.raises(TypeError):
        mem.write(store, value, 0)
    assert mem.read(store, 0, 8) == bytearray(b"\xff" * 8)


def test_memory_type_checks() -> None:
    with pytest.raises(WasmError):
        MemoryType(Limits(1, None), is_64=True)
    with pytest.raises(WasmError):
        MemoryType(Limits(70000, None))


def test_grow_from_wasm(any_store: Store) -> None:
    ex = _ex(any_store)
    mem = ex["mem"]
    assert ex["size"](any_store) == 1
    assert ex["grow"](any_store, 2) == 1
    assert mem.size(any_store) == 3
    assert ex["grow"](any_store, 2) == -1
    assert ex["grow"](any_store, 0) == 3
    ex["store8"](any_store, 3 * 65536 - 1, 7)
    assert ex["load8"](any_store, 3 * 65536 - 1) == 7
    with pytest.raises(Trap) as info:
        ex["load8"](any_store, 3 * 65536)
    assert info.value.trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS
    mem.grow(any_store, 1)
    assert ex["load8"](any_store, 3 * 65536) == 0


def test_bulk_operations(any_store: Store) -> None:
    ex = _ex(any_store)
    mem = ex["mem"]
    ex["init"](any_store, 100, 1, 4)
    assert mem.read(any_store, 100, 104) == b"ello"
    ex["copy"](any_store, 102, 100, 4)  # overlapping
    assert mem.read(any_store, 100, 106) == b"elello"
    ex["fill"](any_store, 0, 0x41, 3)
    assert mem.read(any_store, 0, 4) == b"AAA\0"
    for name, args in [("fill", (65535, 0, 2)), ("copy", (0, 65535, 2)), ("init", (0, 3, 3))]:
        with pytest.raises(Trap) as info:
            ex[name](any_store, *args)
        assert info.value.trap_code is TrapCode.MEMORY_OUT_OF_BOUNDS
    ex["fill"](any_store, 65536, 0, 0)  # empty at the end is fine
    ex["drop"](any_store)
    with pytest.raises(Trap):
        ex["init"](any_store, 0, 0, 1)
    ex["init"](any_store, 0, 0, 0)


def test_memory_exported_then_imported(store: Store) -> None:
    mem = Memory(store, MemoryType(Limits(1, None)))
    wat = '(module (import "m" "mem" (memory 1)) (func (export "size") (result i32) memory.size))'
    ex = wasmdbg.Instance(store, wasmdbg.Module(store.engine, wat), [mem]).exports(store)
    mem.grow(store, 5)
    assert ex["size"](store) == 6
