"""Bad guest arguments, non-UTF-8 bytes, and host failures: where wasmdbg must not break.

These are wasmdbg's own answers, some deliberately different from
Wasmtime's (each test says where): Wasmtime traps on an out-of-bounds
pointer or an invalid enum value and allocates for a huge iovec count
(``ENOMEM``); wasmdbg returns ``EFAULT`` / ``EINVAL`` before touching or
allocating anything.  Wasmtime refuses non-UTF-8 paths (``EILSEQ``);
wasmdbg passes them through as bytes.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from wasi_guest import Guest, wasmtime_cli

import wasmdbg

EFAULT, EILSEQ, EINVAL, EIO, ENAMETOOLONG, ENOSPC = 21, 25, 28, 29, 37, 51
READ, WRITE = 1 << 1, 1 << 6
MiB = 1 << 20


def guest(config: wasmdbg.WasiConfig | None = None) -> Guest:
    return Guest(wasmdbg, config or wasmdbg.WasiConfig())


def peak_allocation(fn: object) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()  # type: ignore[operator]
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_random_get_of_4_gib_is_efault_without_allocating() -> None:
    g = guest()
    result, peak = peak_allocation(lambda: g.call("random_get", 0, 0xFFFF_FFFF))
    assert result == EFAULT
    assert peak < 64 * 1024
    assert g.call("random_get", -1, 1) == EFAULT  # a negative i32 is an address near 4 GiB


def test_random_get_fills_large_buffers_in_bounded_chunks() -> None:
    g = guest()
    g.memory.grow(g.store, 255)  # 16 MiB
    result, peak = peak_allocation(lambda: g.call("random_get", 0, 16 * MiB))
    assert result == 0
    assert peak < 3 * MiB
    assert g.get(16 * MiB - 64, 64) != bytes(64)


@pytest.mark.parametrize("count", [1025, 0x7FFF_FFFF, 0xFFFF_FFFF])
def test_huge_iovec_counts_are_einval_at_once(count: int) -> None:
    # NB: Wasmtime allocates for the count and answers ENOMEM
    g = guest()
    for name in ("fd_read", "fd_write"):
        result, peak = peak_allocation(lambda name=name: g.call(name, 1, 0, count, 1024))
        assert result == EINVAL
        assert peak < 64 * 1024


def test_out_of_bounds_pointers_are_efault() -> None:
    # NB: Wasmtime traps ("pointer out of bounds") instead
    g = guest()
    g.iovec(512, (65000, 1000))
    assert g.call("fd_write", 1, 512, 1, 1024) == EFAULT  # a buffer past the end
    assert g.call("fd_write", 1, 65530, 1, 1024) == EFAULT  # the iovec array past the end
    g.iovec(512, (4096, 1))
    assert g.call("fd_write", 1, 512, 1, 65534) == EFAULT  # the result pointer
    assert g.call("args_sizes_get", 65534, 0) == EFAULT
    assert g.call("clock_time_get", 0, 1, 65530) == EFAULT
    assert g.call("fd_fdstat_get", 1, 65530) == EFAULT
    assert g.call("poll_oneoff", 65500, 0, 2, 1024) == EFAULT


def test_args_get_checks_before_writing() -> None:
    config = wasmdbg.WasiConfig()
    config.argv = ["a", "b" * 100]
    g = guest(config)
    g.put(65500, b"\xee" * 36)
    assert g.call("args_get", 1024, 65500) == EFAULT  # 103 bytes of strings do not fit
    assert g.get(65500, 36) == b"\xee" * 36
    assert g.get(1024, 8) == bytes(8)


def test_long_paths_and_many_subscriptions_are_refused_before_copying(tmp_path: Path) -> None:
    config = wasmdbg.WasiConfig()
    config.preopen_dir(str(tmp_path), "/sb")
    g = guest(config)
    g.memory.grow(g.store, 63)  # 4 MiB
    result, peak = peak_allocation(lambda: g.call("path_open", 3, 0, 0, 4 * MiB, 0, 2, 2, 0, 1024))
    assert result == ENAMETOOLONG
    assert peak < 64 * 1024
    assert g.call("poll_oneoff", 0, 0, 1 << 16, 1024) == EINVAL


def test_invalid_enum_values_are_einval(tmp_path: Path) -> None:
    # NB: Wasmtime traps ("invalid enum value") instead
    config = wasmdbg.WasiConfig()
    config.preopen_dir(str(tmp_path), "/sb")
    (tmp_path / "f").write_bytes(b"x")
    g = guest(config)
    _, fd = g.open(3, b"f")
    assert g.call("clock_time_get", 9, 0, 1024) == EINVAL
    assert g.call("fd_seek", fd, 0, 3, 1024) == EINVAL
    assert g.call("fd_advise", fd, 0, 0, 6) == EINVAL
    assert g.call("fd_fdstat_set_flags", fd, 32) == EINVAL
    assert g.call("fd_filestat_set_times", fd, 0, 0, 16) == EINVAL
    assert g.open(3, b"f", oflags=16)[0] == EINVAL
    assert g.open(3, b"f", fdflags=32)[0] == EINVAL


def test_large_writes_reach_a_callback_in_chunks() -> None:
    chunks: list[int] = []
    config = wasmdbg.WasiConfig()
    config.stdout_custom = lambda data: chunks.append(len(data))
    g = guest(config)
    g.memory.grow(g.store, 63)
    g.iovec(512, (4096, 3 * MiB))
    assert g.call("fd_write", 1, 512, 1, 1024) == 0 and g.u32(1024) == 3 * MiB
    assert chunks == [MiB, MiB, MiB]


def test_non_utf8_arguments_and_environment() -> None:
    config = wasmdbg.WasiConfig()
    config.argv = [b"prog", b"\xff\xfe", os.fsdecode(b"\xe9t\xe9")]
    config.env = [(b"RAW", b"\x80\x81"), ("TEXT", "ü")]
    g = guest(config)
    assert g.call("args_sizes_get", 1024, 1028) == 0 and (g.u32(1024), g.u32(1028)) == (
        3,
        5 + 3 + 4,
    )
    assert g.call("args_get", 2000, 3000) == 0
    assert g.get(3000, 12) == b"prog\0\xff\xfe\0\xe9t\xe9\0"
    assert g.call("environ_get", 2000, 3000) == 0
    assert g.get(3000, 15) == b"RAW=\x80\x81\0TEXT=\xc3\xbc\0"
    assert config.argv[1] == b"\xff\xfe"
    with pytest.raises(TypeError):
        config.argv = [1]  # type: ignore[list-item]


def test_non_utf8_words_reach_the_guest_through_the_cli(tmp_path: Path) -> None:
    # NB: `wasmtime run` refuses such words ("invalid UTF-8 was detected in one or more arguments")
    wat = Path(__file__).resolve().parents[1] / "programs" / "wasi" / "echo.wat"
    proc = subprocess.run(
        [
            os.fsencode(sys.executable),
            b"-m",
            b"wasmdbg",
            b"run",
            b"--env",
            b"K=v\xfe",
            os.fsencode(wat),
            b"a\xffb",
            b"x",
        ],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == os.fsencode(wat) + b"\0a\xffb\0x\0K=v\xfe\0"


def test_inherited_environment_keeps_raw_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environb, b"WASMDBG_RAW_TEST", b"\xff")
    config = wasmdbg.WasiConfig()
    config.inherit_env()
    g = guest(config)
    assert g.call("environ_sizes_get", 1024, 1028) == 0
    count, size = g.u32(1024), g.u32(1028)
    g.memory.grow(g.store, 2 + size // 65536)
    assert g.call("environ_get", 65536, 2 * 65536) == 0
    assert b"WASMDBG_RAW_TEST=\xff\0" in g.get(2 * 65536, size)
    assert count == len(os.environb)


def test_non_utf8_file_names(tmp_path: Path) -> None:
    # NB: Wasmtime answers EILSEQ for a name that is not UTF-8
    (tmp_path / os.fsdecode(b"\xff.txt")).write_bytes(b"raw")
    config = wasmdbg.WasiConfig()
    config.preopen_dir(str(tmp_path), "/sb")
    g = guest(config)
    e, fd = g.open(3, b"\xff.txt")
    assert e == 0 and g.read_fd(fd, 10) == (0, b"raw")
    assert g.open(3, b"\xfe\xfd", oflags=1, rights=WRITE)[0] == 0
    assert os.path.exists(tmp_path / os.fsdecode(b"\xfe\xfd"))
    assert g.call("fd_readdir", 3, 4096, 4000, 2, 1024) == 0
    data = g.get(4096, g.u32(1024))
    names, p = set(), 0
    while p < len(data):
        namlen = struct.unpack_from("<I", data, p + 16)[0]
        names.add(data[p + 24 : p + 24 + namlen])
        p += 24 + namlen
    assert names == {b"\xff.txt", b"\xfe\xfd"}


def test_host_errors_are_errnos() -> None:
    def full(data: bytes) -> None:
        raise OSError(28, "No space left on device")

    config = wasmdbg.WasiConfig()
    config.stdout_custom = full
    g = guest(config)
    assert g.write_fd(1, b"x")[0] == ENOSPC
    with open(os.devnull, "rb") as null:
        config = wasmdbg.WasiConfig()
        g = guest(config)
        ctx_table = wasmdbg.runtime.wasi.state.wasi_ctx(g.store).table
        stdout = ctx_table.get(1)
        stdout.sink.fd = null.fileno()  # type: ignore[union-attr]  # a descriptor opened read-only
        assert g.write_fd(1, b"x")[0] == 8  # EBADF from the host


def test_a_bug_in_a_host_function_is_a_clean_trap() -> None:
    def broken(data: bytes) -> None:
        raise KeyError("oops")

    config = wasmdbg.WasiConfig()
    config.stdout_custom = broken
    g = guest(config)
    with pytest.raises(wasmdbg.Trap, match="wasi fd_write: internal error: KeyError"):
        g.write_fd(1, b"x")
    assert g.write_fd(2, b"x") == (0, 1)  # the Store stays usable


def test_missing_memory_export_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (func (export "_start")
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"""
    wasm = tmp_path / "nomem.wasm"
    wasm.write_bytes(_wat2wasm(wat))
    cli = wasmtime_cli(tmp_path)
    expected = subprocess.run([cli, "run", str(wasm)], capture_output=True, timeout=60)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(wasm)], capture_output=True, timeout=60
    )
    assert proc.returncode == expected.returncode == 1
    assert proc.stderr.splitlines()[0] == expected.stderr.splitlines()[0]
    assert b"missing required memory export" in proc.stderr
    assert b"Traceback" not in proc.stderr
    exit_only = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func (export "_start") (call $exit (i32.const 3))))"""
    wasm.write_bytes(_wat2wasm(exit_only))
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(wasm)], capture_output=True, timeout=60
    )
    assert (proc.returncode, proc.stderr) == (3, b"")


def _wat2wasm(text: str) -> bytes:
    import wasmtime

    return bytes(wasmtime.wat2wasm(text))
