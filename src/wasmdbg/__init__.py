"""wasmdbg: a WebAssembly runtime and guest debugger.

The embedding API follows wasmtime-py's names (``import wasmdbg as wasmtime``).
"""

from .errors import DecodeError, ValidationError, WasmError

__all__ = ["DecodeError", "ValidationError", "WasmError"]
