"""Val and the slot conversions."""

from __future__ import annotations

import math

import pytest

from wasmdbg import Val, ValType, WasmError
from wasmdbg.runtime.value import SlotCodec, bits_f32, f32_bits
from wasmdbg.wasm import types as core


def test_constructors_wrap_and_keep_bits() -> None:
    assert Val.i32(0xFFFF_FFFF).value == -1 and Val.i32(-1).bits == 0xFFFF_FFFF
    assert Val.i64(2**63).value == -(2**63)
    v = Val.f32(0.1)
    assert v.value == bits_f32(v.bits) and v.bits == f32_bits(0.1)
    nan = Val.from_bits(ValType.f64(), 0x7FF0_0000_0000_0001)
    assert math.isnan(nan.value) and nan.bits == 0x7FF0_0000_0000_0001
    assert str(nan.type) == "f64"
    assert Val.ref_null(ValType.funcref()).value is None
    with pytest.raises(WasmError):
        Val.ref_null(ValType.i32())
    with pytest.raises(WasmError):
        _ = Val.externref(1).bits
    with pytest.raises(TypeError):
        Val.i32(1.0)  # type: ignore[arg-type]
    assert Val.i32(3) == Val.i32(3) and Val.i32(3) == 3
    assert Val.i32(3).as_i32() == 3 and Val.i32(3).as_i64() is None


def test_codec_fast_and_slow_paths() -> None:
    codec = SlotCodec(core.FuncType((core.ValType.I32, core.ValType.F32), (core.ValType.I64,)))
    buf = (bytearray(16))
    codec.write_params(None, buf, (-1, 1.5))  # type: ignore[arg-type]
    assert buf[:8] == b"\xff\xff\xff\xff\0\0\0\0"
    codec.write_params(None, buf, (0xFFFF_FFFF, 1e300))  # type: ignore[arg-type]
    assert buf[:4] == b"\xff\xff\xff\xff" and buf[8:12] == b"\0\0\x80\x7f"
    assert codec.read_params(None, buf)[0] == -1  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        codec.write_params(None, buf, ("x", 1.0))  # type: ignore[arg-type]
    assert codec.nslots == 2
