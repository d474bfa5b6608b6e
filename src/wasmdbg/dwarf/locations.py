"""Where a variable lives: DWARF location expressions as a small model.

A DWARF location expression (bytes) is decoded into operations, then
classified into one of these shapes, which cover what C compilers emit for
Wasm::

    WasmLocal(i)     the value is in Wasm local i       DW_OP_WASM_location 0 i [stack_value]
    WasmGlobal(i)    ... in Wasm global i               DW_OP_WASM_location 1|3 i
    WasmStack(i)     ... in operand-stack slot i        DW_OP_WASM_location 2 i
                     (counted from the bottom of the frame's operand stack)
    Memory(b, off)   in linear memory at address b + off, b being
                     FRAME_BASE (DW_OP_fbreg off), a WasmLocal/WasmGlobal's
                     value, or None for an absolute address (DW_OP_addr)
    ImplicitValue(v) no storage: the value is the constant v
    Computed(ops)    any other expression: run by the stack machine below
    Pieces(...)      a composite (DW_OP_piece): each piece a location or None
    OptimizedOut     no location (empty expression, or no list entry covers pc)
    Unsupported(why) an expression outside this set (e.g. thread-local
                     storage): the variable is listed but cannot be read

:func:`resolve` turns a location into a :class:`Place` (a memory address,
a local, a global, a stack slot or a plain value) for one frame, through
the :class:`FrameReader` protocol; the value layer (``cvalue``) then reads
or writes the place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from .sections import DwarfError

__all__ = [
    "FRAME_BASE",
    "OPTIMIZED_OUT",
    "Computed",
    "FrameBase",
    "FrameReader",
    "ImplicitValue",
    "Location",
    "Memory",
    "OptimizedOut",
    "Piece",
    "Pieces",
    "Place",
    "PlaceKind",
    "Unsupported",
    "WasmGlobal",
    "WasmLocal",
    "WasmStack",
    "decode_expr",
    "parse_location",
    "resolve",
]


# -- the model ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WasmLocal:
    """The value is held in Wasm local ``index`` (parameters first)."""

    index: int

    def __str__(self) -> str:
        return f"local {self.index}"


@dataclass(frozen=True, slots=True)
class WasmGlobal:
    """The value is held in Wasm global ``index``."""

    index: int

    def __str__(self) -> str:
        return f"global {self.index}"


@dataclass(frozen=True, slots=True)
class WasmStack:
    """The value is operand-stack slot ``index`` of the frame (0 = bottom)."""

    index: int

    def __str__(self) -> str:
        return f"operand stack {self.index}"


@dataclass(frozen=True, slots=True)
class FrameBase:
    """The function's frame base (its ``DW_AT_frame_base``), as an address base."""

    def __str__(self) -> str:
        return "frame base"


FRAME_BASE = FrameBase()


@dataclass(frozen=True, slots=True)
class Memory:
    """In linear memory at ``base + offset`` (``base`` None: absolute address)."""

    offset: int
    base: FrameBase | WasmLocal | WasmGlobal | None = None

    def __str__(self) -> str:
        if self.base is None:
            return f"memory 0x{self.offset:x}"
        sign = "+" if self.offset >= 0 else "-"
        return f"memory [{self.base} {sign} {abs(self.offset)}]"


@dataclass(frozen=True, slots=True)
class ImplicitValue:
    """No storage: the value is ``value`` (DW_OP_const* + stack_value, DW_AT_const_value)."""

    value: int

    def __str__(self) -> str:
        return f"constant {self.value}"


@dataclass(frozen=True, slots=True)
class Computed:
    """A general expression; ``stack_value``: its result is the value, not an address."""

    ops: tuple[tuple[int, tuple[int, ...]], ...]
    stack_value: bool

    def __str__(self) -> str:
        return "computed " + ("value" if self.stack_value else "address")


@dataclass(frozen=True, slots=True)
class Piece:
    """``size`` bytes of a composite, held at ``location`` (None: optimized out)."""

    location: Location | None
    size: int


@dataclass(frozen=True, slots=True)
class Pieces:
    """A value split over several places (DW_OP_piece)."""

    pieces: tuple[Piece, ...]

    def __str__(self) -> str:
        return (
            "pieces ("
            + ", ".join(f"{p.size}: {p.location or 'optimized out'}" for p in self.pieces)
            + ")"
        )


@dataclass(frozen=True, slots=True)
class Unsupported:
    """An expression this reader cannot decode (``reason`` says why)."""

    reason: str

    def __str__(self) -> str:
        return f"unsupported location ({self.reason})"


@dataclass(frozen=True, slots=True)
class OptimizedOut:
    """The variable has no location at this pc."""

    def __str__(self) -> str:
        return "optimized out"


OPTIMIZED_OUT = OptimizedOut()

Location = (
    WasmLocal | WasmGlobal | WasmStack | Memory | ImplicitValue | Computed | Pieces
    | OptimizedOut | Unsupported
)  # fmt: skip


# -- decoding ------------------------------------------------------------------


class Op(IntEnum):
    """The DWARF expression operations this module decodes by name."""

    ADDR = 0x03
    DEREF = 0x06
    CONST1U = 0x08
    CONST1S = 0x09
    CONST2U = 0x0A
    CONST2S = 0x0B
    CONST4U = 0x0C
    CONST4S = 0x0D
    CONST8U = 0x0E
    CONST8S = 0x0F
    CONSTU = 0x10
    CONSTS = 0x11
    DUP = 0x12
    DROP = 0x13
    OVER = 0x14
    PICK = 0x15
    SWAP = 0x16
    ROT = 0x17
    ABS = 0x19
    AND = 0x1A
    DIV = 0x1B
    MINUS = 0x1C
    MOD = 0x1D
    MUL = 0x1E
    NEG = 0x1F
    NOT = 0x20
    OR = 0x21
    PLUS = 0x22
    PLUS_UCONST = 0x23
    SHL = 0x24
    SHR = 0x25
    SHRA = 0x26
    XOR = 0x27
    EQ = 0x29
    GE = 0x2A
    GT = 0x2B
    LE = 0x2C
    LT = 0x2D
    NE = 0x2E
    LIT0 = 0x30
    LIT31 = 0x4F
    FBREG = 0x91
    PIECE = 0x93
    DEREF_SIZE = 0x94
    NOP = 0x96
    CALL_FRAME_CFA = 0x9C
    STACK_VALUE = 0x9F
    ADDRX = 0xA1
    CONSTX = 0xA2
    WASM_LOCATION = 0xED


_FIXED = {
    Op.CONST1U: (1, False),
    Op.CONST1S: (1, True),
    Op.CONST2U: (2, False),
    Op.CONST2S: (2, True),
    Op.CONST4U: (4, False),
    Op.CONST4S: (4, True),
    Op.CONST8U: (8, False),
    Op.CONST8S: (8, True),
    Op.PICK: (1, False),
    Op.DEREF_SIZE: (1, False),
}
_ULEB_ARG = {Op.CONSTU, Op.PLUS_UCONST, Op.PIECE, Op.ADDRX, Op.CONSTX}
_SLEB_ARG = {Op.CONSTS, Op.FBREG}
_NO_ARG = {
    Op.DEREF, Op.DUP, Op.DROP, Op.OVER, Op.SWAP, Op.ROT, Op.ABS, Op.AND, Op.DIV, Op.MINUS,
    Op.MOD, Op.MUL, Op.NEG, Op.NOT, Op.OR, Op.PLUS, Op.SHL, Op.SHR, Op.SHRA, Op.XOR, Op.EQ,
    Op.GE, Op.GT, Op.LE, Op.LT, Op.NE, Op.NOP, Op.STACK_VALUE, Op.CALL_FRAME_CFA,
}  # fmt: skip


def _leb(data: bytes, pos: int, signed: bool) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DwarfError("truncated LEB128 in a DWARF expression")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if signed and b & 0x40:
                result -= 1 << shift
            return result, pos


def decode_expr(
    data: bytes | list[int], address_size: int = 4
) -> list[tuple[int, tuple[int, ...]]]:
    """Decode a DWARF expression into ``(opcode, args)`` pairs.

    Raises :class:`DwarfError` for a truncated expression or an operation
    outside the set above (registers, TLS, calls: nothing a Wasm producer emits).
    """
    data = bytes(data)
    out: list[tuple[int, tuple[int, ...]]] = []
    pos = 0
    while pos < len(data):
        op = data[pos]
        pos += 1
        args: tuple[int, ...]
        if Op.LIT0 <= op <= Op.LIT31 or op in _NO_ARG:
            args = ()
        elif op == Op.ADDR:
            if pos + address_size > len(data):
                raise DwarfError("truncated DW_OP_addr")
            args = (int.from_bytes(data[pos : pos + address_size], "little"),)
            pos += address_size
        elif op in _FIXED:
            n, signed = _FIXED[Op(op)]
            if pos + n > len(data):
                raise DwarfError("truncated DWARF expression constant")
            args = (int.from_bytes(data[pos : pos + n], "little", signed=signed),)
            pos += n
        elif op in _ULEB_ARG or op in _SLEB_ARG:
            v, pos = _leb(data, pos, op in _SLEB_ARG)
            args = (v,)
        elif op == Op.WASM_LOCATION:
            if pos >= len(data):
                raise DwarfError("truncated DW_OP_WASM_location")
            kind = data[pos]
            pos += 1
            if kind in (0, 1, 2):
                index, pos = _leb(data, pos, False)
            elif kind == 3:
                if pos + 4 > len(data):
                    raise DwarfError("truncated DW_OP_WASM_location")
                index = int.from_bytes(data[pos : pos + 4], "little")
                pos += 4
            else:
                raise DwarfError(f"unknown DW_OP_WASM_location kind {kind}")
            args = (kind, index)
        else:
            raise DwarfError(f"unsupported DWARF expression operation 0x{op:02x}")
        out.append((op, args))
    return out


_TOMBSTONE = 0xFFFF_FFFF


def _wasm_slot(kind: int, index: int) -> WasmLocal | WasmGlobal | WasmStack:
    if kind == 0:
        return WasmLocal(index)
    if kind == 2:
        return WasmStack(index)
    return WasmGlobal(index)  # 1: global index as ULEB, 3: as fixed u32


def parse_location(data: bytes | list[int], addrx: Callable[[int], int] | None = None) -> Location:
    """Classify a location expression (see the module docstring).

    ``addrx`` maps a ``DW_OP_addrx`` index to its address (the unit's
    ``.debug_addr`` entries).  An expression that cannot be decoded gives
    :class:`Unsupported` rather than an error: one odd variable must not
    hide the others.
    """
    try:
        return _parse(data, addrx)
    except DwarfError as e:
        return Unsupported(str(e))


def _parse(data: bytes | list[int], addrx: Callable[[int], int] | None) -> Location:
    ops = decode_expr(data)
    if not ops:
        return OPTIMIZED_OUT
    if any(op == Op.PIECE for op, _ in ops):
        pieces: list[Piece] = []
        part: list[tuple[int, tuple[int, ...]]] = []
        for op, args in ops:
            if op == Op.PIECE:
                pieces.append(Piece(_classify(part, addrx) if part else None, args[0]))
                part = []
            else:
                part.append((op, args))
        return Pieces(tuple(pieces))
    return _classify(ops, addrx)


def _classify(
    ops: list[tuple[int, tuple[int, ...]]], addrx: Callable[[int], int] | None
) -> Location:
    ops = [(Op.ADDR, (_addrx(addrx, a[0]),)) if op == Op.ADDRX else (op, a) for op, a in ops]
    stack_value = bool(ops) and ops[-1][0] == Op.STACK_VALUE
    body = ops[:-1] if stack_value else ops
    shape = tuple(op for op, _ in body)
    if shape == (Op.WASM_LOCATION,):
        return _wasm_slot(*body[0][1])
    if not stack_value:
        if shape == (Op.FBREG,):
            return Memory(body[0][1][0], FRAME_BASE)
        if shape == (Op.ADDR,):
            if body[0][1][0] == _TOMBSTONE:
                # NB: wasm-ld writes -1 for the address of data it discarded
                # (a constant the compiler folded everywhere).
                return OPTIMIZED_OUT
            return Memory(body[0][1][0])
        if shape == (Op.WASM_LOCATION, Op.PLUS_UCONST) and body[0][1][0] != 2:
            kind, index = body[0][1]
            base = WasmLocal(index) if kind == 0 else WasmGlobal(index)
            return Memory(body[1][1][0], base)
    else:
        if len(body) == 1 and (
            body[0][0] in (Op.CONSTU, Op.CONSTS)
            or Op.LIT0 <= body[0][0] <= Op.LIT31
            or body[0][0] in _FIXED
        ):
            op, args = body[0]
            return ImplicitValue(args[0] if args else op - Op.LIT0)
    return Computed(tuple(ops), stack_value)


def _addrx(addrx: Callable[[int], int] | None, index: int) -> int:
    if addrx is None:
        raise DwarfError(f"DW_OP_addrx {index} without .debug_addr")
    return addrx(index)


# -- evaluation ------------------------------------------------------------------


class FrameReader(Protocol):
    """What a location needs from a paused frame (implemented by the debugger)."""

    def read_local(self, index: int) -> int: ...

    def read_global(self, index: int) -> int: ...

    def read_stack(self, index: int) -> int: ...

    def read_memory(self, address: int, size: int) -> bytes: ...


class PlaceKind(IntEnum):
    """Where a resolved value lives."""

    MEMORY = 0
    LOCAL = 1
    GLOBAL = 2
    STACK = 3
    VALUE = 4  # no storage: ``Place.value`` is the value itself


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved location: ``where`` is an address, a local/global/slot index, or the value."""

    kind: PlaceKind
    where: int

    @property
    def address(self) -> int | None:
        """The linear-memory address, when the place is memory."""
        return self.where if self.kind == PlaceKind.MEMORY else None


_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def resolve(
    location: Location, frame: FrameReader, frame_base: Location | None
) -> Place | list[tuple[Place | None, int]] | None:
    """The place of ``location`` in ``frame``; ``None`` when optimized out.

    ``frame_base`` is the function's frame-base location (``DW_AT_frame_base``),
    needed by ``DW_OP_fbreg``.  A composite gives ``[(place or None, size), ...]``.
    Raises :class:`DwarfError` for an expression that cannot be evaluated.
    """
    if isinstance(location, OptimizedOut):
        return None
    if isinstance(location, Unsupported):
        raise DwarfError(location.reason)
    if isinstance(location, Pieces):
        return [
            (_single(p.location, frame, frame_base) if p.location is not None else None, p.size)
            for p in location.pieces
        ]
    return _single(location, frame, frame_base)


def _single(location: Location, frame: FrameReader, frame_base: Location | None) -> Place | None:
    if isinstance(location, WasmLocal):
        return Place(PlaceKind.LOCAL, location.index)
    if isinstance(location, WasmGlobal):
        return Place(PlaceKind.GLOBAL, location.index)
    if isinstance(location, WasmStack):
        return Place(PlaceKind.STACK, location.index)
    if isinstance(location, ImplicitValue):
        return Place(PlaceKind.VALUE, location.value)
    if isinstance(location, Memory):
        if location.base is None:
            base = 0
        elif isinstance(location.base, FrameBase):
            base = _frame_base_value(frame, frame_base)
        elif isinstance(location.base, WasmLocal):
            base = frame.read_local(location.base.index)
        else:
            base = frame.read_global(location.base.index)
        return Place(PlaceKind.MEMORY, (base + location.offset) & _MASK32)
    if isinstance(location, Computed):
        value = _run(location.ops, frame, frame_base)
        kind = PlaceKind.VALUE if location.stack_value else PlaceKind.MEMORY
        return Place(kind, value & (_MASK64 if location.stack_value else _MASK32))
    return None


def _frame_base_value(frame: FrameReader, frame_base: Location | None) -> int:
    if frame_base is None:
        raise DwarfError("DW_OP_fbreg in a function without DW_AT_frame_base")
    place = _single(frame_base, frame, None)
    if place is None:
        raise DwarfError("the frame base is optimized out")
    if place.kind == PlaceKind.LOCAL:
        return frame.read_local(place.where) & _MASK32
    if place.kind == PlaceKind.GLOBAL:
        return frame.read_global(place.where) & _MASK32
    if place.kind == PlaceKind.STACK:
        return frame.read_stack(place.where) & _MASK32
    # A memory place as frame base means "the address itself" (DW_OP_call_frame_cfa style).
    return place.where


def _run(
    ops: tuple[tuple[int, tuple[int, ...]], ...], frame: FrameReader, frame_base: Location | None
) -> int:
    """A DWARF stack machine over 64-bit values (Wasm's widest integers)."""
    stack: list[int] = []

    def pop() -> int:
        if not stack:
            raise DwarfError("DWARF expression pops an empty stack")
        return stack.pop()

    binary: dict[int, Callable[[int, int], int]] = {
        Op.AND: lambda a, b: a & b,
        Op.MINUS: lambda a, b: a - b,
        Op.MUL: lambda a, b: a * b,
        Op.OR: lambda a, b: a | b,
        Op.PLUS: lambda a, b: a + b,
        Op.SHL: lambda a, b: a << (b & 63),
        Op.SHR: lambda a, b: (a & _MASK64) >> (b & 63),
        Op.SHRA: lambda a, b: _signed64(a) >> (b & 63),
        Op.XOR: lambda a, b: a ^ b,
        Op.EQ: lambda a, b: int(a == b),
        Op.GE: lambda a, b: int(_signed64(a) >= _signed64(b)),
        Op.GT: lambda a, b: int(_signed64(a) > _signed64(b)),
        Op.LE: lambda a, b: int(_signed64(a) <= _signed64(b)),
        Op.LT: lambda a, b: int(_signed64(a) < _signed64(b)),
        Op.NE: lambda a, b: int(a != b),
    }
    for op, args in ops:
        if Op.LIT0 <= op <= Op.LIT31:
            stack.append(op - Op.LIT0)
        elif (op in _FIXED and op not in (Op.PICK, Op.DEREF_SIZE)) or op in (
            Op.CONSTU,
            Op.CONSTS,
            Op.ADDR,
        ):
            stack.append(args[0])
        elif op == Op.WASM_LOCATION:
            kind, index = args
            if kind == 0:
                stack.append(frame.read_local(index))
            elif kind == 2:
                stack.append(frame.read_stack(index))
            else:
                stack.append(frame.read_global(index))
        elif op == Op.FBREG:
            stack.append(_frame_base_value(frame, frame_base) + args[0])
        elif op == Op.PLUS_UCONST:
            stack.append(pop() + args[0])
        elif op in binary:
            b, a = pop(), pop()
            stack.append(binary[op](a, b) & _MASK64)
        elif op in (Op.DIV, Op.MOD):
            b, a = _signed64(pop()), _signed64(pop())
            if b == 0:
                raise DwarfError("division by zero in a DWARF expression")
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
            stack.append((q if op == Op.DIV else a - q * b) & _MASK64)
        elif op == Op.NEG:
            stack.append(-pop() & _MASK64)
        elif op == Op.NOT:
            stack.append(~pop() & _MASK64)
        elif op == Op.ABS:
            stack.append(abs(_signed64(pop())))
        elif op == Op.DUP:
            v = pop()
            stack += [v, v]
        elif op == Op.DROP:
            pop()
        elif op == Op.OVER:
            if len(stack) < 2:
                raise DwarfError("DW_OP_over needs two values")
            stack.append(stack[-2])
        elif op == Op.PICK:
            if args[0] >= len(stack):
                raise DwarfError("DW_OP_pick beyond the stack")
            stack.append(stack[-1 - args[0]])
        elif op == Op.SWAP:
            b, a = pop(), pop()
            stack += [b, a]
        elif op == Op.ROT:
            c, b, a = pop(), pop(), pop()
            stack += [c, a, b]
        elif op in (Op.DEREF, Op.DEREF_SIZE):
            size = args[0] if op == Op.DEREF_SIZE else 4
            stack.append(int.from_bytes(frame.read_memory(pop() & _MASK32, size), "little"))
        elif op in (Op.NOP, Op.STACK_VALUE):
            pass
        else:
            raise DwarfError(f"cannot evaluate DWARF operation 0x{op:02x}")
    if not stack:
        raise DwarfError("DWARF expression leaves no value")
    return stack[-1]


def _signed64(v: int) -> int:
    v &= _MASK64
    return v - (1 << 64) if v >> 63 else v
