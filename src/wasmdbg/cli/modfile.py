"""Reading a module file given on the command line: binary ``.wasm`` or text ``.wat``."""

from __future__ import annotations

from pathlib import Path

from ..errors import WasmError

__all__ = ["read_module_bytes"]


def read_module_bytes(path: Path) -> bytes:
    """The binary module in ``path``; a text module (``.wat``, or bytes starting with ``(``) is assembled."""
    data = path.read_bytes()
    if path.suffix == ".wat" or (data[:4] != b"\0asm" and data.lstrip()[:1] == b"("):
        import wasmtime

        try:
            return bytes(wasmtime.wat2wasm(data.decode("utf-8", errors="replace")))
        except wasmtime.WasmtimeError as exc:
            raise WasmError(f"cannot parse text module: {exc}") from exc
    return data
