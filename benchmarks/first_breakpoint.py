"""Time to the first source breakpoint under ``wasmdbg debug``: ``python benchmarks/first_breakpoint.py [FILE:SPEC...]``.

Each target is a WASI command and a breakpoint (``path.wasm:LOCATION``, the
location as ``break`` takes it; default: SQLite's ``sqlite3_exec`` when
``programs/sqlite/build.sh`` has built it, the C test programs and the README
example).  For each, in one fresh REPL (driven in-process, output discarded),
the median of ``--repeat`` runs, in seconds, of:

* ``compile``: reading and compiling the module with ``guest_debug`` (what
  ``wasmdbg debug FILE`` does before its prompt);
* ``break``: ``break LOCATION`` (DWARF opened, line table or function found);
* ``run``: ``run`` until the breakpoint stops (instantiation, WASI start-up);
* ``first stop``: the three together, from the command line to the stop line;
* ``wasmtime``: the ``wasmtime`` package compiling the module and running it to
  its exit in the same process (a reference: it has no debugger to compare with).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from pathlib import Path

import wasmtime

from wasmdbg.cli.repl import Program, Repl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
C = ROOT / "tests" / "programs" / "c"


def _targets(extra: list[str]) -> list[tuple[Path, str]]:
    if extra:
        out = []
        for item in extra:
            path, _, spec = item.partition(".wasm:")
            out.append((Path(path + ".wasm"), spec or "main"))
        return out
    targets = []
    sqlite = HERE / "programs" / "sqlite" / "sqlite.wasm"
    if sqlite.exists():
        targets.append((sqlite, "sqlite3_exec"))
    targets += [
        (C / "types.O0.wasm", "area"),
        (C / "recursion.O2.wasm", "fib"),
        (C / "inline.O2.wasm", "process"),
        (ROOT / "src" / "wasmdbg" / "examples" / "shapes.wasm", "shapes.c:31"),
    ]
    return targets


def _wasmdbg(path: Path, spec: str) -> tuple[float, float, float]:
    start = time.perf_counter()
    program = Program(path)
    compiled = time.perf_counter()
    out = io.StringIO()
    repl = Repl(program, stdin=io.StringIO(""), stdout=out, interactive=False)
    repl.run_commands([f"break {spec}"])
    resolved = time.perf_counter()
    repl.run_commands(["run"])
    stopped = time.perf_counter()
    repl.dbg.kill()
    if "Breakpoint 1, " not in out.getvalue():
        raise SystemExit(f"{path.name}: the breakpoint {spec} did not stop:\n{out.getvalue()}")
    return compiled - start, resolved - compiled, stopped - resolved


def _wasmtime(path: Path) -> float:
    start = time.perf_counter()
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(path))
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [path.name]
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    with contextlib.suppress(wasmtime.ExitTrap):
        instance.exports(store)["_start"](store)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", metavar="FILE.wasm:LOCATION")
    parser.add_argument("-r", "--repeat", type=int, default=3)
    args = parser.parse_args()
    header = f"{'program':<22}{'size':>9}{'compile':>10}{'break':>8}{'run':>8}{'first stop':>12}{'wasmtime':>10}"
    print(header)
    print("-" * len(header))
    for path, spec in _targets(args.targets):
        runs = [_wasmdbg(path, spec) for _ in range(args.repeat)]
        compile_s, break_s, run_s = (statistics.median(col) for col in zip(*runs, strict=True))
        total = statistics.median(sum(r) for r in runs)
        ref = statistics.median(_wasmtime(path) for _ in range(args.repeat))
        size = path.stat().st_size
        print(f"{path.name:<22}{size / 1024:>8.0f}K{compile_s:>10.2f}{break_s:>8.2f}{run_s:>8.2f}{total:>12.2f}{ref:>10.2f}")


if __name__ == "__main__":
    main()
