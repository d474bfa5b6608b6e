"""Engine-wide trampolines: entry, host-call stub and breakpoint trampoline.

This module owns the machine code that sits between the runtime (System V
C calls through ctypes) and compiled Wasm code.  All three stubs live in one
position-independent blob (:class:`~wasmdbg.jit.abi.RuntimeStubs`).

Entry trampoline
----------------
``int64 entry(VMContext* vmctx, void* code, u64* slots, u64 nslots)``.
When ``store.segv_handler`` is set it first asks the kernel for the current
SIGSEGV handler (one ``rt_sigaction`` syscall) and returns ``HANDLER_LOST``
at once if it is not that one: code with signal-based bounds checks must
not run while a fault would reach someone else's handler.  Frame::

      rbp+8    return address (into ctypes)
      rbp      caller's rbp
      rbp-8    rbx         \\
      rbp-16   r12          |  System V callee-saved registers
      rbp-24   r13          |
      rbp-32   r14          |
      rbp-40   r15         /
      rbp-48   previous store.entry_rsp   (restored on every exit, so
      rbp-56   previous store.entry_fp     Wasm -> host -> Wasm nests)
      rbp-64   slots
      rbp-72   nslots
      rbp-80   VMStoreContext*
      rbp-88   address of the unwind code  <- store.entry_rsp points here
      rbp-96   padding (16-byte alignment)
      ...      argument area, nslots slots rounded up to 16 bytes
               <- rsp at the call (16-byte aligned)

The trap path (``trap_common`` in each module blob, the host-call stub and
the breakpoint trampoline) sets ``eax`` to the trap code, loads ``rsp`` from
``store.entry_rsp`` and executes ``ret``: that lands on the unwind code,
which recovers ``rbp`` from ``rsp`` and leaves through the common exit.

Host-call stub
--------------
The ``code`` of every host function's VMFuncRef.  Called like a Wasm
function (``r14`` = the host function's small VMContext, arguments at
``rbp+16``), it keeps a Wasm-shaped frame so stack walks pass through it::

      rbp+16   slot 0 ...        arguments / results
      rbp+8    return address into Wasm
      rbp      calling Wasm frame's rbp
      rbp-8    host VMContext*
      rbp-16   previous store.last_exit_fp
      rbp-24   previous store.last_exit_pc
      rbp-32   padding

It sets ``last_exit_fp``/``last_exit_pc`` to the calling Wasm frame and the
return address, calls ``hostcall(vmctx, host_id, &slot0)``, restores the
previous exit record and, on a non-zero status, unwinds as a trap with
``trap_pc`` = the return address (a call site) and ``trap_fp`` = the
calling frame.

Breakpoint trampoline (and the fault trampoline)
------------------------------------------------
Patch sites call it (``E8 rel32``); it clobbers nothing.  Saved area, at
``saved`` (16-byte aligned), as passed to ``debughook(guest_fp,
return_address, saved)``::

      saved+0     rax      saved+64    r8
      saved+8     rcx      saved+72    r9
      saved+16    rdx      saved+80    r10
      saved+24    rbx      saved+88    r11
      saved+32    rsp (guest value before the call)
      saved+40    rbp      saved+104   r13   (saved+96 r12)
      saved+48    rsi      saved+112   r14
      saved+56    rdi      saved+120   r15
      saved+128   rflags
      saved+136   (padding)
      saved+144   xmm0 (16 bytes) ... saved+144+16*n  xmmn ... xmm15
      saved+400   end

GPR ``n`` is at ``saved + 8*n`` (encoding order), XMM ``n`` at
``saved + 144 + 16*n``.  Everything except rsp and rbp is reloaded from the
area afterwards, so the debugger may change register-resident values.  A
non-zero status from the hook unwinds the guest as a trap with that code
(``DEBUGGER_ABORT``).

The fault trampoline is the same code calling ``store.faulthook``: the
SIGSEGV stub of a guest-debug Store enters it as if the faulting access of
a twin had called it (``runtime.sigsegv``).
"""

from __future__ import annotations

from struct import Struct

from .abi import LAZY_STUB, STORE, VMCTX, Libcall, RuntimeStubs, TrapCode
from .codebuf import CodeBuffer, Label
from .x64 import Assembler, Cond, Mem, Reg, Xmm

__all__ = [
    "SAVED_FLAGS",
    "SAVED_XMM0",
    "SAVE_AREA_SIZE",
    "compile_lazy_stubs",
    "compile_runtime_stubs",
    "saved_gpr",
    "saved_xmm",
]

SAVED_FLAGS = 128
SAVED_XMM0 = 144
SAVE_AREA_SIZE = 400

RAX, RCX, RDX, RBX = Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX
RSP, RBP, RSI, RDI = Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI
R10, R11, R12, R13, R14, R15 = Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15
# the GPRs the breakpoint trampoline saves and restores as they are (rsp and rbp
# are saved as the guest's values and never reloaded from the area)
_SAVED_AS_IS = tuple(r for r in Reg if r not in (RSP, RBP))


def saved_gpr(n: int) -> int:
    """Offset of GPR ``n`` (encoding order) in the breakpoint save area."""
    return 8 * n


def saved_xmm(n: int) -> int:
    """Offset of ``xmm<n>`` in the breakpoint save area."""
    return SAVED_XMM0 + 16 * n


def compile_runtime_stubs() -> RuntimeStubs:
    """Assemble the entry trampoline, host-call stub and breakpoint trampoline."""
    buf = CodeBuffer()
    a = Assembler(buf)
    entry = buf.offset
    _entry(a, buf)
    a.align(16)
    hostcall = buf.offset
    _hostcall(a, buf)
    a.align(16)
    breakpoint = buf.offset
    _breakpoint(a, buf, STORE.DEBUGHOOK)
    a.align(16)
    fault = buf.offset
    _breakpoint(a, buf, STORE.FAULTHOOK)
    return RuntimeStubs(buf.finish(), entry, hostcall, breakpoint, fault)


_pack_entry = Struct("<BBiBIBi").pack


def compile_lazy_stubs(first: int, count: int, table_offset: int) -> tuple[bytes, int]:
    """The entry stubs of a lazily compiled module (layout in ``abi``).

    ``first``: the index of the first defined function; ``count``: how many;
    ``table_offset``: the code table's address minus the address the blob
    will be mapped at.  Returns the code and the offset of ``fwd_0`` (entry
    ``k`` is at ``offset + LAZY_STUB*k``, its lazy stub 8 bytes further).
    """
    buf = CodeBuffer()
    a = Assembler(buf)
    # lazy_common: eax = function index; [rsp] = return address into the caller.
    # Like the host-call stub it records the caller as the last exit (a failed
    # compile's exception gets the Wasm backtrace) and restores the previous one.
    a.push_r(RBP)
    a.mov_rr(RBP, RSP)
    a.push_r(R14)  # [rbp-8]
    a.push_r(RAX)  # [rbp-16]: slot 0
    a.mov_rm(RAX, Mem(R14, VMCTX.STORE))
    a.push_m(Mem(RAX, STORE.LAST_EXIT_FP))  # [rbp-24]
    a.push_m(Mem(RAX, STORE.LAST_EXIT_PC))  # [rbp-32] (rsp 16-byte aligned)
    _record_exit(a)
    a.mov_rr(RDI, R14)
    a.mov32_ri(RSI, int(Libcall.LAZY_COMPILE))
    a.lea_rm(RDX, Mem(RBP, -16))
    a.call_m(Mem(RAX, STORE.LIBCALL))
    _restore_exit(a, -24)
    trap = Label("lazy_trap")
    a.test32_rr(RAX, RAX)
    a.jcc_l(Cond.NE, trap)
    a.mov_rm(RAX, Mem(RBP, -16))  # the code address
    a.leave()
    a.jmp_r(RAX)
    buf.bind(trap)
    _trap_at_caller(a, RDX)
    a.align(LAZY_STUB)
    code = buf.finish()
    start = len(code)
    parts = [code]
    for k in range(count):
        at = start + LAZY_STUB * k
        # fwd: jmp [rip + slot]; lazy: mov eax, index; jmp lazy_common
        parts.append(
            _pack_entry(0xFF, 0x25, table_offset + 8 * k - (at + 6), 0xB8, first + k, 0xE9, -(at + 16))
        )
    return b"".join(parts), start


def _unwind(a: Assembler, store: Reg) -> None:
    """Leave as a trap: ``eax`` = code; trap_pc/trap_fp already stored."""
    a.mov32_rr(RAX, RAX)
    a.mov_mr(Mem(store, STORE.TRAP_CODE), RAX)
    a.mov_rm(RSP, Mem(store, STORE.ENTRY_RSP))
    a.ret()


def _trap_at_caller(a: Assembler, store: Reg) -> None:
    """Leave as a trap at the stub's caller: trap_pc/trap_fp = [rbp+8]/[rbp]."""
    a.mov_rm(RCX, Mem(RBP, 8))
    a.mov_mr(Mem(store, STORE.TRAP_PC), RCX)
    a.mov_rm(RCX, Mem(RBP, 0))
    a.mov_mr(Mem(store, STORE.TRAP_FP), RCX)
    _unwind(a, store)


def _copy_slots(a: Assembler, buf: CodeBuffer, src: Reg, dst: Reg) -> None:
    """Copy ``rcx`` 8-byte slots from ``[src]`` to ``[dst]`` (clobbers r10, r11)."""
    a.xor32_rr(R11, R11)
    loop, done = Label(), Label()
    buf.bind(loop)
    a.cmp_rr(R11, RCX)
    a.jcc_l(Cond.AE, done)
    a.mov_rm(R10, Mem(src, 0, R11, 8))
    a.mov_mr(Mem(dst, 0, R11, 8), R10)
    a.add_ri(R11, 1)
    a.jmp_l(loop)
    buf.bind(done)


_SYS_RT_SIGACTION = 13
_SIGSEGV = 11


def _check_segv_handler(a: Assembler, buf: CodeBuffer) -> None:
    """Return ``HANDLER_LOST`` unless ``store.segv_handler`` is 0 or current.

    ``rt_sigaction(SIGSEGV, NULL, &old, 8)`` into a 32-byte kernel
    ``k_sigaction`` on the stack (its first word is the handler); the four
    arguments survive in pushed registers (the syscall clobbers rcx, r11).
    """
    go = Label("go")
    a.mov_rm(RAX, Mem(RDI, VMCTX.STORE))
    a.cmp_mi(Mem(RAX, STORE.SEGV_HANDLER), 0)
    a.jcc_l(Cond.E, go)
    for r in (RDI, RSI, RDX, RCX):
        a.push_r(r)
    a.sub_ri(RSP, 32)
    a.mov32_ri(RAX, _SYS_RT_SIGACTION)
    a.mov32_ri(RDI, _SIGSEGV)
    a.xor32_rr(RSI, RSI)
    a.mov_rr(RDX, RSP)
    a.mov32_ri(R10, 8)
    a.syscall()
    a.mov_rm(R10, Mem(RSP))
    a.add_ri(RSP, 32)
    for r in (RCX, RDX, RSI, RDI):
        a.pop_r(r)
    a.mov_rm(RAX, Mem(RDI, VMCTX.STORE))
    a.cmp_rm(R10, Mem(RAX, STORE.SEGV_HANDLER))
    a.jcc_l(Cond.E, go)
    a.mov32_ri(RAX, int(TrapCode.HANDLER_LOST))
    a.pop_r(RBP)
    a.ret()
    buf.bind(go)


def _entry(a: Assembler, buf: CodeBuffer) -> None:
    a.push_r(RBP)
    a.mov_rr(RBP, RSP)
    _check_segv_handler(a, buf)
    for r in (RBX, R12, R13, R14, R15):
        a.push_r(r)
    a.mov_rm(RAX, Mem(RDI, VMCTX.STORE))
    a.push_m(Mem(RAX, STORE.ENTRY_RSP))
    a.push_m(Mem(RAX, STORE.ENTRY_FP))
    a.push_r(RDX)
    a.push_r(RCX)
    a.push_r(RAX)
    unwind = Label("unwind")
    a.lea_rl(R11, unwind)
    a.push_r(R11)
    a.mov_mr(Mem(RAX, STORE.ENTRY_RSP), RSP)
    a.mov_mr(Mem(RAX, STORE.ENTRY_FP), RBP)
    a.sub_ri(RSP, 8)
    # argument area: (nslots * 8 + 15) & ~15 bytes
    a.mov_rr(R11, RCX)
    a.shl_ri(R11, 3)
    a.add_ri(R11, 15)
    a.and_ri(R11, -16)
    a.sub_rr(RSP, R11)
    _copy_slots(a, buf, RDX, RSP)  # the slots in
    a.mov_rr(R14, RDI)
    a.call_r(RSI)
    # copy the results out
    a.mov_rm(RCX, Mem(RBP, -72))
    a.mov_rm(RDX, Mem(RBP, -64))
    _copy_slots(a, buf, RSP, RDX)
    a.xor32_rr(RAX, RAX)
    exit_ = Label("exit")
    a.jmp_l(exit_)
    # trap unwind: rsp = entry_rsp + 8 = rbp - 80, eax = trap code
    buf.bind(unwind)
    a.lea_rm(RBP, Mem(RSP, 80))
    buf.bind(exit_)
    a.mov_rm(RDX, Mem(RBP, -80))
    a.mov_rm(RCX, Mem(RBP, -48))
    a.mov_mr(Mem(RDX, STORE.ENTRY_RSP), RCX)
    a.mov_rm(RCX, Mem(RBP, -56))
    a.mov_mr(Mem(RDX, STORE.ENTRY_FP), RCX)
    a.lea_rm(RSP, Mem(RBP, -40))
    for r in (R15, R14, R13, R12, RBX):
        a.pop_r(r)
    a.pop_r(RBP)
    a.ret()


def _record_exit(a: Assembler) -> None:
    """The calling Wasm frame (``[rbp]``, ``[rbp+8]``) becomes the last exit (``rax`` = store)."""
    a.mov_rm(RCX, Mem(RBP, 0))
    a.mov_mr(Mem(RAX, STORE.LAST_EXIT_FP), RCX)
    a.mov_rm(RCX, Mem(RBP, 8))
    a.mov_mr(Mem(RAX, STORE.LAST_EXIT_PC), RCX)


def _restore_exit(a: Assembler, saved: int) -> None:
    """Reload ``r14`` from ``[rbp-8]`` and the previous exit record from
    ``[rbp+saved]`` (fp) and ``[rbp+saved-8]`` (pc); leaves ``rdx`` = store."""
    a.mov_rm(R14, Mem(RBP, -8))
    a.mov_rm(RDX, Mem(R14, VMCTX.STORE))
    a.mov_rm(RCX, Mem(RBP, saved))
    a.mov_mr(Mem(RDX, STORE.LAST_EXIT_FP), RCX)
    a.mov_rm(RCX, Mem(RBP, saved - 8))
    a.mov_mr(Mem(RDX, STORE.LAST_EXIT_PC), RCX)


def _hostcall(a: Assembler, buf: CodeBuffer) -> None:
    a.push_r(RBP)
    a.mov_rr(RBP, RSP)
    a.push_r(R14)
    a.mov_rm(RAX, Mem(R14, VMCTX.STORE))
    a.push_m(Mem(RAX, STORE.LAST_EXIT_FP))
    a.push_m(Mem(RAX, STORE.LAST_EXIT_PC))
    a.sub_ri(RSP, 8)
    _record_exit(a)
    a.mov_rr(RDI, R14)
    a.mov_rm(RSI, Mem(R14, VMCTX.HOST_ID))
    a.lea_rm(RDX, Mem(RBP, 16))
    a.call_m(Mem(RAX, STORE.HOSTCALL))
    _restore_exit(a, -16)
    trap = Label("host_trap")
    a.test32_rr(RAX, RAX)
    a.jcc_l(Cond.NE, trap)
    a.leave()
    a.ret()
    buf.bind(trap)
    _trap_at_caller(a, RDX)


def _breakpoint(a: Assembler, buf: CodeBuffer, hook: STORE) -> None:
    a.push_r(RBP)
    a.mov_rr(RBP, RSP)  # [rbp] = guest rbp, [rbp+8] = return address
    a.pushf()  # [rbp-8] = flags
    a.and_ri(RSP, -16)
    a.sub_ri(RSP, SAVE_AREA_SIZE)
    for r in _SAVED_AS_IS:
        a.mov_mr(Mem(RSP, saved_gpr(r)), r)
    a.lea_rm(RAX, Mem(RBP, 16))
    a.mov_mr(Mem(RSP, saved_gpr(RSP)), RAX)
    a.mov_rm(RAX, Mem(RBP, 0))
    a.mov_mr(Mem(RSP, saved_gpr(RBP)), RAX)
    a.mov_rm(RAX, Mem(RBP, -8))
    a.mov_mr(Mem(RSP, SAVED_FLAGS), RAX)
    for x in Xmm:
        a.movups_mx(Mem(RSP, saved_xmm(x)), x)
    a.mov_rm(RDI, Mem(RBP, 0))
    a.mov_rm(RSI, Mem(RBP, 8))
    a.mov_rr(RDX, RSP)
    a.mov_rm(RAX, Mem(R14, VMCTX.STORE))
    a.call_m(Mem(RAX, hook))
    abort = Label("abort")
    a.test32_rr(RAX, RAX)
    a.jcc_l(Cond.NE, abort)
    for x in Xmm:
        a.movups_xm(x, Mem(RSP, saved_xmm(x)))
    a.mov_rm(RAX, Mem(RSP, SAVED_FLAGS))
    a.mov_mr(Mem(RBP, -8), RAX)
    for r in reversed(_SAVED_AS_IS):
        a.mov_rm(r, Mem(RSP, saved_gpr(r)))
    a.lea_rm(RSP, Mem(RBP, -8))
    a.popf()
    a.pop_r(RBP)
    a.ret()
    buf.bind(abort)
    a.mov_rm(R14, Mem(RSP, saved_gpr(R14)))
    a.mov_rm(RDX, Mem(R14, VMCTX.STORE))
    _trap_at_caller(a, RDX)
