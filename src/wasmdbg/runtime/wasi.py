"""WASI preview 1 (``wasi_snapshot_preview1``): enough for command-line programs.

``WasiConfig`` has wasmtime-py's shape (``argv``, ``env``, ``inherit_*``,
``*_file``, ``*_custom``); ``store.set_wasi(config)`` gives a Store its WASI
state and ``linker.define_wasi()`` defines every preview-1 function, Store
independently (each call finds the state through its Caller).

What works: standard input, output and error (inherited, to or from a file,
or to a Python callback), arguments, environment, clocks, ``random_get``,
``sched_yield`` and ``proc_exit`` (raises :class:`ExitTrap` with the exit
code).  There is no filesystem and no sockets: descriptors above 2 are
``EBADF``, and the file, path, poll and socket calls answer ``ENOSYS``, so
wasi-libc finds no preopened directories and ``fopen`` fails cleanly.

Guest memory is reached through the calling instance's ``memory`` export;
an out-of-range pointer gets ``EFAULT`` rather than a host exception.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..errors import WasmError
from ..wasm import types as core
from .trap import Trap

if TYPE_CHECKING:
    from .func import Caller
    from .memory import Memory

__all__ = ["WASI_MODULE", "ExitTrap", "WasiConfig", "wasi_functions"]

WASI_MODULE = "wasi_snapshot_preview1"

ESUCCESS, EBADF, EFAULT, EINVAL, EIO, ENOSYS, ESPIPE = 0, 8, 21, 28, 29, 52, 70
_FILETYPE_UNKNOWN, _FILETYPE_CHARACTER_DEVICE = 0, 2
_RIGHT_FD_READ, _RIGHT_FD_WRITE = 1 << 1, 1 << 6

CustomOutput = Callable[[bytes], int | None]


class ExitTrap(WasmError):
    """The guest called ``proc_exit``; :attr:`code` is its exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Exited with i32 exit status {code}")
        self.code = code


@dataclass
class _Output:
    """Where one output stream goes."""

    fd: int | None = None  # inherited host descriptor
    file: IO[bytes] | None = None
    custom: CustomOutput | None = None

    def write(self, data: bytes) -> None:
        if self.fd is not None:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        elif self.file is not None:
            self.file.write(data)
            self.file.flush()
        elif self.custom is not None:
            self.custom(data)

    def isatty(self) -> bool:
        return self.fd is not None and os.isatty(self.fd)


@dataclass
class _Input:
    fd: int | None = None
    file: IO[bytes] | None = None

    def read(self, n: int) -> bytes:
        if self.fd is not None:
            return os.read(self.fd, n)
        if self.file is not None:
            return self.file.read(n)
        return b""

    def isatty(self) -> bool:
        return self.fd is not None and os.isatty(self.fd)


@dataclass
class WasiConfig:
    """WASI settings for one Store (wasmtime-py's ``WasiConfig``)."""

    _argv: list[str] = field(default_factory=list)
    _env: list[tuple[str, str]] = field(default_factory=list)
    _stdin: _Input = field(default_factory=_Input)
    _stdout: _Output = field(default_factory=_Output)
    _stderr: _Output = field(default_factory=_Output)

    @property
    def argv(self) -> list[str]:
        """The program's arguments (``argv[0]`` included)."""
        return list(self._argv)

    @argv.setter
    def argv(self, argv: Iterable[str]) -> None:
        self._argv = [str(a) for a in argv]

    def inherit_argv(self) -> None:
        """Use this process's ``sys.argv``."""
        self._argv = list(sys.argv)

    @property
    def env(self) -> list[tuple[str, str]]:
        """The environment as ``(name, value)`` pairs."""
        return list(self._env)

    @env.setter
    def env(self, pairs: Iterable[Iterable[str]]) -> None:
        env = []
        for pair in pairs:
            k, v = pair
            env.append((str(k), str(v)))
        self._env = env

    def inherit_env(self) -> None:
        """Use this process's environment."""
        self._env = list(os.environ.items())

    def inherit_stdin(self) -> None:
        """Read this process's standard input."""
        self._stdin = _Input(fd=0)

    def inherit_stdout(self) -> None:
        """Write to this process's standard output."""
        self._stdout = _Output(fd=1)

    def inherit_stderr(self) -> None:
        """Write to this process's standard error."""
        self._stderr = _Output(fd=2)

    @property
    def stdin_file(self) -> None:
        """Write-only, as in wasmtime-py."""
        raise AttributeError("stdin_file is write-only")

    @stdin_file.setter
    def stdin_file(self, path: str | os.PathLike[str]) -> None:
        self._stdin = _Input(file=open(path, "rb"))  # noqa: SIM115 - lives as long as the config

    @property
    def stdout_file(self) -> None:
        """Write-only, as in wasmtime-py."""
        raise AttributeError("stdout_file is write-only")

    @stdout_file.setter
    def stdout_file(self, path: str | os.PathLike[str]) -> None:
        self._stdout = _Output(file=open(path, "wb"))  # noqa: SIM115

    @property
    def stderr_file(self) -> None:
        """Write-only, as in wasmtime-py."""
        raise AttributeError("stderr_file is write-only")

    @stderr_file.setter
    def stderr_file(self, path: str | os.PathLike[str]) -> None:
        self._stderr = _Output(file=open(path, "wb"))  # noqa: SIM115

    @property
    def stdout_custom(self) -> None:
        """Write-only: a callable receiving each chunk of output bytes."""
        raise AttributeError("stdout_custom is write-only")

    @stdout_custom.setter
    def stdout_custom(self, callback: CustomOutput) -> None:
        self._stdout = _Output(custom=callback)

    @property
    def stderr_custom(self) -> None:
        """Write-only: a callable receiving each chunk of error output bytes."""
        raise AttributeError("stderr_custom is write-only")

    @stderr_custom.setter
    def stderr_custom(self, callback: CustomOutput) -> None:
        self._stderr = _Output(custom=callback)

    def preopen_dir(self, path: str, guest_path: str, fs_mutable: bool = True) -> None:
        """Not supported: wasmdbg's WASI has no filesystem."""
        raise WasmError("wasmdbg's WASI has no filesystem (preopen_dir is not supported)")


# -- guest memory access ---------------------------------------------------------------


class _Fault(Exception):
    """A guest pointer outside its memory."""


class _Mem:
    """Bounds-checked little-endian access to the caller's memory."""

    __slots__ = ("base", "size")

    def __init__(self, mem: Memory) -> None:
        self.base = mem._base
        self.size = mem._size

    def _check(self, ptr: int, n: int) -> int:
        ptr &= 0xFFFF_FFFF
        if ptr + n > self.size:
            raise _Fault
        return self.base + ptr

    def read(self, ptr: int, n: int) -> bytes:
        return ctypes.string_at(self._check(ptr, n), n) if n else b""

    def write(self, ptr: int, data: bytes) -> None:
        if data:
            ctypes.memmove(self._check(ptr, len(data)), data, len(data))

    def u32(self, ptr: int) -> int:
        return int.from_bytes(self.read(ptr, 4), "little")

    def put_u32(self, ptr: int, value: int) -> None:
        self.write(ptr, (value & 0xFFFF_FFFF).to_bytes(4, "little"))

    def put_u64(self, ptr: int, value: int) -> None:
        self.write(ptr, (value & 0xFFFF_FFFF_FFFF_FFFF).to_bytes(8, "little"))

    def iovecs(self, iovs: int, count: int) -> list[tuple[int, int]]:
        return [(self.u32(iovs + 8 * i), self.u32(iovs + 8 * i + 4)) for i in range(count)]


def _state(caller: Caller) -> WasiConfig:
    wasi = caller.store._wasi
    if wasi is None:
        raise WasmError("this Store has no WASI configuration (call store.set_wasi(WasiConfig()))")
    return wasi


def _memory(caller: Caller) -> _Mem:
    from .memory import Memory

    mem = caller.get("memory")
    if not isinstance(mem, Memory):
        raise WasmError("WASI needs the calling module to export its memory as `memory`")
    return _Mem(mem)


# -- the functions -----------------------------------------------------------------------


def _strings_sizes(caller: Caller, items: list[bytes], count_ptr: int, size_ptr: int) -> int:
    m = _memory(caller)
    m.put_u32(count_ptr, len(items))
    m.put_u32(size_ptr, sum(len(s) + 1 for s in items))
    return ESUCCESS


def _strings_get(caller: Caller, items: list[bytes], ptrs: int, buf: int) -> int:
    m = _memory(caller)
    for i, s in enumerate(items):
        m.put_u32(ptrs + 4 * i, buf)
        m.write(buf, s + b"\0")
        buf += len(s) + 1
    return ESUCCESS


def _argv(caller: Caller) -> list[bytes]:
    return [a.encode() for a in _state(caller)._argv]


def _environ(caller: Caller) -> list[bytes]:
    return [f"{k}={v}".encode() for k, v in _state(caller)._env]


def args_sizes_get(caller: Caller, argc: int, size: int) -> int:
    return _strings_sizes(caller, _argv(caller), argc, size)


def args_get(caller: Caller, argv: int, buf: int) -> int:
    return _strings_get(caller, _argv(caller), argv, buf)


def environ_sizes_get(caller: Caller, count: int, size: int) -> int:
    return _strings_sizes(caller, _environ(caller), count, size)


def environ_get(caller: Caller, env: int, buf: int) -> int:
    return _strings_get(caller, _environ(caller), env, buf)


_CLOCKS: dict[int, Callable[[], int]] = {
    0: time.time_ns,
    1: time.monotonic_ns,
    2: time.process_time_ns,
    3: time.thread_time_ns,
}


def clock_res_get(caller: Caller, clock: int, out: int) -> int:
    if clock not in _CLOCKS:
        return EINVAL
    _memory(caller).put_u64(out, 1000)
    return ESUCCESS


def clock_time_get(caller: Caller, clock: int, precision: int, out: int) -> int:
    now = _CLOCKS.get(clock)
    if now is None:
        return EINVAL
    _memory(caller).put_u64(out, now())
    return ESUCCESS


def fd_write(caller: Caller, fd: int, iovs: int, count: int, nwritten: int) -> int:
    wasi = _state(caller)
    out = wasi._stdout if fd == 1 else wasi._stderr if fd == 2 else None
    if out is None:
        return EBADF
    m = _memory(caller)
    data = b"".join(m.read(p, n) for p, n in m.iovecs(iovs, count))
    try:
        out.write(data)
    except OSError:
        return EIO
    m.put_u32(nwritten, len(data))
    return ESUCCESS


def fd_read(caller: Caller, fd: int, iovs: int, count: int, nread: int) -> int:
    if fd != 0:
        return EBADF
    stdin = _state(caller)._stdin
    m = _memory(caller)
    total = 0
    for ptr, n in m.iovecs(iovs, count):
        try:
            chunk = stdin.read(n) if n else b""
        except OSError:
            return EIO
        m.write(ptr, chunk)
        total += len(chunk)
        if len(chunk) < n:
            break
    m.put_u32(nread, total)
    return ESUCCESS


def fd_fdstat_get(caller: Caller, fd: int, out: int) -> int:
    wasi = _state(caller)
    stream: _Input | _Output
    if fd == 0:
        stream, rights = wasi._stdin, _RIGHT_FD_READ
    elif fd in (1, 2):
        stream, rights = (wasi._stdout if fd == 1 else wasi._stderr), _RIGHT_FD_WRITE
    else:
        return EBADF
    filetype = _FILETYPE_CHARACTER_DEVICE if stream.isatty() else _FILETYPE_UNKNOWN
    m = _memory(caller)
    m.write(out, bytes([filetype, 0, 0, 0, 0, 0, 0, 0]))
    m.put_u64(out + 8, rights)
    m.put_u64(out + 16, rights)
    return ESUCCESS


def fd_close(caller: Caller, fd: int) -> int:
    return ESUCCESS if fd in (0, 1, 2) else EBADF


def fd_seek(caller: Caller, fd: int, offset: int, whence: int, out: int) -> int:
    return ESPIPE if fd in (0, 1, 2) else EBADF


def fd_tell(caller: Caller, fd: int, out: int) -> int:
    return ESPIPE if fd in (0, 1, 2) else EBADF


def fd_prestat_get(caller: Caller, fd: int, out: int) -> int:
    return EBADF


def fd_sync(caller: Caller, fd: int) -> int:
    return ESUCCESS if fd in (0, 1, 2) else EBADF


def random_get(caller: Caller, buf: int, n: int) -> int:
    _memory(caller).write(buf, os.urandom(n))
    return ESUCCESS


def sched_yield(caller: Caller) -> int:
    return ESUCCESS


def proc_exit(caller: Caller, code: int) -> None:
    raise ExitTrap(code & 0xFFFF_FFFF)


def proc_raise(caller: Caller, sig: int) -> int:
    raise Trap(f"proc_raise({sig}) is not supported")


I32, I64 = core.ValType.I32, core.ValType.I64

# name -> (params, results); every preview-1 function, so any program links
_SIGNATURES: dict[str, tuple[tuple[core.ValType, ...], tuple[core.ValType, ...]]] = {
    "args_get": ((I32, I32), (I32,)),
    "args_sizes_get": ((I32, I32), (I32,)),
    "environ_get": ((I32, I32), (I32,)),
    "environ_sizes_get": ((I32, I32), (I32,)),
    "clock_res_get": ((I32, I32), (I32,)),
    "clock_time_get": ((I32, I64, I32), (I32,)),
    "fd_advise": ((I32, I64, I64, I32), (I32,)),
    "fd_allocate": ((I32, I64, I64), (I32,)),
    "fd_close": ((I32,), (I32,)),
    "fd_datasync": ((I32,), (I32,)),
    "fd_fdstat_get": ((I32, I32), (I32,)),
    "fd_fdstat_set_flags": ((I32, I32), (I32,)),
    "fd_fdstat_set_rights": ((I32, I64, I64), (I32,)),
    "fd_filestat_get": ((I32, I32), (I32,)),
    "fd_filestat_set_size": ((I32, I64), (I32,)),
    "fd_filestat_set_times": ((I32, I64, I64, I32), (I32,)),
    "fd_pread": ((I32, I32, I32, I64, I32), (I32,)),
    "fd_prestat_get": ((I32, I32), (I32,)),
    "fd_prestat_dir_name": ((I32, I32, I32), (I32,)),
    "fd_pwrite": ((I32, I32, I32, I64, I32), (I32,)),
    "fd_read": ((I32, I32, I32, I32), (I32,)),
    "fd_readdir": ((I32, I32, I32, I64, I32), (I32,)),
    "fd_renumber": ((I32, I32), (I32,)),
    "fd_seek": ((I32, I64, I32, I32), (I32,)),
    "fd_sync": ((I32,), (I32,)),
    "fd_tell": ((I32, I32), (I32,)),
    "fd_write": ((I32, I32, I32, I32), (I32,)),
    "path_create_directory": ((I32, I32, I32), (I32,)),
    "path_filestat_get": ((I32, I32, I32, I32, I32), (I32,)),
    "path_filestat_set_times": ((I32, I32, I32, I32, I64, I64, I32), (I32,)),
    "path_link": ((I32, I32, I32, I32, I32, I32, I32), (I32,)),
    "path_open": ((I32, I32, I32, I32, I32, I64, I64, I32, I32), (I32,)),
    "path_readlink": ((I32, I32, I32, I32, I32, I32), (I32,)),
    "path_remove_directory": ((I32, I32, I32), (I32,)),
    "path_rename": ((I32, I32, I32, I32, I32, I32), (I32,)),
    "path_symlink": ((I32, I32, I32, I32, I32), (I32,)),
    "path_unlink_file": ((I32, I32, I32), (I32,)),
    "poll_oneoff": ((I32, I32, I32, I32), (I32,)),
    "proc_exit": ((I32,), ()),
    "proc_raise": ((I32,), (I32,)),
    "random_get": ((I32, I32), (I32,)),
    "sched_yield": ((), (I32,)),
    "sock_accept": ((I32, I32, I32), (I32,)),
    "sock_recv": ((I32, I32, I32, I32, I32, I32), (I32,)),
    "sock_send": ((I32, I32, I32, I32, I32), (I32,)),
    "sock_shutdown": ((I32, I32), (I32,)),
}

_IMPLEMENTED: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        args_get,
        args_sizes_get,
        environ_get,
        environ_sizes_get,
        clock_res_get,
        clock_time_get,
        fd_close,
        fd_fdstat_get,
        fd_prestat_get,
        fd_read,
        fd_seek,
        fd_sync,
        fd_tell,
        fd_write,
        proc_exit,
        proc_raise,
        random_get,
        sched_yield,
    )
}


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(caller: Caller, *args: Any) -> Any:
        _state(caller)
        try:
            return fn(caller, *args)
        except _Fault:
            return EFAULT

    call.__name__ = fn.__name__
    return call


def _unsupported(caller: Caller, *args: Any) -> int:
    return ENOSYS


def wasi_functions() -> dict[str, tuple[core.FuncType, Callable[..., Any]]]:
    """Every preview-1 function: name -> (type, callable taking a Caller first)."""
    out: dict[str, tuple[core.FuncType, Callable[..., Any]]] = {}
    for name, (params, results) in _SIGNATURES.items():
        fn = _IMPLEMENTED.get(name)
        out[name] = (core.FuncType(params, results), _guarded(fn) if fn is not None else _unsupported)
    return out
