"""A GDB remote protocol server with LLDB's WebAssembly extensions.

``packets`` frames and unframes bytes, ``wasm`` builds and parses the
payloads LLDB's Wasm plugin exchanges (both pure), and ``server`` answers
one debugger connection on top of :class:`wasmdbg.debug.session.Session`.
"""

from .packets import PacketReader, ProtocolError, checksum, escape, frame, rle_decode, unescape
from .wasm import AddressSpace, WasmAddress, code_address

__all__ = [
    "AddressSpace",
    "PacketReader",
    "ProtocolError",
    "WasmAddress",
    "checksum",
    "code_address",
    "escape",
    "frame",
    "rle_decode",
    "unescape",
]
