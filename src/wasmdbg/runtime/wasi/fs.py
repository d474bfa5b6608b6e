"""The sandbox: guest paths resolved inside one directory descriptor, never outside.

A guest path is always relative to a directory descriptor the guest holds
(a preopen, or a directory it opened below one); that directory is the
root of the resolution.  The path is walked one component at a time, each
directory opened with ``openat(parent, name, O_PATH | O_DIRECTORY |
O_NOFOLLOW)`` -- the kernel never sees more than one name and never follows
a symlink on its own -- and ``..`` pops our own stack of opened
directories, so it cannot climb above the root::

    "a/../b/link/c"       stack (held fds)          pending components
    start                 [root]                    a .. b link c
    a                     [root, a]                 .. b link c
    ..                    [root]                    b link c
    b                     [root, b]                 link c
    link -> "../x"        (readlink, splice)        .. x c
    ..                    [root]                    x c
    x                     [root, x]                 c        -> (x, "c")

Refused with ``EPERM`` (``NotPermitted``, as Wasmtime's cap-std does): an
absolute path, a ``..`` at the root, a symlink whose target is absolute.
More than :data:`MAX_SYMLINKS` expansions is ``ELOOP``.  The result is the
directory holding the last component and that component's name; the
operation on it is then done with ``*at`` calls that do not follow a
symlink in that name (if the guest asked to follow it, :func:`resolve` has
already done so, inside the sandbox).
"""

from __future__ import annotations

import errno as host_errno
import os
from dataclasses import dataclass

from .abi import Errno
from .errno import WasiErrno

__all__ = ["MAX_PATH", "MAX_SYMLINKS", "Resolved", "resolve"]

#: symlink expansions allowed in one resolution (Linux's limit)
MAX_SYMLINKS = 40
#: longest guest path accepted (longer is ``ENAMETOOLONG`` before it is copied out)
MAX_PATH = 1 << 16

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Resolved:
    """Where a path ends: ``name`` inside the directory ``dir_fd``.

    ``dir_fd`` is owned (close it with :meth:`close`) unless it is the root
    the resolution started from.  ``name`` is a single component, ``.`` when
    the path named a directory itself; ``trailing_slash`` says the path
    ended in ``/`` (so it must name a directory).
    """

    dir_fd: int
    name: bytes
    trailing_slash: bool
    _owned: bool

    @property
    def os_name(self) -> bytes:
        """``name`` with the path's trailing slash kept, for ``mkdirat`` and ``renameat``.

        NB: those never follow a symlink in the last component, slash or not;
        with the slash the kernel gives its own answer (``ENOTDIR``, ``EEXIST``
        ...) for a name that is not a directory.
        """
        return self.name + b"/" if self.trailing_slash and self.name != b"." else self.name

    def close(self) -> None:
        """Release the directory descriptor."""
        if self._owned:
            self._owned = False
            os.close(self.dir_fd)

    def __enter__(self) -> Resolved:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _symlink_target(dir_fd: int, name: bytes) -> bytes | None:
    """The target of the symlink ``name`` in ``dir_fd``, or None if it is not one."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (host_errno.EINVAL, host_errno.ENOENT, host_errno.ENOTDIR):
            return None
        raise


def _check_path(path: bytes) -> None:
    if not path:
        raise WasiErrno(Errno.NOENT)
    if b"\0" in path:
        raise WasiErrno(Errno.INVAL)
    if path.startswith(b"/"):
        raise WasiErrno(Errno.PERM)


def _done(stack: list[int], name: bytes, trailing: bool) -> Resolved:
    """The result; closes the directories passed through, keeps the last."""
    for fd in stack[1:-1]:
        os.close(fd)
    top = stack[-1]
    del stack[1:]
    return Resolved(top, name, trailing, top != stack[0])


def resolve(root: int, path: bytes, *, follow: bool, slash_follows: bool = True) -> Resolved:
    """Resolve ``path`` inside directory ``root``; see the module docstring.

    With ``follow``, a symlink in the last component is followed too
    (again inside the sandbox); so it is when the path ends in ``/``,
    unless ``slash_follows`` is false (``path_create_directory`` and
    ``path_rename``: the kernel then judges the slash, see
    :attr:`Resolved.os_name`).
    Errors are :class:`WasiErrno` or the host's ``OSError``.
    """
    _check_path(path)
    stack = [root]
    pending = path.split(b"/")
    pending.reverse()  # a stack: the next component is pending[-1]
    trailing = path.endswith(b"/")
    expansions = 0
    try:
        while True:
            comp = pending.pop()
            last = not pending or all(not p for p in pending)
            if last:
                pending.clear()
            if comp in (b"", b"."):
                if last:
                    return _done(stack, b".", trailing)
                continue
            if comp == b"..":
                if len(stack) == 1:
                    raise WasiErrno(Errno.PERM)
                os.close(stack.pop())
                if last:
                    return _done(stack, b".", trailing)
                continue
            top = stack[-1]
            if last and not (follow or (trailing and slash_follows)):
                return _done(stack, comp, trailing)
            target = _symlink_target(top, comp)
            if target is not None:
                expansions += 1
                if expansions > MAX_SYMLINKS:
                    raise WasiErrno(Errno.LOOP)
                if target.startswith(b"/"):
                    raise WasiErrno(Errno.PERM)
                if not target:
                    raise WasiErrno(Errno.NOENT)
                parts = target.split(b"/")
                if last:
                    trailing = trailing or target.endswith(b"/")
                    if trailing:
                        parts.append(b"")
                pending.extend(reversed(parts))
                continue
            if last:
                return _done(stack, comp, trailing)
            stack.append(os.open(comp, _DIR_FLAGS, dir_fd=top))
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise
