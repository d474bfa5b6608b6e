"""The DWARF line table of one compile unit: pc <-> file:line:column.

pyelftools parses the line-program *header* (versions 2 to 5: file and
directory tables); this module runs the line-number *program* itself with a
tight decoder of its own, because the big programs the debugger must open
quickly (SQLite: about 400,000 rows in one unit) take pyelftools seconds.

The program is a state machine; every "emit" appends one row::

    state: address file line column is_stmt prologue_end epilogue_begin
    special opcode  -> address += k, line += d, emit, clear the per-row flags
    DW_LNS_copy     -> emit, clear the per-row flags
    DW_LNE_end_sequence -> emit an end row (address is one past the code), reset

Rows are kept as tuples sorted by address, in DWARF addresses, and turned
into :class:`LineRow` objects (with module pcs) only when a query returns
them: the conversion goes through the
:class:`~wasmdbg.dwarf.sections.AddressMap` at that boundary, and nowhere
else.  Sequences whose start address is not code (the linker's tombstones
for discarded functions) are dropped as a whole.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from .sections import AddressMap, DwarfError

__all__ = ["LineFlags", "LineRow", "LineTable", "decode_line_program", "file_matches"]


class LineFlags(IntFlag):
    """Per-row flags of the line table."""

    IS_STMT = 1
    PROLOGUE_END = 2
    EPILOGUE_BEGIN = 4
    END_SEQUENCE = 8


@dataclass(frozen=True, slots=True)
class LineRow:
    """One row: the instruction at module pc ``pc`` belongs to ``file:line:column``."""

    pc: int
    file: str
    line: int
    column: int
    is_stmt: bool
    prologue_end: bool
    end_sequence: bool


def file_matches(path: str, query: str) -> bool:
    """Whether source ``path`` is what the user means by ``query``.

    Matches the whole path, a suffix on a ``/`` boundary
    (``c/types.c`` matches ``tests/programs/c/types.c``; a bare name
    matches the basename), and a longer query that ends with a relative
    ``path`` (``tests/programs/c/types.c`` names ``types.c``, recorded
    relative to an unknown build directory).
    """
    if not query:
        return False
    path = posixpath.normpath(path)
    q = posixpath.normpath(query)
    if path == q or path.endswith("/" + q):
        return True
    return not posixpath.isabs(path) and q.endswith("/" + path)


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos


Row = tuple[int, int, int, int, int]  # (address, file, line, column, flags)


def decode_line_program(
    data: bytes, start: int, end: int, header: Any, amap: AddressMap
) -> list[Row]:
    """Run the line program ``data[start:end]`` and return its rows.

    ``header`` is pyelftools' parsed line-program header.  Addresses in the
    result are still DWARF addresses (:class:`LineTable` converts them at
    its boundary); sequences that do not start in the code (``amap``) are
    left out.  Raises :class:`DwarfError` for a malformed program.
    """
    try:
        return _decode(data, start, end, header, amap)
    except (IndexError, ValueError) as e:
        raise DwarfError(f"malformed line program at .debug_line+0x{start:x}: {e}") from None


def _decode(data: bytes, start: int, end: int, header: Any, amap: AddressMap) -> list[Row]:
    min_inst = int(header["minimum_instruction_length"])
    line_base = int(header["line_base"])
    line_range = int(header["line_range"])
    opcode_base = int(header["opcode_base"])
    std_lengths = list(header["standard_opcode_lengths"])
    default_stmt = 1 if header["default_is_stmt"] else 0
    if line_range == 0:
        raise DwarfError("line program header has line_range 0")
    if end > len(data):
        raise DwarfError("line program runs past the end of .debug_line")
    const_add = ((255 - opcode_base) // line_range) * min_inst
    # Special opcodes, precomputed: op -> address and line increments.
    addr_step = [0] * 256
    line_step = [0] * 256
    for op in range(opcode_base, 256):
        adj = op - opcode_base
        addr_step[op] = (adj // line_range) * min_inst
        line_step[op] = line_base + adj % line_range
    code_size = amap.code_size
    is_stmt_flag = LineFlags.IS_STMT.value
    prologue_flag = LineFlags.PROLOGUE_END.value
    epilogue_flag = LineFlags.EPILOGUE_BEGIN.value
    end_flag = LineFlags.END_SEQUENCE.value

    out: list[Row] = []
    seq: list[Row] = []
    append = seq.append
    address = 0
    file = 1
    line = 1
    column = 0
    stmt = default_stmt
    extra = 0  # prologue_end / epilogue_begin for the next row
    seq_ok = True  # False once set_address puts the sequence outside the code
    pos = start
    while pos < end:
        op = data[pos]
        pos += 1
        if op >= opcode_base:
            address += addr_step[op]
            line += line_step[op]
            append((address, file, line, column, stmt | extra))
            extra = 0
        # NB: branches ordered by how often clang emits them (SQLite: special
        # 167k, set_column 114k, negate_stmt 102k, advance_line 92k, then the rest).
        elif op == 5:  # DW_LNS_set_column
            column = data[pos]
            if column < 0x80:
                pos += 1
            else:
                column, pos = _uleb(data, pos)
        elif op == 6:  # DW_LNS_negate_stmt
            stmt ^= is_stmt_flag
        elif op == 3:  # DW_LNS_advance_line
            b = data[pos]
            if b < 0x80:  # NB: the common one-byte SLEB128, inline
                line += b - 0x80 if b & 0x40 else b
                pos += 1
            else:
                n, pos = _sleb(data, pos)
                line += n
        elif op == 0:
            length, pos = _uleb(data, pos)
            if length == 0:
                continue
            sub = data[pos]
            body = pos + 1
            pos += length
            if sub == 1:  # DW_LNE_end_sequence
                append((address, file, line, column, stmt | extra | end_flag))
                if seq_ok and seq and 0 <= seq[0][0] < code_size:
                    out.extend(seq)
                seq = []
                append = seq.append
                address, file, line, column, stmt, extra, seq_ok = 0, 1, 1, 0, default_stmt, 0, True
            elif sub == 2:  # DW_LNE_set_address
                address = int.from_bytes(data[body:pos], "little")
                if not 0 <= address < code_size:
                    seq_ok = False
            # DW_LNE_define_file (3), set_discriminator (4) and vendor
            # extensions carry nothing the debugger uses: skipped by length.
        elif op == 1:  # DW_LNS_copy
            append((address, file, line, column, stmt | extra))
            extra = 0
        elif op == 2:  # DW_LNS_advance_pc
            n, pos = _uleb(data, pos)
            address += n * min_inst
        elif op == 4:  # DW_LNS_set_file
            file, pos = _uleb(data, pos)
        elif op == 7:  # DW_LNS_set_basic_block
            pass
        elif op == 8:  # DW_LNS_const_add_pc
            address += const_add
        elif op == 9:  # DW_LNS_fixed_advance_pc
            address += data[pos] | data[pos + 1] << 8
            pos += 2
        elif op == 10:  # DW_LNS_set_prologue_end
            extra |= prologue_flag
        elif op == 11:  # DW_LNS_set_epilogue_begin
            extra |= epilogue_flag
        else:  # DW_LNS_set_isa (12) or an opcode this reader does not know
            for _ in range(std_lengths[op - 1]):
                _, pos = _uleb(data, pos)
    if pos != end:
        raise DwarfError(f"line program at .debug_line+0x{start:x} overruns its unit")
    out.sort(key=lambda r: r[0])  # stable: rows at one pc keep program order
    return out


class LineTable:
    """The decoded line table of one compile unit.

    ``files[i]`` is the path of DWARF file number ``i`` (relative to the
    unit's ``comp_dir`` unless absolute; ``""`` for unused numbers).
    Queries take and return module pcs.
    """

    def __init__(self, files: list[str], comp_dir: str, rows: list[Row], amap: AddressMap) -> None:
        self.files = files
        self.comp_dir = comp_dir
        self.amap = amap
        self._rows = rows
        self._addresses = [r[0] for r in rows]
        self._by_file: dict[int, dict[int, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def _row(self, i: int) -> LineRow:
        address, f, line, col, fl = self._rows[i]
        name = self.files[f] if 0 <= f < len(self.files) else ""
        end = bool(fl & LineFlags.END_SEQUENCE)
        pc = self.amap.end_pc(address) if end else self.amap.pc(address)
        return LineRow(
            pc if pc is not None else self.amap.code_offset + self.amap.code_size,
            name,
            line,
            col,
            bool(fl & LineFlags.IS_STMT),
            bool(fl & LineFlags.PROLOGUE_END),
            end,
        )

    def rows(self) -> list[LineRow]:
        """Every row, in pc order (end-of-sequence rows included)."""
        return [self._row(i) for i in range(len(self._rows))]

    def row_at(self, pc: int) -> LineRow | None:
        """The row covering ``pc``: the last one at or before it, if not an end row."""
        i = bisect.bisect_right(self._addresses, self.amap.address(pc)) - 1
        if i < 0:
            return None
        row = self._row(i)
        return None if row.end_sequence else row

    def rows_between(self, lo: int, hi: int) -> list[LineRow]:
        """The rows with ``lo <= pc < hi``, in pc order."""
        i = bisect.bisect_left(self._addresses, self.amap.address(lo))
        j = bisect.bisect_left(self._addresses, self.amap.address(hi))
        return [self._row(k) for k in range(i, j)]

    def file_numbers(self, query: str) -> list[int]:
        """The DWARF file numbers whose path matches ``query`` (see :func:`file_matches`)."""
        return [i for i, p in enumerate(self.files) if p and file_matches(p, query)]

    def stmt_lines(self, file_numbers: Iterable[int]) -> set[int]:
        """The lines of the given files that have ``is_stmt`` rows."""
        out: set[int] = set()
        for f in file_numbers:
            out.update(self._index(f))
        return out

    def stmt_pcs(self, file_numbers: Iterable[int], line: int) -> list[int]:
        """The pcs of the ``is_stmt`` rows on ``line`` of the given files."""
        out = []
        for f in file_numbers:
            for a in self._index(f).get(line, ()):
                pc = self.amap.pc(a)
                if pc is not None:
                    out.append(pc)
        return out

    def _index(self, f: int) -> dict[int, list[int]]:
        index = self._by_file.get(f)
        if index is None:
            index = {}
            stmt, end = LineFlags.IS_STMT.value, LineFlags.END_SEQUENCE.value
            for address, rf, line, _col, fl in self._rows:
                if rf == f and fl & stmt and not fl & end and line > 0:
                    index.setdefault(line, []).append(address)
            self._by_file[f] = index
        return index
