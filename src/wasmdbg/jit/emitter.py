"""The emitter base of the macro-assembler: code buffer, operands and moves.

This module owns what every part of the macro-assembler needs: the module's
:class:`~wasmdbg.jit.codebuf.CodeBuffer` and its
:class:`~wasmdbg.jit.x64.Assembler`, the cache of already-encoded
position-independent sequences (``enc``: the first emission encodes, later
ones copy the bytes), memory-operand caches, and the moves between
registers, frame slots and constants.

Registers are plain ``int`` numbers shared with :mod:`~wasmdbg.jit.stack`:
0-15 are the GPRs in encoding order (:class:`~wasmdbg.jit.x64.Reg`), 16-31
are ``xmm0``-``xmm15``.  ``r11`` and ``xmm15`` are the macro-assembler's
scratch registers (never allocated).
"""

from __future__ import annotations

from .codebuf import CodeBuffer, Label
from .x64 import Assembler, Mem, Reg, Xmm

__all__ = ["Emitter"]

_G: tuple[Reg, ...] = tuple(Reg)
_X: tuple[Xmm, ...] = tuple(Xmm) * 2  # indexed by register number 16..31

RBP, R11 = Reg.RBP, Reg.R11
RSP = Reg.RSP
XMM15 = Xmm.XMM15
_XMM0 = 16


class Emitter:
    """Code buffer, operand caches and register/slot moves for one module.

    ``pc`` is the Wasm offset of the instruction being compiled; trap checks
    and calls record it in ``trap_sites``/``call_sites`` (keys are offsets in
    the module blob).  ``data`` (the buffer's bytearray) and ``enc`` (the
    encoding cache) are public because every part of the macro-assembler,
    split across ``masm*.py``, appends through them.
    """

    def __init__(self) -> None:
        self.buf = CodeBuffer()
        self.asm = Assembler(self.buf)
        self.data = self.buf.data  # NB: the buffer never replaces its bytearray
        # encodings of position-independent instruction sequences, by operands
        # (the first emission encodes, later ones copy the bytes)
        self.enc: dict[tuple[object, ...], bytes] = {}
        self.pc = 0
        self.trap_sites: dict[int, int] = {}
        self.call_sites: dict[int, int] = {}
        self._frame_mems: dict[int, Mem] = {}
        self._out_mems: dict[int, Mem] = {}
        self._mems: dict[tuple[int, int, int, int], Mem] = {}
        self.bound_at = -1  # offset of the last label bound through bind()

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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_load_frame(size, reg, disp)
        self.enc[key] = bytes(data[start:])

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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_store_frame(size, reg, disp)
        self.enc[key] = bytes(data[start:])

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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_copy_frame(dst_disp, src_disp)
        self.enc[key] = bytes(data[start:])

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
        enc = self.enc.get(key)
        data = self.data
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_load_const(reg, bits)
        self.enc[key] = bytes(data[start:])

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

    def xmm_const(self, bits: int, size: int) -> Xmm:
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
