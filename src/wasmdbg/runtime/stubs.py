"""Engine-wide machine code, mapped and callable: the JIT's stubs plus two helpers.

:class:`StubCode` maps :class:`~wasmdbg.jit.abi.RuntimeStubs` (from
``jit.stubs.compile_runtime_stubs``) into published code memory and wraps
the entry trampoline as a ``CFUNCTYPE`` (so calls release the GIL).

It also maps two tiny routines the runtime itself needs::

    cushion:  sub  rsp, CUSHION+8      ; leave CUSHION bytes untouched
              movabs rax, <entry>
              call rax                 ; entry(vmctx, code, slots, nslots)
              add  rsp, CUSHION+8
              ret

    read_sp:  mov rax, rsp ; ret       ; the caller's stack pointer (+8)

NB: why the cushion.  A trap unwinds by resetting ``rsp`` to the entry
frame; the Wasm frames below it are dead but still intact until something
calls deeper.  The runtime walks them *after* the ctypes call returns, to
build the trap's backtrace.  Without the cushion, the C code that runs
between the return and the walk (ctypes result conversion, re-taking the
GIL) could reuse exactly that stack.  Measured: with no gap, backtraces of
ordinary traps come out damaged; a 1 KiB gap already keeps them intact;
8 KiB leaves margin while keeping nested Wasm -> host -> Wasm calls cheap
in stack (each level costs the gap plus about 4 KiB).  The walker validates
every link anyway.

``compile_runtime_stubs`` is looked up at first use; tests may replace
:data:`stub_provider` to run without the real compiler.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Callable

from ..errors import WasmError
from ..jit.abi import RuntimeStubs
from .codemem import CodeMemory

__all__ = ["CUSHION", "EntryFn", "StubCode", "get_stub_code", "stub_provider"]

CUSHION = 8 * 1024

EntryFn = Callable[[int, int, int, int], int]

_ENTRY_TYPE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
_SP_TYPE = ctypes.CFUNCTYPE(ctypes.c_uint64)


def _default_provider() -> RuntimeStubs:
    try:
        from ..jit.stubs import compile_runtime_stubs
    except ImportError as exc:  # pragma: no cover - only before the compiler exists
        raise WasmError(f"the JIT's runtime stubs are not available: {exc}") from exc
    return compile_runtime_stubs()


stub_provider: Callable[[], RuntimeStubs] = _default_provider


def _cushion_code(target: int) -> bytes:
    gap = CUSHION + 8
    return (
        b"\x48\x81\xec" + struct.pack("<I", gap)  # sub rsp, gap
        + b"\x48\xb8" + struct.pack("<Q", target)  # movabs rax, target
        + b"\xff\xd0"  # call rax
        + b"\x48\x81\xc4" + struct.pack("<I", gap)  # add rsp, gap
        + b"\xc3"  # ret
    )


_READ_SP = b"\x48\x89\xe0\xc3"  # mov rax, rsp ; ret


class StubCode:
    """The mapped runtime stubs and the runtime's helper routines."""

    def __init__(self, stubs: RuntimeStubs) -> None:
        self.stubs = stubs
        self.memory = CodeMemory.from_bytes(stubs.code)
        base = self.memory.address
        self.entry_address = base + stubs.entry
        self.hostcall_address = base + stubs.hostcall
        self.breakpoint_address = base + stubs.breakpoint
        self.helpers = CodeMemory.from_bytes(_cushion_code(self.entry_address) + _READ_SP)
        #: ``entry(vmctx, code, slots, nslots) -> status``, through the cushion.
        self.entry: EntryFn = _ENTRY_TYPE(self.helpers.address)
        cushion_len = len(_cushion_code(0))
        self.read_sp: Callable[[], int] = _SP_TYPE(self.helpers.address + cushion_len)

    def contains(self, pc: int) -> bool:
        """True when ``pc`` lies in the JIT stubs."""
        return self.memory.address <= pc < self.memory.address + self.memory.size


_lock = threading.Lock()
_shared: StubCode | None = None


def get_stub_code() -> StubCode:
    """The process-wide :class:`StubCode` (built on first use)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = StubCode(stub_provider())
        return _shared


def reset_stub_code() -> None:
    """Forget the shared stubs (tests that swap :data:`stub_provider`)."""
    global _shared
    with _lock:
        _shared = None
