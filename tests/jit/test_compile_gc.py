"""compile_module pauses the cyclic collector and restores its state."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
import wasmtime

from wasmdbg.jit import compiler
from wasmdbg.jit.compiler import compile_module
from wasmdbg.wasm.decoder import decode_module

WAT = '(module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))'


@pytest.fixture
def gc_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("enabled", [True, False])
def test_collector_state_is_restored(gc_state: None, enabled: bool, debug: bool) -> None:
    module = decode_module(wasmtime.wat2wasm(WAT))
    (gc.enable if enabled else gc.disable)()
    compile_module(module, guest_debug=debug)
    assert gc.isenabled() == enabled


def test_collector_is_paused_during_the_compile_and_restored_after_an_error(
    gc_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def failing_compile(self: compiler.FuncCompiler) -> compiler.CompiledModule:
        seen.append(gc.isenabled())
        raise RuntimeError("boom")

    monkeypatch.setattr(compiler.FuncCompiler, "compile", failing_compile)
    gc.enable()
    with pytest.raises(RuntimeError, match="boom"):
        compile_module(decode_module(wasmtime.wat2wasm(WAT)))
    assert seen == [False]
    assert gc.isenabled()
