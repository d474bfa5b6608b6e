"""Debug Adapter Protocol framing: messages in and out of a byte stream, no I/O policy.

A DAP message is a header block and a JSON body::

    Content-Length: 119\\r\\n          one or more "Name: value" lines
    \\r\\n                             an empty line ends the header
    {"seq": 1, "type": "request", ...}  exactly Content-Length bytes of UTF-8 JSON

:class:`MessageReader` reads one message at a time from a binary stream and
returns the decoded JSON object; :func:`encode` turns an object into the
bytes to send; :class:`MessageWriter` sends them with a lock (several threads
write: the request loop, the guest thread's output and stop events) and
numbers each outgoing message (``seq``).

What can go wrong, and whether the stream can be read on afterwards::

    end of stream before any header byte      read() returns None (clean EOF)
    end of stream inside a message            ProtocolError(fatal=True)
    header line longer than MAX_HEADER,       ProtocolError(fatal=False): the
      no Content-Length, a bad length,        body's length is unknown, so the
      a line that is no header field          next read() skips lines until one
                                              starts with "Content-Length:"
                                              and reads on from there (resync)
    body longer than max_body                 ProtocolError(fatal=False): the
                                              body is read and dropped
    body not UTF-8 / not JSON / not an        ProtocolError(fatal=False): the
      object                                  next message can be read

Unknown header fields (``Content-Type``) are ignored, as the protocol allows.
"""

from __future__ import annotations

import json
import threading
from typing import Any, BinaryIO

from ..errors import ProtocolError

__all__ = ["DEFAULT_MAX_BODY", "MAX_HEADER", "MessageReader", "MessageWriter", "encode"]

#: longest header line accepted (bytes, line ending included)
MAX_HEADER = 1024
#: most header lines in one message
MAX_HEADER_LINES = 16
#: largest body accepted by default (a writeMemory of a few MiB, base64, fits)
DEFAULT_MAX_BODY = 64 * 1024 * 1024
_CHUNK = 64 * 1024


def encode(message: dict[str, Any]) -> bytes:
    """The framed bytes of one message (compact UTF-8 JSON)."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class MessageReader:
    """Reads framed messages from a binary stream (see the module docstring)."""

    def __init__(self, stream: BinaryIO, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.stream = stream
        self.max_body = max_body
        self._lost = False  # a bad header was seen: resync at the next Content-Length line

    def read(self) -> dict[str, Any] | None:
        """The next message, or ``None`` at a clean end of stream."""
        first: bytes | None = None
        if self._lost:
            first = self._find_header()
            if first is None:
                return None
            self._lost = False
        length = self._read_header(first)
        if length is None:
            return None
        if length > self.max_body:
            self._skip(length)
            raise ProtocolError(
                f"message body of {length} bytes is larger than the limit of {self.max_body}"
            )
        body = self._read_exact(length)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"message body is not UTF-8: {exc.reason}") from None
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"message body is not JSON: {exc.msg} at {exc.pos}") from None
        if not isinstance(message, dict):
            raise ProtocolError(f"a message must be a JSON object, not {type(message).__name__}")
        return message

    def _find_header(self) -> bytes | None:
        """Skip lines up to one that starts a header (``Content-Length:``); None at EOF."""
        while True:
            line = self.stream.readline(MAX_HEADER)
            if not line:
                return None
            if line.lstrip().lower().startswith(b"content-length:"):
                return line

    def _bad(self, message: str) -> ProtocolError:
        self._lost = True
        return ProtocolError(message)

    def _read_header(self, first: bytes | None = None) -> int | None:
        length: int | None = None
        lines = 0
        while True:
            if first is not None:
                line, first = first, None
            else:
                line = self.stream.readline(MAX_HEADER)
            if not line:
                if lines == 0:
                    return None
                raise ProtocolError("end of stream inside a message header", fatal=True)
            if not line.endswith(b"\n"):
                if len(line) >= MAX_HEADER:
                    raise self._bad(f"header line longer than {MAX_HEADER} bytes")
                raise ProtocolError("end of stream inside a message header", fatal=True)
            lines += 1
            text = line.rstrip(b"\r\n")
            if not text:
                if lines == 1:
                    continue  # NB: a stray blank line between messages is tolerated
                break
            if lines > MAX_HEADER_LINES:
                raise self._bad(f"more than {MAX_HEADER_LINES} header lines")
            name, sep, value = text.partition(b":")
            if not sep:
                raise self._bad(f"malformed header line {text[:80]!r}")
            if name.strip().lower() == b"content-length":
                raw = value.strip()
                if not raw.isdigit():
                    raise self._bad(f"bad Content-Length {raw[:40]!r}")
                length = int(raw)
        if length is None:
            raise self._bad("message header has no Content-Length")
        return length

    def _read_exact(self, size: int) -> bytes:
        parts: list[bytes] = []
        left = size
        while left > 0:
            chunk = self.stream.read(min(left, _CHUNK))
            if not chunk:
                raise ProtocolError(
                    f"end of stream after {size - left} of {size} body bytes", fatal=True
                )
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _skip(self, size: int) -> None:
        left = size
        while left > 0:
            chunk = self.stream.read(min(left, _CHUNK))
            if not chunk:
                raise ProtocolError("end of stream inside an oversized message", fatal=True)
            left -= len(chunk)


class MessageWriter:
    """Sends messages, numbering them; safe to call from several threads."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._seq = 0
        self.closed = False

    def send(self, message: dict[str, Any]) -> int:
        """Give ``message`` the next ``seq``, write and flush it; returns the seq.

        After the stream fails (the client went away) messages are dropped.
        """
        with self._lock:
            self._seq += 1
            message["seq"] = self._seq
            if self.closed:
                return self._seq
            try:
                self.stream.write(encode(message))
                self.stream.flush()
            except (OSError, ValueError):
                self.closed = True  # NB: a vanished client must not kill the guest thread
            return self._seq
