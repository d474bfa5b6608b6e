"""The macro-assembler: semantic operations on registers and frame slots.

This module owns the translation from *what* the compiler wants done (add two
32-bit integers, compare two f64 values as ``<``, load 4 bytes of linear
memory with a bounds check, trap with ``INTEGER_OVERFLOW`` if ...) to x86-64
instruction sequences, emitted through :class:`~wasmdbg.jit.x64.Assembler`.
It takes semantic enums (:class:`IntCmpKind`, :class:`FloatCmpKind`,
:class:`OperandSize` ...) and never sees a Wasm opcode; the encoder below it
never sees a semantic operation.

Registers are plain ``int`` numbers shared with :mod:`~wasmdbg.jit.stack`:
0-15 are the GPRs in encoding order, 16-31 are ``xmm0``-``xmm15``.  ``r11``
and ``xmm15`` are this module's scratch registers (never allocated), ``r14``
holds the ``VMContext*``, ``rbp``/``rsp`` frame the function.

Traps
-----
A trap check jumps to an out-of-line *trap stub* of the current function::

    stub:  call trap_<code>        ; return address = the trap site
    ...
    trap_<code>:  mov eax, <code>  ; one per module and code
                  jmp trap_common
    trap_common:  pop rcx          ; (eax holds the code)
                  store = [r14 + VMCTX.STORE]
                  store.trap_code = rax; store.trap_pc = rcx; store.trap_fp = rbp
                  mov rsp, store.entry_rsp
                  ret              ; into the entry trampoline's unwind path

With ``debug_hooks`` (code compiled for debugging) two things change:

* ``trap_common`` reports the trap before unwinding: it calls
  ``store.debughook(rbp, trap_pc, 0)`` (System V, ``saved = 0`` meaning "a
  trap") while the Wasm frames are still live, then reloads ``eax`` from
  ``store.trap_code`` and unwinds as above;
* an interrupt check does not trap but calls the preserve-all breakpoint
  trampoline from an out-of-line stub, and continues when it returns::

      mov  r11, [r14 + VMCTX.STORE]
      cmp  qword [r11 + STORE.INTERRUPT], 0
      jne  stub
    back:
      ...
    stub: call [r11 + STORE.DEBUG_TRAMPOLINE]   ; return address: a trap site
          jmp  back

  ``interrupt_sites`` lists ``(return offset, token)`` per stub; the token
  is whatever the caller passed (the compiler's frame-table state).

Pinned heap registers
---------------------
In a module with a linear memory, ``r12`` holds the ``VMMemory*`` of memory
0 and ``r13`` its base address in every function (loaded in the prologue,
reloaded after calls through a ``VMFuncRef``, which may run another
module's code; direct calls and System V calls preserve them, and the base
never moves).  A bounds-checked access is then::

    add  addr, offset+size        ; addr: zero-extended i32
    cmp  addr, [r12 + MEMORY.SIZE]
    ja   trap_stub                ; MEMORY_OUT_OF_BOUNDS
    mov  dst, [r13 + addr - size]

In debug mode the compiler also hands over a snapshot of the operand stack
at each check (``trap_state``): the stub first stores register-held values
to their frame slots, so a debugger inspecting the trapped frame finds every
value in memory; ``trap_states`` pairs each stub's return address with the
compiler's token (it becomes a frame-table row).

The return address pushed by a stub's ``call`` is unique to the check, so
``trap_sites`` maps its code offset to the Wasm pc.  ``[entry_rsp]`` holds
the address of the entry trampoline's unwind code (see ``stubs``), so the
module blob needs no absolute address and stays position independent.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from functools import cache
from struct import Struct

from .abi import FUNCREF, MEMORY, STORE, TABLE, VMCTX, TrapCode
from .codebuf import CodeBuffer, Label
from .x64 import Assembler, Cond, Mem, Reg, Xmm

__all__ = [
    "DivKind",
    "FlagCond",
    "FloatBinOp",
    "FloatCmpKind",
    "IntBinOp",
    "IntCmpKind",
    "MacroAssembler",
    "OperandSize",
    "RoundingMode",
    "ShiftKind",
    "TrapState",
    "TruncKind",
]

_pack_i32_into = Struct("<i").pack_into

_G: tuple[Reg, ...] = tuple(Reg)
_X: tuple[Xmm, ...] = tuple(Xmm) * 2  # indexed by register number 16..31

RAX, RCX, RDX, R11, R14 = Reg.RAX, Reg.RCX, Reg.RDX, Reg.R11, Reg.R14
R12, R13 = Reg.R12, Reg.R13
RSP, RBP, RDI, RSI = Reg.RSP, Reg.RBP, Reg.RDI, Reg.RSI
XMM15 = Xmm.XMM15
_XMM0 = 16


#: A debug-mode trap snapshot: ([(size, reg, rbp disp) to spill], token for the frame table)
TrapState = tuple[list[tuple[int, int, int]], object]

#: An opaque flag condition (see ``MacroAssembler.int_cond``); the compiler only passes it back.
FlagCond = Cond


class OperandSize(IntEnum):
    """Width of an operation in bytes."""

    S8 = 1
    S16 = 2
    S32 = 4
    S64 = 8


class IntCmpKind(IntEnum):
    """Integer comparisons (``_S`` signed, ``_U`` unsigned)."""

    EQ = 0
    NE = 1
    LT_S = 2
    LT_U = 3
    GT_S = 4
    GT_U = 5
    LE_S = 6
    LE_U = 7
    GE_S = 8
    GE_U = 9


_INT_COND = (Cond.E, Cond.NE, Cond.L, Cond.B, Cond.G, Cond.A, Cond.LE, Cond.BE, Cond.GE, Cond.AE)


class FloatCmpKind(IntEnum):
    """IEEE comparisons (all false on NaN except ``NE``)."""

    EQ = 0
    NE = 1
    LT = 2
    GT = 3
    LE = 4
    GE = 5


class IntBinOp(IntEnum):
    """Two-operand integer operations without traps."""

    ADD = 0
    SUB = 1
    MUL = 2
    AND = 3
    OR = 4
    XOR = 5


class ShiftKind(IntEnum):
    """Shifts and rotates (the count is taken modulo the width)."""

    SHL = 0
    SHR_S = 1
    SHR_U = 2
    ROTL = 3
    ROTR = 4


class DivKind(IntEnum):
    """Integer division and remainder."""

    DIV_S = 0
    DIV_U = 1
    REM_S = 2
    REM_U = 3


class FloatBinOp(IntEnum):
    """Two-operand IEEE arithmetic."""

    ADD = 0
    SUB = 1
    MUL = 2
    DIV = 3
    MIN = 4
    MAX = 5
    COPYSIGN = 6


class RoundingMode(IntEnum):
    """``roundss``/``roundsd`` immediates (with the precision exception masked)."""

    NEAREST = 8
    DOWN = 9
    UP = 10
    ZERO = 11


class TruncKind(IntEnum):
    """Float to integer truncation flavours."""

    TRAPPING = 0
    SATURATING = 1


_I64_SIGN = 1 << 63
_F32_2P31 = 0x4F000000  # 2**31
_F32_2P32 = 0x4F800000
_F32_2P63 = 0x5F000000
_F32_M2P31 = 0xCF000000  # -2**31
_F32_M2P63 = 0xDF000000
_F32_M1 = 0xBF800000  # -1.0
_F64_2P31 = 0x41E0000000000000
_F64_2P32 = 0x41F0000000000000
_F64_2P63 = 0x43E0000000000000
_F64_M2P31_M1 = 0xC1E0000000200000  # -2**31 - 1
_F64_M2P63 = 0xC3E0000000000000
_F64_M1 = 0xBFF0000000000000


@cache
def _nop_bytes(size: int) -> bytes:
    """``size`` bytes of multi-byte NOPs (cached: the same few sizes every function)."""
    buf = CodeBuffer()
    Assembler(buf).nop_n(size)
    return bytes(buf.data)


class MacroAssembler:
    """Semantic code emission for one module (functions are emitted in turn).

    ``pc`` is the Wasm offset of the instruction being compiled; trap checks
    and calls record it in ``trap_sites``/``call_sites`` (keys are offsets in
    the module blob).
    """

    def __init__(self) -> None:
        self.buf = CodeBuffer()
        self.asm = Assembler(self.buf)
        self._data = self.buf.data  # NB: the buffer never replaces its bytearray
        # encodings of position-independent instruction sequences, by operands
        # (the first emission encodes, later ones copy the bytes)
        self._enc: dict[tuple[object, ...], bytes] = {}
        self.pc = 0
        self.trap_sites: dict[int, int] = {}
        self.call_sites: dict[int, int] = {}
        self._frame_mems: dict[int, Mem] = {}
        self._out_mems: dict[int, Mem] = {}
        self._mems: dict[tuple[int, int, int, int], Mem] = {}
        # per module: one routine per trap code, plus the common tail
        self._trap_routines: dict[int, Label] = {}
        self._trap_common = Label("trap_common")
        # per function: (code, pc) -> stub label; pc -> dynamic-code stub label
        # (code, pc) -> offsets of the rel32 fields of the jumps to that stub
        self._stubs: dict[tuple[int, int], list[int]] = {}
        self._dyn_stubs: dict[int, Label] = {}
        self._frame_patch = -1
        self.bound_at = -1  # offset of the last label bound through bind()
        # debug mode: trap reporting and pausing interrupt checks (see the module doc)
        self.debug_hooks = False
        self._interrupt_stubs: list[tuple[Label, Label, int, object]] = []
        self.interrupt_sites: list[tuple[int, object]] = []
        # debug mode: the compiler's snapshot of the operand stack at a trap check:
        # (register spills the stub performs, token); trap_states collects
        # (stub return offset, token) per function
        self.trap_state: Callable[[], TrapState] | None = None
        self._stub_states: dict[tuple[int, int], TrapState] = {}
        self.trap_states: list[tuple[int, object]] = []
        self.heap_pinned = False
        self.heap_used = False  # the current function accesses memory
        self._heap_loads: list[tuple[int, int]] = []  # (offset, size) of load_heap_regs code
        self._heap_size = Mem(R12, MEMORY.SIZE)
        self._heap_mems: dict[tuple[int, int], Mem] = {}
        a = self.asm
        self._binop_rr = (
            (a.add32_rr, a.add_rr),
            (a.sub32_rr, a.sub_rr),
            (a.imul32_rr, a.imul_rr),
            (a.and32_rr, a.and_rr),
            (a.or32_rr, a.or_rr),
            (a.xor32_rr, a.xor_rr),
        )
        self._binop_ri = (
            (a.add32_ri, a.add_ri),
            (a.sub32_ri, a.sub_ri),
            (None, None),
            (a.and32_ri, a.and_ri),
            (a.or32_ri, a.or_ri),
            (a.xor32_ri, a.xor_ri),
        )
        self._binop_rm = (
            (a.add32_rm, a.add_rm),
            (a.sub32_rm, a.sub_rm),
            (a.imul32_rm, a.imul_rm),
            (a.and32_rm, a.and_rm),
            (a.or32_rm, a.or_rm),
            (a.xor32_rm, a.xor_rm),
        )
        self._shift_r = (
            (a.shl32_r, a.shl_r),
            (a.sar32_r, a.sar_r),
            (a.shr32_r, a.shr_r),
            (a.rol32_r, a.rol_r),
            (a.ror32_r, a.ror_r),
        )
        self._shift_ri = (
            (a.shl32_ri, a.shl_ri),
            (a.sar32_ri, a.sar_ri),
            (a.shr32_ri, a.shr_ri),
            (a.rol32_ri, a.rol_ri),
            (a.ror32_ri, a.ror_ri),
        )
        self._fbinop_m = (
            (a.addss_xm, a.addsd_xm),
            (a.subss_xm, a.subsd_xm),
            (a.mulss_xm, a.mulsd_xm),
            (a.divss_xm, a.divsd_xm),
        )
        self._fbinop = (
            (a.addss_xx, a.addsd_xx),
            (a.subss_xx, a.subsd_xx),
            (a.mulss_xx, a.mulsd_xx),
            (a.divss_xx, a.divsd_xx),
        )

    # -- operands -------------------------------------------------------------------

    def frame(self, disp: int) -> Mem:
        """``[rbp + disp]``."""
        m = self._frame_mems.get(disp)
        if m is None:
            m = self._frame_mems[disp] = Mem(RBP, disp)
        return m

    def out(self, slot: int) -> Mem:
        """Outgoing argument slot ``slot``: ``[rsp + 8*slot]``."""
        m = self._out_mems.get(slot)
        if m is None:
            m = self._out_mems[slot] = Mem(RSP, 8 * slot)
        return m

    def mem(self, base: int, disp: int, index: int = -1, scale: int = 1) -> Mem:
        """``[base + index*scale + disp]`` (cached)."""
        key = (base, disp, index, scale)
        m = self._mems.get(key)
        if m is None:
            m = self._mems[key] = Mem(_G[base], disp, None if index < 0 else _G[index], scale)
        return m

    @property
    def offset(self) -> int:
        """The current code offset in the module blob."""
        return len(self.buf.data)

    def new_label(self, name: str = "") -> Label:
        """A fresh label."""
        return Label(name)

    def bind(self, label: Label) -> None:
        """Bind ``label`` here (``bound_at`` remembers where, for patch-site sharing)."""
        self.buf.bind(label)
        self.bound_at = len(self.buf.data)

    # -- moves ------------------------------------------------------------------------

    def load_frame(self, size: int, reg: int, disp: int) -> None:
        """Cached-encoding front of :meth:`_enc_load_frame`."""
        key = (1, size, reg, disp)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_load_frame(size, reg, disp)
        self._enc[key] = bytes(data[start:])

    def _enc_load_frame(self, size: int, reg: int, disp: int) -> None:
        """``reg = [rbp+disp]`` (4 bytes zero-extend; XMM by width)."""
        m = self._frame_mems.get(disp)
        if m is None:
            m = self._frame_mems[disp] = Mem(RBP, disp)
        a = self.asm
        if reg < _XMM0:
            if size == 8:
                a.mov_rm(_G[reg], m)
            else:
                a.mov32_rm(_G[reg], m)
        elif size == 8:
            a.movsd_xm(_X[reg], m)
        else:
            a.movss_xm(_X[reg], m)

    def load(self, size: int, reg: int, m: Mem) -> None:
        """Load a 4- or 8-byte value into a GPR or XMM register."""
        a = self.asm
        if reg >= _XMM0:
            if size == 8:
                a.movsd_xm(_X[reg], m)
            else:
                a.movss_xm(_X[reg], m)
        elif size == 8:
            a.mov_rm(_G[reg], m)
        else:
            a.mov32_rm(_G[reg], m)

    def store_frame(self, size: int, reg: int, disp: int) -> None:
        """Cached-encoding front of :meth:`_enc_store_frame`."""
        key = (2, size, reg, disp)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_store_frame(size, reg, disp)
        self._enc[key] = bytes(data[start:])

    def _enc_store_frame(self, size: int, reg: int, disp: int) -> None:
        """``[rbp+disp] = reg`` (GPRs store all 64 bits)."""
        m = self._frame_mems.get(disp)
        if m is None:
            m = self._frame_mems[disp] = Mem(RBP, disp)
        if reg < _XMM0:
            self.asm.mov_mr(m, _G[reg])
        elif size == 8:
            self.asm.movsd_mx(m, _X[reg])
        else:
            self.asm.movss_mx(m, _X[reg])

    def store(self, size: int, reg: int, m: Mem) -> None:
        """Store a register; GPRs always store 8 bytes, XMMs ``size`` bytes."""
        a = self.asm
        if reg >= _XMM0:
            if size == 8:
                a.movsd_mx(m, _X[reg])
            else:
                a.movss_mx(m, _X[reg])
        else:
            a.mov_mr(m, _G[reg])

    def store_const(self, m: Mem, bits: int) -> None:
        """Store the 64-bit pattern ``bits`` (unsigned) to ``m``."""
        if bits < 0x8000_0000:
            self.asm.mov_mi(m, bits)
        elif bits >= 0xFFFF_FFFF_8000_0000:
            self.asm.mov_mi(m, bits - (1 << 64))
        else:
            self.asm.mov_ri(R11, bits)
            self.asm.mov_mr(m, R11)

    def store_const_frame(self, disp: int, bits: int) -> None:
        """``[rbp+disp] = bits`` (64-bit pattern)."""
        self.store_const(self.frame(disp), bits)

    def copy_frame(self, dst_disp: int, src_disp: int) -> None:
        """Cached-encoding front of :meth:`_enc_copy_frame`."""
        key = (3, dst_disp, src_disp)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_copy_frame(dst_disp, src_disp)
        self._enc[key] = bytes(data[start:])

    def _enc_copy_frame(self, dst_disp: int, src_disp: int) -> None:
        """Copy the 8-byte slot ``[rbp+src]`` to ``[rbp+dst]`` via ``r11``."""
        self.asm.mov_rm(R11, self.frame(src_disp))
        self.asm.mov_mr(self.frame(dst_disp), R11)

    def copy_to(self, m: Mem, src_disp: int) -> None:
        """Copy the 8-byte slot ``[rbp+src]`` to ``m`` via ``r11``."""
        self.asm.mov_rm(R11, self.frame(src_disp))
        self.asm.mov_mr(m, R11)

    def load_const(self, reg: int, bits: int) -> None:
        """Cached-encoding front of :meth:`_enc_load_const`."""
        key = (11, reg, bits)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_load_const(reg, bits)
        self._enc[key] = bytes(data[start:])

    def _enc_load_const(self, reg: int, bits: int) -> None:
        """``reg = bits`` (a GPR gets the 64-bit pattern, an XMM its low bits)."""
        a = self.asm
        if reg < _XMM0:
            a.mov_ri(_G[reg], bits)
        elif bits == 0:
            a.xorps_xx(_X[reg], _X[reg])
        else:
            a.mov_ri(R11, bits)
            a.movq_xr(_X[reg], R11)

    def move(self, size: int, dst: int, src: int) -> None:
        """``dst = src`` between registers of the same class."""
        if dst == src:
            return
        if dst >= _XMM0:
            self.asm.movaps_xx(_X[dst], _X[src])
        else:
            self.asm.mov_rr(_G[dst], _G[src])

    def _xmm_const(self, bits: int, size: int) -> Xmm:
        """Load a float constant into the scratch ``xmm15``."""
        a = self.asm
        if bits == 0:
            a.xorps_xx(XMM15, XMM15)
        else:
            a.mov_ri(R11, bits)
            if size == 8:
                a.movq_xr(XMM15, R11)
            else:
                a.movd_xr(XMM15, R11)
        return XMM15

    # -- integer arithmetic ---------------------------------------------------------

    def int_binop(self, op: IntBinOp, size: int, dst: int, src: int) -> None:
        """Cached-encoding front of :meth:`_enc_int_binop`."""
        key = (4, op, size, dst, src)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_binop(op, size, dst, src)
        self._enc[key] = bytes(data[start:])

    def _enc_int_binop(self, op: IntBinOp, size: int, dst: int, src: int) -> None:
        """``dst = dst <op> src``."""
        self._binop_rr[op][size == 8](_G[dst], _G[src])

    def int_binop_imm(self, op: IntBinOp, size: int, dst: int, imm: int) -> bool:
        """Cached-encoding front of :meth:`_enc_int_binop_imm`."""
        key = (5, op, size, dst, imm)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return True
        start = len(data)
        if not self._enc_int_binop_imm(op, size, dst, imm):
            return False
        self._enc[key] = bytes(data[start:])
        return True

    def _enc_int_binop_imm(self, op: IntBinOp, size: int, dst: int, imm: int) -> bool:
        """``dst = dst <op> imm`` if ``imm`` is encodable (returns whether it was)."""
        if size == 8:
            if imm >= _I64_SIGN:
                imm -= 1 << 64
            if not -0x8000_0000 <= imm <= 0x7FFF_FFFF:
                return False
        if op == IntBinOp.MUL:
            if size == 8:
                self.asm.imul_rri(_G[dst], _G[dst], imm)
            else:
                self.asm.imul32_rri(_G[dst], _G[dst], imm)
            return True
        fn = self._binop_ri[op][size == 8]
        if fn is not None:
            fn(_G[dst], imm)
        return True

    def int_binop_frame(self, op: IntBinOp, size: int, dst: int, disp: int) -> None:
        """Cached-encoding front of :meth:`_enc_int_binop_frame`."""
        key = (6, op, size, dst, disp)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_binop_frame(op, size, dst, disp)
        self._enc[key] = bytes(data[start:])

    def _enc_int_binop_frame(self, op: IntBinOp, size: int, dst: int, disp: int) -> None:
        """``dst = dst <op> [rbp+disp]``."""
        self._binop_rm[op][size == 8](_G[dst], self.frame(disp))

    def int_shift(self, kind: ShiftKind, size: int, dst: int) -> None:
        """``dst = dst <kind> cl``."""
        self._shift_r[kind][size == 8](_G[dst])

    def int_shift_imm(self, kind: ShiftKind, size: int, dst: int, count: int) -> None:
        """``dst = dst <kind> count`` (count taken modulo the width)."""
        count &= size * 8 - 1
        if count:
            self._shift_ri[kind][size == 8](_G[dst], count)

    def int_cmp(self, size: int, a: int, b: int) -> None:
        """Set flags from ``a - b``."""
        if size == 8:
            self.asm.cmp_rr(_G[a], _G[b])
        else:
            self.asm.cmp32_rr(_G[a], _G[b])

    def int_cmp_imm(self, size: int, a: int, imm: int) -> bool:
        """Cached-encoding front of :meth:`_enc_int_cmp_imm`."""
        key = (7, size, a, imm)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return True
        start = len(data)
        if not self._enc_int_cmp_imm(size, a, imm):
            return False
        self._enc[key] = bytes(data[start:])
        return True

    def _enc_int_cmp_imm(self, size: int, a: int, imm: int) -> bool:
        """Set flags from ``a - imm`` if ``imm`` is encodable."""
        if size == 8:
            if imm >= _I64_SIGN:
                imm -= 1 << 64
            if not -0x8000_0000 <= imm <= 0x7FFF_FFFF:
                return False
            self.asm.cmp_ri(_G[a], imm)
        else:
            self.asm.cmp32_ri(_G[a], imm)
        return True

    def int_cmp_frame(self, size: int, a: int, disp: int) -> None:
        """Cached-encoding front of :meth:`_enc_int_cmp_frame`."""
        key = (8, size, a, disp)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_cmp_frame(size, a, disp)
        self._enc[key] = bytes(data[start:])

    def _enc_int_cmp_frame(self, size: int, a: int, disp: int) -> None:
        """Set flags from ``a - [rbp+disp]``."""
        if size == 8:
            self.asm.cmp_rm(_G[a], self.frame(disp))
        else:
            self.asm.cmp32_rm(_G[a], self.frame(disp))

    # -- flag conditions (compare fused with its consumer) ----------------------------
    #
    # A *flag condition* is an opaque token for "the flags of the last
    # comparison satisfy ...".  It stays valid only until the next
    # flag-changing instruction; the compiler consumes it at once.

    @staticmethod
    def int_cond(kind: IntCmpKind) -> Cond:
        """The flag condition of an integer comparison."""
        return _INT_COND[kind]

    @staticmethod
    def zero_cond() -> Cond:
        """The flag condition "the tested value was zero" (after :meth:`int_test_zero`)."""
        return Cond.E

    @staticmethod
    def invert_cond(cond: Cond) -> Cond:
        """The flag condition that holds exactly when ``cond`` does not."""
        return cond.invert()

    def set_cond(self, cond: Cond, dst: int) -> None:
        """``dst = 1`` if ``cond`` holds, else 0."""
        d = _G[dst]
        self.asm.setcc_r(cond, d)
        self.asm.movzx8_rr(d, d)

    def jump_if(self, cond: Cond, label: Label) -> None:
        """Jump to ``label`` if ``cond`` holds."""
        self.asm.jcc_l(cond, label)

    def select_cond(self, size: int, dst: int, other: int, cond: Cond) -> None:
        """``dst = cond ? dst : other``."""
        a = self.asm
        inv = cond.invert()
        if dst < _XMM0:
            if size == 8:
                a.cmovcc_rr(inv, _G[dst], _G[other])
            else:
                a.cmovcc32_rr(inv, _G[dst], _G[other])
            return
        skip = Label()
        a.jcc_l(cond, skip)
        a.movaps_xx(_X[dst], _X[other])
        self.buf.bind(skip)

    def float_cmp_cond(self, kind: FloatCmpKind, size: int, a_: int, b_: int) -> Cond | None:
        """Compare for ``kind`` and return its flag condition.

        ``None`` (and nothing emitted) for EQ/NE, which need two flags.
        """
        if kind <= FloatCmpKind.NE:
            return None
        ucomi = self.asm.ucomisd_xx if size == 8 else self.asm.ucomiss_xx
        x, y = _X[a_], _X[b_]
        if kind == FloatCmpKind.GT:
            ucomi(x, y)
            return Cond.A
        if kind == FloatCmpKind.GE:
            ucomi(x, y)
            return Cond.AE
        ucomi(y, x)
        return Cond.A if kind == FloatCmpKind.LT else Cond.AE

    def int_test_zero(self, size: int, reg: int) -> None:
        """Set ZF if ``reg`` is zero."""
        if size == 8:
            self.asm.test_rr(_G[reg], _G[reg])
        else:
            self.asm.test32_rr(_G[reg], _G[reg])

    def set_if_zero(self, dst: int) -> None:
        """``dst = ZF`` (after :meth:`int_test_zero`)."""
        self.asm.setcc_r(Cond.E, _G[dst])
        self.asm.movzx8_rr(_G[dst], _G[dst])

    def int_neg_not(self, size: int, reg: int, negate: bool) -> None:
        """``reg = -reg`` or ``~reg``."""
        a = self.asm
        if negate:
            (a.neg_r if size == 8 else a.neg32_r)(_G[reg])
        else:
            (a.not_r if size == 8 else a.not32_r)(_G[reg])

    def int_clz(self, size: int, dst: int, src: int) -> None:
        """Count leading zeros (``lzcnt``)."""
        (self.asm.lzcnt_rr if size == 8 else self.asm.lzcnt32_rr)(_G[dst], _G[src])

    def int_ctz(self, size: int, dst: int, src: int) -> None:
        """Count trailing zeros (``tzcnt``)."""
        (self.asm.tzcnt_rr if size == 8 else self.asm.tzcnt32_rr)(_G[dst], _G[src])

    def int_popcnt(self, size: int, dst: int, src: int) -> None:
        """Population count."""
        (self.asm.popcnt_rr if size == 8 else self.asm.popcnt32_rr)(_G[dst], _G[src])

    def int_divrem(self, kind: DivKind, size: int, divisor: int) -> None:
        """``rax / divisor`` (quotient in rax, remainder in rdx), with Wasm traps.

        ``rax`` holds the dividend and ``rdx`` is reserved by the caller.
        Traps: division by zero; ``INT_MIN / -1`` for ``DIV_S``.  ``REM_S``
        by -1 yields 0 (x86 would fault).
        """
        a = self.asm
        w = size == 8
        d = _G[divisor]
        (a.test_rr if w else a.test32_rr)(d, d)
        self.trap_if(Cond.E, TrapCode.INTEGER_DIVISION_BY_ZERO)
        if kind == DivKind.DIV_U or kind == DivKind.REM_U:
            a.xor32_rr(RDX, RDX)
            (a.div_r if w else a.div32_r)(d)
            return
        special = Label()
        (a.cmp_ri if w else a.cmp32_ri)(d, -1)
        a.jcc_l(Cond.E, special)
        (a.cqo if w else a.cdq)()
        (a.idiv_r if w else a.idiv32_r)(d)
        after = Label()
        a.jmp_l(after)
        self.buf.bind(special)
        if kind == DivKind.DIV_S:
            (a.neg_r if w else a.neg32_r)(RAX)  # overflows exactly for INT_MIN
            self.trap_if(Cond.O, TrapCode.INTEGER_OVERFLOW)
        else:
            a.xor32_rr(RDX, RDX)
        self.buf.bind(after)

    def extend(self, dst: int, src: int, from_bits: int, to64: bool, signed: bool) -> None:
        """Sign- or zero-extend the low ``from_bits`` of ``src`` into ``dst``."""
        a = self.asm
        d, s = _G[dst], _G[src]
        if not signed:
            if from_bits == 32:
                a.mov32_rr(d, s)
            elif from_bits == 16:
                a.movzx16_rr(d, s)
            else:
                a.movzx8_rr(d, s)
        elif to64:
            if from_bits == 32:
                a.movsx32_rr(d, s)
            elif from_bits == 16:
                a.movsx16_rr(d, s)
            else:
                a.movsx8_rr(d, s)
        elif from_bits == 16:
            a.movsx16to32_rr(d, s)
        else:
            a.movsx8to32_rr(d, s)

    def select(self, size: int, dst: int, other: int, cond: int) -> None:
        """``dst = cond != 0 ? dst : other``."""
        a = self.asm
        a.test32_rr(_G[cond], _G[cond])
        if dst < _XMM0:
            if size == 8:
                a.cmovcc_rr(Cond.E, _G[dst], _G[other])
            else:
                a.cmovcc32_rr(Cond.E, _G[dst], _G[other])
            return
        skip = Label()
        a.jcc_l(Cond.NE, skip)
        a.movaps_xx(_X[dst], _X[other])
        self.buf.bind(skip)

    # -- floating point ----------------------------------------------------------------

    def float_binop(self, op: FloatBinOp, size: int, dst: int, src: int) -> None:
        """``dst = dst <op> src`` with Wasm semantics (min/max/copysign included)."""
        if op <= FloatBinOp.DIV:
            self._fbinop[op][size == 8](_X[dst], _X[src])
        elif op == FloatBinOp.COPYSIGN:
            self._copysign(size, dst, src)
        else:
            self._minmax(op == FloatBinOp.MIN, size, dst, src)

    def float_binop_frame(self, op: FloatBinOp, size: int, dst: int, disp: int) -> None:
        """``dst = dst <op> [rbp+disp]`` for ADD, SUB, MUL and DIV."""
        self._fbinop_m[op][size == 8](_X[dst], self.frame(disp))

    def _minmax(self, is_min: bool, size: int, dst: int, src: int) -> None:
        a = self.asm
        d, s = _X[dst], _X[src]
        w = size == 8
        done, nan, equal = Label(), Label(), Label()
        (a.ucomisd_xx if w else a.ucomiss_xx)(d, s)
        a.jcc_l(Cond.P, nan)
        a.jcc_l(Cond.E, equal)
        if is_min:
            (a.minsd_xx if w else a.minss_xx)(d, s)
        else:
            (a.maxsd_xx if w else a.maxss_xx)(d, s)
        a.jmp_l(done)
        self.buf.bind(equal)
        # equal values: only the signs of zeros may differ
        if is_min:
            a.orps_xx(d, s)
        else:
            a.andps_xx(d, s)
        a.jmp_l(done)
        self.buf.bind(nan)
        (a.addsd_xx if w else a.addss_xx)(d, s)  # a NaN operand gives a NaN
        self.buf.bind(done)

    def _copysign(self, size: int, dst: int, src: int) -> None:
        a = self.asm
        a.movaps_xx(XMM15, _X[src])
        if size == 8:
            a.psrlq_xi(XMM15, 63)
            a.psllq_xi(XMM15, 63)  # the sign bit of src
            a.psllq_xi(_X[dst], 1)
            a.psrlq_xi(_X[dst], 1)  # |dst|
        else:
            a.movd_rx(R11, XMM15)
            a.and32_ri(R11, 0x8000_0000)
            a.movd_xr(XMM15, R11)
            a.movd_rx(R11, _X[dst])
            a.and32_ri(R11, 0x7FFF_FFFF)
            a.movd_xr(_X[dst], R11)
        a.orps_xx(_X[dst], XMM15)

    def float_abs_neg(self, size: int, reg: int, negate: bool) -> None:
        """``reg = |reg|`` or ``-reg`` by flipping/clearing the sign bit only."""
        a = self.asm
        x = _X[reg]
        if size == 8:
            a.movq_rx(R11, x)
            if negate:
                a.btc_ri(R11, 63)
            else:
                a.btr_ri(R11, 63)
            a.movq_xr(x, R11)
        else:
            a.movd_rx(R11, x)
            if negate:
                a.xor32_ri(R11, 0x8000_0000)
            else:
                a.and32_ri(R11, 0x7FFF_FFFF)
            a.movd_xr(x, R11)

    def float_sqrt(self, size: int, reg: int) -> None:
        """``reg = sqrt(reg)``."""
        x = _X[reg]
        (self.asm.sqrtsd_xx if size == 8 else self.asm.sqrtss_xx)(x, x)

    def float_round(self, size: int, reg: int, mode: RoundingMode) -> None:
        """Round to an integral value (``roundss``/``roundsd``)."""
        x = _X[reg]
        (self.asm.roundsd_xxi if size == 8 else self.asm.roundss_xxi)(x, x, mode)

    def set_float_cmp(self, kind: FloatCmpKind, size: int, dst: int, a_: int, b_: int) -> None:
        """``dst = (a <kind> b)`` as 0/1 with IEEE NaN rules."""
        a = self.asm
        x, y = _X[a_], _X[b_]
        ucomi = a.ucomisd_xx if size == 8 else a.ucomiss_xx
        d = _G[dst]
        if kind == FloatCmpKind.EQ:
            ucomi(x, y)
            a.setcc_r(Cond.E, d)
            a.setcc_r(Cond.NP, R11)
            a.and32_rr(d, R11)
        elif kind == FloatCmpKind.NE:
            ucomi(x, y)
            a.setcc_r(Cond.NE, d)
            a.setcc_r(Cond.P, R11)
            a.or32_rr(d, R11)
        elif kind == FloatCmpKind.GT:
            ucomi(x, y)
            a.setcc_r(Cond.A, d)
        elif kind == FloatCmpKind.GE:
            ucomi(x, y)
            a.setcc_r(Cond.AE, d)
        elif kind == FloatCmpKind.LT:
            ucomi(y, x)
            a.setcc_r(Cond.A, d)
        else:
            ucomi(y, x)
            a.setcc_r(Cond.AE, d)
        a.movzx8_rr(d, d)

    def float_convert(self, size: int, dst: int, src: int) -> None:
        """Promote (``size`` 8: f32 -> f64) or demote (``size`` 4: f64 -> f32)."""
        if size == 8:
            self.asm.cvtss2sd_xx(_X[dst], _X[src])
        else:
            self.asm.cvtsd2ss_xx(_X[dst], _X[src])

    def reinterpret(self, size: int, dst: int, src: int) -> None:
        """Move raw bits between a GPR and an XMM register (either direction)."""
        a = self.asm
        if dst >= _XMM0:
            (a.movq_xr if size == 8 else a.movd_xr)(_X[dst], _G[src])
        else:
            (a.movq_rx if size == 8 else a.movd_rx)(_G[dst], _X[src])

    def int_to_float(self, fsize: int, dst: int, src: int, isize: int, signed: bool) -> None:
        """Convert the integer in ``src`` (``isize`` bytes) to a float in ``dst``.

        ``src`` may be clobbered.
        """
        a = self.asm
        x, r = _X[dst], _G[src]
        w = fsize == 8
        a.xorps_xx(x, x)  # break the dependency on the old contents
        if isize == 4:
            if signed:
                (a.cvtsi2sd32_xr if w else a.cvtsi2ss32_xr)(x, r)
            else:
                (a.cvtsi2sd_xr if w else a.cvtsi2ss_xr)(x, r)  # zero-extended i32
            return
        if signed:
            (a.cvtsi2sd_xr if w else a.cvtsi2ss_xr)(x, r)
            return
        big, done = Label(), Label()
        a.test_rr(r, r)
        a.jcc_l(Cond.S, big)
        (a.cvtsi2sd_xr if w else a.cvtsi2ss_xr)(x, r)
        a.jmp_l(done)
        self.buf.bind(big)
        # halve with the lost bit kept sticky, convert, double
        a.mov_rr(R11, r)
        a.and32_ri(R11, 1)
        a.shr_ri(r, 1)
        a.or_rr(r, R11)
        (a.cvtsi2sd_xr if w else a.cvtsi2ss_xr)(x, r)
        (a.addsd_xx if w else a.addss_xx)(x, x)
        self.buf.bind(done)

    def float_to_int(
        self, kind: TruncKind, fsize: int, src: int, dst: int, isize: int, signed: bool
    ) -> None:
        """Truncate the float in ``src`` to an integer in ``dst`` with Wasm rules.

        Trapping: NaN traps ``BAD_CONVERSION_TO_INTEGER``, out of range
        ``INTEGER_OVERFLOW``.  Saturating: NaN gives 0, out of range clamps.
        ``src`` may be clobbered.
        """
        if isize == 4:
            if signed:
                self._trunc_i32_s(kind, fsize, src, dst)
            else:
                self._trunc_i32_u(kind, fsize, src, dst)
        elif signed:
            self._trunc_i64_s(kind, fsize, src, dst)
        else:
            self._trunc_i64_u(kind, fsize, src, dst)

    def _ucomi(self, fsize: int, a_: Xmm, b_: Xmm) -> None:
        (self.asm.ucomisd_xx if fsize == 8 else self.asm.ucomiss_xx)(a_, b_)

    def _trunc_i32_s(self, kind: TruncKind, fsize: int, src: int, dst: int) -> None:
        a = self.asm
        x, r = _X[src], _G[dst]
        (a.cvttsd2si32_rx if fsize == 8 else a.cvttss2si32_rx)(r, x)
        done, slow = Label(), Label()
        a.cmp32_ri(r, 1)
        a.jcc_l(Cond.O, slow)  # only 0x80000000 - 1 overflows
        a.jmp_l(done)
        self.buf.bind(slow)
        self._ucomi(fsize, x, x)
        if kind == TruncKind.TRAPPING:
            self.trap_if(Cond.P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            if fsize == 8:
                # valid iff x > -2**31 - 1 (and x < 2**31, i.e. x negative here)
                self._ucomi(fsize, x, self._xmm_const(_F64_M2P31_M1, 8))
                self.trap_if(Cond.BE, TrapCode.INTEGER_OVERFLOW)
                a.xorps_xx(XMM15, XMM15)
                self._ucomi(fsize, x, XMM15)
                self.trap_if(Cond.AE, TrapCode.INTEGER_OVERFLOW)
            else:
                self._ucomi(fsize, x, self._xmm_const(_F32_M2P31, 4))
                self.trap_if(Cond.NE, TrapCode.INTEGER_OVERFLOW)
        else:
            zero = Label()
            a.jcc_l(Cond.P, zero)
            a.xorps_xx(XMM15, XMM15)
            self._ucomi(fsize, x, XMM15)
            a.jcc_l(Cond.B, done)  # negative: INT_MIN is the answer already
            a.mov32_ri(r, 0x7FFF_FFFF)
            a.jmp_l(done)
            self.buf.bind(zero)
            a.xor32_rr(r, r)
        self.buf.bind(done)

    def _trunc_i32_u(self, kind: TruncKind, fsize: int, src: int, dst: int) -> None:
        a = self.asm
        x, r = _X[src], _G[dst]
        (a.cvttsd2si_rx if fsize == 8 else a.cvttss2si_rx)(r, x)
        done, slow = Label(), Label()
        a.mov_rr(R11, r)
        a.shr_ri(R11, 32)
        a.jcc_l(Cond.NE, slow)
        a.jmp_l(done)
        self.buf.bind(slow)
        self._ucomi(fsize, x, x)
        if kind == TruncKind.TRAPPING:
            self.trap_if(Cond.P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            self.trap(TrapCode.INTEGER_OVERFLOW)
        else:
            zero = Label()
            a.jcc_l(Cond.P, zero)
            a.xorps_xx(XMM15, XMM15)
            self._ucomi(fsize, x, XMM15)
            a.jcc_l(Cond.B, zero)
            a.mov32_ri(r, 0xFFFF_FFFF)
            a.jmp_l(done)
            self.buf.bind(zero)
            a.xor32_rr(r, r)
        self.buf.bind(done)

    def _trunc_i64_s(self, kind: TruncKind, fsize: int, src: int, dst: int) -> None:
        a = self.asm
        x, r = _X[src], _G[dst]
        (a.cvttsd2si_rx if fsize == 8 else a.cvttss2si_rx)(r, x)
        done, slow = Label(), Label()
        a.cmp_ri(r, 1)
        a.jcc_l(Cond.O, slow)
        a.jmp_l(done)
        self.buf.bind(slow)
        self._ucomi(fsize, x, x)
        if kind == TruncKind.TRAPPING:
            self.trap_if(Cond.P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            m2p63 = _F64_M2P63 if fsize == 8 else _F32_M2P63
            self._ucomi(fsize, x, self._xmm_const(m2p63, fsize))
            self.trap_if(Cond.NE, TrapCode.INTEGER_OVERFLOW)
        else:
            zero = Label()
            a.jcc_l(Cond.P, zero)
            a.xorps_xx(XMM15, XMM15)
            self._ucomi(fsize, x, XMM15)
            a.jcc_l(Cond.B, done)
            a.mov_ri(r, 0x7FFF_FFFF_FFFF_FFFF)
            a.jmp_l(done)
            self.buf.bind(zero)
            a.xor32_rr(r, r)
        self.buf.bind(done)

    def _trunc_i64_u(self, kind: TruncKind, fsize: int, src: int, dst: int) -> None:
        a = self.asm
        x, r = _X[src], _G[dst]
        cvt = a.cvttsd2si_rx if fsize == 8 else a.cvttss2si_rx
        two63 = self._xmm_const(_F64_2P63 if fsize == 8 else _F32_2P63, fsize)
        done, big, slow, over = Label(), Label(), Label(), Label()
        self._ucomi(fsize, x, two63)
        a.jcc_l(Cond.AE, big)
        cvt(r, x)  # x < 2**63 or NaN
        a.test_rr(r, r)
        a.jcc_l(Cond.S, slow)
        a.jmp_l(done)
        self.buf.bind(big)
        (a.subsd_xx if fsize == 8 else a.subss_xx)(x, two63)
        cvt(r, x)
        a.test_rr(r, r)
        a.jcc_l(Cond.S, over)
        a.btc_ri(r, 63)
        a.jmp_l(done)
        self.buf.bind(slow)  # NaN, or x <= -1
        self._ucomi(fsize, x, x)
        if kind == TruncKind.TRAPPING:
            self.trap_if(Cond.P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            self.buf.bind(over)
            self.trap(TrapCode.INTEGER_OVERFLOW)
        else:
            a.xor32_rr(r, r)
            a.jmp_l(done)
            self.buf.bind(over)
            a.mov_ri(r, -1)
        self.buf.bind(done)

    # -- VM context access ---------------------------------------------------------------

    def load_vmctx_field(self, dst: int, field: int) -> None:
        """``dst = [r14 + field]``."""
        self.asm.mov_rm(_G[dst], self.mem(R14, field))

    def global_addr(self, index: int) -> Mem:
        """Put the address of global ``index``'s cell in ``r11``; return ``[r11]``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.GLOBALS))
        a.mov_rm(R11, self.mem(R11, 8 * index))
        return self.mem(R11, 0)

    def memory_size(self, dst: int) -> None:
        """``dst`` = current memory 0 size in pages."""
        a = self.asm
        if self.heap_pinned:
            self.heap_used = True
            a.mov_rm(_G[dst], self.mem(12, MEMORY.SIZE))
        else:
            a.mov_rm(R11, self.mem(14, VMCTX.MEMORY))
            a.mov_rm(_G[dst], self.mem(11, MEMORY.SIZE))
        a.shr_ri(_G[dst], 16)

    def load_heap_regs(self) -> None:
        """Load the pinned ``r12`` (VMMemory*) and ``r13`` (heap base).

        NB: a function that turns out not to touch memory gets these loads
        overwritten with a NOP by :meth:`finish_function`.
        """
        if self.heap_pinned:
            a = self.asm
            at = len(self.buf.data)
            a.mov_rm(R12, self.mem(14, VMCTX.MEMORY))
            a.mov_rm(R13, self.mem(12, MEMORY.BASE))
            self._heap_loads.append((at, len(self.buf.data) - at))

    def heap_addr(self, addr: int, offset: int, size: int) -> Mem:
        """Bounds-check an access of ``size`` bytes at ``addr + offset``.

        ``addr`` holds the zero-extended i32 address and is clobbered (it
        becomes the end of the access).  Without pinned heap registers,
        ``r11`` ends up holding the memory base.  Returns the operand
        addressing the access.
        """
        a = self.asm
        r = _G[addr]
        end = offset + size
        if self.heap_pinned:
            self.heap_used = True
            ekey = (12, addr, end)
            data = self._data
            enc = self._enc.get(ekey)
            if enc is not None:
                data += enc
            else:
                start = len(data)
                if end <= 0x7FFF_FFFF:
                    a.add_ri(r, end)
                else:
                    a.mov_ri(R11, end)
                    a.add_rr(r, R11)
                a.cmp_rm(r, self._heap_size)
                self._enc[ekey] = bytes(data[start:])
            self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
            key = (addr, size)
            m = self._heap_mems.get(key)
            if m is None:
                m = self._heap_mems[key] = Mem(R13, -size, r, 1)
            return m
        if end <= 0x7FFF_FFFF:
            a.add_ri(r, end)
        else:
            a.mov_ri(R11, end)
            a.add_rr(r, R11)
        a.mov_rm(R11, self.mem(14, VMCTX.MEMORY))
        a.cmp_rm(r, self.mem(11, MEMORY.SIZE))
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(11, MEMORY.BASE))
        return self.mem(11, -size, addr)

    def heap_load(self, m: Mem, dst: int, size: int, signed: bool, to64: bool) -> None:
        """Cached-encoding front of :meth:`_enc_heap_load`."""
        key = (9, id(m), dst, size, signed, to64)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_heap_load(m, dst, size, signed, to64)
        self._enc[key] = bytes(data[start:])

    def _enc_heap_load(self, m: Mem, dst: int, size: int, signed: bool, to64: bool) -> None:
        """Load ``size`` bytes from ``m`` into ``dst`` (extended as asked)."""
        a = self.asm
        if dst >= _XMM0:
            (a.movsd_xm if size == 8 else a.movss_xm)(_X[dst], m)
            return
        d = _G[dst]
        if size == 8:
            a.mov_rm(d, m)
        elif size == 4:
            if signed and to64:
                a.movsx32_rm(d, m)
            else:
                a.mov32_rm(d, m)
        elif size == 2:
            if not signed:
                a.movzx16_rm(d, m)
            elif to64:
                a.movsx16_rm(d, m)
            else:
                a.movsx16to32_rm(d, m)
        elif not signed:
            a.movzx8_rm(d, m)
        elif to64:
            a.movsx8_rm(d, m)
        else:
            a.movsx8to32_rm(d, m)

    def heap_store(self, m: Mem, src: int, size: int) -> None:
        """Cached-encoding front of :meth:`_enc_heap_store`."""
        key = (10, id(m), src, size)
        enc = self._enc.get(key)
        data = self._data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_heap_store(m, src, size)
        self._enc[key] = bytes(data[start:])

    def _enc_heap_store(self, m: Mem, src: int, size: int) -> None:
        """Store the low ``size`` bytes of ``src`` to ``m``."""
        a = self.asm
        if src >= _XMM0:
            (a.movsd_mx if size == 8 else a.movss_mx)(m, _X[src])
        elif size == 8:
            a.mov_mr(m, _G[src])
        elif size == 4:
            a.mov32_mr(m, _G[src])
        elif size == 2:
            a.mov16_mr(m, _G[src])
        else:
            a.mov8_mr(m, _G[src])

    @staticmethod
    def can_store_const(size: int, bits: int) -> bool:
        """Whether :meth:`heap_store_const` takes ``bits`` for a ``size``-byte store
        (8 bytes need a sign-extended 32-bit immediate)."""
        return size < 8 or bits < 0x8000_0000 or bits >= 0xFFFF_FFFF_8000_0000

    def heap_store_const(self, m: Mem, bits: int, size: int) -> None:
        """Store the low ``size`` bytes of the constant ``bits`` to ``m``.

        Only for constants :meth:`can_store_const` accepts.
        """
        a = self.asm
        if size == 8:
            a.mov_mi(m, bits - (1 << 64) if bits >= _I64_SIGN else bits)
        elif size == 4:
            a.mov32_mi(m, bits & 0xFFFF_FFFF)
        elif size == 2:
            a.mov16_mi(m, bits & 0xFFFF)
        else:
            a.mov8_mi(m, bits & 0xFF)

    def table_addr(self, table: int, index: int) -> Mem:
        """Bounds-check ``index`` against table ``table``; return its element slot.

        Traps ``TABLE_OUT_OF_BOUNDS``.  Uses ``r11``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(R11, 8 * table))
        a.cmp_rm(_G[index], self.mem(R11, TABLE.SIZE))
        self.trap_if(Cond.AE, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(R11, TABLE.ELEMENTS))
        return self.mem(R11, 0, index, 8)

    def table_size(self, table: int, dst: int) -> None:
        """``dst`` = the element count of table ``table``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(R11, 8 * table))
        a.mov_rm(_G[dst], self.mem(R11, TABLE.SIZE))

    def func_ref(self, func: int, dst: int) -> None:
        """``dst`` = the ``VMFuncRef*`` of function ``func``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.FUNCS))
        a.mov_rm(_G[dst], self.mem(R11, 8 * func))

    # -- calls ----------------------------------------------------------------------------

    def call_direct(self, label: Label) -> int:
        """Call a function of this module; return the return address's offset.

        ``r14`` needs no reload: a Wasm callee of the same instance leaves it as is.
        """
        self.asm.call_l(label)
        ret = len(self.buf.data)
        self.call_sites[ret] = self.pc
        return ret

    def call_funcref(self, ref: int) -> int:
        """Call through a ``VMFuncRef*`` in ``ref`` (switching ``r14``), then reload ``r14``.

        Returns the offset of the return address.
        """
        a = self.asm
        a.mov_rm(R14, self.mem(ref, FUNCREF.VMCTX))
        a.call_m(self.mem(ref, FUNCREF.CODE))
        ret = len(self.buf.data)
        self.call_sites[ret] = self.pc
        a.mov_rm(R14, self.frame(-8))
        self.load_heap_regs()
        return ret

    def check_funcref(self, ref: int, sig_id: int | None, type_index: int) -> None:
        """Trap unless ``ref`` is non-null with the expected signature."""
        a = self.asm
        r = _G[ref]
        a.test_rr(r, r)
        self.trap_if(Cond.E, TrapCode.ELEMENT_UNINITIALIZED)
        if sig_id is not None and sig_id <= 0x7FFF_FFFF:
            a.cmp_mi(self.mem(ref, FUNCREF.SIG_ID), sig_id)
        else:
            a.mov_rm(R11, self.mem(R14, VMCTX.SIG_IDS))
            a.mov_rm(R11, self.mem(R11, 8 * type_index))
            a.cmp_rm(R11, self.mem(ref, FUNCREF.SIG_ID))
        self.trap_if(Cond.NE, TrapCode.BAD_SIGNATURE)

    def libcall(self, op: int) -> None:
        """Call ``libcall(vmctx, op, &out0)`` (System V); trap on a non-zero status.

        Arguments are already in the outgoing slots; all registers are free.
        """
        a = self.asm
        a.mov_rr(RDI, R14)
        a.mov32_ri(RSI, op)
        a.mov_rr(RDX, RSP)
        a.mov_rm(RAX, self.mem(R14, VMCTX.STORE))
        a.call_m(self.mem(RAX, STORE.LIBCALL))
        self.call_sites[len(self.buf.data)] = self.pc
        a.test32_rr(RAX, RAX)
        stub = self._dyn_stubs.get(self.pc)
        if stub is None:
            stub = self._dyn_stubs[self.pc] = Label("trap_dyn")
            if self.trap_state is not None:
                self._stub_states[(-1, self.pc)] = self.trap_state()
        a.jcc_l(Cond.NE, stub)

    # -- bulk memory and tables ----------------------------------------------------------
    #
    # Operands arrive in the registers the string instructions use (zero-extended
    # i32): rdi = destination, rsi = source, rcx = count, rax = fill value.  The
    # whole range is checked first, so an out-of-bounds operation writes nothing;
    # ``end <= size`` passes, so ``n = 0`` at the very end is fine.  Copies run
    # backward exactly when the destination starts inside the source range
    # (``dst - src < len`` unsigned), which is the only overlap a forward copy
    # would corrupt::
    #
    #       lea  r11, [rsi + rcx]  ; cmp r11, size ; ja trap     (source range)
    #       lea  r11, [rdi + rcx]  ; cmp r11, size ; ja trap     (destination range)
    #       rsi, rdi += base
    #       mov  r11, rdi ; sub r11, rsi ; cmp r11, len ; jb back
    #       rep movs ; jmp done
    # back: rsi, rdi += len - width ; std ; rep movs ; cld
    # done:

    def memory_copy(self) -> None:
        """``memory.copy`` within memory 0: rdi = dst, rsi = src, rcx = n (all clobbered).

        Traps ``MEMORY_OUT_OF_BOUNDS``; uses ``r11``.  Needs the pinned heap registers.
        """
        a = self.asm
        self.heap_used = True
        a.lea_rm(R11, self.mem(6, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.lea_rm(R11, self.mem(7, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.add_rr(RSI, R13)
        a.add_rr(RDI, R13)
        self._copy_either_way(1, R11)

    def memory_fill(self) -> None:
        """``memory.fill`` of memory 0: rdi = dst, al = value, rcx = n (all clobbered).

        Traps ``MEMORY_OUT_OF_BOUNDS``; uses ``r11``.  Needs the pinned heap registers.
        """
        a = self.asm
        self.heap_used = True
        a.lea_rm(R11, self.mem(7, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.add_rr(RDI, R13)
        a.rep_stosb()

    def table_copy(self, dst_table: int, src_table: int) -> None:
        """``table.copy``: rdi = dst, rsi = src, rcx = n; clobbers those, rax, rdx, r11.

        Traps ``TABLE_OUT_OF_BOUNDS``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(14, VMCTX.TABLES))
        a.mov_rm(RAX, self.mem(11, 8 * src_table))
        a.mov_rm(R11, self.mem(11, 8 * dst_table))
        a.lea_rm(RDX, self.mem(6, 0, 1))
        a.cmp_rm(RDX, self.mem(0, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.lea_rm(RDX, self.mem(7, 0, 1))
        a.cmp_rm(RDX, self.mem(11, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(RAX, self.mem(0, TABLE.ELEMENTS))
        a.lea_rm(RSI, self.mem(0, 0, 6, 8))
        a.mov_rm(R11, self.mem(11, TABLE.ELEMENTS))
        a.lea_rm(RDI, self.mem(11, 0, 7, 8))
        self._copy_either_way(8, RDX)

    def table_fill(self, table: int) -> None:
        """``table.fill``: rdi = dst, rax = value, rcx = n; clobbers rdi, rcx, rdx, r11.

        Traps ``TABLE_OUT_OF_BOUNDS``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(11, 8 * table))
        a.lea_rm(RDX, self.mem(7, 0, 1))
        a.cmp_rm(RDX, self.mem(11, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(11, TABLE.ELEMENTS))
        a.lea_rm(RDI, self.mem(11, 0, 7, 8))
        a.rep_stosq()

    def _copy_either_way(self, width: int, tmp: Reg) -> None:
        """Copy ``rcx`` elements of ``width`` bytes from ``[rsi]`` to ``[rdi]``, overlap-safe.

        Backward (``std``) only when ``rdi`` lies inside ``[rsi, rsi + rcx*width)``.
        """
        a = self.asm
        buf = self.buf
        rep = a.rep_movsb if width == 1 else a.rep_movsq
        back, done = Label("copy_back"), Label("copy_done")
        a.mov_rr(tmp, RDI)
        a.sub_rr(tmp, RSI)
        if width == 1:
            a.cmp_rr(tmp, RCX)
        else:
            a.shr_ri(tmp, 3)  # element distance: rdi - rsi is a multiple of 8 when in range
            a.cmp_rr(tmp, RCX)
        a.jcc_l(Cond.B, back)
        rep()
        a.jmp_l(done)
        buf.bind(back)
        a.lea_rm(RSI, self.mem(6, -width, 1, width))
        a.lea_rm(RDI, self.mem(7, -width, 1, width))
        a.std()
        rep()
        a.cld()
        buf.bind(done)

    # -- control ----------------------------------------------------------------------------

    def jmp(self, label: Label) -> None:
        """Unconditional jump."""
        self.asm.jmp_l(label)

    def branch_if(self, reg: int, nonzero: bool, label: Label) -> None:
        """Jump to ``label`` if the i32 in ``reg`` is (non)zero."""
        self.asm.test32_rr(_G[reg], _G[reg])
        self.asm.jcc_l(Cond.NE if nonzero else Cond.E, label)

    def jump_table(self, index: int, targets: list[Label], default: Label) -> None:
        """``goto targets[index]`` if ``index < len(targets)`` (unsigned) else ``default``.

        Clobbers ``index`` and ``r11``.
        """
        a = self.asm
        r = _G[index]
        a.cmp32_ri(r, len(targets))
        a.jcc_l(Cond.AE, default)
        table = Label("jump_table")
        a.lea_rl(R11, table)
        a.movsx32_rm(r, self.mem(11, 0, index, 4))
        a.add_rr(r, R11)
        a.jmp_r(r)
        buf = self.buf
        buf.align(4)
        buf.bind(table)
        origin = table.offset
        for t in targets:
            buf.emit_label_rel32(t, origin)

    def prologue(self, interrupt_token: object = None) -> None:
        """Frame set-up, stack-limit and interrupt checks (frame size patched later).

        ``interrupt_token`` goes with the interrupt check into
        ``interrupt_sites`` (debug mode only).
        """
        self.heap_used = False
        self._heap_loads.clear()
        if not self.debug_hooks and self.trap_state is None:
            # NB: the same bytes for every function: encoded once per process
            tmpl = _PROLOGUES.get(self.heap_pinned)
            if tmpl is None:
                tmpl = _PROLOGUES[self.heap_pinned] = _prologue_template(self.heap_pinned)
            code, frame_patch, stubs, heap_loads = tmpl
            data = self._data
            base = len(data)
            data += code
            self._frame_patch = base + frame_patch
            pc = self.pc
            all_stubs = self._stubs
            for trap, at in stubs:
                fixups = all_stubs.get((trap, pc))
                if fixups is None:
                    fixups = all_stubs[(trap, pc)] = []
                fixups.append(base + at)
            for at, size in heap_loads:
                self._heap_loads.append((base + at, size))
            return
        self._encode_prologue(interrupt_token)

    def _encode_prologue(self, interrupt_token: object) -> None:
        a = self.asm
        a.push_r(RBP)
        a.mov_rr(RBP, RSP)
        a.push_r(R14)
        self._frame_patch = a.sub_ri32(RSP, 0)
        a.mov_rm(R11, self.mem(R14, VMCTX.STORE))
        a.cmp_rm(RSP, self.mem(R11, STORE.STACK_LIMIT))
        self.trap_if(Cond.B, TrapCode.STACK_OVERFLOW)
        self._check_interrupt_flag(interrupt_token)
        self.load_heap_regs()

    def set_frame_size(self, size: int) -> None:
        """Patch the prologue's ``sub rsp, size``."""
        self.buf.patch_u32(self._frame_patch, size)

    def zero_frame(self, first_disp: int, count: int) -> None:
        """Zero ``count`` slots ``[rbp+first_disp]``, ``[rbp+first_disp-8]`` ..."""
        if count == 0:
            return
        a = self.asm
        a.xor32_rr(RAX, RAX)
        if count <= 8:
            for i in range(count):
                a.mov_mr(self.frame(first_disp - 8 * i), RAX)
            return
        # rcx = count .. 1 covers [rbp + first_disp - 8*(count-1)] .. [rbp + first_disp]
        a.mov32_ri(RCX, count)
        loop = Label()
        self.buf.bind(loop)
        a.mov_mr(Mem(RBP, first_disp - 8 * count, RCX, 8), RAX)
        a.sub32_ri(RCX, 1)
        a.jcc_l(Cond.NE, loop)

    def interrupt_check(self, token: object = None) -> None:
        """Trap with ``INTERRUPT`` if the store's interrupt flag is set.

        With ``debug_hooks``: call the debug trampoline instead (and go on);
        ``token`` is recorded with the stub's return address.
        """
        self.asm.mov_rm(R11, self.mem(R14, VMCTX.STORE))
        self._check_interrupt_flag(token)

    def _check_interrupt_flag(self, token: object) -> None:
        """The check proper; ``r11`` holds the VMStoreContext*."""
        self.asm.cmp_mi(self.mem(R11, STORE.INTERRUPT), 0)
        if not self.debug_hooks:
            self.trap_if(Cond.NE, TrapCode.INTERRUPT)
            return
        stub, back = Label("interrupt"), Label("interrupt_back")
        self.asm.jcc_l(Cond.NE, stub)
        self.buf.bind(back)
        self._interrupt_stubs.append((stub, back, self.pc, token))

    def epilogue(self) -> None:
        """Return to the caller (results are already in the argument area)."""
        self.asm.leave()
        self.asm.ret()

    def patch_site(self) -> int:
        """Emit the 5-byte breakpoint patch site; return its offset."""
        at = len(self.buf.data)
        self.asm.nop5()
        return at

    # -- traps ------------------------------------------------------------------------------

    def trap_if(self, cond: Cond, code: TrapCode) -> None:
        """Jump to a trap stub for ``code`` if ``cond`` holds."""
        key = (code, self.pc)
        fixups = self._stubs.get(key)
        if fixups is None:
            fixups = self._stubs[key] = []
            if self.trap_state is not None:
                self._stub_states[key] = self.trap_state()
        fixups.append(self.asm.jcc_fixup(cond))

    def trap(self, code: TrapCode) -> None:
        """Trap unconditionally (inline ``call``; the site is the return address)."""
        state = self.trap_state() if self.trap_state is not None else None
        if state is not None:
            self._spill_for_trap(state[0])
        self.asm.call_l(self._trap_routine(code))
        ret = len(self.buf.data)
        self.trap_sites[ret] = self.pc
        if state is not None:
            self.trap_states.append((ret, state[1]))

    def _spill_for_trap(self, spills: list[tuple[int, int, int]]) -> None:
        """Store register-held operand-stack values to their slots (debug-mode trap paths)."""
        for size, reg, disp in spills:
            self.store_frame(size, reg, disp)

    def _trap_routine(self, code: int) -> Label:
        label = self._trap_routines.get(code)
        if label is None:
            label = self._trap_routines[code] = Label(f"trap_{code}")
        return label

    def finish_function(self) -> None:
        """Emit the current function's out-of-line trap stubs."""
        a = self.asm
        buf = self.buf
        states = self._stub_states
        data = buf.data
        trap_sites = self.trap_sites
        routines = self._trap_routines
        emit_rel32 = buf.emit_label_rel32
        for key, fixups in self._stubs.items():
            code, pc = key
            here = len(data)
            for at in fixups:
                _pack_i32_into(data, at, here - at - 4)
            state = states.get(key) if states else None
            if state is not None:
                self._spill_for_trap(state[0])
            routine = routines.get(code)
            if routine is None:
                routine = self._trap_routine(code)
            data.append(0xE8)  # call rel32 (inline Assembler.call_l)
            emit_rel32(routine)
            trap_sites[len(data)] = pc
            if state is not None:
                self.trap_states.append((len(data), state[1]))
        for pc, label in self._dyn_stubs.items():
            buf.bind(label)
            a.mov32_rr(RAX, RAX)  # the status is an int32: clear the upper half
            a.call_l(self._trap_common)
            self.trap_sites[len(buf.data)] = pc
            state = states.get((-1, pc))
            if state is not None:
                self.trap_states.append((len(buf.data), state[1]))
        states.clear()
        for stub, back, pc, token in self._interrupt_stubs:
            buf.bind(stub)
            a.call_m(self.mem(R11, STORE.DEBUG_TRAMPOLINE))
            ret = len(buf.data)
            self.trap_sites[ret] = pc  # where a backtrace says an INTERRUPT trap was
            self.interrupt_sites.append((ret, token))
            a.jmp_l(back)
        self._stubs.clear()
        self._dyn_stubs.clear()
        self._interrupt_stubs.clear()
        if not self.heap_used:
            for at, size in self._heap_loads:
                buf.patch_bytes(at, _nop_bytes(size))
        self._heap_loads.clear()

    def finish_module(self) -> bytes:
        """Emit the shared trap routines and return the module's code."""
        a = self.asm
        buf = self.buf
        for code, label in self._trap_routines.items():
            buf.bind(label)
            a.mov32_ri(RAX, code)
            a.jmp_l(self._trap_common)
        buf.bind(self._trap_common)
        a.pop_r(RCX)
        a.mov_rm(RDX, self.mem(R14, VMCTX.STORE))
        a.mov_mr(self.mem(RDX, STORE.TRAP_CODE), RAX)
        a.mov_mr(self.mem(RDX, STORE.TRAP_PC), RCX)
        a.mov_mr(self.mem(RDX, STORE.TRAP_FP), RBP)
        if self.debug_hooks:
            # debughook(fp, trap_pc, 0) while the frames are live (System V call)
            a.mov_rr(RDI, RBP)
            a.mov_rr(RSI, RCX)
            a.mov_rm(RAX, self.mem(RDX, STORE.DEBUGHOOK))
            a.xor32_rr(RDX, RDX)
            a.and_ri(RSP, -16)
            a.call_r(RAX)
            a.mov_rm(RDX, self.mem(R14, VMCTX.STORE))
            a.mov32_rm(RAX, self.mem(RDX, STORE.TRAP_CODE))
        a.mov_rm(RSP, self.mem(RDX, STORE.ENTRY_RSP))
        a.ret()
        return buf.finish()


# the non-debug prologue per heap_pinned: (code, offset of the frame-size field,
# (trap code, offset of the rel32 of its check) in order, heap-register loads)
_PrologueTemplate = tuple[bytes, int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
_PROLOGUES: dict[bool, _PrologueTemplate] = {}


def _prologue_template(heap_pinned: bool) -> _PrologueTemplate:
    m = MacroAssembler()
    m.heap_pinned = heap_pinned
    m._encode_prologue(None)
    stubs = tuple((code, at) for (code, _pc), fixups in m._stubs.items() for at in fixups)
    return bytes(m._data), m._frame_patch, stubs, tuple(m._heap_loads)
