"""Signal-based bounds checks: faults become the same traps as explicit checks.

Every out-of-bounds case runs twice, with ``Config.signals_based_traps`` on
(the access faults; the SIGSEGV handler traps) and off (compare and
branch), and the outcomes (values, trap messages with backtrace pcs,
memory contents) must be identical.  Crashes that are not Wasm's (a
deliberate SIGSEGV in host code) run in a child process and must die as
they would without wasmdbg.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from wasmdbg import Config, Engine, Func, Instance, Module, Store, Trap
from wasmdbg.debug import DebugEvent, DebugEventKind
from wasmdbg.runtime import sigsegv
from wasmdbg.wasm.code import iter_body

PAGE = 65536

EDGE_WAT = """(module
  (memory (export "mem") 1 3)
  (func (export "ld8") (param i32) (result i32) local.get 0 i32.load8_u offset=3)
  (func (export "ld16") (param i32) (result i32) local.get 0 i32.load16_s offset=1)
  (func (export "ld32") (param i32) (result i32) local.get 0 i32.load)
  (func (export "ld64") (param i32) (result i64) local.get 0 i64.load offset=2)
  (func (export "ldf32") (param i32) (result f32) local.get 0 f32.load offset=5)
  (func (export "ldf64") (param i32) (result f64) local.get 0 f64.load)
  (func (export "ldbig") (param i32) (result i32) local.get 0 i32.load offset=0x7ffffff0)
  (func (export "ldhuge") (param i32) (result i32) local.get 0 i32.load offset=0xfffffff0)
  (func (export "st8") (param i32) local.get 0 i32.const 0xab i32.store8 offset=1)
  (func (export "st32") (param i32 i32) local.get 0 local.get 1 i32.store offset=0)
  (func (export "st64") (param i32) local.get 0 i64.const -1 i64.store offset=3)
  (func (export "stf64") (param i32 f64) local.get 0 local.get 1 f64.store offset=0)
  (func (export "sthuge") (param i32) local.get 0 i32.const 1 i32.store offset=0xffffff00)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))
"""

# (export, width incl. static offset, extra args)
ACCESSES: list[tuple[str, int, tuple[Any, ...]]] = [
    ("ld8", 4, ()),
    ("ld16", 3, ()),
    ("ld32", 4, ()),
    ("ld64", 10, ()),
    ("ldf32", 9, ()),
    ("ldf64", 8, ()),
    ("st8", 2, ()),
    ("st32", 4, (0x1234_5678,)),
    ("st64", 11, ()),
    ("stf64", 8, (2.5,)),
]


def _s32(x: int) -> int:
    return x - (1 << 32) if x >= 1 << 31 else x


def _outcome(store: Store, f: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", f(store, *args))
    except Trap as trap:
        return ("trap", (str(trap), [fr.module_offset for fr in trap.frames], trap.trap_code))


def _run_edges(signals: bool, debug: bool = False) -> list[Any]:
    engine = Engine(Config(signals_based_traps=signals, debug=debug))
    store = Store(engine)
    inst = Instance(store, Module(engine, EDGE_WAT), [])
    ex = inst.exports(store)
    mem = ex["mem"]
    out: list[Any] = []
    for size in (PAGE, 3 * PAGE):
        for name, width, extra in ACCESSES:
            for addr in (0, size - width, size - width + 1, size - 1, size, size + 7, 2 * PAGE - 1,
                         0x7FFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFF0):
                out.append((size, name, addr, _outcome(store, ex[name], _s32(addr), *extra)))
        for name in ("ldbig", "ldhuge", "sthuge"):
            for addr in (0, 16, 0x1000_0000, 0xFFFF_FFFF):
                out.append((size, name, addr, _outcome(store, ex[name], _s32(addr))))
        out.append(bytes(mem.read(store, 0, mem.data_len(store))))
        if size == PAGE:
            assert ex["grow"](store, 2) == 1
    return out


def test_edges_trap_exactly_as_explicit_checks() -> None:
    faulting = _run_edges(True)
    explicit = _run_edges(False)
    assert faulting == explicit
    traps = [o for o in faulting if isinstance(o, tuple) and o[3][0] == "trap"]
    assert len(traps) > 150
    assert all("out of bounds memory access" in t[3][1][0] and t[3][1][1] for t in traps)
    # an access straddling the end writes nothing; one just inside works
    ok = {(o[0], o[1], o[2]) for o in faulting if isinstance(o, tuple) and o[3][0] == "ok"}
    assert (PAGE, "ld64", PAGE - 10) in ok and (3 * PAGE, "ld64", 3 * PAGE - 10) in ok
    assert (PAGE, "ld64", PAGE - 9) not in ok
    # after memory.grow the second and third pages are in bounds
    assert (3 * PAGE, "st32", 2 * PAGE - 1) in ok and (PAGE, "st32", 2 * PAGE - 1) not in ok


def test_edges_trap_the_same_in_faulting_twins_of_debug_code() -> None:
    """Guest-debug code with twins: the twins fault, resume at the debug
    version's check, and trap there as explicit code does (no handler)."""
    assert _run_edges(True, debug=True) == _run_edges(False)


def _check_offsets(module: Module) -> int:
    """Count bounds compares (``cmp r, [r12 + SIZE]``) in the module's code."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return sum(
        1 for ins in md.disasm(module.compiled.code, 0) if ins.mnemonic == "cmp" and "[r12" in ins.op_str
    )


def test_signal_code_drops_the_checks_that_fit_the_guard() -> None:
    faulting = Module(Engine(Config(signals_based_traps=True)), EDGE_WAT)
    explicit = Module(Engine(Config(signals_based_traps=False)), EDGE_WAT)
    # ldhuge and sthuge (offsets >= 2 GiB) keep their check
    assert _check_offsets(faulting) == 2
    assert _check_offsets(explicit) == 13
    debug = Module(Engine(Config(signals_based_traps=True, debug=True, debug_twins=False)), EDGE_WAT)
    assert _check_offsets(debug) == 13
    # with NOP-free twins every function is there twice: the debug versions keep
    # their checks, the twins fault like plain code, each fault paired with a check
    twins = Module(Engine(Config(signals_based_traps=True, debug=True)), EDGE_WAT)
    assert _check_offsets(twins) == 13 + 2
    assert len(twins.compiled.twin_faults) == 11
    both = Module(Engine(Config(signals_based_traps=False, debug=True)), EDGE_WAT)
    assert _check_offsets(both) == 26 and not both.compiled.twin_faults


def test_handler_is_installed_once_and_memories_reserve_the_guard() -> None:
    engine = Engine(Config())
    assert engine.config.signals_based_traps is True
    store = Store(engine)
    inst = Instance(store, Module(engine, EDGE_WAT), [])
    assert sigsegv.installed()
    mem = inst.exports(store)["mem"]
    assert mem._res.reserved >= 8 << 30
    explicit = Store(Engine(Config(signals_based_traps=False)))
    mem2 = Instance(explicit, Module(explicit.engine, EDGE_WAT), []).exports(explicit)["mem"]
    assert mem2._res.reserved == 3 * PAGE


NESTED_WAT = """(module
  (import "h" "cb" (func $cb (param i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "outer") (param i32) (result i32) local.get 0 call $cb)
  (func (export "inner") (param i32) (result i32) local.get 0 i32.load))
"""


@pytest.mark.parametrize("signals", [True, False])
def test_fault_in_a_nested_activation(signals: bool) -> None:
    engine = Engine(Config(signals_based_traps=signals))
    store = Store(engine)
    from wasmdbg import FuncType, ValType

    holder: dict[str, Any] = {}

    def cb(addr: int) -> int:
        try:
            return int(holder["inner"](store, addr))
        except Trap as trap:
            holder.setdefault("inner_traps", []).append(str(trap))
            return -1

    ty = FuncType([ValType.i32()], [ValType.i32()])
    inst = Instance(store, Module(engine, NESTED_WAT), [Func(store, ty, cb)])
    holder["inner"] = inst.exports(store)["inner"]
    outer = inst.exports(store)["outer"]
    for _ in range(200):
        assert outer(store, PAGE) == -1
        assert outer(store, 0) == 0
    assert len(holder["inner_traps"]) == 200
    assert "out of bounds memory access" in holder["inner_traps"][0]


SPIN_WAT = """(module
  (memory 1)
  (func (export "walk") (param i32) (result i32) (local i32)
    loop $l
      local.get 1 local.get 0 i32.load i32.add local.set 1
      local.get 0 i32.const 4096 i32.add local.set 0
      br $l
    end
    local.get 1))
"""


def test_faults_on_worker_threads_each_with_its_store() -> None:
    engine = Engine(Config())
    module = Module(engine, SPIN_WAT)
    errors: list[BaseException] = []
    results: list[str] = []

    def work() -> None:
        try:
            store = Store(engine)
            walk = Instance(store, module, []).exports(store)["walk"]
            for i in range(300):
                try:
                    walk(store, i * 4)
                except Trap as trap:
                    results.append(trap.reason)
        except BaseException as exc:  # NB: reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["out of bounds memory access"] * 1200


TRAP_DEBUG_WAT = """(module
  (memory 1)
  (func (export "f") (param i32 i32) (result i32) (local i32)
    local.get 0 i32.const 3 i32.add local.set 2
    local.get 1
    local.get 2 i32.load offset=8 i32.add))
"""


@pytest.mark.parametrize("signals", [True, False])
def test_guest_debug_stops_before_unwinding(signals: bool) -> None:
    engine = Engine(Config(debug=True, signals_based_traps=signals))
    module = Module(engine, TRAP_DEBUG_WAT)
    store = Store(engine)
    f = Instance(store, module, []).exports(store)["f"]
    seen: list[Any] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        seen.append((event.kind, event.pc, tuple(frame.locals), frame.stack[0]))

    store.set_debug_handler(handler)
    with pytest.raises(Trap, match="out of bounds memory access"):
        f(store, PAGE - 8, 99)
    mdef = module.definition
    load = [off for off, _, _ in iter_body(mdef, mdef.body(0))][6]
    assert seen == [(DebugEventKind.TRAP, load, (PAGE - 8, 99, PAGE - 5), 99)]


CRASH_CHILD = textwrap.dedent(
    r"""
    import ctypes, faulthandler, sys
    import wasmdbg
    mode = sys.argv[1]
    if mode in ("faulthandler-first", "both"):
        faulthandler.enable()
    engine = wasmdbg.Engine(wasmdbg.Config())
    module = wasmdbg.Module(engine, '(module (memory 1) (func (export "f") '
        '(param i32) (result i32) local.get 0 i32.load))')

    def trap_once():
        store = wasmdbg.Store(engine)
        f = wasmdbg.Instance(store, module, []).exports(store)["f"]
        try:
            f(store, 1 << 20)
        except wasmdbg.Trap as t:
            print("trapped:", t.reason, flush=True)

    trap_once()
    if mode in ("faulthandler-after", "both"):
        faulthandler.enable()  # replaces wasmdbg's handler; the next Store puts it back
        trap_once()
    ctypes.string_at(8)  # a host-code SIGSEGV
    print("survived", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["none", "faulthandler-first", "faulthandler-after", "both"])
def test_a_host_crash_keeps_its_previous_behaviour(mode: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -11, proc.stderr
    assert "survived" not in proc.stdout
    assert proc.stdout.count("trapped: out of bounds memory access") >= 1
    if mode == "none":
        assert "Fatal Python error" not in proc.stderr
    else:
        assert "Fatal Python error: Segmentation fault" in proc.stderr


def test_the_explicit_mode_is_a_config_bool() -> None:
    config = Config()
    config.signals_based_traps = False
    assert config.signals_based_traps is False
    with pytest.raises(TypeError):
        config.signals_based_traps = 1  # type: ignore[assignment]


REPLACED_CHILD = textwrap.dedent(
    """
    import faulthandler
    import wasmtime, wasmdbg
    faulthandler.enable()
    WAT = '(module (memory 1) (func (export "f") (result i32) i32.const 70000 i32.load))'

    def trap(api, store):
        f = api.Instance(store, api.Module(store.engine, WAT), []).exports(store)["f"]
        try:
            f(store)
        except api.Trap as t:
            print("trapped:", str(t).splitlines()[-1].strip(), flush=True)

    trap(wasmtime, wasmtime.Store(wasmtime.Engine()))  # wasmtime's handler, chaining to faulthandler
    trap(wasmdbg, wasmdbg.Store(wasmdbg.Engine()))  # ours on top, chaining to wasmtime's
    trap(wasmtime, wasmtime.Store(wasmtime.Engine()))  # wasmtime's again, over ours
    trap(wasmdbg, wasmdbg.Store(wasmdbg.Engine()))
    engine = wasmdbg.Engine()
    store = wasmdbg.Store(engine)
    f = wasmdbg.Instance(store, wasmdbg.Module(engine, WAT), []).exports(store)["f"]
    trap(wasmtime, wasmtime.Store(wasmtime.Engine()))  # replaced after our code was mapped
    try:
        f(store)
    except wasmdbg.Trap as t:
        print("trapped:", t.reason, flush=True)
    """
)


def test_a_handler_replaced_behind_our_back_is_put_back_at_the_next_entry() -> None:
    proc = subprocess.run([sys.executable, "-c", REPLACED_CHILD], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and all(ln.endswith("out of bounds memory access") for ln in lines), proc.stdout


ADJACENT_WAT = """(module
  (memory 1)
  (func (export "f") (param f32) (result i32)
    local.get 0 i32.trunc_f32_u
    i32.load offset=8))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_a_trap_just_before_a_faulting_access_keeps_its_own_pc(debug: bool) -> None:
    """``i32.trunc_f32_u``'s overflow trap returns right where the next
    instruction (a faulting load) starts: each must still report its own pc."""
    import wasmtime

    ours = Store(Engine(Config(debug=debug)))
    f = Instance(ours, Module(ours.engine, ADJACENT_WAT), []).exports(ours)["f"]
    theirs = wasmtime.Store()
    g = wasmtime.Instance(theirs, wasmtime.Module(theirs.engine, ADJACENT_WAT), []).exports(theirs)["f"]
    for arg in (-5.0, 1e6):  # overflow at the trunc; out of bounds at the load
        with pytest.raises(Trap) as got:
            f(ours, arg)
        with pytest.raises(wasmtime.Trap) as want:
            g(theirs, arg)  # type: ignore[operator]
        assert got.value.trap_code.name == want.value.trap_code.name  # type: ignore[union-attr]
        assert [fr.func_offset for fr in got.value.frames] == [fr.func_offset for fr in want.value.frames]
