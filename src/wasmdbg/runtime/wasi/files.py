"""The ``fd_*`` and ``path_*`` host functions.

Each function takes the call's :class:`~.state.WasiCtx` and
:class:`~.guest.GuestMemory` and the raw i32/i64 arguments, and returns
nothing: failures are raised (:class:`~.errno.WasiErrno`, or the host's
``OSError``) and turned into the errno the guest gets by the dispatcher in
:mod:`.host`.  Data moves between host descriptors and guest memory
without an intermediate copy (``readv``/``writev`` on views of the
memory); anything that must be copied goes in chunks of at most
:data:`~.guest.CHUNK` bytes.

Behaviour follows Wasmtime's preview-1 implementation where the two could
differ: a transfer uses only the first non-empty iovec; ``path_open``
makes a descriptor writable if asked for a write right or ``CREAT`` or
``TRUNC``, and readable unless asked for a write right only; reading a
descriptor not opened for reading (or writing one not opened for writing)
is ``EBADF``; a stream cannot seek (``ESPIPE``); ``fd_readdir`` lists
``.`` and ``..`` first (cookies 1 and 2), then the host's entries in the
host's order (cookies 3, 4, ...), truncating the last entry that does not
fit; ``fd_allocate`` and ``fd_fdstat_set_rights`` are ``ENOTSUP``; only
``APPEND`` and ``NONBLOCK`` can be changed by ``fd_fdstat_set_flags``.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import stat
from collections.abc import Sequence

from .abi import (
    ALL_RIGHTS,
    DIRENT,
    FDSTAT,
    FILESTAT,
    NOT_DIR_RIGHTS,
    PREOPEN_INHERITING,
    PREOPEN_RIGHTS,
    PREOPENTYPE_DIR,
    PRESTAT,
    READ_RIGHTS,
    WRITE_RIGHTS,
    Advice,
    Errno,
    Fdflags,
    Filetype,
    Fstflags,
    Lookupflags,
    Oflags,
    Rights,
    Whence,
)
from .config import Input, Output
from .errno import WasiErrno
from .fdtable import Dir, Entry, File, Stdin, Stdout
from .fs import MAX_PATH, Resolved, resolve
from .guest import GuestMemory, chunks
from .state import WasiCtx

U32 = 0xFFFF_FFFF


# -- helpers ---------------------------------------------------------------------------------


def _path(mem: GuestMemory, ptr: int, length: int) -> bytes:
    if length & U32 > MAX_PATH:
        raise WasiErrno(Errno.NAMETOOLONG)
    return mem.read(ptr, length)


def _filetype(mode: int) -> Filetype:
    if stat.S_ISREG(mode):
        return Filetype.REGULAR_FILE
    if stat.S_ISDIR(mode):
        return Filetype.DIRECTORY
    if stat.S_ISLNK(mode):
        return Filetype.SYMBOLIC_LINK
    if stat.S_ISCHR(mode):
        return Filetype.CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return Filetype.BLOCK_DEVICE
    if stat.S_ISSOCK(mode):
        return Filetype.SOCKET_STREAM
    return Filetype.UNKNOWN


def _stream_type(host_fd: int | None) -> Filetype:
    return (
        Filetype.CHARACTER_DEVICE
        if host_fd is not None and os.isatty(host_fd)
        else Filetype.UNKNOWN
    )


def _put_filestat(mem: GuestMemory, out: int, st: os.stat_result) -> None:
    mem.write(
        out,
        FILESTAT.pack(
            st.st_dev,
            st.st_ino,
            _filetype(st.st_mode),
            st.st_nlink,
            st.st_size,
            st.st_atime_ns,
            st.st_mtime_ns,
            st.st_ctime_ns,
        ),
    )


def _stream_fd(entry: Stdin | Stdout) -> int | None:
    return entry.source.fd if isinstance(entry, Stdin) else entry.sink.fd


def _not_a_file(entry: Entry) -> WasiErrno:
    """The error for seeking on ``entry``, which is not a file."""
    return WasiErrno(Errno.SPIPE if isinstance(entry, Stdin | Stdout) else Errno.BADF)


def _seekable(ctx: WasiCtx, fd: int) -> File:
    entry = ctx.table.get(fd)
    if not isinstance(entry, File):
        raise _not_a_file(entry)
    return entry


def _opened(ctx: WasiCtx, fd: int) -> File | Dir:
    entry = ctx.table.get(fd)
    if isinstance(entry, Stdin | Stdout):
        raise WasiErrno(Errno.BADF)
    return entry


def _must_mutate(d: Dir) -> None:
    if not d.mutable:
        raise WasiErrno(Errno.PERM)


# -- standard streams ------------------------------------------------------------------------


def _read_input(src: Input, views: Sequence[memoryview]) -> int:
    if src.fd is not None:
        return os.readv(src.fd, views) if views else 0
    total = 0
    if src.file is not None:
        for view in views:
            n = src.file.readinto(view) or 0  # type: ignore[attr-defined]
            total += n
            if n < len(view):
                break
    return total


def _write_output(sink: Output, views: Sequence[memoryview]) -> int:
    total = 0
    for view in views:
        total += len(view)
        if sink.fd is not None:
            rest = view
            while rest:
                rest = rest[os.write(sink.fd, rest) :]
        elif sink.file is not None:
            sink.file.write(view)
        elif sink.custom is not None:
            for piece in chunks(view):
                sink.custom(bytes(piece))
    if sink.file is not None:
        sink.file.flush()
    return total


# -- reading and writing ---------------------------------------------------------------------


def fd_read(ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, count: int, nread: int) -> None:
    entry = ctx.table.get(fd)
    views = mem.iovecs(iovs, count)
    if isinstance(entry, Stdin):
        n = _read_input(entry.source, views)
    elif isinstance(entry, File) and entry.readable:
        n = os.readv(entry.fd, views) if views else 0
    else:
        raise WasiErrno(Errno.BADF)
    mem.put_u32(nread, n)


def _positional(ctx: WasiCtx, fd: int, *, reading: bool) -> File:
    """The file of ``fd_pread``/``fd_pwrite``.

    A stream is ``ESPIPE`` in its own direction and ``EBADF`` in the other.
    """
    entry = ctx.table.get(fd)
    if isinstance(entry, File):
        return entry
    if isinstance(entry, Stdin if reading else Stdout):
        raise WasiErrno(Errno.SPIPE)
    raise WasiErrno(Errno.BADF)


def fd_pread(
    ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, count: int, offset: int, nread: int
) -> None:
    f = _positional(ctx, fd, reading=True)
    views = mem.iovecs(iovs, count)
    if not f.readable:
        raise WasiErrno(Errno.BADF)
    if offset < 0:
        raise WasiErrno(Errno.INVAL)
    mem.put_u32(nread, os.preadv(f.fd, views, offset) if views else 0)


def fd_write(ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, count: int, nwritten: int) -> None:
    entry = ctx.table.get(fd)
    views = mem.iovecs(iovs, count)
    if isinstance(entry, Stdout):
        n = _write_output(entry.sink, views)
    elif isinstance(entry, File) and entry.writable:
        if views:
            n = os.writev(entry.fd, views)
        else:
            n = 0
            if fcntl.fcntl(entry.fd, fcntl.F_GETFL) & os.O_APPEND:
                os.lseek(
                    entry.fd, 0, os.SEEK_END
                )  # NB: as in Wasmtime, even an empty append moves to the end
    else:
        raise WasiErrno(Errno.BADF)
    mem.put_u32(nwritten, n)


def fd_pwrite(
    ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, count: int, offset: int, nwritten: int
) -> None:
    f = _positional(ctx, fd, reading=False)
    views = mem.iovecs(iovs, count)
    if not f.writable:
        raise WasiErrno(Errno.BADF)
    if offset < 0:
        raise WasiErrno(Errno.INVAL)
    mem.put_u32(nwritten, os.pwritev(f.fd, views, offset) if views else 0)


def fd_seek(ctx: WasiCtx, mem: GuestMemory, fd: int, offset: int, whence: int, out: int) -> None:
    f = _seekable(ctx, fd)
    if whence not in (Whence.SET, Whence.CUR, Whence.END):
        raise WasiErrno(Errno.INVAL)
    how = {Whence.SET: os.SEEK_SET, Whence.CUR: os.SEEK_CUR, Whence.END: os.SEEK_END}[
        Whence(whence)
    ]
    mem.span(out, 8)
    mem.put_u64(out, os.lseek(f.fd, offset, how))


def fd_tell(ctx: WasiCtx, mem: GuestMemory, fd: int, out: int) -> None:
    f = _seekable(ctx, fd)
    mem.put_u64(out, os.lseek(f.fd, 0, os.SEEK_CUR))


# -- descriptor state ------------------------------------------------------------------------


def _fdflags(host_fd: int) -> int:
    fl = fcntl.fcntl(host_fd, fcntl.F_GETFL)
    flags = 0
    if fl & os.O_APPEND:
        flags |= Fdflags.APPEND
    if fl & os.O_NONBLOCK:
        flags |= Fdflags.NONBLOCK
    return flags


def fd_fdstat_get(ctx: WasiCtx, mem: GuestMemory, fd: int, out: int) -> None:
    entry = ctx.table.get(fd)
    if isinstance(entry, Stdin):
        rec = FDSTAT.pack(_stream_type(entry.source.fd), 0, Rights.FD_READ, Rights.FD_READ)
    elif isinstance(entry, Stdout):
        rec = FDSTAT.pack(_stream_type(entry.sink.fd), 0, Rights.FD_WRITE, Rights.FD_WRITE)
    elif isinstance(entry, Dir):
        if entry.preopen is not None:
            base, inheriting = PREOPEN_RIGHTS, PREOPEN_INHERITING
        else:
            base = inheriting = ALL_RIGHTS & ~NOT_DIR_RIGHTS
        # NB: a read-only preopen reports the same rights (as in Wasmtime); the calls that
        # would change something below it fail with EPERM instead
        rec = FDSTAT.pack(Filetype.DIRECTORY, 0, base, inheriting)
    else:
        # NB: as Wasmtime does, a file's rights say only whether it reads and writes,
        # and it passes the same set on
        base = ALL_RIGHTS
        if not entry.readable:
            base &= ~READ_RIGHTS
        if not entry.writable:
            base &= ~Rights.FD_WRITE
        mode = os.fstat(entry.fd).st_mode
        rec = FDSTAT.pack(_filetype(mode), _fdflags(entry.fd), base, base)
    mem.write(out, rec)


def fd_fdstat_set_flags(ctx: WasiCtx, mem: GuestMemory, fd: int, flags: int) -> None:
    f = ctx.table.file(fd)
    flags &= 0xFFFF
    if flags & (Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC) or flags & ~0x1F:
        raise WasiErrno(Errno.INVAL)
    fl = fcntl.fcntl(f.fd, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
    if flags & Fdflags.APPEND:
        fl |= os.O_APPEND
    if flags & Fdflags.NONBLOCK:
        fl |= os.O_NONBLOCK
    fcntl.fcntl(f.fd, fcntl.F_SETFL, fl)


def fd_fdstat_set_rights(
    ctx: WasiCtx, mem: GuestMemory, fd: int, base: int, inheriting: int
) -> None:
    _opened(ctx, fd)
    raise WasiErrno(Errno.NOTSUP)


def fd_advise(
    ctx: WasiCtx, mem: GuestMemory, fd: int, offset: int, length: int, advice: int
) -> None:
    f = ctx.table.file(fd)
    if advice not in Advice.__members__.values():
        raise WasiErrno(Errno.INVAL)
    host = {
        Advice.NORMAL: os.POSIX_FADV_NORMAL,
        Advice.SEQUENTIAL: os.POSIX_FADV_SEQUENTIAL,
        Advice.RANDOM: os.POSIX_FADV_RANDOM,
        Advice.WILLNEED: os.POSIX_FADV_WILLNEED,
        Advice.DONTNEED: os.POSIX_FADV_DONTNEED,
        Advice.NOREUSE: os.POSIX_FADV_NOREUSE,
    }[Advice(advice)]
    os.posix_fadvise(f.fd, offset, length, host)


def fd_allocate(ctx: WasiCtx, mem: GuestMemory, fd: int, offset: int, length: int) -> None:
    ctx.table.file(fd)
    raise WasiErrno(Errno.NOTSUP)


def fd_close(ctx: WasiCtx, mem: GuestMemory, fd: int) -> None:
    ctx.table.close(fd)


def fd_renumber(ctx: WasiCtx, mem: GuestMemory, fd: int, to: int) -> None:
    ctx.table.renumber(fd, to)


def fd_sync(ctx: WasiCtx, mem: GuestMemory, fd: int) -> None:
    os.fsync(ctx.table.file(fd).fd)


def fd_datasync(ctx: WasiCtx, mem: GuestMemory, fd: int) -> None:
    os.fdatasync(ctx.table.file(fd).fd)


# -- metadata --------------------------------------------------------------------------------


def fd_filestat_get(ctx: WasiCtx, mem: GuestMemory, fd: int, out: int) -> None:
    entry = ctx.table.get(fd)
    if isinstance(entry, Stdin | Stdout):
        mem.write(out, FILESTAT.pack(0, 0, _stream_type(_stream_fd(entry)), 0, 0, 0, 0, 0))
        return
    _put_filestat(mem, out, os.fstat(entry.fd))


def fd_filestat_set_size(ctx: WasiCtx, mem: GuestMemory, fd: int, size: int) -> None:
    f = ctx.table.file(fd)
    if size < 0:
        raise WasiErrno(Errno.INVAL)
    os.ftruncate(f.fd, size)  # NB: not writable: the host's EINVAL, which is Wasmtime's answer too


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_LIBC = ctypes.CDLL(None, use_errno=True)
_UTIME_NOW = (1 << 30) - 1
_UTIME_OMIT = (1 << 30) - 2
_AT_SYMLINK_NOFOLLOW = 0x100
_utimensat = _LIBC.utimensat
_utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Timespec), ctypes.c_int]
_utimensat.restype = ctypes.c_int
_futimens = _LIBC.futimens
_futimens.argtypes = [ctypes.c_int, ctypes.POINTER(_Timespec)]
_futimens.restype = ctypes.c_int


def _times(atim: int, mtim: int, fst: int) -> ctypes.Array[_Timespec]:
    fst &= 0xFFFF
    if (
        fst & ~0xF
        or (fst & Fstflags.ATIM and fst & Fstflags.ATIM_NOW)
        or (fst & Fstflags.MTIM and fst & Fstflags.MTIM_NOW)
    ):
        raise WasiErrno(Errno.INVAL)

    def one(value: int, set_bit: int, now_bit: int) -> _Timespec:
        if fst & now_bit:
            return _Timespec(0, _UTIME_NOW)
        if fst & set_bit:
            value &= 0xFFFF_FFFF_FFFF_FFFF
            return _Timespec(value // 1_000_000_000, value % 1_000_000_000)
        return _Timespec(0, _UTIME_OMIT)

    return (_Timespec * 2)(
        one(atim, Fstflags.ATIM, Fstflags.ATIM_NOW), one(mtim, Fstflags.MTIM, Fstflags.MTIM_NOW)
    )


def _check(result: int) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def fd_filestat_set_times(
    ctx: WasiCtx, mem: GuestMemory, fd: int, atim: int, mtim: int, fst: int
) -> None:
    entry = _opened(ctx, fd)
    times = _times(atim, mtim, fst)
    if not entry.mutable:
        raise WasiErrno(Errno.PERM)
    _check(_futimens(entry.fd, times))


# -- preopens and directories ----------------------------------------------------------------


def fd_prestat_get(ctx: WasiCtx, mem: GuestMemory, fd: int, out: int) -> None:
    entry = ctx.table.get(fd)
    if not isinstance(entry, Dir) or entry.preopen is None:
        raise WasiErrno(Errno.BADF)
    mem.write(out, PRESTAT.pack(PREOPENTYPE_DIR, len(entry.preopen)))


def fd_prestat_dir_name(ctx: WasiCtx, mem: GuestMemory, fd: int, buf: int, buf_len: int) -> None:
    entry = ctx.table.get(fd)
    if not isinstance(entry, Dir):
        raise WasiErrno(
            Errno.NOTDIR
        )  # NB: Wasmtime's answer for a stream here (fd_prestat_get says EBADF)
    if entry.preopen is None:
        raise WasiErrno(Errno.BADF)
    if len(entry.preopen) > buf_len & U32:
        raise WasiErrno(Errno.NAMETOOLONG)
    mem.write(buf, entry.preopen)


def _dirent_type(entry: os.DirEntry[str]) -> Filetype:
    if entry.is_symlink():
        return Filetype.SYMBOLIC_LINK
    if entry.is_dir(follow_symlinks=False):
        return Filetype.DIRECTORY
    if entry.is_file(follow_symlinks=False):
        return Filetype.REGULAR_FILE
    try:
        return _filetype(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return Filetype.UNKNOWN


def fd_readdir(
    ctx: WasiCtx, mem: GuestMemory, fd: int, buf: int, buf_len: int, cookie: int, used: int
) -> None:
    d = ctx.table.get(fd)
    if not isinstance(d, Dir):
        raise WasiErrno(Errno.BADF)
    out = mem.span(buf, buf_len)
    mem.span(used, 4)
    cookie &= 0xFFFF_FFFF_FFFF_FFFF
    ino = os.fstat(d.fd).st_ino
    # NB: scandir(fd) works on a duplicate of the descriptor and rewinds it when done,
    # so every call sees the whole directory, as Wasmtime's does.
    with os.scandir(d.fd) as it:
        listing: list[tuple[bytes, int, Filetype]] = [
            (b".", ino, Filetype.DIRECTORY),
            (b"..", ino, Filetype.DIRECTORY),
        ]
        listing.extend((os.fsencode(e.name), e.inode(), _dirent_type(e)) for e in it)
    pos = 0
    cap = len(out)
    for index in range(min(cookie, len(listing)), len(listing)):
        if pos >= cap:
            break
        name, d_ino, d_type = listing[index]
        record = DIRENT.pack(index + 1, d_ino, len(name), d_type) + name
        take = min(len(record), cap - pos)
        out[pos : pos + take] = record[:take]
        pos += take
    mem.put_u32(used, pos)


# -- paths -----------------------------------------------------------------------------------


def _resolve(
    ctx: WasiCtx,
    mem: GuestMemory,
    fd: int,
    ptr: int,
    length: int,
    follow: bool,
    *,
    slash_follows: bool = True,
) -> tuple[Dir, Resolved]:
    d = ctx.table.dir(fd)
    path = _path(mem, ptr, length)
    return d, resolve(d.fd, path, follow=follow, slash_follows=slash_follows)


def _resolve_last(
    ctx: WasiCtx, mem: GuestMemory, fd: int, ptr: int, length: int
) -> tuple[Dir, Resolved]:
    """For the calls that remove, link or name the last component: it is never followed.

    NB: a trailing slash means "the directory itself", as in Wasmtime: ``x/``
    is resolved as ``x/.`` (so ``x`` must be a directory, symlinks to it
    followed inside the sandbox) and the call acts on ``.``, which the kernel
    refuses with its own errno (``EISDIR``, ``EINVAL``, ``EEXIST`` ...).
    """
    d = ctx.table.dir(fd)
    path = _path(mem, ptr, length)
    if path.endswith(b"/"):
        path += b"."
    return d, resolve(d.fd, path, follow=False)


def path_open(
    ctx: WasiCtx,
    mem: GuestMemory,
    fd: int,
    dirflags: int,
    path_ptr: int,
    path_len: int,
    oflags: int,
    base: int,
    inheriting: int,
    fdflags: int,
    out: int,
) -> None:
    d = ctx.table.dir(fd)
    path = _path(mem, path_ptr, path_len)
    mem.span(out, 4)
    oflags &= 0xFFFF
    fdflags &= 0xFFFF
    base &= 0xFFFF_FFFF_FFFF_FFFF
    if oflags & ~0xF or fdflags & ~0x1F:
        raise WasiErrno(Errno.INVAL)
    if oflags & Oflags.DIRECTORY and oflags & (Oflags.CREAT | Oflags.EXCL | Oflags.TRUNC):
        raise WasiErrno(Errno.INVAL)
    if fdflags & (Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC):
        raise WasiErrno(Errno.NOTSUP)  # NB: as Wasmtime: no synchronous-I/O descriptors
    asked_write = bool(base & WRITE_RIGHTS)
    # NB: as in Wasmtime, creating or truncating makes the descriptor writable, and one
    # not asked to be write-only can read
    write = asked_write or bool(oflags & (Oflags.CREAT | Oflags.TRUNC))
    read = bool(base & READ_RIGHTS) or not asked_write
    if not d.mutable and (write or oflags & (Oflags.CREAT | Oflags.TRUNC)):
        raise WasiErrno(Errno.PERM)
    flags = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NOCTTY
    flags |= os.O_RDWR if read and write else os.O_WRONLY if write else os.O_RDONLY
    for obit, host in (
        (Oflags.CREAT, os.O_CREAT),
        (Oflags.EXCL, os.O_EXCL),
        (Oflags.TRUNC, os.O_TRUNC),
        (Oflags.DIRECTORY, os.O_DIRECTORY),
    ):
        if oflags & obit:
            flags |= host
    if fdflags & Fdflags.APPEND:
        flags |= os.O_APPEND
    if fdflags & Fdflags.NONBLOCK:
        flags |= os.O_NONBLOCK
    if oflags & Oflags.CREAT and path.endswith(b"/"):
        # once the directories leading to it are known good: a directory cannot be created here
        with resolve(d.fd, path, follow=False, slash_follows=False) as r:
            raise WasiErrno(Errno.EXIST if r.name == b"." and oflags & Oflags.EXCL else Errno.ISDIR)
    follow = bool(dirflags & Lookupflags.SYMLINK_FOLLOW) and not (
        oflags & Oflags.CREAT and oflags & Oflags.EXCL
    )
    with resolve(d.fd, path, follow=follow) as r:
        if r.trailing_slash:
            flags |= os.O_DIRECTORY
        try:
            host_fd = os.open(r.name, flags, 0o666, dir_fd=r.dir_fd)
        except NotADirectoryError:
            # NB: Linux says ENOTDIR for O_DIRECTORY|O_NOFOLLOW on a symlink; Wasmtime says ELOOP
            if flags & os.O_DIRECTORY and stat.S_ISLNK(
                os.stat(r.name, dir_fd=r.dir_fd, follow_symlinks=False).st_mode
            ):
                raise WasiErrno(Errno.LOOP) from None
            raise
    try:
        is_dir = stat.S_ISDIR(os.fstat(host_fd).st_mode)
        entry: Entry = (
            Dir(host_fd, None, d.mutable) if is_dir else File(host_fd, read, write, d.mutable)
        )
        guest_fd = ctx.table.insert(entry)
    except BaseException:
        os.close(host_fd)
        raise
    mem.put_u32(out, guest_fd)


def path_create_directory(ctx: WasiCtx, mem: GuestMemory, fd: int, ptr: int, length: int) -> None:
    d, r = _resolve(ctx, mem, fd, ptr, length, False, slash_follows=False)
    with r:
        _must_mutate(d)
        os.mkdir(r.os_name, 0o777, dir_fd=r.dir_fd)


def path_remove_directory(ctx: WasiCtx, mem: GuestMemory, fd: int, ptr: int, length: int) -> None:
    d, r = _resolve_last(ctx, mem, fd, ptr, length)
    with r:
        _must_mutate(d)
        os.rmdir(r.name, dir_fd=r.dir_fd)


def path_unlink_file(ctx: WasiCtx, mem: GuestMemory, fd: int, ptr: int, length: int) -> None:
    d, r = _resolve_last(ctx, mem, fd, ptr, length)
    with r:
        _must_mutate(d)
        os.unlink(r.name, dir_fd=r.dir_fd)


def path_filestat_get(
    ctx: WasiCtx, mem: GuestMemory, fd: int, flags: int, ptr: int, length: int, out: int
) -> None:
    _, r = _resolve(ctx, mem, fd, ptr, length, bool(flags & Lookupflags.SYMLINK_FOLLOW))
    with r:
        st = os.stat(r.name, dir_fd=r.dir_fd, follow_symlinks=False)
        if r.trailing_slash and not stat.S_ISDIR(st.st_mode):
            raise WasiErrno(Errno.NOTDIR)
    _put_filestat(mem, out, st)


def path_filestat_set_times(
    ctx: WasiCtx,
    mem: GuestMemory,
    fd: int,
    flags: int,
    ptr: int,
    length: int,
    atim: int,
    mtim: int,
    fst: int,
) -> None:
    d, r = _resolve(ctx, mem, fd, ptr, length, bool(flags & Lookupflags.SYMLINK_FOLLOW))
    with r:
        times = _times(atim, mtim, fst)
        _must_mutate(d)
        _check(_utimensat(r.dir_fd, r.name, times, _AT_SYMLINK_NOFOLLOW))


def path_readlink(
    ctx: WasiCtx,
    mem: GuestMemory,
    fd: int,
    ptr: int,
    length: int,
    buf: int,
    buf_len: int,
    used: int,
) -> None:
    _, r = _resolve_last(ctx, mem, fd, ptr, length)
    out = mem.span(buf, buf_len)
    mem.span(used, 4)
    with r:
        target = os.readlink(r.name, dir_fd=r.dir_fd)
    n = min(len(target), len(out))
    out[:n] = target[:n]
    mem.put_u32(used, n)


def path_symlink(
    ctx: WasiCtx, mem: GuestMemory, old_ptr: int, old_len: int, fd: int, ptr: int, length: int
) -> None:
    target = _path(mem, old_ptr, old_len)
    if b"\0" in target:
        raise WasiErrno(Errno.INVAL)
    ctx.table.dir(fd)
    if target.startswith(b"/"):
        raise WasiErrno(
            Errno.PERM
        )  # NB: Wasmtime refuses an absolute target before looking at the new name
    d, r = _resolve_last(ctx, mem, fd, ptr, length)
    with r:
        _must_mutate(d)
        os.symlink(target, r.name, dir_fd=r.dir_fd)


def path_link(
    ctx: WasiCtx,
    mem: GuestMemory,
    old_fd: int,
    old_flags: int,
    old_ptr: int,
    old_len: int,
    new_fd: int,
    new_ptr: int,
    new_len: int,
) -> None:
    if old_flags & Lookupflags.SYMLINK_FOLLOW:
        # NB: Wasmtime refuses to follow a symlink here (EINVAL) rather than link its target
        ctx.table.dir(old_fd)
        raise WasiErrno(Errno.INVAL)
    src_dir, src = _resolve_last(ctx, mem, old_fd, old_ptr, old_len)
    with src:
        dst_dir, dst = _resolve_last(ctx, mem, new_fd, new_ptr, new_len)
        with dst:
            _must_mutate(dst_dir)
            _must_mutate(src_dir)
            os.link(
                src.name,
                dst.name,
                src_dir_fd=src.dir_fd,
                dst_dir_fd=dst.dir_fd,
                follow_symlinks=False,
            )


def path_rename(
    ctx: WasiCtx,
    mem: GuestMemory,
    old_fd: int,
    old_ptr: int,
    old_len: int,
    new_fd: int,
    new_ptr: int,
    new_len: int,
) -> None:
    # NB: unlike the other calls, a trailing slash is left to the kernel here (as Wasmtime does)
    src_dir, src = _resolve(ctx, mem, old_fd, old_ptr, old_len, False, slash_follows=False)
    with src:
        dst_dir, dst = _resolve(ctx, mem, new_fd, new_ptr, new_len, False, slash_follows=False)
        with dst:
            _must_mutate(src_dir)
            _must_mutate(dst_dir)
            os.rename(src.os_name, dst.os_name, src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd)


__all__ = [
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
]
