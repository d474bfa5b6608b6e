"""Wasm disassembly for front ends: every instruction of a module, by module offset.

:class:`Listing` decodes each function body of a module once and keeps one
:class:`Line` per instruction, sorted by pc (the module-relative byte
offset, the address DWARF, LLDB and breakpoints use)::

    pc      func  text
    0x0123  3     local.get 0
    0x0125  3     i32.const 1
    0x0127  3     i32.add

Lookups: the line at or before a pc (:meth:`Listing.index_at`), a window of
lines counted in instructions around a pc (:meth:`Listing.window`, what a
DAP ``disassemble`` asks for), and the function holding a pc.
Instruction text is the Wasm text format's (``i32.load offset=8 align=4``).
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from typing import cast

from ..wasm.code import BLOCKTYPE_EMPTY, iter_body
from ..wasm.module import ModuleDef
from ..wasm.opcodes import OPCODES, Imm
from ..wasm.reader import VALTYPE_BY_BYTE

__all__ = ["Line", "Listing", "instruction_text"]


@dataclass(frozen=True, slots=True)
class Line:
    """One instruction: its pc, its size in bytes, its function and its text."""

    pc: int
    size: int
    func_index: int
    text: str


def instruction_text(op: int, imm: object) -> str:
    """An instruction in the Wasm text format."""
    info = OPCODES[op]
    kind = info.imm
    name = info.name
    if kind is Imm.NONE or kind is Imm.MEMORY:
        return name
    if kind is Imm.BLOCKTYPE:
        assert isinstance(imm, int)
        if imm == BLOCKTYPE_EMPTY:
            return name
        if imm < 0:
            return f"{name} (result {VALTYPE_BY_BYTE[imm + 0x80].text})"
        return f"{name} (type {imm})"
    if kind is Imm.BR_TABLE:
        labels, default = cast(tuple[tuple[int, ...], int], imm)
        return " ".join([name, *(str(x) for x in labels), str(default)])
    if kind is Imm.MEMARG:
        align, offset = cast(tuple[int, int], imm)
        parts = [name]
        if offset:
            parts.append(f"offset={offset}")
        if align != info.natural_align:
            parts.append(f"align={1 << align}")
        return " ".join(parts)
    if kind is Imm.F32:
        assert isinstance(imm, int)
        return f"{name} {struct.unpack('<f', imm.to_bytes(4, 'little'))[0]!r}"
    if kind is Imm.F64:
        assert isinstance(imm, int)
        return f"{name} {struct.unpack('<d', imm.to_bytes(8, 'little'))[0]!r}"
    if kind is Imm.SELECT_T:
        return f"{name} (result {' '.join(t.text for t in imm)})"  # type: ignore[attr-defined]
    if kind is Imm.REFTYPE:
        return f"{name} {imm.text.removesuffix('ref')}"  # type: ignore[attr-defined]
    if isinstance(imm, tuple):
        return " ".join([name, *(str(x) for x in imm)])
    return f"{name} {imm}"


class Listing:
    """Every instruction of one module, sorted by pc (module docstring)."""

    def __init__(self, definition: ModuleDef) -> None:
        self.definition = definition
        lines: list[Line] = []
        for body in definition.bodies:
            instrs = list(iter_body(definition, body))
            for k, ins in enumerate(instrs):
                end = instrs[k + 1].offset if k + 1 < len(instrs) else body.code_end
                lines.append(
                    Line(ins.offset, end - ins.offset, body.func_index, instruction_text(ins.op, ins.imm))
                )
        self.lines = lines
        self._pcs = [line.pc for line in lines]

    def __len__(self) -> int:
        return len(self.lines)

    def index_at(self, pc: int) -> int | None:
        """The index of the instruction holding ``pc`` (None outside all code)."""
        i = bisect.bisect_right(self._pcs, pc) - 1
        if i < 0:
            return None
        line = self.lines[i]
        return i if pc < line.pc + line.size else None

    def line_at(self, pc: int) -> Line | None:
        """The instruction holding ``pc``."""
        i = self.index_at(pc)
        return None if i is None else self.lines[i]

    def window(self, pc: int, offset: int, count: int) -> list[Line | None]:
        """``count`` entries starting ``offset`` instructions from the one at (or after) ``pc``.

        Entries before the first or after the last instruction are ``None``
        (a front end shows them as invalid), so the answer always has
        ``count`` entries.
        """
        base = self.index_at(pc)
        if base is None:
            base = bisect.bisect_left(self._pcs, pc)
        first = base + offset
        out: list[Line | None] = []
        for i in range(first, first + max(count, 0)):
            out.append(self.lines[i] if 0 <= i < len(self.lines) else None)
        return out

    def function_name(self, func_index: int) -> str:
        """The function's name (name section, export) or ``func[N]``."""
        name = self.definition.func_name(func_index)
        if name is None:
            for export in self.definition.exports:
                if int(export.kind) == 0 and export.index == func_index:
                    return export.name
            return f"func[{func_index}]"
        return name
