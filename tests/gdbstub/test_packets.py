"""Packet framing: checksums, escaping, run-length decoding, the reader state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmdbg.gdbstub.packets import (
    Ack,
    BadPacket,
    Interrupt,
    Nack,
    Packet,
    PacketReader,
    ProtocolError,
    checksum,
    decode_payload,
    escape,
    frame,
    hex_decode,
    hex_encode,
    parse_hex,
    rle_decode,
    unescape,
)


def test_checksum_is_the_byte_sum_mod_256() -> None:
    assert checksum(b"") == 0
    assert checksum(b"OK") == 0x9A
    assert checksum(b"\xff\x02") == 0x01


def test_frame_known_packets() -> None:
    assert frame("OK") == b"$OK#9a"
    assert frame("") == b"$#00"
    assert frame(b"a}b") == b"$a}]b#" + b"%02x" % checksum(b"a}]b")


def test_escape_every_special_byte() -> None:
    assert escape(b"$#}*") == b"}\x04}\x03}]}\x0a"
    assert escape(b"plain") == b"plain"
    assert unescape(escape(b"$#}*")) == b"$#}*"


def test_unescape_trailing_escape_is_an_error() -> None:
    with pytest.raises(ProtocolError):
        unescape(b"abc}")
    with pytest.raises(ProtocolError):
        decode_payload(b"abc}")


@given(st.binary(max_size=200))
def test_escape_round_trip(data: bytes) -> None:
    escaped = escape(data)
    assert not any(b in b"$#*" for b in escaped)
    assert unescape(escaped) == data
    assert decode_payload(escaped) == data


def test_rle_decode() -> None:
    # '0* ' is '0' plus ord(' ')-29 = 3 more
    assert rle_decode(b"0* ") == b"0000"
    assert rle_decode(b"ab*\"c") == b"a" + b"b" * 6 + b"c"
    assert rle_decode(b"none") == b"none"


@pytest.mark.parametrize("bad", [b"*a", b"a*", b"a*\x01", b"a*#", b"a*$"])
def test_rle_decode_malformed(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        rle_decode(bad)


def test_decode_payload_escaped_star_is_data_and_runs_repeat_unescaped_bytes() -> None:
    assert decode_payload(b"}\x0a") == b"*"
    assert decode_payload(b"}]* ") == b"}}}}"


def test_hex_helpers() -> None:
    assert hex_encode(b"\x00\xab") == "00ab"
    assert hex_decode("00AB") == b"\x00\xab"
    assert hex_decode(b"ff") == b"\xff"
    assert parse_hex("4000000000000000") == 1 << 62
    for bad in ("abc", "zz", "0x12", "+1"):
        with pytest.raises(ProtocolError):
            hex_decode(bad)
    for bad in ("", "-1", "0x1", "g", "1" * 17):
        with pytest.raises(ProtocolError):
            parse_hex(bad)


def test_reader_packets_acks_and_interrupts() -> None:
    reader = PacketReader()
    events = reader.feed(b"+$qC#b4-\x03$?#3f")
    assert events == [Ack(), Packet(b"qC"), Nack(), Interrupt(), Packet(b"?")]
    assert events[1].text == "qC"  # type: ignore[union-attr]


def test_reader_any_split_gives_the_same_events() -> None:
    stream = frame("qSupported:xmlRegisters=i386") + b"+" + frame("m1,2") + b"\x03"
    whole = PacketReader().feed(stream)
    reader = PacketReader()
    dripped = [e for b in stream for e in reader.feed(bytes([b]))]
    assert dripped == whole
    assert [type(e) for e in whole] == [Packet, Ack, Packet, Interrupt]


def test_reader_bad_checksum() -> None:
    (event,) = PacketReader().feed(b"$OK#00")
    assert isinstance(event, BadPacket)
    assert "checksum" in event.reason
    (event,) = PacketReader().feed(b"$OK#zz")
    assert isinstance(event, BadPacket)


def test_reader_bad_escape_is_a_bad_packet() -> None:
    body = b"ab}"
    (event,) = PacketReader().feed(b"$" + body + b"#%02x" % checksum(body))
    assert isinstance(event, BadPacket)


def test_reader_oversized_packet_is_dropped_and_the_buffer_stays_bounded() -> None:
    reader = PacketReader(max_size=64)
    events = reader.feed(b"$" + b"A" * 10_000)
    assert events == []
    assert len(reader._body) <= 64
    events = reader.feed(b"#00$OK#9a")
    assert isinstance(events[0], BadPacket)
    assert "longer" in events[0].reason
    assert events[1] == Packet(b"OK")


def test_reader_junk_between_packets_is_counted_and_dropped() -> None:
    reader = PacketReader()
    events = reader.feed(b"garbage\xff\x00$OK#9a")
    assert events == [Packet(b"OK")]
    assert reader.junk == 9


def test_reader_dollar_inside_body_restarts() -> None:
    reader = PacketReader()
    assert reader.feed(b"$half$OK#9a") == [Packet(b"OK")]


def test_reader_rejects_tiny_bound() -> None:
    with pytest.raises(ValueError):
        PacketReader(max_size=1)


@given(st.binary(max_size=300))
def test_reader_never_raises_on_random_bytes(data: bytes) -> None:
    reader = PacketReader(max_size=32)
    for event in reader.feed(data):
        assert isinstance(event, Packet | BadPacket | Ack | Nack | Interrupt)
    assert len(reader._body) <= 32


@given(st.binary(max_size=100))
def test_framed_payloads_come_back(payload: bytes) -> None:
    assert PacketReader().feed(frame(payload)) == [Packet(payload)]
