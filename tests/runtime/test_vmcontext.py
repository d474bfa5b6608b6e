"""VM structures: offsets agree with the abi."""

from __future__ import annotations

import ctypes

from wasmdbg.jit import abi
from wasmdbg.runtime.vmcontext import (
    VMContext,
    VMFuncRef,
    VMMemory,
    VMStoreContext,
    VMTable,
    peek,
    poke,
    u64_array,
)


def test_offsets_match_abi() -> None:
    for cls, layout in [(VMStoreContext, abi.STORE), (VMContext, abi.VMCTX), (VMFuncRef, abi.FUNCREF)]:
        for member in layout:
            if member.name != "SIZE":
                assert getattr(cls, member.name.lower()).offset == member.value
        assert ctypes.sizeof(cls) == layout["SIZE"]
    assert VMMemory.base.offset == abi.MEMORY.BASE and VMMemory.size.offset == abi.MEMORY.SIZE
    assert VMTable.elements.offset == abi.TABLE.ELEMENTS and VMTable.size.offset == abi.TABLE.SIZE


def test_peek_poke() -> None:
    ctx = VMStoreContext()
    ctx.trap_pc = 0x1234
    assert peek(ctx.address + abi.STORE.TRAP_PC) == 0x1234
    poke(ctx.address + abi.STORE.INTERRUPT, -1)
    assert ctx.interrupt == 2**64 - 1
    arr = u64_array([1, -1])
    assert list(arr) == [1, 2**64 - 1]
    assert len(u64_array([])) == 1
