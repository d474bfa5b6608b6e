"""The validator: decides whether a decoded :class:`ModuleDef` is valid.

``validate(module)`` returns ``None`` for a valid module and raises
:class:`~wasmdbg.errors.ValidationError` (with the module-relative byte offset
of the offending instruction or entry, and the function index inside bodies)
for an invalid one.  A few rules that the specification files under
*malformed* rather than *invalid* are checked here too, because only here is
the information at hand; they raise :class:`~wasmdbg.errors.DecodeError`:
``memory.init`` / ``data.drop`` without a data count section, and bytes of a
function body that do not form instructions (bad opcodes, bad LEB128, a body
that ends early or has bytes after its final ``end``).

What this module owns
---------------------
* Module-level rules: type indices, limits (memories at most 65536 pages,
  ``min <= max``, at most one memory), constant expressions (global
  initialisers, segment offsets, element items), element and data segments,
  the start function, exports (unique names, indices in range) and the set of
  *declared* function references that ``ref.func`` may name.
* Function bodies, following the specification's appendix "Validation
  Algorithm": an operand stack and a control stack; unreachable code makes the
  operand stack polymorphic (popping below the frame's height yields the
  *Unknown* type).

NB: for speed the body check does **not** use ``wasm.code.iter_instructions``.
It reads the opcodes and immediates straight from the bytes in one fused loop
(``_validate_body``), so no object is allocated per instruction.  The reader
is as strict as the decoder's: malformed bytes raise ``DecodeError``.

Representation (hot loop)
-------------------------
Value types are small ``int`` values -- the ``ValType`` encodings (``0x7F``
for ``i32`` ...) -- and ``UNKNOWN = 0`` for the polymorphic stack's bottom
type.  Sequences of types are plain ``list[int]`` so that a slice of the
operand stack compares with them directly.

The operand stack ``vals`` is one ``list[int]`` for the whole function.  The
control stack ``ctrls`` is a list of frames; each frame is a small list::

    frame = [ label_types, end_types, height, unreachable, kind, start_types ]
               |            |          |       |            |     |
               |            |          |       |            |     types pushed
               |            |          |       |            |     on entry
               |            |          |       |            BLOCK/LOOP/IF/ELSE
               |            |          |       set by br, return, unreachable
               |            |          len(vals) when the frame was entered
               |            types on the stack at its `end`
               types a branch to this label carries
               (start_types for a loop, end_types otherwise)

    vals:  [ ... outer frames' values ... | values of the innermost frame ]
                                          ^ ctrls[-1][HEIGHT]

The innermost frame's ``height`` and ``unreachable`` are also kept in local
variables of the loop and written back when frames are pushed or popped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DecodeError, UnsupportedError, ValidationError
from .code import data_count_ok, iter_body
from .module import ConstExpr, ModuleDef, SegmentMode
from .opcodes import OPCODES, Imm
from .types import MAX_PAGES, ExternKind, FuncType, Limits, ValType

__all__ = ["validate"]

# -- type codes ---------------------------------------------------------------

UNKNOWN = 0
I32 = int(ValType.I32)
I64 = int(ValType.I64)
F32 = int(ValType.F32)
F64 = int(ValType.F64)
V128 = int(ValType.V128)
FUNCREF = int(ValType.FUNCREF)
EXTERNREF = int(ValType.EXTERNREF)

_NUM_OR_UNKNOWN = frozenset({I32, I64, F32, F64, UNKNOWN})
_REF_OR_UNKNOWN = frozenset({FUNCREF, EXTERNREF, UNKNOWN})
_VALTYPE_BYTES = frozenset({I32, I64, F32, F64, FUNCREF, EXTERNREF})
_REFTYPE_BYTES = frozenset({FUNCREF, EXTERNREF})

# -- control frames -------------------------------------------------------------

LABEL, END, HEIGHT, UNREACH, KIND, START = range(6)
BLOCK, LOOP, IF, ELSE, FUNC = range(5)

_TYPE_NAMES = {
    I32: "i32",
    I64: "i64",
    F32: "f32",
    F64: "f64",
    V128: "v128",
    FUNCREF: "funcref",
    EXTERNREF: "externref",
    UNKNOWN: "unknown",
}

# -- opcode classification (built from the one opcode table) --------------------

# Numeric instructions without immediates (0x45..0xC4): (param, result, arity).
_NUMERIC: list[tuple[int, int, int] | None] = [None] * 256
# Loads and stores (0x28..0x3E): (natural alignment, value type, is_store).
_MEMOPS: list[tuple[int, int, bool] | None] = [None] * 256
# 0xFC-prefixed saturating truncations: sub-opcode -> (param, result).
_TRUNC_SAT: dict[int, tuple[int, int]] = {}


def _build_tables() -> None:
    for code, info in OPCODES.items():
        if info.params is None or info.results is None:
            continue
        if 0x45 <= code <= 0xC4:
            params = [int(t) for t in info.params]
            if len(set(params)) != 1 or len(info.results) != 1:
                raise RuntimeError(f"unexpected numeric signature for {info.name}")
            _NUMERIC[code] = (params[0], int(info.results[0]), len(params))
        elif info.imm is Imm.MEMARG:
            if info.results:
                _MEMOPS[code] = (info.natural_align, int(info.results[0]), False)
            else:
                _MEMOPS[code] = (info.natural_align, int(info.params[1]), True)
        elif code >> 8 == 0xFC and code & 0xFF <= 7:
            _TRUNC_SAT[code & 0xFF] = (int(info.params[0]), int(info.results[0]))


_build_tables()


# -- internal exceptions (turned into the public ones with offsets) ------------


class _Invalid(Exception):
    """A validation failure at the current instruction."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Malformed(Exception):
    """Malformed bytes at ``pos`` (relative to the body's code slice)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


class _Unsupported(_Malformed):
    """A feature wasmdbg does not implement (SIMD) at ``pos``."""


# -- LEB128 readers over a body's code slice ----------------------------------
# Each returns (value, next position).  Running off the slice raises
# IndexError, which the body loop reports as "unexpected end".


def _u32(code: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    start = pos
    while True:
        b = code[pos]
        pos += 1
        if shift == 28:
            if b & 0x80:
                raise _Malformed("integer representation too long", start)
            if b & 0x70:
                raise _Malformed("integer too large", start)
            return result | (b << 28), pos
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _signed(code: bytes, pos: int, bits: int) -> tuple[int, int]:
    """Read an sN LEB128 (N = 32, 33 or 64) with the spec's strictness."""
    result = 0
    shift = 0
    start = pos
    last = (bits - 1) // 7 * 7  # shift of the last permitted byte
    while True:
        b = code[pos]
        pos += 1
        if shift == last:
            if b & 0x80:
                raise _Malformed("integer representation too long", start)
            # The unused high bits of the last byte must extend the sign bit.
            used = bits - last  # meaningful bits in this byte, sign included
            mask = (0x7F >> (used - 1)) << (used - 1)  # sign bit and above
            if b & mask not in (0, mask):
                raise _Malformed("integer too large", start)
            result |= (b & 0x7F) << shift
            if b & (1 << (used - 1)):
                result -= 1 << (shift + 7)
            return result, pos
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos


# -- the operand stack's slow paths --------------------------------------------


def _pop(vals: list[int], height: int, unreach: bool, expect: int) -> int:
    """Pop one value that must have type ``expect`` (UNKNOWN: any type)."""
    if len(vals) == height:
        if unreach:
            return UNKNOWN
        raise _Invalid("type mismatch")
    actual = vals.pop()
    if actual != expect and actual != UNKNOWN and expect != UNKNOWN:
        raise _Invalid("type mismatch")
    return actual


def _pop_vals(vals: list[int], height: int, unreach: bool, types: list[int]) -> list[int]:
    """Pop values of ``types`` (last type on top); returns what was popped."""
    popped = [0] * len(types)
    for i in range(len(types) - 1, -1, -1):
        popped[i] = _pop(vals, height, unreach, types[i])
    return popped


def _check_vals(vals: list[int], height: int, unreach: bool, types: list[int]) -> None:
    """Pop values of ``types`` (fast when they are all concretely there)."""
    n = len(types)
    if not n:
        return
    if len(vals) - n >= height and vals[-n:] == types:
        del vals[-n:]
        return
    _pop_vals(vals, height, unreach, types)


# -- a function body ---------------------------------------------------------


class _Context:
    """What the body loop needs to know about the module (built once)."""

    __slots__ = (
        "block_types",
        "data_count_ok",
        "declared",
        "elem_types",
        "func_sigs",
        "global_mut",
        "global_types",
        "has_memory",
        "num_datas",
        "table_types",
        "type_sigs",
    )

    def __init__(self, module: ModuleDef, declared: frozenset[int]) -> None:
        self.type_sigs: list[tuple[list[int], list[int]]] = [
            ([int(t) for t in ft.params], [int(t) for t in ft.results]) for ft in module.types
        ]
        sigs = self.type_sigs
        empty: list[int] = []
        self.func_sigs: list[tuple[list[int], list[int]]] = [
            sigs[i] if 0 <= i < len(sigs) else (empty, empty) for i in module.func_type_indices
        ]
        self.block_types: dict[int, tuple[list[int], list[int]]] = {0x40: (empty, empty)}
        for t in _VALTYPE_BYTES:
            self.block_types[t] = (empty, [t])
        self.table_types = [int(t.elem) for t in module.tables]
        self.elem_types = [int(e.elem_type) for e in module.elems]
        self.global_types = [int(g.valtype) for g in module.globals]
        self.global_mut = [g.mutable for g in module.globals]
        self.has_memory = bool(module.memories)
        # memory.init / data.drop need a data count section (the exception
        # for modules without data segments is explained at data_count_ok).
        self.data_count_ok = data_count_ok(module)
        self.num_datas = len(module.datas) if module.data_count is None else module.data_count
        self.declared = declared


def _validate_body(
    ctx: _Context, code: bytes, base: int, func_index: int, local_types: list[int]
) -> None:
    """Validate one function body; ``code`` is its instructions, at ``base``."""
    params, results = ctx.func_sigs[func_index]
    locs = params + local_types
    nlocals = len(locs)
    type_sigs = ctx.type_sigs
    ntypes = len(type_sigs)
    func_sigs = ctx.func_sigs
    nfuncs = len(func_sigs)
    block_types = ctx.block_types
    global_types = ctx.global_types
    nglobals = len(global_types)
    has_memory = ctx.has_memory
    numeric = _NUMERIC
    memops = _MEMOPS

    vals: list[int] = []
    ctrls: list[list[object]] = [[results, results, 0, False, FUNC, []]]
    frame: list[object] = ctrls[0]
    height = 0
    unreach = False
    pos = 0
    at = 0
    end = len(code)
    bt: tuple[list[int], list[int]]
    try:
        while True:
            at = pos
            op = code[pos]
            pos += 1

            # -- the most frequent instructions first ----------------------
            if op == 0x20:  # local.get
                idx = code[pos]
                if idx < 0x80:
                    pos += 1
                else:
                    idx, pos = _u32(code, pos)
                if idx >= nlocals:
                    raise _Invalid(f"unknown local {idx}")
                vals.append(locs[idx])

            elif 0x45 <= op <= 0xC4:  # numeric: no immediates, fixed types
                info = numeric[op]
                if info is None:
                    raise _Malformed(f"illegal opcode 0x{op:02x}", at)
                t, r, arity = info
                if arity == 2:
                    if len(vals) - 2 >= height and vals[-1] == t and vals[-2] == t:
                        del vals[-1]
                        vals[-1] = r
                    else:
                        _pop(vals, height, unreach, t)
                        _pop(vals, height, unreach, t)
                        vals.append(r)
                elif len(vals) > height and vals[-1] == t:
                    vals[-1] = r
                else:
                    _pop(vals, height, unreach, t)
                    vals.append(r)

            elif op == 0x41:  # i32.const
                if code[pos] < 0x80:
                    pos += 1
                else:
                    pos = _signed(code, pos, 32)[1]
                vals.append(I32)

            elif op == 0x21 or op == 0x22:  # local.set, local.tee
                idx = code[pos]
                if idx < 0x80:
                    pos += 1
                else:
                    idx, pos = _u32(code, pos)
                if idx >= nlocals:
                    raise _Invalid(f"unknown local {idx}")
                t = locs[idx]
                if len(vals) > height and vals[-1] == t:
                    if op == 0x21:
                        del vals[-1]
                else:
                    _pop(vals, height, unreach, t)
                    if op == 0x22:
                        vals.append(t)

            elif 0x28 <= op <= 0x3E:  # loads and stores
                mem = memops[op]
                if mem is None:  # pragma: no cover - the table covers the range
                    raise _Malformed(f"illegal opcode 0x{op:02x}", at)
                natural, t, is_store = mem
                align = code[pos]
                if align < 0x80:
                    pos += 1
                else:
                    align, pos = _u32(code, pos)
                if code[pos] < 0x80:
                    pos += 1
                else:
                    pos = _u32(code, pos)[1]
                if align >= 32:
                    raise _Malformed("malformed memop flags", at + 1)
                if not has_memory:
                    raise _Invalid("unknown memory 0")
                if align > natural:
                    raise _Invalid("alignment must not be larger than natural")
                if is_store:
                    if len(vals) - 2 >= height and vals[-1] == t and vals[-2] == I32:
                        del vals[-2:]
                    else:
                        _pop(vals, height, unreach, t)
                        _pop(vals, height, unreach, I32)
                elif len(vals) > height and vals[-1] == I32:
                    vals[-1] = t
                else:
                    _pop(vals, height, unreach, I32)
                    vals.append(t)

            elif op == 0x0B:  # end
                res: list[int] = frame[END]  # type: ignore[assignment]
                if not (len(vals) - height == len(res) and vals[height:] == res):
                    _pop_vals(vals, height, unreach, res)
                    if len(vals) != height:
                        raise _Invalid("type mismatch")
                if frame[KIND] == IF and frame[START] != res:
                    raise _Invalid("type mismatch")
                del vals[height:]
                ctrls.pop()
                if not ctrls:
                    if pos != end:
                        raise _Malformed("section size mismatch", pos)
                    return
                vals.extend(res)
                frame = ctrls[-1]
                height = frame[HEIGHT]  # type: ignore[assignment]
                unreach = frame[UNREACH]  # type: ignore[assignment]

            elif op == 0x0D:  # br_if
                depth = code[pos]
                if depth < 0x80:
                    pos += 1
                else:
                    depth, pos = _u32(code, pos)
                if depth >= len(ctrls):
                    raise _Invalid(f"unknown label {depth}")
                if len(vals) > height and vals[-1] == I32:
                    del vals[-1]
                else:
                    _pop(vals, height, unreach, I32)
                lt: list[int] = ctrls[-1 - depth][LABEL]  # type: ignore[assignment]
                if lt:
                    _check_vals(vals, height, unreach, lt)
                    vals.extend(lt)

            elif op == 0x10:  # call
                idx = code[pos]
                if idx < 0x80:
                    pos += 1
                else:
                    idx, pos = _u32(code, pos)
                if idx >= nfuncs:
                    raise _Invalid(f"unknown function {idx}")
                ps, rs = func_sigs[idx]
                if ps:
                    _check_vals(vals, height, unreach, ps)
                vals.extend(rs)

            elif op == 0x02 or op == 0x03 or op == 0x04:  # block, loop, if
                b = code[pos]
                if b in block_types:
                    pos += 1
                    bt = block_types[b]
                else:
                    bt, pos = _block_type(code, pos, type_sigs, ntypes)
                if op == 0x04:
                    if len(vals) > height and vals[-1] == I32:
                        del vals[-1]
                    else:
                        _pop(vals, height, unreach, I32)
                ps, rs = bt
                if ps:
                    _check_vals(vals, height, unreach, ps)
                height = len(vals)
                unreach = False
                if op == 0x03:
                    frame = [ps, rs, height, False, LOOP, ps]
                else:
                    frame = [rs, rs, height, False, IF if op == 0x04 else BLOCK, ps]
                ctrls.append(frame)
                vals.extend(ps)

            elif op == 0x0C:  # br
                depth, pos = _u32(code, pos)
                if depth >= len(ctrls):
                    raise _Invalid(f"unknown label {depth}")
                lt = ctrls[-1 - depth][LABEL]  # type: ignore[assignment]
                _check_vals(vals, height, unreach, lt)
                del vals[height:]
                unreach = frame[UNREACH] = True

            elif op == 0x23:  # global.get
                idx, pos = _u32(code, pos)
                if idx >= nglobals:
                    raise _Invalid(f"unknown global {idx}")
                vals.append(global_types[idx])

            elif op == 0x24:  # global.set
                idx, pos = _u32(code, pos)
                if idx >= nglobals:
                    raise _Invalid(f"unknown global {idx}")
                if not ctx.global_mut[idx]:
                    raise _Invalid("global is immutable")
                _pop(vals, height, unreach, global_types[idx])

            elif op == 0x42:  # i64.const
                pos = _signed(code, pos, 64)[1]
                vals.append(I64)

            elif op == 0x43:  # f32.const
                pos += 4
                if pos > end:
                    raise IndexError
                vals.append(F32)

            elif op == 0x44:  # f64.const
                pos += 8
                if pos > end:
                    raise IndexError
                vals.append(F64)

            elif op == 0x1A:  # drop
                if len(vals) > height:
                    del vals[-1]
                else:
                    _pop(vals, height, unreach, UNKNOWN)

            elif op == 0x0F:  # return
                _check_vals(vals, height, unreach, results)
                del vals[height:]
                unreach = frame[UNREACH] = True

            elif op == 0x00:  # unreachable
                del vals[height:]
                unreach = frame[UNREACH] = True

            elif op == 0x01:  # nop
                pass

            elif op == 0x05:  # else
                if frame[KIND] != IF:
                    raise _Invalid("else without if")
                res = frame[END]  # type: ignore[assignment]
                if not (len(vals) - height == len(res) and vals[height:] == res):
                    _pop_vals(vals, height, unreach, res)
                    if len(vals) != height:
                        raise _Invalid("type mismatch")
                del vals[height:]
                ps = frame[START]  # type: ignore[assignment]
                unreach = False
                frame = [res, res, height, False, ELSE, ps]
                ctrls[-1] = frame
                vals.extend(ps)

            elif op == 0x0E:  # br_table
                count_at = pos
                count, pos = _u32(code, pos)
                if count > end - pos:
                    raise _Malformed("length out of bounds", count_at)
                labels = []
                for _ in range(count + 1):
                    depth = code[pos]
                    if depth < 0x80:
                        pos += 1
                    else:
                        depth, pos = _u32(code, pos)
                    labels.append(depth)
                _pop(vals, height, unreach, I32)
                default = labels.pop()
                if default >= len(ctrls):
                    raise _Invalid(f"unknown label {default}")
                dt: list[int] = ctrls[-1 - default][LABEL]  # type: ignore[assignment]
                arity = len(dt)
                # NB: checking a label again cannot fail or change the stack
                # (popped values are pushed back), so each depth is checked once.
                for depth in dict.fromkeys(labels):
                    if depth >= len(ctrls):
                        raise _Invalid(f"unknown label {depth}")
                    lt = ctrls[-1 - depth][LABEL]  # type: ignore[assignment]
                    if len(lt) != arity:
                        raise _Invalid("type mismatch")
                    vals.extend(_pop_vals(vals, height, unreach, lt))
                _pop_vals(vals, height, unreach, dt)
                del vals[height:]
                unreach = frame[UNREACH] = True

            elif op == 0x11:  # call_indirect
                tidx, pos = _u32(code, pos)
                table, pos = _u32(code, pos)
                if table >= len(ctx.table_types):
                    raise _Invalid(f"unknown table {table}")
                if tidx >= ntypes:
                    raise _Invalid(f"unknown type {tidx}")
                if ctx.table_types[table] != FUNCREF:
                    raise _Invalid("type mismatch")
                _pop(vals, height, unreach, I32)
                ps, rs = type_sigs[tidx]
                _check_vals(vals, height, unreach, ps)
                vals.extend(rs)

            elif op == 0x1B:  # select (untyped: numeric operands only)
                _pop(vals, height, unreach, I32)
                t1 = _pop(vals, height, unreach, UNKNOWN)
                t2 = _pop(vals, height, unreach, UNKNOWN)
                if t1 not in _NUM_OR_UNKNOWN or t2 not in _NUM_OR_UNKNOWN:
                    raise _Invalid("type mismatch")
                if t1 != t2 and t1 != UNKNOWN and t2 != UNKNOWN:
                    raise _Invalid("type mismatch")
                vals.append(t2 if t1 == UNKNOWN else t1)

            elif op == 0x1C:  # select t*
                count_at = pos
                count, pos = _u32(code, pos)
                if count > end - pos:
                    raise _Malformed("length out of bounds", count_at)
                types = []
                for _ in range(count):
                    t = code[pos]
                    if t not in _VALTYPE_BYTES:
                        _bad_valtype(t, pos)
                    pos += 1
                    types.append(t)
                if len(types) != 1:
                    raise _Invalid("invalid result arity")
                t = types[0]
                _pop(vals, height, unreach, I32)
                _pop(vals, height, unreach, t)
                _pop(vals, height, unreach, t)
                vals.append(t)

            elif op == 0x25 or op == 0x26:  # table.get, table.set
                table, pos = _u32(code, pos)
                if table >= len(ctx.table_types):
                    raise _Invalid(f"unknown table {table}")
                t = ctx.table_types[table]
                if op == 0x25:
                    _pop(vals, height, unreach, I32)
                    vals.append(t)
                else:
                    _pop(vals, height, unreach, t)
                    _pop(vals, height, unreach, I32)

            elif op == 0x3F or op == 0x40:  # memory.size, memory.grow
                if code[pos] != 0:
                    raise _Malformed("zero byte expected", pos)
                pos += 1
                if not has_memory:
                    raise _Invalid("unknown memory 0")
                if op == 0x40:
                    _pop(vals, height, unreach, I32)
                vals.append(I32)

            elif op == 0xD0:  # ref.null t
                t = code[pos]
                if t not in _REFTYPE_BYTES:
                    raise _Malformed("malformed reference type", pos)
                pos += 1
                vals.append(t)

            elif op == 0xD1:  # ref.is_null
                t = _pop(vals, height, unreach, UNKNOWN)
                if t not in _REF_OR_UNKNOWN:
                    raise _Invalid("type mismatch")
                vals.append(I32)

            elif op == 0xD2:  # ref.func
                idx, pos = _u32(code, pos)
                if idx >= nfuncs:
                    raise _Invalid(f"unknown function {idx}")
                if idx not in ctx.declared:
                    raise _Invalid("undeclared function reference")
                vals.append(FUNCREF)

            elif op == 0xFC:
                sub, pos = _u32(code, pos)
                pos = _validate_fc(ctx, code, pos, at, sub, vals, height, unreach)

            elif op == 0xFD:
                raise UnsupportedError("SIMD is not supported yet", base + at)

            else:
                raise _Malformed(f"illegal opcode 0x{op:02x}", at)

    except _Invalid as exc:
        raise ValidationError(exc.message, base + at, func_index) from None
    except _Unsupported as exc:
        raise UnsupportedError(exc.message, base + exc.pos) from None
    except _Malformed as exc:
        raise DecodeError(exc.message, base + exc.pos) from None
    except IndexError:
        message = "END opcode expected" if at >= end else "unexpected end"
        raise DecodeError(message, base + end) from None


def _bad_valtype(t: int, pos: int) -> None:
    if t == V128:
        raise _Unsupported("SIMD is not supported yet", pos)
    raise _Malformed("malformed value type", pos)


def _block_type(
    code: bytes, pos: int, type_sigs: list[tuple[list[int], list[int]]], ntypes: int
) -> tuple[tuple[list[int], list[int]], int]:
    """A block type that is not ``0x40`` or a value type: a type index (s33)."""
    if code[pos] == V128:
        raise _Unsupported("SIMD is not supported yet", pos)
    idx, npos = _signed(code, pos, 33)
    if idx < 0:
        raise _Malformed("malformed value type", pos)
    if idx >= ntypes:
        raise _Invalid(f"unknown type {idx}")
    return type_sigs[idx], npos


def _validate_fc(
    ctx: _Context,
    code: bytes,
    pos: int,
    at: int,
    sub: int,
    vals: list[int],
    height: int,
    unreach: bool,
) -> int:
    """The 0xFC-prefixed instructions; returns the position after them."""
    if sub in _TRUNC_SAT:
        t, r = _TRUNC_SAT[sub]
        _pop(vals, height, unreach, t)
        vals.append(r)
        return pos
    if sub == 8 or sub == 9:  # memory.init, data.drop
        if not ctx.data_count_ok:
            raise _Malformed("data count section required", at)
        idx, pos = _u32(code, pos)
        if sub == 8:
            if code[pos] != 0:
                raise _Malformed("zero byte expected", pos)
            pos += 1
        if sub == 8 and not ctx.has_memory:
            raise _Invalid("unknown memory 0")
        if idx >= ctx.num_datas:
            raise _Invalid(f"unknown data segment {idx}")
        if sub == 8:
            _pop3_i32(vals, height, unreach)
        return pos
    if sub == 10 or sub == 11:  # memory.copy, memory.fill
        for _ in range(2 if sub == 10 else 1):
            if code[pos] != 0:
                raise _Malformed("zero byte expected", pos)
            pos += 1
        if not ctx.has_memory:
            raise _Invalid("unknown memory 0")
        _pop3_i32(vals, height, unreach)
        return pos
    tables = ctx.table_types
    if sub == 12:  # table.init elem table
        elem, pos = _u32(code, pos)
        table, pos = _u32(code, pos)
        if table >= len(tables):
            raise _Invalid(f"unknown table {table}")
        if elem >= len(ctx.elem_types):
            raise _Invalid(f"unknown elem segment {elem}")
        if ctx.elem_types[elem] != tables[table]:
            raise _Invalid("type mismatch")
        _pop3_i32(vals, height, unreach)
        return pos
    if sub == 13:  # elem.drop
        elem, pos = _u32(code, pos)
        if elem >= len(ctx.elem_types):
            raise _Invalid(f"unknown elem segment {elem}")
        return pos
    if sub == 14:  # table.copy dst src
        dst, pos = _u32(code, pos)
        src, pos = _u32(code, pos)
        for table in (dst, src):
            if table >= len(tables):
                raise _Invalid(f"unknown table {table}")
        if tables[dst] != tables[src]:
            raise _Invalid("type mismatch")
        _pop3_i32(vals, height, unreach)
        return pos
    if 15 <= sub <= 17:  # table.grow, table.size, table.fill
        table, pos = _u32(code, pos)
        if table >= len(tables):
            raise _Invalid(f"unknown table {table}")
        t = tables[table]
        if sub == 15:
            _pop(vals, height, unreach, I32)
            _pop(vals, height, unreach, t)
        elif sub == 17:
            _pop(vals, height, unreach, I32)
            _pop(vals, height, unreach, t)
            _pop(vals, height, unreach, I32)
            return pos
        vals.append(I32)
        return pos
    raise _Malformed(f"illegal opcode 0xfc 0x{sub:x}", at)


def _pop3_i32(vals: list[int], height: int, unreach: bool) -> None:
    _pop(vals, height, unreach, I32)
    _pop(vals, height, unreach, I32)
    _pop(vals, height, unreach, I32)


# -- module-level rules ---------------------------------------------------------


def _check_limits(limits: Limits, bound: int, too_big: str, offset: int) -> None:
    if limits.min > bound or (limits.max is not None and limits.max > bound):
        raise ValidationError(too_big, offset)
    if limits.max is not None and limits.min > limits.max:
        raise ValidationError("size minimum must not be greater than maximum", offset)


_MEMORY_TOO_BIG = "memory size must be at most 65536 pages (4GiB)"
_TABLE_TOO_BIG = "table size must be at most 2^32-1"


def _const_expr_type(
    module: ModuleDef, expr: ConstExpr, nfuncs: int, expect: int, what: str = ""
) -> None:
    """Check that ``expr`` is constant and has the single result ``expect``."""
    stack: list[int] = []
    for op, imm in expr.instrs:
        if op == 0x41:
            stack.append(I32)
        elif op == 0x42:
            stack.append(I64)
        elif op == 0x43:
            stack.append(F32)
        elif op == 0x44:
            stack.append(F64)
        elif op == 0xD0:
            stack.append(int(imm))  # type: ignore[call-overload]
        elif op == 0xD2:
            idx = int(imm)  # type: ignore[call-overload]
            if idx >= nfuncs:
                raise ValidationError(f"unknown function {idx}", expr.offset)
            stack.append(FUNCREF)
        elif op == 0x23:
            idx = int(imm)  # type: ignore[call-overload]
            # NB: Wasm 2.0 lets constant expressions read imported globals only.
            if idx >= module.num_imported_globals or idx >= len(module.globals):
                raise ValidationError(f"unknown global {idx}", expr.offset)
            gt = module.globals[idx]
            if gt.mutable:
                raise ValidationError("constant expression required", expr.offset)
            stack.append(int(gt.valtype))
        else:
            raise ValidationError("constant expression required", expr.offset)
    if stack != [expect]:
        raise ValidationError("type mismatch", expr.offset)


def _ref_funcs(exprs: Sequence[ConstExpr]) -> list[int]:
    out = []
    for expr in exprs:
        for op, imm in expr.instrs:
            if op == 0xD2:
                out.append(int(imm))  # type: ignore[call-overload]
    return out


def _declared_funcs(module: ModuleDef) -> frozenset[int]:
    """Functions ``ref.func`` may name: in elems, exports or global inits."""
    declared: set[int] = set()
    for seg in module.elems:
        declared.update(_ref_funcs(seg.init))
    declared.update(_ref_funcs([g.init for g in module.global_defs]))
    declared.update(e.index for e in module.exports if e.kind == ExternKind.FUNC)
    return frozenset(declared)


def _validate_module_fields(module: ModuleDef) -> None:
    ntypes = len(module.types)
    nfuncs = len(module.func_type_indices)

    for imp in module.imports:
        if imp.kind == ExternKind.FUNC and (
            not isinstance(imp.desc, int) or not 0 <= imp.desc < ntypes
        ):
            raise ValidationError(f"unknown type {imp.desc}", imp.offset)
    nimported_funcs = module.num_imported_funcs
    for i, tidx in enumerate(module.func_type_indices):
        if not 0 <= tidx < ntypes:
            offset = 0
            if i >= nimported_funcs and i - nimported_funcs < len(module.bodies):
                offset = module.bodies[i - nimported_funcs].offset
            raise ValidationError(f"unknown type {tidx}", offset)

    for table in module.tables:
        _check_limits(table.limits, 0xFFFFFFFF, _TABLE_TOO_BIG, 0)
    for memory in module.memories:
        _check_limits(memory.limits, MAX_PAGES, _MEMORY_TOO_BIG, 0)
    if len(module.memories) > 1:
        raise ValidationError("multiple memories", 0)

    for gdef in module.global_defs:
        _const_expr_type(module, gdef.init, nfuncs, int(gdef.type.valtype))

    ntables = len(module.tables)
    for seg in module.elems:
        et = int(seg.elem_type)
        for item in seg.init:
            _const_expr_type(module, item, nfuncs, et)
        if seg.mode == SegmentMode.ACTIVE:
            if seg.table >= ntables:
                raise ValidationError(f"unknown table {seg.table}", seg.offset)
            if int(module.tables[seg.table].elem) != et:
                raise ValidationError("type mismatch", seg.offset)
            if seg.offset_expr is None:
                raise ValidationError("constant expression required", seg.offset)
            _const_expr_type(module, seg.offset_expr, nfuncs, I32)

    for data in module.datas:
        if data.mode == SegmentMode.ACTIVE:
            if data.memory >= len(module.memories):
                raise ValidationError(f"unknown memory {data.memory}", data.offset)
            if data.offset_expr is None:
                raise ValidationError("constant expression required", data.offset)
            _const_expr_type(module, data.offset_expr, nfuncs, I32)
    if module.data_count is not None and module.data_count != len(module.datas):
        raise DecodeError("data count and data section have inconsistent lengths", 0)

    if module.start is not None:
        if not 0 <= module.start < nfuncs:
            raise ValidationError(f"unknown function {module.start}", 0)
        if module.func_type(module.start) != FuncType((), ()):
            raise ValidationError("start function", 0)

    counts = {
        ExternKind.FUNC: ("function", nfuncs),
        ExternKind.TABLE: ("table", ntables),
        ExternKind.MEMORY: ("memory", len(module.memories)),
        ExternKind.GLOBAL: ("global", len(module.globals)),
    }
    names: set[str] = set()
    for export in module.exports:
        if export.name in names:
            raise ValidationError("duplicate export name", 0)
        names.add(export.name)
        what, count = counts[export.kind]
        if not 0 <= export.index < count:
            raise ValidationError(f"unknown {what} {export.index}", 0)


def validate(module: ModuleDef) -> None:
    """Check that ``module`` is valid; raise ``ValidationError`` if it is not.

    Also raises ``DecodeError`` for the few malformations only visible here
    (instruction bytes of function bodies, a missing data count section).
    """
    try:
        _validate_module_fields(module)
        ctx = _Context(module, _declared_funcs(module))
        raw = module.raw
        for body in module.bodies:
            local_types = [int(t) for t in body.locals]
            _validate_body(
                ctx,
                raw[body.code_start : body.code_end],
                body.code_start,
                body.func_index,
                local_types,
            )
    except ValidationError:
        # NB: a malformed module is malformed even where it is also invalid
        # (decoding comes first in the specification), and the fused body
        # loop stops at the first invalid instruction.  Before reporting
        # "invalid", walk every body with the decoder's instruction reader,
        # which raises DecodeError for malformed bytes anywhere.
        for body in module.bodies:
            for _ in iter_body(module, body):
                pass
        raise
