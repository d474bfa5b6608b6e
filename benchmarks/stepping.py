"""Line stepping under ``wasmdbg debug``: ``python benchmarks/stepping.py``.

``programs/steploop.c`` (-O0 -g) has a line that runs a 100,000-iteration
loop and a line that calls a function running one.  In one REPL (driven
in-process, output discarded) the script stops
at the loop's line, then times, median of ``--repeat`` runs, in seconds:

* ``next (loop)``: ``next`` over the loop's line;
* ``next (call)``: ``next`` over the line whose call loops;
* ``until (loop)``: ``until`` over the loop's line;
* ``wasmtime``: the ``wasmtime`` package compiling and running the whole
  program (a reference: it has no debugger to compare with).
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
PROGRAM = HERE / "programs" / "steploop.wasm"
SOURCE = HERE / "programs" / "steploop.c"


def _line(marker: str) -> int:
    for i, text in enumerate(SOURCE.read_text().splitlines(), 1):
        if marker in text:
            return i
    raise SystemExit(f"no {marker!r} in {SOURCE.name}")


def _timed(command: str) -> float:
    program = Program(PROGRAM)
    out = io.StringIO()
    repl = Repl(program, stdin=io.StringIO(""), stdout=out, interactive=False)
    repl.run_commands([f"break steploop.c:{_line('next over this')}", "run"])
    if command == "next (call)":
        repl.run_commands(["next"])
    start = time.perf_counter()
    repl.run_commands([command.split()[0]])
    elapsed = time.perf_counter() - start
    text = out.getvalue()
    repl.dbg.kill()
    want = _line("and this") if command != "next (call)" else _line("printf")
    if f"\n{want}\t" not in text:
        raise SystemExit(f"{command}: did not stop at line {want}:\n{text}")
    return elapsed


def _wasmtime() -> float:
    start = time.perf_counter()
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(PROGRAM))
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    with contextlib.suppress(wasmtime.ExitTrap):
        instance.exports(store)["_start"](store)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--repeat", type=int, default=3)
    args = parser.parse_args()
    header = f"{'operation':<16}{'seconds':>10}"
    print(header)
    print("-" * len(header))
    for command in ("next (loop)", "next (call)", "until (loop)"):
        seconds = statistics.median(_timed(command) for _ in range(args.repeat))
        print(f"{command:<16}{seconds:>10.3f}")
    ref = statistics.median(_wasmtime() for _ in range(args.repeat))
    print(f"{'wasmtime (run)':<16}{ref:>10.3f}")


if __name__ == "__main__":
    main()
