"""Bulk memory and table operations compiled inline (``rep movs``/``rep stos``).

Every case runs on the stand-alone harness and on wasmtime, in plain and
guest-debug builds, and the whole memory (or every table slot) is compared
after each operation: overlap in both directions, ``n = 0`` at the very end
(allowed) and one past it (a trap), and traps that must leave memory untouched.
Register-held values live across the operation must survive it.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import wasmtime
from jitharness import Instance, Trapped

import wasmdbg

PAGE = 65536

MEMORY = """
(module
  (memory (export "memory") 1 1)
  (data (i32.const 0) "0123456789abcdefghijklmnopqrstuvwxyz")
  (func (export "copy") (param i32 i32 i32) (result i32)
    ;; two values in registers across the copy, and operands that are computed
    local.get 0 i32.const 3 i32.mul
    local.get 1 i32.const 5 i32.xor
    local.get 0 local.get 1 local.get 2 i32.const 0 i32.or
    memory.copy
    i32.add)
  (func (export "fill") (param i32 i32 i32) (result i32)
    local.get 2 i32.const 7 i32.mul
    local.get 0 local.get 1 local.get 2
    memory.fill)
  (func (export "copy_const") (param i32)
    local.get 0 i32.const 10 i32.const 20 memory.copy)
  (func (export "init") (param i32)
    local.get 0 i32.const 0 i32.const 4 memory.fill))
"""

TABLES = """
(module
  (type $t (func (result i32)))
  (table $a 8 funcref)
  (table $b 4 funcref)
  (func $f0 (result i32) i32.const 100)
  (func $f1 (result i32) i32.const 101)
  (func $f2 (result i32) i32.const 102)
  (func $f3 (result i32) i32.const 103)
  (elem (table $a) (i32.const 0) func $f0 $f1 $f2 $f3)
  (elem (table $b) (i32.const 0) func $f3 $f2 $f1 $f0)
  (func (export "copy") (param i32 i32 i32) (result i32)
    local.get 0 i32.const 9 i32.add
    local.get 0 local.get 1 local.get 2 table.copy $a $a)
  (func (export "copy_ba") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 table.copy $a $b)
  (func (export "fill") (param i32 i32) (result i32)
    local.get 1 i32.const 2 i32.shl
    local.get 0 ref.func $f2 local.get 1 table.fill $a)
  (func (export "fill_null") (param i32 i32)
    local.get 0 ref.null func local.get 1 table.fill $a)
  (func (export "call") (param i32) (result i32)
    local.get 0 call_indirect $a (type $t)))
"""


class _Pair:
    """The same module on wasmtime and on one of ours: the stand-alone harness
    (plain code) or the wasmdbg runtime (plain or guest-debug code, which
    reports traps to the debugger hook first)."""

    def __init__(self, wat: str, mode: str) -> None:
        wasm = wasmtime.wat2wasm(wat)
        self.harness = Instance(wasm) if mode == "harness" else None
        self.ours: Any = None
        if self.harness is None:
            engine = wasmdbg.Engine(wasmdbg.Config(guest_debug=mode == "debug"))
            self.our_store = wasmdbg.Store(engine)
            self.ours = wasmdbg.Instance(self.our_store, wasmdbg.Module(engine, wasm), [])
        self.store = wasmtime.Store()
        self.theirs = wasmtime.Instance(self.store, wasmtime.Module(self.store.engine, wasm), [])

    def call(self, name: str, *args: int) -> tuple[object, object]:
        ours: object
        if self.harness is not None:
            try:
                ours = self.harness.call(name, *args)
            except Trapped as t:
                ours = f"trap {t.code.name}"
        else:
            try:
                r = self.ours.exports(self.our_store)[name](self.our_store, *args)
                ours = [] if r is None else [r]
            except wasmdbg.Trap as t:
                ours = "trap " + _trap_name(str(t))
        try:
            r = self.theirs.exports(self.store)[name](self.store, *args)
            theirs: object = [] if r is None else [r]
        except wasmtime.Trap as t:
            theirs = "trap " + _trap_name(str(t))
        if isinstance(ours, list) and isinstance(theirs, list):
            ours = [v & 0xFFFF_FFFF for v in ours]
            theirs = [v & 0xFFFF_FFFF for v in theirs]
        return ours, theirs

    def memory(self) -> tuple[bytes, bytes]:
        mem: Any = self.theirs.exports(self.store)["memory"]
        theirs = bytes(mem.read(self.store, 0, PAGE))
        if self.harness is not None:
            return bytes(self.harness.mem_buf[:PAGE]), theirs
        mine: Any = self.ours.exports(self.our_store)["memory"]
        return bytes(mine.read(self.our_store, 0, PAGE)), theirs


def _trap_name(message: str) -> str:
    if "out of bounds memory" in message:
        return "MEMORY_OUT_OF_BOUNDS"
    if "undefined element" in message or "out of bounds table" in message:
        return "TABLE_OUT_OF_BOUNDS"
    if "uninitialized element" in message:
        return "ELEMENT_UNINITIALIZED"
    return message


def _signed(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


EDGES = [
    (0, 0, 0), (PAGE, 0, 0), (0, PAGE, 0), (PAGE + 1, 0, 0), (0, PAGE + 1, 0),
    (PAGE - 10, 0, 10), (PAGE - 10, 0, 11), (0, PAGE - 10, 11), (5, 0, 30), (0, 5, 30),
    (7, 7, 20), (1, 0, PAGE - 1), (0, 1, PAGE - 1), (0, 0, PAGE), (0, 0, PAGE + 1),
    (0xFFFF_FFFF, 0, 1), (0, 0xFFFF_FFFF, 1), (0, 0, 0xFFFF_FFFF), (100, 200, 0x8000_0000),
]  # fmt: skip


MODES = ["harness", "plain", "debug"]


@pytest.mark.parametrize("mode", MODES)
def test_memory_copy_and_fill(mode: str) -> None:
    pair = _Pair(MEMORY, mode)
    ours, theirs = pair.memory()
    assert ours == theirs
    rng = random.Random(11)
    cases: list[tuple[str, tuple[int, ...]]] = [("init", (b,)) for b in range(0, 400, 4)]
    cases += [("copy", e) for e in EDGES] + [("fill", (d, 0xAB, n)) for d, _s, n in EDGES]
    for _ in range(300):
        n = rng.choice([0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 200, rng.randrange(4000)])
        d, s = rng.randrange(500), rng.randrange(500)
        if rng.random() < 0.1:
            d, s = PAGE - n + rng.randrange(-2, 3), rng.randrange(PAGE - n + 1)
        if rng.random() < 0.5:
            cases.append(("copy", (d, s, n)))
        else:
            cases.append(("fill", (d, rng.randrange(-300, 300), n)))
        if rng.random() < 0.05:
            cases.append(("copy_const", (rng.choice([0, PAGE - 20, PAGE - 19]),)))
    for name, args in cases:
        got, want = pair.call(name, *(_signed(a) for a in args))
        assert got == want, (name, args)
        ours, theirs = pair.memory()
        assert ours == theirs, (name, args)


@pytest.mark.parametrize("mode", MODES)
def test_table_copy_and_fill(mode: str) -> None:
    pair = _Pair(TABLES, mode)
    rng = random.Random(5)
    cases: list[tuple[str, tuple[int, ...]]] = [
        ("copy", (1, 0, 4)), ("copy", (0, 1, 4)), ("copy", (8, 0, 0)), ("copy", (9, 0, 0)),
        ("copy", (0, 8, 0)), ("copy", (0, 9, 0)), ("copy", (4, 0, 5)), ("copy_ba", (4, 0, 4)),
        ("copy_ba", (5, 0, 4)), ("copy_ba", (0, 1, 4)), ("fill", (6, 2)), ("fill", (7, 2)),
        ("fill", (8, 0)), ("fill", (9, 0)), ("fill_null", (0, 1)), ("fill", (0, 0xFFFF_FFFF)),
    ]  # fmt: skip
    for _ in range(200):
        op = rng.choice(["copy", "copy_ba", "fill", "fill_null"])
        if op.startswith("copy"):
            cases.append((op, (rng.randrange(10), rng.randrange(10), rng.randrange(10))))
        else:
            cases.append((op, (rng.randrange(10), rng.randrange(10))))
    for name, args in cases:
        got, want = pair.call(name, *(_signed(a) for a in args))
        assert got == want, (name, args)
        for i in range(9):
            assert pair.call("call", i)[0] == pair.call("call", i)[1], (name, args, i)
