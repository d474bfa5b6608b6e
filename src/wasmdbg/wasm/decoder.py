"""The module decoder: Wasm 2.0 binary bytes -> :class:`ModuleDef`.

This module owns the section structure of the binary format: the header,
section ids, order and sizes, and the contents of every section (types,
imports, functions, tables, memories, globals, exports, start, element
segments in all eight forms, data count, code, data) plus custom sections,
which are kept verbatim wherever they appear.  The ``name`` custom section is
handed to ``wasm.names``.

Section order (custom sections, id 0, may appear anywhere)::

    type(1) import(2) function(3) table(4) memory(5) global(6) export(7)
    start(8) element(9) datacount(12) code(10) data(11)

Function bodies are *not* decoded into instructions here: each
:class:`FunctionBody` records its locals and where its code lies; the
validator and compiler walk it with ``wasm.code.iter_body``.  The decoder
only checks, cheaply, that each body ends with an ``end`` byte.  Errors that
lie deeper inside a body (an illegal opcode, a non-zero reserved byte, a
``memory.init`` without a data count section) surface as
:class:`~wasmdbg.errors.DecodeError` when the body is walked, i.e. during
validation, or here if ``decode_module(data, check_bodies=True)``.
"""

from __future__ import annotations

from ..errors import DecodeError
from .code import iter_body, iter_instructions, read_const_expr
from .module import (
    ConstExpr,
    CustomSection,
    DataSegment,
    ElemSegment,
    Export,
    FunctionBody,
    GlobalDef,
    Import,
    ModuleDef,
    SegmentMode,
)
from .names import parse_name_section
from .reader import Reader
from .types import ExternKind, FuncType, GlobalType, Limits, MemoryType, TableType, ValType

__all__ = ["MAGIC", "MAX_LOCALS", "VERSION", "decode_module"]

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

#: Implementation limit on declared locals per function (the one wasmparser uses).
MAX_LOCALS = 50_000

# Rank of each non-custom section id in the required order.
_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}

_REF_FUNC = 0xD2


def decode_module(data: bytes, *, check_bodies: bool = False) -> ModuleDef:
    """Decode a binary module.

    Raises :class:`~wasmdbg.errors.DecodeError` (with the byte offset) for a
    malformed binary.  With ``check_bodies`` every function body is also
    walked once so that malformed instructions are reported here rather
    than by the validator.
    """
    module = _Decoder(bytes(data)).decode()
    if check_bodies:
        for body in module.bodies:
            for _ in iter_body(module, body):
                pass
    return module


class _Decoder:
    """One decoding run: the module being built and the per-section readers."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.m = ModuleDef(raw=data)
        self.func_section_types: list[int] | None = None
        self.code_count: int | None = None

    # -- framing ------------------------------------------------------------

    def decode(self) -> ModuleDef:
        data = self.data
        if len(data) < 4:
            raise DecodeError("unexpected end", len(data))
        if data[:4] != MAGIC:
            raise DecodeError("magic header not detected", 0)
        if len(data) < 8:
            raise DecodeError("unexpected end", len(data))
        if data[4:8] != VERSION:
            raise DecodeError("unknown binary version", 4)
        r = Reader(data, 8)
        last_rank = 0
        while not r.at_end():
            id_pos = r.pos
            section_id = r.byte()
            if section_id != 0 and section_id not in _ORDER:
                raise DecodeError("malformed section id", id_pos)
            size_pos = r.pos
            size = r.u32()
            if size > r.remaining:
                raise DecodeError("length out of bounds", size_pos)
            s = r.sub(size)
            if section_id == 0:
                self.custom(s)
                continue
            rank = _ORDER[section_id]
            if rank <= last_rank:
                raise DecodeError("unexpected content after last section", id_pos)
            last_rank = rank
            _SECTIONS[section_id](self, s)
            if not s.at_end():
                raise DecodeError("section size mismatch", s.pos)
        self.finish()
        return self.m

    def finish(self) -> None:
        m = self.m
        nfuncs = len(self.func_section_types or ())
        if nfuncs != (self.code_count or 0):
            raise DecodeError("function and code section have inconsistent lengths", len(m.raw))
        if m.data_count is not None and m.data_count != len(m.datas):
            raise DecodeError("data count and data section have inconsistent lengths", len(m.raw))
        for c in m.customs:
            if c.name == "name":
                m.names = parse_name_section(m.raw, c.offset, c.offset + len(c.data))
                break

    # -- shared pieces --------------------------------------------------------

    def limits(self, r: Reader) -> Limits:
        pos = r.pos
        flag = r.byte()
        if flag & 0x80:
            raise DecodeError("integer representation too long", pos)
        if flag > 1:
            raise DecodeError("integer too large", pos)
        lo = r.u32()
        hi = r.u32() if flag == 1 else None
        return Limits(lo, hi)

    def table_type(self, r: Reader) -> TableType:
        elem = r.reftype()
        return TableType(elem, self.limits(r))

    def global_type(self, r: Reader) -> GlobalType:
        t = r.valtype()
        pos = r.pos
        mut = r.byte()
        if mut > 1:
            raise DecodeError("malformed mutability", pos)
        return GlobalType(t, mut == 1)

    def const_expr(self, r: Reader) -> ConstExpr:
        start = r.pos
        instrs, r.pos = read_const_expr(r.data, start, r.end)
        return ConstExpr(instrs, start)

    def func_index_exprs(self, r: Reader) -> tuple[ConstExpr, ...]:
        n = r.count()
        out = []
        for _ in range(n):
            pos = r.pos
            out.append(ConstExpr(((_REF_FUNC, r.u32()),), pos))
        return tuple(out)

    def expr_vec(self, r: Reader) -> tuple[ConstExpr, ...]:
        n = r.count()
        return tuple(self.const_expr(r) for _ in range(n))

    def elem_kind(self, r: Reader) -> ValType:
        pos = r.pos
        if r.byte() != 0x00:
            raise DecodeError("malformed element kind", pos)
        return ValType.FUNCREF

    # -- sections -------------------------------------------------------------

    def custom(self, r: Reader) -> None:
        name = r.name()
        payload = r.pos
        self.m.customs.append(CustomSection(name, r.take(r.remaining), payload))

    def type_section(self, r: Reader) -> None:
        types = self.m.types
        for _ in range(r.count()):
            pos = r.pos
            if r.byte() != 0x60:
                raise DecodeError("malformed function type", pos)
            params = tuple(r.valtype() for _ in range(r.count()))
            results = tuple(r.valtype() for _ in range(r.count()))
            types.append(FuncType(params, results))

    def import_section(self, r: Reader) -> None:
        m = self.m
        for _ in range(r.count()):
            pos = r.pos
            module_name = r.name()
            field = r.name()
            kind_pos = r.pos
            kind = r.byte()
            desc: int | TableType | MemoryType | GlobalType
            if kind == ExternKind.FUNC:
                desc = r.u32()
                m.func_type_indices.append(desc)
                m.num_imported_funcs += 1
            elif kind == ExternKind.TABLE:
                desc = self.table_type(r)
                m.tables.append(desc)
                m.num_imported_tables += 1
            elif kind == ExternKind.MEMORY:
                desc = MemoryType(self.limits(r))
                m.memories.append(desc)
                m.num_imported_memories += 1
            elif kind == ExternKind.GLOBAL:
                desc = self.global_type(r)
                m.globals.append(desc)
                m.num_imported_globals += 1
            else:
                raise DecodeError("malformed import kind", kind_pos)
            m.imports.append(Import(module_name, field, ExternKind(kind), desc, pos))

    def function_section(self, r: Reader) -> None:
        indices = [r.u32() for _ in range(r.count())]
        self.func_section_types = indices
        self.m.func_type_indices.extend(indices)

    def table_section(self, r: Reader) -> None:
        for _ in range(r.count()):
            self.m.tables.append(self.table_type(r))

    def memory_section(self, r: Reader) -> None:
        for _ in range(r.count()):
            self.m.memories.append(MemoryType(self.limits(r)))

    def global_section(self, r: Reader) -> None:
        m = self.m
        for _ in range(r.count()):
            gt = self.global_type(r)
            m.globals.append(gt)
            m.global_defs.append(GlobalDef(gt, self.const_expr(r)))

    def export_section(self, r: Reader) -> None:
        for _ in range(r.count()):
            name = r.name()
            pos = r.pos
            kind = r.byte()
            if kind > 3:
                raise DecodeError("malformed export kind", pos)
            self.m.exports.append(Export(name, ExternKind(kind), r.u32()))

    def start_section(self, r: Reader) -> None:
        self.m.start = r.u32()

    def element_section(self, r: Reader) -> None:
        for _ in range(r.count()):
            self.m.elems.append(self.elem_segment(r))

    def elem_segment(self, r: Reader) -> ElemSegment:
        pos = r.pos
        flags = r.u32()
        table = 0
        offset_expr: ConstExpr | None = None
        if flags > 7:
            raise DecodeError("malformed elements segment kind", pos)
        # Bit 0: passive/declarative (else active); bit 1: explicit table index
        # when active, declarative when not; bit 2: expressions, not indices.
        # Forms 0 and 4 (active, table 0) have no element kind or type byte:
        # their elements are funcref.
        if flags & 1:
            mode = SegmentMode.DECLARATIVE if flags & 2 else SegmentMode.PASSIVE
        else:
            mode = SegmentMode.ACTIVE
            if flags & 2:
                table = r.u32()
            offset_expr = self.const_expr(r)
        typed = flags & 3 != 0
        if flags & 4:
            elem_type = r.reftype() if typed else ValType.FUNCREF
            init = self.expr_vec(r)
        else:
            elem_type = self.elem_kind(r) if typed else ValType.FUNCREF
            init = self.func_index_exprs(r)
        return ElemSegment(mode, elem_type, init, table, offset_expr, pos)

    def data_count_section(self, r: Reader) -> None:
        self.m.data_count = r.u32()

    def code_section(self, r: Reader) -> None:
        m = self.m
        m.code_offset = r.pos
        n = r.count()
        self.code_count = n
        nfuncs = len(self.func_section_types or ())
        if n != nfuncs:
            raise DecodeError("function and code section have inconsistent lengths", r.pos)
        first = m.num_imported_funcs
        types = self.func_section_types or []
        for i in range(n):
            entry = r.pos
            size = r.u32()
            body = r.sub(size)
            locals_ = self.locals(body)
            if body.at_end():
                raise DecodeError("unexpected end of section or function", body.pos)
            if body.data[body.end - 1] != 0x0B:
                # Walk the body for the precise error (an over-long LEB ...);
                # if the walk somehow succeeds, the missing end is the error.
                for _ in iter_instructions(body.data, body.pos, body.end):
                    pass
                raise DecodeError("END opcode expected", body.end - 1)
            m.bodies.append(FunctionBody(first + i, types[i], locals_, entry, body.pos, body.end))

    def locals(self, r: Reader) -> tuple[ValType, ...]:
        groups = []
        total = 0
        for _ in range(r.count()):
            pos = r.pos
            n = r.u32()
            t = r.valtype()
            total += n
            if total > 0xFFFF_FFFF:
                raise DecodeError("too many locals", pos)
            groups.append((n, t))
        if total > MAX_LOCALS:
            raise DecodeError(
                f"too many locals ({total}; wasmdbg allows {MAX_LOCALS} per function)", r.pos
            )
        out: list[ValType] = []
        for n, t in groups:
            out.extend([t] * n)
        return tuple(out)

    def data_section(self, r: Reader) -> None:
        for _ in range(r.count()):
            pos = r.pos
            flags = r.u32()
            # 0: active in memory 0; 1: passive; 2: active, explicit memory.
            if flags > 2:
                raise DecodeError("malformed data segment kind", pos)
            expr: ConstExpr | None = None
            if flags == 1:
                mode, mem = SegmentMode.PASSIVE, 0
            else:
                mode = SegmentMode.ACTIVE
                mem = r.u32() if flags == 2 else 0
                expr = self.const_expr(r)
            self.m.datas.append(DataSegment(mode, r.byte_vec(), mem, expr, pos))


_SECTIONS = {
    1: _Decoder.type_section,
    2: _Decoder.import_section,
    3: _Decoder.function_section,
    4: _Decoder.table_section,
    5: _Decoder.memory_section,
    6: _Decoder.global_section,
    7: _Decoder.export_section,
    8: _Decoder.start_section,
    9: _Decoder.element_section,
    10: _Decoder.code_section,
    11: _Decoder.data_section,
    12: _Decoder.data_count_section,
}
