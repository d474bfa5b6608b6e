"""The ``name`` custom section: module, function and local names.

This module owns the name section's encoding (subsection 0: the module name,
1: a name map of functions, 2: an indirect name map of locals per function;
other subsections are skipped).  Custom sections are not validated by the
specification, so a malformed name section never makes a module malformed:
:func:`parse_name_section` then drops it entirely and returns an empty
:class:`NameSection` (the raw section stays in ``ModuleDef.customs``).
"""

from __future__ import annotations

from ..errors import DecodeError
from .module import NameSection
from .reader import Reader

__all__ = ["decode_name_section", "parse_name_section"]

_MODULE, _FUNCTIONS, _LOCALS = 0, 1, 2


def decode_name_section(data: bytes, start: int, end: int) -> NameSection:
    """Decode the name section payload ``data[start:end]`` strictly.

    Raises :class:`DecodeError` on malformed content (including subsections
    out of order or repeated).
    """
    names = NameSection()
    r = Reader(data, start, end)
    last_id = -1
    while not r.at_end():
        pos = r.pos
        sub_id = r.byte()
        size = r.u32()
        s = r.sub(size)
        if sub_id <= last_id:
            raise DecodeError("name subsections out of order", pos)
        last_id = sub_id
        if sub_id == _MODULE:
            names.module = s.name()
        elif sub_id == _FUNCTIONS:
            names.functions = _name_map(s)
        elif sub_id == _LOCALS:
            for _ in range(s.count()):
                func = s.u32()
                names.locals[func] = _name_map(s)
        else:
            continue  # a later extension (labels, types ...): skipped
        if not s.at_end():
            raise DecodeError("name subsection size mismatch", s.pos)
    return names


def parse_name_section(data: bytes, start: int, end: int) -> NameSection:
    """Decode the name section payload, or return an empty one if it is malformed."""
    try:
        return decode_name_section(data, start, end)
    except DecodeError:
        return NameSection()


def _name_map(r: Reader) -> dict[int, str]:
    out: dict[int, str] = {}
    for _ in range(r.count()):
        index = r.u32()
        out[index] = r.name()
    return out
