"""Reading and writing the Wasm values of a paused frame.

A paused Wasm frame's locals and operand-stack values live where the frame
table row of its current point says (:class:`~wasmdbg.jit.frametable.Loc`):
in the frame (``[rbp + offset]``), in a register, nowhere (a constant), or
in the flags (a comparison result the code branches on directly).
Registers of the innermost frame are found in the breakpoint trampoline's
saved-register area; caller frames have none (calls clobber registers, so
the compiler keeps nothing there across a call).

:class:`FrameValues` is the list-like view a debug frame exposes as
``frame.locals`` and ``frame.stack``::

    frame.locals[0]          # -> int | float (i32/i64 signed)
    frame.locals[0] = 42     # writes the slot or the saved register
    frame.stack[-1] = 1.5    # a constant location raises DebugError

In guest-debug builds ``local.get`` copies the local into a register at
once, so every operand-stack value has a location of its own and can be
written without touching the local (and the other way round).  A frame
table that did describe a stack value at a local's slot (a stack ``SLOT``
location equal to a local's: "local j's value, pushed and not yet copied")
would make the two one value; writing either then raises
:class:`DebugError` (the frame's ``locals`` and ``stack`` views know each
other through :meth:`FrameValues.pair`).

Writes go to exactly the value's width (4 bytes for i32/f32, 8 otherwise) in
frame slots and XMM registers; a GPR is written as the zero-extended 64-bit
pattern, which is what 32-bit x86 operations would leave there.  A value in
the flags reads as 1 or 0; writing it sets the saved flags so that the
condition holds exactly when the new value is non-zero (its consumers --
``if``, ``br_if``, ``select``, ``i32.eqz`` -- only test for zero), so it
reads back as 0 or 1.  A value the
guest reads after the handler returns sees the new contents: the trampoline
restores registers from the saved area.

Raw memory access is abstracted by :class:`MemoryAccess` (ctypes in the
runtime, a bytearray in the tests); register locations by
:class:`RegisterArea` (:data:`SAVED_LAYOUT`: the trampoline's area, one
enumeration of the registers from ``jit.x64``).  Reads of live frames skip
both: :func:`make_reader` turns each location into a decoder once per
frame-table row.  Values are encoded and decoded by the one slot codec of
``jit.frametable`` (``encode_value``/``decode_bits``); a value that does
not fit its type, or is no number, raises :class:`DebugError`.
:class:`GlobalValues` is the same view over an instance's global cells.

Every view belongs to one stop (a :class:`StopToken`): the values it names
live in the stack frames and the saved-register area of that pause, which
the guest reuses as soon as it resumes.  Once the stop is over every read
and write raises :class:`DebugError` instead of touching whatever lives at
those addresses now.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, overload

from ...errors import DebugError
from ...jit import stubs
from ...jit.frametable import (
    Loc,
    LocKind,
    condition_holds,
    decode_bits,
    encode_value,
    flags_for,
    value_width,
)
from ...jit.x64 import Reg, Xmm
from ...wasm.types import ValType

__all__ = [
    "SAVED_LAYOUT",
    "FrameValues",
    "GlobalCell",
    "GlobalValues",
    "MemoryAccess",
    "ProcessMemory",
    "ReadOnlyMemory",
    "Reader",
    "RegisterArea",
    "SavedRegisters",
    "StopToken",
    "make_reader",
]


def _encode(value: object, ty: ValType, what: str) -> int:
    """The slot bits of ``value`` as a ``ty``; any unfit value is a DebugError."""
    if not isinstance(value, int | float):
        raise DebugError(
            f"cannot write {value!r} to {what}: a {ty.text} needs a number, "
            f"not {type(value).__name__}"
        )
    try:
        return encode_value(value, ty)
    except (ValueError, OverflowError, TypeError) as exc:
        raise DebugError(f"cannot write {value!r} to {what}: {exc}") from exc


class StopToken:
    """One pause of a Store's guest: ``live`` from the stop until the guest resumes.

    ``generation`` numbers the Store's stops (1, 2, ...).  The Store's debug
    support makes one per delivered event (at a patch-site stop the frame
    list, a subclass, is the token) and calls :meth:`end` when the handler
    returns.
    """

    __slots__ = ("generation", "live")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.live = True

    def end(self) -> None:
        """The guest resumes: every view of this stop goes stale."""
        self.live = False

    def check(self) -> None:
        """Raise :class:`DebugError` if the stop is over."""
        if not self.live:
            raise DebugError(
                f"this frame belongs to stop {self.generation}, and the guest has resumed "
                "since: its values are gone (ask store.debug_frames() again at the next stop)"
            )


class MemoryAccess(Protocol):
    """Raw access to the process's memory (native stack, saved registers)."""

    def read(self, address: int, size: int) -> bytes: ...

    def write(self, address: int, data: bytes) -> None: ...


class RegisterArea(Protocol):
    """Where the trampoline saved register ``n`` and rflags (``None``: not saved)."""

    def gpr_address(self, reg: int) -> int | None: ...

    def xmm_address(self, reg: int) -> int | None: ...

    def flags_address(self) -> int | None: ...


class SavedRegisters:
    """A saved-register area at ``base`` laid out as ``offsets`` say.

    ``gpr_offsets[n]`` / ``xmm_offsets[n]`` are byte offsets from ``base``
    (as published by the trampoline's layout); a register missing from the
    map was not saved.  ``stop``: the pause the area belongs to.
    """

    __slots__ = ("base", "flags_offset", "gpr_offsets", "stop", "xmm_offsets")

    def __init__(
        self,
        base: int,
        gpr_offsets: dict[int, int],
        xmm_offsets: dict[int, int],
        flags_offset: int | None = None,
        stop: StopToken | None = None,
    ) -> None:
        self.base = base
        self.gpr_offsets = gpr_offsets
        self.xmm_offsets = xmm_offsets
        self.flags_offset = flags_offset
        self.stop = stop

    def at(self, base: int, stop: StopToken | None) -> SavedRegisters:
        """The same layout at another ``base``, belonging to ``stop``."""
        return SavedRegisters(base, self.gpr_offsets, self.xmm_offsets, self.flags_offset, stop)

    def gpr_address(self, reg: int) -> int | None:
        """Address of the saved GPR ``reg``."""
        if self.stop is not None:
            self.stop.check()
        off = self.gpr_offsets.get(reg)
        return None if off is None else self.base + off

    def xmm_address(self, reg: int) -> int | None:
        """Address of the saved ``xmm<reg>``."""
        if self.stop is not None:
            self.stop.check()
        off = self.xmm_offsets.get(reg)
        return None if off is None else self.base + off

    def flags_address(self) -> int | None:
        """Address of the saved rflags (8 bytes)."""
        if self.stop is not None:
            self.stop.check()
        return None if self.flags_offset is None else self.base + self.flags_offset


#: The breakpoint trampoline's saved-register area (``jit.stubs``), base 0: every
#: GPR but rsp and rbp (the frame itself), every XMM register, rflags.
SAVED_LAYOUT = SavedRegisters(
    0,
    {int(r): stubs.saved_gpr(r) for r in Reg if r not in (Reg.RSP, Reg.RBP)},
    {int(x): stubs.saved_xmm(x) for x in Xmm},
    stubs.SAVED_FLAGS,
)


class ProcessMemory:
    """Raw reads and writes of this process's memory (ctypes)."""

    def read(self, address: int, size: int) -> bytes:
        """``size`` bytes at ``address``."""
        return ctypes.string_at(address, size)

    def write(self, address: int, data: bytes) -> None:
        """Copy ``data`` to ``address``."""
        ctypes.memmove(address, data, len(data))


class ReadOnlyMemory(ProcessMemory):
    """Live frames of a trapping guest: readable, never written (they unwind next)."""

    def write(self, address: int, data: bytes) -> None:
        raise DebugError("the guest trapped and unwinds when the handler returns: its values are read-only")


#: A precomputed decoder of one value location: ``reader(fp, saved)`` with the
#: frame's rbp and its saved-register area (0: none) -> the value.
Reader = Callable[[int, int], "int | float"]

_CTYPES: dict[ValType, Any] = {
    ValType.I32: ctypes.c_int32,
    ValType.I64: ctypes.c_int64,
    ValType.F32: ctypes.c_float,
    ValType.F64: ctypes.c_double,
    ValType.FUNCREF: ctypes.c_uint64,
    ValType.EXTERNREF: ctypes.c_uint64,
}


def _unavailable(what: str) -> Reader:
    def read(fp: int, saved: int) -> int | float:
        raise DebugError(what)

    return read


def make_reader(loc: Loc, layout: SavedRegisters) -> Reader:
    """A decoder of ``loc`` reading this process's memory directly (ctypes).

    NB: the hot path of conditional breakpoints: the location's kind, type,
    offset and register slot are resolved once per frame-table row, so a
    read is one ``from_address`` (the same bits :func:`decode_bits` gives).
    ``layout`` gives the register offsets (its ``base`` is ignored).
    """
    kind = loc.kind
    if kind == LocKind.CONST:
        value = decode_bits(loc.value, loc.type)
        return lambda fp, saved: value
    unsaved = "the value lives in a register that is not saved for this frame"
    if kind == LocKind.FLAGS:
        flags = layout.flags_offset
        if flags is None:
            return _unavailable(unsaved)
        cond = loc.value
        word = ctypes.c_uint64.from_address

        def read_flags(fp: int, saved: int) -> int | float:
            if not saved:
                raise DebugError(unsaved)
            return int(condition_holds(cond, word(saved + flags).value))

        return read_flags
    ctype = _CTYPES.get(loc.type)
    if ctype is None:
        return _unavailable(f"{loc.type.text} values are not supported by the frame tables")
    at = ctype.from_address
    if kind == LocKind.SLOT:
        offset = loc.value
        return lambda fp, saved: at(fp + offset).value
    table = layout.gpr_offsets if kind == LocKind.GPR else layout.xmm_offsets
    off = table.get(loc.value)
    if off is None:
        return _unavailable(unsaved)

    def read_register(fp: int, saved: int) -> int | float:
        if not saved:
            raise DebugError(unsaved)
        return at(saved + off).value  # type: ignore[no-any-return]

    return read_register


class PeerSource(Protocol):
    """What knows a frame's other value list (the frame itself)."""

    def peer_of(self, view: FrameValues) -> FrameValues: ...


class FrameValues(Sequence[int | float]):
    """The locals or the operand stack of one paused frame, readable and writable.

    ``fp`` is the frame's rbp; ``regs`` its saved-register area (``None``
    for caller frames); ``stop`` the pause it belongs to.  Indexing follows
    Python (negative from the top of the operand stack).  ``readers``, when
    given, are the precomputed decoders of the locations (see
    :func:`make_reader`; reads then skip ``memory``), with ``saved`` the
    register area's address (``regs`` is then made from it on demand).
    ``peer.peer_of(view)`` gives the frame's other list, for refusing writes
    through an alias (or :meth:`pair` them).
    """

    __slots__ = (
        "_fp",
        "_locs",
        "_memory",
        "_peer",
        "_peer_source",
        "_readers",
        "_regs",
        "_saved",
        "_stop",
        "_what",
    )

    def __init__(
        self,
        what: str,
        locs: Sequence[Loc],
        fp: int,
        memory: MemoryAccess,
        regs: RegisterArea | None,
        stop: StopToken,
        readers: tuple[Reader, ...] | None = None,
        saved: int = 0,
        peer: PeerSource | None = None,
    ) -> None:
        self._stop = stop
        self._what = what
        self._locs = locs if isinstance(locs, tuple) else tuple(locs)
        self._fp = fp
        self._memory = memory
        self._regs = regs
        self._peer: FrameValues | None = None
        self._readers = readers
        self._saved = saved
        self._peer_source = peer

    def set_peer(self, other: FrameValues) -> None:
        """``other`` is the frame's other list (writes through an alias are refused)."""
        self._peer = other

    @staticmethod
    def pair(locals_: FrameValues, stack: FrameValues) -> None:
        """Let a frame's ``locals`` and ``stack`` views refuse writes through an alias."""
        locals_.set_peer(stack)
        stack.set_peer(locals_)

    def __len__(self) -> int:
        return len(self._locs)

    @overload
    def __getitem__(self, index: int) -> int | float: ...

    @overload
    def __getitem__(self, index: slice) -> list[int | float]: ...

    def __getitem__(self, index: int | slice) -> int | float | list[int | float]:
        if not self._stop.live:
            self._stop.check()
        readers = self._readers
        if readers is not None and index.__class__ is int:
            try:
                read = readers[index]
            except IndexError:
                self._loc(index)
                raise
            return read(self._fp, self._saved)
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._locs)))]
        return self._read(self._loc(index))

    def __setitem__(self, index: int, value: int | float) -> None:
        self._stop.check()
        loc = self._loc(index)
        bits = _encode(value, loc.type, f"{self._what}[{index}]")
        if loc.kind == LocKind.CONST:
            raise DebugError(
                f"{self._what}[{index}] is a constant the compiled code has folded in; "
                "it cannot be written"
            )
        if loc.kind == LocKind.SLOT and self._peer_view() is not None:
            self._check_alias(index, loc)
        if loc.kind == LocKind.GPR:
            self._memory.write(self._address(loc, index), bits.to_bytes(8, "little"))
            return
        if loc.kind == LocKind.FLAGS:
            address = self._address(loc, index)
            rflags = int.from_bytes(self._memory.read(address, 8), "little")
            rflags = flags_for(loc.value, bits != 0, rflags)
            self._memory.write(address, rflags.to_bytes(8, "little"))
            return
        width = value_width(loc.type)
        self._memory.write(self._address(loc, index), bits.to_bytes(width, "little"))

    def __iter__(self) -> Iterator[int | float]:
        self._stop.check()
        return (self[i] for i in range(len(self._locs)))

    def types(self) -> tuple[ValType, ...]:
        """The Wasm type of each value."""
        return tuple(loc.type for loc in self._locs)

    def location(self, index: int) -> Loc:
        """Where value ``index`` lives (for display)."""
        return self._loc(index)

    def is_writable(self, index: int) -> bool:
        """False for constants and for registers with no saved copy."""
        loc = self._loc(index)
        if loc.kind == LocKind.CONST:
            return False
        if loc.kind == LocKind.SLOT:
            return self._alias_of(loc) is None
        return self._register_address(loc) is not None

    def __repr__(self) -> str:
        if not self._stop.live:
            return f"<{self._what} of stop {self._stop.generation} (over)>"
        shown = []
        for i in range(len(self._locs)):
            try:
                shown.append(repr(self[i]))
            except DebugError:
                shown.append("<unavailable>")
        return f"[{', '.join(shown)}]"

    # -- internals -------------------------------------------------------

    def _loc(self, index: int) -> Loc:
        try:
            return self._locs[index]
        except IndexError:
            raise IndexError(
                f"{self._what} index {index} out of range ({len(self._locs)} values)"
            ) from None

    def _alias_of(self, loc: Loc) -> int | None:
        """The index of the peer view's value that shares ``loc``'s slot, if any."""
        peer = self._peer_view()
        if peer is None:
            return None
        for j, other in enumerate(peer.locations()):
            if other.kind == LocKind.SLOT and other.value == loc.value:
                return j
        return None

    def _check_alias(self, index: int, loc: Loc) -> None:
        j = self._alias_of(loc)
        if j is None:
            return
        i = index % len(self._locs)
        local, slot = (j, i) if self._what == "stack" else (i, j)
        where = "it" if self._what == "stack" else f"local {local}"
        raise DebugError(
            f"operand stack value {slot} is local {local}'s value pushed by local.get "
            f"and not yet copied; {where} cannot be changed on its own here "
            "-- step one instruction and retry"
        )

    def _peer_view(self) -> FrameValues | None:
        if self._peer is None and self._peer_source is not None:
            self._peer = self._peer_source.peer_of(self)
        return self._peer

    def locations(self) -> tuple[Loc, ...]:
        """Where every value lives."""
        return self._locs

    def _register_address(self, loc: Loc) -> int | None:
        regs = self._regs
        if regs is None:
            if not self._saved:
                return None
            regs = self._regs = SAVED_LAYOUT.at(self._saved, self._stop)
        if loc.kind == LocKind.GPR:
            return regs.gpr_address(loc.value)
        if loc.kind == LocKind.FLAGS:
            return regs.flags_address()
        return regs.xmm_address(loc.value)

    def _address(self, loc: Loc, index: int | None = None) -> int:
        if loc.kind == LocKind.SLOT:
            return self._fp + loc.value
        addr = self._register_address(loc)
        if addr is None:
            which = "" if index is None else f"[{index}]"
            raise DebugError(
                f"{self._what}{which} lives in a register that is not saved for this frame"
            )
        return addr

    def _read(self, loc: Loc) -> int | float:
        self._stop.check()
        if loc.kind == LocKind.CONST:
            return decode_bits(loc.value, loc.type)
        if loc.kind == LocKind.FLAGS:
            rflags = int.from_bytes(self._memory.read(self._address(loc), 8), "little")
            return int(condition_holds(loc.value, rflags))
        width = 8 if loc.kind == LocKind.GPR else value_width(loc.type)
        raw = self._memory.read(self._address(loc), width)
        return decode_bits(int.from_bytes(raw, "little"), loc.type)


@dataclass(frozen=True, slots=True)
class GlobalCell:
    """Where one global's value lives: its 8-byte cell, its type, mutability."""

    address: int
    type: ValType
    mutable: bool


class GlobalValues(Sequence[int | float]):
    """The globals of a paused frame's instance (imports first), readable and writable.

    Values read and write as in :class:`FrameValues` (i32/i64 signed,
    references as raw handles); writing an immutable global or a value that
    does not fit its type raises :class:`DebugError`.
    """

    def __init__(self, cells: Sequence[GlobalCell], memory: MemoryAccess, stop: StopToken) -> None:
        self._cells = tuple(cells)
        self._memory = memory
        self._stop = stop

    def __len__(self) -> int:
        return len(self._cells)

    @overload
    def __getitem__(self, index: int) -> int | float: ...

    @overload
    def __getitem__(self, index: slice) -> list[int | float]: ...

    def __getitem__(self, index: int | slice) -> int | float | list[int | float]:
        self._stop.check()
        if isinstance(index, slice):
            return [self._read(c) for c in self._cells[index]]
        return self._read(self._cell(index))

    def __setitem__(self, index: int, value: int | float) -> None:
        self._stop.check()
        cell = self._cell(index)
        if not cell.mutable:
            raise DebugError(f"global {index} is immutable")
        bits = _encode(value, cell.type, f"global {index}")
        self._memory.write(cell.address, bits.to_bytes(8, "little"))

    def types(self) -> tuple[ValType, ...]:
        """The Wasm type of each global."""
        return tuple(c.type for c in self._cells)

    def __repr__(self) -> str:
        if not self._stop.live:
            return f"<globals of stop {self._stop.generation} (over)>"
        return repr(list(self))

    def _cell(self, index: int) -> GlobalCell:
        try:
            return self._cells[index]
        except IndexError:
            raise IndexError(f"global {index} out of range ({len(self._cells)} globals)") from None

    def _read(self, cell: GlobalCell) -> int | float:
        raw = int.from_bytes(self._memory.read(cell.address, 8), "little")
        try:
            return decode_bits(raw, cell.type)
        except ValueError as exc:
            raise DebugError(str(exc)) from None
