"""Host errors as WASI ``errno`` values.

Host functions signal a WASI error by raising :class:`WasiErrno`; the
dispatcher (:mod:`.host`) turns it, or any ``OSError`` the host raised, into
the function's return value with :func:`errno_of`.  Host ``errno`` numbers
are matched to WASI ones by name (``ENOENT`` -> ``Errno.NOENT``), so the
table follows whatever platform Python runs on; a host error with no WASI
counterpart becomes ``EIO``.
"""

from __future__ import annotations

import errno as host_errno

from .abi import Errno

__all__ = ["WasiErrno", "errno_of"]


class WasiErrno(Exception):
    """Raised inside a host function: return :attr:`errno` to the guest."""

    def __init__(self, errno: Errno) -> None:
        super().__init__(errno.name)
        self.errno = errno


def _host_table() -> dict[int, Errno]:
    table: dict[int, Errno] = {}
    for err in Errno:
        name = "E2BIG" if err is Errno.TOOBIG else f"E{err.name}"
        number = getattr(host_errno, name, None)
        # NB: several host names can share a number (EAGAIN = EWOULDBLOCK,
        # ENOTSUP = EOPNOTSUPP); the first WASI name to claim it wins.
        if number is not None and number not in table:
            table[number] = err
    return table


_HOST: dict[int, Errno] = _host_table()


def errno_of(exc: OSError) -> Errno:
    """The WASI errno for a host ``OSError`` (``EIO`` when there is none)."""
    if exc.errno is None:
        return Errno.IO
    return _HOST.get(exc.errno, Errno.IO)
