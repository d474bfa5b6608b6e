"""Bounds-checked access to the calling instance's linear memory.

Every guest pointer is checked against the memory's *current* size before
anything is read, written or allocated, so an argument such as "4 GiB at
address 0" fails with ``EFAULT`` at once.  Reads and writes go through one
``memoryview`` over the whole memory (no copy); callers that move large
amounts of data slice it in bounded chunks (:data:`CHUNK`).

Pointers and lengths arrive as Python ints from the i32 ABI and may be
negative (the slot codec returns signed values): they are taken modulo 2**32.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...errors import WasmError
from .abi import IOVEC, Errno
from .errno import WasiErrno

if TYPE_CHECKING:
    from ..memory import Memory

__all__ = ["CHUNK", "IOV_MAX", "GuestMemory"]

#: the most host memory one step of a bulk copy may allocate
CHUNK = 1 << 20
#: the most iovecs one call may pass (Linux's and wasi-libc's ``IOV_MAX``)
IOV_MAX = 1024
U32 = 0xFFFF_FFFF


class GuestMemory:
    """The caller's memory for the duration of one host call."""

    __slots__ = ("size", "view")

    def __init__(self, mem: Memory | None) -> None:
        if mem is None:
            self.size = -1
            self.view = memoryview(b"")
            return
        self.size = mem.byte_size
        self.view = memoryview((ctypes.c_ubyte * self.size).from_address(mem.base_address)).cast("B")

    def span(self, ptr: int, n: int) -> memoryview:
        """``memory[ptr:ptr+n]`` without a copy; ``EFAULT`` if any byte is outside."""
        ptr &= U32
        n &= U32
        if ptr + n > self.size:
            if self.size < 0:
                raise WasmError("missing required memory export")
            raise WasiErrno(Errno.FAULT)
        return self.view[ptr : ptr + n]

    def read(self, ptr: int, n: int) -> bytes:
        """A copy of ``n`` bytes at ``ptr`` (callers bound ``n``)."""
        return bytes(self.span(ptr, n))

    def write(self, ptr: int, data: bytes) -> None:
        """Copy ``data`` in at ``ptr``."""
        self.span(ptr, len(data))[:] = data

    def u32(self, ptr: int) -> int:
        """The u32 at ``ptr``."""
        return int.from_bytes(self.span(ptr, 4), "little")

    def put_u32(self, ptr: int, value: int) -> None:
        """Store a u32."""
        self.span(ptr, 4)[:] = (value & U32).to_bytes(4, "little")

    def put_u64(self, ptr: int, value: int) -> None:
        """Store a u64."""
        self.span(ptr, 8)[:] = (value & 0xFFFF_FFFF_FFFF_FFFF).to_bytes(8, "little")

    def iovecs(self, iovs: int, count: int) -> list[memoryview]:
        """The first non-empty buffer an ``iovec`` array names (or none), not copied.

        ``EINVAL`` for more than :data:`IOV_MAX` entries, ``EFAULT`` if the
        array or any buffer lies outside memory; both before any I/O.

        NB: only the first non-empty buffer takes part in the transfer, as in
        Wasmtime: a ``readv``/``writev`` of several buffers moves at most the
        first one's bytes (a short count, which callers such as wasi-libc's
        stdio already handle by calling again).
        """
        count &= U32
        if count > IOV_MAX:
            raise WasiErrno(Errno.INVAL)
        table = self.span(iovs, IOVEC.size * count)
        views = [self.span(p, n) for p, n in IOVEC.iter_unpack(table)]
        return next(([v] for v in views if len(v)), [])


def chunks(view: memoryview) -> Iterator[memoryview]:
    """``view`` in slices of at most :data:`CHUNK` bytes."""
    for start in range(0, len(view), CHUNK):
        yield view[start : start + CHUNK]
