"""Values on the command line: ``--invoke`` arguments in, results out, as ``wasmtime run`` does.

Parsing (:func:`parse_value`) follows Wasmtime's CLI, which uses Rust's
``str::parse``::

    i32, i64   [+-]?DIGITS            decimal
               0x[+-]?HEXDIGITS       hexadecimal (also 0X); the sign comes after the prefix
               the value must fit the *signed* type: 4294967295 is not an i32
    f32, f64   [+-]?(DIGITS[.DIGITS]|.DIGITS)([eE][+-]?DIGITS)?, inf, infinity, nan
               (words in any case); rounded once, to nearest, into the target width

Anything else (spaces, ``_`` separators, ``0b``/``0o`` prefixes, non-ASCII digits)
is a :class:`~wasmdbg.errors.WasmError` naming the argument and the reason.
Reference and vector parameters cannot be given on the command line.

Formatting (:func:`format_value`) prints what Rust's ``Display`` prints:
integers in signed decimal; floats as the shortest decimal that reads back
to the same value, never with an exponent (``1e300`` prints all 301 digits),
``inf``, ``-inf``, ``NaN``, ``-0``; references as ``<funcref>``,
``<externref>`` or ``<null funcref>``, ``<null externref>``.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from fractions import Fraction

from ..errors import WasmError

__all__ = ["format_value", "parse_value"]

_LIMITS = {"i32": 32, "i64": 64}
_DEC = re.compile(r"[+-]?[0-9]+", re.ASCII)
_HEX = re.compile(r"[+-]?[0-9a-fA-F]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_FLOAT_WORDS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}


def parse_value(text: str, ty: str) -> int | float:
    """The Wasm value of ``text`` as a parameter of type ``ty`` (``i32`` ...)."""
    if ty in _LIMITS:
        return _parse_int(text, _LIMITS[ty])
    if ty in ("f32", "f64"):
        return _parse_float(text, ty)
    raise WasmError(f"unsupported argument type {ty}")


def _parse_int(text: str, bits: int) -> int:
    digits, base, pattern = text, 10, _DEC
    if text[:2] in ("0x", "0X"):
        digits, base, pattern = text[2:], 16, _HEX
    if not digits:
        raise WasmError("cannot parse an integer from an empty string")
    if not pattern.fullmatch(digits):
        raise WasmError("invalid digit found in string")
    value = int(digits, base)
    if value >= 1 << (bits - 1):
        raise WasmError(f"number too large to fit in i{bits}")
    if value < -(1 << (bits - 1)):
        raise WasmError(f"number too small to fit in i{bits}")
    return value


def _parse_float(text: str, ty: str) -> float:
    sign, body = ("-", text[1:]) if text[:1] == "-" else ("", text[1:] if text[:1] == "+" else text)
    word = _FLOAT_WORDS.get(body.lower())
    if word is not None:
        return -word if sign and not math.isnan(word) else word
    if not _FLOAT.fullmatch(text):
        raise WasmError("invalid float literal")
    value = float(text)  # correctly rounded to f64
    if ty == "f32":
        value = _round_to_f32(text, value)
    return value


def _f32(x: float) -> float:
    try:
        return float(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def _f32_bits(x: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", x))[0])


def _f32_from_bits(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", bits & 0xFFFF_FFFF))[0])


def _round_to_f32(text: str, wide: float) -> float:
    """``text`` rounded once to f32 (rounding through f64 first can be off by one ulp)."""
    narrow = _f32(wide)
    if not math.isfinite(wide) or wide == 0 or not math.isfinite(narrow):
        return narrow
    exact = Fraction(Decimal(text))
    bits = _f32_bits(narrow)
    best, best_err = narrow, abs(Fraction(narrow) - exact)
    for neighbour_bits in (bits - 1, bits + 1):
        neighbour = _f32_from_bits(neighbour_bits)
        if not math.isfinite(neighbour) or math.copysign(1, neighbour) != math.copysign(1, narrow):
            continue
        err = abs(Fraction(neighbour) - exact)
        if err < best_err or (err == best_err and neighbour_bits % 2 == 0):
            best, best_err = neighbour, err
    return best


def format_value(value: object, ty: str) -> str:
    """One result of type ``ty`` as ``wasmtime run --invoke`` prints it."""
    if ty in ("funcref", "externref"):
        kind = ty[:-3]
        return f"<null {kind}ref>" if value is None else f"<{kind}ref>"
    if ty in ("f32", "f64") and isinstance(value, float):
        return _format_float(value, ty)
    return str(value)


def _format_float(value: float, ty: str) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    digits = _shortest_f32(value) if ty == "f32" else repr(value)
    text = format(Decimal(digits).normalize(), "f")
    return text


def _shortest_f32(value: float) -> str:
    """The shortest decimal (as ``%e`` text) that reads back as the f32 ``value``."""
    for precision in range(9):
        text = f"{value:.{precision}e}"
        if _f32(float(text)) == value:
            return text
    return f"{value:.8e}"  # 9 significant digits always read back
