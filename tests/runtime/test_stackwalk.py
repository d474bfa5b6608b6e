"""Stack walking over synthetic frame chains: mapping pcs, stopping on damage."""

from __future__ import annotations

import ctypes
from typing import Any

from wasmdbg.jit.abi import CompiledFunction, CompiledModule
from wasmdbg.runtime.code import CodeObject, CodeRegistry
from wasmdbg.runtime.codemem import CodeMemory
from wasmdbg.runtime.stackwalk import walk


def _registry() -> tuple[CodeRegistry, CodeObject]:
    compiled = CompiledModule(
        code=bytes(200),
        functions=[
            CompiledFunction(0, 0, 100, call_sites={50: 7}, trap_sites={60: 9, 100: 11}),
            CompiledFunction(1, 100, 200, call_sites={150: 21}),
        ],
    )
    code = CodeObject(module=None, compiled=compiled, memory=CodeMemory.from_bytes(compiled.code), private=False)  # type: ignore[arg-type]
    reg = CodeRegistry()
    reg.add(code)
    reg.add(code)
    return reg, code


def _stack() -> tuple[Any, int]:
    stack = (ctypes.c_uint64 * 64)()
    return stack, ctypes.addressof(stack)


def _link(stack: Any, base: int, fp: int, caller_fp: int, ret: int) -> None:
    stack[(fp - base) // 8] = caller_fp
    stack[(fp - base) // 8 + 1] = ret


def test_walk_maps_return_addresses() -> None:
    reg, code = _registry()
    stack, base = _stack()
    fp0, fp1, fp2, entry = base + 32, base + 80, base + 160, base + 320
    _link(stack, base, fp0, fp1, code.base + 150)
    _link(stack, base, fp1, fp2, code.base + 50)
    _link(stack, base, fp2, entry, 0x1234)  # the entry trampoline: not Wasm code
    frames = list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=base + 8 * 64))
    assert [(f.func_index, f.wasm_pc) for f in frames] == [(0, 9), (1, 21), (0, 7)]
    assert [f.fp for f in frames] == [fp0, fp1, fp2]


def test_trap_site_at_function_end_belongs_to_that_function() -> None:
    reg, code = _registry()
    _stack_keep, base = _stack()
    frames = list(walk(reg, base + 32, code.base + 100, stack_lo=base, stack_hi=base + 8 * 64))
    assert [(f.func_index, f.wasm_pc) for f in frames] == [(0, 11)]


def test_damaged_chains_stop_the_walk() -> None:
    reg, code = _registry()
    stack, base = _stack()
    hi = base + 8 * 64
    fp0, fp1 = base + 80, base + 160
    _link(stack, base, fp0, base + 16, code.base + 50)  # caller fp below: damaged
    assert len(list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=hi))) == 1
    _link(stack, base, fp0, fp1 + 1, code.base + 50)  # misaligned
    _link(stack, base, fp1, 0, 0)
    assert len(list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=hi))) == 2
    outside = list(walk(reg, hi + 4096, code.base + 60, stack_lo=base, stack_hi=hi))
    assert len(outside) == 1  # the frame itself is reported; its links are not followed
    assert list(walk(reg, fp0, 0x10, stack_lo=base, stack_hi=hi)) == []
    _link(stack, base, fp0, fp1, code.base + 50)  # a cycle is cut by monotonicity
    _link(stack, base, fp1, fp0, code.base + 50)
    assert len(list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=hi))) == 2


def test_stop_fp_and_limit() -> None:
    reg, code = _registry()
    stack, base = _stack()
    fp0, fp1 = base + 32, base + 80
    _link(stack, base, fp0, fp1, code.base + 50)
    _link(stack, base, fp1, base + 160, code.base + 50)
    hi = base + 8 * 64
    assert len(list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=hi, stop_fp=fp1))) == 1
    assert len(list(walk(reg, fp0, code.base + 60, stack_lo=base, stack_hi=hi, limit=1))) == 1


def test_registry_lookup() -> None:
    reg, code = _registry()
    assert reg.lookup(code.base) is code and reg.lookup(code.base + 199) is code
    assert reg.lookup(code.base - 1) is None
    assert code.function_at(code.base + 100).func_index == 1  # type: ignore[union-attr]
    assert len(reg) == 1
