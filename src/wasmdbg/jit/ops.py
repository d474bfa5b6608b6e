"""The semantic vocabulary between the compiler and the macro-assembler.

The compiler says *what* to do in these terms (an integer comparison kind, a
float binary operation, an operand width ...); the macro-assembler
(:mod:`~wasmdbg.jit.masm`) turns them into instructions.  Nothing here knows
an opcode byte or a Wasm opcode.
"""

from __future__ import annotations

from enum import IntEnum

from .x64 import Cond

__all__ = [
    "DivKind",
    "FlagCond",
    "FloatBinOp",
    "FloatCmpKind",
    "IntBinOp",
    "IntCmpKind",
    "OperandSize",
    "RoundingMode",
    "ShiftKind",
    "TrapState",
    "TruncKind",
]


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
