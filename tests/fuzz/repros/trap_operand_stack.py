"""Repro: at a TRAP debug event the operand stack cannot be read.

Found by ``WASMDBG_FUZZ_SINGLE_STEP=1`` runs of tests/fuzz/test_differential.py
(614 declined reads over seeds 30000..30599, every one at a TRAP event, every one
of the operand stack; locals and every STEP-event read worked).  DESIGN.md says
traps stop in the debugger before the stack unwinds "(the frames are still there
to inspect)"; the locals are, but operand-stack values that live in registers at
the trapping instruction are not saved on the trap path, so::

    TRAP pc 0x28 locals [5, 0]
      stack: DebugError: stack lives in a register that is not saved for this frame

Expected: the stack [12, 0] (the dividend and the zero divisor of i32.div_u).
Usage: ``python tests/fuzz/repros/trap_operand_stack.py`` (exit 1 while it fails).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import wasmdbg

WAT = """(module (func (export "f") (param i32 i32) (result i32)
  local.get 0  i32.const 7  i32.add  local.get 1  i32.div_u))"""

config = wasmdbg.Config()
config.guest_debug = True
engine = wasmdbg.Engine(config)
store = wasmdbg.Store(engine)
f = wasmdbg.Instance(store, wasmdbg.Module(engine, WAT), []).exports(store)["f"]
seen: list[Any] = []


def handler(store: Any, event: Any) -> None:
    frame = store.debug_frames()[0]
    print(event.kind.name, "pc", hex(event.pc), "locals", frame.locals[:])
    try:
        stack = frame.stack[:]
        print("  stack", stack)
        seen.append(stack)
    except wasmdbg.DebugError as exc:
        print("  stack: DebugError:", exc)


store.set_debug_handler(handler)
with contextlib.suppress(wasmdbg.Trap):
    f(store, 5, 0)
sys.exit(0 if seen == [[12, 0]] else 1)
