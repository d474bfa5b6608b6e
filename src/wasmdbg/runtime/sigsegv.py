"""Signal-based bounds checks: the SIGSEGV/SIGBUS handler for compiled code.

Code compiled with ``Config.signals_based_traps`` (plain builds) accesses
linear memory without an explicit bounds check (``jit.masm_heap``); an
out-of-bounds access touches the ``PROT_NONE`` rest of the memory's 8 GiB
reservation (``runtime.memory``) and faults.  This module installs, once
per process, a handler written in machine code (through the tested encoder
``jit.x64``, no C) that does only async-signal-safe work::

    handler(sig, info, uc):
        movabs rax, &cells        ; arena base, arena size, stub, &old SEGV, &old BUS, &sigaction
        mov    rcx, uc.rip
        sub    rcx, [rax]
        cmp    rcx, [rax+8]
        jae    chain              ; the faulting pc is not in the code arena
        mov    rcx, uc.rip        ; "call" the stub from the faulting instruction:
        mov    r8, uc.rsp
        sub    r8, 8
        mov    [r8], rcx          ;   push the faulting pc
        mov    uc.rsp, r8
        mov    rcx, [rax+16]
        mov    uc.rip, rcx        ;   resume in the stub
        ret
    chain:                        ; not ours: put the previous disposition back and
        sub    rsp, 8             ; return, so that the fault repeats under it
        mov    rsi, [rax+24]      ; (pytest's faulthandler, Python's, or SIG_DFL's core)
        cmp    rdi, SIGBUS
        jne    1f
        mov    rsi, [rax+32]
    1:  xor    edx, edx
        call   [rax+40]           ; sigaction(sig, &old, NULL)
        add    rsp, 8
        ret

The stub (in the code arena too) enters the normal trap path with
``MEMORY_OUT_OF_BOUNDS``, just as a trap routine of ``jit.outofline``, or,
in a guest-debug Store, the fault trampoline (``jit.stubs``), whichever the
Store's ``fault_target`` names; every register is intact on the way::

    stub:    push rdx
             mov  rdx, [r14 + VMCTX.STORE]
             mov  rdx, [rdx + STORE.FAULT_TARGET]
             mov  [rsp - 8], rdx          ; (below rsp: the red zone, which
             pop  rdx                     ;  signal delivery leaves alone)
             jmp  [rsp - 16]

    unwind:  mov  eax, MEMORY_OUT_OF_BOUNDS
             pop  rcx                     ; the faulting pc: a trap site
             store = [r14 + VMCTX.STORE]
             store.trap_code = rax; store.trap_pc = rcx; store.trap_fp = rbp
             mov  rsp, store.entry_rsp
             ret                          ; into the entry trampoline's unwind path

The fault trampoline calls the Store's ``faulthook``, which resumes a twin's
faulting access at the debug version's bounds check (``jit.masm_heap``).

The compiler records each faulting instruction's offset in ``trap_sites``,
so the backtrace and message equal those of the explicit check.

NB: a fault at any pc of the code arena counts as an out-of-bounds access;
compiled code touches no other memory that may fault.  A fault elsewhere
restores the previous handler for good (the process is about to die of
it).  :func:`ensure_installed` puts the handler back if someone replaced
it (``faulthandler.enable()`` after us), chaining to the new one.

ucontext_t on x86-64 Linux: ``uc_mcontext.gregs`` starts at byte 40;
``REG_RSP`` = 15, ``REG_RIP`` = 16.
"""

from __future__ import annotations

import ctypes
import signal
import threading

from ..errors import WasmError
from ..jit.abi import STORE, VMCTX, TrapCode
from ..jit.x64 import Assembler, Cond, Mem, Reg
from .codemem import CodeMemory, code_arena
from .sigint import _SigAction

__all__ = ["ensure_installed", "installed", "unwind_address"]

_SA_SIGINFO = 0x4
_SA_ONSTACK = 0x0800_0000
_UC_RSP = 40 + 8 * 15
_UC_RIP = 40 + 8 * 16
_SIGNALS = (signal.SIGSEGV, signal.SIGBUS)

_libc = ctypes.CDLL(None, use_errno=True)
_sigaction = _libc.sigaction
_sigaction.argtypes = [ctypes.c_int, ctypes.POINTER(_SigAction), ctypes.POINTER(_SigAction)]
_sigaction.restype = ctypes.c_int

# cells: arena base, arena size, stub, &old[SEGV], &old[BUS], &sigaction
_cells = (ctypes.c_uint64 * 6)()
_old = {sig: _SigAction() for sig in _SIGNALS}
_lock = threading.Lock()
_code: CodeMemory | None = None
_unwind = [0]  # the unwind routine's address, once mapped


def _handler_code(cells: int) -> bytes:
    a = Assembler()
    rax, rcx, rdx, rsi, rdi, r8 = Reg.RAX, Reg.RCX, Reg.RDX, Reg.RSI, Reg.RDI, Reg.R8
    chain, segv = a.new_label("chain"), a.new_label("segv")
    rip, rsp = Mem(rdx, _UC_RIP), Mem(rdx, _UC_RSP)
    a.mov_ri64(rax, cells)
    a.mov_rm(rcx, rip)
    a.sub_rm(rcx, Mem(rax))
    a.cmp_rm(rcx, Mem(rax, 8))
    a.jcc_l(Cond.AE, chain)
    a.mov_rm(rcx, rip)
    a.mov_rm(r8, rsp)
    a.sub_ri(r8, 8)
    a.mov_mr(Mem(r8), rcx)
    a.mov_mr(rsp, r8)
    a.mov_rm(rcx, Mem(rax, 16))
    a.mov_mr(rip, rcx)
    a.ret()
    a.bind(chain)
    a.sub_ri(Reg.RSP, 8)
    a.mov_rm(rsi, Mem(rax, 24))
    a.cmp_ri(rdi, int(signal.SIGBUS))
    a.jcc_l(Cond.NE, segv)
    a.mov_rm(rsi, Mem(rax, 32))
    a.bind(segv)
    a.xor32_rr(rdx, rdx)
    a.call_m(Mem(rax, 40))
    a.add_ri(Reg.RSP, 8)
    a.ret()
    return a.buf.finish()


def _stub_code() -> tuple[bytes, int]:
    """The stub and the unwind routine after it (at the returned offset)."""
    a = Assembler()
    rax, rcx, rdx = Reg.RAX, Reg.RCX, Reg.RDX
    a.push_r(rdx)
    a.mov_rm(rdx, Mem(Reg.R14, int(VMCTX.STORE)))
    a.mov_rm(rdx, Mem(rdx, int(STORE.FAULT_TARGET)))
    a.mov_mr(Mem(Reg.RSP, -8), rdx)
    a.pop_r(rdx)
    a.jmp_m(Mem(Reg.RSP, -16))
    a.align(16)
    unwind = a.offset
    a.mov32_ri(rax, int(TrapCode.MEMORY_OUT_OF_BOUNDS))
    a.pop_r(rcx)
    a.mov_rm(rdx, Mem(Reg.R14, int(VMCTX.STORE)))
    a.mov_mr(Mem(rdx, int(STORE.TRAP_CODE)), rax)
    a.mov_mr(Mem(rdx, int(STORE.TRAP_PC)), rcx)
    a.mov_mr(Mem(rdx, int(STORE.TRAP_FP)), Reg.RBP)
    a.mov_rm(Reg.RSP, Mem(rdx, int(STORE.ENTRY_RSP)))
    a.ret()
    return a.buf.finish(), unwind


def _handler_address() -> int:
    """Map the handler and the stub (once); fill the cells."""
    global _code
    if _code is None:
        handler = _handler_code(ctypes.addressof(_cells))
        pad = -len(handler) % 16
        stub, unwind = _stub_code()
        code = CodeMemory.from_bytes(handler + b"\xcc" * pad + stub)
        arena = code_arena()
        _cells[0] = arena.base
        _cells[1] = arena.size
        _cells[2] = code.address + len(handler) + pad
        _unwind[0] = _cells[2] + unwind
        _cells[3] = ctypes.addressof(_old[signal.SIGSEGV])
        _cells[4] = ctypes.addressof(_old[signal.SIGBUS])
        _cells[5] = ctypes.cast(_sigaction, ctypes.c_void_p).value or 0
        _code = code
    return _code.address


def unwind_address() -> int:
    """The routine a plain Store's ``fault_target`` names: trap, unwind."""
    with _lock:
        _handler_address()
        return _unwind[0]


def installed() -> bool:
    """True when the handler is the current SIGSEGV and SIGBUS disposition."""
    if _code is None:
        return False
    cur = _SigAction()
    for sig in _SIGNALS:
        if _sigaction(sig, None, ctypes.byref(cur)) != 0 or cur.sa_handler != _code.address:
            return False
    return True


def ensure_installed() -> int:
    """Install the handler for SIGSEGV and SIGBUS unless it is already current.

    The disposition found is kept to chain to (see the module doc).  Returns
    the handler's address (what ``VMStoreContext.segv_handler`` holds).
    """
    with _lock:
        handler = _handler_address()
        cur = _SigAction()
        for sig in _SIGNALS:
            if _sigaction(sig, None, ctypes.byref(cur)) != 0:
                raise WasmError(f"sigaction failed (errno {ctypes.get_errno()})")
            if cur.sa_handler == handler:
                continue
            # NB: the copy is complete before the new handler can run
            ctypes.memmove(ctypes.byref(_old[sig]), ctypes.byref(cur), ctypes.sizeof(cur))
            new = _SigAction()
            new.sa_handler = handler
            new.sa_flags = _SA_SIGINFO | _SA_ONSTACK
            if _sigaction(sig, ctypes.byref(new), None) != 0:
                raise WasmError(f"sigaction failed (errno {ctypes.get_errno()})")
        return handler
