"""Random path and descriptor calls on wasmdbg and on wasmtime-py: the same answers, the same tree.

Paths are built from a few names that exist, do not exist, are symlinks
(to a file, to a directory, out of the sandbox, to themselves) or are
``.``/``..``, joined by one or two slashes and sometimes ending in one.
Each case is a seeded sequence of calls (``path_open`` with assorted
flags, ``path_filestat_get``, ``mkdir``, ``unlink``, ``rmdir``, ``rename``,
``symlink``, ``readlink``, ``link``) applied to a fresh tree in each
engine; after every call the answers must agree, and at the end so must
every file, directory and link under the preopen *and beside it*.  The
descriptor cases do the same with reads, writes, seeks, renumbering,
closing, flags, sizes and directory listings on random descriptors.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from wasi_guest import Guest, api_of

NAMES = [b"a", b"b", b"d", b"..", b".", b"ln", b"dl", b"bad", b"f", b"", b"self", b"up", b"x"]
OPS = ["open", "stat", "mkdir", "unlink", "rmdir", "rename", "symlink", "readlink", "link"]


def plant(sandbox: Path) -> None:
    (sandbox / "d" / "a").mkdir(parents=True)
    (sandbox / "f").write_bytes(b"0123")
    (sandbox / "d" / "b").write_bytes(b"b")
    for name, target in (
        ("ln", "f"),
        ("dl", "d"),
        ("bad", "../x"),
        ("self", "self"),
        ("d/up", ".."),
    ):
        os.symlink(target, sandbox / name)


def snapshot(top: Path) -> list[tuple[str, str, bytes]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(top))
            if full.is_symlink():
                out.append((rel, "link", os.fsencode(os.readlink(full))))
            elif full.is_dir():
                out.append((rel, "dir", b""))
            else:
                out.append((rel, "file", full.read_bytes()))
    return sorted(out)


def random_path(rng: random.Random) -> bytes:
    length = rng.choices([1, 2, 3, 4], weights=[5, 3, 2, 1])[0]
    path = b"/".join(rng.choice(NAMES) for _ in range(length))
    return path + b"/" if rng.random() < 0.2 else path


def call(g: Guest, op: str, p1: bytes, p2: bytes, follow: int, oflags: int, rights: int) -> Any:
    g.put(0, p1)
    g.put(300, p2)
    n1, n2 = len(p1), len(p2)
    try:
        if op == "open":
            e = g.call("path_open", 3, follow, 0, n1, oflags, rights, rights, 0, 1024)
            if e == 0:
                g.call("fd_close", g.u32(1024))
            return e
        if op == "stat":
            e = g.call("path_filestat_get", 3, follow, 0, n1, 1024)
            return e, g.get(1040, 1) if e == 0 else None
        if op == "readlink":
            e = g.call("path_readlink", 3, 0, n1, 2000, 100, 1024)
            return e, g.get(2000, g.u32(1024)) if e == 0 else None
        if op == "rename":
            return g.call("path_rename", 3, 0, n1, 3, 300, n2)
        if op == "symlink":
            return g.call("path_symlink", 300, n2, 3, 0, n1)
        if op == "link":
            return g.call("path_link", 3, 0, 0, n1, 3, 300, n2)
        name = {
            "mkdir": "path_create_directory",
            "unlink": "path_unlink_file",
            "rmdir": "path_remove_directory",
        }[op]
        return g.call(name, 3, 0, n1)
    except Exception as exc:  # a trap on either side is an answer to compare
        return f"trap: {type(exc).__name__}"


def run(
    engine: str, top: Path, seed: int, steps: int
) -> tuple[list[Any], list[tuple[str, str, bytes]]]:
    sandbox = top / "sb"
    sandbox.mkdir(parents=True)
    plant(sandbox)
    api = api_of(engine)
    config = api.WasiConfig()
    config.preopen_dir(str(sandbox), "/sb")
    g = Guest(api, config)
    rng = random.Random(seed)
    answers = []
    for _ in range(steps):
        op = rng.choice(OPS)
        args = (
            random_path(rng),
            random_path(rng),
            rng.randrange(2),
            rng.choice([0, 1, 2, 8, 5, 9]),
        )
        rights = rng.choice([2, 64, 66, 1 << 14])
        answers.append((op, *args, call(g, op, *args, rights)))
    return answers, snapshot(top)


@pytest.mark.parametrize("seed", range(24))
def test_random_path_operations_match_wasmtime(seed: int, tmp_path: Path) -> None:
    expected, expected_tree = run("wasmtime", tmp_path / "wasmtime", seed, 50)
    got, got_tree = run("wasmdbg", tmp_path / "wasmdbg", seed, 50)
    for want, have in zip(expected, got, strict=True):
        assert have == want  # (op, path, other path, follow, oflags, answer)
    assert got_tree == expected_tree
    assert any(_errno(a[-1]) != 0 for a in got)


def _errno(answer: Any) -> Any:
    return answer[0] if isinstance(answer, tuple) else answer


def test_the_random_cases_succeed_often_enough(tmp_path: Path) -> None:
    """Guard against a generator that only ever produces failing calls."""
    answers = [a for seed in range(6) for a in run("wasmdbg", tmp_path / str(seed), seed, 50)[0]]
    successes = [a for a in answers if _errno(a[-1]) == 0]
    assert len(successes) >= len(answers) // 20
    assert {a[0] for a in successes} >= {"open", "stat", "mkdir", "symlink"}


# -- descriptor operations ---------------------------------------------------------------------


def fd_step(g: Guest, rng: random.Random) -> tuple[Any, ...]:
    """One random descriptor call on one of fds 0-7 or 9; returns what it did and got."""
    op = rng.randrange(14)
    fd = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9])

    def call(name: str, *args: int) -> Any:
        try:
            return g.call(name, *args)
        except Exception as exc:  # a trap on either side is an answer to compare
            return f"trap: {type(exc).__name__}"

    if op == 0:
        name, oflags = rng.choice([b"f", b"g", b"d", b"h"]), rng.choice([0, 1, 8, 9, 2])
        rights, fdflags = rng.choice([2, 64, 66, 0, 1 << 14]), rng.choice([0, 1, 4])
        e = call("path_open", 3, 1, 0, g.put(0, name), oflags, rights, rights, fdflags, 1024)
        return ("open", name, oflags, rights, fdflags, e, g.u32(1024) if e == 0 else None)
    if op in (1, 5):
        n, offset = rng.choice([0, 1, 5, 100]), rng.choice([0, 2, 9, 1000])
        g.put(4096, bytes(100))
        g.iovec(512, (4096, n))
        e = (
            call("fd_read", fd, 512, 1, 1024)
            if op == 1
            else call("fd_pread", fd, 512, 1, offset, 1024)
        )
        return (
            "read" if op == 1 else "pread",
            fd,
            n,
            offset,
            e,
            g.get(4096, g.u32(1024)) if e == 0 else None,
        )
    if op in (2, 6):
        data, offset = rng.choice([b"", b"x", b"hello", b"0123456789abc"]), rng.choice([0, 2, 20])
        g.put(4096, data)
        g.iovec(512, (4096, len(data)))
        e = (
            call("fd_write", fd, 512, 1, 1024)
            if op == 2
            else call("fd_pwrite", fd, 512, 1, offset, 1024)
        )
        return (
            "write" if op == 2 else "pwrite",
            fd,
            data,
            offset,
            e,
            g.u32(1024) if e == 0 else None,
        )
    if op == 3:
        offset, whence = rng.choice([0, 3, -2, 100, -100]), rng.choice([0, 1, 2])
        e = call("fd_seek", fd, offset, whence, 1024)
        return ("seek", fd, offset, whence, e, g.u64(1024) if e == 0 else None)
    if op == 4:
        e = call("fd_tell", fd, 1024)
        return ("tell", fd, e, g.u64(1024) if e == 0 else None)
    if op == 7:
        return ("close", fd, call("fd_close", fd))
    if op == 8:
        to = rng.choice([0, 3, 4, 5, 6, 9])
        return ("renumber", fd, to, call("fd_renumber", fd, to))
    if op == 9:
        e = call("fd_fdstat_get", fd, 1024)
        return ("fdstat", fd, e, g.get(1024, 24) if e == 0 else None)
    if op == 10:
        flags = rng.choice([0, 1, 4, 5])
        return ("set_flags", fd, flags, call("fd_fdstat_set_flags", fd, flags))
    if op == 11:
        e = call("fd_filestat_get", fd, 1024)
        return (
            "filestat",
            fd,
            e,
            g.get(1040, 1) + g.get(1048, 16) if e == 0 else None,
        )  # type, nlink, size
    if op == 12:
        size = rng.choice([0, 2, 30])
        return ("set_size", fd, size, call("fd_filestat_set_size", fd, size))
    cookie = rng.choice([0, 1, 2, 3, 7])
    e = call("fd_readdir", fd, 4096, 200, cookie, 1024)
    return ("readdir", fd, cookie, e, g.u32(1024) if e == 0 else None)


def run_fds(
    engine: str, top: Path, seed: int, steps: int
) -> tuple[list[Any], list[tuple[str, str, bytes]]]:
    sandbox = top / "sb"
    (sandbox / "d").mkdir(parents=True)
    (sandbox / "f").write_bytes(b"0123456789")
    api = api_of(engine)
    config = api.WasiConfig()
    config.preopen_dir(str(sandbox), "/sb")
    config.stdout_file = str(top / "stdout")
    g = Guest(api, config)
    rng = random.Random(seed)
    answers = [fd_step(g, rng) for _ in range(steps)]
    del g, config  # flushes and closes stdout_file
    return answers, snapshot(top)


@pytest.mark.parametrize("seed", range(24))
def test_random_descriptor_operations_match_wasmtime(seed: int, tmp_path: Path) -> None:
    expected, expected_tree = run_fds("wasmtime", tmp_path / "wasmtime", seed, 60)
    got, got_tree = run_fds("wasmdbg", tmp_path / "wasmdbg", seed, 60)
    for want, have in zip(expected, got, strict=True):
        assert have == want
    assert got_tree == expected_tree
