"""Decoder throughput: ``python benchmarks/decode.py [--repeat N] [files...]``.

Prints, per module, decode-only MB/s, the instruction walk (every body through
``wasm.code.iter_body``) in MB/s of code and million instructions/s, and
decode + validate MB/s when ``wasmdbg.wasm.validator`` is importable.  Inputs:
the five largest modules of the spec suite (``../shared/spec/json`` beside the repository, or
``$WASMDBG_SPEC_DIR``), every ``.wasm`` under ``benchmarks/programs/`` and the bundled examples
(absent folders are skipped).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from wasmdbg.wasm.code import iter_body, iter_raw
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.module import ModuleDef

HERE = Path(__file__).resolve().parent
SPEC_JSON = Path(os.environ.get("WASMDBG_SPEC_DIR", HERE.parent.parent / "shared" / "spec" / "json"))


def _inputs(extra: list[str]) -> list[Path]:
    files = [Path(p) for p in extra]
    if not files:
        if SPEC_JSON.is_dir():
            spec = sorted(SPEC_JSON.glob("*/*.wasm"), key=lambda p: p.stat().st_size)
            files.extend(reversed(spec[-5:]))
        programs = HERE / "programs"
        if programs.is_dir():
            files.extend(sorted(programs.rglob("*.wasm"), key=lambda p: -p.stat().st_size))
        files.extend(sorted((HERE.parent / "src" / "wasmdbg" / "examples").glob("*.wasm")))
    return files


def _best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (at least 0.2 s in total)."""
    best = float("inf")
    runs = 0
    t_total = 0.0
    while runs < repeat or t_total < 0.2:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        t_total += dt
        runs += 1
    return best


def _walk(m: ModuleDef) -> int:
    n = 0
    for body in m.bodies:
        for _ in iter_body(m, body):
            n += 1
    return n


def _walk_raw(m: ModuleDef) -> int:
    n = 0
    raw = m.raw
    for body in m.bodies:
        for _ in iter_raw(raw, body.code_start, body.code_end):
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    try:
        validator = importlib.import_module("wasmdbg.wasm.validator")
        validate: Callable[[ModuleDef], object] | None = validator.validate
    except (ImportError, AttributeError):
        validate = None
    files = _inputs(args.files)
    if not files:
        print("no input modules found (spec suite and benchmarks/programs absent)")
        return 0
    head = f"{'module':34} {'KiB':>7} {'decode MB/s':>12} {'walk MB/s':>10} {'Minstr/s':>9}"
    head += f" {'raw Minstr/s':>12}"
    head += f" {'dec+val MB/s':>13}" if validate else ""
    print(head)
    tot_bytes = tot_dec = tot_code = tot_walk = tot_raw = tot_val = 0.0
    tot_instr = 0
    for path in files:
        data = path.read_bytes()
        m = decode_module(data)
        code_bytes = sum(b.code_end - b.code_start for b in m.bodies)
        t_dec = _best(lambda d=data: decode_module(d), args.repeat)  # type: ignore[misc]
        ninstr = _walk(m)
        t_walk = _best(lambda m=m: _walk(m), args.repeat)  # type: ignore[misc]
        t_raw = _best(lambda m=m: _walk_raw(m), args.repeat)  # type: ignore[misc]
        mb = len(data) / 1e6
        line = (
            f"{path.name:34} {len(data) / 1024:7.1f} {mb / t_dec:12.2f}"
            f" {code_bytes / 1e6 / t_walk:10.2f} {ninstr / 1e6 / t_walk:9.2f}"
            f" {ninstr / 1e6 / t_raw:12.2f}"
        )
        tot_bytes += mb
        tot_dec += t_dec
        tot_code += code_bytes / 1e6
        tot_walk += t_walk
        tot_raw += t_raw
        tot_instr += ninstr
        if validate is not None:

            def both(d: bytes = data, v: Callable[[ModuleDef], object] = validate) -> None:
                v(decode_module(d))

            t_val = _best(both, args.repeat)
            tot_val += t_val
            line += f" {mb / t_val:13.2f}"
        print(line)
    line = (
        f"{'TOTAL':34} {tot_bytes * 1e6 / 1024:7.1f} {tot_bytes / tot_dec:12.2f}"
        f" {tot_code / tot_walk:10.2f} {tot_instr / 1e6 / tot_walk:9.2f}"
        f" {tot_instr / 1e6 / tot_raw:12.2f}"
    )
    if validate is not None:
        line += f" {tot_bytes / tot_val:13.2f}"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
