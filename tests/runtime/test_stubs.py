"""The mapped runtime stubs and the runtime's helper routines."""

from __future__ import annotations

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
