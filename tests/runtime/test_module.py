"""Module: text and binary input, errors, imports/exports, names, custom sections."""

from __future__ import annotations

import pickle
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


SERIAL_WAT = """
(module
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $sq)
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 0)))
)
"""


@pytest.mark.parametrize("debug", [False, True])
def test_serialize_roundtrip(debug: bool, tmp_path: Path) -> None:
    engine = Engine(wasmdbg.Config(guest_debug=debug))
    blob = Module(engine, SERIAL_WAT).serialize()
    # a fresh engine numbers the signatures the same way, so the code is reused
    engine2 = Engine(wasmdbg.Config(guest_debug=debug))
    m2 = Module.deserialize(engine2, blob)
    store = wasmdbg.Store(engine2)
    inst = wasmdbg.Instance(store, m2, [])
    assert inst.exports(store)["call"](store, 7) == 49
    path = tmp_path / "m.bin"
    path.write_bytes(blob)
    m3 = Module.deserialize_file(engine2, path)
    assert m3.raw == m2.raw


def test_serialize_other_engine_numbering_recompiles() -> None:
    engine = Engine()
    blob = Module(engine, SERIAL_WAT).serialize()
    engine2 = Engine()
    # give engine2 another signature first so its ids differ
    Module(engine2, "(module (func (param f64 f64)))")
    m2 = Module.deserialize(engine2, blob)
    assert m2.compiled is not pickle.loads(bytes(blob))[4]
    store = wasmdbg.Store(engine2)
    inst = wasmdbg.Instance(store, m2, [])
    assert inst.exports(store)["call"](store, 5) == 25


def test_deserialize_rejects() -> None:
    blob = Module(Engine(), SERIAL_WAT).serialize()
    with pytest.raises(wasmdbg.WasmError, match="other Config"):
        Module.deserialize(Engine(wasmdbg.Config(guest_debug=True)), blob)
    with pytest.raises(wasmdbg.WasmError, match="not a serialized"):
        Module.deserialize(Engine(), b"\0asm\1\0\0\0")
    with pytest.raises(wasmdbg.WasmError, match="not a serialized"):
        Module.deserialize(Engine(), bytes(blob[:40]))
