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
file below an immutable preopen cannot be opened for writing.  New
descriptors get the lowest free number.
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


def _host_fd(entry: Entry) -> int | None:
    return entry.fd if isinstance(entry, File | Dir) else None


class FdTable:
    """Guest descriptor numbers and their entries."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}

    def insert(self, entry: Entry) -> int:
        """Give ``entry`` the lowest free number."""
        fd = 0
        while fd in self._entries:
            fd += 1
        if fd > 0x7FFF_FFFF:  # pragma: no cover - the host runs out of fds long before
            raise WasiErrno(Errno.MFILE)
        self._entries[fd] = entry
        return fd

    def get(self, fd: int) -> Entry:
        """The entry of ``fd`` (``EBADF`` if none)."""
        entry = self._entries.get(fd & 0xFFFF_FFFF)
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
        del self._entries[fd & 0xFFFF_FFFF]
        host = _host_fd(entry)
        if host is not None:
            os.close(host)

    def renumber(self, src: int, dst: int) -> None:
        """Move ``src`` onto ``dst`` (both must be open), closing what ``dst`` held."""
        src &= 0xFFFF_FFFF
        dst &= 0xFFFF_FFFF
        entry = self.get(src)
        self.get(dst)
        if src == dst:
            return
        self.close(dst)
        self._entries[dst] = entry
        del self._entries[src]

    def close_all(self) -> None:
        """Release every host descriptor (the Store is gone)."""
        entries, self._entries = self._entries, {}
        for entry in entries.values():
            host = _host_fd(entry)
            if host is not None:
                with contextlib.suppress(OSError):
                    os.close(host)
