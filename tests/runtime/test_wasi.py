"""WASI preview 1, compared with wasmtime's implementation on the same programs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import wasmtime as real_wasmtime

import wasmdbg

ENGINES = [pytest.param(wasmdbg, id="wasmdbg"), pytest.param(real_wasmtime, id="wasmtime")]

# Prints its arguments and environment, one per line, to stdout; "err" to stderr;
# checks a clock and random_get; echoes stdin; exits with argc.
PROGRAM = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\\n")
  (data (i32.const 20) "err")
  (global $status (export "status") (mut i32) (i32.const 0))

  ;; write(fd, ptr, len) through one iovec at 0
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n))

  ;; print count NUL-terminated strings whose pointers are at $ptrs
  (func $print_all (param $ptrs i32) (param $count i32) (local $i i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $s (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
      (call $write (i32.const 1) (local.get $s) (call $strlen (local.get $s)))
      (call $write (i32.const 1) (i32.const 16) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  (func (export "_start") (local $argc i32) (local $n i32)
    ;; arguments: counts at 100/104, pointers at 1000, strings at 2000
    (drop (call $args_sizes (i32.const 100) (i32.const 104)))
    (local.set $argc (i32.load (i32.const 100)))
    (drop (call $args_get (i32.const 1000) (i32.const 2000)))
    (call $print_all (i32.const 1000) (local.get $argc))
    ;; environment: pointers at 3000, strings at 4000
    (drop (call $env_sizes (i32.const 108) (i32.const 112)))
    (drop (call $env_get (i32.const 3000) (i32.const 4000)))
    (call $print_all (i32.const 3000) (i32.load (i32.const 108)))
    (call $write (i32.const 2) (i32.const 20) (i32.const 3))
    ;; status bits: 1 clock ok, 2 random ok, 4 no preopen (EBADF), 8 path_open fails, 16 bad fd EBADF
    (if (i32.eqz (call $clock (i32.const 0) (i64.const 1) (i32.const 120)))
      (then (if (i64.gt_u (i64.load (i32.const 120)) (i64.const 1600000000000000000))
        (then (global.set $status (i32.const 1))))))
    (if (i32.eqz (call $random (i32.const 128) (i32.const 16)))
      (then (global.set $status (i32.or (global.get $status) (i32.const 2)))))
    (if (i32.eq (call $prestat (i32.const 3) (i32.const 200)) (i32.const 8))
      (then (global.set $status (i32.or (global.get $status) (i32.const 4)))))
    (if (i32.ne (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 1)
                   (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 204)) (i32.const 0))
      (then (global.set $status (i32.or (global.get $status) (i32.const 8)))))
    (if (i32.eq (call $fd_write (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 8)) (i32.const 8))
      (then (global.set $status (i32.or (global.get $status) (i32.const 16)))))
    ;; echo stdin (up to 64 bytes)
    (i32.store (i32.const 0) (i32.const 5000))
    (i32.store (i32.const 4) (i32.const 64))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (local.set $n (i32.load (i32.const 8)))
    (call $write (i32.const 1) (i32.const 5000) (local.get $n))
    (call $exit (local.get $argc)))
)
"""


def _run(api: ModuleType, tmp_path: Path) -> tuple[int, int, bytes, bytes]:
    engine = api.Engine()
    store = api.Store(engine)
    config = api.WasiConfig()
    config.argv = ["prog", "a b", "ü"]
    config.env = [("K", "v"), ("EMPTY", "")]
    (tmp_path / "in.txt").write_bytes(b"input!")
    config.stdin_file = str(tmp_path / "in.txt")
    config.stdout_file = str(tmp_path / "out.txt")
    err: list[bytes] = []
    config.stderr_custom = err.append
    store.set_wasi(config)
    linker = api.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, api.Module(engine, PROGRAM))
    with pytest.raises(api.ExitTrap) as info:
        instance.exports(store)["_start"](store)
    status = instance.exports(store)["status"].value(store)
    return info.value.code, status, (tmp_path / "out.txt").read_bytes(), b"".join(err)


@pytest.mark.parametrize("api", ENGINES)
def test_program(api: ModuleType, tmp_path: Path) -> None:
    code, status, out, err = _run(api, tmp_path)
    assert code == 3
    assert out == "prog\na b\nü\nK=v\nEMPTY=\ninput!".encode()
    assert err == b"err"
    assert status == 1 | 2 | 4 | 8 | 16


def test_exit_trap_is_a_wasm_error(tmp_path: Path) -> None:
    with pytest.raises(wasmdbg.WasmError):
        raise wasmdbg.ExitTrap(1)
    assert str(wasmdbg.ExitTrap(7)) == "Exited with i32 exit status 7"


def test_inherited_stdout(capfd: Any) -> None:
    engine = wasmdbg.Engine()
    store = wasmdbg.Store(engine)
    config = wasmdbg.WasiConfig()
    config.inherit_stdout()
    store.set_wasi(config)
    linker = wasmdbg.Linker(engine)
    linker.define_wasi()
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 8) "hello\\n")
      (func (export "run") (result i32)
        (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 6))
        (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100))))"""
    run = linker.instantiate(store, wasmdbg.Module(engine, wat)).exports(store)["run"]
    assert run(store) == 0
    assert capfd.readouterr().out == "hello\n"


def test_missing_configuration_and_bad_pointers() -> None:
    engine = wasmdbg.Engine()
    store = wasmdbg.Store(engine)
    linker = wasmdbg.Linker(engine)
    linker.define_wasi()
    wat = """(module
      (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "run") (param i32 i32) (result i32) (call $r (local.get 0) (local.get 1))))"""
    run = linker.instantiate(store, wasmdbg.Module(engine, wat)).exports(store)["run"]
    with pytest.raises(wasmdbg.WasmError, match="no WASI configuration"):
        run(store, 0, 4)
    store.set_wasi(wasmdbg.WasiConfig())
    assert run(store, 0, 4) == 0
    assert run(store, 65534, 4) == 21  # EFAULT
