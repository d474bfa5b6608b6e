"""Each preview-1 function, called directly, on wasmdbg and wasmtime-py with the same expectations.

Every test here runs twice (``engine`` is ``wasmdbg`` or ``wasmtime``) and
asserts literal values, so a pass means wasmdbg answers exactly as
Wasmtime does.  Where wasmdbg deliberately answers differently (an errno
where Wasmtime traps, bytes where Wasmtime wants UTF-8), the test is in
``test_wasi_limits.py`` and says so.

The preopen (fd 3, guest name ``/sb``) holds::

    d/           f.txt = "0123456789"     ln -> f.txt     bad -> ../x
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from wasi_guest import ENGINES, Guest, api_of

READ, WRITE = 1 << 1, 1 << 6
ALL = (1 << 29) - 1
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8
APPEND = 1
FOLLOW = 1
EBADF, EEXIST, EFAULT, EILSEQ, EINVAL, EISDIR, ELOOP = 8, 20, 21, 25, 28, 31, 32
ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, ENOTSOCK, ENOTSUP, EPERM, ESPIPE = (
    37,
    44,
    54,
    55,
    57,
    58,
    63,
    70,
)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    os.mkdir(tmp_path / "d")
    (tmp_path / "f.txt").write_bytes(b"0123456789")
    os.symlink("f.txt", tmp_path / "ln")
    os.symlink("../x", tmp_path / "bad")
    return tmp_path


@pytest.fixture
def g(engine: str, root: Path) -> Guest:
    api = api_of(engine)
    config = api.WasiConfig()
    config.preopen_dir(str(root), "/sb")
    return Guest(api, config)


def fdstat(g: Guest, fd: int) -> tuple[int, int, int, int, int]:
    e = g.call("fd_fdstat_get", fd, 1024)
    filetype, flags, base, inheriting = struct.unpack("<BxHxxxxQQ", g.get(1024, 24))
    return e, filetype, flags, base, inheriting


# -- descriptors -------------------------------------------------------------------------------


def test_fdstat_of_streams_and_preopen(g: Guest) -> None:
    assert fdstat(g, 0) == (0, 0, 0, READ, READ)
    assert fdstat(g, 1) == (0, 0, 0, WRITE, WRITE)
    assert fdstat(g, 2) == (0, 0, 0, WRITE, WRITE)
    assert fdstat(g, 3) == (0, 3, 0, 0x07B7FE00, 0x0FF7FFFF)
    assert g.call("fd_fdstat_get", 4, 1024) == EBADF


@pytest.mark.parametrize(
    ("rights", "fdflags", "expected"),
    [
        (READ, 0, (4, 0, 0x3FFFFFBF)),
        (WRITE, 0, (4, 0, 0x3FFFBFFD)),
        (READ | WRITE, 0, (4, 0, 0x3FFFFFFF)),
        (0, 0, (4, 0, 0x3FFFFFBF)),  # neither: readable, as in Wasmtime
        (WRITE, APPEND, (4, APPEND, 0x3FFFBFFD)),
    ],
)
def test_fdstat_of_opened_files(
    g: Guest, rights: int, fdflags: int, expected: tuple[int, int, int]
) -> None:
    e, fd = g.open(3, b"f.txt", rights=rights, fdflags=fdflags)
    assert e == 0
    filetype, flags, base = expected
    assert fdstat(g, fd) == (0, filetype, flags, base, base)


def test_fdstat_of_opened_directory(g: Guest) -> None:
    for rights, oflags in ((READ, DIRECTORY), (0, DIRECTORY), (1 << 14, DIRECTORY), (READ, 0)):
        e, fd = g.open(3, b"d", oflags=oflags, rights=rights)
        assert e == 0
        assert fdstat(g, fd) == (0, 3, 0, 0x3FB7FFBB, 0x3FB7FFBB)
    assert g.open(3, b"d", oflags=DIRECTORY, rights=ALL)[0] == EISDIR  # write rights on a directory


def test_filestat_of_streams(g: Guest) -> None:
    for fd in (0, 1, 2):
        assert g.call("fd_filestat_get", fd, 1024) == 0
        assert g.get(1024, 64) == bytes(64)


def test_filestat_of_file_and_directory(g: Guest, root: Path) -> None:
    _, fd = g.open(3, b"f.txt")
    assert g.call("fd_filestat_get", fd, 1024) == 0
    _dev, _ino, filetype, nlink, size, _atim, mtim, _ctim = struct.unpack(
        "<QQBxxxxxxxQQQQQ", g.get(1024, 64)
    )
    st = os.stat(root / "f.txt")
    assert (filetype, nlink, size, mtim) == (4, 1, 10, st.st_mtime_ns)
    assert g.call("fd_filestat_get", 3, 1024) == 0
    assert g.get(1040, 1) == b"\x03"


def test_seek_and_tell(g: Guest) -> None:
    _, fd = g.open(3, b"f.txt")
    assert g.call("fd_seek", fd, 3, 0, 1024) == 0 and g.u64(1024) == 3
    assert g.call("fd_seek", fd, -1, 1, 1024) == 0 and g.u64(1024) == 2
    assert g.call("fd_seek", fd, -100, 1, 1024) == EINVAL
    assert g.call("fd_seek", fd, 2, 2, 1024) == 0 and g.u64(1024) == 12
    assert g.call("fd_tell", fd, 1024) == 0 and g.u64(1024) == 12
    assert g.call("fd_seek", 0, 0, 0, 1024) == ESPIPE
    assert g.call("fd_seek", 1, 0, 1, 1024) == ESPIPE
    assert g.call("fd_tell", 0, 1024) == ESPIPE
    assert g.call("fd_seek", 3, 0, 0, 1024) == EBADF
    assert g.call("fd_tell", 3, 1024) == EBADF
    assert g.call("fd_seek", 99, 0, 0, 1024) == EBADF


def test_read_write_pread_pwrite_append(g: Guest) -> None:
    _, fd = g.open(3, b"f.txt", rights=READ | WRITE)
    assert g.read_fd(fd, 4) == (0, b"0123")
    assert g.write_fd(fd, b"AB") == (0, 2)
    assert g.read_fd(fd, 100) == (0, b"6789")
    assert g.read_fd(fd, 100) == (0, b"")
    g.put(4096, b"xyz")
    g.iovec(512, (4096, 3))
    assert g.call("fd_pwrite", fd, 512, 1, 1, 1024) == 0 and g.u32(1024) == 3
    g.iovec(512, (4096, 2))
    assert g.call("fd_pread", fd, 512, 1, 0, 1024) == 0 and g.get(4096, 2) == b"0x"
    assert g.call("fd_pread", fd, 512, 1, -1, 1024) == EINVAL
    assert g.call("fd_read", fd, 512, 0, 1024) == 0 and g.u32(1024) == 0
    _, afd = g.open(3, b"f.txt", rights=WRITE, fdflags=APPEND)
    assert g.write_fd(afd, b"END") == (0, 3)
    assert g.call("fd_seek", afd, 0, 0, 1024) == 0
    assert g.write_fd(afd, b"!") == (0, 1)  # appended all the same
    assert g.call("fd_fdstat_set_flags", afd, 0) == 0
    assert g.call("fd_seek", afd, 0, 0, 1024) == 0
    assert g.write_fd(afd, b"S") == (0, 1)
    _, rfd = g.open(3, b"f.txt")
    assert g.read_fd(rfd, 100) == (0, b"SxyzAB6789END!")


def test_only_the_first_non_empty_iovec_is_used(g: Guest, root: Path) -> None:
    _, fd = g.open(3, b"f.txt", rights=READ | WRITE)
    g.put(4096, b"abc")
    g.put(5000, b"defg")
    g.iovec(512, (4096, 0), (4096, 3), (5000, 4))
    assert g.call("fd_write", fd, 512, 3, 1024) == 0 and g.u32(1024) == 3
    assert g.call("fd_pwrite", fd, 512, 3, 7, 1024) == 0 and g.u32(1024) == 3
    assert (root / "f.txt").read_bytes() == b"abc3456abc"
    g.put(6000, bytes(8))
    g.iovec(512, (6000, 2), (6100, 3))
    assert g.call("fd_seek", fd, 0, 0, 1024) == 0
    assert g.call("fd_read", fd, 512, 2, 1024) == 0 and g.u32(1024) == 2
    assert g.call("fd_pread", fd, 512, 2, 4, 1024) == 0 and g.u32(1024) == 2
    assert (g.get(6000, 2), g.get(6100, 3)) == (b"45", bytes(3))
    g.iovec(512, (4096, 0))
    assert g.call("fd_write", 1, 512, 1, 1024) == 0 and g.u32(1024) == 0


def test_rights_of_a_descriptor_are_enforced(g: Guest) -> None:
    _, ro = g.open(3, b"f.txt", rights=READ)
    _, wo = g.open(3, b"f.txt", rights=WRITE)
    assert g.write_fd(ro, b"x")[0] == EBADF
    assert g.read_fd(wo, 1)[0] == EBADF
    g.iovec(512, (4096, 1))
    assert g.call("fd_pwrite", ro, 512, 1, 0, 1024) == EBADF
    assert g.call("fd_pread", wo, 512, 1, 0, 1024) == EBADF
    assert g.call("fd_read", 3, 512, 1, 1024) == EBADF
    assert g.call("fd_write", 3, 512, 1, 1024) == EBADF
    assert g.call("fd_pread", 0, 512, 1, 0, 1024) == ESPIPE
    assert g.call("fd_pwrite", 1, 512, 1, 0, 1024) == ESPIPE
    assert g.call("fd_pread", 3, 512, 1, 0, 1024) == EBADF


def test_advise_allocate_sync(g: Guest) -> None:
    _, fd = g.open(3, b"f.txt")
    assert g.call("fd_advise", fd, 0, 10, 1) == 0
    assert g.call("fd_advise", 1, 0, 10, 1) == EBADF
    assert g.call("fd_advise", 3, 0, 10, 1) == EBADF
    assert g.call("fd_allocate", fd, 0, 100) == ENOTSUP
    assert g.call("fd_allocate", 1, 0, 1) == EBADF
    assert g.call("fd_allocate", 3, 0, 1) == EBADF
    assert [g.call("fd_sync", x) for x in (0, 1, 3, fd, 99)] == [EBADF, EBADF, EBADF, 0, EBADF]
    assert [g.call("fd_datasync", x) for x in (0, 1, 3, fd, 99)] == [EBADF, EBADF, EBADF, 0, EBADF]


def test_set_flags_rights_size_times(g: Guest, root: Path) -> None:
    _, fd = g.open(3, b"f.txt")
    assert [g.call("fd_fdstat_set_flags", fd, f) for f in (0, 1, 2, 4, 8, 16)] == [
        0,
        0,
        EINVAL,
        0,
        EINVAL,
        EINVAL,
    ]
    assert [g.call("fd_fdstat_set_flags", x, 0) for x in (1, 3)] == [EBADF, EBADF]
    assert [g.call("fd_fdstat_set_rights", x, 0, 0) for x in (1, 3, fd, 99)] == [
        EBADF,
        ENOTSUP,
        ENOTSUP,
        EBADF,
    ]
    _, wfd = g.open(3, b"f.txt", rights=WRITE)
    assert g.call("fd_filestat_set_size", wfd, 3) == 0
    assert (root / "f.txt").read_bytes() == b"012"
    assert g.call("fd_filestat_set_size", 1, 3) == EBADF
    assert g.call("fd_filestat_set_size", 3, 3) == EBADF
    assert g.call("fd_filestat_set_size", wfd, -1) == EINVAL
    assert g.call("fd_filestat_set_times", fd, 5_000_000_000, 7_000_000_123, 1 | 4) == 0
    st = os.stat(root / "f.txt")
    assert (st.st_atime_ns, st.st_mtime_ns) == (5_000_000_000, 7_000_000_123)
    assert g.call("fd_filestat_set_times", fd, 0, 9_000_000_000, 4) == 0  # atime left alone
    st = os.stat(root / "f.txt")
    assert (st.st_atime_ns, st.st_mtime_ns) == (5_000_000_000, 9_000_000_000)
    assert [g.call("fd_filestat_set_times", x, 0, 0, 8) for x in (0, 1, 3, fd, 99)] == [
        EBADF,
        EBADF,
        0,
        0,
        EBADF,
    ]
    assert [g.call("fd_filestat_set_times", fd, 0, 0, f) for f in (3, 12)] == [EINVAL, EINVAL]


def test_close_and_renumber(g: Guest) -> None:
    _, a = g.open(3, b"f.txt")
    _, b = g.open(3, b"ln")
    assert g.call("fd_renumber", b, 99) == EBADF
    assert g.call("fd_renumber", 99, b) == EBADF
    assert g.call("fd_renumber", b, b) == 0
    assert g.call("fd_renumber", b, a) == 0
    assert g.call("fd_close", b) == EBADF
    assert g.call("fd_close", a) == 0
    assert g.call("fd_close", a) == EBADF
    # Wasmtime's numbering: the highest freed number first, then one past the highest in use
    assert [g.open(3, b"f.txt")[1] for _ in range(3)] == [b, a, b + 1]
    for fd in (a, b + 1, b):
        assert g.call("fd_close", fd) == 0
    assert [g.open(3, b"f.txt")[1] for _ in range(4)] == [b + 1, b, a, b + 2]


def test_prestat(g: Guest) -> None:
    assert [g.call("fd_prestat_get", x, 1024) for x in (0, 1, 2, 3, 4)] == [
        EBADF,
        EBADF,
        EBADF,
        0,
        EBADF,
    ]
    assert g.get(1024, 8) == bytes([0, 0, 0, 0, 3, 0, 0, 0])
    assert g.call("fd_prestat_dir_name", 3, 2000, 2) == ENAMETOOLONG
    g.put(2000, b"\xee" * 4)
    assert g.call("fd_prestat_dir_name", 3, 2000, 3) == 0
    assert g.get(2000, 4) == b"/sb\xee"
    assert g.call("fd_prestat_dir_name", 1, 2000, 10) == ENOTDIR
    _, fd = g.open(3, b"d", oflags=DIRECTORY)
    assert g.call("fd_prestat_get", fd, 1024) == EBADF


def _dirents(data: bytes) -> list[tuple[int, int, bytes]]:
    out, p = [], 0
    while p + 24 <= len(data):
        nxt, _ino, namlen, typ = struct.unpack_from("<QQIB", data, p)
        out.append((nxt, typ, data[p + 24 : p + 24 + namlen]))
        p += 24 + namlen
    return out


def test_readdir_cookies_and_truncation(g: Guest) -> None:
    def readdir(cookie: int, size: int) -> tuple[int, bytes]:
        g.put(4096, b"\xaa" * 300)
        e = g.call("fd_readdir", 3, 4096, size, cookie, 1024)
        return e, g.get(4096, g.u32(1024))

    e, data = readdir(0, 4000)
    entries = _dirents(data)
    assert e == 0 and len(data) == 6 * 24 + 1 + 2 + 3 + 1 + 5 + 2
    assert entries[:2] == [(1, 3, b"."), (2, 3, b"..")]
    assert sorted((t, n) for _, t, n in entries[2:]) == [
        (3, b"d"),
        (4, b"f.txt"),
        (7, b"bad"),
        (7, b"ln"),
    ]
    assert [c for c, _, _ in entries] == [1, 2, 3, 4, 5, 6]
    # resuming at a cookie skips exactly that many entries
    later = _dirents(readdir(3, 4000)[1])
    assert later == entries[3:]
    assert readdir(6, 4000) == (0, b"")
    assert readdir(100, 4000) == (0, b"")
    # a buffer that ends inside an entry gets the entry's first bytes (the guest retries, bigger)
    e, data = readdir(0, 30)
    assert (
        e == 0
        and len(data) == 30
        and data[:24] == struct.pack("<QQIB3x", 1, struct.unpack_from("<Q", data, 8)[0], 1, 3)
    )
    assert readdir(0, 0) == (0, b"")
    _, fd = g.open(3, b"f.txt")
    assert g.call("fd_readdir", fd, 4096, 100, 0, 1024) == EBADF
    assert g.call("fd_readdir", 1, 4096, 100, 0, 1024) == EBADF


# -- paths -------------------------------------------------------------------------------------


def test_path_open_flags(g: Guest) -> None:
    assert g.open(3, b"new", oflags=CREAT | DIRECTORY)[0] == EINVAL
    assert g.open(3, b"d", oflags=DIRECTORY | TRUNC)[0] == EINVAL
    assert g.open(3, b"d", oflags=DIRECTORY | EXCL)[0] == EINVAL
    assert g.open(3, b"new", oflags=CREAT, rights=WRITE)[0] == 0
    assert g.open(3, b"new", oflags=CREAT | EXCL, rights=WRITE)[0] == EEXIST
    assert g.open(3, b"d", rights=WRITE)[0] == EISDIR
    assert g.open(3, b"d", rights=READ)[0] == 0
    assert g.open(3, b"ln", follow=0)[0] == ELOOP
    assert g.open(3, b"ln", follow=FOLLOW)[0] == 0
    assert g.open(3, b"f.txt/")[0] == ENOTDIR
    assert g.open(3, b"zz/", oflags=CREAT, rights=WRITE)[0] == EISDIR
    assert g.open(3, b"d/")[0] == EISDIR
    assert g.open(g.open(3, b"f.txt")[1], b"x")[0] == ENOTDIR
    assert g.open(1, b"x")[0] == EBADF
    assert g.open(77, b"x")[0] == EBADF
    assert g.open(3, b"..")[0] == EPERM
    assert g.open(3, b".")[0] == EISDIR
    assert g.open(3, b"f.txt", oflags=TRUNC, rights=READ)[0] == 0
    assert g.open(3, b"a" * 300)[0] == ENAMETOOLONG
    assert g.open(3, b"nodir/x", oflags=CREAT, rights=WRITE)[0] == ENOENT
    assert g.open(3, b"bad", oflags=CREAT, rights=WRITE)[0] == EPERM
    assert g.open(3, b"")[0] == ENOENT
    for sync in (2, 8, 16):  # DSYNC, RSYNC, SYNC
        assert g.open(3, b"f.txt", rights=READ, fdflags=sync)[0] == ENOTSUP
    e, fd = g.open(3, b"f.txt", rights=READ, fdflags=APPEND | 4)
    assert e == 0 and fdstat(g, fd)[2] == APPEND | 4


def test_path_open_create_truncate(g: Guest, root: Path) -> None:
    e, fd = g.open(3, b"d/new.txt", oflags=CREAT, rights=WRITE)
    assert e == 0 and g.write_fd(fd, b"hello") == (0, 5)
    assert (root / "d" / "new.txt").read_bytes() == b"hello"
    assert g.open(3, b"d/new.txt", oflags=TRUNC, rights=WRITE)[0] == 0
    assert (root / "d" / "new.txt").read_bytes() == b""


def path(g: Guest, text: bytes, at: int = 0) -> tuple[int, int]:
    return at, g.put(at, text)


def test_create_and_remove(g: Guest, root: Path) -> None:
    assert g.call("path_create_directory", 3, *path(g, b"d")) == EEXIST
    assert g.call("path_create_directory", 3, *path(g, b"e/")) == 0
    assert (root / "e").is_dir()
    assert g.call("path_create_directory", 3, *path(g, b".")) == EEXIST
    assert g.call("path_remove_directory", 3, *path(g, b".")) == EINVAL
    assert g.call("path_remove_directory", 3, *path(g, b"d/.")) == EINVAL
    assert g.call("path_remove_directory", 3, *path(g, b"f.txt")) == ENOTDIR
    assert g.call("path_remove_directory", 3, *path(g, b"ln")) == ENOTDIR
    assert g.call("path_remove_directory", 3, *path(g, b"e")) == 0
    assert not (root / "e").exists()
    assert g.call("path_unlink_file", 3, *path(g, b"d")) == EISDIR
    assert g.call("path_unlink_file", 3, *path(g, b"d/")) == EISDIR
    assert g.call("path_unlink_file", 3, *path(g, b"f.txt/")) == ENOTDIR
    assert g.call("path_unlink_file", 3, *path(g, b"nope")) == ENOENT
    assert g.call("path_unlink_file", 3, *path(g, b".")) == EISDIR
    (root / "d" / "x").write_bytes(b"")
    assert g.call("path_remove_directory", 3, *path(g, b"d")) == ENOTEMPTY
    assert g.call("path_unlink_file", 3, *path(g, b"ln")) == 0
    assert not os.path.lexists(root / "ln") and (root / "f.txt").exists()


def test_rename_link_symlink(g: Guest, root: Path) -> None:
    def rename(a: bytes, b: bytes) -> int:
        return g.call("path_rename", 3, *path(g, a, 100), 3, *path(g, b, 200))

    def link(a: bytes, b: bytes, follow: int = 0) -> int:
        return g.call("path_link", 3, follow, *path(g, a, 100), 3, *path(g, b, 200))

    assert rename(b"f.txt", b"d") == EISDIR
    assert rename(b"f.txt", b"d/") == ENOTDIR
    assert rename(b"f.txt", b"g/") == ENOTDIR
    assert rename(b"d", b"f.txt") == ENOTDIR
    assert rename(b"d", b"d/sub") == EINVAL
    assert rename(b"nope", b"x") == ENOENT
    assert rename(b"f.txt", b"d/g.txt") == 0
    assert (root / "d" / "g.txt").read_bytes() == b"0123456789"
    assert rename(b"d", b"e") == 0 and (root / "e" / "g.txt").exists()
    assert link(b"e/g.txt", b"e") == EEXIST
    assert link(b"e", b"e2") == EPERM
    assert link(b"e/g.txt", b"h.txt") == 0
    assert os.stat(root / "h.txt").st_nlink == 2
    assert link(b"ln", b"h2.txt", FOLLOW) == EINVAL
    assert g.call("path_symlink", *path(g, b"x", 100), 3, *path(g, b"ln", 200)) == EEXIST
    assert g.call("path_symlink", *path(g, b"h.txt", 100), 3, *path(g, b"ln2", 200)) == 0
    assert os.readlink(root / "ln2") == "h.txt"


def test_readlink_and_filestat(g: Guest) -> None:
    assert g.call("path_readlink", 3, *path(g, b"ln"), 4096, 3, 1024) == 0
    assert (g.u32(1024), g.get(4096, 3)) == (3, b"f.t")  # truncated to the buffer
    assert g.call("path_readlink", 3, *path(g, b"ln"), 4096, 100, 1024) == 0
    assert g.get(4096, g.u32(1024)) == b"f.txt"
    assert g.call("path_readlink", 3, *path(g, b"f.txt"), 4096, 100, 1024) == EINVAL
    assert g.call("path_filestat_get", 3, 0, *path(g, b"ln"), 1024) == 0
    assert (g.get(1040, 1), g.u64(1056)) == (b"\x07", 5)
    assert g.call("path_filestat_get", 3, FOLLOW, *path(g, b"ln"), 1024) == 0
    assert (g.get(1040, 1), g.u64(1056)) == (b"\x04", 10)
    assert g.call("path_filestat_get", 3, FOLLOW, *path(g, b"f.txt/"), 1024) == ENOTDIR
    assert g.call("path_filestat_get", 3, FOLLOW, *path(g, b"d/"), 1024) == 0
    assert g.call("path_filestat_get", 3, FOLLOW, *path(g, b""), 1024) == ENOENT
    assert g.call("path_filestat_get", 3, FOLLOW, *path(g, b"bad"), 1024) == EPERM


def test_path_set_times(g: Guest, root: Path) -> None:
    assert g.call("path_filestat_set_times", 3, 0, *path(g, b"f.txt"), 0, 0, 3) == EINVAL
    assert (
        g.call("path_filestat_set_times", 3, 0, *path(g, b"f.txt"), 5_000_000_000, 7_000_000_123, 5)
        == 0
    )
    st = os.stat(root / "f.txt")
    assert (st.st_atime_ns, st.st_mtime_ns) == (5_000_000_000, 7_000_000_123)
    before = os.lstat(root / "f.txt").st_mtime_ns
    assert g.call("path_filestat_set_times", 3, 0, *path(g, b"ln"), 0, 1_000_000_000, 4) == 0
    assert os.lstat(root / "ln").st_mtime_ns == 1_000_000_000  # the link itself
    assert os.stat(root / "f.txt").st_mtime_ns == before
    assert g.call("path_filestat_set_times", 3, FOLLOW, *path(g, b"ln"), 0, 2_000_000_000, 4) == 0
    assert os.stat(root / "f.txt").st_mtime_ns == 2_000_000_000


def test_read_only_preopen(engine: str, root: Path) -> None:
    api = api_of(engine)
    config = api.WasiConfig()
    config.preopen_dir(str(root), "/sb", False)
    g = Guest(api, config)
    assert g.open(3, b"f.txt", rights=READ)[0] == 0
    assert g.open(3, b"f.txt", rights=WRITE)[0] == EPERM
    assert g.open(3, b"new", oflags=CREAT, rights=READ)[0] == EPERM
    assert g.call("path_create_directory", 3, *path(g, b"e")) == EPERM
    assert g.call("path_unlink_file", 3, *path(g, b"f.txt")) == EPERM
    assert g.call("path_remove_directory", 3, *path(g, b"d")) == EPERM
    assert g.call("path_rename", 3, *path(g, b"f.txt", 100), 3, *path(g, b"g", 200)) == EPERM
    assert g.call("path_link", 3, 0, *path(g, b"f.txt", 100), 3, *path(g, b"g", 200)) == EPERM
    assert g.call("path_symlink", *path(g, b"f.txt", 100), 3, *path(g, b"g", 200)) == EPERM
    assert g.call("path_filestat_set_times", 3, 0, *path(g, b"f.txt"), 0, 0, 8) == EPERM
    assert g.call("fd_filestat_set_times", 3, 0, 0, 8) == EPERM
    _, fd = g.open(3, b"f.txt", rights=READ)
    assert g.call("fd_filestat_set_times", fd, 0, 0, 8) == EPERM
    assert g.open(3, b"f.txt", oflags=CREAT, rights=READ)[0] == EPERM  # even though it exists
    assert g.open(3, b"f.txt", oflags=TRUNC, rights=READ)[0] == EPERM
    # the rights reported do not change; what would mutate fails instead
    assert fdstat(g, 3) == (0, 3, 0, 0x07B7FE00, 0x0FF7FFFF)
    assert fdstat(g, fd)[3] == 0x3FFFFFBF
    assert sorted(os.listdir(root)) == ["bad", "d", "f.txt", "ln"]


# -- args, environment, clocks, random, poll, the rest ------------------------------------------


def test_args_and_environ(engine: str) -> None:
    api = api_of(engine)
    config = api.WasiConfig()
    config.argv = ["prog", "a b", "ü", ""]
    config.env = [("K", "v=w"), ("EMPTY", "")]
    g = Guest(api, config)
    assert g.call("args_sizes_get", 1024, 1028) == 0
    assert (g.u32(1024), g.u32(1028)) == (4, 5 + 4 + 3 + 1)
    assert g.call("args_get", 2000, 3000) == 0
    ptrs = [g.u32(2000 + 4 * i) for i in range(4)]
    assert g.get(3000, 13) == b"prog\0a b\0\xc3\xbc\0\0"
    assert ptrs == [3000, 3005, 3009, 3012]
    assert g.call("environ_sizes_get", 1024, 1028) == 0
    assert (g.u32(1024), g.u32(1028)) == (2, 6 + 7)
    assert g.call("environ_get", 2000, 3000) == 0
    assert g.get(3000, 13) == b"K=v=w\0EMPTY=\0"


def test_clocks(g: Guest) -> None:
    for clock in (0, 1):
        assert g.call("clock_res_get", clock, 1024) == 0
        assert g.u64(1024) == 1
        assert g.call("clock_time_get", clock, 1, 1024) == 0
    first = g.u64(1024)
    time.sleep(0.002)
    assert g.call("clock_time_get", 1, 1, 1024) == 0
    assert g.u64(1024) > first  # monotonic; its origin is the engine's own
    assert g.call("clock_time_get", 0, 1, 1024) == 0
    assert abs(g.u64(1024) - time.time_ns()) < 10**9
    for clock in (2, 3):  # no CPU-time clocks in Wasmtime
        assert g.call("clock_res_get", clock, 1024) == EBADF
        assert g.call("clock_time_get", clock, 1, 1024) == EBADF


def test_random(g: Guest) -> None:
    g.put(4096, bytes(64))
    assert g.call("random_get", 4096, 64) == 0
    assert g.get(4096, 64) != bytes(64)
    assert g.call("random_get", 0, 65536) == 0


def _clock_sub(userdata: int, clock: int, timeout: int, flags: int = 0) -> bytes:
    return struct.pack("<QB7xIxxxxQQH6x", userdata, 0, clock, timeout, 0, flags)


def _fd_sub(userdata: int, kind: int, fd: int) -> bytes:
    return struct.pack("<QB7xI28x", userdata, kind, fd)


def test_poll_clock_really_sleeps(g: Guest) -> None:
    g.put(0, _clock_sub(7, 1, 30_000_000))
    start = time.monotonic()
    assert g.call("poll_oneoff", 0, 1024, 1, 2000) == 0
    assert time.monotonic() - start >= 0.029
    assert g.u32(2000) == 1
    assert g.get(1024, 32) == struct.pack("<QHB5xQH6x", 7, 0, 0, 0, 0)
    # an absolute realtime deadline in the past is ready at once
    g.put(0, _clock_sub(8, 0, 1, flags=1))
    assert g.call("poll_oneoff", 0, 1024, 1, 2000) == 0 and g.u32(2000) == 1 and g.u64(1024) == 8


def test_poll_descriptors(g: Guest) -> None:
    _, fd = g.open(3, b"f.txt", rights=READ | WRITE)
    for kind, target in ((2, 1), (2, 2), (1, 0), (2, fd), (1, fd)):
        g.put(0, _fd_sub(5, kind, target))
        g.put(1024, b"\xee" * 32)
        assert g.call("poll_oneoff", 0, 1024, 1, 2000) == 0
        assert g.u32(2000) == 1
        # userdata, errno 0, type; padding untouched; nbytes 1; flags 0
        assert (
            g.get(1024, 32)
            == struct.pack("<QHB", 5, 0, kind)
            + b"\xee" * 5
            + struct.pack("<QH", 1, 0)
            + b"\xee" * 6
        )
    for kind, target in ((1, 3), (2, 3), (2, 0), (1, 1), (1, 99)):
        g.put(0, _fd_sub(5, kind, target))
        assert g.call("poll_oneoff", 0, 1024, 1, 2000) == EBADF
    # a ready descriptor ends the wait before a far deadline
    g.put(0, _fd_sub(1, 2, 1) + _clock_sub(2, 1, 10**12))
    assert g.call("poll_oneoff", 0, 1024, 2, 2000) == 0
    assert g.u32(2000) == 1 and g.u64(1024) == 1


def test_poll_bad_requests(g: Guest) -> None:
    assert g.call("poll_oneoff", 0, 1024, 0, 2000) == EINVAL
    g.put(0, _clock_sub(8, 5, 0))
    assert g.call("poll_oneoff", 0, 1024, 1, 2000) == EINVAL


def test_sockets_sched_yield(g: Guest) -> None:
    assert g.call("sock_accept", 3, 0, 1024) == ENOTSOCK
    assert g.call("sock_accept", 99, 0, 1024) == EBADF
    assert g.call("sock_recv", 0, 0, 0, 0, 1024, 1028) == ENOTSOCK
    assert g.call("sock_send", 1, 0, 0, 0, 1024) == ENOTSOCK
    assert g.call("sock_shutdown", 3, 0) == ENOTSOCK
    assert g.call("sched_yield") == 0


def test_proc_exit_and_raise(engine: str) -> None:
    api = api_of(engine)
    g = Guest(api, api.WasiConfig())
    with pytest.raises(api.ExitTrap) as info:
        g.call("proc_exit", 7)
    assert info.value.code == 7
    assert g.call("proc_raise", 6) == ENOTSUP


def test_streams_redirected_to_files(engine: str, tmp_path: Path) -> None:
    api = api_of(engine)
    config: Any = api.WasiConfig()
    (tmp_path / "in").write_bytes(b"abc")
    config.stdin_file = str(tmp_path / "in")
    config.stdout_file = str(tmp_path / "out")
    config.stderr_file = str(tmp_path / "err")
    g = Guest(api, config)
    assert g.read_fd(0, 2) == (0, b"ab")
    assert g.read_fd(0, 10) == (0, b"c")
    assert g.read_fd(0, 10) == (0, b"")
    assert g.write_fd(1, b"out!") == (0, 4)
    assert g.write_fd(2, b"err!") == (0, 4)
    del g, config
    assert (tmp_path / "out").read_bytes() == b"out!"
    assert (tmp_path / "err").read_bytes() == b"err!"
