"""Pages from the OS: executable code memory and reserved linear memory.

This module is the only place that calls ``mmap``, ``mprotect`` and
``munmap`` (libc, through ctypes).  It owns two kinds of region:

:class:`CodeMemory` holds machine code and is never writable and executable
at once.  Its protection follows a two-state machine::

                  write(), read()            read(), run
              +----------------------+    +----------------------+
    new ----> |  WRITABLE  (R+W)     | -> |  PUBLISHED  (R+X)    |
              |                      |    |                      |
              +----------------------+ <- +----------------------+
                     ^    publish() ---^      |   unpublish()
                     +--------------------------+

``publish()`` and ``unpublish()`` either complete or raise
:class:`CodeMemoryError` with the state unchanged: ``unpublish()`` never
leaves the pages half writable (if the kernel refuses, the pages are put
back to R+X before the error is raised).  What to do when ``publish()``
fails while JIT frames are live is the caller's decision (the debugger
aborts the process, see DESIGN.md §1).

:class:`Reservation` is the address range of one linear memory: the whole
maximum size is reserved once (``PROT_NONE``, ``MAP_NORESERVE``) and pages
are made R+W as the memory grows, so the base address never moves and
compiled code may cache it.

All code memory comes from one process-wide *code arena*: a 1 GiB range
reserved at first use and handed out page by page.  NB: this keeps every
code blob within ``rel32`` reach of every other (the debugger patches
``call rel32`` instructions to the breakpoint trampoline into module code),
however many 4 GiB linear-memory reservations are made in between.

NB: nothing is unmapped when the interpreter exits.  ``weakref.finalize``
runs every pending finalizer at exit by default, whether or not its object
is still reachable, and a guest may still be running on a daemon thread
then (a debugger's guest thread, a guest a program left spinning): freeing
its code or linear memory under it is a SIGSEGV.  So is freeing the code of
a guest paused in a host call: when that thread next wants the GIL, the
finalizing interpreter ends it with ``pthread_exit``, whose unwinder walks
its stack and reads the bytes at every JIT return address.  Every
finalizer here has ``atexit = False``; the kernel takes the pages back when
the process ends.

NB: every protection change goes through the module-level :func:`mprotect`,
looked up at call time, so fault-injection tests can replace it
(``monkeypatch.setattr(codemem, "mprotect", failing)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import mmap as _mmap_module
import os
import threading
import weakref
from typing import Final

from ..errors import WasmError

__all__ = [
    "ARENA_SIZE",
    "PAGE",
    "PROT_EXEC",
    "PROT_NONE",
    "PROT_READ",
    "PROT_WRITE",
    "CodeMemory",
    "CodeMemoryError",
    "Reservation",
    "code_arena",
    "mmap_anonymous",
    "mprotect",
    "munmap",
]

PAGE: Final = _mmap_module.PAGESIZE

PROT_NONE: Final = 0
PROT_READ: Final = 1
PROT_WRITE: Final = 2
PROT_EXEC: Final = 4
_MAP_PRIVATE: Final = 0x02
_MAP_ANONYMOUS: Final = 0x20
_MAP_NORESERVE: Final = 0x4000
_MAP_FIXED: Final = 0x10
ARENA_SIZE: Final = 1 << 30
_MAP_FAILED: Final = (1 << 64) - 1

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_mprotect = _libc.mprotect
_mprotect.restype = ctypes.c_int
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_munmap = _libc.munmap
_munmap.restype = ctypes.c_int
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


class CodeMemoryError(WasmError):
    """The OS refused to map or re-protect pages."""


def _round_up(n: int, to: int = PAGE) -> int:
    return (n + to - 1) // to * to


def _os_error(what: str) -> CodeMemoryError:
    err = ctypes.get_errno()
    return CodeMemoryError(f"{what} failed: {os.strerror(err)} (errno {err})")


def mmap_anonymous(size: int, prot: int, *, noreserve: bool = False) -> int:
    """Map ``size`` bytes (rounded up to pages) of fresh zeroed memory."""
    flags = _MAP_PRIVATE | _MAP_ANONYMOUS | (_MAP_NORESERVE if noreserve else 0)
    addr = _mmap(None, _round_up(max(size, 1)), prot, flags, -1, 0)
    if addr is None or addr == _MAP_FAILED:
        raise _os_error(f"mmap of {size} bytes")
    return int(addr)


def munmap(address: int, size: int) -> None:
    """Unmap a region made by :func:`mmap_anonymous` (errors are ignored)."""
    _munmap(address, _round_up(max(size, 1)))


def mprotect(address: int, size: int, prot: int) -> None:
    """Change the protection of ``[address, address+size)``; raises on failure.

    Replaceable for fault injection: callers look this name up at call time.
    """
    if _mprotect(address, size, prot) != 0:
        raise _os_error(f"mprotect(0x{address:x}, {size}, {prot})")


class _CodeArena:
    """Page allocator over one reserved range (first fit, coalescing free list)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.base = mmap_anonymous(size, PROT_NONE, noreserve=True)
        self._lock = threading.Lock()
        self._free: list[tuple[int, int]] = [(self.base, size)]  # (address, size), sorted
        # NB: freed ranges wait here until the lock is free.  A CodeMemory's
        # finalizer may run from the cyclic GC while this thread holds the lock
        # (any allocation under it can trigger a collection), so freeing never
        # blocks on the lock: list.append is atomic under the GIL.
        self._pending: list[tuple[int, int]] = []

    def allocate(self, size: int) -> int:
        """Fresh zeroed read+write pages (``size`` is page-rounded)."""
        with self._lock:
            self._merge_pending()
            for i, (addr, avail) in enumerate(self._free):
                if avail >= size:
                    if avail == size:
                        del self._free[i]
                    else:
                        self._free[i] = (addr + size, avail - size)
                    break
            else:
                raise CodeMemoryError(f"code arena exhausted ({size} bytes requested)")
        flags = _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_FIXED
        got = _mmap(addr, size, PROT_READ | PROT_WRITE, flags, -1, 0)
        if got != addr:
            self._release(addr, size)
            raise _os_error(f"mmap of {size} code bytes")
        return addr

    def free(self, addr: int, size: int) -> None:
        """Return pages to the arena (their contents are discarded)."""
        flags = _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_FIXED | _MAP_NORESERVE
        _mmap(addr, size, PROT_NONE, flags, -1, 0)
        self._release(addr, size)

    def _release(self, addr: int, size: int) -> None:
        self._pending.append((addr, size))
        if self._lock.acquire(blocking=False):
            try:
                self._merge_pending()
            finally:
                self._lock.release()

    def _merge_pending(self) -> None:
        """Move pending ranges into the free list, coalescing (lock held)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        free = sorted(self._free + pending)
        merged: list[tuple[int, int]] = []
        for a, n in free:
            if merged and merged[-1][0] + merged[-1][1] == a:
                merged[-1] = (merged[-1][0], merged[-1][1] + n)
            else:
                merged.append((a, n))
        self._free = merged

    def contains(self, addr: int) -> bool:
        """True when ``addr`` lies in the arena."""
        return self.base <= addr < self.base + self.size


_arena: _CodeArena | None = None
_arena_lock = threading.Lock()


def code_arena() -> _CodeArena:
    """The process-wide code arena (reserved on first use)."""
    global _arena
    with _arena_lock:
        if _arena is None:
            _arena = _CodeArena(ARENA_SIZE)
        return _arena


class CodeMemory:
    """A page-aligned block of machine code with a W^X protection state.

    ``address`` is fixed for the block's life.  Contents are written with
    :meth:`write` while writable; :meth:`publish` makes the block runnable.
    The pages are unmapped when the object is garbage-collected or
    :meth:`close` is called (callers keep it alive while code may run).
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("negative code size")
        self.size = size
        self.mapped_size = _round_up(max(size, 1))
        arena = code_arena()
        self.address = arena.allocate(self.mapped_size)
        self._published = False
        self._closed = False
        self._finalizer = weakref.finalize(self, arena.free, self.address, self.mapped_size)
        self._finalizer.atexit = False  # NB: not at exit (module docstring)

    @classmethod
    def from_bytes(cls, code: bytes, *, publish: bool = True) -> CodeMemory:
        """A new block holding ``code``, published unless told otherwise."""
        mem = cls(len(code))
        mem.write(0, code)
        if publish:
            mem.publish()
        return mem

    @property
    def published(self) -> bool:
        """True while the pages are read+execute (and not writable)."""
        return self._published

    @property
    def writable(self) -> bool:
        """True while the pages are read+write (and not executable)."""
        return not self._published and not self._closed

    def _check_range(self, offset: int, length: int) -> None:
        if self._closed:
            raise CodeMemoryError("code memory is closed")
        if offset < 0 or length < 0 or offset + length > self.size:
            raise CodeMemoryError(
                f"range [{offset}, {offset + length}) outside code of {self.size} bytes"
            )

    def write(self, offset: int, data: bytes) -> None:
        """Copy ``data`` in at ``offset``; only while writable."""
        self._check_range(offset, len(data))
        if self._published:
            raise CodeMemoryError("code memory is published (read+execute); unpublish() first")
        ctypes.memmove(self.address + offset, data, len(data))

    def read(self, offset: int = 0, length: int | None = None) -> bytes:
        """The current bytes of ``[offset, offset+length)`` (any state)."""
        if length is None:
            length = self.size - offset
        self._check_range(offset, length)
        return ctypes.string_at(self.address + offset, length)

    def publish(self) -> None:
        """Make the block read+execute.  On failure it stays read+write."""
        if self._closed:
            raise CodeMemoryError("code memory is closed")
        if self._published:
            return
        mprotect(self.address, self.mapped_size, PROT_READ | PROT_EXEC)
        self._published = True

    def unpublish(self) -> None:
        """Make the block read+write, all or nothing.

        If the kernel refuses, the pages are restored to read+execute (in
        case it changed part of the range) and :class:`CodeMemoryError` is
        raised with :attr:`published` still true.
        """
        if self._closed:
            raise CodeMemoryError("code memory is closed")
        if not self._published:
            return
        try:
            mprotect(self.address, self.mapped_size, PROT_READ | PROT_WRITE)
        except CodeMemoryError:
            # NB: the original error is the one worth reporting.
            with contextlib.suppress(CodeMemoryError):
                mprotect(self.address, self.mapped_size, PROT_READ | PROT_EXEC)
            raise
        self._published = False

    def close(self) -> None:
        """Unmap the pages now (no code in them may be running)."""
        if not self._closed:
            self._closed = True
            self._published = False
            self._finalizer()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "RX" if self._published else "RW"
        return f"<CodeMemory 0x{self.address:x}+{self.size} {state}>"


class Reservation:
    """A reserved address range whose prefix is committed read+write.

    ``address`` never moves.  :meth:`commit` grows the accessible prefix to
    a new size (rounded up to OS pages); the rest stays ``PROT_NONE``.
    New pages read as zero.  Shrinking is not supported (Wasm memories
    never shrink).
    """

    def __init__(self, reserve: int, initial: int = 0) -> None:
        if reserve < 0 or initial < 0 or initial > reserve:
            raise ValueError("bad reservation sizes")
        self.reserved = _round_up(max(reserve, 1))
        self.address = mmap_anonymous(self.reserved, PROT_NONE, noreserve=True)
        self.committed = 0
        self._finalizer = weakref.finalize(self, munmap, self.address, self.reserved)
        self._finalizer.atexit = False  # NB: not at exit (module docstring)
        if initial:
            self.commit(initial)

    def commit(self, size: int) -> None:
        """Make ``[0, size)`` read+write; raises if it does not fit."""
        if size > self.reserved:
            raise CodeMemoryError(f"cannot commit {size} bytes of a {self.reserved}-byte reservation")
        new = _round_up(size)
        if new <= self.committed:
            return
        mprotect(self.address + self.committed, new - self.committed, PROT_READ | PROT_WRITE)
        self.committed = new

    def close(self) -> None:
        """Release the whole range now."""
        self.committed = 0
        self._finalizer()

    def __repr__(self) -> str:
        return f"<Reservation 0x{self.address:x} {self.committed}/{self.reserved}>"
