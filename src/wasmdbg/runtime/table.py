"""``Table``: a growable array of references.

Elements are raw slot bits (``VMFuncRef*`` for funcref, an externref handle
for externref; 0 is null) in a C array that ``VMTable.elements`` points at.
Growing beyond the capacity allocates a larger array and repoints
``VMTable.elements`` (compiled code reloads it on every access).
"""

from __future__ import annotations

import ctypes
from typing import Any

from ..errors import WasmError
from ..wasm import types as core
from .store import Store, as_store
from .types import TableType
from .value import bits_to_py, py_to_bits
from .vmcontext import VMTable

__all__ = ["MAX_TABLE_ELEMENTS", "Table"]

MAX_TABLE_ELEMENTS = 10_000_000


class Table:
    """A table: ``Table(store, TableType(ValType.funcref(), Limits(1, None)), None)``."""

    __slots__ = ("__weakref__", "_arr", "_store", "_ty", "_vm", "_vm_addr")

    _store: Store
    _ty: core.TableType
    _vm: VMTable
    _vm_addr: int
    _arr: ctypes.Array[ctypes.c_uint64]

    def __init__(self, store: Any, ty: TableType, init: Any) -> None:
        if not isinstance(ty, TableType):
            raise TypeError("expected a TableType")
        st = as_store(store)
        self._init(st, ty.wasm_type, py_to_bits(st, ty.wasm_type.elem, init))

    @classmethod
    def create(cls, store: Store, ty: core.TableType, init_bits: int = 0) -> Table:
        """Runtime-facing: a table of the decoder's type ``ty``, elements ``init_bits`` (instantiation)."""
        self = object.__new__(cls)
        self._init(store, ty, init_bits)
        return self

    def _init(self, store: Store, ty: core.TableType, init_bits: int) -> None:
        lim = store.limits
        if lim.tables is not None and store.table_count >= lim.tables:
            raise WasmError("resource limit exceeded: table count too high")
        n = ty.limits.min
        if n > self._max_for(store, ty):
            raise WasmError(f"table minimum size of {n} elements exceeds table limits")
        self._store = store
        self._ty = ty
        arr = (ctypes.c_uint64 * max(n, 1))()
        if init_bits:
            for i in range(n):
                arr[i] = init_bits
        self._arr = arr
        vm = VMTable()
        vm.elements = ctypes.addressof(arr)
        vm.size = n
        self._vm = vm
        self._vm_addr = ctypes.addressof(vm)
        store.register_table(self)

    @staticmethod
    def _max_for(store: Store, ty: core.TableType) -> int:
        mx = ty.limits.max if ty.limits.max is not None else 0xFFFF_FFFF
        mx = min(mx, MAX_TABLE_ELEMENTS)
        lim = store.limits.table_elements
        return mx if lim is None else min(mx, lim)

    # -- runtime-facing: used by compiled code (libcalls), instantiation and the Store ----
    @property
    def element_count(self) -> int:
        """Runtime-facing: the current number of elements."""
        return self._vm.size

    def try_grow(self, delta: int, init_bits: int) -> int:
        """Runtime-facing: grow by ``delta`` elements set to ``init_bits``; old size or -1."""
        old = self._vm.size
        new = old + delta
        if new > self._max_for(self._store, self._ty):
            return -1
        arr = self._arr
        if new > len(arr):
            cap = max(new, min(2 * len(arr), self._max_for(self._store, self._ty)))
            bigger = (ctypes.c_uint64 * cap)()
            ctypes.memmove(bigger, arr, 8 * old)
            self._arr = arr = bigger
            self._vm.elements = ctypes.addressof(bigger)
        if init_bits:
            for i in range(old, new):
                arr[i] = init_bits
        else:
            ctypes.memset(ctypes.addressof(arr) + 8 * old, 0, 8 * delta)
        self._vm.size = new
        return old

    def current_wasm_type(self) -> core.TableType:
        """Runtime-facing: the type with ``limits.min`` the current size (what imports are matched against)."""
        return core.TableType(self._ty.elem, core.Limits(self._vm.size, self._ty.limits.max))

    @property
    def wasm_type(self) -> core.TableType:
        """Runtime-facing: the declared type as the decoder spells it."""
        return self._ty

    def set_bits(self, index: int, bits: int) -> None:
        """Runtime-facing: store raw slot bits at ``index`` (the caller checked bounds)."""
        self._arr[index] = bits

    def element_bits(self) -> list[int]:
        """Runtime-facing: the raw slot bits of every current element."""
        return list(self._arr[: self._vm.size])

    def belongs_to(self, store: Store) -> bool:
        """Runtime-facing: whether this table was created in ``store``."""
        return self._store is store

    # -- wasmtime-py API -----------------------------------------------------------
    def type(self, store: Any) -> TableType:
        """The table's type; ``limits.min`` is the current size."""
        return TableType.from_wasm_type(self.current_wasm_type())

    def size(self, store: Any) -> int:
        """Current number of elements."""
        return self._vm.size

    def grow(self, store: Any, amt: int, init: Any) -> int:
        """Grow by ``amt`` elements set to ``init``; returns the previous size."""
        st = as_store(store)
        if not isinstance(amt, int):
            raise TypeError(f"expected an integer element count, not {amt!r}")
        if amt < 0:
            raise WasmError(f"failed to grow table by `{amt}`")
        old = self.try_grow(amt, py_to_bits(st, self._ty.elem, init))
        if old < 0:
            raise WasmError(f"failed to grow table by `{amt}`")
        return old

    def get(self, store: Any, idx: int) -> Any:
        """Element ``idx`` (a Func, an object, or None for null / out of bounds)."""
        if not 0 <= idx < self._vm.size:
            return None
        return bits_to_py(as_store(store), self._ty.elem, int(self._arr[idx]))

    def set(self, store: Any, idx: int, val: Any) -> None:
        """Store ``val`` (Func / object / None) at ``idx``."""
        st = as_store(store)
        bits = py_to_bits(st, self._ty.elem, val)
        if not 0 <= idx < self._vm.size:
            raise WasmError("wasm trap: undefined element: out of bounds table access")
        self._arr[idx] = bits

    @property
    def vm_address(self) -> int:
        """Address of the VMTable structure compiled code reads."""
        return self._vm_addr

    def __repr__(self) -> str:
        return f"<Table {self._ty.elem.text} x {self._vm.size}>"
