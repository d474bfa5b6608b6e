"""Libcalls: the growth and passive-segment operations compiled code delegates to Python,
and lazy compilation's first call of a function (``runtime.lazy``).

Compiled code calls ``libcall(vmctx, op, slots)`` (see ``abi.Libcall``) with
the operands in slots 0.. in Wasm operand order, immediates first.  Each
handler checks bounds the way the spec does -- the whole range first, then
the effect, so an out-of-bounds operation changes nothing -- and returns 0
or the :class:`~wasmdbg.jit.abi.TrapCode` to unwind with.  Results (for the
two ``grow`` operations) go to slot 0 as zero-extended i32.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import WasmError
from ..jit.abi import Libcall, TrapCode

if TYPE_CHECKING:
    from .instance import Instance

__all__ = ["dispatch"]

_M32 = 0xFFFF_FFFF
_Slots = ctypes.c_uint64 * 5
_MEM_OOB = int(TrapCode.MEMORY_OUT_OF_BOUNDS)
_TABLE_OOB = int(TrapCode.TABLE_OUT_OF_BOUNDS)


def _memory_grow(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    old = inst.memory_at(s[0]).try_grow(s[1] & _M32)
    s[0] = old & _M32
    return 0


def _memory_init(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    data = inst.data_segment(s[0])
    mem = inst.memory_at(s[1])
    dst, src, n = s[2] & _M32, s[3] & _M32, s[4] & _M32
    if src + n > len(data) or dst + n > mem.byte_size:
        return _MEM_OOB
    if n:
        ctypes.memmove(mem.base_address + dst, data[src : src + n], n)
    return 0


def _data_drop(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    inst.drop_data(s[0])
    return 0


def _table_grow(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    old = inst.table_at(s[0]).try_grow(s[2] & _M32, s[1])
    s[0] = old & _M32
    return 0


def _table_init(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    elems = inst.elem_segment(s[0])
    table = inst.table_at(s[1])
    dst, src, n = s[2] & _M32, s[3] & _M32, s[4] & _M32
    if src + n > len(elems) or dst + n > table.element_count:
        return _TABLE_OOB
    for i in range(n):
        table.set_bits(dst + i, elems[src + i])
    return 0


def _elem_drop(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    inst.drop_elem(s[0])
    return 0


def _lazy_compile(inst: Instance, s: ctypes.Array[ctypes.c_uint64]) -> int:
    lazy = inst.module.lazy_code
    # NB: lazily compiled debug code is compiled per module and mapped per Store
    s[0] = lazy.code_address(s[0]) if lazy is not None else inst.code.code_address(s[0])
    return 0


_HANDLERS: dict[int, Callable[[Instance, ctypes.Array[ctypes.c_uint64]], int]] = {
    Libcall.MEMORY_GROW: _memory_grow,
    Libcall.MEMORY_INIT: _memory_init,
    Libcall.DATA_DROP: _data_drop,
    Libcall.TABLE_GROW: _table_grow,
    Libcall.TABLE_INIT: _table_init,
    Libcall.ELEM_DROP: _elem_drop,
    Libcall.LAZY_COMPILE: _lazy_compile,
}


def dispatch(inst: Instance, op: int, slots: int) -> int:
    """Run libcall ``op`` for ``inst`` on the slots at address ``slots``."""
    handler = _HANDLERS.get(op)
    if handler is None:
        raise WasmError(f"unknown libcall {op}")
    return handler(inst, _Slots.from_address(slots))
