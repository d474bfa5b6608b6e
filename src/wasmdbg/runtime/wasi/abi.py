"""The preview-1 ABI: enumerations, flag sets and the byte layouts of its structures.

Every number here is fixed by the ``wasi_snapshot_preview1`` witx
definitions; nothing in this module does anything.  The structures the
host writes into (or reads from) guest memory, little-endian, offsets in
bytes::

    fdstat (24)          filestat (64)          dirent (24, then the name)
    0  u8  filetype      0  u64 dev             0  u64 d_next (cookie)
    2  u16 fs_flags      8  u64 ino             8  u64 d_ino
    8  u64 rights_base   16 u8  filetype        16 u32 d_namlen
    16 u64 rights_inh    24 u64 nlink           20 u8  d_type
                         32 u64 size
    prestat (8)          40 u64 atim            iovec / ciovec (8)
    0  u8  tag (0: dir)  48 u64 mtim            0  u32 buf
    4  u32 name_len      56 u64 ctim            4  u32 buf_len

    subscription (48)                           event (32)
    0  u64 userdata                             0  u64 userdata
    8  u8  tag (eventtype)                      8  u16 error (errno)
    16 clock:   u32 id, 24 u64 timeout,         10 u8  type (eventtype)
                32 u64 precision, 40 u16 flags  16 u64 nbytes   (fd events)
    16 fd_read / fd_write: u32 fd               24 u16 flags    (HANGUP)
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

__all__ = [
    "DIRENT",
    "EVENT",
    "FDSTAT",
    "FILESTAT",
    "PRESTAT",
    "SUBSCRIPTION",
    "Advice",
    "ClockId",
    "Errno",
    "EventType",
    "Fdflags",
    "Filetype",
    "Fstflags",
    "Lookupflags",
    "Oflags",
    "Rights",
    "Whence",
]


class Errno(IntEnum):
    """Preview-1 error numbers (``errno`` in the witx)."""

    SUCCESS = 0
    TOOBIG = 1  # E2BIG
    ACCES = 2
    ADDRINUSE = 3
    ADDRNOTAVAIL = 4
    AFNOSUPPORT = 5
    AGAIN = 6
    ALREADY = 7
    BADF = 8
    BADMSG = 9
    BUSY = 10
    CANCELED = 11
    CHILD = 12
    CONNABORTED = 13
    CONNREFUSED = 14
    CONNRESET = 15
    DEADLK = 16
    DESTADDRREQ = 17
    DOM = 18
    DQUOT = 19
    EXIST = 20
    FAULT = 21
    FBIG = 22
    HOSTUNREACH = 23
    IDRM = 24
    ILSEQ = 25
    INPROGRESS = 26
    INTR = 27
    INVAL = 28
    IO = 29
    ISCONN = 30
    ISDIR = 31
    LOOP = 32
    MFILE = 33
    MLINK = 34
    MSGSIZE = 35
    MULTIHOP = 36
    NAMETOOLONG = 37
    NETDOWN = 38
    NETRESET = 39
    NETUNREACH = 40
    NFILE = 41
    NOBUFS = 42
    NODEV = 43
    NOENT = 44
    NOEXEC = 45
    NOLCK = 46
    NOLINK = 47
    NOMEM = 48
    NOMSG = 49
    NOPROTOOPT = 50
    NOSPC = 51
    NOSYS = 52
    NOTCONN = 53
    NOTDIR = 54
    NOTEMPTY = 55
    NOTRECOVERABLE = 56
    NOTSOCK = 57
    NOTSUP = 58
    NOTTY = 59
    NXIO = 60
    OVERFLOW = 61
    OWNERDEAD = 62
    PERM = 63
    PIPE = 64
    PROTO = 65
    PROTONOSUPPORT = 66
    PROTOTYPE = 67
    RANGE = 68
    ROFS = 69
    SPIPE = 70
    SRCH = 71
    STALE = 72
    TIMEDOUT = 73
    TXTBSY = 74
    XDEV = 75
    NOTCAPABLE = 76


class Filetype(IntEnum):
    """``filetype``: what a descriptor or directory entry refers to."""

    UNKNOWN = 0
    BLOCK_DEVICE = 1
    CHARACTER_DEVICE = 2
    DIRECTORY = 3
    REGULAR_FILE = 4
    SOCKET_DGRAM = 5
    SOCKET_STREAM = 6
    SYMBOLIC_LINK = 7


class Rights(IntFlag):
    """``rights``: what a descriptor may be used for (bit numbers from the witx)."""

    FD_DATASYNC = 1 << 0
    FD_READ = 1 << 1
    FD_SEEK = 1 << 2
    FD_FDSTAT_SET_FLAGS = 1 << 3
    FD_SYNC = 1 << 4
    FD_TELL = 1 << 5
    FD_WRITE = 1 << 6
    FD_ADVISE = 1 << 7
    FD_ALLOCATE = 1 << 8
    PATH_CREATE_DIRECTORY = 1 << 9
    PATH_CREATE_FILE = 1 << 10
    PATH_LINK_SOURCE = 1 << 11
    PATH_LINK_TARGET = 1 << 12
    PATH_OPEN = 1 << 13
    FD_READDIR = 1 << 14
    PATH_READLINK = 1 << 15
    PATH_RENAME_SOURCE = 1 << 16
    PATH_RENAME_TARGET = 1 << 17
    PATH_FILESTAT_GET = 1 << 18
    PATH_FILESTAT_SET_SIZE = 1 << 19
    PATH_FILESTAT_SET_TIMES = 1 << 20
    FD_FILESTAT_GET = 1 << 21
    FD_FILESTAT_SET_SIZE = 1 << 22
    FD_FILESTAT_SET_TIMES = 1 << 23
    PATH_SYMLINK = 1 << 24
    PATH_REMOVE_DIRECTORY = 1 << 25
    PATH_UNLINK_FILE = 1 << 26
    POLL_FD_READWRITE = 1 << 27
    SOCK_SHUTDOWN = 1 << 28
    SOCK_ACCEPT = 1 << 29


ALL_RIGHTS = Rights((1 << 30) - 1)
#: rights in ``path_open``'s ``fs_rights_base`` that ask for a readable descriptor
READ_RIGHTS = Rights.FD_READ | Rights.FD_READDIR
#: ... and those that ask for a writable one
WRITE_RIGHTS = (
    Rights.FD_WRITE | Rights.FD_DATASYNC | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE
)
#: what Wasmtime reports for a preopened directory: the path_* rights, readdir, its own filestat
PREOPEN_RIGHTS = Rights(0x07B7FE00)
#: ... and what such a directory passes on (everything but PATH_FILESTAT_SET_SIZE and socket rights)
PREOPEN_INHERITING = Rights(0x0FF7FFFF)
#: rights Wasmtime takes away from a directory opened by path_open (seek, write, set_size)
NOT_DIR_RIGHTS = (
    Rights.FD_SEEK | Rights.FD_WRITE | Rights.PATH_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_SIZE
)


class Oflags(IntFlag):
    """``oflags`` of ``path_open``."""

    CREAT = 1
    DIRECTORY = 2
    EXCL = 4
    TRUNC = 8


class Fdflags(IntFlag):
    """``fdflags``: per-descriptor behaviour."""

    APPEND = 1
    DSYNC = 2
    NONBLOCK = 4
    RSYNC = 8
    SYNC = 16


class Lookupflags(IntFlag):
    """``lookupflags``: whether the last path component's symlink is followed."""

    SYMLINK_FOLLOW = 1


class Fstflags(IntFlag):
    """``fstflags`` of the ``*_set_times`` calls."""

    ATIM = 1
    ATIM_NOW = 2
    MTIM = 4
    MTIM_NOW = 8


class Whence(IntEnum):
    """``whence`` of ``fd_seek``."""

    SET = 0
    CUR = 1
    END = 2


class Advice(IntEnum):
    """``advice`` of ``fd_advise`` (same order as POSIX_FADV_*)."""

    NORMAL = 0
    SEQUENTIAL = 1
    RANDOM = 2
    WILLNEED = 3
    DONTNEED = 4
    NOREUSE = 5


class ClockId(IntEnum):
    """``clockid``."""

    REALTIME = 0
    MONOTONIC = 1
    PROCESS_CPUTIME_ID = 2
    THREAD_CPUTIME_ID = 3


class EventType(IntEnum):
    """``eventtype``: what a subscription waits for."""

    CLOCK = 0
    FD_READ = 1
    FD_WRITE = 2


SUBCLOCK_ABSTIME = 1
EVENTRW_HANGUP = 1
PREOPENTYPE_DIR = 0

FDSTAT = struct.Struct("<BxHxxxxQQ")
FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")
PRESTAT = struct.Struct("<BxxxI")
DIRENT = struct.Struct("<QQIBxxx")
SUBSCRIPTION = struct.Struct(
    "<QB7xIxxxxQQH6x"
)  # clock variant; the fd variants use the first u32 only
EVENT = struct.Struct("<QHB5xQH6x")
IOVEC = struct.Struct("<II")

for _layout, _size in (
    (FDSTAT, 24),
    (FILESTAT, 64),
    (PRESTAT, 8),
    (DIRENT, 24),
    (SUBSCRIPTION, 48),
    (EVENT, 32),
):
    if _layout.size != _size:  # pragma: no cover - a typo in a format string
        raise RuntimeError(
            f"WASI layout {_layout.format} is {_layout.size} bytes, expected {_size}"
        )
