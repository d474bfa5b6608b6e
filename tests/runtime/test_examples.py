"""wasmtime-py's examples, run unchanged against wasmdbg (and against wasmtime as the reference).

Each example is written as wasmtime-py's docs show it, against a module
object named ``wasmtime``; the parametrisation passes either real wasmtime
or ``wasmdbg`` (``import wasmdbg as wasmtime``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import wasmtime as real_wasmtime

import wasmdbg

ENGINES = [pytest.param(wasmdbg, id="wasmdbg"), pytest.param(real_wasmtime, id="wasmtime")]

GCD_WAT = """
(module
  (func $gcd (param i32 i32) (result i32)
    (local i32)
    block
      block
        local.get 0
        br_if 0
        local.get 1
        local.set 2
        br 1
      end
      loop
        local.get 1
        local.get 0
        local.tee 2
        i32.rem_u
        local.set 0
        local.get 2
        local.set 1
        local.get 0
        br_if 0
      end
    end
    local.get 2
  )
  (export "gcd" (func $gcd))
)
"""

MEMORY_WAT = """
(module
  (memory (export "memory") 2 3)
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i32)
    (i32.load8_s (local.get 0)))
  (func (export "store") (param i32 i32)
    (i32.store8 (local.get 0) (local.get 1)))
  (data (i32.const 0x1000) "\\01\\02\\03\\04")
)
"""

LINKING1_WAT = """
(module
  (import "linking2" "double" (func $double (param i32) (result i32)))
  (import "linking2" "log" (func $log (param i32 i32)))
  (import "linking2" "memory" (memory 1))
  (import "linking2" "memory_offset" (global $offset i32))
  (func (export "run")
    i32.const 2
    call $double
    drop
    global.get $offset
    i32.const 14
    call $log)
  (data (global.get $offset) "Hello, world!\\n")
)
"""

LINKING2_WAT = """
(module
  (type $fd_write_ty (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (type $fd_write_ty)))
  (func (export "double") (param i32) (result i32)
    local.get 0
    i32.const 2
    i32.mul)
  (func (export "log") (param i32 i32)
    i32.const 4
    local.get 0
    i32.store
    i32.const 4
    local.get 1
    i32.store offset=4
    i32.const 1
    i32.const 4
    i32.const 1
    i32.const 0
    call $fd_write
    drop)
  (memory (export "memory") 2)
  (global (export "memory_offset") i32 (i32.const 65536))
)
"""

MULTI_WAT = """
(module
  (func $f (import "" "f") (param i32 i64) (result i64 i32))
  (func $g (export "g") (param i32 i64) (result i64 i32)
    (call $f (local.get 0) (local.get 1)))
  (func $round_trip_many (export "round_trip_many")
    (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4
    local.get 5 local.get 6 local.get 7 local.get 8 local.get 9)
)
"""


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_hello(wasmtime: ModuleType) -> None:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, """
      (module
        (func $hello (import "" "hello"))
        (func (export "run") (call $hello))
      )
    """)
    said: list[str] = []

    def say_hello() -> None:
        said.append("Hello from Python!")

    hello = wasmtime.Func(store, wasmtime.FuncType([], []), say_hello)
    instance = wasmtime.Instance(store, module, [hello])
    run = instance.exports(store)["run"]
    run(store)
    assert said == ["Hello from Python!"]


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_gcd(wasmtime: ModuleType) -> None:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, GCD_WAT)
    instance = wasmtime.Instance(store, module, [])
    gcd = instance.exports(store)["gcd"]
    assert gcd(store, 6, 27) == 3
    assert gcd(store, 0, 5) == 5
    assert gcd(store, 1071, 462) == 21


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_memory(wasmtime: ModuleType) -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, MEMORY_WAT)
    instance = wasmtime.Instance(store, module, [])
    exports = instance.exports(store)
    memory = exports["memory"]
    size, load, store_ = exports["size"], exports["load"], exports["store"]

    assert memory.size(store) == 2
    assert memory.data_len(store) == 0x20000
    assert memory.data_ptr(store)[0] == 0
    assert memory.data_ptr(store)[0x1000] == 1
    assert memory.data_ptr(store)[0x1003] == 4
    assert size(store) == 2
    assert load(store, 0) == 0
    assert load(store, 0x1000) == 1
    assert load(store, 0x1003) == 4
    assert load(store, 0x1FFFF) == 0
    with pytest.raises(wasmtime.Trap):
        load(store, 0x20000)

    memory.data_ptr(store)[0x1003] = 5
    store_(store, 0x1002, 6)
    with pytest.raises(wasmtime.Trap):
        store_(store, 0x20000, 0)
    assert memory.data_ptr(store)[0x1002] == 6
    assert memory.data_ptr(store)[0x1003] == 5
    assert load(store, 0x1002) == 6
    assert load(store, 0x1003) == 5

    assert memory.grow(store, 1) == 2
    assert memory.size(store) == 3
    assert memory.data_len(store) == 0x30000
    assert load(store, 0x20000) == 0
    store_(store, 0x20000, 0)
    with pytest.raises(wasmtime.Trap):
        load(store, 0x30000)
    with pytest.raises(wasmtime.WasmtimeError):
        memory.grow(store, 1)
    memory.grow(store, 0)

    memorytype = wasmtime.MemoryType(wasmtime.Limits(5, 5))
    memory2 = wasmtime.Memory(store, memorytype)
    assert memory2.size(store) == 5
    with pytest.raises(wasmtime.WasmtimeError):
        memory2.grow(store, 1)
    memory2.grow(store, 0)


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_linking(wasmtime: ModuleType) -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    written: list[bytes] = []

    def fd_write(caller: Any, fd: int, iovs: int, iovs_len: int, nwritten: int) -> int:
        memory = caller.get("memory")
        raw = memory.read(caller, 0, memory.data_len(caller))
        for i in range(iovs_len):
            ptr = int.from_bytes(raw[iovs + 8 * i : iovs + 8 * i + 4], "little")
            length = int.from_bytes(raw[iovs + 8 * i + 4 : iovs + 8 * i + 8], "little")
            written.append(bytes(raw[ptr : ptr + length]))
        return 0

    i32 = wasmtime.ValType.i32()
    linker = wasmtime.Linker(engine)
    linker.define_func(
        "wasi_snapshot_preview1", "fd_write", wasmtime.FuncType([i32] * 4, [i32]), fd_write, access_caller=True
    )
    linking2 = linker.instantiate(store, wasmtime.Module(engine, LINKING2_WAT))
    linker.define_instance(store, "linking2", linking2)
    linking1 = linker.instantiate(store, wasmtime.Module(engine, LINKING1_WAT))
    run = linking1.exports(store)["run"]
    run(store)
    assert written == [b"Hello, world!\n"]


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_multi(wasmtime: ModuleType) -> None:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, MULTI_WAT)

    def callback(a: int, b: int) -> list[int]:
        return [b + 1, a + 1]

    i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
    callback_type = wasmtime.FuncType([i32, i64], [i64, i32])
    callback_func = wasmtime.Func(store, callback_type, callback)
    instance = wasmtime.Instance(store, module, [callback_func])
    g = instance.exports(store)["g"]
    assert g(store, 1, 3) == [4, 2]
    round_trip_many = instance.exports(store)["round_trip_many"]
    assert round_trip_many(store, *range(10)) == list(range(10))


@pytest.mark.parametrize("wasmtime", ENGINES)
def test_trap_example(wasmtime: ModuleType) -> None:
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, """
      (module $traps
        (func $div (export "div") (param i32 i32) (result i32)
          local.get 0 local.get 1 i32.div_u))
    """)
    div = wasmtime.Instance(store, module, []).exports(store)["div"]
    with pytest.raises(wasmtime.Trap) as info:
        div(store, 1, 0)
    assert info.value.trap_code == wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO
    assert info.value.frames[0].func_name == "div"
    assert "integer divide by zero" in str(info.value)
