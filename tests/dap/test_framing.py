"""dap/framing: Content-Length framing over in-memory streams."""

from __future__ import annotations

import io
import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmdbg.dap.framing import MAX_HEADER, MessageReader, MessageWriter, encode
from wasmdbg.errors import ProtocolError


def _frame(body: bytes, header: bytes | None = None) -> bytes:
    if header is None:
        header = b"Content-Length: %d\r\n\r\n" % len(body)
    return header + body


def test_encode_then_read_round_trip() -> None:
    msgs = [{"seq": 1, "type": "request", "command": "initialize", "arguments": {"x": "é"}},
            {"seq": 2, "type": "event", "event": "output"}]
    stream = io.BytesIO(b"".join(encode(m) for m in msgs))
    reader = MessageReader(stream)
    assert reader.read() == msgs[0]
    assert reader.read() == msgs[1]
    assert reader.read() is None


def test_length_counts_bytes_not_characters() -> None:
    data = encode({"t": "żółw"})
    header, _, body = data.partition(b"\r\n\r\n")
    assert header == b"Content-Length: %d" % len(body)
    assert len(body) > len(json.dumps({"t": "żółw"}, ensure_ascii=False))


def test_other_headers_and_case_are_accepted() -> None:
    body = b'{"a": 1}'
    raw = b"content-type: application/vscode-jsonrpc\r\nCONTENT-LENGTH:  8\r\n\r\n" + body
    assert MessageReader(io.BytesIO(raw)).read() == {"a": 1}


def test_bare_newlines_are_accepted() -> None:
    assert MessageReader(io.BytesIO(b"Content-Length: 2\n\n{}")).read() == {}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_bad_body_is_recoverable(body: bytes) -> None:
    stream = io.BytesIO(_frame(body) + encode({"ok": True}))
    reader = MessageReader(stream)
    with pytest.raises(ProtocolError) as info:
        reader.read()
    assert not info.value.fatal
    assert reader.read() == {"ok": True}


def test_oversized_body_is_skipped() -> None:
    big = b'{"x": "' + b"a" * 5000 + b'"}'
    reader = MessageReader(io.BytesIO(_frame(big) + encode({"next": 1})), max_body=1000)
    with pytest.raises(ProtocolError, match="larger than the limit") as info:
        reader.read()
    assert not info.value.fatal
    assert reader.read() == {"next": 1}


@pytest.mark.parametrize(
    "raw",
    [
        b"Content-Type: x\r\n\r\n{}",  # no length
        b"Content-Length: -3\r\n\r\n{}",
        b"Content-Length: 1e3\r\n\r\n{}",
        b"Garbage line\r\n\r\n{}",
        b"X-Long: " + b"a" * (MAX_HEADER + 10) + b"\r\n\r\n{}",
        b"".join(b"X-%d: y\r\n" % i for i in range(40)) + b"\r\n{}",
        b"\x00\xff binary noise \x01\r\n" * 3,
    ],
)
def test_unreadable_header_resyncs_at_the_next_message(raw: bytes) -> None:
    reader = MessageReader(io.BytesIO(raw + b"\r\n" + encode({"after": 1})))
    with pytest.raises(ProtocolError) as info:
        reader.read()
    assert not info.value.fatal
    assert reader.read() == {"after": 1}
    assert reader.read() is None


@pytest.mark.parametrize(
    "raw",
    [
        b"Content-Length: 10\r\n\r\n{}",  # stream ends inside the body
        b"Content-Length: 2\r\n",  # stream ends inside the header
        b"Content-Length: 2",
    ],
)
def test_end_of_stream_inside_a_message_is_fatal(raw: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        MessageReader(io.BytesIO(raw)).read()
    assert info.value.fatal


def test_resync_ends_cleanly_at_end_of_stream() -> None:
    reader = MessageReader(io.BytesIO(b"nonsense\r\n\r\nmore nonsense\n"))
    with pytest.raises(ProtocolError):
        reader.read()
    assert reader.read() is None


def test_writer_numbers_messages_and_is_thread_safe() -> None:
    out = io.BytesIO()
    writer = MessageWriter(out)

    def many() -> None:
        for _ in range(200):
            writer.send({"type": "event", "event": "output"})

    threads = [threading.Thread(target=many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.seek(0)
    reader = MessageReader(out)
    seqs = []
    while (msg := reader.read()) is not None:
        seqs.append(msg["seq"])
    assert sorted(seqs) == list(range(1, 801))


def test_writer_drops_messages_once_the_stream_fails() -> None:
    class Broken(io.BytesIO):
        def write(self, data: object) -> int:
            raise BrokenPipeError("gone")

    writer = MessageWriter(Broken())
    assert writer.send({"a": 1}) == 1
    assert writer.closed
    assert writer.send({"a": 2}) == 2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=64), st.sampled_from(
    [b"Content-Length: 2\r\n\r\n{}", b"\r\n", b"Content-Length: ", b"{\"a\":1}", b"Content-Length: 7\r\n\r\n"]
)), max_size=12))
def test_any_bytes_give_messages_or_protocol_errors(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    reader = MessageReader(io.BytesIO(data), max_body=64)
    for _ in range(len(data) + 2):  # every read consumes input, so this many always suffice
        try:
            message = reader.read()
        except ProtocolError as exc:
            if exc.fatal:
                return
            continue
        if message is None:
            return
        assert isinstance(message, dict)
    raise AssertionError("the reader did not reach the end of its input")
