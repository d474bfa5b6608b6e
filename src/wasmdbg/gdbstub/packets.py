"""GDB remote protocol framing: checksums, escaping, run-length decoding, hex.

Pure functions and one pure state machine (:class:`PacketReader`); nothing
here touches a socket.  On the wire::

    $<payload>#<two hex digits>      a packet; the digits are the sum of the
                                     payload's bytes (as sent) modulo 256
    +  /  -                          ack / nack (until QStartNoAckMode)
    \\x03                             interrupt request (outside a packet)

Inside a payload ``}`` escapes the next byte (it is sent XORed with 0x20) and
``X*n`` repeats ``X`` ``ord(n) - 29`` more times (run-length encoding).  We
never send run-length encoded data; we decode it when it arrives.

:class:`PacketReader` states (bytes are fed in any split)::

             '$'                      '#'               2 chars
    IDLE ────────► BODY ───────────────────► SUM ─────────────► IDLE
     │ '+' '-' \\x03 │ byte: append (or,       (emit Packet, or
     │ -> events     │ past max_size, drop:    BadPacket for a bad
     │ else: junk    │ Oversized on '#')       checksum / encoding)
     ▼ (counted)     │ '$': restart BODY (the old one was junk)

The body buffer never grows beyond ``max_size`` bytes: a longer packet is
dropped and reported as one :class:`BadPacket`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import WasmError

__all__ = [
    "Ack",
    "BadPacket",
    "Interrupt",
    "Nack",
    "Packet",
    "PacketReader",
    "ProtocolError",
    "checksum",
    "decode_payload",
    "escape",
    "frame",
    "hex_decode",
    "hex_encode",
    "parse_hex",
    "rle_decode",
    "unescape",
]

_ESCAPE = 0x7D  # '}'
_RLE = 0x2A  # '*'
_SPECIAL = frozenset(b"$#}*")


class ProtocolError(WasmError):
    """A packet or packet field that does not follow the protocol."""


def checksum(data: bytes) -> int:
    """The modulo-256 sum of ``data``'s bytes."""
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape ``$ # } *`` so ``data`` can travel inside a packet."""
    if not any(b in _SPECIAL for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _SPECIAL:
            out.append(_ESCAPE)
            out.append(b ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape` (``}x`` -> ``x ^ 0x20``); a trailing ``}`` is an error."""
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == _ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                raise ProtocolError("packet ends inside an escape")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def rle_decode(data: bytes) -> bytes:
    """Expand ``X*n`` runs (``X`` then ``ord(n) - 29`` more copies of it)."""
    return decode_payload(data, escapes=False)


def decode_payload(data: bytes, *, escapes: bool = True) -> bytes:
    """A received payload as bytes: escapes and run-length runs undone in one pass.

    NB: one pass, because a run repeats the byte *after* unescaping (an
    escaped ``}`` can be repeated) and an escaped ``*`` is data, not a run.
    """
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if escapes and b == _ESCAPE:
            if i + 1 >= n:
                raise ProtocolError("packet ends inside an escape")
            out.append(data[i + 1] ^ 0x20)
            i += 2
        elif b == _RLE:
            if not out:
                raise ProtocolError("run-length marker with nothing to repeat")
            if i + 1 >= n:
                raise ProtocolError("packet ends inside a run-length marker")
            count = data[i + 1] - 29
            if count < 3 or data[i + 1] in (ord("#"), ord("$")):
                raise ProtocolError(f"bad run-length count byte 0x{data[i + 1]:02x}")
            out.extend(bytes([out[-1]]) * count)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def frame(payload: bytes | str) -> bytes:
    """``$<escaped payload>#<checksum>``, ready to send."""
    raw = payload.encode("latin-1") if isinstance(payload, str) else payload
    body = escape(raw)
    return b"$" + body + b"#" + b"%02x" % checksum(body)


def hex_encode(data: bytes) -> str:
    """Two lowercase hex digits per byte."""
    return data.hex()


def hex_decode(text: str | bytes) -> bytes:
    """Bytes from an even number of hex digits (ProtocolError otherwise)."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if len(text) % 2 or not _is_hex(text):
        raise ProtocolError(f"not hex bytes: {text[:40]!r}")
    return bytes.fromhex(text)


def parse_hex(text: str, what: str = "number") -> int:
    """A non-negative hex number (no ``0x``, no sign; ProtocolError otherwise)."""
    if not text or not _is_hex(text) or len(text) > 16:
        raise ProtocolError(f"bad hex {what}: {text[:40]!r}")
    return int(text, 16)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


# --------------------------------------------------------------------------
# Reading packets from a byte stream


@dataclass(frozen=True, slots=True)
class Packet:
    """A complete packet with a good checksum; ``payload`` decoded (escapes, runs)."""

    payload: bytes

    @property
    def text(self) -> str:
        """The payload as text (latin-1: every byte maps to one character)."""
        return self.payload.decode("latin-1")


@dataclass(frozen=True, slots=True)
class BadPacket:
    """A framed packet we could not accept (``reason`` says why); answer ``-``."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ack:
    """The peer acknowledged our last packet (``+``)."""


@dataclass(frozen=True, slots=True)
class Nack:
    """The peer asks for our last packet again (``-``)."""


@dataclass(frozen=True, slots=True)
class Interrupt:
    """The peer sent ``\\x03`` between packets: pause the guest."""


Event = Packet | BadPacket | Ack | Nack | Interrupt


class _State(enum.Enum):
    IDLE = 0
    BODY = 1
    SUM = 2


class PacketReader:
    """Turns received bytes into :data:`Event` objects, with a bounded buffer.

    ``max_size`` bounds a packet's body as sent (escaped); ``junk`` counts
    bytes seen outside any packet that mean nothing (they are dropped).
    """

    def __init__(self, max_size: int = 0x4000) -> None:
        if max_size < 16:
            raise ValueError("max_size must be at least 16")
        self.max_size = max_size
        self.junk = 0
        self._state = _State.IDLE
        self._body = bytearray()
        self._sum = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data``; return the events it completed, in order."""
        events: list[Event] = []
        for b in data:
            self._byte(b, events)
        return events

    def _byte(self, b: int, events: list[Event]) -> None:
        state = self._state
        if state is _State.IDLE:
            if b == 0x24:  # '$'
                self._start()
            elif b == 0x2B:  # '+'
                events.append(Ack())
            elif b == 0x2D:  # '-'
                events.append(Nack())
            elif b == 0x03:
                events.append(Interrupt())
            else:
                self.junk += 1
        elif state is _State.BODY:
            if b == 0x23:  # '#'
                self._state = _State.SUM
                self._sum.clear()
            elif b == 0x24:  # '$' inside a body: the old packet was cut off
                self.junk += len(self._body) + 1
                self._start()
            elif self._overflow:
                pass
            elif len(self._body) >= self.max_size:
                self._overflow = True
                self._body.clear()
            else:
                self._body.append(b)
        else:
            self._sum.append(b)
            if len(self._sum) == 2:
                self._state = _State.IDLE
                events.append(self._finish())

    def _start(self) -> None:
        self._state = _State.BODY
        self._body.clear()
        self._overflow = False

    def _finish(self) -> Event:
        if self._overflow:
            self._overflow = False
            return BadPacket(f"packet longer than {self.max_size} bytes")
        body = bytes(self._body)
        self._body.clear()
        digits = self._sum.decode("latin-1")
        if not _is_hex(digits):
            return BadPacket(f"bad checksum digits {digits!r}")
        if int(digits, 16) != checksum(body):
            return BadPacket(f"checksum mismatch: got {digits}, computed {checksum(body):02x}")
        try:
            return Packet(decode_payload(body))
        except ProtocolError as exc:
            return BadPacket(str(exc))
