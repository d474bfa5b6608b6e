"""Compile throughput: ``python benchmarks/compile.py [-r REPEAT] [files...]``.

Prints, per module, the size of its code section and how fast it is turned into
machine code: wasmdbg's single-pass compiler with ``guest_debug`` off and on
(``compile_module`` alone, after decoding and validating), guest_debug with
NOP-free twins (``Config.debug_twins``, the default), and the ``wasmtime``
package's Cranelift (``wasmtime.Module``, which also validates), all in MB/s of
code section, in the same run.  Inputs: the C programs under
``benchmarks/programs/``, the bundled examples, and the five largest modules of
the spec suite (``../shared/spec/json`` beside the repository, or
``$WASMDBG_SPEC_DIR``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import wasmtime
from engines import best_time

from wasmdbg.jit.compiler import compile_module
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.validator import validate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC_JSON = Path(os.environ.get("WASMDBG_SPEC_DIR", ROOT.parent / "shared" / "spec" / "json"))


def _inputs(extra: list[str]) -> list[Path]:
    if extra:
        return [Path(p) for p in extra]
    files = sorted((HERE / "programs").glob("*.nodbg.wasm"))
    files += sorted((ROOT / "src" / "wasmdbg" / "examples").glob("*.wasm"))
    if SPEC_JSON.is_dir():
        spec = sorted(SPEC_JSON.glob("*/*.wasm"), key=lambda p: p.stat().st_size)
        files += list(reversed(spec[-5:]))
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("-r", "--repeat", type=int, default=5)
    args = parser.parse_args()

    engine = wasmtime.Engine()
    rows = []
    totals = [0, 0.0, 0.0, 0.0, 0.0]
    for path in _inputs(args.files):
        data = path.read_bytes()
        module = decode_module(data)
        validate(module)
        code_bytes = sum(b.code_end - b.offset for b in module.bodies)
        if code_bytes == 0:
            continue
        t_off = best_time(lambda m=module: compile_module(m, guest_debug=False), args.repeat)
        t_on = best_time(lambda m=module: compile_module(m, guest_debug=True), args.repeat)
        t_tw = best_time(lambda m=module: compile_module(m, guest_debug=True, twins=True), args.repeat)
        t_wt = best_time(lambda d=data: wasmtime.Module(engine, d), args.repeat)
        rows.append((path.name, code_bytes, t_off, t_on, t_tw, t_wt))
        totals[0] += code_bytes
        totals[1] += t_off
        totals[2] += t_on
        totals[3] += t_tw
        totals[4] += t_wt

    def mbs(n: float, t: float) -> str:
        return f"{n / t / 1e6:8.2f}"

    header = f"{'module':34} {'code KiB':>9} {'wasmdbg MB/s':>13} {'+debug MB/s':>12} {'+twins MB/s':>12} {'wasmtime MB/s':>14}"
    print(header)
    print("-" * len(header))
    for name, n, t_off, t_on, t_tw, t_wt in rows:
        print(
            f"{name:34} {n / 1024:9.1f} {mbs(n, t_off):>13} {mbs(n, t_on):>12} {mbs(n, t_tw):>12}"
            f" {mbs(n, t_wt):>14}"
        )
    n, t_off, t_on, t_tw, t_wt = totals
    if n:
        print("-" * len(header))
        print(
            f"{'TOTAL':34} {n / 1024:9.1f} {mbs(n, t_off):>13} {mbs(n, t_on):>12} {mbs(n, t_tw):>12}"
            f" {mbs(n, t_wt):>14}"
        )
    print(f"(best of {args.repeat}; wasmtime's figure includes its validation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
