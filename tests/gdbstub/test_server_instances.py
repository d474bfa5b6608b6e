"""The server in-process on a real Session: two module instances, two module ids."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import wasmtime
from test_robustness import Client

import wasmdbg
from wasmdbg.debug.session import Session
from wasmdbg.gdbstub.server import GdbServer, ModuleTarget

CALLEE = """(module (memory (export "mem") 1) (data (i32.const 0) "BBBB")
  (func (export "f") (result i32) i32.const 7))"""
CALLER = """(module (import "b" "f" (func $f (result i32))) (memory 1) (data (i32.const 0) "AAAA")
  (func (export "run") (result i32) call $f i32.const 1 i32.add))"""


def _serve(
    store: wasmdbg.Store, targets: list[ModuleTarget], call: Callable[[], object]
) -> tuple[Session, Client, threading.Thread, list[int]]:
    """A server for ``call`` started stopped on entry, and a client connected
    without acks; ``status`` gets the server's exit status when it ends."""
    session = Session(store, stop_on_entry=True)
    server = GdbServer(session, targets)
    ports: queue.Queue[int] = queue.Queue()
    server.on_listen = lambda host, port: ports.put(port)
    session.start(call)
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(server.serve("127.0.0.1", 0)), daemon=True)
    thread.start()
    client = Client(ports.get(timeout=30))
    client.no_ack()
    return session, client, thread, status


def test_one_module_id_per_instance_and_memory_of_the_frames_instance() -> None:
    config = wasmdbg.Config()
    config.guest_debug = True
    engine = wasmdbg.Engine(config)
    store = wasmdbg.Store(engine)
    callee = wasmdbg.Module(engine, bytes(wasmtime.wat2wasm(CALLEE)))
    caller = wasmdbg.Module(engine, bytes(wasmtime.wat2wasm(CALLER)))
    b = wasmdbg.Instance(store, callee, [])
    a = wasmdbg.Instance(store, caller, [b.exports(store)["f"]])
    run = a.exports(store)["run"]
    targets = [ModuleTarget("a.wasm", caller, a), ModuleTarget("b.wasm", callee, b)]
    session, client, thread, status = _serve(store, targets, lambda: run(store))
    try:
        libs = client.ask("qXfer:libraries:read::0,1000", acked=False)
        assert '<library name="a.wasm"><section address="0x4000000000000000"/>' in libs
        assert '<library name="b.wasm"><section address="0x4000000100000000"/>' in libs
        assert client.ask("m0,4", acked=False) == b"AAAA".hex()
        f_start = callee.definition.bodies[0].code_start
        assert client.ask(f"Z0,{(1 << 62) | (1 << 32) | f_start:x},1", acked=False) == "OK"
        stop = client.ask("c", acked=False)
        assert "reason:breakpoint;" in stop
        stack = bytes.fromhex(client.ask("qWasmCallStack:1", acked=False))
        pcs = [int.from_bytes(stack[i : i + 8], "little") for i in range(0, len(stack), 8)]
        assert pcs[0] == (1 << 62) | (1 << 32) | f_start
        # the caller's pc is the return address: just after `call $f` (2 bytes)
        run_start = caller.definition.bodies[0].code_start
        assert pcs[1] == (1 << 62) | (run_start + 2)
        assert client.ask("m0,4", acked=False) == b"BBBB".hex()
        assert client.ask(f"m{(1 << 62) | (1 << 32):x},4", acked=False) == b"\0asm".hex()
        client.send(b"$c#63")
        assert client.packet() == "W00"
        thread.join(timeout=30)
        assert status == [0]
    finally:
        session.close()


EXITER = """(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) local.get 0 call $exit))"""


def _exit_reply(code: int) -> tuple[str, list[int]]:
    """The stop reply and server status of a guest calling proc_exit(code)."""
    config = wasmdbg.Config()
    config.guest_debug = True
    engine = wasmdbg.Engine(config)
    store = wasmdbg.Store(engine)
    store.set_wasi(wasmdbg.WasiConfig())
    linker = wasmdbg.Linker(engine)
    linker.define_wasi()
    module = wasmdbg.Module(engine, bytes(wasmtime.wat2wasm(EXITER)))
    run = linker.instantiate(store, module).exports(store)["run"]
    targets = [ModuleTarget("exit.wasm", module, None)]
    session, client, thread, status = _serve(store, targets, lambda: run(store, code))
    try:
        client.send(b"$c#63")
        reply = client.packet()
        thread.join(timeout=30)
        return reply, status
    finally:
        session.close()


def test_exit_codes_above_125_are_reported_as_failure_as_wasmtime_run_does() -> None:
    assert _exit_reply(7) == ("W07", [7])
    assert _exit_reply(256) == ("W01", [1])  # not W00: exit(256) is no success
    assert _exit_reply(134) == ("W01", [1])  # not a fake SIGABRT
