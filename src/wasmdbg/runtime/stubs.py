"""Engine-wide machine code, mapped and callable: the JIT's stubs plus two helpers.

:class:`StubCode` maps :class:`~wasmdbg.jit.abi.RuntimeStubs` (from
``jit.stubs.compile_runtime_stubs``) into published code memory and wraps
the entry trampoline as a ``CFUNCTYPE`` (so calls release the GIL).

It also maps the tiny routines the runtime itself needs (from the tested
encoder, ``jit.x64``)::

    cushion:  sub  rsp, CUSHION+8      ; leave CUSHION bytes untouched
              movabs rax, <entry>
              call rax                 ; entry(vmctx, code, slots, nslots)
              add  rsp, CUSHION+8
              ret

    read_sp:  mov rax, rsp ; ret       ; the caller's stack pointer (+8)

    flag_or(table, bits)        lock or  [table[i]], bits   for i = count..1
    flag_and(table, mask)       lock and [table[i]], mask
    flag_clear_if(table, value) lock cmpxchg: [table[i]] = 0 if it equals value

``table`` is a Store's interrupt-flag table (``[count, address ...]``, see
``Store``): the flag and its VMContext copies.  The updates are atomic
because the SIGINT handler ORs into the same words at any moment (a Python
read-modify-write could lose its bit).

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
import threading
from collections.abc import Callable

from ..errors import WasmError
from ..jit.abi import RuntimeStubs
from ..jit.x64 import Assembler, Cond, Mem, Reg
from .codemem import CodeMemory

__all__ = ["CUSHION", "EntryFn", "StubCode", "get_stub_code", "stub_provider"]

CUSHION = 8 * 1024

EntryFn = Callable[[int, int, int, int], int]

_ENTRY_TYPE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
_SP_TYPE = ctypes.CFUNCTYPE(ctypes.c_uint64)
_FLAG_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64)


def _default_provider() -> RuntimeStubs:
    try:
        from ..jit.stubs import compile_runtime_stubs
    except ImportError as exc:  # pragma: no cover - only before the compiler exists
        raise WasmError(f"the JIT's runtime stubs are not available: {exc}") from exc
    return compile_runtime_stubs()


stub_provider: Callable[[], RuntimeStubs] = _default_provider


def _cushion_code(a: Assembler, target: int) -> None:
    gap = CUSHION + 8
    a.sub_ri(Reg.RSP, gap)
    a.mov_ri64(Reg.RAX, target)
    a.call_r(Reg.RAX)
    a.add_ri(Reg.RSP, gap)
    a.ret()


def _flag_code(a: Assembler, update: Callable[[Mem], None]) -> None:
    """``for i in count..1: update([table[i]])`` with ``rdi`` = table."""
    rcx, r8 = Reg.RCX, Reg.R8
    loop, done = a.new_label("next"), a.new_label("done")
    a.mov_rm(rcx, Mem(Reg.RDI))
    a.bind(loop)
    a.test_rr(rcx, rcx)
    a.jcc_l(Cond.E, done)
    a.mov_rm(r8, Mem(Reg.RDI, 0, rcx, 8))
    update(Mem(r8))
    a.sub_ri(rcx, 1)
    a.jmp_l(loop)
    a.bind(done)
    a.ret()


def _clear_if(a: Assembler, cell: Mem) -> None:
    a.mov_rr(Reg.RAX, Reg.RSI)
    a.xor32_rr(Reg.RDX, Reg.RDX)
    a.lock_cmpxchg_mr(cell, Reg.RDX)


def _helpers(entry: int) -> tuple[bytes, dict[str, int]]:
    """The helper routines' bytes and each one's offset."""
    a = Assembler()
    offsets = {"cushion": a.offset}
    _cushion_code(a, entry)
    offsets["read_sp"] = a.offset
    a.mov_rr(Reg.RAX, Reg.RSP)
    a.ret()
    offsets["flag_or"] = a.offset
    _flag_code(a, lambda cell: a.lock_or_mr(cell, Reg.RSI))
    offsets["flag_and"] = a.offset
    _flag_code(a, lambda cell: a.lock_and_mr(cell, Reg.RSI))
    offsets["flag_clear_if"] = a.offset
    _flag_code(a, lambda cell: _clear_if(a, cell))
    return a.buf.finish(), offsets


class StubCode:
    """The mapped runtime stubs and the runtime's helper routines."""

    def __init__(self, stubs: RuntimeStubs) -> None:
        self.stubs = stubs
        self.memory = CodeMemory.from_bytes(stubs.code)
        base = self.memory.address
        self.entry_address = base + stubs.entry
        self.hostcall_address = base + stubs.hostcall
        self.breakpoint_address = base + stubs.breakpoint
        self.fault_address = base + stubs.fault
        code, at = _helpers(self.entry_address)
        self.helpers = CodeMemory.from_bytes(code)
        h = self.helpers.address
        #: ``entry(vmctx, code, slots, nslots) -> status``, through the cushion.
        self.entry: EntryFn = _ENTRY_TYPE(h + at["cushion"])
        self.read_sp: Callable[[], int] = _SP_TYPE(h + at["read_sp"])
        #: atomic updates of an interrupt-flag table (see the module docstring)
        self.flag_or: Callable[[int, int], None] = _FLAG_TYPE(h + at["flag_or"])
        self.flag_and: Callable[[int, int], None] = _FLAG_TYPE(h + at["flag_and"])
        self.flag_clear_if: Callable[[int, int], None] = _FLAG_TYPE(h + at["flag_clear_if"])

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
