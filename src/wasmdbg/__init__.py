"""wasmdbg: a WebAssembly runtime and guest debugger.

The embedding API follows wasmtime-py's names, so existing code runs with
``import wasmdbg as wasmtime``::

    engine = Engine(Config(guest_debug=True))
    store = Store(engine)
    module = Module(engine, wasm_bytes_or_wat)
    instance = Linker(engine).instantiate(store, module)
    instance.exports(store)["run"](store, 1, 2)

``WasmtimeError`` is an alias of :class:`WasmError`.
"""

from . import debug as debug
from .errors import DebugError, DecodeError, LinkError, UnsupportedError, ValidationError, WasmError
from .runtime.codemem import CodeMemoryError
from .runtime.config import Config
from .runtime.debug.events import DebugEvent, DebugEventKind
from .runtime.engine import Engine
from .runtime.func import Caller, Func
from .runtime.globals import Global
from .runtime.instance import Instance, InstanceExports
from .runtime.linker import Linker
from .runtime.memory import Memory
from .runtime.module import Module
from .runtime.store import Store
from .runtime.table import Table
from .runtime.trap import Frame, Trap, TrapCode
from .runtime.types import (
    ExportType,
    FuncType,
    GlobalType,
    ImportType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from .runtime.value import Val
from .runtime.wasi import ExitTrap, WasiConfig

WasmtimeError = WasmError


def wat2wasm(wat: str | bytes) -> bytearray:
    """WebAssembly text to binary (delegates to ``wasmtime.wat2wasm``)."""
    from .runtime.module import to_wasm

    try:
        text = wat if isinstance(wat, str) else wat.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WasmError(f"WebAssembly text is not UTF-8: {exc}") from None
    return bytearray(to_wasm(text))


__all__ = [
    "Caller",
    "CodeMemoryError",
    "Config",
    "DebugError",
    "DebugEvent",
    "DebugEventKind",
    "DecodeError",
    "Engine",
    "ExitTrap",
    "ExportType",
    "Frame",
    "Func",
    "FuncType",
    "Global",
    "GlobalType",
    "ImportType",
    "Instance",
    "InstanceExports",
    "Limits",
    "LinkError",
    "Linker",
    "Memory",
    "MemoryType",
    "Module",
    "Store",
    "Table",
    "TableType",
    "Trap",
    "TrapCode",
    "UnsupportedError",
    "Val",
    "ValType",
    "ValidationError",
    "WasiConfig",
    "WasmError",
    "WasmtimeError",
    "wat2wasm",
]
