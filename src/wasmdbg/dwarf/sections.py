"""From a module's ``.debug_*`` custom sections to a pyelftools ``DWARFInfo``.

This module owns three things:

* :class:`DwarfError`, the one error raised when DWARF is missing or broken;
* :class:`AddressMap`, the ONLY place where DWARF code addresses and module
  pcs are converted into each other;
* :func:`open_dwarf`, which hands the custom sections to pyelftools.

Wasm DWARF addresses code by its offset from the start of the Code section's
payload (the byte where the function count begins), not by module offset::

    module bytes:  | header | ... | id=10 | size | count | body 0 | body 1 ...
                                                 ^
                                                 code_offset (ModuleDef)
    DWARF address A  <->  module pc  code_offset + A

A function's ``DW_AT_low_pc`` is the start of its locals declaration (just
after the body's size field); line-table rows point at instructions.  The
linker writes a tombstone (``0xffffffff``, or ``0xfffffffe`` in
``.debug_ranges``/``.debug_loc``) or 0 for code it discarded:
:meth:`AddressMap.pc` returns ``None`` for every address outside the Code
section, so discarded code never yields a pc.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo

from ..errors import WasmError
from ..wasm.module import ModuleDef

__all__ = ["DWARF_SECTIONS", "AddressMap", "DwarfError", "open_dwarf"]

#: The custom sections handed to pyelftools (others, such as .debug_frame, are unused).
DWARF_SECTIONS = (
    ".debug_info",
    ".debug_abbrev",
    ".debug_line",
    ".debug_str",
    ".debug_line_str",
    ".debug_loc",
    ".debug_loclists",
    ".debug_ranges",
    ".debug_rnglists",
    ".debug_addr",
    ".debug_str_offsets",
)


class DwarfError(WasmError):
    """The module's DWARF is absent or cannot be read.

    Raised by :func:`open_dwarf` and by any query whose part of the DWARF
    turns out to be broken (parsing is lazy).  The debugger catches it and
    goes on at the Wasm level, showing ``str(error)`` as a note.
    """


@dataclass(frozen=True, slots=True)
class AddressMap:
    """Converts DWARF code addresses to module pcs and back.

    ``code_offset`` is where the Code section payload starts in the module;
    ``code_size`` is the payload's length (addresses at or past it are not
    code: tombstones of discarded functions).
    """

    code_offset: int
    code_size: int

    @classmethod
    def of(cls, module: ModuleDef) -> AddressMap:
        """The map of ``module`` (an empty one if it has no Code section)."""
        if not module.bodies:
            return cls(module.code_offset, 0)
        return cls(module.code_offset, module.bodies[-1].code_end - module.code_offset)

    def pc(self, address: int) -> int | None:
        """The module pc of DWARF address ``address``; ``None`` if not code."""
        if 0 <= address < self.code_size:
            return self.code_offset + address
        return None

    def end_pc(self, address: int) -> int | None:
        """Like :meth:`pc`, for an exclusive end address (which may equal the size)."""
        if 0 < address <= self.code_size:
            return self.code_offset + address
        return None

    def address(self, pc: int) -> int:
        """The DWARF address of module pc ``pc``."""
        return pc - self.code_offset


def open_dwarf(module: ModuleDef) -> DWARFInfo:
    """A pyelftools ``DWARFInfo`` over ``module``'s debug sections.

    Raises :class:`DwarfError` when the module has no ``.debug_info`` or no
    ``.debug_line`` (nothing source-level can be done without them).  The
    sections are only framed here; their contents are parsed on demand.
    """
    found = module.debug_sections()
    missing = [n for n in (".debug_info", ".debug_abbrev", ".debug_line") if n not in found]
    if missing:
        raise DwarfError("no DWARF debug information (missing " + ", ".join(missing) + ")")

    def sec(name: str) -> DebugSectionDescriptor | None:
        data = found.get(name)
        if data is None:
            return None
        return DebugSectionDescriptor(io.BytesIO(data), name, None, len(data), 0)

    # NB: Wasm32 DWARF is little-endian with 4-byte addresses; the machine
    # name only matters to pyelftools for register names, which Wasm lacks.
    return DWARFInfo(
        config=DwarfConfig(little_endian=True, machine_arch="wasm", default_address_size=4),
        debug_info_sec=sec(".debug_info"),
        debug_aranges_sec=None,
        debug_abbrev_sec=sec(".debug_abbrev"),
        debug_frame_sec=None,
        eh_frame_sec=None,
        debug_str_sec=sec(".debug_str"),
        debug_loc_sec=sec(".debug_loc"),
        debug_ranges_sec=sec(".debug_ranges"),
        debug_line_sec=sec(".debug_line"),
        debug_pubtypes_sec=None,
        debug_pubnames_sec=None,
        debug_addr_sec=sec(".debug_addr"),
        debug_str_offsets_sec=sec(".debug_str_offsets"),
        debug_line_str_sec=sec(".debug_line_str"),
        debug_loclists_sec=sec(".debug_loclists"),
        debug_rnglists_sec=sec(".debug_rnglists"),
        debug_sup_sec=None,
        gnu_debugaltlink_sec=None,
        debug_types_sec=None,
    )
