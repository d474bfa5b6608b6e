"""Loop headers test each VMContext's copy of the interrupt flag (one ``cmp`` against memory).

The Store writes the flag and every instance's mirror together; the SIGINT
handler walks the Store's table of copies.  Every way of setting the flag
(``interrupt()`` from another thread, an epoch deadline, Ctrl-C) must stop
a loop that never calls anything, in any instance of the Store, including
instances made after the flag was set and after the table grew.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

import wasmdbg
from wasmdbg import Config, Engine, Instance, Module, Store, Trap, TrapCode
from wasmdbg.jit.abi import VMCTX
from wasmdbg.runtime.vmcontext import INTERRUPT_DEADLINE, INTERRUPT_REQUEST, peek

SPIN = """(module (func (export "spin") (local i32)
  loop $l local.get 0 i32.const 1 i32.add local.set 0 br $l end))"""


def _mirrors(store: Store) -> list[int]:
    return [peek(inst.vmctx_address + VMCTX.INTERRUPT) for inst in store._instances if inst is not None]


def _spin_until_stopped(store: Store, spin: Any, poke: Any) -> TrapCode | None:
    timer = threading.Timer(0.05, poke)
    timer.start()
    try:
        spin(store)
    except Trap as trap:
        return trap.trap_code
    finally:
        timer.cancel()
    return None


@pytest.mark.parametrize("debug", [False, True])
def test_interrupt_from_another_thread_stops_the_loop_in_every_instance(debug: bool) -> None:
    engine = Engine(Config(debug=debug))
    module = Module(engine, SPIN)
    store = Store(engine)
    spins = [Instance(store, module, []).exports(store)["spin"] for _ in range(20)]
    for spin in (spins[0], spins[9], spins[19]):
        assert _spin_until_stopped(store, spin, store.interrupt) is TrapCode.INTERRUPT
        assert set(_mirrors(store)) == {0} and store.vm.interrupt == 0


def test_a_new_instance_sees_a_pending_flag() -> None:
    engine = Engine(Config(epoch_interruption=True))
    module = Module(engine, SPIN)
    store = Store(engine)
    store.set_epoch_deadline(0)
    inst = Instance(store, module, [])
    assert _mirrors(store) == [INTERRUPT_DEADLINE]
    store.set_epoch_deadline(1000)
    assert _mirrors(store) == [0]
    store.interrupt()
    Instance(store, module, [])
    assert _mirrors(store) == [INTERRUPT_REQUEST, INTERRUPT_REQUEST]
    store.clear_interrupt_bits(INTERRUPT_REQUEST)
    assert _mirrors(store) == [0, 0]
    spin = inst.exports(store)["spin"]
    engine.increment_epoch()  # the deadline is far away
    assert _mirrors(store) == [0, 0]
    store.set_epoch_deadline(1)
    assert _spin_until_stopped(store, spin, engine.increment_epoch) is TrapCode.INTERRUPT


def test_ctrl_c_reaches_a_mirror_after_the_table_grew() -> None:
    engine = Engine()
    module = Module(engine, SPIN)
    store = Store(engine)
    spins = [Instance(store, module, []).exports(store)["spin"] for _ in range(40)]
    assert store._flag_table[0] == 41
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    # the spin ends only if the handler set the last instance's mirror; Python's
    # KeyboardInterrupt may cut in before the Trap is seen
    try:
        with pytest.raises((Trap, KeyboardInterrupt)), store.interrupt_on_sigint():
            spins[-1](store)
            time.sleep(1)
    finally:
        timer.cancel()
    assert set(_mirrors(store)) == {0}


def test_harness_loop_header_reads_the_vmcontext_word() -> None:
    import capstone

    mod = wasmdbg.Module(wasmdbg.Engine(), SPIN)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    text = [f"{i.mnemonic} {i.op_str}" for i in md.disasm(mod.compiled.code, 0)]
    assert f"cmp qword ptr [r14 + {VMCTX.INTERRUPT:#x}], 0" in text
