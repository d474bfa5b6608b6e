"""Bounded, seeded mutation fuzzing of the decoder (and validator, if present).

Valid modules from the spec suite (plus ``benchmarks/programs``) are mutated
-- byte flips, insertions, deletions, chunk duplication, LEB-shaped noise,
truncation, and (half of the cases) in-place changes inside one function body
so that the framing stays valid and the instruction reader and validator are
reached -- and fed to ``decode_module(..., check_bodies=True)`` and then
``validate``.  Only :class:`WasmError` subclasses may escape: no IndexError,
struct.error, RecursionError, MemoryError, and no hang (each case has a
wall-clock limit).  ``WASMDBG_FUZZ_ITERS`` and ``WASMDBG_FUZZ_SEED`` override
the defaults.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wasmdbg.errors import WasmError
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.module import ModuleDef

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("WASMDBG_SPEC_DIR", ROOT.parent / "shared" / "spec" / "json"))
ITERS = int(os.environ.get("WASMDBG_FUZZ_ITERS", "5000"))
SEED = int(os.environ.get("WASMDBG_FUZZ_SEED", "20240601"))
CASE_LIMIT_S = 5.0


class _Hang(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise _Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _body_ranges(data: bytes) -> list[tuple[int, int]]:
    return [
        (b.code_start, b.code_end) for b in decode_module(data).bodies if b.code_end > b.code_start
    ]


def _mutate_in_body(rng: random.Random, data: bytes, ranges: list[tuple[int, int]]) -> bytes:
    """Overwrite bytes inside one function body, keeping every size field valid."""
    buf = bytearray(data)
    start, end = rng.choice(ranges)
    for _ in range(rng.choice((1, 1, 2, 4))):
        pos = rng.randrange(start, end)
        if rng.randrange(2):
            buf[pos] = rng.randrange(256)
        else:
            buf[pos] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _corpus() -> list[bytes]:
    seeds: list[bytes] = []
    if SPEC_DIR.is_dir():
        for script in sorted(SPEC_DIR.glob("*/*.json")):
            for cmd in json.loads(script.read_text())["commands"]:
                if cmd["type"] == "module" and cmd.get("filename", "").endswith(".wasm"):
                    seeds.append((script.parent / cmd["filename"]).read_bytes())
    programs = ROOT / "benchmarks" / "programs"
    if programs.is_dir():
        seeds.extend(p.read_bytes() for p in sorted(programs.glob("*.nodbg.wasm")))
    return [s for s in seeds if len(s) > 8]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        n = len(buf)
        kind = rng.randrange(8)
        pos = rng.randrange(8, n) if n > 8 else n
        if kind == 0 and pos < n:  # overwrite a byte
            buf[pos] = rng.randrange(256)
        elif kind == 1 and pos < n:  # flip a bit
            buf[pos] ^= 1 << rng.randrange(8)
        elif kind == 2:  # insert random bytes
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        elif kind == 3 and pos < n:  # delete a range
            del buf[pos : pos + rng.randrange(1, 8)]
        elif kind == 4:  # truncate
            del buf[pos:]
        elif kind == 5 and pos < n:  # duplicate a chunk
            chunk = buf[pos : pos + rng.randrange(1, 32)]
            at = rng.randrange(8, len(buf) + 1)
            buf[at:at] = chunk
        elif kind == 6:  # LEB-shaped noise: huge counts and over-long encodings
            noise = rng.choice((b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x00", b"\xff" * 10))
            buf[pos : pos + rng.randrange(0, 3)] = noise
        elif pos < n:  # small integer nudge (counts, indices, section ids)
            buf[pos] = (buf[pos] + rng.choice((-1, 1, 2, 0x40, 0x80))) & 0xFF
    return bytes(buf)


def _pipeline() -> Callable[[bytes], None]:
    validate: Callable[[ModuleDef], object] | None
    try:
        validate = importlib.import_module("wasmdbg.wasm.validator").validate
    except (ImportError, AttributeError):
        validate = None

    def run(data: bytes) -> None:
        m = decode_module(data, check_bodies=True)
        if validate is not None:
            validate(m)

    return run


def test_fuzz_only_wasm_errors_escape() -> None:
    corpus = _corpus()
    if not corpus:
        pytest.skip(f"no seed modules (spec suite not found at {SPEC_DIR})")
    run = _pipeline()
    rng = random.Random(SEED)
    bodies = [(seed, _body_ranges(seed)) for seed in corpus]
    bodies = [(seed, ranges) for seed, ranges in bodies if ranges]
    outcomes = {"ok": 0, "error": 0}
    started = time.perf_counter()
    for i in range(ITERS):
        if bodies and rng.randrange(2):
            seed, ranges = rng.choice(bodies)
            data = _mutate_in_body(rng, seed, ranges)
        else:
            data = _mutate(rng, rng.choice(corpus))
        try:
            with _time_limit(CASE_LIMIT_S):
                run(data)
            outcomes["ok"] += 1
        except WasmError:
            outcomes["error"] += 1
        except BaseException as e:  # anything else is the bug we hunt
            pytest.fail(
                f"iteration {i} (seed {SEED}): {type(e).__name__}: {e}\n"
                f"input ({len(data)} bytes): {data[:400].hex()}"
            )
    elapsed = time.perf_counter() - started
    assert outcomes["error"] > 0 and outcomes["ok"] > 0, outcomes
    print(f"{ITERS} cases in {elapsed:.1f} s: {outcomes}")
