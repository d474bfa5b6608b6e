"""The server against a hostile or clumsy client: it never crashes, never blocks forever.

Each test talks raw bytes to ``wasmdbg run -g`` over a socket, with a timeout on
every read, and checks that the server still answers (or exits cleanly).
"""

from __future__ import annotations

import socket
import time

import pytest
from harness import PROGRAMS as PROGRAMS_DIR
from harness import Server

from wasmdbg.gdbstub.packets import Packet, PacketReader, frame
from wasmdbg.gdbstub.server import PACKET_SIZE

PROGRAM = "demo.O0.wasm"
READ_TIMEOUT = 20.0


class Client:
    """A raw protocol client: bytes out, acks and packets in (bounded waits)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.reader = PacketReader(1 << 20)
        self.pending: list[object] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _next(self) -> object:
        deadline = time.monotonic() + READ_TIMEOUT
        while not self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply")
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self.pending.extend(self.reader.feed(data))
        return self.pending.pop(0)

    def ack(self) -> str:
        """The next ack character ('+' or '-')."""
        event = self._next()
        name = type(event).__name__
        assert name in ("Ack", "Nack"), event
        return "+" if name == "Ack" else "-"

    def packet(self) -> str:
        """The next packet's payload (acking it while in ack mode)."""
        event = self._next()
        assert isinstance(event, Packet), event
        return event.text

    def ask(self, payload: str, *, acked: bool = True) -> str:
        self.send(frame(payload))
        if acked:
            assert self.ack() == "+"
            reply = self.packet()
            self.send(b"+")
            return reply
        return self.packet()

    def no_ack(self) -> None:
        assert self.ask("QStartNoAckMode") == "OK"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Server:
    return Server(PROGRAM)


def finish_by_kill(client: Client, server: Server) -> None:
    client.send(frame("k"))
    status, _, _ = server.finish()
    assert status == 137


def test_handshake_and_unknown_packets(server: Server) -> None:
    client = Client(server.port)
    assert client.ask("qSupported:xmlRegisters=i386") == f"PacketSize={PACKET_SIZE:x};qXfer:libraries:read+;QStartNoAckMode+"
    client.no_ack()
    for packet, reply in [("QThreadSuffixSupported", "OK"), ("QListThreadsInStopReply", "OK"),
                          ("QEnableErrorStrings", "OK"), ("vCont?", "vCont;c;C;s;S"), ("qC", "QC1"),
                          ("qfThreadInfo", "m1"), ("qsThreadInfo", "l"), ("Hg1", "OK")]:
        assert client.ask(packet, acked=False) == reply, packet
    assert client.ask("qHostInfo", acked=False).startswith("triple:" + b"wasm32-unknown-wasi-wasm".hex())
    info = client.ask("qProcessInfo", acked=False)
    assert info.startswith(f"pid:{server.proc.pid:x};parent-pid:") and "ptrsize:4;" in info
    assert client.ask("qThreadStopInfo1", acked=False) == client.ask("?", acked=False)
    assert client.ask("qRegisterInfo0", acked=False).startswith("name:pc;")
    assert client.ask("qNoSuchPacket", acked=False) == ""
    assert client.ask("jThreadsInfo", acked=False) == ""
    assert client.ask("Z1,4000000000000000,1", acked=False) == ""  # hardware breakpoints
    assert client.ask("?", acked=False).startswith("T05thread:1;")
    assert client.ask("qRegisterInfo1", acked=False) == "E45"
    finish_by_kill(client, server)


def test_bad_checksum_is_nacked_and_the_next_packet_answered(server: Server) -> None:
    client = Client(server.port)
    client.send(b"$qC#00")
    assert client.ack() == "-"
    assert client.ask("qC") == "QC1"
    finish_by_kill(client, server)


def test_malformed_packets_get_errors_not_crashes(server: Server) -> None:
    client = Client(server.port)
    client.no_ack()
    for bad in ("m", "mzz,4", "m10", "M10,2:abc", "M10,3:abcd", "Z0,zz,1", "qWasmLocal:x;1",
                "qWasmLocal:0;999", "qWasmGlobal:99;0", "qWasmStackValue:0;999", "p99",
                "qXfer:libraries:read::zz,10", "vCont;x", "qRegisterInfoZZ",
                "m8000000000000000,4", "qMemoryRegionInfo:zz", "m4000000700000000,4"):
        reply = client.ask(bad, acked=False)
        assert reply.startswith("E") or reply == "", (bad, reply)
    assert client.ask("qC", acked=False) == "QC1"
    finish_by_kill(client, server)


def test_oversized_packet_is_dropped_with_a_bounded_buffer(server: Server) -> None:
    client = Client(server.port)
    big = b"M0," + b"1" * (PACKET_SIZE * 8)
    client.send(frame(big))
    assert client.ack() == "-"
    assert client.ask("qC") == "QC1"
    client.no_ack()
    client.send(frame(big))
    assert client.packet().startswith("E")
    assert client.ask("qC", acked=False) == "QC1"
    finish_by_kill(client, server)


def test_garbage_and_slow_drip_bytes(server: Server) -> None:
    client = Client(server.port)
    client.send(bytes(range(256)).replace(b"$", b"").replace(b"\x03", b"") * 4)
    for byte in frame("qC"):
        client.send(bytes([byte]))
        time.sleep(0.01)
    assert client.ack() == "+"
    assert client.packet() == "QC1"
    client.send(b"+")
    finish_by_kill(client, server)


def test_a_second_connection_is_refused_while_the_first_is_served(server: Server) -> None:
    client = Client(server.port)
    assert client.ask("qC") == "QC1"
    with pytest.raises(OSError):
        second = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        # a connection the kernel still accepted would be reset, never served
        second.settimeout(5)
        if second.recv(1) == b"":
            raise ConnectionResetError("closed")
    assert client.ask("qC") == "QC1"
    finish_by_kill(client, server)


def test_disconnect_while_stopped_ends_the_process(server: Server) -> None:
    client = Client(server.port)
    assert client.ask("qC") == "QC1"
    client.close()
    status, _, _ = server.finish()
    assert status == 137


def test_disconnect_while_running_ends_the_process() -> None:
    server = Server(PROGRAM, ["spin"])
    client = Client(server.port)
    client.no_ack()
    client.send(frame("vCont;c"))
    time.sleep(0.5)
    client.close()
    status, _, _ = server.finish()
    assert status == 137


def test_interrupt_stops_a_running_guest_with_sigint() -> None:
    server = Server(PROGRAM, ["spin"])
    client = Client(server.port)
    client.no_ack()
    client.send(frame("c"))
    time.sleep(0.3)
    client.send(b"\x03")
    reply = client.packet()
    assert reply.startswith("T02") and "reason:signal;" in reply
    # memory and the call stack answer at the interrupted stop
    assert client.ask("qWasmCallStack:1", acked=False)
    finish_by_kill(client, server)


def test_module_bytes_are_the_original_file_even_with_breakpoints(server: Server) -> None:
    client = Client(server.port)
    client.no_ack()
    data = server.program.read_bytes()
    libs = client.ask("qXfer:libraries:read::0,1000", acked=False)
    assert libs.startswith("l<library-list><library name=") and 'address="0x4000000000000000"' in libs
    for offset in range(0, 0x400, 1):
        assert client.ask(f"Z0,{(1 << 62) | offset:x},1", acked=False) in ("OK", "E01")
    got = b""
    while len(got) < len(data):
        reply = client.ask(f"m{(1 << 62) | len(got):x},{0x3000:x}", acked=False)
        assert not reply.startswith("E"), reply
        got += bytes.fromhex(reply)
    assert got == data
    assert client.ask(f"m{(1 << 62) | len(data):x},1", acked=False) == "E03"
    region = client.ask(f"qMemoryRegionInfo:{(1 << 62) | 16:x}", acked=False)
    assert region == f"start:4000000000000000;size:{len(data):x};permissions:rx;"
    finish_by_kill(client, server)


def test_linear_memory_write_and_read_back(server: Server) -> None:
    client = Client(server.port)
    client.no_ack()
    assert client.ask("M100,4:deadbeef", acked=False) == "OK"
    assert client.ask("m100,4", acked=False) == "deadbeef"
    assert client.ask("M4000000000000010,1:00", acked=False).startswith("E")  # code is read-only
    region = client.ask("qMemoryRegionInfo:100", acked=False)
    assert region.startswith("start:0;size:") and region.endswith("permissions:rw;")
    gap = client.ask("qMemoryRegionInfo:ffff0000", acked=False)
    assert gap == "start:ffff0000;size:10000;"
    finish_by_kill(client, server)


def test_wasm_value_queries_at_entry(server: Server) -> None:
    client = Client(server.port)
    client.no_ack()
    # global 0 is the C stack pointer: a 4-byte i32, 16-byte aligned
    sp = client.ask("qWasmGlobal:0;0", acked=False)
    assert len(sp) == 8 and int.from_bytes(bytes.fromhex(sp), "little") % 16 == 0
    assert int.from_bytes(bytes.fromhex(sp), "little") > 0
    assert client.ask("qWasmGlobal:0;9999", acked=False) == "E01"
    assert client.ask("qWasmLocal:0;9999", acked=False) == "E01"
    assert client.ask("qWasmStackValue:0;0", acked=False) == "E01"  # empty stack on entry
    stack = bytes.fromhex(client.ask("qWasmCallStack:1", acked=False))
    assert len(stack) == 8 and stack[7] == 0x40
    pc = client.ask("p0;thread:1;", acked=False)
    assert bytes.fromhex(pc) == stack
    finish_by_kill(client, server)


def test_breakpoint_set_while_running_stops_the_loop() -> None:
    from wasmdbg.wasm.decoder import decode_module

    mdef = decode_module((PROGRAMS_DIR / PROGRAM).read_bytes())
    (body,) = [b for b in mdef.bodies if mdef.func_name(b.func_index) == "spin"]
    loop = mdef.raw.index(b"\x03\x40", body.code_start, body.code_end)  # loop (empty block type)
    address = (1 << 62) | (loop + 2)
    server = Server(PROGRAM, ["spin"])
    client = Client(server.port)
    client.no_ack()
    client.send(frame("vCont;c:1"))
    time.sleep(0.3)
    assert client.ask(f"Z0,{address:x},1", acked=False) == "OK"
    reply = client.packet()
    assert reply.startswith("T05") and "reason:breakpoint;" in reply
    assert f"thread-pcs:{address:016x};" in reply
    finish_by_kill(client, server)


def test_nack_resends_the_last_reply(server: Server) -> None:
    client = Client(server.port)
    assert client.ask("qC") == "QC1"
    client.send(b"-")
    assert client.packet() == "QC1"
    client.send(b"+")
    finish_by_kill(client, server)


def test_half_a_packet_then_disconnect(server: Server) -> None:
    client = Client(server.port)
    client.send(b"$qSupported:multipro")
    client.close()
    status, _, _ = server.finish()
    assert status == 137


def test_detach_lets_the_guest_run_to_its_exit(server: Server) -> None:
    client = Client(server.port)
    client.no_ack()
    assert client.ask("Z0,4000000000000300,1", acked=False) == "OK"
    assert client.ask("D", acked=False) == "OK"
    status, out, _ = server.finish()
    assert status == 1 and "hello 6 3 120" in out


def test_each_recursive_frame_answers_its_own_locals(server: Server) -> None:
    from wasmdbg.wasm.decoder import decode_module

    mdef = decode_module(server.program.read_bytes())
    (body,) = [b for b in mdef.bodies if mdef.func_name(b.func_index) == "fact"]
    client = Client(server.port)
    client.no_ack()
    assert client.ask(f"Z0,{(1 << 62) | body.code_start:x},1", acked=False) == "OK"
    for _ in range(5):  # fact(5) .. fact(1)
        assert "reason:breakpoint;" in client.ask("c", acked=False)
    stack = bytes.fromhex(client.ask("qWasmCallStack:1", acked=False))
    assert len(stack) // 8 >= 6
    # parameter n is local 0 of each fact frame: 1 innermost, then 2, 3, 4, 5
    values = [int.from_bytes(bytes.fromhex(client.ask(f"qWasmLocal:{i};0", acked=False)), "little")
              for i in range(5)]
    assert values == [1, 2, 3, 4, 5]
    finish_by_kill(client, server)
