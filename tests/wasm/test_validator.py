"""Tests of ``wasmdbg.wasm.validator``: one small module per rule, then the spec suite.

Small modules are written in the text format and assembled by
``wasmtime.wat2wasm`` (which does not validate); the few that the text format
cannot express are built byte by byte.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
import wasmtime
from wasm_builder import body, func_type, module, section, vec

from wasmdbg.errors import DecodeError, UnsupportedError, ValidationError
from wasmdbg.wasm.code import iter_body
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.validator import validate

SPEC_JSON = Path(
    os.environ.get(
        "WASMDBG_SPEC_DIR", Path(__file__).resolve().parents[3] / "shared" / "spec" / "json"
    )
)
if SPEC_JSON.is_dir() and (SPEC_JSON / "json").is_dir():
    SPEC_JSON = SPEC_JSON / "json"


# -- helpers ---------------------------------------------------------------------


def _check(wat: str) -> None:
    validate(decode_module(bytes(wasmtime.wat2wasm(wat))))


def _invalid(wat: str, message: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _check(wat)
    assert info.value.message.startswith(message), info.value.message
    return info.value


def _func(body: str, sig: str = "", extra: str = "") -> str:
    return f"(module {extra} (func {sig} {body}))"


def _binary(code: bytes, *, memory: bool = True, data: bytes | None = None) -> bytes:
    """A module with one function ``[] -> []`` whose code (after no locals) is ``code``."""
    sections = [section(1, vec([func_type()])), section(3, vec([b"\x00"]))]
    if memory:
        sections.append(section(5, b"\x01\x00\x01"))
    sections.append(section(10, vec([body(code)])))
    if data is not None:
        sections.append(section(11, data))
    return module(*sections)


# -- valid modules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "wat",
    [
        _func("(i32.add (local.get 0) (i32.const 1))", "(param i32) (result i32)"),
        _func("(block (result i32 i64) (i32.const 1) (i64.const 2)) drop", "(result i32)"),
        # a type-index block type with parameters
        "(module (type $t (func (param i32) (result i32)))"
        " (func (result i32) (i32.const 1) (block (type $t) (i32.const 2) i32.add)))",
        "(module (type $t (func (param i32) (result i32)))"
        " (func (result i32) (i32.const 1) (loop (type $t) (i32.const 0) (br_if 0))))",
        _func(
            "(if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2)))",
            "(param i32) (result i32)",
        ),
        _func("(if (local.get 0) (then nop))", "(param i32)"),
        # unreachable code: the stack is polymorphic
        _func("unreachable i32.add", "(result i32)"),
        _func("unreachable select", "(result i32)"),
        _func("unreachable select i64.eqz", "(result i32)"),
        _func("unreachable ref.is_null", "(result i32)"),
        _func("(block (result i32) unreachable (br_table 0 0))", "(result i32)"),
        _func("(i32.const 1) return i32.add drop", "(result i32)"),
        _func("(block (br 0) i32.add drop)", ""),
        _func(
            "(block (result i32) (block (result i32) (i32.const 1) (local.get 0) (br_table 0 1)))",
            "(param i32) (result i32)",
        ),
        # typed select takes references
        _func(
            "(select (result funcref) (ref.null func) (ref.null func) (local.get 0))",
            "(param i32) (result funcref)",
        ),
        # ref.func of declared functions: elem, export, global initialiser
        "(module (func $f) (elem declare func $f) (func (result funcref) (ref.func $f)))",
        '(module (func $f (export "f")) (func (result funcref) (ref.func $f)))',
        "(module (func $f) (global funcref (ref.func $f)) (func (result funcref) (ref.func $f)))",
        "(module (table 1 funcref) (table 1 externref)"
        " (func (param externref) (table.set 1 (i32.const 0) (local.get 0))"
        " (drop (table.grow 1 (ref.null extern) (i32.const 1)))"
        " (table.fill 1 (i32.const 0) (ref.null extern) (i32.const 1))"
        " (drop (table.size 1)) (drop (table.get 0 (i32.const 0)))))",
        '(module (memory 1) (data $d "x")'
        " (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop $d)))",
        '(module (import "m" "g" (global i32)) (global i32 (global.get 0)))',
        "(module (memory 1 65536))",
        "(module (table 0 1 funcref) (table 0 externref))",
        "(module (func $s) (start $s))",
        _func("(i64.load offset=8 align=8 (i32.const 0)) drop", extra="(memory 1)"),
    ],
)
def test_valid(wat: str) -> None:
    _check(wat)


# -- function bodies -----------------------------------------------------------------


def test_type_mismatch_has_offset_and_function_index() -> None:
    data = wasmtime.wat2wasm(
        "(module (func) (func (result i32) (i32.add (i32.const 1) (i64.const 2))))"
    )
    module = decode_module(bytes(data))
    with pytest.raises(ValidationError) as info:
        validate(module)
    err = info.value
    assert err.message == "type mismatch"
    assert err.func_index == 1
    add = [ins for ins in iter_body(module, module.bodies[1]) if ins.op == 0x6A]
    assert err.offset == add[0].offset


@pytest.mark.parametrize(
    ("wat", "message"),
    [
        (_func("(i32.add (i32.const 1) (i64.const 2))", "(result i32)"), "type mismatch"),
        (_func("i32.const 1", ""), "type mismatch"),
        (_func("", "(result i32)"), "type mismatch"),
        (
            _func("(if (result i32) (i32.const 1) (then (i32.const 1)))", "(result i32)"),
            "type mismatch",
        ),
        (
            _func("(block (result i32) (i32.const 1) (br 0 (i64.const 1)))", "(result i32)"),
            "type mismatch",
        ),
        (
            _func(
                "(block (result i32) (block (result i64) (i64.const 1) (i32.const 0) (br_table 0 1)))"
                " drop (i32.const 1)",
                "(result i32)",
            ),
            "type mismatch",
        ),
        (_func("(block (br 2))", ""), "unknown label"),
        (_func("(select (ref.null func) (ref.null func) (i32.const 1)) drop", ""), "type mismatch"),
        (_func("(ref.is_null (i32.const 1)) drop", ""), "type mismatch"),
        (_func("(local.get 3) drop", "(param i32)"), "unknown local"),
        (_func("(global.get 0) drop", ""), "unknown global"),
        (_func("(call 5)", ""), "unknown function"),
        (
            "(module (func $f) (func (result funcref) (ref.func $f)))",
            "undeclared function reference",
        ),
        (
            "(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))",
            "global is immutable",
        ),
        (_func("(i32.load (i32.const 0)) drop", ""), "unknown memory"),
        (_func("(memory.size) drop", ""), "unknown memory"),
        (
            _func("(i32.load align=8 (i32.const 0)) drop", extra="(memory 1)"),
            "alignment must not be larger than natural",
        ),
        (
            _func("(i64.store8 align=2 (i32.const 0) (i64.const 0))", extra="(memory 1)"),
            "alignment must not be larger than natural",
        ),
        (_func("(call_indirect (i32.const 0))", ""), "unknown table"),
        (
            "(module (table 1 externref) (func (call_indirect (i32.const 0))))",
            "type mismatch",
        ),
        (
            "(module (table 1 externref) (func (table.set 0 (i32.const 0) (ref.null func))))",
            "type mismatch",
        ),
        (
            "(module (table 1 funcref) (elem externref) (func (table.init 0 0 (i32.const 0) (i32.const 0) (i32.const 0))))",
            "type mismatch",
        ),
        (
            "(module (table 1 funcref) (table 1 externref)"
            " (func (table.copy 0 1 (i32.const 0) (i32.const 0) (i32.const 0))))",
            "type mismatch",
        ),
        (_func("(elem.drop 0)", ""), "unknown elem segment"),
        (_func("(table.size 0) drop", ""), "unknown table"),
        ('(module (memory 1) (data "") (func (data.drop 1)))', "unknown data segment"),
        ("(module (type (func)) (func (block (type 3))))", "unknown type"),
    ],
)
def test_invalid_body(wat: str, message: str) -> None:
    err = _invalid(wat, message)
    assert err.func_index is not None


def test_untyped_select_arity() -> None:
    # select with a type vector of length 2 (0x1C 0x02 0x7F 0x7F)
    code = b"\x41\x00\x41\x00\x41\x00\x1c\x02\x7f\x7f\x1a\x0b"
    with pytest.raises(ValidationError, match="invalid result arity"):
        validate(decode_module(_binary(code)))


# -- malformed bytes seen by the validator ---------------------------------------


def test_data_count_required_is_malformed() -> None:
    code = b"\xfc\x09\x00\x0b"  # data.drop 0 with a data segment but no data count
    with pytest.raises(DecodeError, match="data count section required") as info:
        validate(decode_module(_binary(code, data=b"\x01\x01\x00")))
    assert not isinstance(info.value, ValidationError)


def test_data_drop_without_any_data_is_invalid() -> None:
    with pytest.raises(ValidationError, match="unknown data segment"):
        validate(decode_module(_binary(b"\xfc\x09\x00\x0b")))


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (b"\xff\x0b", "illegal opcode"),
        (b"\x41\x80\x80\x80\x80\x80\x00\x1a\x0b", "integer representation too long"),
        (b"\x41\x80\x80\x80\x80\x70\x1a\x0b", "integer too large"),
        (b"\x41\x00\x28\x20\x00\x1a\x0b", "malformed memop flags"),
        (b"\x3f\x01\x1a\x0b", "zero byte expected"),
        (b"\x01", "END opcode expected"),
        (b"\x0b\x01", "section size mismatch"),
    ],
)
def test_malformed_body(code: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as info:
        validate(decode_module(_binary(code)))
    assert not isinstance(info.value, ValidationError)


def test_malformed_wins_over_invalid() -> None:
    # i64.eqz on an i32 (invalid), then an illegal opcode (malformed)
    code = b"\x41\x00\x50\x1a\xff\x0b"
    with pytest.raises(DecodeError, match="illegal opcode"):
        validate(decode_module(_binary(code)))


def test_simd_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        validate(decode_module(_binary(b"\xfd\x0c" + bytes(16) + b"\x1a\x0b")))


# -- module-level rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("wat", "message"),
    [
        ("(module (memory 65537))", "memory size must be at most 65536 pages (4GiB)"),
        ("(module (memory 0 65537))", "memory size must be at most 65536 pages (4GiB)"),
        ("(module (memory 2 1))", "size minimum must not be greater than maximum"),
        ("(module (table 2 1 funcref))", "size minimum must not be greater than maximum"),
        ("(module (memory 1) (memory 1))", "multiple memories"),
        ('(module (import "m" "m" (memory 1)) (memory 1))', "multiple memories"),
        (
            "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))",
            "constant expression required",
        ),
        (
            '(module (import "m" "g" (global (mut i32))) (global i32 (global.get 0)))',
            "constant expression required",
        ),
        ("(module (global i32 (i32.const 0)) (global i32 (global.get 0)))", "unknown global"),
        ("(module (global i32 (i64.const 0)))", "type mismatch"),
        ("(module (global funcref (ref.null extern)))", "type mismatch"),
        ("(module (global funcref (ref.func 3)))", "unknown function"),
        ('(module (memory 1) (data (i64.const 0) ""))', "type mismatch"),
        ('(module (data (i32.const 0) ""))', "unknown memory"),
        ("(module (elem (i32.const 0) func))", "unknown table"),
        (
            "(module (table 1 externref) (func $f) (elem (table 0) (i32.const 0) func $f))",
            "type mismatch",
        ),
        (
            "(module (table 1 funcref) (elem (i32.const 0) externref (ref.null func)))",
            "type mismatch",
        ),
        ("(module (func $s (param i32)) (start $s))", "start function"),
        ("(module (func $s (result i32) (i32.const 0)) (start $s))", "start function"),
        ('(module (func) (export "a" (func 0)) (export "a" (func 0)))', "duplicate export name"),
        ('(module (export "a" (func 0)))', "unknown function"),
        ('(module (export "a" (memory 0)))', "unknown memory"),
        ('(module (export "a" (global 0)))', "unknown global"),
        ('(module (export "a" (table 0)))', "unknown table"),
        ('(module (import "m" "f" (func (type 9))))', "unknown type"),
    ],
)
def test_invalid_module(wat: str, message: str) -> None:
    _invalid(wat, message)


# -- the spec suite -------------------------------------------------------------------


def _spec_commands() -> list[tuple[str, Path, dict[str, object]]]:
    out = []
    for script in sorted(SPEC_JSON.glob("*/*.json")):
        for cmd in json.loads(script.read_text())["commands"]:
            if cmd["type"] in _SPEC_KINDS and cmd.get("module_type") != "text":
                out.append((str(cmd["type"]), script, cmd))
    return out


_SPEC_KINDS = (
    "module",
    "assert_invalid",
    "assert_malformed",
    "assert_unlinkable",
    "assert_uninstantiable",
)


def _outcome(data: bytes) -> BaseException | None:
    try:
        validate(decode_module(data))
    except (DecodeError, ValidationError) as exc:
        return exc
    return None


@pytest.mark.skipif(
    not SPEC_JSON.is_dir(), reason=f"spec suite not found at {SPEC_JSON} (set WASMDBG_SPEC_DIR)"
)
def test_spec_suite() -> None:
    """Every binary module of the suite gets the category the suite expects.

    ``module``, ``assert_unlinkable`` and ``assert_uninstantiable`` modules
    validate; ``assert_invalid`` ones raise ``ValidationError`` (whose message
    starts with the expected text); binary ``assert_malformed`` ones raise
    ``DecodeError`` (from the decoder or the validator).
    """
    counts: Counter[str] = Counter()
    failures: list[str] = []
    wrong_text: list[str] = []
    for kind, script, cmd in _spec_commands():
        data = (script.parent / str(cmd["filename"])).read_bytes()
        got = _outcome(data)
        where = f"{script.name}:{cmd['line']} {kind}"
        counts[kind] += 1
        if kind == "assert_invalid":
            if not isinstance(got, ValidationError):
                failures.append(f"{where}: expected ValidationError, got {got!r}")
            elif not got.message.startswith(str(cmd["text"])):
                wrong_text.append(f"{where}: {got.message!r} vs {cmd['text']!r}")
        elif kind == "assert_malformed":
            if not isinstance(got, DecodeError):
                failures.append(f"{where}: expected DecodeError, got {got!r}")
        elif got is not None:
            failures.append(f"{where}: expected valid, got {got!r}")
    assert failures == [], "\n".join(failures[:30])
    assert wrong_text == [], "\n".join(wrong_text[:30])
    assert counts["assert_invalid"] > 0 and counts["module"] > 0, counts
    print(dict(counts))


def test_oversized_vector_counts_report_the_count_offset_like_the_decoder() -> None:
    """br_table and typed select: "length out of bounds" points at the count."""
    from wasmdbg.errors import DecodeError as _DecodeError
    from wasmdbg.wasm.code import iter_body
    from wasmdbg.wasm.decoder import decode_module as _decode

    def sec(i: int, b: bytes) -> bytes:
        return bytes([i, len(b)]) + b

    for code in (
        bytes([0x00, 0x41, 0x00, 0x0E, 0xE8, 0x07, 0x00, 0x0B]),  # br_table with 1000 labels
        bytes([0x00, 0x1C, 0xE8, 0x07, 0x7F, 0x0B]),  # select with 1000 types
    ):
        module = b"\0asm\x01\0\0\0" + sec(1, b"\x01\x60\x00\x00") + sec(3, b"\x01\x00")
        module += sec(10, b"\x01" + bytes([len(code)]) + code)
        mdef = _decode(module)
        offsets = []
        with pytest.raises(_DecodeError) as exc:
            validate(mdef)
        offsets.append(exc.value.offset)
        with pytest.raises(_DecodeError) as exc:
            list(iter_body(mdef, mdef.bodies[0]))
        offsets.append(exc.value.offset)
        count_offset = module.index(b"\xe8\x07")
        assert offsets == [count_offset, count_offset]
