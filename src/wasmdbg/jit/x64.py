"""x86-64 instruction encoder: one method per instruction form.

Shaped after PyPy's ``rx86.py``: every instruction form is one method whose
body is a single call to a shared encoding step (``_rr``, ``_rm`` ...)
with the prefix, REX.W and opcode bytes spelled out, so the class reads as
a table.  The :class:`Assembler` appends straight to a
:class:`~wasmdbg.jit.codebuf.CodeBuffer`; it knows nothing about Wasm.

Legend (method names)
---------------------
``<mnemonic>[<width>]_<kinds>``

kinds, one letter per explicit operand, in Intel order (dst, src, extra):

    r   general-purpose register (:class:`Reg`)
    m   memory operand (:class:`Mem`)
    i   immediate (``int``)
    x   XMM register (:class:`Xmm`)
    l   code label (:class:`~wasmdbg.jit.codebuf.Label`), encoded rel32

A number after the kinds forces an immediate's width, for code patched
later: ``mov_ri64`` always encodes a full 64-bit immediate, ``sub_ri32``
never the imm8 short form.  These forms return the offset of the immediate.

``cc`` in a mnemonic (``jcc_l``, ``setcc_r``, ``cmovcc_rr``) means the
method takes a :class:`Cond` as its *first* argument.  Implicit operands
are not part of the name: the shifts ``shl_r``/``sar_r``/... shift by
``cl``; ``mul_r``/``div_r``/... use ``rdx:rax``; the string operations
``rep_movsb``/``rep_stosb``/... use ``rdi``, ``rsi``, ``rcx``, ``rax`` and the
direction flag.

width of integer operations:

    (none)  64-bit (REX.W): ``add_rr`` is ``add r64, r64``
    32      32-bit: ``add32_rr`` is ``add r32, r32`` (writes zero-extend)
    16, 8   stores only: ``mov16_mr``, ``mov8_mr``, ``mov16_mi``, ``mov8_mi``

extending moves name their *source* width; the destination is 64-bit,
except ``...to32`` forms, which write 32 bits (upper half zeroed):

    movzx8_rr/rm, movzx16_rr/rm     zero-extend to 64 (encoded with a r32 dst)
    movsx8_rr/rm, movsx16_rr/rm     sign-extend to 64
    movsx32_rr/rm                   sign-extend to 64 (``movsxd``)
    movsx8to32_rr/rm, movsx16to32_rr/rm  sign-extend to 32

the SSE conversions between integers and floats take the integer width the
same way: ``cvtsi2sd_xr`` reads r64, ``cvtsi2sd32_xr`` reads r32;
``cvttsd2si_rx`` writes r64, ``cvttsd2si32_rx`` writes r32.

Immediates: for 64-bit operations an immediate must be a signed 32-bit
value (it is sign-extended by the CPU); for 32-bit operations any value in
``-2**31 .. 2**32-1`` is accepted and taken modulo 2**32.  The short imm8
encodings are chosen automatically.  ``mov_ri`` picks the shortest of
``mov r32, imm32`` / ``mov r64, simm32`` / ``movabs r64, imm64``;
``mov_ri64`` always emits the 10-byte ``movabs`` (a patchable constant).

Memory operands: ``Mem(base, disp=0, index=None, scale=1)`` is
``[base + index*scale + disp]``.  The ModRM/SIB/displacement bytes are
computed once, when the ``Mem`` is created (rsp/r12 bases need a SIB byte,
rbp/r13 bases need a displacement, disp8 is chosen when it fits).

Errors are :class:`~wasmdbg.jit.codebuf.EncodingError` (a ``ValueError``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from wasmdbg.jit.codebuf import CodeBuffer, EncodingError, Label

__all__ = ["NOP5", "NOPS", "Assembler", "Cond", "EncodingError", "Mem", "Reg", "Xmm", "call_rel32_bytes"]


class Reg(IntEnum):
    """General-purpose registers, numbered as in the encoding."""

    RAX = 0
    RCX = 1
    RDX = 2
    RBX = 3
    RSP = 4
    RBP = 5
    RSI = 6
    RDI = 7
    R8 = 8
    R9 = 9
    R10 = 10
    R11 = 11
    R12 = 12
    R13 = 13
    R14 = 14
    R15 = 15


class Xmm(IntEnum):
    """SSE registers."""

    XMM0 = 0
    XMM1 = 1
    XMM2 = 2
    XMM3 = 3
    XMM4 = 4
    XMM5 = 5
    XMM6 = 6
    XMM7 = 7
    XMM8 = 8
    XMM9 = 9
    XMM10 = 10
    XMM11 = 11
    XMM12 = 12
    XMM13 = 13
    XMM14 = 14
    XMM15 = 15


class Cond(IntEnum):
    """x86 condition codes (the low nibble of ``jcc``/``setcc``/``cmovcc``).

    Unsigned comparisons use B/AE/BE/A, signed ones L/GE/LE/G.  After
    ``ucomiss``/``ucomisd`` the flags look like an unsigned compare, with
    PF=1 when either operand is NaN.
    """

    O = 0  # overflow  # noqa: E741
    NO = 1
    B = 2  # below (unsigned <), carry
    AE = 3  # above or equal (unsigned >=), no carry
    E = 4  # equal, zero
    NE = 5
    BE = 6  # unsigned <=
    A = 7  # unsigned >
    S = 8  # sign
    NS = 9
    P = 10  # parity (unordered after ucomis*)
    NP = 11
    L = 12  # signed <
    GE = 13
    LE = 14
    G = 15  # signed >

    # aliases
    C = 2
    NC = 3
    Z = 4
    NZ = 5

    def invert(self) -> Cond:
        """The condition that holds exactly when this one does not."""
        return _COND_BY_CODE[self ^ 1]

    def swap(self) -> Cond:
        """The condition to test after swapping the compared operands."""
        return _COND_SWAPPED[self]


_COND_BY_CODE = tuple(Cond(c) for c in range(16))
_COND_SWAPPED = tuple(
    Cond(c)
    for c in (
        Cond.O, Cond.NO, Cond.A, Cond.BE, Cond.E, Cond.NE, Cond.AE, Cond.B,
        Cond.S, Cond.NS, Cond.P, Cond.NP, Cond.G, Cond.LE, Cond.GE, Cond.L,
    )
)  # fmt: skip

_REG_NAMES = (
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
)  # fmt: skip

_W = 0x08  # REX.W
_REX = 0x40  # a bare REX prefix (needed to name spl/bpl/sil/dil)
# REX needed when a register is used as an 8-bit operand: spl, bpl, sil, dil
_BYTE_REX = (0, 0, 0, 0, _REX, _REX, _REX, _REX, 0, 0, 0, 0, 0, 0, 0, 0)
_SCALE_BITS = {1: 0x00, 2: 0x40, 4: 0x80, 8: 0xC0}

_pack_i8 = struct.Struct("<b").pack
_pack_i16 = struct.Struct("<h").pack
_pack_i32 = struct.Struct("<i").pack
_pack_i64 = struct.Struct("<q").pack

_ALU_MR = tuple(bytes(((n << 3) | 0x01,)) for n in range(8))  # op r/m, reg
_ALU_RM = tuple(bytes(((n << 3) | 0x03,)) for n in range(8))  # op reg, r/m
_JCC = tuple(bytes((0x0F, 0x80 | c)) for c in range(16))
_SETCC = tuple(bytes((0x0F, 0x90 | c)) for c in range(16))
_CMOVCC = tuple(bytes((0x0F, 0x40 | c)) for c in range(16))

# Intel's recommended multi-byte NOPs (SDM vol. 2B, "NOP"), indexed by length; also
# the NOPs that pad a patch site longer than its E8 rel32 call (jit.frametable)
NOPS: tuple[bytes, ...] = (
    b"",
    b"\x90",
    b"\x66\x90",
    b"\x0f\x1f\x00",
    b"\x0f\x1f\x40\x00",
    b"\x0f\x1f\x44\x00\x00",
    b"\x66\x0f\x1f\x44\x00\x00",
    b"\x0f\x1f\x80\x00\x00\x00\x00",
    b"\x0f\x1f\x84\x00\x00\x00\x00\x00",
    b"\x66\x0f\x1f\x84\x00\x00\x00\x00\x00",
)

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1

#: The 5-byte NOP a disabled patch site holds (``nop dword [rax + rax*1 + 0]``).
NOP5 = NOPS[5]


def call_rel32_bytes(at: int, target: int) -> bytes:
    """The 5 bytes of ``call target`` placed at address ``at`` (``E8`` + rel32).

    What an enabled patch site holds; ``at`` and ``target`` are absolute
    addresses (or offsets in the same code blob).
    """
    return _rel32_bytes(b"\xe8", "call", at, target)


def jmp_rel32_bytes(at: int, target: int) -> bytes:
    """The 5 bytes of ``jmp target`` placed at address ``at`` (``E9`` + rel32)."""
    return _rel32_bytes(b"\xe9", "jmp", at, target)


def _rel32_bytes(op: bytes, what: str, at: int, target: int) -> bytes:
    disp = target - (at + 5)
    if not _I32_MIN <= disp <= _I32_MAX:
        raise EncodingError(f"{what} from {at:#x} to {target:#x} is out of rel32 range")
    return op + _pack_i32(disp)


def _c32(imm: int) -> int:
    """Check a sign-extended imm32 of a 64-bit operation."""
    if not _I32_MIN <= imm <= _I32_MAX:
        raise EncodingError(f"immediate {imm:#x} is not a signed 32-bit value")
    return imm


def _s32(imm: int) -> int:
    """Normalise the immediate of a 32-bit operation to its signed value."""
    if _I32_MIN <= imm <= _I32_MAX:
        return imm
    if imm <= 0xFFFF_FFFF and imm >= 0:
        return imm - (1 << 32)
    raise EncodingError(f"immediate {imm:#x} does not fit in 32 bits")


@lru_cache(maxsize=8192)
def _mem_encoding(base: Reg, disp: int, index: Reg | None, scale: int) -> tuple[int, int, bytes]:
    """The REX.X/REX.B bits, ModRM byte (reg field 0) and SIB+displacement of a Mem."""
    if not _I32_MIN <= disp <= _I32_MAX:
        raise EncodingError(f"displacement {disp:#x} is not a signed 32-bit value")
    scale_bits = _SCALE_BITS.get(scale)
    if scale_bits is None:
        raise EncodingError(f"scale must be 1, 2, 4 or 8, not {scale}")
    low = base & 7
    rex = base >> 3  # REX.B
    if index is not None:
        if index == Reg.RSP:
            raise EncodingError("rsp cannot be an index register")
        rex |= (index >> 3) << 1  # REX.X
        sib: bytes = bytes((scale_bits | ((index & 7) << 3) | low,))
        rm = 4
    elif low == 4:
        # NB: rsp/r12 as base always need a SIB byte (index=100 means none)
        sib = b"\x24"
        rm = 4
    else:
        sib = b""
        rm = low
    if disp == 0 and low != 5:
        mod, disp_bytes = 0x00, b""
    elif -128 <= disp <= 127:
        # NB: rbp/r13 as base with mod=00 would mean rip/disp32, so they get a disp8 of 0
        mod, disp_bytes = 0x40, _pack_i8(disp)
    else:
        mod, disp_bytes = 0x80, _pack_i32(disp)
    return rex, mod | rm, sib + disp_bytes


@dataclass(frozen=True, slots=True)
class Mem:
    """A memory operand ``[base + index*scale + disp]``.

    The encoding (REX.X/REX.B bits, ModRM with an empty reg field, optional
    SIB and displacement) is computed once per distinct operand (and cached
    across instances), so using a ``Mem`` in many instructions costs nothing
    extra.  Creating one costs about a microsecond: keep the ones used often
    (frame slots, VMContext fields).
    """

    base: Reg
    disp: int = 0
    index: Reg | None = None
    scale: int = 1
    # (REX.X|REX.B bits, ModRM with reg=0, SIB and displacement bytes)
    _enc: tuple[int, int, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_enc", _mem_encoding(self.base, self.disp, self.index, self.scale)
        )

    def __str__(self) -> str:
        text = _REG_NAMES[self.base]
        if self.index is not None:
            text += f" + {_REG_NAMES[self.index]}*{self.scale}"
        if self.disp:
            text += f" - {-self.disp:#x}" if self.disp < 0 else f" + {self.disp:#x}"
        return f"[{text}]"


class Assembler:
    """Appends x86-64 instructions to a :class:`CodeBuffer` (see the module legend)."""

    __slots__ = ("_d", "buf")

    def __init__(self, buf: CodeBuffer | None = None) -> None:
        self.buf = buf if buf is not None else CodeBuffer()
        self._d = self.buf.data  # NB: the buffer never replaces its bytearray

    # -- conveniences (not instructions) ---------------------------------------

    @property
    def offset(self) -> int:
        """The offset of the next instruction."""
        return len(self._d)

    def new_label(self, name: str = "") -> Label:
        """A fresh unbound label."""
        return Label(name)

    def bind(self, label: Label) -> None:
        """Bind ``label`` to the current offset."""
        self.buf.bind(label)

    def align(self, n: int) -> None:
        """Pad with multi-byte NOPs until the offset is a multiple of ``n``."""
        if n <= 0 or n & (n - 1):
            raise EncodingError(f"alignment must be a power of two, not {n}")
        pad = -len(self._d) & (n - 1)
        if pad:
            self.nop_n(pad)

    # -- encoding steps ---------------------------------------------------------

    def _rr(self, pfx: int, rex: int, op: bytes, reg: int, rm: int) -> None:
        """[pfx] [REX] op ModRM(mod=11, reg, rm)."""
        d = self._d
        if pfx:
            d.append(pfx)
        rex |= ((reg & 8) >> 1) | (rm >> 3)
        if rex:
            d.append(_REX | rex)
        d += op
        d.append(0xC0 | ((reg & 7) << 3) | (rm & 7))

    def _rm(self, pfx: int, rex: int, op: bytes, reg: int, m: Mem) -> None:
        """[pfx] [REX] op ModRM(reg, m) [SIB] [disp]."""
        d = self._d
        if pfx:
            d.append(pfx)
        mrex, modrm, tail = m._enc
        rex |= ((reg & 8) >> 1) | mrex
        if rex:
            d.append(_REX | rex)
        d += op
        d.append(modrm | ((reg & 7) << 3))
        d += tail

    def _alu_ri(self, n: int, rex: int, dst: Reg, imm: int) -> None:
        if -128 <= imm <= 127:
            self._rr(0, rex, b"\x83", n, dst)
            self._d.append(imm & 0xFF)
        elif _I32_MIN <= imm <= _I32_MAX:
            self._rr(0, rex, b"\x81", n, dst)
            self._d += _pack_i32(imm)
        else:
            raise EncodingError(f"immediate {imm:#x} is not a signed 32-bit value")

    def _alu_mi(self, n: int, rex: int, dst: Mem, imm: int) -> None:
        if -128 <= imm <= 127:
            self._rm(0, rex, b"\x83", n, dst)
            self._d.append(imm & 0xFF)
        elif _I32_MIN <= imm <= _I32_MAX:
            self._rm(0, rex, b"\x81", n, dst)
            self._d += _pack_i32(imm)
        else:
            raise EncodingError(f"immediate {imm:#x} is not a signed 32-bit value")

    def _shift_ri(self, n: int, rex: int, dst: Reg, imm: int, limit: int) -> None:
        if imm == 1:
            self._rr(0, rex, b"\xd1", n, dst)
        elif 0 <= imm <= limit:
            self._rr(0, rex, b"\xc1", n, dst)
            self._d.append(imm)
        else:
            raise EncodingError(f"shift count {imm} is not in 0..{limit}")

    def _rel32(self, op: bytes, label: Label) -> None:
        self._d += op
        self.buf.emit_label_rel32(label)

    # -- moves -----------------------------------------------------------------

    def mov_rr(self, dst: Reg, src: Reg) -> None:
        """``mov dst, src`` (64-bit)."""
        self._rr(0, _W, b"\x89", src, dst)

    def mov32_rr(self, dst: Reg, src: Reg) -> None:
        """``mov dst, src`` (32-bit; zero-extends into the upper half)."""
        self._rr(0, 0, b"\x89", src, dst)

    def mov_ri(self, dst: Reg, imm: int) -> None:
        """``dst = imm`` (64-bit), by the shortest encoding.

        ``imm`` may be given signed or unsigned (``-2**63 .. 2**64-1``).
        """
        if 0 <= imm <= 0xFFFF_FFFF:
            self.mov32_ri(dst, imm)  # zero-extends
            return
        if not -(1 << 63) <= imm < (1 << 64):
            raise EncodingError(f"immediate {imm:#x} does not fit in 64 bits")
        if imm >= 1 << 63:
            imm -= 1 << 64
        if _I32_MIN <= imm < 0:
            self._rr(0, _W, b"\xc7", 0, dst)
            self._d += _pack_i32(imm)
        else:
            self.mov_ri64(dst, imm)  # NB: its return value is only for patchers

    def mov_ri64(self, dst: Reg, imm: int) -> int:
        """``movabs dst, imm64`` (always 10 bytes, so it can be patched).

        Returns the offset of the 8-byte immediate.
        """
        if not -(1 << 63) <= imm < (1 << 64):
            raise EncodingError(f"immediate {imm:#x} does not fit in 64 bits")
        d = self._d
        d.append(0x48 | (dst >> 3))
        d.append(0xB8 | (dst & 7))
        at = len(d)
        d += _pack_i64(imm - (1 << 64) if imm >= 1 << 63 else imm)
        return at

    def mov32_ri(self, dst: Reg, imm: int) -> None:
        """``mov dst, imm32`` (32-bit; zero-extends)."""
        imm = _s32(imm)
        d = self._d
        if dst >= 8:
            d.append(0x41)
        d.append(0xB8 | (dst & 7))
        d += _pack_i32(imm)

    def mov_rm(self, dst: Reg, src: Mem) -> None:
        """``mov dst, qword [src]``."""
        self._rm(0, _W, b"\x8b", dst, src)

    def mov32_rm(self, dst: Reg, src: Mem) -> None:
        """``mov dst, dword [src]`` (zero-extends)."""
        self._rm(0, 0, b"\x8b", dst, src)

    def mov_mr(self, dst: Mem, src: Reg) -> None:
        """``mov qword [dst], src``."""
        self._rm(0, _W, b"\x89", src, dst)

    def mov32_mr(self, dst: Mem, src: Reg) -> None:
        """``mov dword [dst], src32``."""
        self._rm(0, 0, b"\x89", src, dst)

    def mov16_mr(self, dst: Mem, src: Reg) -> None:
        """``mov word [dst], src16``."""
        self._rm(0x66, 0, b"\x89", src, dst)

    def mov8_mr(self, dst: Mem, src: Reg) -> None:
        """``mov byte [dst], src8`` (spl/bpl/sil/dil get their REX)."""
        self._rm(0, _BYTE_REX[src], b"\x88", src, dst)

    def mov_mi(self, dst: Mem, imm: int) -> None:
        """``mov qword [dst], simm32``."""
        self._rm(0, _W, b"\xc7", 0, dst)
        self._d += _pack_i32(_c32(imm))

    def mov32_mi(self, dst: Mem, imm: int) -> None:
        """``mov dword [dst], imm32``."""
        self._rm(0, 0, b"\xc7", 0, dst)
        self._d += _pack_i32(_s32(imm))

    def mov16_mi(self, dst: Mem, imm: int) -> None:
        """``mov word [dst], imm16``."""
        if not -0x8000 <= imm <= 0xFFFF:
            raise EncodingError(f"immediate {imm:#x} does not fit in 16 bits")
        self._rm(0x66, 0, b"\xc7", 0, dst)
        self._d += _pack_i16(imm - 0x10000 if imm > 0x7FFF else imm)

    def mov8_mi(self, dst: Mem, imm: int) -> None:
        """``mov byte [dst], imm8``."""
        if not -0x80 <= imm <= 0xFF:
            raise EncodingError(f"immediate {imm:#x} does not fit in 8 bits")
        self._rm(0, 0, b"\xc6", 0, dst)
        self._d.append(imm & 0xFF)

    def movzx8_rr(self, dst: Reg, src: Reg) -> None:
        """``movzx dst, src8`` (zero-extends to 64 bits)."""
        self._rr(0, _BYTE_REX[src], b"\x0f\xb6", dst, src)

    def movzx16_rr(self, dst: Reg, src: Reg) -> None:
        """``movzx dst, src16`` (zero-extends to 64 bits)."""
        self._rr(0, 0, b"\x0f\xb7", dst, src)

    def movzx8_rm(self, dst: Reg, src: Mem) -> None:
        """``movzx dst, byte [src]`` (zero-extends to 64 bits)."""
        self._rm(0, 0, b"\x0f\xb6", dst, src)

    def movzx16_rm(self, dst: Reg, src: Mem) -> None:
        """``movzx dst, word [src]`` (zero-extends to 64 bits)."""
        self._rm(0, 0, b"\x0f\xb7", dst, src)

    def movsx8_rr(self, dst: Reg, src: Reg) -> None:
        """``movsx dst64, src8``."""
        self._rr(0, _W | _BYTE_REX[src], b"\x0f\xbe", dst, src)

    def movsx16_rr(self, dst: Reg, src: Reg) -> None:
        """``movsx dst64, src16``."""
        self._rr(0, _W, b"\x0f\xbf", dst, src)

    def movsx32_rr(self, dst: Reg, src: Reg) -> None:
        """``movsxd dst64, src32``."""
        self._rr(0, _W, b"\x63", dst, src)

    def movsx8_rm(self, dst: Reg, src: Mem) -> None:
        """``movsx dst64, byte [src]``."""
        self._rm(0, _W, b"\x0f\xbe", dst, src)

    def movsx16_rm(self, dst: Reg, src: Mem) -> None:
        """``movsx dst64, word [src]``."""
        self._rm(0, _W, b"\x0f\xbf", dst, src)

    def movsx32_rm(self, dst: Reg, src: Mem) -> None:
        """``movsxd dst64, dword [src]``."""
        self._rm(0, _W, b"\x63", dst, src)

    def movsx8to32_rr(self, dst: Reg, src: Reg) -> None:
        """``movsx dst32, src8`` (upper half zeroed)."""
        self._rr(0, _BYTE_REX[src], b"\x0f\xbe", dst, src)

    def movsx16to32_rr(self, dst: Reg, src: Reg) -> None:
        """``movsx dst32, src16`` (upper half zeroed)."""
        self._rr(0, 0, b"\x0f\xbf", dst, src)

    def movsx8to32_rm(self, dst: Reg, src: Mem) -> None:
        """``movsx dst32, byte [src]`` (upper half zeroed)."""
        self._rm(0, 0, b"\x0f\xbe", dst, src)

    def movsx16to32_rm(self, dst: Reg, src: Mem) -> None:
        """``movsx dst32, word [src]`` (upper half zeroed)."""
        self._rm(0, 0, b"\x0f\xbf", dst, src)

    def lea_rm(self, dst: Reg, src: Mem) -> None:
        """``lea dst, [src]`` (64-bit)."""
        self._rm(0, _W, b"\x8d", dst, src)

    def lea32_rm(self, dst: Reg, src: Mem) -> None:
        """``lea dst32, [src]`` (32-bit result, upper half zeroed)."""
        self._rm(0, 0, b"\x8d", dst, src)

    def lea_rl(self, dst: Reg, label: Label) -> None:
        """``lea dst, [rip + label]`` (position-independent address of a label)."""
        d = self._d
        d.append(0x48 | ((dst & 8) >> 1))
        d.append(0x8D)
        d.append(0x05 | ((dst & 7) << 3))
        self.buf.emit_label_rel32(label)

    def xchg_rr(self, a: Reg, b: Reg) -> None:
        """``xchg a, b`` (64-bit)."""
        self._rr(0, _W, b"\x87", b, a)

    # -- integer arithmetic ------------------------------------------------------

    def add_rr(self, dst: Reg, src: Reg) -> None:
        """``add dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[0], src, dst)

    def add_ri(self, dst: Reg, imm: int) -> None:
        """``add dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(0, _W, dst, imm)

    def add_rm(self, dst: Reg, src: Mem) -> None:
        """``add dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[0], dst, src)

    def add_mr(self, dst: Mem, src: Reg) -> None:
        """``add [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[0], src, dst)

    def add_mi(self, dst: Mem, imm: int) -> None:
        """``add [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(0, _W, dst, imm)

    def add32_rr(self, dst: Reg, src: Reg) -> None:
        """``add dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[0], src, dst)

    def add32_ri(self, dst: Reg, imm: int) -> None:
        """``add dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(0, 0, dst, _s32(imm))

    def add32_rm(self, dst: Reg, src: Mem) -> None:
        """``add dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[0], dst, src)

    def add32_mr(self, dst: Mem, src: Reg) -> None:
        """``add [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[0], src, dst)

    def add32_mi(self, dst: Mem, imm: int) -> None:
        """``add [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(0, 0, dst, _s32(imm))

    def or_rr(self, dst: Reg, src: Reg) -> None:
        """``or dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[1], src, dst)

    def or_ri(self, dst: Reg, imm: int) -> None:
        """``or dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(1, _W, dst, imm)

    def or_rm(self, dst: Reg, src: Mem) -> None:
        """``or dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[1], dst, src)

    def or_mr(self, dst: Mem, src: Reg) -> None:
        """``or [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[1], src, dst)

    def or_mi(self, dst: Mem, imm: int) -> None:
        """``or [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(1, _W, dst, imm)

    def or32_rr(self, dst: Reg, src: Reg) -> None:
        """``or dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[1], src, dst)

    def or32_ri(self, dst: Reg, imm: int) -> None:
        """``or dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(1, 0, dst, _s32(imm))

    def or32_rm(self, dst: Reg, src: Mem) -> None:
        """``or dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[1], dst, src)

    def or32_mr(self, dst: Mem, src: Reg) -> None:
        """``or [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[1], src, dst)

    def or32_mi(self, dst: Mem, imm: int) -> None:
        """``or [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(1, 0, dst, _s32(imm))

    def adc_rr(self, dst: Reg, src: Reg) -> None:
        """``adc dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[2], src, dst)

    def adc_ri(self, dst: Reg, imm: int) -> None:
        """``adc dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(2, _W, dst, imm)

    def adc_rm(self, dst: Reg, src: Mem) -> None:
        """``adc dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[2], dst, src)

    def adc_mr(self, dst: Mem, src: Reg) -> None:
        """``adc [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[2], src, dst)

    def adc_mi(self, dst: Mem, imm: int) -> None:
        """``adc [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(2, _W, dst, imm)

    def adc32_rr(self, dst: Reg, src: Reg) -> None:
        """``adc dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[2], src, dst)

    def adc32_ri(self, dst: Reg, imm: int) -> None:
        """``adc dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(2, 0, dst, _s32(imm))

    def adc32_rm(self, dst: Reg, src: Mem) -> None:
        """``adc dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[2], dst, src)

    def adc32_mr(self, dst: Mem, src: Reg) -> None:
        """``adc [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[2], src, dst)

    def adc32_mi(self, dst: Mem, imm: int) -> None:
        """``adc [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(2, 0, dst, _s32(imm))

    def sbb_rr(self, dst: Reg, src: Reg) -> None:
        """``sbb dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[3], src, dst)

    def sbb_ri(self, dst: Reg, imm: int) -> None:
        """``sbb dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(3, _W, dst, imm)

    def sbb_rm(self, dst: Reg, src: Mem) -> None:
        """``sbb dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[3], dst, src)

    def sbb_mr(self, dst: Mem, src: Reg) -> None:
        """``sbb [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[3], src, dst)

    def sbb_mi(self, dst: Mem, imm: int) -> None:
        """``sbb [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(3, _W, dst, imm)

    def sbb32_rr(self, dst: Reg, src: Reg) -> None:
        """``sbb dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[3], src, dst)

    def sbb32_ri(self, dst: Reg, imm: int) -> None:
        """``sbb dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(3, 0, dst, _s32(imm))

    def sbb32_rm(self, dst: Reg, src: Mem) -> None:
        """``sbb dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[3], dst, src)

    def sbb32_mr(self, dst: Mem, src: Reg) -> None:
        """``sbb [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[3], src, dst)

    def sbb32_mi(self, dst: Mem, imm: int) -> None:
        """``sbb [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(3, 0, dst, _s32(imm))

    def and_rr(self, dst: Reg, src: Reg) -> None:
        """``and dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[4], src, dst)

    def and_ri(self, dst: Reg, imm: int) -> None:
        """``and dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(4, _W, dst, imm)

    def and_rm(self, dst: Reg, src: Mem) -> None:
        """``and dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[4], dst, src)

    def and_mr(self, dst: Mem, src: Reg) -> None:
        """``and [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[4], src, dst)

    def lock_or_mr(self, dst: Mem, src: Reg) -> None:
        """``lock or [dst], src`` (64-bit, atomic)."""
        self._rm(0xF0, _W, _ALU_MR[1], src, dst)

    def lock_or_mi(self, dst: Mem, imm: int) -> None:
        """``lock or [dst], imm`` (64-bit, atomic; imm8 form when it fits)."""
        self._d.append(0xF0)
        self._alu_mi(1, _W, dst, imm)

    def lock_and_mr(self, dst: Mem, src: Reg) -> None:
        """``lock and [dst], src`` (64-bit, atomic)."""
        self._rm(0xF0, _W, _ALU_MR[4], src, dst)

    def lock_cmpxchg_mr(self, dst: Mem, src: Reg) -> None:
        """``lock cmpxchg [dst], src`` (64-bit): if ``[dst] == rax`` then ``[dst] = src``, else ``rax = [dst]``."""
        self._rm(0xF0, _W, b"\x0f\xb1", src, dst)

    def and_mi(self, dst: Mem, imm: int) -> None:
        """``and [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(4, _W, dst, imm)

    def and32_rr(self, dst: Reg, src: Reg) -> None:
        """``and dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[4], src, dst)

    def and32_ri(self, dst: Reg, imm: int) -> None:
        """``and dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(4, 0, dst, _s32(imm))

    def and32_rm(self, dst: Reg, src: Mem) -> None:
        """``and dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[4], dst, src)

    def and32_mr(self, dst: Mem, src: Reg) -> None:
        """``and [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[4], src, dst)

    def and32_mi(self, dst: Mem, imm: int) -> None:
        """``and [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(4, 0, dst, _s32(imm))

    def sub_rr(self, dst: Reg, src: Reg) -> None:
        """``sub dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[5], src, dst)

    def sub_ri(self, dst: Reg, imm: int) -> None:
        """``sub dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(5, _W, dst, imm)

    def sub_ri32(self, dst: Reg, imm: int) -> int:
        """``sub dst, simm32`` (64-bit; always the imm32 form, so it can be patched).

        Returns the offset of the 4-byte immediate.
        """
        self._rr(0, _W, b"\x81", 5, dst)
        at = len(self._d)
        self._d += _pack_i32(_c32(imm))
        return at

    def sub_rm(self, dst: Reg, src: Mem) -> None:
        """``sub dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[5], dst, src)

    def sub_mr(self, dst: Mem, src: Reg) -> None:
        """``sub [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[5], src, dst)

    def sub_mi(self, dst: Mem, imm: int) -> None:
        """``sub [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(5, _W, dst, imm)

    def sub32_rr(self, dst: Reg, src: Reg) -> None:
        """``sub dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[5], src, dst)

    def sub32_ri(self, dst: Reg, imm: int) -> None:
        """``sub dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(5, 0, dst, _s32(imm))

    def sub32_rm(self, dst: Reg, src: Mem) -> None:
        """``sub dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[5], dst, src)

    def sub32_mr(self, dst: Mem, src: Reg) -> None:
        """``sub [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[5], src, dst)

    def sub32_mi(self, dst: Mem, imm: int) -> None:
        """``sub [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(5, 0, dst, _s32(imm))

    def xor_rr(self, dst: Reg, src: Reg) -> None:
        """``xor dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[6], src, dst)

    def xor_ri(self, dst: Reg, imm: int) -> None:
        """``xor dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(6, _W, dst, imm)

    def xor_rm(self, dst: Reg, src: Mem) -> None:
        """``xor dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[6], dst, src)

    def xor_mr(self, dst: Mem, src: Reg) -> None:
        """``xor [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[6], src, dst)

    def xor_mi(self, dst: Mem, imm: int) -> None:
        """``xor [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(6, _W, dst, imm)

    def xor32_rr(self, dst: Reg, src: Reg) -> None:
        """``xor dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[6], src, dst)

    def xor32_ri(self, dst: Reg, imm: int) -> None:
        """``xor dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(6, 0, dst, _s32(imm))

    def xor32_rm(self, dst: Reg, src: Mem) -> None:
        """``xor dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[6], dst, src)

    def xor32_mr(self, dst: Mem, src: Reg) -> None:
        """``xor [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[6], src, dst)

    def xor32_mi(self, dst: Mem, imm: int) -> None:
        """``xor [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(6, 0, dst, _s32(imm))

    def cmp_rr(self, dst: Reg, src: Reg) -> None:
        """``cmp dst, src`` (64-bit)."""
        self._rr(0, _W, _ALU_MR[7], src, dst)

    def cmp_ri(self, dst: Reg, imm: int) -> None:
        """``cmp dst, imm`` (64-bit; imm8 form when it fits)."""
        self._alu_ri(7, _W, dst, imm)

    def cmp_rm(self, dst: Reg, src: Mem) -> None:
        """``cmp dst, [src]`` (64-bit)."""
        self._rm(0, _W, _ALU_RM[7], dst, src)

    def cmp_mr(self, dst: Mem, src: Reg) -> None:
        """``cmp [dst], src`` (64-bit)."""
        self._rm(0, _W, _ALU_MR[7], src, dst)

    def cmp_mi(self, dst: Mem, imm: int) -> None:
        """``cmp [dst], imm`` (64-bit; imm8 form when it fits)."""
        self._alu_mi(7, _W, dst, imm)

    def cmp32_rr(self, dst: Reg, src: Reg) -> None:
        """``cmp dst, src`` (32-bit)."""
        self._rr(0, 0, _ALU_MR[7], src, dst)

    def cmp32_ri(self, dst: Reg, imm: int) -> None:
        """``cmp dst, imm`` (32-bit; imm8 form when it fits)."""
        self._alu_ri(7, 0, dst, _s32(imm))

    def cmp32_rm(self, dst: Reg, src: Mem) -> None:
        """``cmp dst, [src]`` (32-bit)."""
        self._rm(0, 0, _ALU_RM[7], dst, src)

    def cmp32_mr(self, dst: Mem, src: Reg) -> None:
        """``cmp [dst], src`` (32-bit)."""
        self._rm(0, 0, _ALU_MR[7], src, dst)

    def cmp32_mi(self, dst: Mem, imm: int) -> None:
        """``cmp [dst], imm`` (32-bit; imm8 form when it fits)."""
        self._alu_mi(7, 0, dst, _s32(imm))

    def test_rr(self, a: Reg, b: Reg) -> None:
        """``test a, b`` (64-bit)."""
        self._rr(0, _W, b"\x85", b, a)

    def test32_rr(self, a: Reg, b: Reg) -> None:
        """``test a, b`` (32-bit)."""
        self._rr(0, 0, b"\x85", b, a)

    def test_ri(self, a: Reg, imm: int) -> None:
        """``test a, simm32`` (64-bit)."""
        self._rr(0, _W, b"\xf7", 0, a)
        self._d += _pack_i32(_c32(imm))

    def test32_ri(self, a: Reg, imm: int) -> None:
        """``test a, imm32`` (32-bit)."""
        self._rr(0, 0, b"\xf7", 0, a)
        self._d += _pack_i32(_s32(imm))

    def test_mr(self, a: Mem, b: Reg) -> None:
        """``test qword [a], b``."""
        self._rm(0, _W, b"\x85", b, a)

    def test32_mr(self, a: Mem, b: Reg) -> None:
        """``test dword [a], b``."""
        self._rm(0, 0, b"\x85", b, a)

    def test_mi(self, a: Mem, imm: int) -> None:
        """``test qword [a], simm32``."""
        self._rm(0, _W, b"\xf7", 0, a)
        self._d += _pack_i32(_c32(imm))

    def test32_mi(self, a: Mem, imm: int) -> None:
        """``test dword [a], imm32``."""
        self._rm(0, 0, b"\xf7", 0, a)
        self._d += _pack_i32(_s32(imm))

    def imul_rr(self, dst: Reg, src: Reg) -> None:
        """``imul dst, src`` (64-bit, truncating)."""
        self._rr(0, _W, b"\x0f\xaf", dst, src)

    def imul32_rr(self, dst: Reg, src: Reg) -> None:
        """``imul dst, src`` (32-bit, truncating)."""
        self._rr(0, 0, b"\x0f\xaf", dst, src)

    def imul_rm(self, dst: Reg, src: Mem) -> None:
        """``imul dst, qword [src]``."""
        self._rm(0, _W, b"\x0f\xaf", dst, src)

    def imul32_rm(self, dst: Reg, src: Mem) -> None:
        """``imul dst, dword [src]``."""
        self._rm(0, 0, b"\x0f\xaf", dst, src)

    def imul_rri(self, dst: Reg, src: Reg, imm: int) -> None:
        """``imul dst, src, simm32`` (64-bit; imm8 form when it fits)."""
        self._imul_rri(_W, dst, src, _c32(imm))

    def imul32_rri(self, dst: Reg, src: Reg, imm: int) -> None:
        """``imul dst, src, imm32`` (32-bit; imm8 form when it fits)."""
        self._imul_rri(0, dst, src, _s32(imm))

    def _imul_rri(self, rex: int, dst: Reg, src: Reg, imm: int) -> None:
        if -128 <= imm <= 127:
            self._rr(0, rex, b"\x6b", dst, src)
            self._d.append(imm & 0xFF)
        else:
            self._rr(0, rex, b"\x69", dst, src)
            self._d += _pack_i32(imm)

    def cdq(self) -> None:
        """``cdq``: sign-extend eax into edx."""
        self._d.append(0x99)

    def cqo(self) -> None:
        """``cqo``: sign-extend rax into rdx."""
        self._d += b"\x48\x99"

    def not_r(self, src: Reg) -> None:
        """``not src`` (64-bit; one's complement)."""
        self._rr(0, _W, b"\xf7", 2, src)

    def not32_r(self, src: Reg) -> None:
        """``not src`` (32-bit; one's complement)."""
        self._rr(0, 0, b"\xf7", 2, src)

    def neg_r(self, src: Reg) -> None:
        """``neg src`` (64-bit; two's complement negate)."""
        self._rr(0, _W, b"\xf7", 3, src)

    def neg32_r(self, src: Reg) -> None:
        """``neg src`` (32-bit; two's complement negate)."""
        self._rr(0, 0, b"\xf7", 3, src)

    def mul_r(self, src: Reg) -> None:
        """``mul src`` (64-bit; unsigned rdx:rax = rax * src)."""
        self._rr(0, _W, b"\xf7", 4, src)

    def mul32_r(self, src: Reg) -> None:
        """``mul src`` (32-bit; unsigned edx:eax = eax * src)."""
        self._rr(0, 0, b"\xf7", 4, src)

    def imul_r(self, src: Reg) -> None:
        """``imul src`` (64-bit; signed rdx:rax = rax * src)."""
        self._rr(0, _W, b"\xf7", 5, src)

    def imul32_r(self, src: Reg) -> None:
        """``imul src`` (32-bit; signed edx:eax = eax * src)."""
        self._rr(0, 0, b"\xf7", 5, src)

    def div_r(self, src: Reg) -> None:
        """``div src`` (64-bit; unsigned rax, rdx = rdx:rax divmod src)."""
        self._rr(0, _W, b"\xf7", 6, src)

    def div32_r(self, src: Reg) -> None:
        """``div src`` (32-bit; unsigned eax, edx = edx:eax divmod src)."""
        self._rr(0, 0, b"\xf7", 6, src)

    def idiv_r(self, src: Reg) -> None:
        """``idiv src`` (64-bit; signed rax, rdx = rdx:rax divmod src)."""
        self._rr(0, _W, b"\xf7", 7, src)

    def idiv32_r(self, src: Reg) -> None:
        """``idiv src`` (32-bit; signed eax, edx = edx:eax divmod src)."""
        self._rr(0, 0, b"\xf7", 7, src)

    def rol_r(self, dst: Reg) -> None:
        """``rol dst, cl`` (64-bit)."""
        self._rr(0, _W, b"\xd3", 0, dst)

    def rol_ri(self, dst: Reg, imm: int) -> None:
        """``rol dst, imm`` (64-bit, imm in 0..63)."""
        self._shift_ri(0, _W, dst, imm, 63)

    def rol32_r(self, dst: Reg) -> None:
        """``rol dst, cl`` (32-bit)."""
        self._rr(0, 0, b"\xd3", 0, dst)

    def rol32_ri(self, dst: Reg, imm: int) -> None:
        """``rol dst, imm`` (32-bit, imm in 0..31)."""
        self._shift_ri(0, 0, dst, imm, 31)

    def ror_r(self, dst: Reg) -> None:
        """``ror dst, cl`` (64-bit)."""
        self._rr(0, _W, b"\xd3", 1, dst)

    def ror_ri(self, dst: Reg, imm: int) -> None:
        """``ror dst, imm`` (64-bit, imm in 0..63)."""
        self._shift_ri(1, _W, dst, imm, 63)

    def ror32_r(self, dst: Reg) -> None:
        """``ror dst, cl`` (32-bit)."""
        self._rr(0, 0, b"\xd3", 1, dst)

    def ror32_ri(self, dst: Reg, imm: int) -> None:
        """``ror dst, imm`` (32-bit, imm in 0..31)."""
        self._shift_ri(1, 0, dst, imm, 31)

    def shl_r(self, dst: Reg) -> None:
        """``shl dst, cl`` (64-bit)."""
        self._rr(0, _W, b"\xd3", 4, dst)

    def shl_ri(self, dst: Reg, imm: int) -> None:
        """``shl dst, imm`` (64-bit, imm in 0..63)."""
        self._shift_ri(4, _W, dst, imm, 63)

    def shl32_r(self, dst: Reg) -> None:
        """``shl dst, cl`` (32-bit)."""
        self._rr(0, 0, b"\xd3", 4, dst)

    def shl32_ri(self, dst: Reg, imm: int) -> None:
        """``shl dst, imm`` (32-bit, imm in 0..31)."""
        self._shift_ri(4, 0, dst, imm, 31)

    def shr_r(self, dst: Reg) -> None:
        """``shr dst, cl`` (64-bit)."""
        self._rr(0, _W, b"\xd3", 5, dst)

    def shr_ri(self, dst: Reg, imm: int) -> None:
        """``shr dst, imm`` (64-bit, imm in 0..63)."""
        self._shift_ri(5, _W, dst, imm, 63)

    def shr32_r(self, dst: Reg) -> None:
        """``shr dst, cl`` (32-bit)."""
        self._rr(0, 0, b"\xd3", 5, dst)

    def shr32_ri(self, dst: Reg, imm: int) -> None:
        """``shr dst, imm`` (32-bit, imm in 0..31)."""
        self._shift_ri(5, 0, dst, imm, 31)

    def sar_r(self, dst: Reg) -> None:
        """``sar dst, cl`` (64-bit)."""
        self._rr(0, _W, b"\xd3", 7, dst)

    def sar_ri(self, dst: Reg, imm: int) -> None:
        """``sar dst, imm`` (64-bit, imm in 0..63)."""
        self._shift_ri(7, _W, dst, imm, 63)

    def sar32_r(self, dst: Reg) -> None:
        """``sar dst, cl`` (32-bit)."""
        self._rr(0, 0, b"\xd3", 7, dst)

    def sar32_ri(self, dst: Reg, imm: int) -> None:
        """``sar dst, imm`` (32-bit, imm in 0..31)."""
        self._shift_ri(7, 0, dst, imm, 31)

    def bsf_rr(self, dst: Reg, src: Reg) -> None:
        """``bsf dst, src`` (64-bit)."""
        self._rr(0, _W, b"\x0f\xbc", dst, src)

    def bsf_rm(self, dst: Reg, src: Mem) -> None:
        """``bsf dst, [src]`` (64-bit)."""
        self._rm(0, _W, b"\x0f\xbc", dst, src)

    def bsf32_rr(self, dst: Reg, src: Reg) -> None:
        """``bsf dst, src`` (32-bit)."""
        self._rr(0, 0, b"\x0f\xbc", dst, src)

    def bsf32_rm(self, dst: Reg, src: Mem) -> None:
        """``bsf dst, [src]`` (32-bit)."""
        self._rm(0, 0, b"\x0f\xbc", dst, src)

    def bsr_rr(self, dst: Reg, src: Reg) -> None:
        """``bsr dst, src`` (64-bit)."""
        self._rr(0, _W, b"\x0f\xbd", dst, src)

    def bsr_rm(self, dst: Reg, src: Mem) -> None:
        """``bsr dst, [src]`` (64-bit)."""
        self._rm(0, _W, b"\x0f\xbd", dst, src)

    def bsr32_rr(self, dst: Reg, src: Reg) -> None:
        """``bsr dst, src`` (32-bit)."""
        self._rr(0, 0, b"\x0f\xbd", dst, src)

    def bsr32_rm(self, dst: Reg, src: Mem) -> None:
        """``bsr dst, [src]`` (32-bit)."""
        self._rm(0, 0, b"\x0f\xbd", dst, src)

    def lzcnt_rr(self, dst: Reg, src: Reg) -> None:
        """``lzcnt dst, src`` (64-bit)."""
        self._rr(0xF3, _W, b"\x0f\xbd", dst, src)

    def lzcnt_rm(self, dst: Reg, src: Mem) -> None:
        """``lzcnt dst, [src]`` (64-bit)."""
        self._rm(0xF3, _W, b"\x0f\xbd", dst, src)

    def lzcnt32_rr(self, dst: Reg, src: Reg) -> None:
        """``lzcnt dst, src`` (32-bit)."""
        self._rr(0xF3, 0, b"\x0f\xbd", dst, src)

    def lzcnt32_rm(self, dst: Reg, src: Mem) -> None:
        """``lzcnt dst, [src]`` (32-bit)."""
        self._rm(0xF3, 0, b"\x0f\xbd", dst, src)

    def tzcnt_rr(self, dst: Reg, src: Reg) -> None:
        """``tzcnt dst, src`` (64-bit)."""
        self._rr(0xF3, _W, b"\x0f\xbc", dst, src)

    def tzcnt_rm(self, dst: Reg, src: Mem) -> None:
        """``tzcnt dst, [src]`` (64-bit)."""
        self._rm(0xF3, _W, b"\x0f\xbc", dst, src)

    def tzcnt32_rr(self, dst: Reg, src: Reg) -> None:
        """``tzcnt dst, src`` (32-bit)."""
        self._rr(0xF3, 0, b"\x0f\xbc", dst, src)

    def tzcnt32_rm(self, dst: Reg, src: Mem) -> None:
        """``tzcnt dst, [src]`` (32-bit)."""
        self._rm(0xF3, 0, b"\x0f\xbc", dst, src)

    def popcnt_rr(self, dst: Reg, src: Reg) -> None:
        """``popcnt dst, src`` (64-bit)."""
        self._rr(0xF3, _W, b"\x0f\xb8", dst, src)

    def popcnt_rm(self, dst: Reg, src: Mem) -> None:
        """``popcnt dst, [src]`` (64-bit)."""
        self._rm(0xF3, _W, b"\x0f\xb8", dst, src)

    def popcnt32_rr(self, dst: Reg, src: Reg) -> None:
        """``popcnt dst, src`` (32-bit)."""
        self._rr(0xF3, 0, b"\x0f\xb8", dst, src)

    def popcnt32_rm(self, dst: Reg, src: Mem) -> None:
        """``popcnt dst, [src]`` (32-bit)."""
        self._rm(0xF3, 0, b"\x0f\xb8", dst, src)

    # -- bit tests -----------------------------------------------------------------

    def bt_rr(self, dst: Reg, bit: Reg) -> None:
        """``bt dst, bit`` (64-bit; CF = bit; bit taken mod 64)."""
        self._rr(0, _W, b"\x0f\xa3", bit, dst)

    def bt_ri(self, dst: Reg, bit: int) -> None:
        """``bt dst, bit`` (64-bit; CF = bit; bit in 0..63)."""
        self._bt_ri(4, _W, dst, bit, 63)

    def bt32_rr(self, dst: Reg, bit: Reg) -> None:
        """``bt dst, bit`` (32-bit; CF = bit; bit taken mod 32)."""
        self._rr(0, 0, b"\x0f\xa3", bit, dst)

    def bt32_ri(self, dst: Reg, bit: int) -> None:
        """``bt dst, bit`` (32-bit; CF = bit; bit in 0..31)."""
        self._bt_ri(4, 0, dst, bit, 31)

    def bts_rr(self, dst: Reg, bit: Reg) -> None:
        """``bts dst, bit`` (64-bit; CF = bit, then set it; bit taken mod 64)."""
        self._rr(0, _W, b"\x0f\xab", bit, dst)

    def bts_ri(self, dst: Reg, bit: int) -> None:
        """``bts dst, bit`` (64-bit; CF = bit, then set it; bit in 0..63)."""
        self._bt_ri(5, _W, dst, bit, 63)

    def bts32_rr(self, dst: Reg, bit: Reg) -> None:
        """``bts dst, bit`` (32-bit; CF = bit, then set it; bit taken mod 32)."""
        self._rr(0, 0, b"\x0f\xab", bit, dst)

    def bts32_ri(self, dst: Reg, bit: int) -> None:
        """``bts dst, bit`` (32-bit; CF = bit, then set it; bit in 0..31)."""
        self._bt_ri(5, 0, dst, bit, 31)

    def btr_rr(self, dst: Reg, bit: Reg) -> None:
        """``btr dst, bit`` (64-bit; CF = bit, then clear it; bit taken mod 64)."""
        self._rr(0, _W, b"\x0f\xb3", bit, dst)

    def btr_ri(self, dst: Reg, bit: int) -> None:
        """``btr dst, bit`` (64-bit; CF = bit, then clear it; bit in 0..63)."""
        self._bt_ri(6, _W, dst, bit, 63)

    def btr32_rr(self, dst: Reg, bit: Reg) -> None:
        """``btr dst, bit`` (32-bit; CF = bit, then clear it; bit taken mod 32)."""
        self._rr(0, 0, b"\x0f\xb3", bit, dst)

    def btr32_ri(self, dst: Reg, bit: int) -> None:
        """``btr dst, bit`` (32-bit; CF = bit, then clear it; bit in 0..31)."""
        self._bt_ri(6, 0, dst, bit, 31)

    def btc_rr(self, dst: Reg, bit: Reg) -> None:
        """``btc dst, bit`` (64-bit; CF = bit, then flip it; bit taken mod 64)."""
        self._rr(0, _W, b"\x0f\xbb", bit, dst)

    def btc_ri(self, dst: Reg, bit: int) -> None:
        """``btc dst, bit`` (64-bit; CF = bit, then flip it; bit in 0..63)."""
        self._bt_ri(7, _W, dst, bit, 63)

    def btc32_rr(self, dst: Reg, bit: Reg) -> None:
        """``btc dst, bit`` (32-bit; CF = bit, then flip it; bit taken mod 32)."""
        self._rr(0, 0, b"\x0f\xbb", bit, dst)

    def btc32_ri(self, dst: Reg, bit: int) -> None:
        """``btc dst, bit`` (32-bit; CF = bit, then flip it; bit in 0..31)."""
        self._bt_ri(7, 0, dst, bit, 31)

    def _bt_ri(self, n: int, rex: int, dst: Reg, bit: int, limit: int) -> None:
        if not 0 <= bit <= limit:
            raise EncodingError(f"bit index {bit} is not in 0..{limit}")
        self._rr(0, rex, b"\x0f\xba", n, dst)
        self._d.append(bit)

    # -- conditions --------------------------------------------------------------

    def setcc_r(self, cond: Cond, dst: Reg) -> None:
        """``set<cond> dst8`` (writes only the low byte; spl/bpl/sil/dil get their REX)."""
        self._rr(0, _BYTE_REX[dst], _SETCC[cond], 0, dst)

    def cmovcc_rr(self, cond: Cond, dst: Reg, src: Reg) -> None:
        """``cmov<cond> dst, src`` (64-bit)."""
        self._rr(0, _W, _CMOVCC[cond], dst, src)

    def cmovcc32_rr(self, cond: Cond, dst: Reg, src: Reg) -> None:
        """``cmov<cond> dst, src`` (32-bit; zero-extends even when not taken)."""
        self._rr(0, 0, _CMOVCC[cond], dst, src)

    def cmovcc_rm(self, cond: Cond, dst: Reg, src: Mem) -> None:
        """``cmov<cond> dst, qword [src]``."""
        self._rm(0, _W, _CMOVCC[cond], dst, src)

    def cmovcc32_rm(self, cond: Cond, dst: Reg, src: Mem) -> None:
        """``cmov<cond> dst, dword [src]``."""
        self._rm(0, 0, _CMOVCC[cond], dst, src)

    # -- stack -------------------------------------------------------------------

    def push_r(self, src: Reg) -> None:
        """``push src``."""
        if src >= 8:
            self._d.append(0x41)
        self._d.append(0x50 | (src & 7))

    def pop_r(self, dst: Reg) -> None:
        """``pop dst``."""
        if dst >= 8:
            self._d.append(0x41)
        self._d.append(0x58 | (dst & 7))

    def push_m(self, src: Mem) -> None:
        """``push qword [src]``."""
        self._rm(0, 0, b"\xff", 6, src)

    def pop_m(self, dst: Mem) -> None:
        """``pop qword [dst]``."""
        self._rm(0, 0, b"\x8f", 0, dst)

    def push_i(self, imm: int) -> None:
        """``push simm32`` (pushes 8 bytes, sign-extended; imm8 form when it fits)."""
        if -128 <= imm <= 127:
            self._d.append(0x6A)
            self._d.append(imm & 0xFF)
        else:
            self._d.append(0x68)
            self._d += _pack_i32(_c32(imm))

    def pushf(self) -> None:
        """``pushfq``."""
        self._d.append(0x9C)

    def popf(self) -> None:
        """``popfq``."""
        self._d.append(0x9D)

    # -- control flow ------------------------------------------------------------

    def call_r(self, target: Reg) -> None:
        """``call target``."""
        self._rr(0, 0, b"\xff", 2, target)

    def call_m(self, target: Mem) -> None:
        """``call qword [target]``."""
        self._rm(0, 0, b"\xff", 2, target)

    def call_l(self, label: Label) -> None:
        """``call rel32`` to ``label`` (5 bytes: ``E8`` + rel32)."""
        self._rel32(b"\xe8", label)

    def jmp_r(self, target: Reg) -> None:
        """``jmp target``."""
        self._rr(0, 0, b"\xff", 4, target)

    def jmp_m(self, target: Mem) -> None:
        """``jmp qword [target]``."""
        self._rm(0, 0, b"\xff", 4, target)

    def jmp_l(self, label: Label) -> None:
        """``jmp rel32`` to ``label`` (5 bytes)."""
        self._rel32(b"\xe9", label)

    def jcc_l(self, cond: Cond, label: Label) -> None:
        """``j<cond> rel32`` to ``label`` (6 bytes)."""
        self._rel32(_JCC[cond], label)

    def jcc_fixup(self, cond: Cond) -> int:
        """``j<cond> rel32`` with a zero displacement the caller patches later.

        Returns the offset of the rel32 field; the displacement is relative
        to that offset + 4.  (A cheaper forward jump than a :class:`Label`
        for targets emitted out of line, such as trap stubs.)
        """
        d = self._d
        d += _JCC[cond]
        at = len(d)
        d += b"\0\0\0\0"
        return at

    # -- string operations (implicit rdi, rsi, rcx, rax; direction flag) ---------

    def rep_movsb(self) -> None:
        """``rep movsb``: copy ``rcx`` bytes from ``[rsi]`` to ``[rdi]`` (direction per DF)."""
        self._d += b"\xf3\xa4"

    def rep_movsq(self) -> None:
        """``rep movsq``: copy ``rcx`` quadwords from ``[rsi]`` to ``[rdi]``."""
        self._d += b"\xf3\x48\xa5"

    def rep_stosb(self) -> None:
        """``rep stosb``: store ``al`` to ``rcx`` bytes at ``[rdi]``."""
        self._d += b"\xf3\xaa"

    def rep_stosq(self) -> None:
        """``rep stosq``: store ``rax`` to ``rcx`` quadwords at ``[rdi]``."""
        self._d += b"\xf3\x48\xab"

    def std(self) -> None:
        """``std``: set the direction flag (string operations run backward)."""
        self._d.append(0xFD)

    def cld(self) -> None:
        """``cld``: clear the direction flag (the System V state at every call and return)."""
        self._d.append(0xFC)

    def ret(self) -> None:
        """``ret``."""
        self._d.append(0xC3)

    def leave(self) -> None:
        """``leave`` (``mov rsp, rbp; pop rbp``)."""
        self._d.append(0xC9)

    def int3(self) -> None:
        """``int3`` (breakpoint trap)."""
        self._d.append(0xCC)

    def ud2(self) -> None:
        """``ud2`` (guaranteed invalid opcode)."""
        self._d += b"\x0f\x0b"

    def syscall(self) -> None:
        """``syscall`` (Linux: number in rax, arguments in rdi rsi rdx r10 r8 r9; clobbers rcx, r11)."""
        self._d += b"\x0f\x05"

    def nop(self) -> None:
        """``nop`` (1 byte)."""
        self._d.append(0x90)

    def nop5(self) -> None:
        """The 5-byte NOP ``0F 1F 44 00 00`` (a disabled breakpoint patch site)."""
        self._d += NOP5

    def nop_n(self, size: int) -> None:
        """``size`` bytes of NOPs, using as few instructions as possible (at most 9 bytes each)."""
        if size < 0:
            raise EncodingError(f"negative NOP size {size}")
        while size > 9:
            self._d += NOPS[9]
            size -= 9
        self._d += NOPS[size]

    # -- SSE moves ---------------------------------------------------------------

    def movss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``movss dst, src`` (merges the low 32 bits)."""
        self._rr(0xF3, 0, b"\x0f\x10", dst, src)

    def movss_xm(self, dst: Xmm, src: Mem) -> None:
        """``movss dst, dword [src]`` (zeroes the rest of dst)."""
        self._rm(0xF3, 0, b"\x0f\x10", dst, src)

    def movss_mx(self, dst: Mem, src: Xmm) -> None:
        """``movss dword [dst], src``."""
        self._rm(0xF3, 0, b"\x0f\x11", src, dst)

    def movsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``movsd dst, src`` (merges the low 64 bits)."""
        self._rr(0xF2, 0, b"\x0f\x10", dst, src)

    def movsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``movsd dst, qword [src]`` (zeroes the rest of dst)."""
        self._rm(0xF2, 0, b"\x0f\x10", dst, src)

    def movsd_mx(self, dst: Mem, src: Xmm) -> None:
        """``movsd qword [dst], src``."""
        self._rm(0xF2, 0, b"\x0f\x11", src, dst)

    def movaps_xx(self, dst: Xmm, src: Xmm) -> None:
        """``movaps dst, src`` (the fastest full register copy)."""
        self._rr(0, 0, b"\x0f\x28", dst, src)

    def movups_xm(self, dst: Xmm, src: Mem) -> None:
        """``movups dst, xmmword [src]`` (unaligned 128-bit load)."""
        self._rm(0, 0, b"\x0f\x10", dst, src)

    def movups_mx(self, dst: Mem, src: Xmm) -> None:
        """``movups xmmword [dst], src`` (unaligned 128-bit store)."""
        self._rm(0, 0, b"\x0f\x11", src, dst)

    def movd_xr(self, dst: Xmm, src: Reg) -> None:
        """``movd dst, src32`` (zeroes the rest of dst)."""
        self._rr(0x66, 0, b"\x0f\x6e", dst, src)

    def movq_xr(self, dst: Xmm, src: Reg) -> None:
        """``movq dst, src64`` (zeroes the rest of dst)."""
        self._rr(0x66, _W, b"\x0f\x6e", dst, src)

    def movd_rx(self, dst: Reg, src: Xmm) -> None:
        """``movd dst32, src`` (zero-extends)."""
        self._rr(0x66, 0, b"\x0f\x7e", src, dst)

    def movq_rx(self, dst: Reg, src: Xmm) -> None:
        """``movq dst64, src``."""
        self._rr(0x66, _W, b"\x0f\x7e", src, dst)

    # -- SSE arithmetic ----------------------------------------------------------

    def addss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``addss dst, src`` (f32)."""
        self._rr(0xF3, 0, b"\x0f\x58", dst, src)

    def addss_xm(self, dst: Xmm, src: Mem) -> None:
        """``addss dst, [src]`` (f32)."""
        self._rm(0xF3, 0, b"\x0f\x58", dst, src)

    def addsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``addsd dst, src`` (f64)."""
        self._rr(0xF2, 0, b"\x0f\x58", dst, src)

    def addsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``addsd dst, [src]`` (f64)."""
        self._rm(0xF2, 0, b"\x0f\x58", dst, src)

    def subss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``subss dst, src`` (f32)."""
        self._rr(0xF3, 0, b"\x0f\x5c", dst, src)

    def subss_xm(self, dst: Xmm, src: Mem) -> None:
        """``subss dst, [src]`` (f32)."""
        self._rm(0xF3, 0, b"\x0f\x5c", dst, src)

    def subsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``subsd dst, src`` (f64)."""
        self._rr(0xF2, 0, b"\x0f\x5c", dst, src)

    def subsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``subsd dst, [src]`` (f64)."""
        self._rm(0xF2, 0, b"\x0f\x5c", dst, src)

    def mulss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``mulss dst, src`` (f32)."""
        self._rr(0xF3, 0, b"\x0f\x59", dst, src)

    def mulss_xm(self, dst: Xmm, src: Mem) -> None:
        """``mulss dst, [src]`` (f32)."""
        self._rm(0xF3, 0, b"\x0f\x59", dst, src)

    def mulsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``mulsd dst, src`` (f64)."""
        self._rr(0xF2, 0, b"\x0f\x59", dst, src)

    def mulsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``mulsd dst, [src]`` (f64)."""
        self._rm(0xF2, 0, b"\x0f\x59", dst, src)

    def divss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``divss dst, src`` (f32)."""
        self._rr(0xF3, 0, b"\x0f\x5e", dst, src)

    def divss_xm(self, dst: Xmm, src: Mem) -> None:
        """``divss dst, [src]`` (f32)."""
        self._rm(0xF3, 0, b"\x0f\x5e", dst, src)

    def divsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``divsd dst, src`` (f64)."""
        self._rr(0xF2, 0, b"\x0f\x5e", dst, src)

    def divsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``divsd dst, [src]`` (f64)."""
        self._rm(0xF2, 0, b"\x0f\x5e", dst, src)

    def minss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``minss dst, src`` (f32) (x86 semantics: returns src if either is NaN)."""
        self._rr(0xF3, 0, b"\x0f\x5d", dst, src)

    def minss_xm(self, dst: Xmm, src: Mem) -> None:
        """``minss dst, [src]`` (f32) (x86 semantics: returns src if either is NaN)."""
        self._rm(0xF3, 0, b"\x0f\x5d", dst, src)

    def minsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``minsd dst, src`` (f64) (x86 semantics: returns src if either is NaN)."""
        self._rr(0xF2, 0, b"\x0f\x5d", dst, src)

    def minsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``minsd dst, [src]`` (f64) (x86 semantics: returns src if either is NaN)."""
        self._rm(0xF2, 0, b"\x0f\x5d", dst, src)

    def maxss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``maxss dst, src`` (f32) (x86 semantics: returns src if either is NaN)."""
        self._rr(0xF3, 0, b"\x0f\x5f", dst, src)

    def maxss_xm(self, dst: Xmm, src: Mem) -> None:
        """``maxss dst, [src]`` (f32) (x86 semantics: returns src if either is NaN)."""
        self._rm(0xF3, 0, b"\x0f\x5f", dst, src)

    def maxsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``maxsd dst, src`` (f64) (x86 semantics: returns src if either is NaN)."""
        self._rr(0xF2, 0, b"\x0f\x5f", dst, src)

    def maxsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``maxsd dst, [src]`` (f64) (x86 semantics: returns src if either is NaN)."""
        self._rm(0xF2, 0, b"\x0f\x5f", dst, src)

    def sqrtss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``sqrtss dst, src`` (f32)."""
        self._rr(0xF3, 0, b"\x0f\x51", dst, src)

    def sqrtss_xm(self, dst: Xmm, src: Mem) -> None:
        """``sqrtss dst, [src]`` (f32)."""
        self._rm(0xF3, 0, b"\x0f\x51", dst, src)

    def sqrtsd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``sqrtsd dst, src`` (f64)."""
        self._rr(0xF2, 0, b"\x0f\x51", dst, src)

    def sqrtsd_xm(self, dst: Xmm, src: Mem) -> None:
        """``sqrtsd dst, [src]`` (f64)."""
        self._rm(0xF2, 0, b"\x0f\x51", dst, src)

    def ucomiss_xx(self, a: Xmm, b: Xmm) -> None:
        """``ucomiss a, b`` (sets ZF/PF/CF; PF=1 when unordered)."""
        self._rr(0, 0, b"\x0f\x2e", a, b)

    def ucomiss_xm(self, a: Xmm, b: Mem) -> None:
        """``ucomiss a, [b]``."""
        self._rm(0, 0, b"\x0f\x2e", a, b)

    def ucomisd_xx(self, a: Xmm, b: Xmm) -> None:
        """``ucomisd a, b`` (sets ZF/PF/CF; PF=1 when unordered)."""
        self._rr(0x66, 0, b"\x0f\x2e", a, b)

    def ucomisd_xm(self, a: Xmm, b: Mem) -> None:
        """``ucomisd a, [b]``."""
        self._rm(0x66, 0, b"\x0f\x2e", a, b)

    def comiss_xx(self, a: Xmm, b: Xmm) -> None:
        """``comiss a, b`` (sets ZF/PF/CF; PF=1 when unordered)."""
        self._rr(0, 0, b"\x0f\x2f", a, b)

    def comiss_xm(self, a: Xmm, b: Mem) -> None:
        """``comiss a, [b]``."""
        self._rm(0, 0, b"\x0f\x2f", a, b)

    def comisd_xx(self, a: Xmm, b: Xmm) -> None:
        """``comisd a, b`` (sets ZF/PF/CF; PF=1 when unordered)."""
        self._rr(0x66, 0, b"\x0f\x2f", a, b)

    def comisd_xm(self, a: Xmm, b: Mem) -> None:
        """``comisd a, [b]``."""
        self._rm(0x66, 0, b"\x0f\x2f", a, b)

    def andps_xx(self, dst: Xmm, src: Xmm) -> None:
        """``andps dst, src`` (all 128 bits)."""
        self._rr(0, 0, b"\x0f\x54", dst, src)

    def andpd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``andpd dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\x54", dst, src)

    def andnps_xx(self, dst: Xmm, src: Xmm) -> None:
        """``andnps dst, src`` (all 128 bits)."""
        self._rr(0, 0, b"\x0f\x55", dst, src)

    def andnpd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``andnpd dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\x55", dst, src)

    def orps_xx(self, dst: Xmm, src: Xmm) -> None:
        """``orps dst, src`` (all 128 bits)."""
        self._rr(0, 0, b"\x0f\x56", dst, src)

    def orpd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``orpd dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\x56", dst, src)

    def xorps_xx(self, dst: Xmm, src: Xmm) -> None:
        """``xorps dst, src`` (all 128 bits)."""
        self._rr(0, 0, b"\x0f\x57", dst, src)

    def xorpd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``xorpd dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\x57", dst, src)

    def pxor_xx(self, dst: Xmm, src: Xmm) -> None:
        """``pxor dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\xef", dst, src)

    def pcmpeqd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``pcmpeqd dst, src`` (all 128 bits)."""
        self._rr(0x66, 0, b"\x0f\x76", dst, src)

    # -- SSE conversions ---------------------------------------------------------

    def cvtsi2ss_xr(self, dst: Xmm, src: Reg) -> None:
        """``cvtsi2ss dst, src64`` (signed)."""
        self._rr(0xF3, _W, b"\x0f\x2a", dst, src)

    def cvtsi2ss32_xr(self, dst: Xmm, src: Reg) -> None:
        """``cvtsi2ss dst, src32`` (signed)."""
        self._rr(0xF3, 0, b"\x0f\x2a", dst, src)

    def cvtsi2sd_xr(self, dst: Xmm, src: Reg) -> None:
        """``cvtsi2sd dst, src64`` (signed)."""
        self._rr(0xF2, _W, b"\x0f\x2a", dst, src)

    def cvtsi2sd32_xr(self, dst: Xmm, src: Reg) -> None:
        """``cvtsi2sd dst, src32`` (signed)."""
        self._rr(0xF2, 0, b"\x0f\x2a", dst, src)

    def cvttss2si_rx(self, dst: Reg, src: Xmm) -> None:
        """``cvttss2si dst64, src`` (truncating; 0x8000000000000000 when out of range)."""
        self._rr(0xF3, _W, b"\x0f\x2c", dst, src)

    def cvttss2si32_rx(self, dst: Reg, src: Xmm) -> None:
        """``cvttss2si dst32, src`` (truncating; 0x80000000 when out of range)."""
        self._rr(0xF3, 0, b"\x0f\x2c", dst, src)

    def cvttsd2si_rx(self, dst: Reg, src: Xmm) -> None:
        """``cvttsd2si dst64, src`` (truncating; 0x8000000000000000 when out of range)."""
        self._rr(0xF2, _W, b"\x0f\x2c", dst, src)

    def cvttsd2si32_rx(self, dst: Reg, src: Xmm) -> None:
        """``cvttsd2si dst32, src`` (truncating; 0x80000000 when out of range)."""
        self._rr(0xF2, 0, b"\x0f\x2c", dst, src)

    def cvtss2sd_xx(self, dst: Xmm, src: Xmm) -> None:
        """``cvtss2sd dst, src`` (f32 -> f64)."""
        self._rr(0xF3, 0, b"\x0f\x5a", dst, src)

    def cvtss2sd_xm(self, dst: Xmm, src: Mem) -> None:
        """``cvtss2sd dst, dword [src]``."""
        self._rm(0xF3, 0, b"\x0f\x5a", dst, src)

    def cvtsd2ss_xx(self, dst: Xmm, src: Xmm) -> None:
        """``cvtsd2ss dst, src`` (f64 -> f32)."""
        self._rr(0xF2, 0, b"\x0f\x5a", dst, src)

    def cvtsd2ss_xm(self, dst: Xmm, src: Mem) -> None:
        """``cvtsd2ss dst, qword [src]``."""
        self._rm(0xF2, 0, b"\x0f\x5a", dst, src)

    def roundss_xxi(self, dst: Xmm, src: Xmm, mode: int) -> None:
        """``roundss dst, src, mode`` (SSE4.1; mode 8|0 nearest, 8|1 floor, 8|2 ceil, 8|3 trunc)."""
        self._round(b"\x0f\x3a\x0a", dst, src, mode)

    def roundsd_xxi(self, dst: Xmm, src: Xmm, mode: int) -> None:
        """``roundsd dst, src, mode`` (SSE4.1; same modes as ``roundss_xxi``)."""
        self._round(b"\x0f\x3a\x0b", dst, src, mode)

    def _round(self, op: bytes, dst: Xmm, src: Xmm, mode: int) -> None:
        if not 0 <= mode <= 0xFF:
            raise EncodingError(f"rounding mode {mode:#x} does not fit in 8 bits")
        self._rr(0x66, 0, op, dst, src)
        self._d.append(mode)

    def psllq_xi(self, dst: Xmm, imm: int) -> None:
        """``psllq dst, imm8`` (each 64-bit lane shifted left)."""
        self._xmm_shift(6, dst, imm)

    def psrlq_xi(self, dst: Xmm, imm: int) -> None:
        """``psrlq dst, imm8`` (each 64-bit lane shifted right, logical)."""
        self._xmm_shift(2, dst, imm)

    def _xmm_shift(self, n: int, dst: Xmm, imm: int) -> None:
        if not 0 <= imm <= 0xFF:
            raise EncodingError(f"shift count {imm} does not fit in 8 bits")
        self._rr(0x66, 0, b"\x0f\x73", n, dst)
        self._d.append(imm)
