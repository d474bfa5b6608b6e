"""Large-module creation: ``python benchmarks/module_creation.py [-r REPEAT] [files...]``.

Prints, per module, the wall time of ``Module(engine, bytes)`` from the bytes
to a module ready to instantiate: the ``wasmtime`` package's plain engine,
wasmdbg plain (lazy compilation, the default: decode, validate, set up),
wasmdbg plain compiled eagerly (``lazy_compilation=False``), wasmdbg with
``guest_debug`` (lazy: each function compiled on its first call or when the
debugger asks about it, ``runtime.debuglayout``) and with ``guest_debug``
compiled eagerly, in the same run, with the ratios the targets are stated in
(wasmdbg plain / wasmtime plain, wasmdbg debug / wasmtime plain).  It also
prints the time spent decoding and validating alone, the floor of any lazy
scheme (a module must still be decoded and validated whole at creation).

With ``--run`` it also times creation, instantiation and one run of a WASI
program's ``_start`` (stdout discarded) for each of them: lazy compilation
moves the compiles of the functions the run reaches from creation into the
run.

Default input: ``benchmarks/programs/sqlite/sqlite.wasm`` (built by
``programs/sqlite/build.sh``; about 1 MB of code), else the largest C test
program under ``benchmarks/programs/``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import wasmtime
from engines import best_time

import wasmdbg
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.validator import validate

HERE = Path(__file__).resolve().parent


def _inputs(extra: list[str]) -> list[Path]:
    if extra:
        return [Path(p) for p in extra]
    sqlite = HERE / "programs" / "sqlite" / "sqlite.wasm"
    if sqlite.exists():
        return [sqlite]
    programs = sorted((HERE / "programs").glob("*.wasm"), key=lambda p: p.stat().st_size)
    return programs[-1:]


def _create_and_run(mod: Any, engine: Any, data: bytes) -> float:
    """Seconds from the bytes to the end of ``_start`` (a WASI exit is fine)."""
    t0 = time.perf_counter()
    module = mod.Module(engine, data)
    store = mod.Store(engine)
    wasi = mod.WasiConfig()
    wasi.stdout_file = os.devnull
    store.set_wasi(wasi)
    linker = mod.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except mod.ExitTrap as exc:
        if exc.code != 0:
            raise
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("-r", "--repeat", type=int, default=3)
    parser.add_argument("--run", action="store_true", help="also time creation + instantiation + _start")
    args = parser.parse_args()

    wt_engine = wasmtime.Engine()
    engines = {
        "lazy": wasmdbg.Engine(wasmdbg.Config(guest_debug=False)),
        "eager": wasmdbg.Engine(wasmdbg.Config(guest_debug=False, lazy_compilation=False)),
        "debug": wasmdbg.Engine(wasmdbg.Config(guest_debug=True)),
        "debug eager": wasmdbg.Engine(wasmdbg.Config(guest_debug=True, lazy_compilation=False)),
    }
    header = (
        f"{'module':18} {'code KiB':>9} {'wasmtime s':>11}"
        + "".join(f" {name + ' s':>14}" for name in engines)
        + f" {'lazy/wt':>8} {'debug/wt':>9} {'decode+validate s':>18}"
    )
    print(header)
    print("-" * len(header))
    for path in _inputs(args.files):
        data = path.read_bytes()
        module = decode_module(data)
        code_bytes = sum(b.code_end - b.offset for b in module.bodies)
        t_wt = best_time(lambda d=data: wasmtime.Module(wt_engine, d), args.repeat)
        times = {
            name: best_time(lambda d=data, e=engine: wasmdbg.Module(e, d), args.repeat)  # type: ignore[misc]
            for name, engine in engines.items()
        }
        t_front = best_time(lambda d=data: validate(decode_module(d)), args.repeat)
        print(
            f"{path.name:18} {code_bytes / 1024:9.1f} {t_wt:11.3f}"
            + "".join(f" {t:14.3f}" for t in times.values())
            + f" {times['lazy'] / t_wt:7.2f}x {times['debug'] / t_wt:8.2f}x {t_front:18.3f}"
        )
    print(f"(best of {args.repeat}; every figure is the whole Module(engine, bytes) call;")
    print(" lazy and debug compile each function when first needed, eager ones all at once)")
    if args.run:
        print()
        print(f"{'module':18} {'wasmtime s':>11}" + "".join(f" {name + ' s':>14}" for name in engines)
              + f" {'lazy/wt':>8} {'debug/wt':>9}")
        for path in _inputs(args.files):
            data = path.read_bytes()
            r_wt = min(_create_and_run(wasmtime, wt_engine, data) for _ in range(args.repeat))
            runs = {
                name: min(_create_and_run(wasmdbg, engine, data) for _ in range(args.repeat))
                for name, engine in engines.items()
            }
            print(
                f"{path.name:18} {r_wt:11.3f}" + "".join(f" {t:14.3f}" for t in runs.values())
                + f" {runs['lazy'] / r_wt:7.2f}x {runs['debug'] / r_wt:8.2f}x"
            )
        print("(creation + instantiation + one _start; best of each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
