"""Ctrl-C for guests: a machine-code SIGINT handler that sets the interrupt flag.

Python runs its signal handlers only between bytecodes of the main thread,
so a Python-level SIGINT handler never fires while the main thread is
inside compiled Wasm (DESIGN.md §3).  :class:`SigintInterrupt` installs,
for the duration of a ``with`` block, a tiny handler written in machine
code that does only async-signal-safe work::

    handler(sig, info, uctx):
        movabs rax, &cells      ; cells[0] = &table pointer, cells[1] = previous handler
        mov    rcx, [rax]
        test   rcx, rcx
        jz     chain            ; no Store
        mov    rcx, [rcx]       ; the Store's flag table: [count, &flag, &mirror ...]
        mov    r8, [rcx]
    next:
        test   r8, r8
        jz     chain
        mov    r9, [rcx + r8*8]
        or     qword [r9], 1    ; INTERRUPT_REQUEST: the guest traps (or pauses) at its next check
        sub    r8, 1
        jmp    next
    chain:
        mov    rax, [rax+8]
        cmp    rax, 1           ; SIG_DFL (0) / SIG_IGN (1): nothing to chain to
        jbe    done
        jmp    rax              ; tail-call the previous handler (Python's), same arguments
    done:
        ret

Chaining to Python's own C handler keeps ``KeyboardInterrupt`` working: it
is raised as soon as control is back in Python.  The previous disposition
is restored, and a pending interrupt request cleared, when the block ends.
Only one block may be active at a time (there is one SIGINT disposition per
process).  If SIGINT is ignored when the block starts (``nohup``,
``trap '' INT``), nothing is installed and Ctrl-C stays ignored.

Usage::

    with store.interrupt_on_sigint():
        run(store)          # Ctrl-C -> Trap(INTERRUPT) or KeyboardInterrupt

The flag has a copy in every instance's VMContext (loop headers test that
one); the Store keeps the table of all copies the handler walks.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Callable
from types import TracebackType

from ..errors import WasmError
from ..jit.x64 import Assembler, Cond, Mem, Reg
from .codemem import CodeMemory
from .vmcontext import INTERRUPT_REQUEST

__all__ = ["SigintInterrupt"]

_SA_ONSTACK = 0x0800_0000
_SA_RESTART = 0x1000_0000
_SIG_IGN = 1
_REQUEST = 1  # the value the handler stores (store.INTERRUPT_REQUEST)


class _SigAction(ctypes.Structure):
    """glibc's ``struct sigaction`` on x86-64."""

    _fields_ = (
        ("sa_handler", ctypes.c_uint64),
        ("sa_mask", ctypes.c_uint64 * 16),
        ("sa_flags", ctypes.c_int),
        ("sa_restorer", ctypes.c_uint64),
    )


_libc = ctypes.CDLL(None, use_errno=True)
_sigaction = _libc.sigaction
_sigaction.argtypes = [ctypes.c_int, ctypes.POINTER(_SigAction), ctypes.POINTER(_SigAction)]
_sigaction.restype = ctypes.c_int

_cells = (ctypes.c_uint64 * 2)()
_lock = threading.Lock()
_code: CodeMemory | None = None
_active = False


def _handler_code(cells: int) -> bytes:
    """The handler's bytes, from the tested encoder (``jit.x64``)."""
    a = Assembler()
    chain, done, loop = a.new_label("chain"), a.new_label("done"), a.new_label("next")
    rax, rcx, r8, r9 = Reg.RAX, Reg.RCX, Reg.R8, Reg.R9
    a.mov_ri64(rax, cells)  # movabs rax, &cells
    a.mov_rm(rcx, Mem(rax))  # rcx = &table pointer (0: no Store)
    a.test_rr(rcx, rcx)
    a.jcc_l(Cond.E, chain)
    a.mov_rm(rcx, Mem(rcx))  # the flag table
    a.mov_rm(r8, Mem(rcx))  # its count
    a.bind(loop)
    a.test_rr(r8, r8)
    a.jcc_l(Cond.E, chain)
    a.mov_rm(r9, Mem(rcx, 0, r8, 8))
    a.lock_or_mi(Mem(r9), INTERRUPT_REQUEST)  # atomic; the other bits (deadline, edit) stay
    a.sub_ri(r8, 1)
    a.jmp_l(loop)
    a.bind(chain)
    a.mov_rm(rax, Mem(rax, 8))  # the previous handler
    a.cmp_ri(rax, 1)  # SIG_DFL (0) / SIG_IGN (1): nothing to chain to
    a.jcc_l(Cond.BE, done)
    a.jmp_r(rax)  # tail call, same arguments
    a.bind(done)
    a.ret()
    return a.buf.finish()


def _handler_address() -> int:
    global _code
    if _code is None:
        _code = CodeMemory.from_bytes(_handler_code(ctypes.addressof(_cells)))
    return _code.address


class SigintInterrupt:
    """Context manager: while active, SIGINT interrupts the given Store's guest."""

    def __init__(self, flag_table_pointer: int, clear_if: Callable[[int], None]) -> None:
        self._table_ptr = flag_table_pointer
        self._clear_if = clear_if
        self._old = _SigAction()
        self._installed = False

    def __enter__(self) -> SigintInterrupt:
        global _active
        with _lock:
            if _active:
                raise WasmError("a SIGINT interrupt block is already active")
            if _sigaction(signal.SIGINT, None, ctypes.byref(self._old)) != 0:
                raise WasmError(f"sigaction failed (errno {ctypes.get_errno()})")
            _active = True
            # NB: an ignored SIGINT (nohup, `trap '' INT`, a background job of a
            # non-interactive shell) stays ignored: the user asked for no interrupts.
            self._installed = self._old.sa_handler != _SIG_IGN
            if not self._installed:
                return self
            new = _SigAction()
            new.sa_handler = _handler_address()
            new.sa_flags = _SA_ONSTACK | _SA_RESTART
            _cells[0] = self._table_ptr
            _cells[1] = self._old.sa_handler
            if _sigaction(signal.SIGINT, ctypes.byref(new), None) != 0:
                _cells[0] = _cells[1] = 0
                _active = self._installed = False
                raise WasmError(f"sigaction failed (errno {ctypes.get_errno()})")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _active
        with _lock:
            if self._installed:
                _sigaction(signal.SIGINT, ctypes.byref(self._old), None)
                self._installed = False
            # NB: KeyboardInterrupt may have cut in before the INTERRUPT trap
            # cleared the flag; a request left over must not hit the next call
            # (a passed epoch deadline, a different value, stays).
            self._clear_if(_REQUEST)
            _cells[0] = 0
            _cells[1] = 0
            _active = False
