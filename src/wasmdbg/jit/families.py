"""The numeric families: one compiler visitor per numeric, conversion, load and store opcode.

Most Wasm opcodes differ only in the CodeGen method they call and its fixed
arguments (operation, size, type).  :func:`install_families` turns each row
of the table below into a ``visit_<op>`` method of the compiler class;
the method carries ``family = (CodeGen method, args)``, which the compiler's
opcode table calls directly (one Python frame less per instruction)::

    ("i32_add")  ->  visit_i32_add(self, imm) = CodeGen.int_binop(self.cg, ADD, 4, I32, imm)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..wasm.types import ValType
from .codegen import CodeGen
from .masm import (
    DivKind,
    FloatBinOp,
    FloatCmpKind,
    IntBinOp,
    IntCmpKind,
    MacroAssembler,
    RoundingMode,
    ShiftKind,
    TruncKind,
)
from .stack import SIZE

__all__ = ["install_families"]

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64


class _Compiler(Protocol):
    cg: CodeGen


def _visitor(cls: type[_Compiler], name: str, method: Callable[..., None], *args: object) -> None:
    """Install ``cls.visit_<name>`` calling the CodeGen ``method(self.cg, *args)``."""

    def visit(self: _Compiler, imm: object) -> None:
        method(self.cg, *args, imm)

    visit.family = (method, args)  # type: ignore[attr-defined]
    visit.__name__ = "visit_" + name
    visit.__doc__ = f"``{name.replace('_', '.', 1)}``."
    setattr(cls, visit.__name__, visit)


def install_families(cls: type[_Compiler]) -> None:
    """Give the compiler class a ``visit_<op>`` for every numeric, conversion,
    load and store opcode."""
    sizes = {I32: 4, I64: 8, F32: 4, F64: 8}
    for t in (I32, I64):
        s = sizes[t]
        p = t.name.lower()
        for name, op in (
            ("add", IntBinOp.ADD),
            ("sub", IntBinOp.SUB),
            ("mul", IntBinOp.MUL),
            ("and", IntBinOp.AND),
            ("or", IntBinOp.OR),
            ("xor", IntBinOp.XOR),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.int_binop, op, s, t)
        for name, cmp in (
            ("eq", IntCmpKind.EQ),
            ("ne", IntCmpKind.NE),
            ("lt_s", IntCmpKind.LT_S),
            ("lt_u", IntCmpKind.LT_U),
            ("gt_s", IntCmpKind.GT_S),
            ("gt_u", IntCmpKind.GT_U),
            ("le_s", IntCmpKind.LE_S),
            ("le_u", IntCmpKind.LE_U),
            ("ge_s", IntCmpKind.GE_S),
            ("ge_u", IntCmpKind.GE_U),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.int_cmp, cmp, s)
        _visitor(cls, f"{p}_eqz", CodeGen.int_eqz, s)
        for name, sh in (
            ("shl", ShiftKind.SHL),
            ("shr_s", ShiftKind.SHR_S),
            ("shr_u", ShiftKind.SHR_U),
            ("rotl", ShiftKind.ROTL),
            ("rotr", ShiftKind.ROTR),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.shift, sh, s, t)
        for name, dk in (
            ("div_s", DivKind.DIV_S),
            ("div_u", DivKind.DIV_U),
            ("rem_s", DivKind.REM_S),
            ("rem_u", DivKind.REM_U),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.divrem, dk, s, t)
        _visitor(cls, f"{p}_clz", CodeGen.unop, MacroAssembler.int_clz, s, t)
        _visitor(cls, f"{p}_ctz", CodeGen.unop, MacroAssembler.int_ctz, s, t)
        _visitor(cls, f"{p}_popcnt", CodeGen.unop, MacroAssembler.int_popcnt, s, t)
        _visitor(cls, f"{p}_extend8_s", CodeGen.extend, 8, t, True)
        _visitor(cls, f"{p}_extend16_s", CodeGen.extend, 16, t, True)
    _visitor(cls, "i64_extend32_s", CodeGen.extend, 32, I64, True)
    _visitor(cls, "i64_extend_i32_s", CodeGen.extend, 32, I64, True)

    for t in (F32, F64):
        s = sizes[t]
        p = t.name.lower()
        for name, fop in (
            ("add", FloatBinOp.ADD),
            ("sub", FloatBinOp.SUB),
            ("mul", FloatBinOp.MUL),
            ("div", FloatBinOp.DIV),
            ("min", FloatBinOp.MIN),
            ("max", FloatBinOp.MAX),
            ("copysign", FloatBinOp.COPYSIGN),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.float_binop, fop, s, t)
        for name, fcmp in (
            ("eq", FloatCmpKind.EQ),
            ("ne", FloatCmpKind.NE),
            ("lt", FloatCmpKind.LT),
            ("gt", FloatCmpKind.GT),
            ("le", FloatCmpKind.LE),
            ("ge", FloatCmpKind.GE),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.float_cmp, fcmp, s)
        for name, what in (
            ("abs", 0),
            ("neg", 1),
            ("sqrt", 2),
            ("nearest", RoundingMode.NEAREST),
            ("floor", RoundingMode.DOWN),
            ("ceil", RoundingMode.UP),
            ("trunc", RoundingMode.ZERO),
        ):
            _visitor(cls, f"{p}_{name}", CodeGen.float_unop, what, s, t)
        for it in (I32, I64):
            ip = it.name.lower()
            tr, sat = TruncKind.TRAPPING, TruncKind.SATURATING
            _visitor(cls, f"{ip}_trunc_{p}_s", CodeGen.trunc, tr, s, it, True)
            _visitor(cls, f"{ip}_trunc_{p}_u", CodeGen.trunc, tr, s, it, False)
            _visitor(cls, f"{ip}_trunc_sat_{p}_s", CodeGen.trunc, sat, s, it, True)
            _visitor(cls, f"{ip}_trunc_sat_{p}_u", CodeGen.trunc, sat, s, it, False)
            _visitor(cls, f"{p}_convert_{ip}_s", CodeGen.convert, t, SIZE[it], True)
            _visitor(cls, f"{p}_convert_{ip}_u", CodeGen.convert, t, SIZE[it], False)
    _visitor(cls, "f32_demote_f64", CodeGen.float_convert, F32)
    _visitor(cls, "f64_promote_f32", CodeGen.float_convert, F64)
    _visitor(cls, "i32_reinterpret_f32", CodeGen.reinterpret, I32)
    _visitor(cls, "i64_reinterpret_f64", CodeGen.reinterpret, I64)
    _visitor(cls, "f32_reinterpret_i32", CodeGen.reinterpret, F32)
    _visitor(cls, "f64_reinterpret_i64", CodeGen.reinterpret, F64)

    loads = (
        ("i32_load", 4, I32, False),
        ("i64_load", 8, I64, False),
        ("f32_load", 4, F32, False),
        ("f64_load", 8, F64, False),
        ("i32_load8_s", 1, I32, True),
        ("i32_load8_u", 1, I32, False),
        ("i32_load16_s", 2, I32, True),
        ("i32_load16_u", 2, I32, False),
        ("i64_load8_s", 1, I64, True),
        ("i64_load8_u", 1, I64, False),
        ("i64_load16_s", 2, I64, True),
        ("i64_load16_u", 2, I64, False),
        ("i64_load32_s", 4, I64, True),
        ("i64_load32_u", 4, I64, False),
    )
    for name, size, ty, signed in loads:
        _visitor(cls, name, CodeGen.load, size, ty, signed)
    stores = (
        ("i32_store", 4),
        ("i64_store", 8),
        ("f32_store", 4),
        ("f64_store", 8),
        ("i32_store8", 1),
        ("i32_store16", 2),
        ("i64_store8", 1),
        ("i64_store16", 2),
        ("i64_store32", 4),
    )
    for name, size in stores:
        _visitor(cls, name, CodeGen.store, size)
