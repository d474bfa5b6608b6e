"""LLDB's Wasm extensions: address encoding, reply builders, request parsers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmdbg.gdbstub.packets import ProtocolError, hex_decode
from wasmdbg.gdbstub.wasm import (
    AddressSpace,
    Library,
    StopReply,
    WasmAddress,
    call_stack_reply,
    code_address,
    exit_reply,
    host_info,
    library_list_xml,
    memory_region_reply,
    parse_breakpoint,
    parse_memory_read,
    parse_memory_write,
    parse_thread_suffix,
    parse_vcont,
    parse_wasm_query,
    parse_xfer_read,
    pc_register,
    process_info,
    register_info,
    supported_reply,
    value_bytes,
    xfer_chunk,
)


def test_code_and_memory_addresses() -> None:
    assert code_address(0, 0) == 0x4000000000000000
    assert code_address(2, 0x1234) == 0x4000000200001234
    assert WasmAddress.decode(0x4000000200001234) == WasmAddress(AddressSpace.CODE, 2, 0x1234)
    assert WasmAddress.decode(0x10) == WasmAddress(AddressSpace.MEMORY, 0, 0x10)


def test_unknown_address_types_and_out_of_range() -> None:
    for bad in (0x8000000000000000, 0xC000000000000000, 1 << 64, -1):
        with pytest.raises(ProtocolError):
            WasmAddress.decode(bad)
    with pytest.raises(ProtocolError):
        WasmAddress(AddressSpace.CODE, 1 << 30, 0).encode()
    with pytest.raises(ProtocolError):
        WasmAddress(AddressSpace.CODE, 0, 1 << 32).encode()


@given(st.sampled_from(list(AddressSpace)), st.integers(0, (1 << 30) - 1), st.integers(0, (1 << 32) - 1))
def test_address_round_trip(space: AddressSpace, module_id: int, offset: int) -> None:
    addr = WasmAddress(space, module_id, offset)
    assert WasmAddress.decode(addr.encode()) == addr


def test_fixed_replies() -> None:
    assert supported_reply(0x4000) == "PacketSize=4000;qXfer:libraries:read+;QStartNoAckMode+"
    info = host_info()
    assert info.startswith("triple:" + b"wasm32-unknown-wasi-wasm".hex() + ";")
    assert "ptrsize:4;" in info and "endian:little;" in info
    pinfo = process_info(0x1F, 1)
    assert pinfo.startswith("pid:1f;parent-pid:1;triple:")
    assert register_info(0).startswith("name:pc;alt-name:pc;bitsize:64;offset:0;")
    assert "generic:pc;" in register_info(0)
    assert register_info(1) == "E45"
    assert pc_register(0x4000000000000123) == "2301000000000040"
    assert exit_reply(0) == "W00" and exit_reply(3) == "W03" and exit_reply(257) == "W01"


def test_stop_reply_fields() -> None:
    text = StopReply(0x4000000000000010, "breakpoint").encode()
    assert text.startswith("T05thread:1;name:main;threads:1;")
    assert "thread-pcs:4000000000000010;" in text
    assert "00:1000000000000040;" in text
    assert text.endswith("reason:breakpoint;")
    trap = StopReply(0x4000000000000010, "exception", description="unreachable").encode()
    assert trap.endswith("reason:exception;description:" + b"unreachable".hex() + ";")


def test_library_list_and_xfer_windows() -> None:
    xml = library_list_xml([Library("a.wasm", 0), Library('x"<&.wasm', 1)])
    assert xml == (
        '<library-list><library name="a.wasm"><section address="0x4000000000000000"/></library>'
        "<library name='x\"&lt;&amp;.wasm'><section address=\"0x4000000100000000\"/></library>"
        "</library-list>"
    )
    doc = xml.encode()
    assert xfer_chunk(doc, 0, 10) == b"m" + doc[:10]
    assert xfer_chunk(doc, 10, len(doc)) == b"l" + doc[10:]
    assert xfer_chunk(doc, len(doc) + 5, 10) == b"l"
    # chunks concatenate to the document
    out, off = b"", 0
    while True:
        part = xfer_chunk(doc, off, 7)
        out += part[1:]
        off += 7
        if part[:1] == b"l":
            break
    assert out == doc


def test_call_stack_reply_is_little_endian_u64s() -> None:
    text = call_stack_reply([0x4000000000000010, 0x4000000000000020])
    raw = hex_decode(text)
    assert struct.unpack("<QQ", raw) == (0x4000000000000010, 0x4000000000000020)
    assert call_stack_reply([]) == ""


def test_memory_region_reply() -> None:
    assert memory_region_reply(0, 0, 0x10000, "rw") == "start:0;size:10000;permissions:rw;"
    assert memory_region_reply(0x20000, 0x20000, 0x100, None) == "start:20000;size:100;"


def test_value_bytes_natural_widths() -> None:
    assert value_bytes(-1, "i32") == b"\xff\xff\xff\xff"
    assert value_bytes(1, "i64") == b"\x01" + b"\0" * 7
    assert value_bytes(1.5, "f32") == struct.pack("<f", 1.5)
    assert value_bytes(2.25, "f64") == struct.pack("<d", 2.25)
    assert value_bytes(0, "funcref") == b"\0\0\0\0"
    with pytest.raises(ProtocolError):
        value_bytes(1.5, "i32")


def test_memory_requests() -> None:
    assert parse_memory_read("4000000000000000,10").address == 1 << 62
    assert parse_memory_read("10,4").length == 4
    req = parse_memory_write("100,2:abcd")
    assert (req.address, req.length, req.data) == (0x100, 2, b"\xab\xcd")
    for bad in ("", "10", "10,", ",4", "x,4", "10,4,5"):
        with pytest.raises(ProtocolError):
            parse_memory_read(bad)
    for bad in ("100,2", "100,2:abc", "100,3:abcd", "100:ab"):
        with pytest.raises(ProtocolError):
            parse_memory_write(bad)


def test_breakpoint_requests() -> None:
    req = parse_breakpoint("Z0,4000000000000123,1")
    assert (req.insert, req.type, req.address, req.kind) == (True, 0, 0x4000000000000123, 1)
    assert not parse_breakpoint("z0,10,1;cond").insert
    for bad in ("", "Z", "Z0", "Z0,1", "Zx,1,1", "Z0,,1", "Q0,1,1"):
        with pytest.raises(ProtocolError):
            parse_breakpoint(bad)


def test_wasm_queries_and_thread_suffix() -> None:
    assert parse_wasm_query("0;3") == (0, 3)
    assert parse_wasm_query("12;0") == (12, 0)
    for bad in ("", "1", "1;", ";1", "a;1", "1;-1", "1;0x1", "9999999999;1"):
        with pytest.raises(ProtocolError):
            parse_wasm_query(bad)
    assert parse_thread_suffix("p0;thread:1;") == "p0"
    assert parse_thread_suffix("p0") == "p0"


def test_xfer_request() -> None:
    assert parse_xfer_read("qXfer:libraries:read::0,fff") == ("libraries", "", 0, 0xFFF)
    for bad in ("qXfer:libraries:read::0", "qXfer:libraries:write::0,1", "qXfer:x", "qXfer:a:read::z,1"):
        with pytest.raises(ProtocolError):
            parse_xfer_read(bad)


def test_vcont() -> None:
    assert parse_vcont("vCont;c") == [("c", None)]
    assert parse_vcont("vCont;s:1") == [("s", 1)]
    assert parse_vcont("vCont;s:1;c:-1") == [("s", 1), ("c", -1)]
    assert parse_vcont("vCont;C05:1") == [("c", 1)]
    for bad in ("vCont", "vCont;", "vCont;x", "vCont;cc", "vCont;s:zz", "vCont;C:1"):
        with pytest.raises(ProtocolError):
            parse_vcont(bad)


def test_return_address_after_each_kind_of_call() -> None:
    from wasmdbg.errors import DebugError
    from wasmdbg.gdbstub.server import return_address

    code = bytes([0x10, 0x85, 0x01, 0x11, 0x02, 0x00, 0x12, 0x01, 0x13, 0x80, 0x01, 0x00, 0x6A])
    assert return_address(code, 0) == 3  # call 133
    assert return_address(code, 3) == 6  # call_indirect type 2, table 0
    assert return_address(code, 6) == 8  # return_call 1
    assert return_address(code, 8) == 12  # return_call_indirect type 128, table 0
    assert return_address(code, 12) == 12  # i32.add: not a call
    assert return_address(code, 99) == 99
    with pytest.raises(DebugError):
        return_address(bytes([0x10, 0x80]), 0)  # truncated LEB128
