"""The macro-assembler: semantic operations on registers and frame slots.

This module owns the translation from *what* the compiler wants done (add two
32-bit integers, compare two f64 values as ``<``, load 4 bytes of linear
memory with a bounds check, trap with ``INTEGER_OVERFLOW`` if ...) to x86-64
instruction sequences, emitted through :class:`~wasmdbg.jit.x64.Assembler`.
It takes semantic enums (:mod:`~wasmdbg.jit.ops`: :class:`IntCmpKind`,
:class:`FloatCmpKind`, :class:`OperandSize` ...) and never sees a Wasm
opcode; the encoder below it never sees a semantic operation.

:class:`MacroAssembler` is assembled from parts, one module each::

    Emitter      emitter.py     code buffer, encoding cache, operands, moves
     └ OutOfLine outofline.py   trap checks, trap stubs and routines, interrupt stubs
        ├ FloatOps   masm_float.py  SSE arithmetic, comparisons, conversions
        └ HeapOps    masm_heap.py   globals, memory (pinned r12/r13), tables, calls, bulk ops
           MacroAssembler (here)    integer arithmetic, flag conditions, control,
                                    prologue/epilogue, interrupt checks

Registers are plain ``int`` numbers shared with :mod:`~wasmdbg.jit.stack`:
0-15 are the GPRs in encoding order, 16-31 are ``xmm0``-``xmm15``.  ``r11``
and ``xmm15`` are this module's scratch registers (never allocated), ``r14``
holds the ``VMContext*``, ``rbp``/``rsp`` frame the function.
"""

from __future__ import annotations

from functools import cache

from .abi import STORE, VMCTX, TrapCode
from .codebuf import CodeBuffer, Label
from .masm_float import FloatOps
from .masm_heap import HeapOps
from .ops import (
    DivKind,
    FlagCond,
    FloatBinOp,
    FloatCmpKind,
    IntBinOp,
    IntCmpKind,
    OperandSize,
    RoundingMode,
    ShiftKind,
    TrapState,
    TruncKind,
)
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

_G: tuple[Reg, ...] = tuple(Reg)
_X: tuple[Xmm, ...] = tuple(Xmm) * 2  # indexed by register number 16..31

RAX, RCX, RDX, R11, R14 = Reg.RAX, Reg.RCX, Reg.RDX, Reg.R11, Reg.R14
RSP, RBP = Reg.RSP, Reg.RBP
_XMM0 = 16
_I64_SIGN = 1 << 63
# IntCmpKind -> the condition after ``cmp a, b``
_INT_COND = (Cond.E, Cond.NE, Cond.L, Cond.B, Cond.G, Cond.A, Cond.LE, Cond.BE, Cond.GE, Cond.AE)


@cache
def _nop_bytes(size: int) -> bytes:
    """``size`` bytes of multi-byte NOPs (cached: the same few sizes every function)."""
    buf = CodeBuffer()
    Assembler(buf).nop_n(size)
    return bytes(buf.data)


class MacroAssembler(FloatOps, HeapOps):
    """Semantic code emission for one module (functions are emitted in turn).

    ``pc`` is the Wasm offset of the instruction being compiled; trap checks
    and calls record it in ``trap_sites``/``call_sites`` (keys are offsets in
    the module blob).
    """

    def __init__(self) -> None:
        super().__init__()
        self._frame_patch = -1
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

    # -- integer arithmetic ---------------------------------------------------------

    def int_binop(self, op: IntBinOp, size: int, dst: int, src: int) -> None:
        """Cached-encoding front of :meth:`_enc_int_binop`."""
        key = (4, op, size, dst, src)
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_binop(op, size, dst, src)
        self.enc[key] = bytes(data[start:])

    def _enc_int_binop(self, op: IntBinOp, size: int, dst: int, src: int) -> None:
        """``dst = dst <op> src``."""
        self._binop_rr[op][size == 8](_G[dst], _G[src])

    def int_binop_imm(self, op: IntBinOp, size: int, dst: int, imm: int) -> bool:
        """Cached-encoding front of :meth:`_enc_int_binop_imm`."""
        key = (5, op, size, dst, imm)
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return True
        start = len(data)
        if not self._enc_int_binop_imm(op, size, dst, imm):
            return False
        self.enc[key] = bytes(data[start:])
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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_binop_frame(op, size, dst, disp)
        self.enc[key] = bytes(data[start:])

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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return True
        start = len(data)
        if not self._enc_int_cmp_imm(size, a, imm):
            return False
        self.enc[key] = bytes(data[start:])
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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_int_cmp_frame(size, a, disp)
        self.enc[key] = bytes(data[start:])

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
        self.heap_loads.clear()
        if not self.debug_hooks and self.trap_state is None:
            # NB: the same bytes for every function: encoded once per process
            tmpl = _PROLOGUES.get(self.heap_pinned)
            if tmpl is None:
                tmpl = _PROLOGUES[self.heap_pinned] = _prologue_template(self.heap_pinned)
            code, frame_patch, stubs, heap_loads = tmpl
            data = self.data
            base = len(data)
            data += code
            self._frame_patch = base + frame_patch
            pc = self.pc
            all_stubs = self.trap_stubs
            for trap, at in stubs:
                fixups = all_stubs.get((trap, pc))
                if fixups is None:
                    fixups = all_stubs[(trap, pc)] = []
                fixups.append(base + at)
            for at, size in heap_loads:
                self.heap_loads.append((base + at, size))
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

        One instruction against memory: the VMContext's mirror of the flag
        (``VMCTX.INTERRUPT``, written by the Store with the flag itself).
        With ``debug_hooks``: call the debug trampoline instead (and go on);
        ``token`` is recorded with the stub's return address.
        """
        self.asm.cmp_mi(self.mem(R14, VMCTX.INTERRUPT), 0)
        if not self.debug_hooks:
            self.trap_if(Cond.NE, TrapCode.INTERRUPT)
            return
        self.interrupt_stub(token, load_store=True)

    def _check_interrupt_flag(self, token: object) -> None:
        """The prologue's check; ``r11`` already holds the VMStoreContext*."""
        self.asm.cmp_mi(self.mem(R11, STORE.INTERRUPT), 0)
        if not self.debug_hooks:
            self.trap_if(Cond.NE, TrapCode.INTERRUPT)
            return
        self.interrupt_stub(token)

    def epilogue(self) -> None:
        """Return to the caller (results are already in the argument area)."""
        self.asm.leave()
        self.asm.ret()

    def patch_site(self) -> int:
        """Emit the 5-byte breakpoint patch site; return its offset."""
        at = len(self.buf.data)
        self.asm.nop5()
        return at

    def new_blob(self) -> None:
        """Start a new, empty code blob (after :meth:`finish_module`), keeping the
        encoding caches: lazy compilation makes one blob per function."""
        self.reset_blob()
        self.heap_loads.clear()
        self.table_calls = []

    def finish_function(self) -> None:
        """Emit the current function's out-of-line stubs; drop its unused heap loads."""
        self.emit_stubs()
        buf = self.buf
        if not self.heap_used:
            for at, size in self.heap_loads:
                buf.patch_bytes(at, _nop_bytes(size))
        self.heap_loads.clear()


# the non-debug prologue per heap_pinned: (code, offset of the frame-size field,
# (trap code, offset of the rel32 of its check) in order, heap-register loads)
_PrologueTemplate = tuple[bytes, int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
_PROLOGUES: dict[bool, _PrologueTemplate] = {}


def _prologue_template(heap_pinned: bool) -> _PrologueTemplate:
    m = MacroAssembler()
    m.heap_pinned = heap_pinned
    m._encode_prologue(None)
    stubs = tuple((code, at) for (code, _pc), fixups in m.trap_stubs.items() for at in fixups)
    return bytes(m.data), m._frame_patch, stubs, tuple(m.heap_loads)
