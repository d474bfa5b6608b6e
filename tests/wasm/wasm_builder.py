"""Tiny helpers to hand-build Wasm binaries in tests (bytes only, no validation)."""

from __future__ import annotations

HEADER = b"\x00asm\x01\x00\x00\x00"


def uleb(n: int) -> bytes:
    """Unsigned LEB128, shortest form."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n: int) -> bytes:
    """Signed LEB128, shortest form."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def name(s: str) -> bytes:
    raw = s.encode()
    return uleb(len(raw)) + raw


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def func_type(params: bytes = b"", results: bytes = b"") -> bytes:
    return b"\x60" + uleb(len(params)) + params + uleb(len(results)) + results


def body(code: bytes, locals_: list[tuple[int, int]] | None = None) -> bytes:
    """A code-section entry; ``code`` must include the final ``end``."""
    loc = vec([uleb(n) + bytes([t]) for n, t in (locals_ or [])])
    payload = loc + code
    return uleb(len(payload)) + payload


def one_func(code: bytes, locals_: list[tuple[int, int]] | None = None, *extra: bytes) -> bytes:
    """A module with one ``[] -> []`` function whose body is ``code``."""
    return module(
        section(1, vec([func_type()])),
        section(3, vec([b"\x00"])),
        *extra,
        section(10, vec([body(code, locals_)])),
    )
