"""The one opcode table of wasmdbg: every Wasm 2.0 instruction except SIMD.

The decoder, validator, compiler and disassembler all read this table.
An opcode is keyed by an ``int``: the single byte for plain opcodes, and
``prefix << 8 | sub`` for prefixed ones (``0xFC08`` is ``memory.init``).

Each :class:`OpInfo` row gives the text name, the kind of immediate that
follows the opcode in the binary, and -- for instructions whose typing is
fixed -- the operand types popped and pushed.  Instructions whose typing
depends on context (control flow, locals, globals, ``select``, calls,
references, tables) have ``params = None`` and are typed by hand in the
validator.  Memory instructions also carry their access size and natural
alignment (log2).

Immediate values as produced by the instruction reader (``wasm.code``)::

    Imm.NONE          None
    Imm.BLOCKTYPE     int: -64 empty, -1..-17 a value type (s33), >= 0 type index
    Imm.LABEL         int label depth
    Imm.BR_TABLE      (tuple[int, ...] labels, int default)
    Imm.FUNC          int function index
    Imm.CALL_INDIRECT (type index, table index)
    Imm.LOCAL/GLOBAL/TABLE/ELEM/DATA  int index
    Imm.MEMARG        (align log2, offset)
    Imm.MEMORY        0 (the reserved memory index byte)
    Imm.I32/I64       int, signed
    Imm.F32/F64       int, the raw IEEE bit pattern (NaN payloads kept)
    Imm.SELECT_T      tuple[ValType, ...]
    Imm.REFTYPE       ValType
    Imm.TWO_INDEX     (int, int): table.init (elem, table), table.copy (dst, src),
                      memory.init (data, 0), memory.copy (0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .types import ValType

__all__ = ["BY_NAME", "OPCODES", "PREFIX_FC", "PREFIX_SIMD", "Imm", "OpInfo"]

PREFIX_FC = 0xFC
PREFIX_SIMD = 0xFD


class Imm(Enum):
    """Kinds of immediate operand (see the module docstring for their values)."""

    NONE = 0
    BLOCKTYPE = 1
    LABEL = 2
    BR_TABLE = 3
    FUNC = 4
    CALL_INDIRECT = 5
    LOCAL = 6
    GLOBAL = 7
    TABLE = 8
    MEMARG = 9
    MEMORY = 10
    I32 = 11
    I64 = 12
    F32 = 13
    F64 = 14
    SELECT_T = 15
    REFTYPE = 16
    ELEM = 17
    DATA = 18
    TWO_INDEX = 19


@dataclass(frozen=True, slots=True)
class OpInfo:
    """One row of the opcode table."""

    code: int
    name: str
    imm: Imm
    params: tuple[ValType, ...] | None = None
    results: tuple[ValType, ...] | None = None
    mem_size: int = 0  # bytes accessed by a load/store
    natural_align: int = 0  # log2 of the natural alignment


I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
_T = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}

OPCODES: dict[int, OpInfo] = {}


def _op(
    code: int,
    name: str,
    imm: Imm = Imm.NONE,
    params: tuple[ValType, ...] | None = None,
    results: tuple[ValType, ...] | None = None,
    mem_size: int = 0,
) -> None:
    align = {0: 0, 1: 0, 2: 1, 4: 2, 8: 3}[mem_size]
    OPCODES[code] = OpInfo(code, name, imm, params, results, mem_size, align)


# -- control ---------------------------------------------------------------
_op(0x00, "unreachable")
_op(0x01, "nop", params=(), results=())
_op(0x02, "block", Imm.BLOCKTYPE)
_op(0x03, "loop", Imm.BLOCKTYPE)
_op(0x04, "if", Imm.BLOCKTYPE)
_op(0x05, "else")
_op(0x0B, "end")
_op(0x0C, "br", Imm.LABEL)
_op(0x0D, "br_if", Imm.LABEL)
_op(0x0E, "br_table", Imm.BR_TABLE)
_op(0x0F, "return")
_op(0x10, "call", Imm.FUNC)
_op(0x11, "call_indirect", Imm.CALL_INDIRECT)

# -- parametric ------------------------------------------------------------
_op(0x1A, "drop")
_op(0x1B, "select")
_op(0x1C, "select", Imm.SELECT_T)  # typed select; same name in the text format

# -- variables and tables --------------------------------------------------
_op(0x20, "local.get", Imm.LOCAL)
_op(0x21, "local.set", Imm.LOCAL)
_op(0x22, "local.tee", Imm.LOCAL)
_op(0x23, "global.get", Imm.GLOBAL)
_op(0x24, "global.set", Imm.GLOBAL)
_op(0x25, "table.get", Imm.TABLE)
_op(0x26, "table.set", Imm.TABLE)

# -- memory ----------------------------------------------------------------
for _code, _name, _ty, _size in [
    (0x28, "i32.load", "i32", 4),
    (0x29, "i64.load", "i64", 8),
    (0x2A, "f32.load", "f32", 4),
    (0x2B, "f64.load", "f64", 8),
    (0x2C, "i32.load8_s", "i32", 1),
    (0x2D, "i32.load8_u", "i32", 1),
    (0x2E, "i32.load16_s", "i32", 2),
    (0x2F, "i32.load16_u", "i32", 2),
    (0x30, "i64.load8_s", "i64", 1),
    (0x31, "i64.load8_u", "i64", 1),
    (0x32, "i64.load16_s", "i64", 2),
    (0x33, "i64.load16_u", "i64", 2),
    (0x34, "i64.load32_s", "i64", 4),
    (0x35, "i64.load32_u", "i64", 4),
]:
    _op(_code, _name, Imm.MEMARG, (I32,), (_T[_ty],), _size)
for _code, _name, _ty, _size in [
    (0x36, "i32.store", "i32", 4),
    (0x37, "i64.store", "i64", 8),
    (0x38, "f32.store", "f32", 4),
    (0x39, "f64.store", "f64", 8),
    (0x3A, "i32.store8", "i32", 1),
    (0x3B, "i32.store16", "i32", 2),
    (0x3C, "i64.store8", "i64", 1),
    (0x3D, "i64.store16", "i64", 2),
    (0x3E, "i64.store32", "i64", 4),
]:
    _op(_code, _name, Imm.MEMARG, (I32, _T[_ty]), (), _size)
_op(0x3F, "memory.size", Imm.MEMORY, (), (I32,))
_op(0x40, "memory.grow", Imm.MEMORY, (I32,), (I32,))

# -- constants -------------------------------------------------------------
_op(0x41, "i32.const", Imm.I32, (), (I32,))
_op(0x42, "i64.const", Imm.I64, (), (I64,))
_op(0x43, "f32.const", Imm.F32, (), (F32,))
_op(0x44, "f64.const", Imm.F64, (), (F64,))

# -- numeric ---------------------------------------------------------------


def _family(start: int, ty: str, names: str, params: int, result: str | None = None) -> None:
    t = _T[ty]
    r = _T[result] if result else t
    for i, n in enumerate(names.split()):
        _op(start + i, f"{ty}.{n}", Imm.NONE, (t,) * params, (r,))


_op(0x45, "i32.eqz", Imm.NONE, (I32,), (I32,))
_family(0x46, "i32", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", 2, "i32")
_op(0x50, "i64.eqz", Imm.NONE, (I64,), (I32,))
_family(0x51, "i64", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", 2, "i32")
_family(0x5B, "f32", "eq ne lt gt le ge", 2, "i32")
_family(0x61, "f64", "eq ne lt gt le ge", 2, "i32")
_family(0x67, "i32", "clz ctz popcnt", 1)
_family(0x6A, "i32", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", 2)
_family(0x79, "i64", "clz ctz popcnt", 1)
_family(0x7C, "i64", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", 2)
_family(0x8B, "f32", "abs neg ceil floor trunc nearest sqrt", 1)
_family(0x92, "f32", "add sub mul div min max copysign", 2)
_family(0x99, "f64", "abs neg ceil floor trunc nearest sqrt", 1)
_family(0xA0, "f64", "add sub mul div min max copysign", 2)

for _code, _name, _src, _dst in [
    (0xA7, "i32.wrap_i64", "i64", "i32"),
    (0xA8, "i32.trunc_f32_s", "f32", "i32"),
    (0xA9, "i32.trunc_f32_u", "f32", "i32"),
    (0xAA, "i32.trunc_f64_s", "f64", "i32"),
    (0xAB, "i32.trunc_f64_u", "f64", "i32"),
    (0xAC, "i64.extend_i32_s", "i32", "i64"),
    (0xAD, "i64.extend_i32_u", "i32", "i64"),
    (0xAE, "i64.trunc_f32_s", "f32", "i64"),
    (0xAF, "i64.trunc_f32_u", "f32", "i64"),
    (0xB0, "i64.trunc_f64_s", "f64", "i64"),
    (0xB1, "i64.trunc_f64_u", "f64", "i64"),
    (0xB2, "f32.convert_i32_s", "i32", "f32"),
    (0xB3, "f32.convert_i32_u", "i32", "f32"),
    (0xB4, "f32.convert_i64_s", "i64", "f32"),
    (0xB5, "f32.convert_i64_u", "i64", "f32"),
    (0xB6, "f32.demote_f64", "f64", "f32"),
    (0xB7, "f64.convert_i32_s", "i32", "f64"),
    (0xB8, "f64.convert_i32_u", "i32", "f64"),
    (0xB9, "f64.convert_i64_s", "i64", "f64"),
    (0xBA, "f64.convert_i64_u", "i64", "f64"),
    (0xBB, "f64.promote_f32", "f32", "f64"),
    (0xBC, "i32.reinterpret_f32", "f32", "i32"),
    (0xBD, "i64.reinterpret_f64", "f64", "i64"),
    (0xBE, "f32.reinterpret_i32", "i32", "f32"),
    (0xBF, "f64.reinterpret_i64", "i64", "f64"),
    (0xC0, "i32.extend8_s", "i32", "i32"),
    (0xC1, "i32.extend16_s", "i32", "i32"),
    (0xC2, "i64.extend8_s", "i64", "i64"),
    (0xC3, "i64.extend16_s", "i64", "i64"),
    (0xC4, "i64.extend32_s", "i64", "i64"),
    (0xFC00, "i32.trunc_sat_f32_s", "f32", "i32"),
    (0xFC01, "i32.trunc_sat_f32_u", "f32", "i32"),
    (0xFC02, "i32.trunc_sat_f64_s", "f64", "i32"),
    (0xFC03, "i32.trunc_sat_f64_u", "f64", "i32"),
    (0xFC04, "i64.trunc_sat_f32_s", "f32", "i64"),
    (0xFC05, "i64.trunc_sat_f32_u", "f32", "i64"),
    (0xFC06, "i64.trunc_sat_f64_s", "f64", "i64"),
    (0xFC07, "i64.trunc_sat_f64_u", "f64", "i64"),
]:
    _op(_code, _name, Imm.NONE, (_T[_src],), (_T[_dst],))

# -- reference types -------------------------------------------------------
_op(0xD0, "ref.null", Imm.REFTYPE)
_op(0xD1, "ref.is_null")
_op(0xD2, "ref.func", Imm.FUNC)

# -- bulk memory and table instructions (0xFC prefix) -----------------------
_op(0xFC08, "memory.init", Imm.TWO_INDEX, (I32, I32, I32), ())
_op(0xFC09, "data.drop", Imm.DATA, (), ())
_op(0xFC0A, "memory.copy", Imm.TWO_INDEX, (I32, I32, I32), ())
_op(0xFC0B, "memory.fill", Imm.MEMORY, (I32, I32, I32), ())
_op(0xFC0C, "table.init", Imm.TWO_INDEX, (I32, I32, I32), ())
_op(0xFC0D, "elem.drop", Imm.ELEM, (), ())
_op(0xFC0E, "table.copy", Imm.TWO_INDEX, (I32, I32, I32), ())
_op(0xFC0F, "table.grow", Imm.TABLE)
_op(0xFC10, "table.size", Imm.TABLE, (), (I32,))
_op(0xFC11, "table.fill", Imm.TABLE)

BY_NAME: dict[str, OpInfo] = {}
for _info in OPCODES.values():
    BY_NAME.setdefault(_info.name, _info)
