"""The path resolver (runtime/wasi/fs.py): escapes, symlink semantics, descriptor hygiene.

Layout under the root (``tmp_path / "root"``; ``tmp_path / "secret"`` is outside)::

    a/b/c.txt   a/up -> ..   a/deep -> b   out -> ../secret   abs -> /etc
    self -> self   slash -> a/b/   file.txt
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmdbg.runtime.wasi.abi import Errno
from wasmdbg.runtime.wasi.errno import WasiErrno, errno_of
from wasmdbg.runtime.wasi.fs import MAX_SYMLINKS, resolve


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def root(tmp_path: Path) -> Iterator[int]:
    top = tmp_path / "root"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "c.txt").write_bytes(b"c")
    (top / "file.txt").write_bytes(b"f")
    (tmp_path / "secret").write_bytes(b"SECRET")
    os.symlink("..", top / "a" / "up")
    os.symlink("b", top / "a" / "deep")
    os.symlink("../secret", top / "out")
    os.symlink("/etc", top / "abs")
    os.symlink("self", top / "self")
    os.symlink("a/b/", top / "slash")
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    before = open_fds()
    yield fd
    assert open_fds() == before, "the resolver leaked descriptors"
    os.close(fd)


def where(root: int, path: bytes, follow: bool = True) -> tuple[bytes, bytes, bool] | Errno:
    """(the directory's name relative to the root, the last name, trailing slash), or the errno."""
    try:
        with resolve(root, path, follow=follow) as r:
            names = {os.stat(p, dir_fd=root).st_ino: p for p in (b".", b"a", b"a/b")}
            return names.get(os.stat(r.dir_fd).st_ino, b"?"), r.name, r.trailing_slash
    except WasiErrno as exc:
        return exc.errno
    except OSError as exc:
        return errno_of(exc)


@pytest.mark.parametrize(
    ("path", "follow", "expected"),
    [
        (b"file.txt", True, (b".", b"file.txt", False)),
        (b"a/b/c.txt", True, (b"a/b", b"c.txt", False)),
        (b"a//b/./c.txt", True, (b"a/b", b"c.txt", False)),
        (b"a/b/../b/c.txt", True, (b"a/b", b"c.txt", False)),
        (b"a/b/", True, (b"a", b"b", True)),  # the caller checks that it is a directory
        (b"a/b/..", True, (b"a", b".", False)),
        (b".", True, (b".", b".", False)),
        (b"a/deep/c.txt", True, (b"a/b", b"c.txt", False)),
        (b"a/deep", False, (b"a", b"deep", False)),  # the link itself
        (b"a/deep", True, (b"a", b"b", False)),  # followed: its target's name
        (b"a/deep/..", True, (b"a", b".", False)),  # `..` after a symlink is the target's parent
        (b"a/up/file.txt", True, (b".", b"file.txt", False)),  # a/up -> .. stays inside
        (b"a/up/a/up/a/b/c.txt", True, (b"a/b", b"c.txt", False)),
        (b"..", True, Errno.PERM),
        (b"a/../..", True, Errno.PERM),
        (b"a/up/..", True, Errno.PERM),
        (b"a/up/up", True, (b".", b"up", False)),  # no `up` at the root: the operation says ENOENT
        (b"/etc/passwd", True, Errno.PERM),
        (b"/", True, Errno.PERM),
        (b"out", True, Errno.PERM),
        (b"out", False, (b".", b"out", False)),
        (b"abs/passwd", True, Errno.PERM),
        (b"abs", True, Errno.PERM),
        (b"slash", True, (b"a", b"b", True)),  # a target ending in / must be a directory
        (b"self", True, Errno.LOOP),
        (b"self/x", True, Errno.LOOP),
        (b"file.txt/x", True, Errno.NOTDIR),
        (b"missing/x", True, Errno.NOENT),
        (b"", True, Errno.NOENT),
        (b"a\0b", True, Errno.INVAL),
    ],
)
def test_resolution(root: int, path: bytes, follow: bool, expected: object) -> None:
    assert where(root, path, follow) == expected


def test_symlink_expansion_limit(root: int, tmp_path: Path) -> None:
    top = tmp_path / "root"
    for i in range(MAX_SYMLINKS + 1):
        os.symlink(f"l{i + 1}" if i < MAX_SYMLINKS else "file.txt", top / f"l{i}")
    assert where(root, b"l1") == (b".", b"file.txt", False)  # 40 expansions
    assert where(root, b"l0") == Errno.LOOP  # 41


def test_a_component_swapped_for_a_symlink_between_calls(root: int, tmp_path: Path) -> None:
    top = tmp_path / "root"
    assert where(root, b"a/b/c.txt") == (b"a/b", b"c.txt", False)
    os.rename(top / "a", top / "a.real")
    os.symlink("..", top / "a")  # what was a directory now points out
    assert where(root, b"a/b/c.txt") == Errno.PERM
    assert where(root, b"a/secret") == Errno.PERM


def test_a_directory_descriptor_is_its_own_root(root: int) -> None:
    sub = os.open(b"a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=root)
    try:
        assert where(sub, b"b/c.txt") != Errno.PERM
        assert where(sub, b"..") == Errno.PERM
        assert where(sub, b"up/file.txt") == Errno.PERM
    finally:
        os.close(sub)


def test_no_descriptor_leaks_on_errors(root: int) -> None:
    before = open_fds()
    for path in (
        b"a/b/../../..",
        b"a/b/c.txt/x",
        b"a/up/up",
        b"self",
        b"a/deep/../up/../..",
        b"out",
    ):
        for _ in range(50):
            where(root, path)
    assert open_fds() == before


def test_trailing_slash_never_follows_an_escaping_link(tmp_path: Path) -> None:
    """mkdir/rename/unlink/symlink/link/rmdir on "link/", link pointing out: nothing outside changes.

    The errnos are Wasmtime's, call for call.
    """
    expected = _slash_answers("wasmtime", tmp_path / "wasmtime")
    assert _slash_answers("wasmdbg", tmp_path / "wasmdbg") == expected
    assert 0 not in expected


def _slash_answers(engine: str, tmp_path: Path) -> list[int]:
    from wasi_guest import Guest, api_of

    top = tmp_path / "sb"
    (top / "src_d").mkdir(parents=True)
    (top / "f").write_bytes(b"f")
    (tmp_path / "out").mkdir()
    os.symlink("../out", top / "lnk")
    os.symlink("../out/new", top / "dangling")
    api = api_of(engine)
    config = api.WasiConfig()
    config.preopen_dir(str(top), "/sb")
    g = Guest(api, config)

    def put(a: bytes, b: bytes = b"") -> tuple[int, int, int, int]:
        return 0, g.put(0, a), 300, g.put(300, b)

    answers = []
    for name in (b"lnk/", b"dangling/", b"dangling/x/", b"lnk//"):
        p, n, _, _ = put(name)
        answers.append(g.call("path_create_directory", 3, p, n))
        answers.append(g.call("path_unlink_file", 3, p, n))
        answers.append(g.call("path_remove_directory", 3, p, n))
        for src in (b"src_d", b"f"):
            p1, n1, p2, n2 = put(src, name)
            answers.append(g.call("path_rename", 3, p1, n1, 3, p2, n2))
            answers.append(g.call("path_link", 3, 0, p1, n1, 3, p2, n2))
        p1, n1, p2, n2 = put(name, b"x")
        answers.append(g.call("path_symlink", p2, n2, 3, p1, n1))
    assert os.listdir(tmp_path / "out") == []
    assert sorted(os.listdir(top)) == ["dangling", "f", "lnk", "src_d"]
    return answers
