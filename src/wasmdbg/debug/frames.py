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

``local.get`` is lazy in the compiled code: until an instruction consumes
the pushed value, the frame table records it at the local's own slot (a
stack ``SLOT`` location equal to a local's -- operand-stack slots never
overlap local slots, so that equality means exactly "local j's value,
pushed by ``local.get`` and not yet copied").  Such a value reads as
usual, but writing it would change the local as well, and writing the
local would change the pushed value: both raise :class:`DebugError`
(the frame's ``locals`` and ``stack`` views know each other through
:meth:`FrameValues.pair`).  One step later the value has been consumed
or copied and both can be written.

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
:class:`RegisterArea`.

Every view belongs to one stop (a :class:`StopToken`): the values it names
live in the stack frames and the saved-register area of that pause, which
the guest reuses as soon as it resumes.  Once the stop is over every read
and write raises :class:`DebugError` instead of touching whatever lives at
those addresses now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, overload

from ..errors import DebugError
from ..jit.frametable import (
    Loc,
    LocKind,
    condition_holds,
    decode_bits,
    encode_value,
    flags_for,
    value_width,
)
from ..wasm.types import ValType

__all__ = [
    "FrameValues",
    "GlobalCell",
    "GlobalValues",
    "MemoryAccess",
    "RegisterArea",
    "SavedRegisters",
    "StopToken",
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
    support makes one per delivered event and calls :meth:`end` when the
    handler returns.
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


@dataclass(frozen=True, slots=True)
class SavedRegisters:
    """A saved-register area at ``base`` laid out as ``offsets`` say.

    ``gpr_offsets[n]`` / ``xmm_offsets[n]`` are byte offsets from ``base``
    (as published by the trampoline's layout); a register missing from the
    map was not saved.
    """

    base: int
    gpr_offsets: dict[int, int]
    xmm_offsets: dict[int, int]
    flags_offset: int | None = None
    stop: StopToken | None = None

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


class FrameValues(Sequence[int | float]):
    """The locals or the operand stack of one paused frame, readable and writable.

    ``fp`` is the frame's rbp; ``regs`` its saved-register area (``None``
    for caller frames); ``stop`` the pause it belongs to.  Indexing follows
    Python (negative from the top of the operand stack).
    """

    def __init__(
        self,
        what: str,
        locs: Sequence[Loc],
        fp: int,
        memory: MemoryAccess,
        regs: RegisterArea | None,
        stop: StopToken,
    ) -> None:
        self._stop = stop
        self._what = what
        self._locs = tuple(locs)
        self._fp = fp
        self._memory = memory
        self._regs = regs
        self._peer: FrameValues | None = None

    @staticmethod
    def pair(locals_: FrameValues, stack: FrameValues) -> None:
        """Let a frame's ``locals`` and ``stack`` views refuse writes through an alias."""
        locals_._peer = stack
        stack._peer = locals_

    def __len__(self) -> int:
        return len(self._locs)

    @overload
    def __getitem__(self, index: int) -> int | float: ...

    @overload
    def __getitem__(self, index: slice) -> list[int | float]: ...

    def __getitem__(self, index: int | slice) -> int | float | list[int | float]:
        self._stop.check()
        if isinstance(index, slice):
            return [self._read(self._locs[i]) for i in range(*index.indices(len(self._locs)))]
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
        if loc.kind == LocKind.SLOT and self._peer is not None:
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
        return (self._read(loc) for loc in self._locs)

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
        for loc in self._locs:
            try:
                shown.append(repr(self._read(loc)))
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
        peer = self._peer
        if peer is None:
            return None
        for j, other in enumerate(peer._locs):
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

    def _register_address(self, loc: Loc) -> int | None:
        if self._regs is None:
            return None
        if loc.kind == LocKind.GPR:
            return self._regs.gpr_address(loc.value)
        if loc.kind == LocKind.FLAGS:
            return self._regs.flags_address()
        return self._regs.xmm_address(loc.value)

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
