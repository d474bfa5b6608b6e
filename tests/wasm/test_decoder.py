"""Tests of wasm.decoder (and wasm.names): hand-built sections and the spec suite."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest
from wasm_builder import body, func_type, module, name, one_func, section, uleb, vec

from wasmdbg.errors import DecodeError, UnsupportedError, ValidationError
from wasmdbg.wasm.code import iter_body
from wasmdbg.wasm.decoder import MAX_LOCALS, decode_module
from wasmdbg.wasm.module import ConstExpr, SegmentMode
from wasmdbg.wasm.types import (
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF
I32_CONST_0 = b"\x41\x00\x0b"


def malformed(data: bytes, message: str | None = None) -> DecodeError:
    with pytest.raises(DecodeError) as ei:
        decode_module(data, check_bodies=True)
    if message is not None:
        assert ei.value.message == message
    return ei.value


# -- header and framing -------------------------------------------------------


def test_empty_module() -> None:
    m = decode_module(b"\x00asm\x01\x00\x00\x00")
    assert m.types == [] and m.bodies == [] and m.start is None and m.data_count is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "unexpected end"),
        (b"\x00as", "unexpected end"),
        (b"\x00asm\x01\x00", "unexpected end"),
        (b"asm\x00\x01\x00\x00\x00", "magic header not detected"),
        (b"\x00asm\x02\x00\x00\x00", "unknown binary version"),
        (b"\x00asm\x01\x00\x00\x00\x0d\x00", "malformed section id"),
        (b"\x00asm\x01\x00\x00\x00\x01\x05\x00", "length out of bounds"),
    ],
)
def test_header_errors(data: bytes, message: str) -> None:
    malformed(data, message)


def test_section_order_and_duplicates() -> None:
    types = section(1, vec([func_type()]))
    malformed(module(types, types), "unexpected content after last section")
    malformed(module(section(3, vec([])), types), "unexpected content after last section")
    # data count goes between element and code sections
    malformed(
        module(section(10, vec([])), section(12, uleb(0))), "unexpected content after last section"
    )
    decode_module(module(section(9, vec([])), section(12, uleb(0)), section(10, vec([]))))


def test_section_size_mismatch() -> None:
    malformed(module(section(1, vec([func_type()]) + b"\x60\x00\x00")), "section size mismatch")


def test_custom_sections_anywhere() -> None:
    c1 = section(0, name("a") + b"\x01\x02")
    c2 = section(0, name(".debug_info") + b"xyz")
    data = module(c1, section(1, vec([func_type()])), c2)
    m = decode_module(data)
    assert [(c.name, c.data) for c in m.customs] == [("a", b"\x01\x02"), (".debug_info", b"xyz")]
    for c in m.customs:
        assert data[c.offset : c.offset + len(c.data)] == c.data
    assert m.debug_sections() == {".debug_info": b"xyz"}
    malformed(module(section(0, b"\x02\xff\xfe")), "malformed UTF-8 encoding")
    malformed(module(section(0, b"")))


# -- type, import, function, table, memory, global, export, start ----------------


def test_type_section() -> None:
    m = decode_module(
        module(
            section(
                1,
                vec(
                    [
                        func_type(),
                        func_type(b"\x7f\x7e", b"\x7d"),
                        func_type(b"\x6f\x70", b"\x7c\x7f"),
                    ]
                ),
            )
        )
    )
    assert m.types == [
        FuncType((), ()),
        FuncType((I32, I64), (F32,)),
        FuncType((EXTERNREF, FUNCREF), (F64, I32)),
    ]
    malformed(module(section(1, vec([b"\x61\x00\x00"]))))
    malformed(module(section(1, vec([b"\x60\x01\x40\x00"]))), "malformed value type")
    with pytest.raises(UnsupportedError):
        decode_module(module(section(1, vec([b"\x60\x01\x7b\x00"]))))


def test_imports_come_first_in_index_spaces() -> None:
    imports = vec(
        [
            name("env") + name("f") + b"\x00\x00",
            name("env") + name("t") + b"\x01\x70\x01\x01\x0a",
            name("env") + name("m") + b"\x02\x00\x02",
            name("env") + name("g") + b"\x03\x7e\x01",
        ]
    )
    data = module(
        section(1, vec([func_type(), func_type(b"\x7f")])),
        section(2, imports),
        section(3, vec([b"\x01"])),
        section(4, vec([b"\x6f\x00\x03"])),
        section(5, vec([b"\x01\x01\x02"])),
        section(6, vec([b"\x7f\x00" + I32_CONST_0])),
        section(10, vec([body(b"\x0b")])),
    )
    m = decode_module(data)
    assert m.func_type_indices == [0, 1]
    assert m.tables == [TableType(FUNCREF, Limits(1, 10)), TableType(EXTERNREF, Limits(3))]
    assert m.memories == [MemoryType(Limits(2)), MemoryType(Limits(1, 2))]
    assert m.globals == [GlobalType(I64, True), GlobalType(I32, False)]
    assert (m.num_imported_funcs, m.num_imported_tables) == (1, 1)
    assert (m.num_imported_memories, m.num_imported_globals) == (1, 1)
    assert [(i.module, i.name, i.kind) for i in m.imports] == [
        ("env", "f", ExternKind.FUNC),
        ("env", "t", ExternKind.TABLE),
        ("env", "m", ExternKind.MEMORY),
        ("env", "g", ExternKind.GLOBAL),
    ]
    assert m.imports[0].desc == 0 and m.imports[3].desc == GlobalType(I64, True)
    assert data[m.imports[0].offset] == 3  # the module name's length byte
    assert m.global_defs[0].init.instrs == ((0x41, 0),)
    assert m.bodies[0].func_index == 1 and m.bodies[0].type_index == 1
    assert m.func_type(1) == FuncType((I32,), ())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (b"\x04", "malformed import kind"),
        (b"\x80\x00", "malformed import kind"),
        (b"\x03\x7f\x02", "malformed mutability"),
        (b"\x02\x02\x00", "integer too large"),
        (b"\x02\x81\x00\x00", "integer representation too long"),
        (b"\x01\x7f\x00\x00", "malformed reference type"),
    ],
)
def test_import_errors(entry: bytes, message: str) -> None:
    malformed(module(section(2, vec([name("a") + name("b") + entry]))), message)


def test_limits_max_is_u32() -> None:
    m = decode_module(module(section(5, vec([b"\x01\x00" + uleb(2**32 - 1)]))))
    assert m.memories[0].limits == Limits(0, 2**32 - 1)
    malformed(module(section(5, vec([b"\x00" + b"\x80\x80\x80\x80\x10"]))), "integer too large")


def test_exports_and_start() -> None:
    data = module(
        section(1, vec([func_type()])),
        section(3, vec([b"\x00"])),
        section(7, vec([name("main") + b"\x00\x00", name("π") + b"\x03\x00"])),
        section(8, uleb(0)),
        section(10, vec([body(b"\x0b")])),
    )
    m = decode_module(data)
    assert [(e.name, e.kind, e.index) for e in m.exports] == [
        ("main", ExternKind.FUNC, 0),
        ("π", ExternKind.GLOBAL, 0),
    ]
    assert m.start == 0
    malformed(module(section(7, vec([name("x") + b"\x04\x00"]))), "malformed export kind")


# -- element segments: all eight forms ------------------------------------------


def _elem_module(segment: bytes) -> bytes:
    return module(
        section(1, vec([func_type()])),
        section(3, vec([b"\x00", b"\x00"])),
        section(4, vec([b"\x70\x00\x0a", b"\x70\x00\x0a"])),
        section(9, vec([segment])),
        section(10, vec([body(b"\x0b"), body(b"\x0b")])),
    )


REF_FUNC_1 = b"\xd2\x01\x0b"
REF_NULL = b"\xd0\x70\x0b"
ELEM_CASES = [
    # flags, encoding after flags, mode, table, has offset, elem type, init
    (
        0,
        I32_CONST_0 + vec([b"\x00", b"\x01"]),
        SegmentMode.ACTIVE,
        0,
        True,
        FUNCREF,
        [((0xD2, 0),), ((0xD2, 1),)],
    ),
    (1, b"\x00" + vec([b"\x01"]), SegmentMode.PASSIVE, 0, False, FUNCREF, [((0xD2, 1),)]),
    (
        2,
        b"\x01" + I32_CONST_0 + b"\x00" + vec([b"\x00"]),
        SegmentMode.ACTIVE,
        1,
        True,
        FUNCREF,
        [((0xD2, 0),)],
    ),
    (
        3,
        b"\x00" + vec([b"\x00", b"\x01"]),
        SegmentMode.DECLARATIVE,
        0,
        False,
        FUNCREF,
        [((0xD2, 0),), ((0xD2, 1),)],
    ),
    (
        4,
        I32_CONST_0 + vec([REF_FUNC_1, REF_NULL]),
        SegmentMode.ACTIVE,
        0,
        True,
        FUNCREF,
        [((0xD2, 1),), ((0xD0, FUNCREF),)],
    ),
    (5, b"\x70" + vec([REF_NULL]), SegmentMode.PASSIVE, 0, False, FUNCREF, [((0xD0, FUNCREF),)]),
    (
        6,
        b"\x01" + I32_CONST_0 + b"\x70" + vec([REF_FUNC_1]),
        SegmentMode.ACTIVE,
        1,
        True,
        FUNCREF,
        [((0xD2, 1),)],
    ),
    (
        7,
        b"\x6f" + vec([b"\xd0\x6f\x0b"]),
        SegmentMode.DECLARATIVE,
        0,
        False,
        EXTERNREF,
        [((0xD0, EXTERNREF),)],
    ),
]


@pytest.mark.parametrize(
    ("flags", "enc", "mode", "table", "has_offset", "elem_type", "init"),
    ELEM_CASES,
    ids=[f"form{c[0]}" for c in ELEM_CASES],
)
def test_element_segment_forms(
    flags: int,
    enc: bytes,
    mode: SegmentMode,
    table: int,
    has_offset: bool,
    elem_type: ValType,
    init: list[tuple[tuple[int, object], ...]],
) -> None:
    data = _elem_module(uleb(flags) + enc)
    m = decode_module(data, check_bodies=True)
    (seg,) = m.elems
    assert (seg.mode, seg.table, seg.elem_type) == (mode, table, elem_type)
    assert [e.instrs for e in seg.init] == init
    assert all(isinstance(e, ConstExpr) for e in seg.init)
    assert (seg.offset_expr is not None) == has_offset
    if seg.offset_expr is not None:
        assert seg.offset_expr.instrs == ((0x41, 0),)
        assert data[seg.offset_expr.offset] == 0x41
    assert data[seg.offset] == flags
    if flags in (0, 1, 2, 3):  # the ref.func's offset is the function index's byte
        assert data[seg.init[-1].offset] == seg.init[-1].instrs[0][1]


def test_element_segment_errors() -> None:
    malformed(_elem_module(b"\x08" + I32_CONST_0 + vec([])), "malformed elements segment kind")
    malformed(_elem_module(b"\x01\x01" + vec([])), "malformed element kind")
    malformed(_elem_module(b"\x05\x7f" + vec([REF_NULL])), "malformed reference type")
    malformed(_elem_module(b"\x05\x70" + vec([b"\xf3\x00\x0b"])), "illegal opcode")


# -- data count, code, data ------------------------------------------------------


def test_data_segments() -> None:
    data = module(
        section(5, vec([b"\x00\x01"])),
        section(12, uleb(3)),
        section(
            11,
            vec(
                [
                    b"\x00" + I32_CONST_0 + vec([b"a", b"b"]),
                    b"\x01" + uleb(3) + b"xyz",
                    b"\x02\x00" + b"\x41\x08\x0b" + vec([]),
                ]
            ),
        ),
    )
    m = decode_module(data)
    assert m.data_count == 3
    assert [(d.mode, d.data, d.memory) for d in m.datas] == [
        (SegmentMode.ACTIVE, b"ab", 0),
        (SegmentMode.PASSIVE, b"xyz", 0),
        (SegmentMode.ACTIVE, b"", 0),
    ]
    assert m.datas[2].offset_expr is not None and m.datas[2].offset_expr.instrs == ((0x41, 8),)
    assert m.datas[1].offset_expr is None
    malformed(module(section(11, vec([b"\x03"]))), "malformed data segment kind")
    malformed(
        module(section(12, uleb(1)), section(11, vec([]))),
        "data count and data section have inconsistent lengths",
    )
    malformed(module(section(12, uleb(1))), "data count and data section have inconsistent lengths")


def test_code_bodies() -> None:
    code = b"\x20\x00\x1a\x0b"
    data = one_func(code, [(2, 0x7F), (0, 0x7E), (1, 0x7C)])
    m = decode_module(data)
    (b,) = m.bodies
    assert b.locals == (I32, I32, F64)
    assert data[b.code_start : b.code_end] == code
    assert data[b.offset] == len(data) - b.offset - 1  # the size byte
    assert [i.op for i in iter_body(m, b)] == [0x20, 0x1A, 0x0B]


def test_function_and_code_counts() -> None:
    msg = "function and code section have inconsistent lengths"
    malformed(module(section(1, vec([func_type()])), section(3, vec([b"\x00"]))), msg)
    malformed(module(section(10, vec([body(b"\x0b")]))), msg)
    decode_module(module(section(3, vec([]))))
    decode_module(module(section(10, vec([]))))


def test_locals_limits() -> None:
    malformed(one_func(b"\x0b", [(2**32 - 1, 0x7F), (2, 0x7E)]), "too many locals")
    malformed(
        one_func(b"\x0b", [(0x40000000, t) for t in (0x7F, 0x7E, 0x7D, 0x7C)]), "too many locals"
    )
    malformed(one_func(b"\x0b", [(2**32, 0x7F)]), "integer too large")
    m = decode_module(one_func(b"\x0b", [(MAX_LOCALS, 0x7F)]))
    assert len(m.bodies[0].locals) == MAX_LOCALS
    with pytest.raises(DecodeError, match="too many locals"):
        decode_module(one_func(b"\x0b", [(MAX_LOCALS, 0x7F), (1, 0x7E)]))


def test_body_errors() -> None:
    malformed(one_func(b"\x41\x01\x1a"), "END opcode expected")
    malformed(one_func(b""), "unexpected end of section or function")
    # body-level errors surface when bodies are walked
    data = one_func(b"\x3f\x01\x1a\x0b", None, section(5, vec([b"\x00\x00"])))
    decode_module(data)
    malformed(data, "zero byte expected")


def test_data_count_required() -> None:
    mem = section(5, vec([b"\x00\x01"]))
    datas = section(11, vec([b"\x01" + vec([b"x"])]))
    code = b"\xfc\x09\x00\x0b"
    no_dc = module(
        section(1, vec([func_type()])),
        section(3, vec([b"\x00"])),
        mem,
        section(10, vec([body(code)])),
        datas,
    )
    malformed(no_dc, "data count section required")
    with_dc = module(
        section(1, vec([func_type()])),
        section(3, vec([b"\x00"])),
        mem,
        section(12, uleb(1)),
        section(10, vec([body(code)])),
        datas,
    )
    decode_module(with_dc, check_bodies=True)
    # No data segments at all: left to the validator ("unknown data segment").
    decode_module(one_func(code), check_bodies=True)


# -- name section ------------------------------------------------------------------


def _names(payload: bytes) -> bytes:
    return one_func(b"\x0b", [(1, 0x7F)]) + section(0, name("name") + payload)


def test_name_section() -> None:
    payload = (
        b"\x00"
        + uleb(len(name("mod")))
        + name("mod")
        + b"\x01"
        + uleb(len(vec([b"\x00" + name("f")])))
        + vec([b"\x00" + name("f")])
    )
    locals_map = vec([b"\x00" + vec([b"\x00" + name("x")])])
    payload += b"\x02" + uleb(len(locals_map)) + locals_map
    payload += b"\x07" + uleb(2) + b"\xff\xff"  # an unknown subsection is skipped
    m = decode_module(_names(payload))
    assert m.names.module == "mod"
    assert m.names.functions == {0: "f"}
    assert m.names.locals == {0: {0: "x"}}
    assert m.func_name(0) == "f"


@pytest.mark.parametrize(
    "payload",
    [b"\x01\x05\x01", b"\x00\x02\x01\xff", b"\x01\x03\x01\x00\x05", b"\x01\x01\x00\x00\x01\x00"],
)
def test_malformed_name_section_is_ignored(payload: bytes) -> None:
    m = decode_module(_names(payload))
    assert m.names.module is None and m.names.functions == {}
    assert [c.name for c in m.customs] == ["name"]


# -- the spec suite ------------------------------------------------------------------

SPEC_DIR = Path(
    os.environ.get(
        "WASMDBG_SPEC_DIR", Path(__file__).resolve().parents[3] / "shared" / "spec" / "json"
    )
)
needs_spec = pytest.mark.skipif(
    not SPEC_DIR.is_dir(), reason=f"spec suite not found at {SPEC_DIR} (set WASMDBG_SPEC_DIR)"
)


def _spec_commands(kinds: set[str]) -> list[tuple[str, dict[str, object]]]:
    out = []
    for script in sorted(SPEC_DIR.glob("*/*.json")):
        for cmd in json.loads(script.read_text())["commands"]:
            fn = cmd.get("filename", "")
            if cmd["type"] in kinds and fn.endswith(".wasm"):
                out.append((str(script.parent / fn), cmd))
    return out


@needs_spec
def test_spec_modules_decode() -> None:
    """Every well-formed module of the suite decodes, bodies included."""
    kinds = {
        "module",
        "assert_invalid",
        "assert_unlinkable",
        "assert_uninstantiable",
        "assert_trap",
        "assert_exhaustion",
    }
    cmds = _spec_commands(kinds)
    failures = []
    for path, cmd in cmds:
        try:
            decode_module(Path(path).read_bytes(), check_bodies=True)
        except DecodeError as e:
            failures.append(f"{Path(path).name} ({cmd['type']}): {e}")
    assert len([c for c in cmds if c[1]["type"] == "module"]) >= 1126
    assert failures == []


@needs_spec
def test_spec_malformed_binaries_rejected() -> None:
    """Every binary assert_malformed: 694 at decode only, all 719 once bodies are walked."""
    cmds = _spec_commands({"assert_malformed"})
    at_decode = 0
    missed = []
    for path, cmd in cmds:
        data = Path(path).read_bytes()
        try:
            decode_module(data)
        except DecodeError:
            at_decode += 1
            continue
        try:
            decode_module(data, check_bodies=True)
        except DecodeError:
            continue
        missed.append(f"{Path(path).name}: {cmd['text']}")
    assert missed == []
    assert len(cmds) == 719
    assert at_decode >= 694


@needs_spec
def test_spec_malformed_rejected_by_decode_and_validate() -> None:
    """The pipeline the runtime uses (decode, then validate) rejects them as DecodeError."""
    try:
        validator = importlib.import_module("wasmdbg.wasm.validator")
    except ImportError:
        pytest.skip("wasmdbg.wasm.validator not available")
    missed = []
    for path, cmd in _spec_commands({"assert_malformed"}):
        try:
            validator.validate(decode_module(Path(path).read_bytes()))
        except DecodeError:
            continue
        except ValidationError as e:
            missed.append(f"{Path(path).name}: {cmd['text']} -> invalid: {e}")
            continue
        missed.append(f"{Path(path).name}: {cmd['text']} -> accepted")
    assert missed == []
