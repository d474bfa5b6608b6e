"""A growable machine-code byte buffer with labels, fixups and relocations.

The :class:`CodeBuffer` only collects bytes; it never touches executable
memory (``wasmdbg.runtime`` copies :meth:`CodeBuffer.finish`'s result into
mmap'd pages).  The x86-64 encoder (:mod:`wasmdbg.jit.x64`) appends to
:attr:`CodeBuffer.data` directly.

Labels and fixups
-----------------
A :class:`Label` names a code offset that may not be known yet.  Using an
unbound label (``emit_label_rel32``) writes four placeholder bytes and records
a *fixup* on the label; :meth:`CodeBuffer.bind` patches every recorded fixup
and later uses are resolved at once.  :meth:`CodeBuffer.finish` refuses to
produce code while a used label is still unbound.  A fixup stores::

    at      where the 4-byte little-endian signed value lives
    origin  the offset the value is relative to (for a jump or call: the
            end of the instruction; for a jump table entry: the table start)

    value = label.offset - origin

Relocations
-----------
Anything that depends on where the code will finally be placed (an absolute
address, a call to a symbol outside the buffer) is recorded as a
:class:`Relocation` for whoever places the code.  The compiler emits
position-independent code, so its buffers normally carry none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NoReturn

__all__ = ["CodeBuffer", "EncodingError", "Label", "RelocKind", "Relocation"]

_pack_u16 = struct.Struct("<H").pack
_pack_u32 = struct.Struct("<I").pack
_pack_i32 = struct.Struct("<i").pack
_pack_u64 = struct.Struct("<Q").pack
_pack_i32_into = struct.Struct("<i").pack_into
_pack_u32_into = struct.Struct("<I").pack_into

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1


class EncodingError(ValueError):
    """An instruction or buffer operation was asked for something impossible.

    These are bugs in the caller (an immediate out of range, a label bound
    twice or never bound, ``rsp`` used as an index register ...).
    """


class Label:
    """A code offset, possibly not known yet.

    ``offset`` is ``-1`` until the label is bound with :meth:`CodeBuffer.bind`.
    ``name`` only helps error messages and disassembly listings.
    """

    __slots__ = ("_fixups", "name", "offset")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.offset = -1
        # (at, origin) pairs waiting for the label to be bound
        self._fixups: list[tuple[int, int]] = []

    @property
    def bound(self) -> bool:
        """True once the label has an offset."""
        return self.offset >= 0

    def __repr__(self) -> str:
        where = f"@{self.offset:#x}" if self.offset >= 0 else "unbound"
        return f"Label({self.name!r}, {where})"


class RelocKind(IntEnum):
    """How the placer must fix a relocation (``S`` = absolute target address).

    ``ABS64``: write the 8-byte value ``S + addend``.
    ``REL32``: write the 4-byte signed value ``S + addend - (P + 4)`` where
    ``P`` is the absolute address of the relocated field.
    """

    ABS64 = 1
    REL32 = 2


@dataclass(frozen=True, slots=True)
class Relocation:
    """A field the code's placer must fill in.

    ``target`` is either an offset in this buffer (``int``; its absolute
    address is the code base plus the offset) or the name of an outside
    symbol (``str``) that the placer knows.
    """

    kind: RelocKind
    offset: int
    target: int | str
    addend: int = 0


class CodeBuffer:
    """A growable ``bytearray`` of machine code plus labels and relocations.

    NB: :attr:`data` is never replaced, only extended, so an encoder may keep
    a reference to it and append to it directly.
    """

    __slots__ = ("_pending", "data", "relocations")

    def __init__(self) -> None:
        self.data = bytearray()
        self.relocations: list[Relocation] = []
        # labels used before being bound (checked by finish)
        self._pending: list[Label] = []

    def reset(self) -> None:
        """Empty the buffer for new code (``data`` stays the same bytearray)."""
        self.data.clear()
        self.relocations.clear()
        self._pending.clear()

    # -- raw bytes -----------------------------------------------------------

    @property
    def offset(self) -> int:
        """The offset the next emitted byte will get."""
        return len(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def emit(self, data: bytes | bytearray) -> None:
        """Append raw bytes."""
        self.data += data

    def emit_u8(self, value: int) -> None:
        """Append one byte (0..255, or -128..-1 as two's complement)."""
        if not -0x80 <= value <= 0xFF:
            _range_error(value, 8)
        self.data.append(value & 0xFF)

    def emit_u16(self, value: int) -> None:
        """Append a little-endian 16-bit value (signed or unsigned)."""
        if not -0x8000 <= value <= 0xFFFF:
            _range_error(value, 16)
        self.data += _pack_u16(value & 0xFFFF)

    def emit_u32(self, value: int) -> None:
        """Append a little-endian 32-bit value (signed or unsigned)."""
        if not _I32_MIN <= value <= 0xFFFF_FFFF:
            _range_error(value, 32)
        self.data += _pack_u32(value & 0xFFFF_FFFF)

    def emit_u64(self, value: int) -> None:
        """Append a little-endian 64-bit value (signed or unsigned)."""
        if not -(1 << 63) <= value < (1 << 64):
            _range_error(value, 64)
        self.data += _pack_u64(value & 0xFFFF_FFFF_FFFF_FFFF)

    def patch_u8(self, at: int, value: int) -> None:
        """Overwrite the byte at ``at``."""
        self._check_patch(at, 1)
        self.data[at] = value & 0xFF

    def patch_u32(self, at: int, value: int) -> None:
        """Overwrite the 32-bit little-endian value at ``at`` (signed or unsigned)."""
        self._check_patch(at, 4)
        if not _I32_MIN <= value <= 0xFFFF_FFFF:
            _range_error(value, 32)
        _pack_u32_into(self.data, at, value & 0xFFFF_FFFF)

    def patch_bytes(self, at: int, data: bytes) -> None:
        """Overwrite ``len(data)`` bytes at ``at`` (the buffer never grows)."""
        self._check_patch(at, len(data))
        self.data[at : at + len(data)] = data

    def align(self, n: int, fill: int = 0xCC) -> None:
        """Pad with ``fill`` bytes until the offset is a multiple of ``n`` (a power of two)."""
        if n <= 0 or n & (n - 1):
            raise EncodingError(f"alignment must be a power of two, not {n}")
        pad = -len(self.data) & (n - 1)
        if pad:
            self.data += bytes((fill,)) * pad

    # -- labels ----------------------------------------------------------------

    def new_label(self, name: str = "") -> Label:
        """Return a fresh unbound label."""
        return Label(name)

    def bind(self, label: Label) -> None:
        """Bind ``label`` to the current offset and patch its pending fixups."""
        if label.offset >= 0:
            raise EncodingError(f"{label!r} is already bound")
        here = len(self.data)
        label.offset = here
        fixups = label._fixups
        if fixups:
            data = self.data
            for at, origin in fixups:
                _pack_i32_into(data, at, here - origin)
            fixups.clear()

    def emit_label_rel32(self, label: Label, origin: int | None = None) -> None:
        """Append ``label.offset - origin`` as a signed 32-bit value.

        ``origin`` defaults to the offset just after the four bytes, which is
        what a ``jmp``/``call``/``jcc`` rel32 at the end of an instruction needs.
        If the label is not bound yet, placeholder zeros are written and
        patched by :meth:`bind`.
        """
        data = self.data
        at = len(data)
        if origin is None:
            origin = at + 4
        target = label.offset
        if target >= 0:
            data += _pack_i32(target - origin)
        else:
            data += b"\0\0\0\0"
            if not label._fixups:
                self._pending.append(label)
            label._fixups.append((at, origin))

    # -- relocations -----------------------------------------------------------

    def add_relocation(self, kind: RelocKind, at: int, target: int | str, addend: int = 0) -> None:
        """Record that the field at ``at`` must be fixed by the code's placer."""
        self.relocations.append(Relocation(kind, at, target, addend))

    def emit_abs64(self, target: int | str, addend: int = 0) -> None:
        """Append an 8-byte absolute address of ``target`` (fixed by the placer)."""
        self.relocations.append(Relocation(RelocKind.ABS64, len(self.data), target, addend))
        self.data += bytes(8)

    # -- result ------------------------------------------------------------------

    def finish(self) -> bytes:
        """Return the code; fail if a used label was never bound."""
        unbound = [label for label in self._pending if label.offset < 0]
        if unbound:
            names = ", ".join(repr(label) for label in unbound)
            raise EncodingError(f"labels used but never bound: {names}")
        self._pending.clear()
        return bytes(self.data)

    def _check_patch(self, at: int, size: int) -> None:
        if at < 0 or at + size > len(self.data):
            raise EncodingError(f"patch of {size} bytes at {at:#x} is outside the buffer")


def _range_error(value: int, bits: int) -> NoReturn:
    raise EncodingError(f"{value:#x} does not fit in {bits} bits")
