"""Host<->Wasm call latency for wasmtime and wasmdbg, printed as a table in µs.

Two measurements, each through the wasmtime-py API on both engines:

* host -> Wasm: Python calls the exported ``(func (param i32) (result i32))``
  ``id`` N times in a loop; the figure is the wall time per call, Python loop
  included (an empty Python loop's cost is shown separately as a baseline).
* Wasm -> host: one call of the exported ``call_host(n)``, a Wasm loop that calls the
  imported host function ``(func (param i32) (result i32))`` n times; the figure is
  the wall time per iteration (the loop's own cost, measured by ``loop_only(n)``,
  is negligible and printed too).

With ``--guest-debug`` wasmdbg is also measured with ``Config.guest_debug = True``.
Times are the minimum over ``--repeat`` rounds.  If wasmdbg is not usable yet its
columns show ``-`` and the reason is printed.

Usage::

    python benchmarks/call_latency.py [-n 100000] [--repeat 3] [--guest-debug]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import wasmtime  # the reference; also used to assemble the WAT once
from engines import EngineApi, format_table, load_engine

WAT = """
(module
  (import "host" "inc" (func $inc (param i32) (result i32)))
  (func (export "id") (param i32) (result i32)
    local.get 0)
  (func (export "call_host") (param $n i32) (result i32)
    (local $acc i32)
    block $done
      local.get $n
      i32.eqz
      br_if $done
      loop $again
        local.get $acc
        call $inc
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.tee $n
        br_if $again
      end
    end
    local.get $acc)
  (func (export "loop_only") (param $n i32) (result i32)
    (local $acc i32)
    block $done
      local.get $n
      i32.eqz
      br_if $done
      loop $again
        local.get $acc
        i32.const 1
        i32.add
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.tee $n
        br_if $again
      end
    end
    local.get $acc)
)
"""

WASM = wasmtime.wat2wasm(WAT)

Row = dict[str, float]


def best(repeat: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeat))


def measure(api: EngineApi, n: int, repeat: int) -> Row:
    """Per-call latencies in µs for one engine configuration; raises on failure."""
    mod: Any = api.mod
    engine = api.new_engine()
    module = mod.Module(engine, WASM)
    store = mod.Store(engine)
    linker = mod.Linker(engine)
    i32 = mod.ValType.i32()
    inc = mod.Func(store, mod.FuncType([i32], [i32]), lambda x: (x + 1) & 0x7FFFFFFF)
    linker.define(store, "host", "inc", inc)
    instance = linker.instantiate(store, module)
    exports = instance.exports(store)
    ident, call_host, loop_only = exports["id"], exports["call_host"], exports["loop_only"]

    # Correctness first: a latency of a wrong answer means nothing.
    if ident(store, 7) != 7:
        raise RuntimeError("id(7) != 7")
    if call_host(store, 1000) != 1000 or loop_only(store, 1000) != 1000:
        raise RuntimeError("call_host(1000) or loop_only(1000) != 1000")

    def host_to_wasm() -> float:
        t0 = time.perf_counter()
        for i in range(n):
            ident(store, i)
        return (time.perf_counter() - t0) / n

    def wasm_to_host() -> float:
        t0 = time.perf_counter()
        got = call_host(store, n)
        dt = time.perf_counter() - t0
        if got != n:
            raise RuntimeError(f"call_host({n}) returned {got}")
        return dt / n

    def loop_cost() -> float:
        t0 = time.perf_counter()
        loop_only(store, n)
        return (time.perf_counter() - t0) / n

    return {
        "host -> wasm  id(i32) -> i32": best(repeat, host_to_wasm) * 1e6,
        "wasm -> host  inc(i32) -> i32": best(repeat, wasm_to_host) * 1e6,
        "wasm loop iteration (no call)": best(repeat, loop_cost) * 1e6,
    }


def python_loop_baseline(n: int, repeat: int) -> float:
    """µs per iteration of an empty ``for i in range(n): f(i)`` with a no-op Python f."""

    def noop(_store: object, x: int) -> int:
        return x

    def once() -> float:
        t0 = time.perf_counter()
        for i in range(n):
            noop(None, i)
        return (time.perf_counter() - t0) / n

    return best(repeat, once) * 1e6


def fmt_us(value: float) -> str:
    return f"{value:.3f}" if value >= 0.1 else f"{value:.5f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="calls per round (default 100000)")
    parser.add_argument("-r", "--repeat", type=int, default=3, help="rounds (min is kept)")
    parser.add_argument("--guest-debug", action="store_true", help="also measure wasmdbg with guest_debug")
    parser.add_argument("--candidate", default="wasmdbg", metavar="MODULE",
                        help="module measured against wasmtime (default wasmdbg)")
    args = parser.parse_args(argv)

    configs: list[EngineApi] = [load_engine("wasmtime"), load_engine(args.candidate)]
    if args.guest_debug:
        configs.append(load_engine(args.candidate, guest_debug=True))

    results: list[Row | None] = []
    failed = False
    for api in configs:
        if not api.ok:
            print(f"note: {api.label} unavailable: {api.error}")
            results.append(None)
            continue
        try:
            results.append(measure(api, args.n, args.repeat))
        except Exception as exc:  # report, never crash: wasmdbg may be incomplete
            print(f"note: {api.label} failed: {type(exc).__name__}: {exc}")
            results.append(None)
            failed = True

    keys = list(next((r for r in results if r), {}).keys()) or [
        "host -> wasm  id(i32) -> i32", "wasm -> host  inc(i32) -> i32", "wasm loop iteration (no call)"]
    headers = ["µs per call", *(f"{api.label}" for api in configs), f"{args.candidate}/wasmtime"]
    rows = []
    for key in keys:
        cells = [fmt_us(r[key]) if r else "-" for r in results]
        ref, cand = results[0], results[1]
        ratio = f"{cand[key] / ref[key]:.2f}x" if ref and cand and ref[key] > 0 else "-"
        rows.append([key, *cells, ratio])
    print(format_table(headers, rows))
    print(f"\nPython loop calling a no-op Python function: {python_loop_baseline(args.n, args.repeat):.3f} µs"
          f" per call (included in host -> wasm)")
    print(f"(n = {args.n}, min of {args.repeat} rounds)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
