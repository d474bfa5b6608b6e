"""LLDB's WebAssembly extensions of the GDB remote protocol, as pure functions.

Addresses are 64 bits wide and name an address space::

     63 62 61                           32 31                           0
    ┌─────┬───────────────────────────────┬──────────────────────────────┐
    │type │ module id (30 bits)           │ offset (32 bits)             │
    └─────┴───────────────────────────────┴──────────────────────────────┘
    type 0: linear memory (module id 0: the memory of the selected frame's
            instance); type 1: the module's bytes (code), offset from the
            start of the .wasm file

NB: LLDB 22 keeps only 24 bits of the module id; ids stay small here
(one per module instance, counting from 0), so that never matters.

The reply builders below return payload text (framing is
:mod:`.packets`' job); the request parsers raise
:class:`~.packets.ProtocolError` on malformed input.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from xml.sax.saxutils import quoteattr

from .packets import ProtocolError, hex_decode, hex_encode, parse_hex

__all__ = [
    "AddressSpace",
    "BreakpointRequest",
    "Library",
    "MemoryRequest",
    "StopReply",
    "WasmAddress",
    "call_stack_reply",
    "code_address",
    "exit_reply",
    "host_info",
    "library_list_xml",
    "memory_region_reply",
    "parse_breakpoint",
    "parse_memory_read",
    "parse_memory_write",
    "parse_thread_suffix",
    "parse_vcont",
    "parse_wasm_query",
    "parse_xfer_read",
    "pc_register",
    "process_info",
    "register_info",
    "supported_reply",
    "value_bytes",
    "xfer_chunk",
]

TRIPLE = "wasm32-unknown-wasi-wasm"
THREAD_ID = 1
_TYPE_SHIFT = 62
_MODULE_SHIFT = 32
_MODULE_MASK = (1 << 30) - 1
_OFFSET_MASK = (1 << 32) - 1


class AddressSpace(IntEnum):
    """The two address spaces of a Wasm address (bits 63-62)."""

    MEMORY = 0
    CODE = 1


@dataclass(frozen=True, slots=True)
class WasmAddress:
    """A decoded 64-bit LLDB Wasm address."""

    space: AddressSpace
    module_id: int
    offset: int

    @classmethod
    def decode(cls, value: int) -> WasmAddress:
        """Split ``value``; an unknown type (2 or 3) is a ProtocolError."""
        if not 0 <= value < 1 << 64:
            raise ProtocolError(f"address 0x{value:x} is not 64 bits")
        kind = value >> _TYPE_SHIFT
        if kind not in (AddressSpace.MEMORY, AddressSpace.CODE):
            raise ProtocolError(f"address 0x{value:x} has unknown address type {kind}")
        return cls(
            AddressSpace(kind), (value >> _MODULE_SHIFT) & _MODULE_MASK, value & _OFFSET_MASK
        )

    def encode(self) -> int:
        """The 64-bit value."""
        if not 0 <= self.module_id <= _MODULE_MASK or not 0 <= self.offset <= _OFFSET_MASK:
            raise ProtocolError(f"{self} does not fit an LLDB Wasm address")
        return (int(self.space) << _TYPE_SHIFT) | (self.module_id << _MODULE_SHIFT) | self.offset


def code_address(module_id: int, offset: int) -> int:
    """The address of byte ``offset`` of module ``module_id``'s file."""
    return WasmAddress(AddressSpace.CODE, module_id, offset).encode()


# --------------------------------------------------------------------------
# Replies


def supported_reply(packet_size: int) -> str:
    """The answer to ``qSupported``."""
    return f"PacketSize={packet_size:x};qXfer:libraries:read+;QStartNoAckMode+"


def host_info(triple: str = TRIPLE) -> str:
    """The answer to ``qHostInfo`` (the triple makes LLDB pick its Wasm plugins)."""
    return f"triple:{hex_encode(triple.encode())};ptrsize:4;endian:little;"


def process_info(pid: int, parent_pid: int, triple: str = TRIPLE) -> str:
    """The answer to ``qProcessInfo``."""
    return f"pid:{pid:x};parent-pid:{parent_pid:x};{host_info(triple)}"


def register_info(number: int) -> str:
    """The answer to ``qRegisterInfo<number>``: register 0 is the pc, no others."""
    if number != 0:
        return "E45"
    return (
        "name:pc;alt-name:pc;bitsize:64;offset:0;encoding:uint;format:hex;"
        "set:General Purpose Registers;gcc:16;dwarf:16;generic:pc;"
    )


def pc_register(pc: int) -> str:
    """A register read of the pc: 8 bytes little-endian in hex."""
    return hex_encode(struct.pack("<Q", pc))


@dataclass(frozen=True, slots=True)
class StopReply:
    """A ``T05`` stop reply.

    ``reason`` is LLDB's word (breakpoint, trace, signal, exception);
    ``description`` optional text shown to the user.
    """

    pc: int
    reason: str
    thread_name: str = "main"
    description: str | None = None
    signal: int = 5

    def encode(self) -> str:
        """The packet payload."""
        parts = [
            f"T{self.signal:02x}thread:{THREAD_ID:x};name:{self.thread_name};threads:{THREAD_ID:x};",
            f"thread-pcs:{self.pc:016x};00:{pc_register(self.pc)};reason:{self.reason};",
        ]
        if self.description is not None:
            parts.append(f"description:{hex_encode(self.description.encode())};")
        return "".join(parts)


def exit_reply(code: int) -> str:
    """``W`` + the exit status (its low 8 bits, as a process's are)."""
    return f"W{code & 0xFF:02x}"


@dataclass(frozen=True, slots=True)
class Library:
    """One module instance as ``qXfer:libraries`` lists it."""

    name: str
    module_id: int


def library_list_xml(libraries: Iterable[Library]) -> str:
    """The ``<library-list>`` document, one library per module instance."""
    items = "".join(
        f"<library name={quoteattr(lib.name)}>"
        f'<section address="0x{code_address(lib.module_id, 0):x}"/></library>'
        for lib in libraries
    )
    return f"<library-list>{items}</library-list>"


def xfer_chunk(document: bytes, offset: int, length: int) -> bytes:
    """``m``/``l`` + the window ``[offset, offset+length)`` of ``document``."""
    chunk = document[offset : offset + length]
    more = offset + length < len(document)
    return (b"m" if more else b"l") + chunk


def call_stack_reply(pcs: Sequence[int]) -> str:
    """``qWasmCallStack``: each pc as 8 bytes little-endian, innermost first."""
    return hex_encode(b"".join(struct.pack("<Q", pc) for pc in pcs))


def memory_region_reply(address: int, start: int, size: int, permissions: str | None) -> str:
    """``qMemoryRegionInfo``: a mapped region, or (no permissions) the gap at ``address``."""
    if permissions is None:
        return f"start:{address:x};size:{size:x};"
    return f"start:{start:x};size:{size:x};permissions:{permissions};"


_WIDTH = {"i32": 4, "f32": 4, "i64": 8, "f64": 8}


def value_bytes(value: int | float, type_name: str) -> bytes:
    """A Wasm value's bytes, little-endian in its natural width.

    ``type_name`` is the text name (``i32``, ``f64``, ``funcref`` ...);
    references travel as 4-byte handles.
    """
    if type_name == "f32":
        return struct.pack("<f", float(value))
    if type_name == "f64":
        return struct.pack("<d", float(value))
    if isinstance(value, float):
        raise ProtocolError(f"an {type_name} value cannot be {value!r}")
    width = _WIDTH.get(type_name, 4)
    return (int(value) & ((1 << (8 * width)) - 1)).to_bytes(width, "little")


# --------------------------------------------------------------------------
# Requests


@dataclass(frozen=True, slots=True)
class MemoryRequest:
    """``m<addr>,<len>`` or ``M<addr>,<len>:<hex>`` (``data`` for writes)."""

    address: int
    length: int
    data: bytes = b""


def _addr_len(text: str, what: str) -> tuple[int, int]:
    addr, sep, length = text.partition(",")
    if not sep:
        raise ProtocolError(f"{what}: expected <addr>,<len>")
    return parse_hex(addr, "address"), parse_hex(length, "length")


def parse_memory_read(text: str) -> MemoryRequest:
    """``m<addr>,<len>`` (without the ``m``)."""
    address, length = _addr_len(text, "m")
    return MemoryRequest(address, length)


def parse_memory_write(text: str) -> MemoryRequest:
    """``M<addr>,<len>:<hex>`` (without the ``M``); the data must be ``len`` bytes."""
    head, sep, hexdata = text.partition(":")
    if not sep:
        raise ProtocolError("M: expected <addr>,<len>:<bytes>")
    address, length = _addr_len(head, "M")
    data = hex_decode(hexdata)
    if len(data) != length:
        raise ProtocolError(f"M: {len(data)} bytes given for length {length}")
    return MemoryRequest(address, length, data)


@dataclass(frozen=True, slots=True)
class BreakpointRequest:
    """``Z<type>,<addr>,<kind>`` / ``z...``."""

    insert: bool
    type: int
    address: int
    kind: int


def parse_breakpoint(text: str) -> BreakpointRequest:
    """A whole ``Z``/``z`` packet (conditions after ``;`` are ignored)."""
    if not text or text[0] not in "Zz":
        raise ProtocolError("not a Z/z packet")
    fields = text[1:].split(";", 1)[0].split(",")
    if len(fields) != 3 or not fields[0].isdigit():
        raise ProtocolError(f"{text[0]}: expected <type>,<addr>,<kind>")
    return BreakpointRequest(
        text[0] == "Z", int(fields[0]), parse_hex(fields[1], "address"), parse_hex(fields[2], "kind")
    )


def parse_wasm_query(text: str) -> tuple[int, int]:
    """``<frame>;<index>`` (decimal) of qWasmLocal / qWasmGlobal / qWasmStackValue."""
    frame, sep, index = text.partition(";")
    if not sep or not frame.isdigit() or not index.isdigit() or len(frame) > 9 or len(index) > 9:
        raise ProtocolError(f"expected <frame>;<index> in decimal, got {text[:40]!r}")
    return int(frame), int(index)


def parse_thread_suffix(text: str) -> str:
    """``text`` without a trailing ``;thread:<tid>;`` (QThreadSuffixSupported)."""
    head, sep, _ = text.partition(";thread:")
    return head if sep else text


def parse_xfer_read(text: str) -> tuple[str, str, int, int]:
    """``qXfer:<object>:read:<annex>:<off>,<len>`` -> (object, annex, off, len)."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] != "qXfer" or parts[2] != "read":
        raise ProtocolError(f"bad qXfer request {text[:60]!r}")
    offset, length = _addr_len(parts[4], "qXfer")
    return parts[1], parts[3], offset, length


def parse_vcont(text: str) -> list[tuple[str, int | None]]:
    """``vCont;<action>[:<tid>]...`` -> [(action, tid or None)]; actions c C s S t."""
    if not text.startswith("vCont;"):
        raise ProtocolError("not a vCont packet")
    actions: list[tuple[str, int | None]] = []
    for item in text[len("vCont;") :].split(";"):
        action, sep, tid = item.partition(":")
        if not action or action[0] not in "cCsSt":
            raise ProtocolError(f"vCont: unknown action {action!r}")
        if action[0] in "CS":
            parse_hex(action[1:], "signal")
        elif len(action) != 1:
            raise ProtocolError(f"vCont: unknown action {action!r}")
        thread: int | None = None
        if sep:
            thread = -1 if tid == "-1" else parse_hex(tid, "thread id")
        actions.append((action[0].lower(), thread))
    return actions
