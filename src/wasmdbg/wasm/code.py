"""The instruction reader: walks function bodies and constant expressions.

This module owns the binary encoding of *instructions*: which opcodes exist
(from the one table in ``wasm.opcodes``), how each immediate is read, and the
malformed rules inside code ("illegal opcode", "zero byte expected",
"malformed memop flags", "END opcode expected" ...).  It never builds a tree:
:func:`iter_instructions` yields flat :class:`Instruction` tuples, each with
its module-relative byte offset (the pc the debugger, DWARF and LLDB use) and
its immediate in the representation documented in ``wasm.opcodes``.

Speed matters: the validator and the compiler each walk every body once.  The
reader dispatches on a 256-entry list indexed by the opcode byte; ops without
an immediate (about half of real code) take an inline path, and the common
one-byte-LEB immediates of ``local.*``, ``i32.const`` and loads/stores are
read inline as well.  Instructions are built with ``tuple.__new__`` to skip
the NamedTuple constructor's Python frame.

Block structure is tracked only as a depth counter, so the reader knows where
a body's final ``end`` is: a body must finish with it exactly at its last
byte.

NB: ``memory.init`` and ``data.drop`` are malformed when the module has no
data count section; the reader cannot know that alone, so callers pass
``data_count=False`` (or use :func:`iter_body`, which does it for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

from ..errors import DecodeError, UnsupportedError, ValidationError
from .module import FunctionBody, ModuleDef
from .opcodes import OPCODES, PREFIX_FC, PREFIX_SIMD, Imm
from .reader import (
    VALTYPE_BY_BYTE,
    _read_signed,
    read_count,
    read_reftype,
    read_s32,
    read_s64,
    read_u32,
    read_valtype,
    valtype_error,
)
from .types import FuncType

__all__ = [
    "BLOCKTYPE_EMPTY",
    "Instruction",
    "RawInstruction",
    "block_type",
    "data_count_ok",
    "iter_body",
    "iter_instructions",
    "iter_raw",
    "read_const_expr",
]

#: The ``s33`` block type immediate meaning "no parameters, no results".
BLOCKTYPE_EMPTY = -64


class Instruction(NamedTuple):
    """One decoded instruction.

    ``offset`` is module-relative; ``op`` is the key into ``OPCODES``
    (``0xFC00 | sub`` for prefixed ops); ``imm`` is described in ``wasm.opcodes``.
    """

    offset: int
    op: int
    imm: object


# An immediate reader takes (data, pos just past the opcode, end) and returns
# (immediate, pos just past the immediate).
_ImmReader = Callable[[bytes, int, int], tuple[object, int]]

_VALTYPE_BLOCKTYPES = {b - 0x80: t for b, t in VALTYPE_BY_BYTE.items()}  # s33 value -> type


def _imm_blocktype(data: bytes, pos: int, end: int) -> tuple[object, int]:
    if pos < end:
        b = data[pos]
        if b < 0x80:
            if b & 0x40:
                v = b - 0x80
                if v != BLOCKTYPE_EMPTY and v not in _VALTYPE_BLOCKTYPES:
                    raise valtype_error(b, pos)
                return v, pos + 1
            return b, pos + 1
    v, npos = _read_signed(data, pos, end, 33)
    if v < 0:  # negative block types only have a one-byte encoding
        raise DecodeError("malformed value type", pos)
    return v, npos


def _imm_br_table(data: bytes, pos: int, end: int) -> tuple[object, int]:
    n, pos = read_count(data, pos, end)
    labels = []
    for _ in range(n):
        if pos < end and data[pos] < 0x80:
            labels.append(data[pos])
            pos += 1
        else:
            x, pos = read_u32(data, pos, end)
            labels.append(x)
    default, pos = read_u32(data, pos, end)
    return (tuple(labels), default), pos


def _imm_two_u32(data: bytes, pos: int, end: int) -> tuple[object, int]:
    a, pos = read_u32(data, pos, end)
    b, pos = read_u32(data, pos, end)
    return (a, b), pos


def _imm_memarg(data: bytes, pos: int, end: int) -> tuple[object, int]:
    start = pos
    align, pos = read_u32(data, pos, end)
    if align >= 32:
        raise DecodeError("malformed memop flags", start)
    offset, pos = read_u32(data, pos, end)
    return (align, offset), pos


def _zero_byte(data: bytes, pos: int, end: int) -> int:
    if pos >= end:
        raise DecodeError("unexpected end", pos)
    if data[pos] != 0:
        raise DecodeError("zero byte expected", pos)
    return pos + 1


def _imm_memory(data: bytes, pos: int, end: int) -> tuple[object, int]:
    return 0, _zero_byte(data, pos, end)


def _imm_memory_init(data: bytes, pos: int, end: int) -> tuple[object, int]:
    x, pos = read_u32(data, pos, end)
    return (x, 0), _zero_byte(data, pos, end)


def _imm_memory_copy(data: bytes, pos: int, end: int) -> tuple[object, int]:
    pos = _zero_byte(data, pos, end)
    return (0, 0), _zero_byte(data, pos, end)


def _imm_f32(data: bytes, pos: int, end: int) -> tuple[object, int]:
    if end - pos < 4:
        raise DecodeError("unexpected end", pos)
    return int.from_bytes(data[pos : pos + 4], "little"), pos + 4


def _imm_f64(data: bytes, pos: int, end: int) -> tuple[object, int]:
    if end - pos < 8:
        raise DecodeError("unexpected end", pos)
    return int.from_bytes(data[pos : pos + 8], "little"), pos + 8


def _imm_select_t(data: bytes, pos: int, end: int) -> tuple[object, int]:
    n, pos = read_count(data, pos, end)
    types = []
    for _ in range(n):
        t, pos = read_valtype(data, pos, end)
        types.append(t)
    return tuple(types), pos


def _imm_illegal(data: bytes, pos: int, end: int) -> tuple[object, int]:
    raise DecodeError("illegal opcode", pos - 1)


def _imm_simd(data: bytes, pos: int, end: int) -> tuple[object, int]:
    raise UnsupportedError("SIMD is not supported yet", pos - 1)


def _imm_no_data_count(data: bytes, pos: int, end: int) -> tuple[object, int]:
    # A marker: iter_instructions checks for it and reports the prefix offset.
    raise DecodeError("data count section required", pos)


_BY_KIND: dict[Imm, _ImmReader | None] = {
    Imm.NONE: None,
    Imm.BLOCKTYPE: _imm_blocktype,
    Imm.LABEL: read_u32,
    Imm.BR_TABLE: _imm_br_table,
    Imm.FUNC: read_u32,
    Imm.CALL_INDIRECT: _imm_two_u32,
    Imm.LOCAL: read_u32,
    Imm.GLOBAL: read_u32,
    Imm.TABLE: read_u32,
    Imm.MEMARG: _imm_memarg,
    Imm.MEMORY: _imm_memory,
    Imm.I32: read_s32,
    Imm.I64: read_s64,
    Imm.F32: _imm_f32,
    Imm.F64: _imm_f64,
    Imm.SELECT_T: _imm_select_t,
    Imm.REFTYPE: read_reftype,
    Imm.ELEM: read_u32,
    Imm.DATA: read_u32,
    Imm.TWO_INDEX: _imm_two_u32,
}
_SPECIAL: dict[int, _ImmReader] = {0xFC08: _imm_memory_init, 0xFC0A: _imm_memory_copy}


def _reader_for(code: int) -> _ImmReader | None:
    special = _SPECIAL.get(code)
    if special is not None:
        return special
    return _BY_KIND[OPCODES[code].imm]


# 0xFC-prefixed opcodes by sub-opcode; a missing key is illegal.
_PREFIXED: dict[int, _ImmReader | None] = {
    c & 0xFF: _reader_for(c) for c in OPCODES if c >> 8 == PREFIX_FC
}
_PREFIXED_NO_DC = dict(_PREFIXED)
_PREFIXED_NO_DC[0x08] = _imm_no_data_count  # memory.init
_PREFIXED_NO_DC[0x09] = _imm_no_data_count  # data.drop

_OP_END = 0x0B
_OP_BLOCK_LAST = 0x04  # block 0x02, loop 0x03, if 0x04 open a nesting level

# What iter_raw does for each opcode byte: None (no immediate), one of the
# _K_* classes it handles inline, or the immediate reader to call.
_K_U32, _K_S32, _K_MEMARG, _K_PREFIX = 1, 2, 3, 4
_KIND: list[_ImmReader | int | None] = [_imm_illegal] * 256
for _code, _info in OPCODES.items():
    if _code < 0x100:
        if _info.imm in (Imm.LABEL, Imm.FUNC, Imm.LOCAL, Imm.GLOBAL, Imm.TABLE):
            _KIND[_code] = _K_U32
        elif _info.imm is Imm.I32:
            _KIND[_code] = _K_S32
        elif _info.imm is Imm.MEMARG:
            _KIND[_code] = _K_MEMARG
        else:
            _KIND[_code] = _reader_for(_code)
_KIND[PREFIX_FC] = _K_PREFIX
_KIND[PREFIX_SIMD] = _imm_simd

#: A plain ``(offset, op, imm)`` tuple, laid out as :class:`Instruction`.
RawInstruction = tuple[int, int, object]


def iter_raw(
    raw: bytes,
    start: int,
    end: int,
    *,
    exact: bool = True,
    data_count: bool = True,
) -> Iterator[RawInstruction]:
    """Like :func:`iter_instructions` but yields plain ``(offset, op, imm)`` tuples.

    About 1.5x faster (building a NamedTuple costs as much as decoding the
    instruction); meant for hot loops that unpack the tuple anyway.
    """
    kinds = _KIND
    prefixed = _PREFIXED if data_count else _PREFIXED_NO_DC
    pos = start
    depth = 0
    imm: object
    while pos < end:
        op = raw[pos]
        kind = kinds[op]
        if kind is None:  # no immediate
            yield (pos, op, None)
            pos += 1
            if op == _OP_END:
                if depth == 0:
                    if exact and pos != end:
                        raise DecodeError("section size mismatch", pos)
                    return
                depth -= 1
            continue
        p1 = pos + 1
        if kind == _K_U32:
            if p1 < end:
                b = raw[p1]
                if b < 0x80:
                    yield (pos, op, b)
                    pos = p1 + 1
                    continue
            imm, npos = read_u32(raw, p1, end)
        elif kind == _K_S32:
            if p1 < end:
                b = raw[p1]
                if b < 0x80:
                    yield (pos, op, b - 0x80 if b & 0x40 else b)
                    pos = p1 + 1
                    continue
            imm, npos = read_s32(raw, p1, end)
        elif kind == _K_MEMARG:
            if p1 + 1 < end:
                b = raw[p1]
                o = raw[p1 + 1]
                if b < 0x20 and o < 0x80:
                    yield (pos, op, (b, o))
                    pos = p1 + 2
                    continue
            imm, npos = _imm_memarg(raw, p1, end)
        elif kind == _K_PREFIX:
            sub, npos = read_u32(raw, p1, end)
            if sub not in prefixed:
                raise DecodeError("illegal opcode", pos)
            sub_reader = prefixed[sub]
            op = PREFIX_FC << 8 | sub
            if sub_reader is None:
                imm = None
            elif sub_reader is _imm_no_data_count:
                raise DecodeError("data count section required", pos)
            else:
                imm, npos = sub_reader(raw, npos, end)
        else:
            imm, npos = kind(raw, p1, end)  # type: ignore[operator]
            if op <= _OP_BLOCK_LAST:
                depth += 1
        yield (pos, op, imm)
        pos = npos
    raise DecodeError("END opcode expected", end)


_make_instruction = partial(tuple.__new__, Instruction)


def iter_instructions(
    raw: bytes,
    start: int,
    end: int,
    *,
    exact: bool = True,
    data_count: bool = True,
) -> Iterator[Instruction]:
    """Yield the instructions of the expression at ``raw[start:end]``.

    The walk stops after the expression's final ``end`` (the ``end`` that
    closes depth 0), which is yielded too.  With ``exact`` (the default, for
    function bodies) that ``end`` must be the last byte before ``end``;
    constant expressions pass ``exact=False`` and learn their length from the
    last instruction's offset.  Running past ``end`` without the final
    ``end`` is "END opcode expected" (or "unexpected end" inside an immediate).

    ``data_count=False`` makes ``memory.init`` and ``data.drop`` malformed
    ("data count section required"), as they are in a module without a data
    count section.

    Errors are raised lazily, when the walk reaches the bad byte:
    :class:`DecodeError` (or :class:`UnsupportedError` for SIMD).
    """
    return map(_make_instruction, iter_raw(raw, start, end, exact=exact, data_count=data_count))


def iter_body(module: ModuleDef, body: FunctionBody) -> Iterator[Instruction]:
    """Yield the instructions of a function body of ``module``.

    Applies the module-level rule that ``memory.init`` and ``data.drop`` need
    a data count section (see :func:`data_count_ok`).
    """
    return iter_instructions(
        module.raw, body.code_start, body.code_end, data_count=data_count_ok(module)
    )


def data_count_ok(module: ModuleDef) -> bool:
    """Whether ``memory.init`` / ``data.drop`` are well-formed in ``module``.

    They need a data count section.  NB: when the module has no data
    segments at all, every data index is out of range anyway and we let the
    validator report "unknown data segment" instead (wast2json emits no data
    count section for such modules, and the spec suite expects them to be
    *invalid*, e.g. ``memory_init.wast`` line 190).
    """
    return module.data_count is not None or not module.datas


def read_const_expr(raw: bytes, start: int, end: int) -> tuple[tuple[tuple[int, object], ...], int]:
    """Read a constant expression at ``start`` (not past ``end``).

    Returns the ``(opcode, immediate)`` pairs without the final ``end`` and
    the position just past that ``end``.  Which instructions are constant is
    the validator's concern; any well-formed instruction is accepted here.
    """
    instrs: list[tuple[int, object]] = []
    last = start
    for ins in iter_instructions(raw, start, end, exact=False):
        instrs.append((ins[1], ins[2]))
        last = ins[0]
    instrs.pop()  # the final end
    return tuple(instrs), last + 1


_EMPTY_TYPE = FuncType((), ())
_SINGLE_TYPES = {v: FuncType((), (t,)) for v, t in _VALTYPE_BLOCKTYPES.items()}


def block_type(module: ModuleDef, imm: int, offset: int = 0) -> FuncType:
    """The signature of a block whose ``s33`` block type immediate is ``imm``.

    ``-64`` is ``[] -> []``, a negative value type code ``t`` gives
    ``[] -> [t]``, and ``imm >= 0`` is a type index into ``module.types``
    (an index out of range raises :class:`ValidationError` "unknown type",
    reported at ``offset``).
    """
    if imm >= 0:
        if imm < len(module.types):
            return module.types[imm]
        raise ValidationError(f"unknown type {imm}", offset)
    if imm == BLOCKTYPE_EMPTY:
        return _EMPTY_TYPE
    ft = _SINGLE_TYPES.get(imm)
    if ft is None:
        raise ValidationError(f"invalid block type {imm}", offset)
    return ft
