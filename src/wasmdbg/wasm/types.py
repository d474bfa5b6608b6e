"""Wasm types: value types, function types, limits and the extern types.

These are plain frozen dataclasses shared by every layer; the embedding API
(``wasmdbg.FuncType`` and friends) wraps them with wasmtime-py's names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "MAX_PAGES",
    "NUM_TYPES",
    "PAGE_SIZE",
    "REF_TYPES",
    "ExternKind",
    "FuncType",
    "GlobalType",
    "Limits",
    "MemoryType",
    "TableType",
    "ValType",
]

PAGE_SIZE = 65536
MAX_PAGES = 65536


class ValType(IntEnum):
    """A value type, valued by its binary encoding."""

    I32 = 0x7F
    I64 = 0x7E
    F32 = 0x7D
    F64 = 0x7C
    V128 = 0x7B
    FUNCREF = 0x70
    EXTERNREF = 0x6F

    @property
    def is_ref(self) -> bool:
        """True for ``funcref`` and ``externref``."""
        return self in (ValType.FUNCREF, ValType.EXTERNREF)

    @property
    def text(self) -> str:
        """The text-format name (``i32``, ``funcref`` ...)."""
        return self.name.lower()


NUM_TYPES = frozenset({ValType.I32, ValType.I64, ValType.F32, ValType.F64})
REF_TYPES = frozenset({ValType.FUNCREF, ValType.EXTERNREF})


class ExternKind(IntEnum):
    """The kind of an import or export, valued by its binary encoding."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3


@dataclass(frozen=True, slots=True)
class FuncType:
    """A function signature."""

    params: tuple[ValType, ...]
    results: tuple[ValType, ...]

    def __str__(self) -> str:
        p = " ".join(t.text for t in self.params)
        r = " ".join(t.text for t in self.results)
        return f"[{p}] -> [{r}]"


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of a table (elements) or memory (64 KiB pages)."""

    min: int
    max: int | None = None


@dataclass(frozen=True, slots=True)
class TableType:
    """A table's element type and limits."""

    elem: ValType
    limits: Limits


@dataclass(frozen=True, slots=True)
class MemoryType:
    """A memory's limits in pages."""

    limits: Limits


@dataclass(frozen=True, slots=True)
class GlobalType:
    """A global's value type and mutability."""

    valtype: ValType
    mutable: bool
