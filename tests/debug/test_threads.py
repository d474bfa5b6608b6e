"""Breakpoint edits from a thread other than the guest's, while the guest runs.

Front ends edit from threads of their own; the guest must never execute
its code while an edit has it writable (``runtime.debug.gate``).  The
script runs in a child process so that a crash fails the test instead of
killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r'''
import json, sys, threading, time
import wasmdbg
from wasmdbg.debug import DebugEventKind, Resume

WAT = """
(module
  (func (export "spin") (param $n i64) (result i64)
    (local $acc i64)
    (loop $l
      local.get $acc
      i64.const 1
      i64.add
      local.set $acc
      local.get $n
      local.get $acc
      i64.gt_u
      br_if $l)
    local.get $acc))
"""
EDITS = int(sys.argv[1])
engine = wasmdbg.Engine(wasmdbg.Config(debug=True))
store = wasmdbg.Store(engine)
module = wasmdbg.Module(engine, WAT)
spin = wasmdbg.Instance(store, module, []).exports(store)["spin"]
table = store.debug_frame_table(module)
pcs = sorted({s.pc for s in table.function_sites(0)})[2:8]  # inside the loop body

hits = {}
wanted = [None]           # (kind, pc) the editor waits for
seen = threading.Event()
done = threading.Event()

def handler(store, event):
    if done.is_set():
        return Resume.ABORT
    hits[(event.kind, event.pc)] = hits.get((event.kind, event.pc), 0) + 1
    if wanted[0] == (event.kind, event.pc):
        seen.set()
    return None

store.set_debug_handler(handler)
failures = []

def editor():
    try:
        started.wait()
        for i in range(EDITS):
            if i % 100 == 99:   # single-step on and off from here too
                with store.edit_breakpoints() as edit:
                    edit.single_step(True)
                with store.edit_breakpoints() as edit:
                    edit.single_step(False)
                time.sleep(0.0002)
            pc = pcs[i % len(pcs)]
            seen.clear()
            wanted[0] = (DebugEventKind.BREAKPOINT, pc)
            with store.edit_breakpoints() as edit:
                edit.add_breakpoint(module, pc)
            if not seen.wait(20):
                failures.append(f"edit {i}: breakpoint at 0x{pc:x} never hit")
            wanted[0] = None
            with store.edit_breakpoints() as edit:
                edit.remove_breakpoint(module, pc)
            # let the guest run on in machine code, no site enabled, before the next edit
            # (without this the next edit would usually find it waiting for the GIL)
            time.sleep(0.0002)
    except BaseException as exc:
        failures.append(repr(exc))
    finally:
        done.set()
        store.interrupt()

started = threading.Event()
thread = threading.Thread(target=editor)
thread.start()
started.set()
try:
    spin(store, 1 << 62)
    failures.append("the guest returned")
except wasmdbg.Trap as trap:
    if "abort" not in str(trap).lower():
        failures.append(f"unexpected trap: {trap}")
thread.join()
breaks = sum(n for (kind, _), n in hits.items() if kind == DebugEventKind.BREAKPOINT)
print(json.dumps({"failures": failures, "breaks": breaks,
                  "left": len(store.breakpoints()), "single_step": store.is_single_step}))
'''


def test_thousand_edits_from_another_thread_against_a_hot_loop() -> None:
    edits = 1000
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(edits)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"child died with {proc.returncode}: {proc.stderr[-2000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["failures"] == []
    assert result["breaks"] >= edits  # every breakpoint added was hit at least once
    assert result["left"] == 0
    assert result["single_step"] is False
