"""Run the C benchmark programs under wasmtime and wasmdbg, in the same process.

For each program in ``benchmarks/programs`` (built by ``build.sh``; each exports
``int run(void)`` returning a checksum) this measures the compile time
(``Module(engine, bytes)``) and the run time (one call of ``run``) under the
``wasmtime`` package and under ``wasmdbg``, both driven through the same wasmtime-py
API, checks that the checksums agree (with each other and with
``programs/expected.json``), and prints a table and the geometric mean of the
run-time ratios wasmdbg / wasmtime.

With ``--guest-debug`` it also runs wasmdbg with ``Config.guest_debug = True``
(patch sites compiled in, none enabled) and adds the debug-on / debug-off ratio: the
overhead of having the debugger available.

Times are the minimum over ``--repeat`` runs, each on a fresh Engine, Store and
Instance (instantiation is not timed).  If wasmdbg cannot be imported, or fails on a
program, the script says so and reports what it could measure; it never ends in a
traceback.

Usage::

    python benchmarks/run_programs.py                  # all programs
    python benchmarks/run_programs.py fib sort -r 5    # some programs, 5 repeats
    python benchmarks/run_programs.py --guest-debug    # + wasmdbg with guest_debug
    python benchmarks/run_programs.py --nodbg          # the builds without DWARF
    python benchmarks/run_programs.py --cpu            # run times as thread CPU time
    python benchmarks/run_programs.py --eager          # wasmdbg with lazy_compilation off
    python benchmarks/run_programs.py --precompile     # lazily compiled code, all compiled untimed

wasmdbg compiles each function on its first call (``Config.lazy_compilation``), so
by default its run column includes compiling the functions the run reaches; with
``--precompile`` they are all compiled (untimed) before the run, which leaves the
steady-state cost of lazily compiled code (calls through the code table).

Exit status: 0 when every checksum that was computed matches, 1 on a mismatch or a
wasmdbg failure (2 with ``--require-wasmdbg`` when wasmdbg is not importable).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines import EngineApi, format_table, geomean, instantiate, load_engine, timed

HERE = Path(__file__).resolve().parent
PROGRAMS_DIR = HERE / "programs"
EXPECTED_FILE = PROGRAMS_DIR / "expected.json"
# Stop repeating a configuration once a single run took this long (seconds).
SLOW_RUN = 5.0
# The clock of the run column: wall time, or (--cpu) the CPU time of this thread,
# which the guest runs on (less disturbed on a machine shared with other work).
RUN_CLOCK: list[Callable[[], float]] = [time.perf_counter]


def timed_run(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds on RUN_CLOCK, result) of one call."""
    clock = RUN_CLOCK[0]
    t0 = clock()
    result = fn()
    return clock() - t0, result


@dataclass
class Measurement:
    """Best compile and run times of one program under one engine configuration."""

    compile_s: float = math.inf
    run_s: float = math.inf
    checksum: int | None = None
    error: str | None = None
    runs: int = 0
    extra: list[str] = field(default_factory=list)


PRECOMPILE: list[bool] = [False]


def measure(api: EngineApi, wasm: bytes, repeat: int) -> Measurement:
    """Compile, instantiate and call ``run`` ``repeat`` times; never raises."""
    m = Measurement()
    assert api.mod is not None
    stage = "engine"
    try:
        for _ in range(repeat):
            stage = "engine"
            engine = api.new_engine()
            stage = "compile"
            compile_s, module = timed(lambda e=engine: api.mod.Module(e, wasm))  # type: ignore[union-attr]
            stage = "instantiate"
            store = api.mod.Store(engine)
            instance = instantiate(api, engine, store, module)
            run = instance.exports(store)["run"]
            lazy = getattr(module, "lazy_code", None)
            if PRECOMPILE[0] and lazy is not None:
                lazy.compile_all()
            layout = getattr(module, "debug_layout", None)  # lazily compiled guest-debug code
            if PRECOMPILE[0] and layout is not None and layout.count:
                layout.compile_all()
                store.code_objects[module].code_address(layout.first)  # maps all of it
            stage = "run"
            run_s, result = timed_run(lambda r=run, s=store: r(s))
            if not isinstance(result, int):
                raise TypeError(f"run() returned {result!r}, expected an int")
            if m.checksum is not None and result != m.checksum:
                raise RuntimeError(f"nondeterministic: run() gave {m.checksum} then {result}")
            m.checksum = result
            m.compile_s = min(m.compile_s, compile_s)
            m.run_s = min(m.run_s, run_s)
            m.runs += 1
            if run_s > SLOW_RUN:
                break
    except Exception as exc:  # report, never crash: wasmdbg may be incomplete
        text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0] if str(exc) else type(exc).__name__
        m.error = f"{stage} failed: {text}"[:200]
    return m


def _warm_up(api: EngineApi, wasm: bytes) -> None:
    """Compile once, untimed (errors are reported by the real measurement)."""
    with contextlib.suppress(Exception):
        api.mod.Module(api.new_engine(), wasm)  # type: ignore[union-attr]


def ms(seconds: float) -> str:
    return "-" if math.isinf(seconds) else f"{seconds * 1e3:.1f}"


def ratio(a: Measurement, b: Measurement) -> float | None:
    if a.error or b.error or math.isinf(a.run_s) or math.isinf(b.run_s) or b.run_s <= 0:
        return None
    return a.run_s / b.run_s


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="*", help="program names (default: all)")
    parser.add_argument("-r", "--repeat", type=int, default=3, help="runs per configuration (min is kept)")
    parser.add_argument("--guest-debug", action="store_true", help="also run wasmdbg with Config.guest_debug = True")
    parser.add_argument("--nodbg", action="store_true", help="use NAME.nodbg.wasm (no DWARF)")
    parser.add_argument("--require-wasmdbg", action="store_true", help="exit 2 if wasmdbg is unusable")
    parser.add_argument("--candidate", default="wasmdbg", metavar="MODULE",
                        help="module measured against wasmtime (default wasmdbg; 'wasmtime' self-checks the script)")
    parser.add_argument("--json", metavar="PATH", help="also write the measurements as JSON")
    parser.add_argument("--cpu", action="store_true",
                        help="time runs by this thread's CPU time instead of the wall clock")
    parser.add_argument("--eager", action="store_true", help="wasmdbg with Config.lazy_compilation = False")
    parser.add_argument("--precompile", action="store_true",
                        help="compile every function of a lazily compiled module before the (timed) run")
    args = parser.parse_args(argv)
    PRECOMPILE[0] = args.precompile
    if args.cpu:
        RUN_CLOCK[0] = time.thread_time

    expected: dict[str, int] = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.exists() else {}
    # the benchmark set: programs with a recorded checksum (steploop.c is the stepping benchmark's)
    names = args.programs or sorted(
        p.stem for p in PROGRAMS_DIR.glob("*.c") if not expected or p.stem in expected
    )
    suffix = ".nodbg.wasm" if args.nodbg else ".wasm"
    missing = [n for n in names if not (PROGRAMS_DIR / (n + suffix)).exists()]
    if missing:
        print(f"error: no {suffix} for {', '.join(missing)} (run benchmarks/programs/build.sh)")
        return 2

    reference = load_engine("wasmtime")
    if not reference.ok:
        print(f"error: the reference engine is unusable: {reference.error}")
        return 2
    configs: list[EngineApi] = [load_engine(args.candidate)]
    if args.eager and configs[0].ok:
        configs[0].settings["lazy_compilation"] = False
    if args.guest_debug:
        configs.append(load_engine(args.candidate, guest_debug=True))
    for api in configs:
        if not api.ok:
            print(f"note: {api.label} unavailable, its columns stay empty: {api.error}")
    # Warm-up: the first compile pays for importing the compiler's own modules.
    warm = (PROGRAMS_DIR / (names[0] + suffix)).read_bytes()
    for api in [reference, *configs]:
        if api.ok:
            _warm_up(api, warm)
    if args.require_wasmdbg and not all(api.ok for api in configs):
        return 2

    cand = args.candidate
    headers = ["program", "wasmtime compile ms", f"{cand} compile ms", "wasmtime run ms", f"{cand} run ms", "ratio"]
    if args.guest_debug:
        headers += ["+debug compile ms", "+debug run ms", "debug/nodebug"]
    headers.append("checksum")

    rows: list[list[str]] = []
    notes: list[str] = []
    ratios: list[float] = []
    debug_ratios: list[float] = []
    failed = False
    report: dict[str, Any] = {}
    for name in names:
        wasm = (PROGRAMS_DIR / (name + suffix)).read_bytes()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        ref = measure(reference, wasm, args.repeat)
        results = [measure(api, wasm, args.repeat) if api.ok else Measurement(error="unavailable") for api in configs]

        status = "ok"
        want = expected.get(name, ref.checksum)
        if ref.error:
            notes.append(f"{name}: wasmtime: {ref.error}")
            status, failed = "wasmtime error", True
        elif want is not None and ref.checksum != want:
            notes.append(f"{name}: wasmtime gave {ref.checksum}, expected.json says {want} (rebuilt?)")
            status, failed = "MISMATCH", True
        for api, res in zip(configs, results, strict=True):
            if res.error == "unavailable":
                continue
            if res.error:
                notes.append(f"{name}: {api.label}: {res.error}")
                status, failed = ("FAILED" if status == "ok" else status), True
            elif res.checksum != want:
                notes.append(f"{name}: {api.label} gave {res.checksum}, wasmtime gave {want}")
                status, failed = "MISMATCH", True

        wd = results[0]
        r = ratio(wd, ref) if status == "ok" else None
        if r is not None:
            ratios.append(r)
        row = [name, ms(ref.compile_s), ms(wd.compile_s), ms(ref.run_s), ms(wd.run_s), fmt_ratio(r)]
        if args.guest_debug:
            dbg = results[1]
            dr = ratio(dbg, wd) if status == "ok" else None
            if dr is not None:
                debug_ratios.append(dr)
            row += [ms(dbg.compile_s), ms(dbg.run_s), fmt_ratio(dr)]
        row.append(status if status != "ok" else str(want))
        rows.append(row)
        report[name] = {
            "checksum": want,
            "status": status,
            **{
                api_label: {"compile_ms": m.compile_s * 1e3, "run_ms": m.run_s * 1e3, "error": m.error, "runs": m.runs}
                for api_label, m in [("wasmtime", ref)] + [(a.label, x) for a, x in zip(configs, results, strict=True)]
                if not m.error or m.error != "unavailable"
            },
        }

    print()
    print(format_table(headers, rows))
    print()
    print(f"geometric mean of run-time ratios {cand} / wasmtime: {fmt_ratio(geomean(ratios) if ratios else None)}"
          f" over {len(ratios)} of {len(names)} programs")
    if args.guest_debug:
        print(f"geometric mean of run-time ratios debug on / off:     "
              f"{fmt_ratio(geomean(debug_ratios) if debug_ratios else None)} over {len(debug_ratios)} programs")
    clock = "thread CPU time" if args.cpu else "wall time"
    print(f"(min of {args.repeat} runs each; {'no-DWARF' if args.nodbg else 'DWARF'} builds; run times: {clock})")
    if notes:
        print()
        print("notes:")
        for note in notes:
            print(f"  {note}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
