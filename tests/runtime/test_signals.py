"""Signals delivered to a thread running compiled Wasm, and an exit under a running guest.

Each case runs in a child process (a crash there must not take pytest with
it): a worker thread runs a guest loop that never ends while the main thread
sends one signal to that thread thousands of times with ``pthread_kill``,
then the child ends with the guest still running (a daemon thread, as a
debugger's guest thread is).  The child must exit 0.

The signal kinds: SIGINT with Python's own handler; SIGINT under
``store.interrupt_on_sigint()`` (its machine-code handler, SA_ONSTACK with no
alternate stack on the worker); SIGUSR1 with a Python handler; SIGUSR2 with
a C-level no-op handler (one ``ret``) installed with ``sigaction``.  Each
with and without guest debugging, and while a breakpoint handler runs on
every loop iteration (the signal lands in the trampoline, the ctypes
callback and the Python handler as well as in machine code).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    r"""
    import ctypes, signal, sys, threading, time
    import wasmdbg
    from wasmdbg.runtime.codemem import CodeMemory
    from wasmdbg.wasm.code import iter_body

    kind, debug, breakpoint, sends = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1", int(sys.argv[4])
    WAT = '''(module (memory 1)
      (func (export "spin") (local i32)
        loop $l
          local.get 0 i32.const 1 i32.add local.set 0
          i32.const 0 local.get 0 i32.store
          br $l
        end))'''
    engine = wasmdbg.Engine(wasmdbg.Config(debug=debug))
    store = wasmdbg.Store(engine)
    module = wasmdbg.Module(engine, WAT)
    spin = wasmdbg.Instance(store, module, []).exports(store)["spin"]
    hits = [0]
    traps = [0]
    if breakpoint:
        mdef = module.definition
        add = [off for off, _, _ in iter_body(mdef, mdef.body(0))][2]  # i32.add

        def handler(st, event):
            hits[0] += 1
            if event.kind.name == "INTERRUPTED":  # Ctrl-C under a debug handler: a pause, not a trap
                traps[0] += 1

        store.set_debug_handler(handler)
        with store.edit_breakpoints() as edit:
            edit.add_breakpoint(module, add)

    class SigAction(ctypes.Structure):
        _fields_ = (("handler", ctypes.c_uint64), ("mask", ctypes.c_uint64 * 16),
                    ("flags", ctypes.c_int), ("restorer", ctypes.c_uint64))

    handled = [0]
    if kind == "int-default":
        sig = signal.SIGINT
    elif kind == "int-guest":
        sig = signal.SIGINT
        guard = store.interrupt_on_sigint()
        guard.__enter__()
    elif kind == "usr1-python":
        sig = signal.SIGUSR1
        signal.signal(sig, lambda s, f: handled.__setitem__(0, handled[0] + 1))
    elif kind == "usr2-c":
        sig = signal.SIGUSR2
        ret = CodeMemory.from_bytes(b"\xc3")
        act = SigAction(handler=ret.address, flags=0x0800_0000 | 0x1000_0000)  # SA_ONSTACK | SA_RESTART
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.sigaction(int(sig), ctypes.byref(act), None) != 0:
            sys.exit(4)
    else:
        sys.exit(5)

    running = threading.Event()
    failures = []

    def guest():
        running.set()
        while True:
            try:
                spin(store)
            except wasmdbg.Trap as trap:
                if trap.trap_code is not wasmdbg.TrapCode.INTERRUPT:
                    failures.append(repr(trap))
                    return
                traps[0] += 1  # Ctrl-C under interrupt_on_sigint: run again
            except BaseException as exc:
                failures.append(repr(exc))
                return

    worker = threading.Thread(target=guest, daemon=True)
    worker.start()
    running.wait()
    time.sleep(0.02)
    sent = interrupted = 0
    while sent < sends and worker.is_alive():
        try:
            while sent < sends and worker.is_alive():
                signal.pthread_kill(worker.ident, sig)
                sent += 1
                if sent % 64 == 0:
                    time.sleep(0.0002)  # let the guest get back into machine code
        except KeyboardInterrupt:
            interrupted += 1
    while True:
        try:
            if sig == signal.SIGINT:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late KeyboardInterrupt is dropped
            time.sleep(0.05)
            break
        except KeyboardInterrupt:
            interrupted += 1
    if failures or not worker.is_alive() or sent != sends:
        print("FAILED", failures, worker.is_alive(), sent, flush=True)
        sys.exit(3)
    if kind == "int-guest" and traps[0] == 0:
        sys.exit(6)
    if kind == "usr1-python" and handled[0] == 0:
        sys.exit(7)
    if breakpoint and hits[0] == 0:
        sys.exit(8)
    print("ok", sent, interrupted, traps[0], handled[0], hits[0], flush=True)
    # NB: the interpreter now exits with the guest still running on its daemon thread
    """
)

KINDS = ["int-default", "int-guest", "usr1-python", "usr2-c"]
CASES = [(k, False, False) for k in KINDS] + [(k, True, False) for k in KINDS] + [(k, True, True) for k in KINDS]


@pytest.mark.parametrize(("kind", "debug", "breakpoint"), CASES)
def test_signals_on_a_thread_in_wasm_never_crash(kind: str, debug: bool, breakpoint: bool) -> None:
    args = [kind, "1" if debug else "0", "1" if breakpoint else "0", "3000"]
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout.startswith("ok 3000 "), proc.stdout


EXIT_IN_HOST_CALL = textwrap.dedent(
    """
    import sys, threading, time
    import wasmdbg
    engine = wasmdbg.Engine(wasmdbg.Config(debug=sys.argv[1] == "1"))
    store = wasmdbg.Store(engine)
    module = wasmdbg.Module(engine, '(module (import "h" "nap" (func $nap)) (func (export "f") loop call $nap br 0 end))')
    nap = wasmdbg.Func(store, wasmdbg.FuncType([], []), lambda: time.sleep(0.001))
    f = wasmdbg.Instance(store, module, [nap]).exports(store)["f"]
    threading.Thread(target=f, args=(store,), daemon=True).start()
    time.sleep(0.05)
    print("ok", flush=True)
    """
)


@pytest.mark.parametrize("debug", [False, True])
def test_exit_while_a_guest_thread_is_in_a_host_call(debug: bool) -> None:
    # NB: the finalizing interpreter ends that thread with pthread_exit when it
    # next wants the GIL; the unwinder reads the code at every JIT return address
    proc = subprocess.run([sys.executable, "-c", EXIT_IN_HOST_CALL, "1" if debug else "0"],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stderr
