"""Store: interruption, epochs, limits, private code, and the debugger seams."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import wasmdbg
from wasmdbg import Trap, TrapCode
from wasmdbg.jit import abi
from wasmdbg.jit.frametable import NOP5, FrameTable
from wasmdbg.runtime.code import CodeObject
from wasmdbg.runtime.store import Store

SPIN = """
(module $spin
  (func (export "spin") (loop $l br $l))
  (func (export "rec") (param i32) (result i32)
    local.get 0 i32.eqz if (result i32) i32.const 0 else
    local.get 0 i32.const 1 i32.sub call 1 i32.const 1 i32.add end)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
)
"""


def _spin(store: Store) -> Any:
    module = wasmdbg.Module(store.engine, SPIN)
    return wasmdbg.Instance(store, module, []).exports(store)


def test_interrupt_from_another_thread(any_store: Store) -> None:
    ex = _spin(any_store)
    timer = threading.Timer(0.05, any_store.interrupt)
    timer.start()
    start = time.monotonic()
    with pytest.raises(Trap) as info:
        ex["spin"](any_store)
    assert time.monotonic() - start < 5
    assert info.value.trap_code is TrapCode.INTERRUPT
    assert [f.func_index for f in info.value.frames] == [0]
    # the flag is cleared: the store is usable again
    assert ex["add"](any_store, 1, 2) == 3


def test_guest_on_worker_thread_main_waits(any_store: Store) -> None:
    ex = _spin(any_store)
    result: list[BaseException] = []

    def run() -> None:
        try:
            ex["spin"](any_store)
        except Trap as trap:
            result.append(trap)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.02)
    any_store.interrupt()
    worker.join(5)
    assert not worker.is_alive() and isinstance(result[0], Trap)


def test_interrupt_before_call_interrupts_next_call(store: Store) -> None:
    ex = _spin(store)
    store.interrupt()
    with pytest.raises(Trap):
        ex["add"](store, 1, 2)
    assert ex["add"](store, 1, 2) == 3


def test_epoch_deadline() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(epoch_interruption=True))
    store = Store(engine)
    ex = _spin(store)
    store.set_epoch_deadline(2)
    engine.increment_epoch()
    assert ex["add"](store, 2, 2) == 4
    threading.Timer(0.05, engine.increment_epoch).start()
    with pytest.raises(Trap) as info:
        ex["spin"](store)
    assert info.value.trap_code is TrapCode.INTERRUPT


def test_deep_recursion_within_limit(any_store: Store) -> None:
    ex = _spin(any_store)
    assert ex["rec"](any_store, 5000) == 5000


def test_max_wasm_stack() -> None:
    config = wasmdbg.Config()
    config.max_wasm_stack = 64 * 1024
    store = Store(wasmdbg.Engine(config))
    ex = _spin(store)
    with pytest.raises(Trap) as info:
        ex["rec"](store, 5000)
    assert info.value.trap_code is TrapCode.STACK_OVERFLOW
    assert ex["rec"](store, 10) == 10


def test_limits() -> None:
    store = Store()
    store.set_limits(memory_size=2 * 65536, instances=1)
    module = wasmdbg.Module(store.engine, "(module (memory (export \"m\") 1))")
    inst = wasmdbg.Instance(store, module, [])
    mem = inst.exports(store)["m"]
    assert mem.grow(store, 1) == 1
    with pytest.raises(wasmdbg.WasmError):
        mem.grow(store, 1)
    with pytest.raises(wasmdbg.WasmError):
        wasmdbg.Instance(store, module, [])


def test_data_and_unsupported() -> None:
    store = Store(data={"x": 1})
    assert store.data() == {"x": 1}
    with pytest.raises(wasmdbg.WasmError):
        store.set_fuel(1)
    store.gc()


def test_private_code_per_store_in_guest_debug_mode() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(guest_debug=True, lazy_compilation=False))
    module = wasmdbg.Module(engine, SPIN)
    a, b = Store(engine), Store(engine)
    wasmdbg.Instance(a, module, [])
    wasmdbg.Instance(b, module, [])
    wasmdbg.Instance(b, module, [])
    ca, cb = a.code_objects[module], b.code_objects[module]
    assert ca.private and cb.private and ca.base != cb.base
    assert len(b.code_objects) == 1
    assert ca.memory.read() == cb.memory.read() == module.compiled.code


def test_shared_code_without_guest_debug() -> None:
    engine = wasmdbg.Engine()
    module = wasmdbg.Module(engine, SPIN)
    a, b = Store(engine), Store(engine)
    wasmdbg.Instance(a, module, [])
    wasmdbg.Instance(b, module, [])
    assert a.code_objects[module].base == b.code_objects[module].base
    assert not a.code_objects[module].private


class _Hook:
    """A stand-in for the debug layer, driving the seams by hand."""

    def __init__(self, status: int = 0, fail: BaseException | None = None) -> None:
        self.status = status
        self.fail = fail
        self.hits: list[tuple[int, int, list[str]]] = []
        self.added: list[CodeObject] = []
        self.mapped: list[int] = []
        self.traps: list[Trap] = []
        self.host_errors: list[BaseException] = []
        self.exits = 0

    def on_breakpoint(self, store: Store, fp: int, return_address: int, saved: int) -> int:
        frames = store.wasm_frames(fp, return_address)
        self.hits.append((fp, return_address, [f"{f.code.module.name}:{f.func_index}" for f in frames]))
        if self.fail is not None:
            raise self.fail
        return self.status

    def on_code_added(self, store: Store, code: CodeObject) -> None:
        self.added.append(code)

    def on_functions_mapped(self, store: Store, code: CodeObject, functions: list[int]) -> None:
        self.mapped.extend(functions)

    def on_trap(self, store: Store, trap: Trap, fp: int, pc: int) -> None:
        self.traps.append(trap)

    def on_host_error(self, store: Store, exc: BaseException) -> None:
        self.host_errors.append(exc)

    def on_guest_exit(self, store: Store) -> None:
        self.exits += 1


def _enable_entry_site(store: Store, code: CodeObject, func_index: int) -> int:
    table = code.compiled.frame_table
    assert isinstance(table, FrameTable)
    site = table.entry_site(func_index)
    assert site is not None
    address = code.base + site.native_offset
    code.memory.unpublish()
    code.map_through(site.native_offset)  # lazily compiled code: map the function first
    code.memory.write(site.native_offset, site.call_bytes(address, store.stub_code.breakpoint_address))
    for func in code.compiled.functions:
        if func.func_index == func_index and code.compiled.twins:
            code.memory.write(func.start, NOP5)  # arm it by hand: calls run the debug version
    code.memory.publish()
    return address


def test_debug_hook_seam() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(guest_debug=True))
    store = Store(engine)
    hook = _Hook()
    store._debug_hook = hook
    module = wasmdbg.Module(engine, SPIN)
    ex = wasmdbg.Instance(store, module, []).exports(store)
    code = store.code_objects[module]
    assert hook.added == [code]
    site = _enable_entry_site(store, code, 2)  # "add"
    assert ex["add"](store, 40, 2) == 42
    (_fp, ret, labels) = hook.hits[0]
    assert ret == site + 5 and labels == ["spin:2"]
    assert hook.exits == 1  # the end of the outermost call is reported
    # another Store running the same module does not see the patch
    other = Store(engine)
    other._debug_hook = _Hook()
    other_ex = wasmdbg.Instance(other, module, []).exports(other)
    assert other_ex["add"](other, 1, 1) == 2 and other._debug_hook.hits == []  # type: ignore[union-attr]


def test_debug_hook_abort_and_exception() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(guest_debug=True))
    store = Store(engine)
    module = wasmdbg.Module(engine, SPIN)
    ex = wasmdbg.Instance(store, module, []).exports(store)
    _enable_entry_site(store, store.code_objects[module], 2)
    store._debug_hook = _Hook(status=int(abi.TrapCode.DEBUGGER_ABORT))
    with pytest.raises(Trap) as info:
        ex["add"](store, 1, 2)
    assert info.value.trap_code is TrapCode.DEBUGGER_ABORT
    err = RuntimeError("from the hook")
    store._debug_hook = _Hook(fail=err)
    with pytest.raises(RuntimeError) as got:
        ex["add"](store, 1, 2)
    assert got.value is err
    store._debug_hook = None
    assert ex["add"](store, 1, 2) == 3


def test_instance_of_vmctx(store: Store) -> None:
    module = wasmdbg.Module(store.engine, SPIN)
    inst = wasmdbg.Instance(store, module, [])
    assert store.instance_of_vmctx(inst.vmctx_address) is inst
    assert store.instance_of_vmctx(0) is None


def test_sigint_interrupts_the_guest_on_the_main_thread(store: Store) -> None:
    import os
    import signal

    ex = _spin(store)
    before = signal.getsignal(signal.SIGINT)
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises((Trap, KeyboardInterrupt)), store.interrupt_on_sigint():
        ex["spin"](store)
    assert signal.getsignal(signal.SIGINT) is before
    assert ex["add"](store, 1, 2) == 3


def test_gc_releases_unreferenced_externrefs(store: Store) -> None:
    wat = """(module (table (export "t") 2 externref) (global (export "g") (mut externref) (ref.null extern))
               (func (export "id") (param externref) (result externref) local.get 0))"""
    ex = wasmdbg.Instance(store, wasmdbg.Module(store.engine, wat), []).exports(store)
    kept_t, kept_g, dropped = object(), object(), object()
    ex["t"].set(store, 1, kept_t)
    ex["g"].set_value(store, kept_g)
    assert ex["id"](store, dropped) is dropped
    assert len(store._externs) == 3
    store.gc()
    assert set(store._externs.values()) == {kept_t, kept_g}
    assert ex["t"].get(store, 1) is kept_t and ex["g"].value(store) is kept_g
    assert ex["id"](store, dropped) is dropped


def test_second_thread_is_refused_while_wasm_runs(store: Store) -> None:
    module = wasmdbg.Module(
        store.engine,
        '(module (import "h" "f" (func $f)) (func (export "run") call $f) (func (export "one") (result i32) i32.const 1))',
    )
    errors: list[BaseException] = []
    ex: dict[str, Any] = {}

    def host() -> None:
        def other() -> None:
            try:
                ex["one"](store)
            except wasmdbg.WasmError as exc:
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()

    ex.update(wasmdbg.Instance(store, module, [wasmdbg.Func(store, wasmdbg.FuncType([], []), host)]).exports(store))
    ex["run"](store)
    assert len(errors) == 1 and "another thread" in str(errors[0])
    assert ex["one"](store) == 1
