"""``Global``: one 8-byte cell compiled code reads and writes in place.

The VMContext's ``globals`` array holds a pointer per global to its cell;
an imported global's pointer is the exporting Global's cell, so both
instances share the value.  The cell holds slot bits (see ``value``).
"""

from __future__ import annotations

import ctypes
from typing import Any

from ..errors import WasmError
from ..wasm import types as core
from .store import Store, as_store
from .types import GlobalType
from .value import Val, bits_to_py, py_to_bits

__all__ = ["Global"]


class Global:
    """A global: ``Global(store, GlobalType(ValType.i32(), True), 0)``."""

    __slots__ = ("__weakref__", "_cell", "_cell_addr", "_store", "_ty")

    _store: Store
    _ty: core.GlobalType
    _cell: ctypes.c_uint64
    _cell_addr: int

    def __init__(self, store: Any, ty: GlobalType, val: Any) -> None:
        if not isinstance(ty, GlobalType):
            raise TypeError("expected a GlobalType")
        st = as_store(store)
        self._init(st, ty.wasm_type, py_to_bits(st, ty.wasm_type.valtype, val))

    @classmethod
    def create(cls, store: Store, ty: core.GlobalType, bits: int) -> Global:
        """Runtime-facing: a global of the decoder's type ``ty`` holding slot ``bits`` (instantiation)."""
        self = object.__new__(cls)
        self._init(store, ty, bits)
        return self

    def _init(self, store: Store, ty: core.GlobalType, bits: int) -> None:
        self._store = store
        self._ty = ty
        self._cell = ctypes.c_uint64(bits)
        self._cell_addr = ctypes.addressof(self._cell)
        store.register_global(self)

    @property
    def raw_bits(self) -> int:
        """Runtime-facing: the cell's slot bits."""
        return int(self._cell.value)

    def belongs_to(self, store: Store) -> bool:
        """Runtime-facing: whether this global was created in ``store``."""
        return self._store is store

    def type(self, store: Any) -> GlobalType:
        """The global's type."""
        return GlobalType.from_wasm_type(self._ty)

    def value(self, store: Any) -> Any:
        """The current value as a Python value."""
        return bits_to_py(as_store(store), self._ty.valtype, self._cell.value)

    def value_val(self, store: Any) -> Val:
        """The current value as a :class:`Val` (exact bits)."""
        return Val.from_slot(as_store(store), self._ty.valtype, self._cell.value)

    def set_value(self, store: Any, val: Any) -> None:
        """Set the value (mutable globals only)."""
        if not self._ty.mutable:
            raise WasmError("immutable global cannot be set")
        self._cell.value = py_to_bits(as_store(store), self._ty.valtype, val)

    @property
    def wasm_type(self) -> core.GlobalType:
        """The global's type as the decoder spells it (value type and mutability)."""
        return self._ty

    @property
    def cell_address(self) -> int:
        """Address of the 8-byte cell compiled code reads."""
        return self._cell_addr

    def __repr__(self) -> str:
        return f"<Global {self._ty.valtype.text} = {self._cell.value:#x}>"
