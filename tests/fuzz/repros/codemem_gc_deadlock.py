"""Repro: deadlock in wasmdbg.runtime.codemem found by the differential fuzz test.

Seen as hangs of tests/fuzz/test_differential.py with WASMDBG_FUZZ_GUEST_DEBUG=1
(10 of seeds 5000..5999; with guest_debug every Store maps its own code, so code
memory is allocated and freed far more often), and once without it.  The hung
worker's stack::

    codemem.py _release   <- `with self._lock` (already held: hangs forever)
    codemem.py free
    weakref.py __call__   <- CodeMemory's weakref.finalize, run by the cyclic GC
    codemem.py allocate   <- inside `with self._lock`, allocating Python objects
    codemem.py __init__ / from_bytes / store.py code_for / instance.py ...

_CodeArena.allocate holds the non-reentrant _CodeArena._lock while it allocates
Python objects (the enumerate iterator, tuples).  Any such allocation may run the
cyclic garbage collector, which may free the last reference to a CodeMemory, whose
finalizer calls arena.free -> _release -> `with self._lock` on the same thread.

This script hits the window deterministically: a __del__ run by the collection
just before the one under the lock arranges for a CodeMemory to die in it.
Usage: ``python tests/fuzz/repros/codemem_gc_deadlock.py`` prints "no deadlock";
before the fix (commit 3049041, "code arena frees never block on its lock") it
printed the hung stack after 5 s and exited 1.  Kept as a regression check.
"""

from __future__ import annotations

import faulthandler
import gc
import subprocess
import sys

from wasmdbg.runtime.codemem import CodeMemory, code_arena

KEEP: list[object] = []


class Chain:
    """Cyclic garbage; its __del__ (run by a collection) does the next step."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.me = self

    def __del__(self) -> None:
        if self.depth == 0:
            KEEP.clear()  # the CodeMemory dies now, inside this collection
        else:
            Chain(self.depth - 1)


def attempt(depth: int) -> None:
    faulthandler.dump_traceback_later(5, exit=True)
    allocate = code_arena().allocate
    KEEP.append(CodeMemory(4096))
    gc.collect()
    gc.disable()
    Chain(depth)
    gc.set_threshold(1)  # collect at (almost) every GC-tracked allocation
    gc.enable()
    allocate(4096)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        attempt(int(sys.argv[1]))
        sys.exit(0)
    # Which collection runs under the lock depends on the interpreter: try a few.
    for depth in range(4):
        proc = subprocess.run([sys.executable, __file__, str(depth)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"deadlock (depth {depth}):\n{proc.stderr}")
            sys.exit(1)
    print("no deadlock")
