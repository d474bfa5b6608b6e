"""Code memory: W^X states, fault injection, reservations."""

from __future__ import annotations

import ctypes

import pytest

from wasmdbg.runtime import codemem
from wasmdbg.runtime.codemem import CodeMemory, CodeMemoryError, Reservation

# mov eax, 42 ; ret
RET42 = bytes([0xB8, 42, 0, 0, 0, 0xC3])
# lea rax, [rdi + rsi] ; ret
ADD = bytes([0x48, 0x8D, 0x04, 0x37, 0xC3])


def _prot_of(address: int) -> str:
    """The permission string of the mapping holding ``address``."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if lo <= address < hi:
                return perms[:3]
    raise LookupError(hex(address))


def test_publish_runs_code() -> None:
    mem = CodeMemory.from_bytes(RET42)
    assert mem.published and _prot_of(mem.address) == "r-x"
    fn = ctypes.CFUNCTYPE(ctypes.c_int)(mem.address)
    assert fn() == 42


def test_call_with_arguments() -> None:
    mem = CodeMemory.from_bytes(ADD)
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(mem.address)
    assert fn(40, 2) == 42


def test_unpublish_patch_republish() -> None:
    mem = CodeMemory.from_bytes(RET42)
    fn = ctypes.CFUNCTYPE(ctypes.c_int)(mem.address)
    mem.unpublish()
    assert mem.writable and _prot_of(mem.address) == "rw-"
    mem.write(1, bytes([7]))
    mem.publish()
    assert fn() == 7
    assert mem.read(0, 2) == bytes([0xB8, 7])


def test_never_writable_and_executable() -> None:
    mem = CodeMemory(64)
    assert _prot_of(mem.address) == "rw-"
    mem.write(0, RET42)
    mem.publish()
    assert _prot_of(mem.address) == "r-x"
    with pytest.raises(CodeMemoryError):
        mem.write(0, b"\x90")


def test_write_out_of_range() -> None:
    mem = CodeMemory(4)
    with pytest.raises(CodeMemoryError):
        mem.write(2, b"abc")


def test_unpublish_failure_leaves_state(monkeypatch: pytest.MonkeyPatch) -> None:
    mem = CodeMemory.from_bytes(RET42)
    calls: list[int] = []
    real = codemem.mprotect

    def failing(address: int, size: int, prot: int) -> None:
        calls.append(prot)
        if prot & codemem.PROT_WRITE:
            raise CodeMemoryError("injected")
        real(address, size, prot)

    monkeypatch.setattr(codemem, "mprotect", failing)
    with pytest.raises(CodeMemoryError, match="injected"):
        mem.unpublish()
    assert mem.published and _prot_of(mem.address) == "r-x"
    assert ctypes.CFUNCTYPE(ctypes.c_int)(mem.address)() == 42


def test_publish_failure_leaves_state(monkeypatch: pytest.MonkeyPatch) -> None:
    mem = CodeMemory.from_bytes(RET42, publish=False)

    def failing(address: int, size: int, prot: int) -> None:
        raise CodeMemoryError("injected")

    monkeypatch.setattr(codemem, "mprotect", failing)
    with pytest.raises(CodeMemoryError):
        mem.publish()
    assert mem.writable and not mem.published


def test_close() -> None:
    mem = CodeMemory.from_bytes(RET42)
    mem.close()
    with pytest.raises(CodeMemoryError):
        mem.publish()


def test_reservation_grows_in_place() -> None:
    res = Reservation(1 << 32, 65536)
    base = res.address
    buf = (ctypes.c_uint8 * 65536).from_address(base)
    buf[65535] = 9
    assert _prot_of(base + 65536) == "---"
    res.commit(3 * 65536)
    assert res.address == base and res.committed == 3 * 65536
    big = (ctypes.c_uint8 * (3 * 65536)).from_address(base)
    assert big[65535] == 9 and big[3 * 65536 - 1] == 0
    with pytest.raises(CodeMemoryError):
        res.commit((1 << 32) + 1)
    res.close()


def test_code_memory_comes_from_one_arena() -> None:
    arena = codemem.code_arena()
    blocks = [CodeMemory(100) for _ in range(3)]
    reservations = [Reservation(1 << 32) for _ in range(3)]  # 12 GiB of address space between
    late = CodeMemory(100)
    for mem in [*blocks, late]:
        assert arena.contains(mem.address)
    assert abs(late.address - blocks[0].address) < (1 << 31)
    for r in reservations:
        r.close()


def test_closed_code_memory_is_reused_zeroed() -> None:
    mem = CodeMemory(10)
    mem.write(0, b"\xcc" * 10)
    addr = mem.address
    mem.close()
    assert _prot_of(addr) == "---"
    blocks = [CodeMemory(10) for _ in range(64)]
    reused = [b for b in blocks if b.address == addr]
    assert reused and reused[0].read(0, 10) == bytes(10)


def test_gc_finalizer_under_arena_lock_does_not_deadlock() -> None:
    """A CodeMemory freed by the cyclic GC while the arena lock is held."""
    import subprocess
    import sys
    from pathlib import Path

    repro = Path(__file__).resolve().parents[1] / "fuzz" / "repros" / "codemem_gc_deadlock.py"
    proc = subprocess.run([sys.executable, str(repro)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no deadlock" in proc.stdout
