"""The guest debugger's costs, against the targets of the debugger-core issue (issue 7).

Prints one table per part (timings never go into the tests):

(a) the C programs of ``programs/`` with ``guest_debug`` on and no breakpoint,
    against ``guest_debug`` off: run time of ``run()``, the on/off ratio per
    program and its geometric mean (the debug/no-debug ratio; target: at
    most 1.15x).  Plain code is compiled lazily; every function is compiled
    (untimed) before its run, so both sides run steady-state code;
(b) the cost of a breakpoint hit, measured as (time with one breakpoint in a
    hot loop - time without) / hits, with a handler that only counts
    (target: at most 1 us); the same with a handler that reads
    ``store.debug_frames()[0].locals[0]``, what a conditional breakpoint on
    one local costs (target: at most 2 us); and through
    :class:`wasmdbg.debug.Debugger` with such a condition, for comparison;
(c) an edit session adding one breakpoint, ``with store.edit_breakpoints() as
    e: e.add_breakpoint(module, pc)`` (target: at most 100 us);
(d) single-stepping with a handler that counts (target: at least 200,000
    steps per second); also through the Debugger (``set_step`` at every
    stop), for comparison.

(b)-(d) use a small counting loop in a ``.wat`` module.  Times are minima (or
medians, for single edit sessions) over ``--repeat`` runs, each program on a
fresh Engine, Store and Instance.  The machine is shared: expect some noise.

Usage::

    python benchmarks/debugger.py                 # everything
    python benchmarks/debugger.py -r 5 matmul     # (a) for some programs only
    python benchmarks/debugger.py --no-programs   # only (b)-(d)
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Any

import run_programs
from engines import best_time, format_table, geomean, load_engine
from run_programs import EXPECTED_FILE, PROGRAMS_DIR, Measurement, measure, ratio

LOOP_WAT = """
(module
  (func (export "count") (param $n i32) (result i32)
    (local $acc i32)
    block
      loop
        local.get $n
        i32.eqz
        br_if 1
        local.get $acc
        local.get $n
        i32.add
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br 0
      end
    end
    local.get $acc))
"""
BREAK_AT = 7  # index of the instruction with the breakpoint: `local.get $acc` in the loop

TARGET_MEAN = 1.05  # geometric mean of the on/off ratios
TARGET_WORST = 1.15  # any one program
TARGET_HIT_US = 1.0
TARGET_COND_US = 2.0
TARGET_EDIT_US = 100.0
TARGET_STEPS = 200_000


# --------------------------------------------------------------------------
# (a) the C programs


def programs_part(names: list[str], repeat: int) -> tuple[str, list[float]]:
    """The on/off table and the ratios."""
    off, on = load_engine("wasmdbg"), load_engine("wasmdbg", guest_debug=True)
    if not (off.ok and on.ok):
        return f"wasmdbg unavailable: {off.error or on.error}", None
    rows: list[list[str]] = []
    ratios: list[float] = []
    for name in names:
        wasm = (PROGRAMS_DIR / f"{name}.wasm").read_bytes()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        # NB: alternate the two configurations so that both see the same machine load
        best_off, best_on = Measurement(), Measurement()
        for _ in range(repeat):
            for m, api in ((best_off, off), (best_on, on)):
                got = measure(api, wasm, 1)
                m.error = m.error or got.error
                m.run_s = min(m.run_s, got.run_s)
                m.checksum = got.checksum
        r = ratio(best_on, best_off)
        if best_off.checksum != best_on.checksum:
            r = None
        if r is not None:
            ratios.append(r)
        note = best_off.error or best_on.error or ("" if r is not None else "checksums differ")
        rows.append([
            name,
            f"{best_off.run_s * 1e3:.1f}",
            f"{best_on.run_s * 1e3:.1f}",
            "-" if r is None else f"{r:.2f}x",
            note,
        ])
    table = format_table(["program", "debug off ms", "debug on ms", "on/off", "note"], rows)
    return table, ratios


# --------------------------------------------------------------------------
# (b)-(d) the debugger operations


class _Loop:
    """A debug Store with the counting loop instantiated."""

    def __init__(self) -> None:
        import wasmdbg
        from wasmdbg.wasm.code import iter_body

        self.engine = wasmdbg.Engine(wasmdbg.Config(debug=True))
        self.module = wasmdbg.Module(self.engine, LOOP_WAT)
        self.store = wasmdbg.Store(self.engine)
        instance = wasmdbg.Linker(self.engine).instantiate(self.store, self.module)
        self.count = instance.exports(self.store)["count"]
        mdef = self.module.definition
        self.pcs = [off for off, _, _ in iter_body(mdef, mdef.body(0))]

    def run(self, n: int) -> None:
        self.count(self.store, n)


def hit_cost_us(
    repeat: int, *, handler: str = "count", debugger: bool = False
) -> float:
    """The cost of one breakpoint hit, as (time with one breakpoint in the hot loop
    - time without) / hits.

    ``handler``: ``"count"`` only counts; ``"local"`` also reads
    ``locals[0]`` of the innermost frame, as a conditional breakpoint on one
    local does; ``"none"``: no handler installed (the floor: trampoline,
    ctypes callback and the Store's dispatch, no handler call).
    ``debugger``: through :class:`wasmdbg.debug.Debugger` with a condition
    that reads one local and is never true (the guest never stops).

    NB: the machine may be shared: the runs with and without the breakpoint
    alternate (the breakpoint is added and removed between them) and the
    best of each is kept, so both see the same load.
    """
    from wasmdbg.debug import Debugger

    loop = _Loop()
    n = 20_000 if debugger else 100_000
    pc = loop.pcs[BREAK_AT]
    store, module = loop.store, loop.module
    hits = 0

    def counting(store: Any, event: Any) -> None:
        nonlocal hits
        hits += 1

    def reading(store: Any, event: Any) -> None:
        nonlocal hits
        if store.debug_frames()[0].locals[0] != -1:
            hits += 1

    dbg: Debugger | None = None
    if debugger:
        dbg = Debugger(store, on_stop=lambda d, stop: d.set_continue())
    elif handler != "none":
        store.set_debug_handler(reading if handler == "local" else counting)
    base = hit = math.inf
    for _ in range(repeat):
        base = min(base, best_time(lambda: loop.run(n), 1))
        if dbg is not None:
            bp = dbg.set_break(module, pc, cond=lambda frame: frame.locals[0] == -1)
        else:
            with store.edit_breakpoints() as edit:
                edit.add_breakpoint(module, pc)
        hit = min(hit, best_time(lambda: loop.run(n), 1))
        if dbg is not None:
            dbg.clear_break(bp.number)
        else:
            with store.edit_breakpoints() as edit:
                edit.remove_breakpoint(module, pc)
    if not debugger and handler != "none" and hits != n * repeat:
        raise SystemExit(f"expected {n * repeat} hits, counted {hits}")
    return (hit - base) / n * 1e6


def edit_session_us(repeat: int) -> float:
    """Median time of a session adding one breakpoint (removed again, untimed)."""
    loop = _Loop()
    module, pc = loop.module, loop.pcs[BREAK_AT]
    store = loop.store
    times: list[float] = []
    for _ in range(max(200, 200 * repeat)):
        t0 = time.perf_counter()
        with store.edit_breakpoints() as edit:
            edit.add_breakpoint(module, pc)
        times.append(time.perf_counter() - t0)
        with store.edit_breakpoints() as edit:
            edit.remove_breakpoint(module, pc)
    return statistics.median(times) * 1e6


def steps_per_second(repeat: int, *, debugger: bool) -> float:
    """Single-step stops per second (a handler that counts, or Debugger.set_step).

    Single-stepping ends with each guest call, so it is turned on at the
    call's first sequence point (a breakpoint) and the whole call is timed.
    """
    from wasmdbg.debug import Debugger

    loop = _Loop()
    stops = 0
    n = 5_000 if debugger else 50_000
    if debugger:
        def counting_stop(d: Debugger, stop: Any) -> None:
            nonlocal stops
            stops += 1
            d.set_step()

        Debugger(loop.store, on_stop=counting_stop).set_break(loop.module, loop.pcs[0])
    else:
        def counting(store: Any, event: Any) -> None:
            nonlocal stops
            stops += 1
            if not store.is_single_step:
                with store.edit_breakpoints() as edit:
                    edit.single_step(True)

        loop.store.set_debug_handler(counting)
        with loop.store.edit_breakpoints() as edit:
            edit.add_breakpoint(loop.module, loop.pcs[0])
    best = math.inf
    per_second = 0.0
    for _ in range(repeat):
        stops = 0
        t0 = time.perf_counter()
        loop.run(n)
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, per_second = elapsed, stops / elapsed
    return per_second


def operations_part(repeat: int) -> str:
    """The table of (b)-(d)."""
    rows: list[list[str]] = []

    def row(what: str, value: str, target: str, met: bool | None) -> None:
        verdict = "-" if met is None else ("met" if met else "MISSED")
        rows.append([what, value, target, verdict])

    floor = hit_cost_us(repeat, handler="none")
    row("(b) breakpoint hit, no handler (the floor)", f"{floor:.2f} us", "", None)
    hit = hit_cost_us(repeat)
    row("    breakpoint hit, handler counts", f"{hit:.2f} us", f"<= {TARGET_HIT_US:g} us", hit <= TARGET_HIT_US)
    cond = hit_cost_us(repeat, handler="local")
    row("    handler reads debug_frames()[0].locals[0]", f"{cond:.2f} us", f"<= {TARGET_COND_US:g} us",
        cond <= TARGET_COND_US)
    cond_dbg = hit_cost_us(repeat, debugger=True)
    row("    Debugger breakpoint, condition on one local", f"{cond_dbg:.2f} us", "", None)
    edit = edit_session_us(repeat)
    row("(c) edit session adding one breakpoint", f"{edit:.1f} us", f"<= {TARGET_EDIT_US:g} us",
        edit <= TARGET_EDIT_US)
    sps = steps_per_second(repeat, debugger=False)
    row("(d) single-step, handler counts", f"{sps:,.0f} /s", f">= {TARGET_STEPS:,} /s", sps >= TARGET_STEPS)
    sps_dbg = steps_per_second(repeat, debugger=True)
    row("    the same through Debugger (set_step)", f"{sps_dbg:,.0f} /s", "", None)
    return format_table(["measure", "value", "target", ""], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="*", help="C programs for (a) (default: all)")
    parser.add_argument("-r", "--repeat", type=int, default=3, help="runs per measurement (the best is kept)")
    parser.add_argument("--no-programs", action="store_true", help="skip (a)")
    args = parser.parse_args(argv)

    if not args.no_programs:
        # the benchmark set: programs with a recorded checksum (not steploop.c, the stepping benchmark's)
        expected = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}
        names = args.programs or sorted(
            p.stem for p in PROGRAMS_DIR.glob("*.c") if not expected or p.stem in expected
        )
        run_programs.PRECOMPILE[0] = True
        missing = [n for n in names if not (PROGRAMS_DIR / f"{n}.wasm").exists()]
        if missing:
            print(f"error: no .wasm for {', '.join(missing)} (run benchmarks/programs/build.sh)")
            return 2
        table, ratios = programs_part(names, args.repeat)
        print("(a) C programs, guest_debug on (no breakpoint) vs off")
        print(table)
        if ratios:
            mean, worst = geomean(ratios), max(ratios)
            print(
                f"geometric mean on/off: {mean:.3f}x (target <= {TARGET_MEAN}x: "
                f"{'met' if mean <= TARGET_MEAN else 'MISSED'}); worst {worst:.2f}x "
                f"(target <= {TARGET_WORST}x: {'met' if worst <= TARGET_WORST else 'MISSED'})"
            )
        print()
    print("debugger operations")
    print(operations_part(args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
