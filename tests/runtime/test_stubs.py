"""The mapped runtime stubs and the runtime's helper routines."""

from __future__ import annotations

import ctypes
from typing import Any

import capstone

from wasmdbg.runtime import sigint
from wasmdbg.runtime import stubs as stubs_module
from wasmdbg.runtime.codemem import code_arena
from wasmdbg.runtime.stubs import get_stub_code


def test_stubs_are_mapped_in_the_code_arena() -> None:
    stubs = get_stub_code()
    arena = code_arena()
    for address in (stubs.entry_address, stubs.hostcall_address, stubs.breakpoint_address, stubs.helpers.address):
        assert arena.contains(address)
    assert stubs.memory.published and stubs.helpers.published
    assert stubs.contains(stubs.hostcall_address) and not stubs.contains(stubs.helpers.address)
    assert get_stub_code() is stubs


def test_read_sp_reads_the_native_stack() -> None:
    stubs = get_stub_code()
    a, b = stubs.read_sp(), stubs.read_sp()
    assert a % 8 == 0 and abs(a - b) < 4096


def _flag_table(*words: int) -> tuple[Any, Any]:
    cells = (ctypes.c_uint64 * len(words))(*words)
    table = (ctypes.c_uint64 * (len(words) + 1))(len(words), *(ctypes.addressof(cells) + 8 * i for i in range(len(words))))
    return cells, table


def test_flag_routines_update_every_word_of_the_table() -> None:
    stubs = get_stub_code()
    cells, table = _flag_table(0, 4, 1)
    at = ctypes.addressof(table)
    stubs.flag_or(at, 2)
    assert list(cells) == [2, 6, 3]
    stubs.flag_and(at, ~4 & (1 << 64) - 1)
    assert list(cells) == [2, 2, 3]
    stubs.flag_clear_if(at, 2)  # only the words holding exactly 2
    assert list(cells) == [0, 0, 3]


def test_every_flag_update_is_a_locked_instruction() -> None:
    """The flag routines and the SIGINT handler change flag words only with
    ``lock``-prefixed read-modify-writes (the handler may run between a plain
    read and write of another thread and lose its bit)."""
    disasm = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    code, _ = stubs_module._helpers(0)
    for blob in (code, sigint._handler_code(0)):
        updates = [i.mnemonic for i in disasm.disasm(blob, 0) if i.mnemonic.split()[-1] in ("or", "and", "cmpxchg")]
        assert updates and all(m.startswith("lock ") for m in updates), updates
