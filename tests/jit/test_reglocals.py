"""Locals in home registers (``Config.locals_in_registers``, plain builds).

Every program runs with the option on and off and must give the same
results; the code with the option on must not read hot locals from frame
slots inside loops.
"""

from __future__ import annotations

import capstone
import pytest

import wasmdbg
from wasmdbg import Config, Engine, Func, FuncType, Instance, Module, Store, ValType
from wasmdbg.jit.compiler import compile_module
from wasmdbg.wasm.decoder import decode_module

# a loop over i32/i64/f32/f64 locals with a Wasm call, a host call, a libcall
# (memory.grow) and block merges inside it; the callee uses many locals itself
WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory 1)
  (func $clobber (param $x i64) (result i64)
    (local $a i64) (local $b i64) (local $c i64) (local $d i64) (local $f f64) (local $g f64)
    (local.set $a (i64.add (local.get $x) (i64.const 1)))
    (local.set $b (i64.mul (local.get $a) (i64.const 3)))
    (local.set $c (i64.xor (local.get $b) (local.get $a)))
    (local.set $d (i64.sub (local.get $c) (local.get $x)))
    (local.set $f (f64.convert_i64_s (local.get $d)))
    (local.set $g (f64.mul (local.get $f) (local.get $f)))
    (i64.add (local.get $d) (i64.trunc_f64_s (f64.sqrt (local.get $g)))))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i64) (local $s f32) (local $t f64) (local $k i32)
    (loop $top
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
      (local.set $s (f32.add (local.get $s) (f32.const 0.5)))
      (local.set $t (f64.add (local.get $t) (f64.promote_f32 (local.get $s))))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 7)))
        (then
          (local.set $acc (call $clobber (local.get $acc)))
          (local.set $k (call $host (local.tee $k (i32.add (local.get $k) (local.get $i)))))
          (drop (memory.grow (i32.const 0)))))
      (block $skip
        (br_if $skip (i32.and (local.get $i) (i32.const 1)))
        (local.set $acc (i64.add (local.get $acc) (i64.const 100))))
      (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.add
      (i64.add (local.get $acc) (i64.extend_i32_u (local.get $k)))
      (i64.add (i64.trunc_f64_s (local.get $t)) (i64.trunc_f32_s (local.get $s)))))
)
"""


def _run(on: bool, n: int) -> int:
    engine = Engine(Config(locals_in_registers=on))
    store = Store(engine)
    module = Module(engine, wasmdbg.wat2wasm(WAT))
    i32 = ValType.i32()
    host = Func(store, FuncType([i32], [i32]), lambda x: (x * 5 + 1) & 0xFFFF)
    inst = Instance(store, module, [host])
    run = inst.exports(store)["run"]
    result = run(store, n)
    assert isinstance(result, int)
    return result


def test_config_option() -> None:
    assert Config().locals_in_registers is True
    config = Config(locals_in_registers=False)
    assert config.locals_in_registers is False
    assert config.copy().locals_in_registers is False
    with pytest.raises(TypeError):
        Config(locals_in_registers=1)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 50, 1000])
def test_same_results_on_and_off(n: int) -> None:
    assert _run(True, n) == _run(False, n)


# a call-free loop: with homes, its only frame reads are the prologue's
LOOP = """
(module
  (memory 1)
  (func (export "sum") (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $acc f64) (local $x f64)
    (loop $top
      (local.set $x (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $acc (f64.add (local.get $acc) (f64.mul (local.get $x) (local.get $x))))
      (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc)))
"""


def _frame_reads(on: bool) -> int:
    """Loads from the frame (``[rbp +/- ...]``) in the function of ``LOOP``."""
    module = decode_module(wasmdbg.wat2wasm(LOOP))
    compiled = compile_module(module, locals_in_registers=on)
    f = compiled.functions[0]
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    count = 0
    for ins in md.disasm(compiled.code[f.start : f.end], f.start):
        src = ins.op_str.partition(", ")[2]
        if "[rbp " in src:
            count += 1
    return count


def test_hot_locals_leave_frame_slots() -> None:
    # off: every read of a local is a frame load (7 in the loop); on: one load
    # per home in the prologue (2 params, 3 declared locals), none in the loop
    assert _frame_reads(False) >= 7
    assert _frame_reads(True) == 5
