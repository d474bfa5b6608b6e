"""Floating-point operations of the macro-assembler (SSE2/SSE4.1 scalar code).

This module owns how Wasm's f32/f64 semantics map onto SSE: arithmetic,
``min``/``max`` with NaN and signed-zero rules, ``copysign``, ``abs``/``neg``
by mask, rounding, comparisons (unordered cases included), and the
conversions to and from integers with their trapping and saturating range
checks.  Float values live in ``xmm0``-``xmm14`` (register numbers 16-30);
``xmm15`` and ``r11`` are scratch.
"""

from __future__ import annotations

from .abi import TrapCode
from .codebuf import Label
from .ops import FloatBinOp, FloatCmpKind, RoundingMode, TruncKind
from .outofline import OutOfLine
from .x64 import Cond, Reg, Xmm

__all__ = ["FloatOps"]

_G: tuple[Reg, ...] = tuple(Reg)
_X: tuple[Xmm, ...] = tuple(Xmm) * 2  # indexed by register number 16..31

RAX, RCX, RDX, R11 = Reg.RAX, Reg.RCX, Reg.RDX, Reg.R11
RBP = Reg.RBP
XMM15 = Xmm.XMM15
_XMM0 = 16

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


class FloatOps(OutOfLine):
    """The floating-point part of :class:`~wasmdbg.jit.masm.MacroAssembler`."""

    def __init__(self) -> None:
        super().__init__()
        a = self.asm
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
                self._ucomi(fsize, x, self.xmm_const(_F64_M2P31_M1, 8))
                self.trap_if(Cond.BE, TrapCode.INTEGER_OVERFLOW)
                a.xorps_xx(XMM15, XMM15)
                self._ucomi(fsize, x, XMM15)
                self.trap_if(Cond.AE, TrapCode.INTEGER_OVERFLOW)
            else:
                self._ucomi(fsize, x, self.xmm_const(_F32_M2P31, 4))
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
            self._ucomi(fsize, x, self.xmm_const(m2p63, fsize))
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
        two63 = self.xmm_const(_F64_2P63 if fsize == 8 else _F32_2P63, fsize)
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
