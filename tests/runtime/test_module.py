"""Module: text and binary input, errors, imports/exports, names, custom sections."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

import wasmdbg
from wasmdbg import (
    DecodeError,
    Engine,
    FuncType,
    GlobalType,
    MemoryType,
    Module,
    TableType,
    ValidationError,
)

WAT = """
(module $named
  (import "a" "f" (func (param i32) (result i64)))
  (import "a" "m" (memory 1 2))
  (global (export "g") (mut f32) (f32.const 1))
  (table (export "t") 1 funcref)
  (func (export "h"))
  (@custom "hello" "abc")
)
"""


def test_imports_exports_name_and_customs() -> None:
    engine = Engine()
    m = Module(engine, WAT)
    assert m.name == "named"
    imps = m.imports
    assert [(i.module, i.name) for i in imps] == [("a", "f"), ("a", "m")]
    assert isinstance(imps[0].type, FuncType) and str(imps[0].type) == "(func (param i32) (result i64))"
    assert isinstance(imps[1].type, MemoryType) and imps[1].type.limits.max == 2
    exps = m.exports
    assert [e.name for e in exps] == ["g", "t", "h"]
    assert isinstance(exps[0].type, GlobalType) and exps[0].type.mutable
    assert isinstance(exps[1].type, TableType)
    assert ("hello", b"abc") in m.custom_sections
    assert m.raw == bytes(wasmtime.wat2wasm(WAT))


def test_errors() -> None:
    engine = Engine()
    with pytest.raises(DecodeError):
        Module(engine, b"\0asm\x01\0\0\0\x01")
    with pytest.raises(DecodeError):
        Module(engine, b"\x01\x02garbage")
    with pytest.raises(ValidationError):
        Module(engine, "(module (func (result i32)))")
    with pytest.raises(wasmdbg.WasmError):
        Module(engine, "(module (func")
    with pytest.raises(TypeError):
        Module(engine, 42)  # type: ignore[arg-type]
    with pytest.raises(DecodeError, match="not a byte"):
        Module(engine, "\0asm\u1234")  # a str opening with NUL is read as a binary
    with pytest.raises(ValidationError):
        Module.validate(engine, "(module (func (result i32)))")
    Module.validate(engine, "(module)")


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(wasmtime.wat2wasm('(module (func (export "f")))'))
    m = Module.from_file(Engine(), path)
    assert [e.name for e in m.exports] == ["f"]
    text = tmp_path / "m.wat"
    text.write_text('(module (func (export "g")))')
    assert [e.name for e in Module.from_file(Engine(), text).exports] == ["g"]


def test_wat2wasm() -> None:
    assert wasmdbg.wat2wasm("(module)") == bytearray(b"\0asm\x01\0\0\0")
    with pytest.raises(wasmdbg.WasmError, match="not UTF-8"):
        wasmdbg.wat2wasm(b"\xff(module)")
