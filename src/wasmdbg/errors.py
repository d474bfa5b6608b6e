"""The one exception family of wasmdbg.

Every error wasmdbg raises on purpose derives from :class:`WasmError`
(the name wasmtime-py uses), so callers can catch one class::

    WasmError                  anything wasmdbg refuses or fails to do
     ├── DecodeError           malformed binary (carries the byte offset)
     ├── ValidationError       well-formed but invalid (offset, function index)
     ├── LinkError             imports that cannot be satisfied
     ├── Trap                  the guest trapped (defined in the runtime)
     └── DebugError            a debugger request that cannot be honoured
          └── ProtocolError    a Debug Adapter Protocol message that cannot be read
"""

from __future__ import annotations

__all__ = [
    "DebugError",
    "DecodeError",
    "LinkError",
    "ProtocolError",
    "UnsupportedError",
    "ValidationError",
    "WasmError",
]


class WasmError(Exception):
    """Base class of every error raised by wasmdbg."""


class DecodeError(WasmError):
    """The binary is malformed; ``offset`` is the module-relative byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"0x{self.offset:x}: {self.message}"


class UnsupportedError(DecodeError):
    """The binary uses a feature wasmdbg does not implement yet (such as SIMD)."""


class ValidationError(WasmError):
    """The module is well-formed but invalid.

    ``offset`` is the module-relative byte offset of the offending
    instruction or entry; ``func_index`` is the function index (imports
    included) when the error is inside a function body, else ``None``.
    """

    def __init__(self, message: str, offset: int, func_index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.func_index = func_index

    def __str__(self) -> str:
        where = f" (func {self.func_index})" if self.func_index is not None else ""
        return f"0x{self.offset:x}: {self.message}{where}"


class LinkError(WasmError):
    """An import is missing or has the wrong type."""


class DebugError(WasmError):
    """A debugger request cannot be carried out (e.g. writing a constant)."""


class ProtocolError(DebugError):
    """A Debug Adapter Protocol message is malformed (bad header, bad JSON, too big).

    ``fatal`` is true when the stream cannot be read on past it (the
    message's length is unknown); otherwise the next message can be read.
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal
