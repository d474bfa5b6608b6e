"""Frame tables: where the sequence points are, and where Wasm values live there.

A module compiled for debugging (``guest_debug=True``) carries one frame
table.  It is written once, at compile time, by a :class:`FrameTableBuilder`
and read many times, at debug time, through the immutable
:class:`FrameTable` that :meth:`FrameTableBuilder.finish` returns.  The
split keeps the compiler's side append-only and cheap and lets the reader
build its indices once.

Three kinds of rows
-------------------
``SiteKind.PATCH`` -- a *sequence point*: the patch site the compiler emits
before a reachable opcode.  Its bytes are a NOP by default (``nop``) and a
``call`` to the breakpoint trampoline when enabled.  The row says where the
patch site is, which NOP fills it, and where every local and every operand
stack value lives just before the opcode runs.

Consecutive opcodes between which the compiler emits no machine code (and
binds no label) *share* one patch site: their rows have the same native
offset and follow each other in execution order (a *group*).  The machine
state at the site is the same for all of them, and each row describes its
own opcode's Wasm state there.  When a shared site fires, the debugger
walks the group in order (see :meth:`FrameTable.sites_for_return`).

``SiteKind.CALL`` -- the state of a *caller* frame while a call is in
progress, keyed by the native offset of the call's return address.  Values
that were in registers at the patch site before the call have been spilled
(calls clobber every register), so a debugger reading a caller frame needs
this row to find them.  ``stack`` holds only what stays on the operand stack
under the call's arguments.  Optional: without it the reader falls back to the
patch site of the call instruction (see :meth:`FrameTable.frame_state`).

``SiteKind.INTERRUPT`` -- the state at an *interrupt check* (function entry,
loop header) of debug-mode code, keyed by the native offset of the return
address of the check's call to the breakpoint trampoline.  The guest pauses
there with an INTERRUPTED event; ``pc`` is the function's first instruction
or the ``loop`` instruction.  The trampoline saves every register, so
register locations are allowed, as at a patch site.

Compiler-facing API (exact shape)
---------------------------------
::

    from wasmdbg.jit.frametable import FrameTableBuilder, Loc, NOP5

    builder = FrameTableBuilder()
    # in the before-op hook, once per reachable opcode, right after emitting
    # the NOP bytes of the patch site:
    builder.add_site(
        func_index,        # function index space (imports included)
        pc,                # module-relative byte offset of the opcode
        native_offset,     # offset of the patch site in the module code blob
        NOP5,              # the bytes just emitted (>= 5 bytes; b"\\x0f\\x1f\\x44\\0\\0")
        locals,            # Sequence[Loc], one per local (params first)
        stack,             # Sequence[Loc], operand stack, bottom first
    )
    # optionally, after emitting a call, at its return address:
    builder.add_call_state(func_index, pc, return_offset, locals, stack)
    # at each debug-mode interrupt check, at its trampoline call's return address:
    builder.add_interrupt_state(func_index, pc, return_offset, locals, stack)
    table = builder.finish()      # -> FrameTable; store in CompiledModule.frame_table

    Loc.slot(-24, ValType.I32)    # value at [rbp-24] (rbp of the Wasm frame)
    Loc.gpr(0, ValType.I64)       # value in rax (x86 register number 0..15)
    Loc.xmm(3, ValType.F64)       # value in xmm3 (low 32/64 bits)
    Loc.const(7, ValType.I32)     # a constant the code has not materialised;
                                  # pass the Python value (int or float)
    Loc.flags(0xC)                # an i32 comparison result still in rflags
                                  # (here "l": 1 iff SF != OF), only at patch
                                  # sites before if / br_if / select / i32.eqz

``native_offset`` is relative to the start of the module's code blob (the
same base as :class:`~wasmdbg.jit.abi.CompiledFunction` ``start``).  A
compiler that assembles each function in its own buffer adds the
function's start offset.  Sites may be added in any order (rows sharing a
site in execution order); ``finish`` sorts them and rejects sites that
overlap, or share an offset with different NOP bytes, with ``ValueError``.

Identical location lists are interned: the locals list usually stays the
same for long runs of opcodes, so each distinct list is stored once and the
rows hold indices into the pool.

Enabling a site
---------------
The *disable* bytes are the recorded NOP.  The *enable* bytes depend on
where the code copy and the trampoline are mapped, so they are computed at
patch time: :meth:`Site.call_bytes` gives ``E8 rel32`` (a ``call`` to the
trampoline, whose return address is therefore ``site + 5``) padded with a
NOP to the site's size.  The trampoline identifies the site by
``return_address - CALL_SIZE``.

Location encoding
-----------------
Values are exchanged as their *slot bits*: the 64-bit pattern the ABI
uses for argument slots (i32 zero-extended, f32 in the low 32 bits, refs as
the raw pointer/handle).  :func:`encode_value` and :func:`decode_bits`
convert between those bits and Python values.
"""

from __future__ import annotations

import gc
import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import compress, islice, repeat
from operator import add, eq, lt, ne, not_

from ..wasm.types import ValType
from .x64 import NOP5, NOPS, call_rel32_bytes

__all__ = [
    "CALL_SIZE",
    "FLAG_CF",
    "FLAG_OF",
    "FLAG_PF",
    "FLAG_SF",
    "FLAG_ZF",
    "NOP5",
    "NOPS",
    "FrameTable",
    "FrameTableBuilder",
    "Loc",
    "LocKind",
    "Site",
    "SiteKind",
    "condition_holds",
    "decode_bits",
    "encode_value",
    "flags_for",
    "value_width",
]

CALL_SIZE = 5  # E8 rel32
_ROW = 7  # integers per row in FrameTableBuilder's flat array

_U32 = 0xFFFF_FFFF
_U64 = 0xFFFF_FFFF_FFFF_FFFF


# --------------------------------------------------------------------------
# Values <-> slot bits


def value_width(ty: ValType) -> int:
    """How many bytes of a slot or register ``ty`` occupies (4 or 8)."""
    if ty in (ValType.I32, ValType.F32):
        return 4
    if ty == ValType.V128:
        raise ValueError("v128 values are not supported by the frame tables")
    return 8


def encode_value(value: int | float, ty: ValType) -> int:
    """The slot bits for ``value`` as a ``ty``.

    Integers may be given signed or unsigned (``-1`` and ``0xffffffff`` are
    the same i32); floats may be given as ``int`` or ``float``.  References
    are raw handles (0 is null).  Raises ``ValueError`` when the value does
    not fit the type.
    """
    if ty in (ValType.I32, ValType.I64):
        if isinstance(value, float | bool):
            raise ValueError(f"{ty.text} needs an integer, got {value!r}")
        bits = 32 if ty == ValType.I32 else 64
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ValueError(f"{value} does not fit in {ty.text}")
        return value & ((1 << bits) - 1)
    if ty == ValType.F32:
        f = float(value)
        if math.isfinite(f) and abs(f) > 3.4028234663852886e38:
            raise ValueError(f"{value} does not fit in f32")
        return int.from_bytes(struct.pack("<f", f), "little")
    if ty == ValType.F64:
        return int.from_bytes(struct.pack("<d", float(value)), "little")
    if ty in (ValType.FUNCREF, ValType.EXTERNREF):
        if isinstance(value, float) or not 0 <= value <= _U64:
            raise ValueError(f"{value!r} is not a reference handle")
        return value
    raise ValueError(f"{ty.text} values are not supported by the frame tables")


def decode_bits(bits: int, ty: ValType) -> int | float:
    """The Python value of slot bits holding a ``ty`` (i32/i64 come back signed)."""
    if ty == ValType.I32:
        v = bits & _U32
        return v - (1 << 32) if v >> 31 else v
    if ty == ValType.I64:
        v = bits & _U64
        return v - (1 << 64) if v >> 63 else v
    if ty == ValType.F32:
        return float(struct.unpack("<f", (bits & _U32).to_bytes(4, "little"))[0])
    if ty == ValType.F64:
        return float(struct.unpack("<d", (bits & _U64).to_bytes(8, "little"))[0])
    if ty in (ValType.FUNCREF, ValType.EXTERNREF):
        return bits & _U64
    raise ValueError(f"{ty.text} values are not supported by the frame tables")


# --------------------------------------------------------------------------
# Locations


class LocKind(IntEnum):
    """Where a Wasm value lives at a sequence point."""

    SLOT = 0  # in the frame: [rbp + value] (negative below rbp, >= 16 in the arg area)
    GPR = 1  # in general-purpose register ``value`` (x86 number: 0 = rax ... 15 = r15)
    XMM = 2  # in ``xmm<value>`` (low 32 or 64 bits)
    CONST = 3  # nowhere: the value is the constant whose slot bits are ``value``
    FLAGS = 4  # an i32 comparison result still in rflags: 1 iff x86 condition ``value`` holds


# rflags bits the x86 conditions read
FLAG_CF, FLAG_PF, FLAG_ZF, FLAG_SF, FLAG_OF = 1 << 0, 1 << 2, 1 << 6, 1 << 7, 1 << 11
_COND_FLAGS = FLAG_CF | FLAG_PF | FLAG_ZF | FLAG_SF | FLAG_OF


def condition_holds(cond: int, rflags: int) -> bool:
    """Whether x86 condition ``cond`` (the ``jcc``/``setcc`` nibble) holds for ``rflags``."""
    cf, pf, zf = bool(rflags & FLAG_CF), bool(rflags & FLAG_PF), bool(rflags & FLAG_ZF)
    sf, of = bool(rflags & FLAG_SF), bool(rflags & FLAG_OF)
    base = cond >> 1
    if base == 0:
        held = of
    elif base == 1:
        held = cf
    elif base == 2:
        held = zf
    elif base == 3:
        held = cf or zf
    elif base == 4:
        held = sf
    elif base == 5:
        held = pf
    elif base == 6:
        held = sf != of
    else:
        held = zf or sf != of
    return held != bool(cond & 1)  # odd conditions are the negations


def flags_for(cond: int, holds: bool, rflags: int) -> int:
    """``rflags`` changed as little as possible so that ``cond`` holds (or not)."""
    if condition_holds(cond, rflags) == holds:
        return rflags
    bits = (FLAG_CF, FLAG_PF, FLAG_ZF, FLAG_SF, FLAG_OF)
    best: int | None = None
    for combo in range(32):
        flags = rflags & ~_COND_FLAGS
        for i, bit in enumerate(bits):
            if combo >> i & 1:
                flags |= bit
        if condition_holds(cond, flags) == holds and (
            best is None or bin(flags ^ rflags).count("1") < bin(best ^ rflags).count("1")
        ):
            best = flags
    if best is None:  # pragma: no cover - every condition can be made to hold or not
        raise ValueError(f"no flags make condition {cond} {'hold' if holds else 'fail'}")
    return best


@dataclass(frozen=True, slots=True)
class Loc:
    """One value's location: ``kind`` says how to read ``value``; ``type`` is its Wasm type."""

    kind: LocKind
    value: int
    type: ValType

    @classmethod
    def slot(cls, offset: int, ty: ValType) -> Loc:
        """A value stored in the frame at ``[rbp + offset]``."""
        return cls(LocKind.SLOT, offset, ty)

    @classmethod
    def gpr(cls, reg: int, ty: ValType) -> Loc:
        """A value held in general-purpose register ``reg`` (0 = rax ... 15 = r15)."""
        if not 0 <= reg < 16:
            raise ValueError(f"no general-purpose register {reg}")
        return cls(LocKind.GPR, reg, ty)

    @classmethod
    def xmm(cls, reg: int, ty: ValType) -> Loc:
        """A value held in ``xmm<reg>`` (0 ... 15)."""
        if not 0 <= reg < 16:
            raise ValueError(f"no xmm register {reg}")
        return cls(LocKind.XMM, reg, ty)

    @classmethod
    def const(cls, value: int | float, ty: ValType) -> Loc:
        """A constant the code has not materialised (given as its Python value)."""
        return cls(LocKind.CONST, encode_value(value, ty), ty)

    @classmethod
    def flags(cls, cond: int) -> Loc:
        """An i32 comparison result the code keeps in rflags: 1 iff x86 condition
        ``cond`` (0-15, the ``jcc`` nibble) holds."""
        if not 0 <= cond < 16:
            raise ValueError(f"no x86 condition {cond}")
        return cls(LocKind.FLAGS, cond, ValType.I32)

    def __str__(self) -> str:
        if self.kind == LocKind.SLOT:
            where = f"[rbp{self.value:+d}]"
        elif self.kind == LocKind.GPR:
            where = f"gpr{self.value}"
        elif self.kind == LocKind.XMM:
            where = f"xmm{self.value}"
        elif self.kind == LocKind.FLAGS:
            where = f"flags(cc={self.value})"
        else:
            where = f"const {decode_bits(self.value, self.type)!r}"
        return f"{self.type.text}@{where}"


# --------------------------------------------------------------------------
# Rows


class SiteKind(IntEnum):
    """What a frame-table row describes."""

    PATCH = 0  # a patchable sequence point before an opcode
    CALL = 1  # a caller frame's state at a call's return address
    INTERRUPT = 2  # the state at an interrupt check (return address of its trampoline call)


@dataclass(frozen=True, slots=True)
class Site:
    """One frame-table row, as the reader hands it out.

    ``index`` is the row's position in the table (sorted by native offset)
    and is stable for the table's lifetime.  For CALL and INTERRUPT rows
    ``native_offset`` is the return address offset and ``nop`` is empty.  Equality and hashing
    ignore the (interned) location lists.
    """

    index: int
    kind: SiteKind
    func_index: int
    pc: int
    native_offset: int
    nop: bytes
    locals: tuple[Loc, ...] = field(compare=False)
    stack: tuple[Loc, ...] = field(compare=False)

    @property
    def size(self) -> int:
        """How many bytes the patch site occupies."""
        return len(self.nop)

    @property
    def disable_bytes(self) -> bytes:
        """The bytes of a disabled (NOP) site."""
        return self.nop

    def call_bytes(self, site_address: int, target: int) -> bytes:
        """The bytes of the enabled site: ``call target``, padded with a NOP.

        ``site_address`` is where this site lies in the code copy being
        patched; ``target`` is the breakpoint trampoline's address.
        """
        if self.kind != SiteKind.PATCH:
            raise ValueError("only patch sites can be enabled")
        data = call_rel32_bytes(site_address, target)  # EncodingError out of rel32 range
        pad = self.size - CALL_SIZE
        while pad > 0:
            chunk = min(pad, len(NOPS) - 1)
            data += NOPS[chunk]
            pad -= chunk
        return data


# --------------------------------------------------------------------------
# Builder


class FrameTableBuilder:
    """Accumulates frame-table rows while a module is compiled.

    Append-only and cheap: each row is seven integers; location lists and NOP
    byte strings are interned.  Call :meth:`finish` once at the end.
    """

    def __init__(self) -> None:
        self._loc_lists: list[tuple[Loc, ...]] = [()]
        self._loc_ids: dict[tuple[Loc, ...], int] = {(): 0}
        # id(tuple) -> (the tuple, its id): a list passed again as the same tuple
        # object (the compiler's per-function locals, its memoised stack states)
        # costs no hashing of its Locs
        self._loc_by_identity: dict[int, tuple[tuple[Loc, ...], int]] = {}
        self._register_free: set[int] = {0}  # location lists checked to hold no register
        self._nops: list[bytes] = [b"", NOP5]  # NB: NOP5 is id 1 (add_nop5_site)
        self._nop_ids: dict[bytes, int] = {b"": 0, NOP5: 1}
        # NB: one flat array, _ROW integers per row: (kind, func_index, pc,
        # native_offset, nop id, locals id, stack id).  A large module has half
        # a million rows; as tuples each was an object the cyclic collector
        # walked (while and after the module compiled), and finish() had to
        # transpose them.
        self._rows = array("q")

    def _intern_locs(self, locs: Sequence[Loc]) -> int:
        hit = self._loc_by_identity.get(id(locs))
        if hit is not None and hit[0] is locs:
            return hit[1]
        key = tuple(locs)
        found = self._loc_ids.get(key)
        if found is None:
            for loc in key:
                if not isinstance(loc, Loc):
                    raise TypeError(f"frame-table locations must be Loc, got {loc!r}")
            found = len(self._loc_lists)
            self._loc_lists.append(key)
            self._loc_ids[key] = found
        if type(locs) is tuple and key:
            self._loc_by_identity[id(locs)] = (key, found)
        return found

    def intern_locs(self, locs: Sequence[Loc]) -> int:
        """The pool id of a location list, for :meth:`add_nop5_site`."""
        return self._intern_locs(locs)

    def add_nop5_site(
        self, func_index: int, pc: int, native_offset: int, locals_id: int, stack_id: int
    ) -> None:
        """:meth:`add_site` for a :data:`NOP5` site whose location lists were
        interned by :meth:`intern_locs` (the compiler's hot path: one row per
        reachable opcode, so nothing is re-checked or re-hashed here)."""
        self._rows.extend((SiteKind.PATCH, func_index, pc, native_offset, 1, locals_id, stack_id))

    def _intern_nop(self, nop: bytes) -> int:
        found = self._nop_ids.get(nop)
        if found is None:
            found = len(self._nops)
            self._nops.append(bytes(nop))
            self._nop_ids[bytes(nop)] = found
        return found

    def add_site(
        self,
        func_index: int,
        pc: int,
        native_offset: int,
        nop: bytes = NOP5,
        locals: Sequence[Loc] = (),
        stack: Sequence[Loc] = (),
    ) -> int:
        """Record the patch site emitted before the opcode at ``pc``.

        ``nop`` is the exact bytes written at ``native_offset`` (at least
        :data:`CALL_SIZE` long).  ``locals`` lists every local (parameters
        first); ``stack`` the operand stack, bottom first.  Returns the
        number of rows recorded so far minus one (a builder-local id).
        """
        if len(nop) < CALL_SIZE:
            raise ValueError(f"a patch site needs at least {CALL_SIZE} bytes, got {len(nop)}")
        if native_offset < 0 or pc < 0:
            raise ValueError("offsets must be non-negative")
        self._rows.extend(
            (
                SiteKind.PATCH,
                func_index,
                pc,
                native_offset,
                self._intern_nop(nop),
                self._intern_locs(locals),
                self._intern_locs(stack),
            )
        )
        return len(self._rows) // _ROW - 1

    def add_call_state(
        self,
        func_index: int,
        pc: int,
        return_offset: int,
        locals: Sequence[Loc] = (),
        stack: Sequence[Loc] = (),
    ) -> int:
        """Record a caller's state while the call at ``pc`` is in progress.

        ``return_offset`` is the native offset of the call's return address;
        ``stack`` holds what remains on the operand stack below the
        arguments.  Register locations are rejected: calls clobber registers.
        """
        if return_offset < 0 or pc < 0:
            raise ValueError("offsets must be non-negative")
        locals_id = self._intern_locs(locals)
        stack_id = self._intern_locs(stack)
        for list_id in (locals_id, stack_id):
            if list_id not in self._register_free:
                for loc in self._loc_lists[list_id]:
                    if loc.kind in (LocKind.GPR, LocKind.XMM, LocKind.FLAGS):
                        raise ValueError(f"a value cannot live in a register across a call: {loc}")
                self._register_free.add(list_id)
        self._rows.extend(
            (
                SiteKind.CALL,
                func_index,
                pc,
                return_offset,
                0,
                locals_id,
                stack_id,
            )
        )
        return len(self._rows) // _ROW - 1

    def add_interrupt_state(
        self,
        func_index: int,
        pc: int,
        return_offset: int,
        locals: Sequence[Loc] = (),
        stack: Sequence[Loc] = (),
    ) -> int:
        """Record the state at an interrupt check whose trampoline call returns
        to ``return_offset`` (``pc``: the function's first instruction or the
        ``loop``)."""
        if return_offset < 0 or pc < 0:
            raise ValueError("offsets must be non-negative")
        self._rows.extend(
            (
                SiteKind.INTERRUPT,
                func_index,
                pc,
                return_offset,
                0,
                self._intern_locs(locals),
                self._intern_locs(stack),
            )
        )
        return len(self._rows) // _ROW - 1

    def __len__(self) -> int:
        return len(self._rows) // _ROW

    def finish(self, base: int = 0) -> FrameTable:
        """Check and freeze the rows into a :class:`FrameTable`, every native
        offset moved by ``base``."""
        flat = self._rows
        columns = [flat[k::_ROW] for k in range(_ROW)]
        if base:
            columns[3] = array("q", map(add, columns[3], repeat(base)))
        table = FrameTable(columns, self._loc_lists, self._nops)
        table.check()
        return table


# --------------------------------------------------------------------------
# Reader


def _rows_of(kind: SiteKind, kinds: Sequence[int], natives: Sequence[int]) -> tuple[array[int], array[int]]:
    """The indices and native offsets of the rows of one kind, by native offset.

    NB: stable, so the rows of a shared site keep their execution order; the
    compiler adds most rows in native order already, which the sort finds in
    one pass.
    """
    rows = list(compress(range(len(kinds)), map(eq, kinds, repeat(kind))))
    rows.sort(key=natives.__getitem__)
    return array("q", rows), array("q", map(natives.__getitem__, rows))


class FrameTable:
    """The read-only frame table of one compiled module.

    Lookups (all return :class:`Site` rows; patch sites unless stated):

    * :meth:`sites_at` -- Wasm pc -> the patch sites for it (maybe several);
    * :meth:`site_at_native` / :meth:`site_for_return` -- native offset of a
      site, or a trampoline return address -> the site (the first row of a
      shared site); :meth:`sites_at_native` / :meth:`sites_for_return` -- all
      rows of the site, in execution order; :meth:`native_sites` -- every
      site once, as its group of rows;
    * :meth:`slip` -- the nearest sequence-point pc at or after a pc;
    * :meth:`function_sites`, :meth:`entry_site`, :meth:`functions`,
      iteration -- every site of a function / the module;
    * :meth:`frame_state` -- the row describing a caller frame stopped at a
      return address (the CALL row, else the patch site of the call);
    * :meth:`interrupt_state` -- the row of a debug-mode interrupt check.
    """

    def __init__(
        self,
        columns: Sequence[array[int]],
        loc_lists: Sequence[tuple[Loc, ...]],
        nops: Sequence[bytes],
    ) -> None:
        """``columns``: kind, func_index, pc, native_offset, nop id, locals id
        and stack id, one entry per row, in the order the rows were added."""
        self._loc_lists = tuple(loc_lists)
        self._nops = tuple(nops)
        kinds, funcs, pcs, natives, nop_ids, locals_ids, stack_ids = (
            c if isinstance(c, array) and c.typecode == "q" else array("q", c) for c in columns
        )
        self._kind = kinds
        self._func = funcs
        self._pc = pcs
        self._native = natives
        self._nop = nop_ids
        self._locals = locals_ids
        self._stack = stack_ids

        # NB: C-level passes only (a large module has half a million rows);
        # the indices by pc and by function wait for their first use
        self._patch_rows, self._patch_native = _rows_of(SiteKind.PATCH, kinds, natives)
        self._call_rows, self._call_native = _rows_of(SiteKind.CALL, kinds, natives)
        self._intr_rows, self._intr_native = _rows_of(SiteKind.INTERRUPT, kinds, natives)
        self._indexed = False

    def check(self) -> None:
        """Raise ``ValueError`` if patch sites overlap, if rows sharing a site
        have different NOPs, or if two call/interrupt states share an offset.

        NB: half a million rows in a large module: C-level passes only.
        """
        offsets = list(self._patch_native)
        nops = list(map(self._nop.__getitem__, self._patch_rows))
        before = [-1, *offsets[:-1]]
        new = list(map(ne, offsets, before))
        if any(map(ne, compress(nops, map(not_, new)), compress([-1, *nops[:-1]], map(not_, new)))):
            raise ValueError("two rows share a patch site with different NOP bytes")
        starts = list(compress(offsets, new))
        sizes = [len(nop) for nop in self._nops]
        ends = list(map(add, starts, map(sizes.__getitem__, compress(nops, new))))
        if any(map(lt, islice(starts, 1, None), ends)):
            off = next(o for o, e in zip(islice(starts, 1, None), ends, strict=False) if o < e)
            site = self.site_at_native(off)
            where = f" (func {site.func_index}, pc 0x{site.pc:x})" if site is not None else ""
            raise ValueError(f"patch site at native offset 0x{off:x}{where} overlaps the previous one")
        states = sorted([*self._call_native, *self._intr_native])
        if any(map(eq, states, islice(states, 1, None))):
            off = next(a for a, b in zip(states, islice(states, 1, None), strict=False) if a == b)
            raise ValueError(f"two call or interrupt states at native offset 0x{off:x}")

    def _index(self) -> None:
        """Build the lookups by pc and by function (on first use).

        NB: the cyclic collector is paused meanwhile, as for a compile: the
        hundreds of thousands of small tuples made here are all kept, so
        collections triggered by them would only re-walk the heap.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._build_index()
        finally:
            if was_enabled:
                gc.enable()

    def _build_index(self) -> None:
        pcs, funcs = self._pc, self._func
        by_pc: dict[int, list[int]] = {}
        by_func: dict[int, list[int]] = {}
        for i in self._patch_rows:
            by_pc.setdefault(pcs[i], []).append(i)
            by_func.setdefault(funcs[i], []).append(i)
        self._by_pc_rows = {pc: tuple(ix) for pc, ix in by_pc.items()}
        self._by_func_rows = {f: tuple(ix) for f, ix in by_func.items()}
        self._pcs_sorted = array("q", sorted(by_pc))
        self._func_pc_arrays = {f: array("q", sorted({pcs[i] for i in ix})) for f, ix in by_func.items()}
        self._indexed = True

    @property
    def _by_pc(self) -> dict[int, tuple[int, ...]]:
        if not self._indexed:
            self._index()
        return self._by_pc_rows

    @property
    def _by_func(self) -> dict[int, tuple[int, ...]]:
        if not self._indexed:
            self._index()
        return self._by_func_rows

    @property
    def _pcs(self) -> array[int]:
        if not self._indexed:
            self._index()
        return self._pcs_sorted

    @property
    def _func_pcs(self) -> dict[int, array[int]]:
        if not self._indexed:
            self._index()
        return self._func_pc_arrays

    @classmethod
    def empty(cls) -> FrameTable:
        """A table with no rows (a module compiled without debugging)."""
        return FrameTableBuilder().finish()

    def row(self, index: int) -> Site:
        """The row at ``index`` (patch or call state)."""
        return Site(
            index,
            SiteKind(self._kind[index]),
            self._func[index],
            self._pc[index],
            self._native[index],
            self._nops[self._nop[index]],
            self._loc_lists[self._locals[index]],
            self._loc_lists[self._stack[index]],
        )

    def __len__(self) -> int:
        """The number of sequence points (patch-site rows; a shared site counts per row)."""
        return len(self._patch_rows)

    def __iter__(self) -> Iterator[Site]:
        """Every sequence point (patch-site row) of the module, in native order."""
        return (self.row(i) for i in self._patch_rows)

    def sites_at(self, pc: int) -> tuple[Site, ...]:
        """The patch sites for the opcode at ``pc`` (empty if it is no sequence point)."""
        return tuple(self.row(i) for i in self._by_pc.get(pc, ()))

    def is_sequence_point(self, pc: int) -> bool:
        """True when ``pc`` has at least one patch site."""
        return pc in self._by_pc

    def _row_at(self, rows: array[int], native: array[int], offset: int) -> Site | None:
        """The first of ``rows`` (sorted by ``native``, their offsets) exactly at ``offset``."""
        k = bisect_left(native, offset)
        if k < len(native) and native[k] == offset:
            return self.row(rows[k])
        return None

    def site_at_native(self, native_offset: int) -> Site | None:
        """The patch site starting exactly at ``native_offset``, if any."""
        return self._row_at(self._patch_rows, self._patch_native, native_offset)

    def site_for_return(self, return_offset: int) -> Site | None:
        """The site whose trampoline call returns to ``return_offset``."""
        return self.site_at_native(return_offset - CALL_SIZE)

    def sites_at_native(self, native_offset: int) -> tuple[Site, ...]:
        """Every row of the patch site at ``native_offset``, in execution order."""
        native = self._patch_native
        lo = bisect_left(native, native_offset)
        hi = bisect_right(native, native_offset, lo)
        return tuple(self.row(self._patch_rows[k]) for k in range(lo, hi))

    def sites_for_return(self, return_offset: int) -> tuple[Site, ...]:
        """Every row of the site whose trampoline call returns to ``return_offset``."""
        return self.sites_at_native(return_offset - CALL_SIZE)

    def native_sites(self) -> Iterator[tuple[Site, ...]]:
        """Every patch site once, as its rows (most sites have one), in native order."""
        native = self._patch_native
        rows = self._patch_rows
        k, n = 0, len(native)
        while k < n:
            hi = bisect_right(native, native[k], k)
            yield tuple(self.row(rows[j]) for j in range(k, hi))
            k = hi

    def site_before(self, native_offset: int) -> Site | None:
        """The last patch site starting at or before ``native_offset``."""
        k = bisect_right(self._patch_native, native_offset)
        return self.row(self._patch_rows[k - 1]) if k else None

    def slip(self, pc: int, func_index: int | None = None) -> int | None:
        """The nearest sequence-point pc at or after ``pc``.

        Searches the whole module (a pc in dead code at the end of one
        function slips into the next function), or only ``func_index``'s
        sites when given.  ``None`` when there is none.
        """
        pcs = self._pcs if func_index is None else self._func_pcs.get(func_index)
        if pcs is None:
            return None
        k = bisect_left(pcs, pc)
        return pcs[k] if k < len(pcs) else None

    def functions(self) -> tuple[int, ...]:
        """The function indices that have patch sites, ascending."""
        return tuple(sorted(self._by_func))

    def function_sites(self, func_index: int) -> tuple[Site, ...]:
        """Every patch site of one function, in native order."""
        return tuple(self.row(i) for i in self._by_func.get(func_index, ()))

    def entry_site(self, func_index: int) -> Site | None:
        """The function's first sequence point (lowest native offset)."""
        ix = self._by_func.get(func_index)
        return self.row(ix[0]) if ix else None

    def pcs(self) -> tuple[int, ...]:
        """Every sequence-point pc, ascending."""
        return tuple(self._pcs)

    def call_state(self, return_offset: int) -> Site | None:
        """The CALL row recorded for ``return_offset``, if any."""
        return self._row_at(self._call_rows, self._call_native, return_offset)

    def interrupt_state(self, return_offset: int) -> Site | None:
        """The INTERRUPT row of the check whose trampoline call returns to
        ``return_offset``, if any."""
        return self._row_at(self._intr_rows, self._intr_native, return_offset)

    def frame_state(self, return_offset: int) -> Site | None:
        """The row describing a caller frame whose call returns to ``return_offset``.

        The CALL row when the compiler recorded one; else the last patch site
        before the return address (the site of the call opcode itself, whose
        operand stack still includes the call's arguments and whose register
        locations are no longer valid).
        """
        found = self.call_state(return_offset)
        if found is not None:
            return found
        return self.site_before(return_offset - 1)
