"""A fast skim over one compile unit's DIEs: the offsets of its top-level entries.

pyelftools parses every attribute of every DIE it walks past (about 40k
DIEs a second), and clang emits no ``DW_AT_sibling``, so finding a unit's
functions would parse the whole unit: two seconds for SQLite.  This module
walks the DIE stream itself, *skipping* attribute values by their form, and
records only the offset, tag and ``DW_AT_low_pc`` of the unit DIE's
direct children; the callers then let pyelftools parse just the DIEs they
need (``function_at`` parses one subprogram, not all of them).

Each abbreviation becomes a skip plan once: a list of steps, where a step
``n >= 0`` skips ``n`` fixed bytes (runs of fixed-size forms are summed)
and a negative step names a variable-size form::

    DIE:  uleb abbrev-code | attribute values ... | (children ... 0)?
    plan: [4, LEB, 2, STRING, 4]  ->  skip 4, skip a LEB128, skip 2, ...
"""

from __future__ import annotations

from elftools.dwarf.compileunit import CompileUnit

from .sections import DwarfError

__all__ = ["skim_top_level"]

_LEB = -1
_STRING = -2
_BLOCK1 = -3
_BLOCK2 = -4
_BLOCK4 = -5
_BLOCK_LEB = -6
_INDIRECT = -7

_FIXED_FORMS = {
    "DW_FORM_data1": 1, "DW_FORM_ref1": 1, "DW_FORM_flag": 1, "DW_FORM_strx1": 1,
    "DW_FORM_addrx1": 1, "DW_FORM_data2": 2, "DW_FORM_ref2": 2, "DW_FORM_strx2": 2,
    "DW_FORM_addrx2": 2, "DW_FORM_strx3": 3, "DW_FORM_addrx3": 3, "DW_FORM_data4": 4,
    "DW_FORM_ref4": 4, "DW_FORM_strx4": 4, "DW_FORM_addrx4": 4, "DW_FORM_ref_sup4": 4,
    "DW_FORM_data8": 8, "DW_FORM_ref8": 8, "DW_FORM_ref_sig8": 8, "DW_FORM_ref_sup8": 8,
    "DW_FORM_data16": 16, "DW_FORM_flag_present": 0, "DW_FORM_implicit_const": 0,
}  # fmt: skip
_OFFSET_FORMS = {
    "DW_FORM_strp", "DW_FORM_line_strp", "DW_FORM_sec_offset", "DW_FORM_ref_addr",
    "DW_FORM_strp_sup", "DW_FORM_GNU_ref_alt", "DW_FORM_GNU_strp_alt",
}  # fmt: skip
_LEB_FORMS = {
    "DW_FORM_udata", "DW_FORM_sdata", "DW_FORM_ref_udata", "DW_FORM_strx", "DW_FORM_addrx",
    "DW_FORM_loclistx", "DW_FORM_rnglistx", "DW_FORM_GNU_addr_index", "DW_FORM_GNU_str_index",
}  # fmt: skip
_VARIABLE_FORMS = {
    "DW_FORM_string": _STRING,
    "DW_FORM_block1": _BLOCK1,
    "DW_FORM_block2": _BLOCK2,
    "DW_FORM_block4": _BLOCK4,
    "DW_FORM_block": _BLOCK_LEB,
    "DW_FORM_exprloc": _BLOCK_LEB,
    "DW_FORM_indirect": _INDIRECT,
}
_FORM_CODES = {  # for DW_FORM_indirect, whose form comes as a number
    0x01: "DW_FORM_addr", 0x03: "DW_FORM_block2", 0x04: "DW_FORM_block4",
    0x05: "DW_FORM_data2", 0x06: "DW_FORM_data4", 0x07: "DW_FORM_data8",
    0x08: "DW_FORM_string", 0x09: "DW_FORM_block", 0x0A: "DW_FORM_block1",
    0x0B: "DW_FORM_data1", 0x0C: "DW_FORM_flag", 0x0D: "DW_FORM_sdata",
    0x0E: "DW_FORM_strp", 0x0F: "DW_FORM_udata", 0x10: "DW_FORM_ref_addr",
    0x11: "DW_FORM_ref1", 0x12: "DW_FORM_ref2", 0x13: "DW_FORM_ref4",
    0x14: "DW_FORM_ref8", 0x15: "DW_FORM_ref_udata", 0x17: "DW_FORM_sec_offset",
    0x18: "DW_FORM_exprloc", 0x19: "DW_FORM_flag_present",
}  # fmt: skip


def _plan(specs: list[tuple[str, str]], address_size: int, offset_size: int) -> list[int]:
    plan: list[int] = []
    for _name, form in specs:
        if form in _FIXED_FORMS:
            step = _FIXED_FORMS[form]
        elif form == "DW_FORM_addr":
            step = address_size
        elif form in _OFFSET_FORMS:
            step = offset_size
        elif form in _LEB_FORMS:
            step = _LEB
        elif form in _VARIABLE_FORMS:
            step = _VARIABLE_FORMS[form]
        else:
            raise DwarfError(f"unknown attribute form {form}")
        if step >= 0 and plan and plan[-1] >= 0:
            plan[-1] += step
        elif step != 0 or not plan:
            plan.append(step)
    return plan


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _skip(data: bytes, pos: int, step: int, address_size: int, offset_size: int) -> int:
    """Skip one value of a variable-size form (the loop handles fixed sizes and LEBs)."""
    if step >= 0:
        return pos + step
    if step == _LEB:
        return _leb(data, pos)[1]
    if step == _STRING:
        return data.index(b"\x00", pos) + 1
    if step == _BLOCK_LEB:
        n, pos = _leb(data, pos)
        return pos + n
    if step == _BLOCK1:
        return pos + 1 + data[pos]
    if step == _BLOCK2:
        return pos + 2 + int.from_bytes(data[pos : pos + 2], "little")
    if step == _BLOCK4:
        return pos + 4 + int.from_bytes(data[pos : pos + 4], "little")
    # DW_FORM_indirect: the form code precedes the value.
    form_code, pos = _leb(data, pos)
    form = _FORM_CODES.get(form_code)
    if form is None:
        raise DwarfError(f"unknown indirect form 0x{form_code:x}")
    for sub in _plan([("", form)], address_size, offset_size):
        pos = _skip(data, pos, sub, address_size, offset_size)
    return pos


Entry = tuple[int, str, int | None]  # (DIE offset, tag, DW_AT_low_pc as a DWARF address)


def skim_top_level(cu: CompileUnit, data: bytes) -> list[Entry]:
    """``(offset, tag, low_pc)`` of every direct child of ``cu``'s unit DIE.

    ``low_pc`` is read when the abbreviation puts it after fixed-size
    attributes only (clang puts it first); else it is None.

    ``data`` is the whole ``.debug_info``.  Raises :class:`DwarfError` when
    the DIE stream does not fit its abbreviations.
    """
    try:
        return _skim(cu, data)
    except (IndexError, KeyError, ValueError, TypeError) as e:
        raise DwarfError(
            f"malformed DIEs in the unit at .debug_info+0x{cu.cu_offset:x}: {e}"
        ) from None


def _low_pc_at(specs: list[tuple[str, str]], address_size: int) -> tuple[int, str] | None:
    """Where ``DW_AT_low_pc`` starts in a DIE's attribute bytes, when only
    fixed-size values precede it, and its form; else None."""
    prefix = 0
    for name, form in specs:
        if name == "DW_AT_low_pc":
            return (
                (prefix, form)
                if form
                in (
                    "DW_FORM_addr",
                    "DW_FORM_addrx",
                    "DW_FORM_addrx1",
                    "DW_FORM_addrx2",
                    "DW_FORM_addrx4",
                )
                else None
            )
        if form == "DW_FORM_addr":
            prefix += address_size
        elif form in _FIXED_FORMS:
            prefix += _FIXED_FORMS[form]
        else:
            return None
    return None


def _skim(cu: CompileUnit, data: bytes) -> list[Entry]:
    abbrevs = cu.get_abbrev_table()
    address_size = int(cu["address_size"])
    offset_size = 8 if cu.dwarf_format() == 64 else 4
    plans: dict[int, tuple[str, bool, list[int], tuple[int, str] | None]] = {}
    end = cu.cu_offset + cu.size
    if end > len(data):
        raise DwarfError(f"the unit at .debug_info+0x{cu.cu_offset:x} runs past the section")
    out: list[Entry] = []
    pos = cu.cu_die_offset
    depth = 0
    while pos < end:
        start = pos
        code, pos = _leb(data, pos)
        if code == 0:
            depth -= 1
            if depth <= 0:
                break
            continue
        entry = plans.get(code)
        if entry is None:
            decl = abbrevs.get_abbrev(code)
            specs = list(decl.iter_attr_specs())
            entry = (
                str(decl["tag"]),
                decl.has_children(),
                _plan(specs, address_size, offset_size),
                _low_pc_at(specs, address_size),
            )
            plans[code] = entry
        tag, has_children, plan, low_at = entry
        if depth == 1:
            low: int | None = None
            if low_at is not None:
                at = pos + low_at[0]
                form = low_at[1]
                if form == "DW_FORM_addr":
                    low = int.from_bytes(data[at : at + address_size], "little")
                else:
                    width = {"DW_FORM_addrx1": 1, "DW_FORM_addrx2": 2, "DW_FORM_addrx4": 4}.get(
                        form
                    )
                    index = (
                        _leb(data, at)[0]
                        if width is None
                        else int.from_bytes(data[at : at + width], "little")
                    )
                    low = int(cu.dwarfinfo.get_addr(cu, index))
            out.append((start, tag, low))
        for step in plan:
            if step >= 0:
                pos += step
            elif step == _LEB:
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
            else:
                pos = _skip(data, pos, step, address_size, offset_size)
        if has_children:
            depth += 1
        elif depth == 0:
            break  # a unit DIE without children
    if pos > end:
        raise DwarfError(f"DIEs overrun the unit at .debug_info+0x{cu.cu_offset:x}")
    return out
