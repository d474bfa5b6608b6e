"""Config and Engine."""

from __future__ import annotations

import pytest

from wasmdbg import Config, Engine, WasmError
from wasmdbg.wasm import types as core


def test_config_attributes() -> None:
    config = Config()
    config.debug_info = True
    config.wasm_simd = False
    config.cranelift_opt_level = "speed"
    config.guest_debug = True
    assert config.guest_debug and config.debug and config.debug_info
    config.consume_fuel = False
    with pytest.raises(WasmError):
        config.consume_fuel = True
    with pytest.raises(AttributeError):
        config.no_such_setting = 1
    with pytest.raises(TypeError):
        config.guest_debug = 1  # type: ignore[assignment]
    assert Config(guest_debug=True).guest_debug and Config(debug=True).guest_debug


def test_engine_copies_config_and_interns_signatures() -> None:
    config = Config(guest_debug=True)
    engine = Engine(config)
    config.guest_debug = False
    assert engine.guest_debug
    a = core.FuncType((core.ValType.I32,), ())
    b = core.FuncType((core.ValType.I32,), ())
    c = core.FuncType((), ())
    assert engine.sig_id(a) == engine.sig_id(b) != engine.sig_id(c)
    assert engine.sig_id(a) > 0 and not engine.is_pulley()
    with pytest.raises(TypeError):
        Engine("x")  # type: ignore[arg-type]
