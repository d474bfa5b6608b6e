"""The guest's descriptor table: guest fd numbers -> what they stand for.

::

    guest fd   entry                       host side
    0          Stdin(Input)                inherited fd 0, a file, or EOF
    1, 2       Stdout/Stderr(Output)       inherited fd 1/2, a file, a callback, or nowhere
    3 ...      Dir(preopen=b"/data")       an O_RDONLY|O_DIRECTORY host fd per preopen
    n          File / Dir                  host fds from path_open

A :class:`File` remembers whether it was opened for reading and for
writing (what Wasmtime keeps of ``fs_rights_base``); using it otherwise is
``EBADF``.  ``mutable`` (from the preopen) says whether paths below a
:class:`Dir` may be created, changed or removed (else ``EPERM``), and a
file below an immutable preopen cannot be opened for writing.

Numbering follows Wasmtime's, so programs that print descriptor numbers
print the same ones: a new descriptor takes the *highest* number freed by
``fd_close`` or ``fd_renumber`` and not yet reused, else one more than
the highest in use.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from .abi import Errno
from .config import Input, Output
from .errno import WasiErrno

__all__ = ["Dir", "Entry", "FdTable", "File", "Stdin", "Stdout"]


@dataclass
class Stdin:
    """Standard input."""

    source: Input


@dataclass
class Stdout:
    """Standard output or error (``stream`` 1 or 2)."""

    sink: Output
    stream: int


@dataclass
class File:
    """A host file (or device) opened by ``path_open``."""

    fd: int
    readable: bool
    writable: bool
    mutable: bool


@dataclass
class Dir:
    """A host directory: a preopen (``preopen`` is its guest name) or one opened below it."""

    fd: int
    preopen: bytes | None
    mutable: bool


Entry = Stdin | Stdout | File | Dir
U32 = 0xFFFF_FFFF


def _host_fd(entry: Entry) -> int | None:
    return entry.fd if isinstance(entry, File | Dir) else None


class FdTable:
    """Guest descriptor numbers and their entries."""

    __slots__ = ("_entries", "_free")

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._free: set[int] = set()

    def insert(self, entry: Entry) -> int:
        """Give ``entry`` a number (see the module docstring); returns it."""
        if self._free:
            fd = max(self._free)
            self._free.discard(fd)
        else:
            fd = max(self._entries, default=-1) + 1
        if fd > U32:  # pragma: no cover - the host runs out of fds long before
            raise WasiErrno(Errno.MFILE)
        self._entries[fd] = entry
        return fd

    def get(self, fd: int) -> Entry:
        """The entry of ``fd`` (``EBADF`` if none)."""
        entry = self._entries.get(fd & U32)
        if entry is None:
            raise WasiErrno(Errno.BADF)
        return entry

    def file(self, fd: int) -> File:
        """``fd`` as a File: ``EBADF`` for anything else."""
        entry = self.get(fd)
        if not isinstance(entry, File):
            raise WasiErrno(Errno.BADF)
        return entry

    def dir(self, fd: int) -> Dir:
        """``fd`` as a directory: ``ENOTDIR`` for a file, ``EBADF`` for a stream or a closed fd."""
        entry = self.get(fd)
        if isinstance(entry, File):
            raise WasiErrno(Errno.NOTDIR)
        if not isinstance(entry, Dir):
            raise WasiErrno(Errno.BADF)
        return entry

    def close(self, fd: int) -> None:
        """Remove ``fd`` and release its host descriptor."""
        entry = self.get(fd)
        del self._entries[fd & U32]
        self._free.add(fd & U32)
        host = _host_fd(entry)
        if host is not None:
            os.close(host)

    def renumber(self, src: int, dst: int) -> None:
        """Move ``src`` onto ``dst`` (both must be open), closing what ``dst`` held."""
        src &= U32
        dst &= U32
        entry = self.get(src)
        self.get(dst)
        if src == dst:
            return
        self.close(dst)
        self._free.discard(dst)
        self._entries[dst] = entry
        del self._entries[src]
        self._free.add(src)

    def close_all(self) -> None:
        """Release every host descriptor (the Store is gone)."""
        entries, self._entries = self._entries, {}
        self._free.clear()
        for entry in entries.values():
            host = _host_fd(entry)
            if host is not None:
                with contextlib.suppress(OSError):
                    os.close(host)
