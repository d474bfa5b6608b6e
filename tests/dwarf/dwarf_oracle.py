"""Helpers for the DWARF tests: the C test programs and llvm-dwarfdump as an oracle.

``program(name)`` decodes a committed module of tests/programs/c;
``marker(src, name)`` finds the line of a ``// MARK: name`` comment;
``dump_lines``/``dump_dies``/``lookup`` run llvm-dwarfdump-22 and parse its
text into plain data (DWARF addresses, not module pcs).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wasmdbg.dwarf import DebugInfo
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.module import ModuleDef

PROGRAMS = Path(__file__).resolve().parent.parent / "programs" / "c"
DWARFDUMP = "llvm-dwarfdump-22"

needs_dwarfdump = pytest.mark.skipif(
    shutil.which(DWARFDUMP) is None, reason="llvm-dwarfdump-22 is not installed"
)


@functools.cache
def module(name: str) -> ModuleDef:
    """The decoded module ``tests/programs/c/NAME.wasm`` (cached: modules are immutable)."""
    return decode_module((PROGRAMS / f"{name}.wasm").read_bytes())


def debug_info(name: str) -> DebugInfo:
    """A fresh DebugInfo of a test program (fresh: its caches are under test)."""
    return DebugInfo(module(name))


def marker(source: str, name: str) -> int:
    """The 1-based line of ``// MARK: name`` in tests/programs/c/SOURCE."""
    for i, text in enumerate((PROGRAMS / source).read_text().splitlines(), 1):
        if re.search(rf"// MARK: {re.escape(name)}\b", text):
            return i
    raise LookupError(f"no marker {name!r} in {source}")


def _run(*args: str) -> str:
    return subprocess.run([DWARFDUMP, *args], check=True, capture_output=True, text=True).stdout


@dataclass
class DumpLineTable:
    offset: int
    version: int
    files: dict[int, str] = field(default_factory=dict)
    # (address, line, column, file number, is_stmt, prologue_end, end_sequence)
    rows: list[tuple[int, int, int, int, bool, bool, bool]] = field(default_factory=list)


_ROW = re.compile(r"^0x([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s*(.*)$")


@functools.cache
def dump_lines(name: str) -> list[DumpLineTable]:
    """Every line table of ``--debug-line``, parsed."""
    tables: list[DumpLineTable] = []
    cur: DumpLineTable | None = None
    pending_file: int | None = None
    for text in _run("--debug-line", str(PROGRAMS / f"{name}.wasm")).splitlines():
        if m := re.match(r"^debug_line\[0x([0-9a-f]+)\]", text):
            cur = DumpLineTable(int(m[1], 16), 0)
            tables.append(cur)
        elif cur is None:
            continue
        elif m := re.match(r"^\s+version: (\d+)", text):
            cur.version = int(m[1])
        elif m := re.match(r"^file_names\[\s*(\d+)\]:", text):
            pending_file = int(m[1])
        elif (m := re.match(r'^\s+name: "(.*)"', text)) and pending_file is not None:
            cur.files[pending_file] = m[1]
            pending_file = None
        elif m := _ROW.match(text):
            flags = m[5].split()
            cur.rows.append(
                (
                    int(m[1], 16),
                    int(m[2]),
                    int(m[3]),
                    int(m[4]),
                    "is_stmt" in flags,
                    "prologue_end" in flags,
                    "end_sequence" in flags,
                )
            )
    return tables


@dataclass
class DumpDie:
    offset: int
    tag: str
    depth: int
    attrs: dict[str, str]
    children: list[DumpDie] = field(default_factory=list)
    parent: DumpDie | None = None


@functools.cache
def dump_dies(name: str) -> list[DumpDie]:
    """The DIE trees of ``--debug-info`` (one root per compile unit)."""
    roots: list[DumpDie] = []
    stack: list[DumpDie] = []
    last: DumpDie | None = None
    last_attr: str | None = None
    for text in _run("--debug-info", str(PROGRAMS / f"{name}.wasm")).splitlines():
        if m := re.match(r"^0x([0-9a-f]{8}):(\s+)(DW_TAG_\w+)", text):
            depth = (len(m[2]) - 1) // 2
            die = DumpDie(int(m[1], 16), m[3], depth, {})
            while stack and stack[-1].depth >= depth:
                stack.pop()
            if stack:
                die.parent = stack[-1]
                stack[-1].children.append(die)
            else:
                roots.append(die)
            stack.append(die)
            last = die
            last_attr = None
        elif last is not None and (m := re.match(r"^\s+(DW_AT_\w+)\s+\((.*)$", text)):
            last.attrs[m[1]] = m[2].removesuffix(")") if m[2].count("(") < m[2].count(")") else m[2]
            last_attr = m[1]
        elif last is not None and last_attr and re.match(r"^\s+\[0x", text):
            last.attrs[last_attr] += " " + text.strip()
        elif not text.strip():
            last_attr = None
    return roots


def walk(die: DumpDie):  # type: ignore[no-untyped-def]
    yield die
    for c in die.children:
        yield from walk(c)


def quoted(value: str) -> str | None:
    """The quoted string in an attribute value: ``(0x4a "int")`` -> ``int``."""
    m = re.search(r'"(.*)"', value)
    return m[1] if m else None


def ranges_of(die: DumpDie) -> list[tuple[int, int]]:
    """A DIE's code ranges as DWARF addresses ``[lo, hi)``."""
    a = die.attrs
    if "DW_AT_ranges" in a:
        return [
            (int(lo, 16), int(hi, 16))
            for lo, hi in re.findall(r"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", a["DW_AT_ranges"])
        ]
    if "dead code" in a.get("DW_AT_low_pc", ""):
        return []  # the linker's tombstone
    if "DW_AT_low_pc" in a and "DW_AT_high_pc" in a:
        lo = int(re.search(r"0x([0-9a-f]+)", a["DW_AT_low_pc"])[1], 16)  # type: ignore[index]
        hi = int(re.search(r"0x([0-9a-f]+)", a["DW_AT_high_pc"])[1], 16)  # type: ignore[index]
        return [(lo, hi)]
    return []


def lookup(name: str, address: int) -> str:
    """``--lookup=ADDRESS`` output (a DWARF address)."""
    return _run(f"--lookup=0x{address:x}", str(PROGRAMS / f"{name}.wasm"))
