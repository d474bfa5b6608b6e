"""The preview-1 function table, the dispatcher, and the calls that are not about files.

:func:`wasi_functions` gives ``Linker.define_wasi`` every function of
``wasi_snapshot_preview1`` with its type.  Each is wrapped by one
dispatcher that finds the Store's :class:`~.state.WasiCtx` and the
caller's memory, runs the function, and turns what it raised into the
value the guest gets::

    returned normally           -> 0 (ESUCCESS)
    WasiErrno(e)                -> e
    OSError (from the host)     -> errno_of(exc), e.g. ENOENT
    ExitTrap, Trap              -> propagate (proc_exit, proc_raise)
    any other Exception         -> Trap("wasi <name>: internal error ...")

so a host error is an errno and a bug here is a clean trap, never a Python
traceback in the guest's output.  ``KeyboardInterrupt`` and other
``BaseException``\\ s propagate unchanged.
"""

from __future__ import annotations

import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import WasmError
from ...wasm import types as core
from ..trap import Trap
from . import files
from .abi import EVENT, SUBCLOCK_ABSTIME, SUBSCRIPTION, ClockId, Errno, EventType
from .errno import WasiErrno, errno_of
from .fdtable import File, Stdin, Stdout
from .guest import GuestMemory, chunks
from .state import WasiCtx, wasi_ctx

if TYPE_CHECKING:
    from ..func import Caller

__all__ = ["WASI_MODULE", "ExitTrap", "wasi_functions"]

WASI_MODULE = "wasi_snapshot_preview1"
U32 = 0xFFFF_FFFF
#: most subscriptions one ``poll_oneoff`` may pass (more is ``EINVAL``)
MAX_SUBSCRIPTIONS = 1 << 12
#: longest single wait, in seconds (a u64 timeout would overflow the host's timers)
_MAX_WAIT = float(1 << 31)


class ExitTrap(WasmError):
    """The guest called ``proc_exit``; :attr:`code` is its exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Exited with i32 exit status {code}")
        self.code = code


# -- arguments, environment, clocks, randomness, process ---------------------------------------


def _sizes(mem: GuestMemory, items: list[bytes], count_ptr: int, size_ptr: int) -> None:
    mem.span(count_ptr, 4)
    mem.span(size_ptr, 4)
    mem.put_u32(count_ptr, len(items))
    mem.put_u32(size_ptr, sum(len(s) + 1 for s in items))


def _strings(mem: GuestMemory, items: list[bytes], ptrs: int, buf: int) -> None:
    mem.span(ptrs, 4 * len(items))
    mem.span(buf, sum(len(s) + 1 for s in items))
    for i, s in enumerate(items):
        mem.put_u32(ptrs + 4 * i, buf)
        mem.write(buf, s + b"\0")
        buf += len(s) + 1


def args_sizes_get(ctx: WasiCtx, mem: GuestMemory, argc: int, size: int) -> None:
    _sizes(mem, ctx.argv, argc, size)


def args_get(ctx: WasiCtx, mem: GuestMemory, argv: int, buf: int) -> None:
    _strings(mem, ctx.argv, argv, buf)


def environ_sizes_get(ctx: WasiCtx, mem: GuestMemory, count: int, size: int) -> None:
    _sizes(mem, ctx.environ, count, size)


def environ_get(ctx: WasiCtx, mem: GuestMemory, env: int, buf: int) -> None:
    _strings(mem, ctx.environ, env, buf)


_HOST_CLOCKS = {
    ClockId.REALTIME: time.CLOCK_REALTIME,
    ClockId.MONOTONIC: time.CLOCK_MONOTONIC,
    ClockId.PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    ClockId.THREAD_CPUTIME_ID: time.CLOCK_THREAD_CPUTIME_ID,
}


def _clock(clock: int) -> int:
    clock &= U32
    if clock in (ClockId.PROCESS_CPUTIME_ID, ClockId.THREAD_CPUTIME_ID):
        raise WasiErrno(Errno.BADF)  # NB: Wasmtime offers no CPU-time clocks and answers EBADF
    host = _HOST_CLOCKS.get(clock)  # type: ignore[call-overload]
    if host is None:
        raise WasiErrno(Errno.INVAL)
    return int(host)


def clock_res_get(ctx: WasiCtx, mem: GuestMemory, clock: int, out: int) -> None:
    res = time.clock_getres(_clock(clock))
    mem.put_u64(out, max(1, round(res * 1e9)))


def clock_time_get(ctx: WasiCtx, mem: GuestMemory, clock: int, precision: int, out: int) -> None:
    mem.put_u64(out, time.clock_gettime_ns(_clock(clock)))


def random_get(ctx: WasiCtx, mem: GuestMemory, buf: int, n: int) -> None:
    for piece in chunks(mem.span(buf, n)):
        piece[:] = os.urandom(len(piece))


def sched_yield(ctx: WasiCtx, mem: GuestMemory) -> None:
    os.sched_yield()


def proc_exit(ctx: WasiCtx, mem: GuestMemory, code: int) -> None:
    raise ExitTrap(code & U32)


def proc_raise(ctx: WasiCtx, mem: GuestMemory, sig: int) -> None:
    raise WasiErrno(Errno.NOTSUP)  # as in Wasmtime: there are no signals


# -- poll_oneoff -------------------------------------------------------------------------------


@dataclass
class _Sub:
    userdata: int
    kind: EventType
    deadline: float = 0.0  # monotonic seconds, clocks only
    wait_fd: int | None = None  # host fd to wait on, fd_read on an inherited stdin only
    nbytes: int = 0


def _parse_sub(ctx: WasiCtx, raw: bytes, now: float) -> _Sub:
    userdata, tag, clock_or_fd, timeout, _precision, flags = SUBSCRIPTION.unpack(raw)
    if tag == EventType.CLOCK:
        sub = _Sub(userdata, EventType.CLOCK)
        if clock_or_fd not in (ClockId.REALTIME, ClockId.MONOTONIC):
            raise WasiErrno(Errno.INVAL)
        seconds = timeout / 1e9
        if flags & SUBCLOCK_ABSTIME:
            host = _HOST_CLOCKS[ClockId(clock_or_fd)]
            seconds -= time.clock_gettime(host)
        sub.deadline = now + min(max(seconds, 0.0), _MAX_WAIT)
        return sub
    if tag not in (EventType.FD_READ, EventType.FD_WRITE):
        raise WasiErrno(Errno.INVAL)
    # NB: like Wasmtime, a closed descriptor fails the whole call (EBADF), not just its event
    # and so does one that cannot do what is asked (a directory, stdin for writing)
    entry = ctx.table.get(clock_or_fd)
    # Wasmtime reports 1 byte for every ready descriptor
    sub = _Sub(userdata, EventType(tag), nbytes=1)
    if sub.kind is EventType.FD_READ and isinstance(entry, Stdin):
        sub.wait_fd = entry.source.fd
    elif not (
        isinstance(entry, File) or (sub.kind is EventType.FD_WRITE and isinstance(entry, Stdout))
    ):
        raise WasiErrno(Errno.BADF)
    return sub


def poll_oneoff(
    ctx: WasiCtx, mem: GuestMemory, in_ptr: int, out_ptr: int, nsubs: int, nevents: int
) -> None:
    n = nsubs & U32
    if n == 0 or n > MAX_SUBSCRIPTIONS:
        raise WasiErrno(Errno.INVAL)
    raw = mem.read(in_ptr, SUBSCRIPTION.size * n)
    out = mem.span(out_ptr, EVENT.size * n)
    mem.span(nevents, 4)
    now = time.monotonic()
    subs = [
        _parse_sub(ctx, raw[i : i + SUBSCRIPTION.size], now)
        for i in range(0, len(raw), SUBSCRIPTION.size)
    ]

    def ready_now() -> list[_Sub]:
        t = time.monotonic()
        return [
            s
            for s in subs
            if (s.kind is EventType.CLOCK and s.deadline <= t)
            or (s.kind is not EventType.CLOCK and s.wait_fd is None)
        ]

    # NB: a loop, because a wait may end a hair before the deadline it was given
    while not (ready := ready_now()):
        waits = [s.wait_fd for s in subs if s.wait_fd is not None]
        clocks = [s.deadline for s in subs if s.kind is EventType.CLOCK]
        timeout = max(0.0, min(clocks) - time.monotonic()) if clocks else None
        if waits:
            readable, _, _ = select.select(waits, [], [], timeout)
            for s in subs:
                if s.wait_fd is not None and s.wait_fd in readable:
                    s.wait_fd = None
        elif timeout is not None:
            time.sleep(timeout)
    for i, s in enumerate(ready):
        # NB: field by field, leaving the padding as it was (as Wasmtime does)
        at = EVENT.size * i
        out[at : at + 11] = struct.pack("<QHB", s.userdata, Errno.SUCCESS, s.kind)
        out[at + 16 : at + 26] = struct.pack("<QH", 0 if s.kind is EventType.CLOCK else s.nbytes, 0)
    mem.put_u32(nevents, len(ready))


# -- sockets: preview 1 can only name ones the host passed in, and there are none ---------------


def _no_socket(ctx: WasiCtx, fd: int) -> None:
    ctx.table.get(fd)
    raise WasiErrno(Errno.NOTSOCK)


def sock_accept(ctx: WasiCtx, mem: GuestMemory, fd: int, flags: int, out: int) -> None:
    _no_socket(ctx, fd)


def sock_recv(
    ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, n: int, flags: int, nread: int, oflags: int
) -> None:
    _no_socket(ctx, fd)


def sock_send(
    ctx: WasiCtx, mem: GuestMemory, fd: int, iovs: int, n: int, flags: int, nwritten: int
) -> None:
    _no_socket(ctx, fd)


def sock_shutdown(ctx: WasiCtx, mem: GuestMemory, fd: int, how: int) -> None:
    _no_socket(ctx, fd)


# -- the table ---------------------------------------------------------------------------------

I32, I64 = core.ValType.I32, core.ValType.I64
_S = I32  # shorthand in the signatures below

# name -> (implementation, params); every function returns one i32 errno except proc_exit
_FUNCTIONS: dict[str, tuple[Callable[..., None], tuple[core.ValType, ...]]] = {
    "args_get": (args_get, (_S, _S)),
    "args_sizes_get": (args_sizes_get, (_S, _S)),
    "environ_get": (environ_get, (_S, _S)),
    "environ_sizes_get": (environ_sizes_get, (_S, _S)),
    "clock_res_get": (clock_res_get, (_S, _S)),
    "clock_time_get": (clock_time_get, (_S, I64, _S)),
    "fd_advise": (files.fd_advise, (_S, I64, I64, _S)),
    "fd_allocate": (files.fd_allocate, (_S, I64, I64)),
    "fd_close": (files.fd_close, (_S,)),
    "fd_datasync": (files.fd_datasync, (_S,)),
    "fd_fdstat_get": (files.fd_fdstat_get, (_S, _S)),
    "fd_fdstat_set_flags": (files.fd_fdstat_set_flags, (_S, _S)),
    "fd_fdstat_set_rights": (files.fd_fdstat_set_rights, (_S, I64, I64)),
    "fd_filestat_get": (files.fd_filestat_get, (_S, _S)),
    "fd_filestat_set_size": (files.fd_filestat_set_size, (_S, I64)),
    "fd_filestat_set_times": (files.fd_filestat_set_times, (_S, I64, I64, _S)),
    "fd_pread": (files.fd_pread, (_S, _S, _S, I64, _S)),
    "fd_prestat_get": (files.fd_prestat_get, (_S, _S)),
    "fd_prestat_dir_name": (files.fd_prestat_dir_name, (_S, _S, _S)),
    "fd_pwrite": (files.fd_pwrite, (_S, _S, _S, I64, _S)),
    "fd_read": (files.fd_read, (_S, _S, _S, _S)),
    "fd_readdir": (files.fd_readdir, (_S, _S, _S, I64, _S)),
    "fd_renumber": (files.fd_renumber, (_S, _S)),
    "fd_seek": (files.fd_seek, (_S, I64, _S, _S)),
    "fd_sync": (files.fd_sync, (_S,)),
    "fd_tell": (files.fd_tell, (_S, _S)),
    "fd_write": (files.fd_write, (_S, _S, _S, _S)),
    "path_create_directory": (files.path_create_directory, (_S, _S, _S)),
    "path_filestat_get": (files.path_filestat_get, (_S, _S, _S, _S, _S)),
    "path_filestat_set_times": (files.path_filestat_set_times, (_S, _S, _S, _S, I64, I64, _S)),
    "path_link": (files.path_link, (_S, _S, _S, _S, _S, _S, _S)),
    "path_open": (files.path_open, (_S, _S, _S, _S, _S, I64, I64, _S, _S)),
    "path_readlink": (files.path_readlink, (_S, _S, _S, _S, _S, _S)),
    "path_remove_directory": (files.path_remove_directory, (_S, _S, _S)),
    "path_rename": (files.path_rename, (_S, _S, _S, _S, _S, _S)),
    "path_symlink": (files.path_symlink, (_S, _S, _S, _S, _S)),
    "path_unlink_file": (files.path_unlink_file, (_S, _S, _S)),
    "poll_oneoff": (poll_oneoff, (_S, _S, _S, _S)),
    "proc_exit": (proc_exit, (_S,)),
    "proc_raise": (proc_raise, (_S,)),
    "random_get": (random_get, (_S, _S)),
    "sched_yield": (sched_yield, ()),
    "sock_accept": (sock_accept, (_S, _S, _S)),
    "sock_recv": (sock_recv, (_S, _S, _S, _S, _S, _S)),
    "sock_send": (sock_send, (_S, _S, _S, _S, _S)),
    "sock_shutdown": (sock_shutdown, (_S, _S)),
}


def _memory(caller: Caller) -> GuestMemory:
    from ..memory import Memory

    mem = caller.get("memory")
    # NB: a module without a `memory` export can still call proc_exit or sched_yield;
    # any pointer it passes fails when it is used (GuestMemory(None))
    return GuestMemory(mem if isinstance(mem, Memory) else None)


def _dispatcher(name: str, fn: Callable[..., None]) -> Callable[..., int]:
    def call(caller: Caller, *args: Any) -> int:
        ctx = wasi_ctx(caller.store)
        try:
            fn(ctx, _memory(caller), *args)
        except WasiErrno as exc:
            return int(exc.errno)
        except OSError as exc:
            return int(errno_of(exc))
        except (WasmError, Trap):
            raise
        except Exception as exc:
            raise Trap(f"wasi {name}: internal error: {type(exc).__name__}: {exc}") from exc
        return 0

    call.__name__ = call.__qualname__ = name
    return call


def wasi_functions() -> dict[str, tuple[core.FuncType, Callable[..., Any]]]:
    """Every preview-1 function: name -> (type, callable taking a Caller first)."""
    out: dict[str, tuple[core.FuncType, Callable[..., Any]]] = {}
    for name, (fn, params) in _FUNCTIONS.items():
        results = () if name == "proc_exit" else (I32,)
        out[name] = (core.FuncType(params, results), _dispatcher(name, fn))
    return out
