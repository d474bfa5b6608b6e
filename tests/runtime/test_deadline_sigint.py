"""Epoch deadlines that stay passed, an ignored SIGINT that stays ignored, trap backtrace limits."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import wasmtime

import wasmdbg
from wasmdbg import Trap, TrapCode
from wasmdbg.runtime.store import INTERRUPT_DEADLINE, INTERRUPT_REQUEST, Store
from wasmdbg.runtime.trap import BACKTRACE_LIMIT, format_backtrace

WAT = """
(module $m
  (func (export "answer") (result i32) i32.const 42)
  (func $boom unreachable)
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0 i32.eqz if call $boom end
    local.get 0 i32.const 1 i32.sub call $rec))
"""


def _call_all(api: Any, store: Any, engine: Any) -> list[str]:
    """answer() before the deadline, twice after it passed, then after moving it."""
    inst = api.Instance(store, api.Module(engine, WAT), [])
    answer = inst.exports(store)["answer"]
    seen = []
    store.set_epoch_deadline(1)
    seen.append(str(answer(store)))
    engine.increment_epoch()
    for _ in range(2):
        try:
            seen.append(str(answer(store)))
        except api.Trap as trap:
            seen.append(f"trap {trap.trap_code.name}")
    store.set_epoch_deadline(1)
    seen.append(str(answer(store)))
    return seen


def test_a_passed_epoch_deadline_keeps_trapping_until_moved_like_wasmtime() -> None:
    ours = wasmdbg.Engine(wasmdbg.Config(epoch_interruption=True))
    theirs_config = wasmtime.Config()
    theirs_config.epoch_interruption = True
    theirs = wasmtime.Engine(theirs_config)
    want = _call_all(wasmtime, wasmtime.Store(theirs), theirs)
    assert want == ["42", "trap INTERRUPT", "trap INTERRUPT", "42"]
    assert _call_all(wasmdbg, wasmdbg.Store(ours), ours) == want


def test_moving_a_deadline_keeps_a_pending_interrupt_request() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(epoch_interruption=True))
    store = Store(engine)
    answer = wasmdbg.Instance(store, wasmdbg.Module(engine, WAT), []).exports(store)["answer"]
    store.set_epoch_deadline(0)
    assert store.vm.interrupt == INTERRUPT_DEADLINE
    store.set_epoch_deadline(5)
    assert store.vm.interrupt == 0
    store.interrupt()
    store.set_epoch_deadline(5)
    assert store.vm.interrupt == INTERRUPT_REQUEST
    with pytest.raises(Trap) as info:
        answer(store)
    assert info.value.trap_code is TrapCode.INTERRUPT
    assert answer(store) == 42


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("sigint_ignored")
def test_an_ignored_sigint_stays_ignored() -> None:
    store = Store(wasmdbg.Engine())
    answer = wasmdbg.Instance(store, wasmdbg.Module(store.engine, WAT), []).exports(store)["answer"]
    with store.interrupt_on_sigint():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)  # ignored by the kernel: no flag, no KeyboardInterrupt
        assert store.vm.interrupt == 0
        assert answer(store) == 42
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_leaving_the_sigint_block_keeps_a_passed_deadline() -> None:
    engine = wasmdbg.Engine(wasmdbg.Config(epoch_interruption=True))
    store = Store(engine)
    with store.interrupt_on_sigint():
        store.set_epoch_deadline(0)
    assert store.vm.interrupt == INTERRUPT_DEADLINE


def test_a_deep_trap_prints_twenty_frames_and_counts_the_rest() -> None:
    store = Store(wasmdbg.Engine())
    rec = wasmdbg.Instance(store, wasmdbg.Module(store.engine, WAT), []).exports(store)["rec"]
    with pytest.raises(Trap) as info:
        rec(store, 5000)
    trap = info.value
    assert len(trap.frames) == 5002  # the API keeps every frame
    text = str(trap)
    lines = text.splitlines()
    assert lines[0] == "error while executing at wasm backtrace:"
    frame_lines = [ln for ln in lines if " - m!" in ln]
    assert len(frame_lines) == BACKTRACE_LIMIT == 20
    assert "      ... 4982 more frames" in lines
    assert text.endswith("\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed\n")
    assert trap.cause == "wasm trap: wasm `unreachable` instruction executed"


def test_a_short_trap_prints_like_wasmtime_py() -> None:
    ours = Store(wasmdbg.Engine())
    rec = wasmdbg.Instance(ours, wasmdbg.Module(ours.engine, WAT), []).exports(ours)["rec"]
    theirs = wasmtime.Store()
    their_rec = wasmtime.Instance(theirs, wasmtime.Module(theirs.engine, WAT), []).exports(theirs)["rec"]
    for depth in (3, BACKTRACE_LIMIT - 2):  # up to 20 frames: wasmtime-py's text exactly
        with pytest.raises(Trap) as got:
            rec(ours, depth)
        with pytest.raises(wasmtime.Trap) as want:
            their_rec(theirs, depth)  # type: ignore[operator]
        assert str(got.value) == str(want.value)


def test_format_backtrace_limits() -> None:
    store = Store(wasmdbg.Engine())
    rec = wasmdbg.Instance(store, wasmdbg.Module(store.engine, WAT), []).exports(store)["rec"]
    with pytest.raises(Trap) as info:
        rec(store, 21)
    frames = info.value.frames
    assert len(frames) == 23
    assert format_backtrace(frames).splitlines()[-1] == "      ... 3 more frames"
    assert format_backtrace(frames[:21]).splitlines()[-1] == "      ... 1 more frame"
    assert len(format_backtrace(frames, limit=None).splitlines()) == 23
    assert format_backtrace(frames, limit=3).splitlines()[-1] == "      ... 20 more frames"
