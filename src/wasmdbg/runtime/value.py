"""Values: ``Val``, and the conversions between Python values and 8-byte slots.

Every Wasm value crossing between Python and compiled code travels as one
64-bit slot (see the argument area in :mod:`wasmdbg.jit.abi`)::

    i32        low 32 bits, zero-extended      Python int, signed on the way out
    i64        all 64 bits                     Python int, signed on the way out
    f32        low 32 bits (IEEE), upper zero  Python float
    f64        all 64 bits (IEEE)              Python float
    funcref    VMFuncRef* (0 = null)           Func or None
    externref  per-Store handle (0 = null)     the Python object or None

:class:`Val` keeps the exact bits of numbers (``Val.from_bits`` / ``.bits``),
so NaN payloads survive a round trip.  :class:`SlotCodec` converts a whole
signature at once with one precompiled ``struct`` per direction; values a
fast ``struct`` cannot take (wrapping integers, ``Val`` objects, references)
fall back to per-value conversion.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import WasmError
from ..jit.frametable import decode_bits
from ..wasm import types as core
from .types import ValType

if TYPE_CHECKING:
    from .func import Func

__all__ = ["RefHost", "SlotCodec", "Val", "bits_to_py", "py_to_bits"]

_M32 = 0xFFFF_FFFF
_M64 = 0xFFFF_FFFF_FFFF_FFFF
_U64 = struct.Struct("<Q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")

I32 = core.ValType.I32
I64 = core.ValType.I64
F32 = core.ValType.F32
F64 = core.ValType.F64
_NUMERIC = frozenset((core.ValType.I32, core.ValType.I64, core.ValType.F32, core.ValType.F64))
FUNCREF = core.ValType.FUNCREF
EXTERNREF = core.ValType.EXTERNREF


class RefHost(Protocol):
    """What reference conversion needs from a Store."""

    def _extern_handle(self, obj: object) -> int: ...
    def _extern_object(self, handle: int) -> object: ...
    def _funcref_bits(self, func: Func) -> int: ...
    def _func_at(self, address: int) -> Func | None: ...


# NB: slot bits -> Python numbers is one codec for the whole project
# (``jit.frametable.decode_bits``, which the debugger's frame views use too)
def _s32(v: int) -> int:
    return int(decode_bits(v, I32))


def _s64(v: int) -> int:
    return int(decode_bits(v, I64))


def f32_bits(x: float) -> int:
    """The IEEE single bits of ``x`` (rounded; overflow gives infinity)."""
    try:
        return int(_U32.unpack(_F32.pack(x))[0])
    except OverflowError:
        return int(_U32.unpack(bytes(ctypes.c_float(x)))[0])


def f64_bits(x: float) -> int:
    """The IEEE double bits of ``x``."""
    return int(_U64.unpack(_F64.pack(x))[0])


def bits_f32(b: int) -> float:
    """The float whose single-precision bits are ``b``."""
    return float(decode_bits(b, F32))


def bits_f64(b: int) -> float:
    """The float whose double-precision bits are ``b``."""
    return float(decode_bits(b, F64))


def _func_class() -> type[Func]:
    from .func import Func

    return Func


def py_to_bits(host: RefHost, kind: core.ValType, value: Any) -> int:
    """Convert one Python value (or :class:`Val`) of type ``kind`` to slot bits."""
    if isinstance(value, Val):
        if value._kind is not kind:
            raise TypeError(f"wrong type of `Val` provided: {value._kind.text} for {kind.text}")
        return value._to_bits(host)
    if kind is I32:
        if isinstance(value, int):
            return value & _M32
    elif kind is I64:
        if isinstance(value, int):
            return value & _M64
    elif kind is F32:
        if isinstance(value, float | int):
            return f32_bits(float(value))
    elif kind is F64:
        if isinstance(value, float | int):
            return f64_bits(float(value))
    elif kind is FUNCREF:
        if value is None:
            return 0
        if isinstance(value, _func_class()):
            return host._funcref_bits(value)
    elif kind is EXTERNREF:
        if value is None:
            return 0
        return host._extern_handle(value)
    raise TypeError(f"don't know how to convert {value!r} to {kind.text}")


def bits_to_py(host: RefHost, kind: core.ValType, bits: int) -> Any:
    """Convert slot bits of type ``kind`` to the Python value."""
    if kind in _NUMERIC:
        return decode_bits(bits, kind)
    if kind is FUNCREF:
        return host._func_at(bits) if bits else None
    if kind is EXTERNREF:
        return host._extern_object(bits) if bits else None
    raise WasmError(f"unsupported value type {kind.text}")


class Val:
    """A typed Wasm value that keeps its exact bits.

    Build with ``Val.i32(5)``, ``Val.f64(1.5)``, ``Val.from_bits(ValType.f32(),
    0x7FC00001)``, ``Val.externref(obj)``, ``Val.funcref(func)`` or
    ``Val.ref_null(ty)``.  ``value`` is the Python value; ``bits`` the raw
    slot bits (numbers only).
    """

    __slots__ = ("_bits", "_kind", "_val")

    def __init__(self, kind: core.ValType, val: Any, bits: int | None = None) -> None:
        self._kind = kind
        self._val = val
        self._bits = bits

    # -- constructors ------------------------------------------------------
    @classmethod
    def i32(cls, val: int) -> Val:
        """A 32-bit integer (wrapped to signed, as wasmtime-py does)."""
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return cls(I32, _s32(val), val & _M32)

    @classmethod
    def i64(cls, val: int) -> Val:
        """A 64-bit integer (wrapped to signed)."""
        if not isinstance(val, int):
            raise TypeError("expected an integer")
        return cls(I64, _s64(val), val & _M64)

    @classmethod
    def f32(cls, val: float) -> Val:
        """A 32-bit float (rounded to single precision)."""
        if not isinstance(val, float | int):
            raise TypeError("expected a float")
        b = f32_bits(float(val))
        return cls(F32, bits_f32(b), b)

    @classmethod
    def f64(cls, val: float) -> Val:
        """A 64-bit float."""
        if not isinstance(val, float | int):
            raise TypeError("expected a float")
        b = f64_bits(float(val))
        return cls(F64, float(val), b)

    @classmethod
    def externref(cls, extern: Any | None) -> Val:
        """A reference to any Python object (None is the null reference)."""
        return cls(EXTERNREF, extern)

    @classmethod
    def funcref(cls, f: Func | None) -> Val:
        """A function reference (None is the null reference)."""
        return cls(FUNCREF, f)

    @classmethod
    def ref_null(cls, ty: ValType) -> Val:
        """The null reference of a reference type."""
        if ty == ValType.externref():
            return cls.externref(None)
        if ty == ValType.funcref():
            return cls.funcref(None)
        raise WasmError(f"Invalid reference type for `ref_null`: {ty}")

    @classmethod
    def from_bits(cls, ty: ValType, bits: int) -> Val:
        """A number from its raw bits (NaN payloads are kept exactly)."""
        kind = ty.wasm_type
        if kind is I32:
            return cls(I32, _s32(bits), bits & _M32)
        if kind is I64:
            return cls(I64, _s64(bits), bits & _M64)
        if kind is F32:
            return cls(F32, bits_f32(bits), bits & _M32)
        if kind is F64:
            return cls(F64, bits_f64(bits), bits & _M64)
        raise WasmError(f"from_bits needs a number type, not {ty}")

    @classmethod
    def from_slot(cls, host: RefHost, kind: core.ValType, bits: int) -> Val:
        """Runtime-facing: the value of slot ``bits`` of type ``kind`` (references resolved through ``host``)."""
        if kind.is_ref:
            return cls(kind, bits_to_py(host, kind, bits))
        return cls.from_bits(ValType.from_wasm_type(kind), bits)

    # -- accessors ---------------------------------------------------------
    @property
    def value(self) -> Any:
        """The Python value."""
        return self._val

    @property
    def bits(self) -> int:
        """The raw bits (numbers only)."""
        if self._bits is None:
            raise WasmError(f"a {self._kind.text} value has no bit pattern")
        return self._bits

    @property
    def type(self) -> ValType:
        """The value's type."""
        return ValType.from_wasm_type(self._kind)

    def _to_bits(self, host: RefHost) -> int:
        if self._bits is not None:
            return self._bits
        return py_to_bits(host, self._kind, self._val)

    def as_i32(self) -> int | None:
        """The value if this is an i32, else None."""
        return self._val if self._kind is I32 else None

    def as_i64(self) -> int | None:
        """The value if this is an i64, else None."""
        return self._val if self._kind is I64 else None

    def as_f32(self) -> float | None:
        """The value if this is an f32, else None."""
        return self._val if self._kind is F32 else None

    def as_f64(self) -> float | None:
        """The value if this is an f64, else None."""
        return self._val if self._kind is F64 else None

    def as_externref(self) -> Any | None:
        """The referenced object if this is an externref, else None."""
        return self._val if self._kind is EXTERNREF else None

    def as_funcref(self) -> Func | None:
        """The function if this is a funcref, else None."""
        return self._val if self._kind is FUNCREF else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Val):
            if self._bits is not None:
                return self._kind is other._kind and self._bits == other._bits
            return self._kind is other._kind and self._val is other._val
        return bool(self._val == other)

    def __hash__(self) -> int:
        return hash((self._kind, self._bits if self._bits is not None else id(self._val)))

    def __repr__(self) -> str:
        return f"Val.{self._kind.text}({self._val!r})"


_FAST_FMT = {I32: "i4x", I64: "q", F32: "f4x", F64: "d", FUNCREF: "Q", EXTERNREF: "Q"}
_FAST_ERRORS = (struct.error, OverflowError, TypeError)


class SlotCodec:
    """Converts one signature's parameters and results to and from slots.

    ``nslots`` is ``max(len(params), len(results), 1)``; ``view`` is the
    ``c_char`` array type covering them, for wrapping a slot address.
    """

    __slots__ = (
        "nparams",
        "nresults",
        "nslots",
        "params",
        "pfast",
        "prefs",
        "results",
        "rfast",
        "rrefs",
        "view",
    )

    def __init__(self, ft: core.FuncType) -> None:
        self.params = ft.params
        self.results = ft.results
        self.nparams = len(ft.params)
        self.nresults = len(ft.results)
        self.nslots = max(self.nparams, self.nresults, 1)
        self.view = ctypes.c_char * (8 * self.nslots)
        self.pfast = struct.Struct("<" + "".join(_FAST_FMT[t] for t in ft.params))
        self.rfast = struct.Struct("<" + "".join(_FAST_FMT[t] for t in ft.results))
        self.prefs = any(t.is_ref for t in ft.params)
        self.rrefs = any(t.is_ref for t in ft.results)

    # Python -> slots ----------------------------------------------------
    def _encode(self, host: RefHost, buf: Any, kinds: Sequence[core.ValType], values: Sequence[Any]) -> None:
        for i, kind in enumerate(kinds):
            _U64.pack_into(buf, 8 * i, py_to_bits(host, kind, values[i]))

    def write_params(self, host: RefHost, buf: Any, values: Sequence[Any]) -> None:
        """Store parameter values (Python values or :class:`Val`) into ``buf``."""
        if not self.prefs:
            try:
                self.pfast.pack_into(buf, 0, *values)
                return
            except _FAST_ERRORS:
                pass
        self._encode(host, buf, self.params, values)

    def write_results(self, host: RefHost, buf: Any, values: Sequence[Any]) -> None:
        """Store result values into ``buf`` (a host function returning)."""
        if not self.rrefs:
            try:
                self.rfast.pack_into(buf, 0, *values)
                return
            except _FAST_ERRORS:
                pass
        self._encode(host, buf, self.results, values)

    # slots -> Python ----------------------------------------------------
    def _decode(self, host: RefHost, raw: tuple[Any, ...], kinds: Sequence[core.ValType]) -> list[Any]:
        out = list(raw)
        for i, kind in enumerate(kinds):
            if kind.is_ref:
                out[i] = bits_to_py(host, kind, out[i])
        return out

    def read_params(self, host: RefHost, buf: Any) -> Sequence[Any]:
        """The parameter values in ``buf`` as Python values."""
        raw = self.pfast.unpack_from(buf)
        return self._decode(host, raw, self.params) if self.prefs else raw

    def read_results(self, host: RefHost, buf: Any) -> Sequence[Any]:
        """The result values in ``buf`` as Python values."""
        raw = self.rfast.unpack_from(buf)
        return self._decode(host, raw, self.results) if self.rrefs else raw

    def shape_results(self, values: Sequence[Any]) -> Any:
        """wasmtime-py's result shape: None, the single value, or a list."""
        n = self.nresults
        if n == 1:
            return values[0]
        if n == 0:
            return None
        return list(values)
