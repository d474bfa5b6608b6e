"""API type objects."""

from __future__ import annotations

import pytest

from wasmdbg import FuncType, GlobalType, Limits, MemoryType, TableType, ValType, WasmError


def test_valtypes_are_interned() -> None:
    assert ValType.i32() is ValType.i32() and ValType.i32() != ValType.i64()
    assert [str(t) for t in (ValType.i32(), ValType.f64(), ValType.funcref(), ValType.externref())] == [
        "i32",
        "f64",
        "funcref",
        "externref",
    ]
    with pytest.raises(WasmError):
        ValType()


def test_composite_types() -> None:
    ft = FuncType([ValType.i32()], [])
    assert ft == FuncType([ValType.i32()], []) and hash(ft) == hash(FuncType([ValType.i32()], []))
    assert str(ft) == "(func (param i32))"
    gt = GlobalType(ValType.f32(), True)
    assert gt.content == ValType.f32() and gt.mutable
    tt = TableType(ValType.funcref(), Limits(1, None))
    assert tt.element == ValType.funcref() and tt.limits == Limits(1, None)
    with pytest.raises(WasmError):
        TableType(ValType.i32(), Limits(1, None))
    mt = MemoryType(Limits(1, 2))
    assert mt.limits == Limits(1, 2) and not mt.is_64 and not mt.is_shared and mt.page_size == 65536
    with pytest.raises(TypeError):
        FuncType([1], [])  # type: ignore[list-item]


@pytest.mark.parametrize("limits", [Limits(-1, None), Limits(1, 2**32), Limits(0, -1)])
def test_limits_out_of_range_are_refused(limits: Limits) -> None:
    # a negative size once became a huge unsigned table bound over a 1-element array
    with pytest.raises(WasmError, match="out of range"):
        TableType(ValType.funcref(), limits)
    with pytest.raises(WasmError):
        MemoryType(limits)


@pytest.mark.parametrize("limits", [Limits(1.5, None), Limits("1", None), Limits(1, 2.0)])  # type: ignore[arg-type]
def test_limits_must_be_integers(limits: Limits) -> None:
    with pytest.raises(TypeError, match="integers"):
        TableType(ValType.funcref(), limits)
    with pytest.raises(TypeError, match="integers"):
        MemoryType(limits)
