"""``Memory``: a linear memory whose base address never moves.

The whole maximum size (``limits.max`` pages, or 4 GiB) is reserved once
through :class:`~wasmdbg.runtime.codemem.Reservation`; growing commits more
pages in place, so ``VMMemory.base`` (which compiled code loads) and
``data_ptr`` stay valid for the memory's life.  ``VMMemory.size`` is the
byte size compiled code bounds-checks against.

With signal-based bounds checks (``Config.signals_based_traps``, plain
builds) the reservation is at least :data:`SIGNAL_RESERVATION` (8 GiB):
compiled code adds a u32 index and a static offset below 2 GiB to the base
without a check, and everything past ``size`` is ``PROT_NONE``, so an
out-of-bounds access faults::

    base                base+size                  base+8 GiB
    |  read+write       |  PROT_NONE ..............|
"""

from __future__ import annotations

import ctypes
from typing import Any

from ..errors import WasmError
from ..wasm import types as core
from .codemem import CodeMemoryError, Reservation
from .store import Store, as_store
from .types import MemoryType
from .vmcontext import VMMemory

__all__ = ["Memory"]

PAGE = core.PAGE_SIZE
#: Address space reserved per memory when compiled code relies on faults: a
#: u32 index + an offset below 2 GiB + 16 bytes stays below 6 GiB.
SIGNAL_RESERVATION = 8 << 30


class Memory:
    """A linear memory: ``Memory(store, MemoryType(Limits(1, None)))``."""

    __slots__ = ("__weakref__", "_max_pages", "_res", "_store", "_ty", "_vm", "_vm_addr")

    _store: Store
    _ty: core.MemoryType
    _vm: VMMemory
    _vm_addr: int
    _res: Reservation
    _max_pages: int

    def __init__(self, store: Any, ty: MemoryType) -> None:
        if not isinstance(ty, MemoryType):
            raise TypeError("expected a MemoryType")
        self._init(as_store(store), ty.wasm_type)

    @classmethod
    def create(cls, store: Store, ty: core.MemoryType) -> Memory:
        """Runtime-facing: a memory of the decoder's type ``ty`` (instantiation)."""
        self = object.__new__(cls)
        self._init(store, ty)
        return self

    def _init(self, store: Store, ty: core.MemoryType) -> None:
        lim = store.limits
        if lim.memories is not None and store.memory_count >= lim.memories:
            raise WasmError("resource limit exceeded: memory count too high")
        minimum = ty.limits.min
        maximum = ty.limits.max if ty.limits.max is not None else core.MAX_PAGES
        if minimum > maximum:
            raise WasmError("memory minimum is larger than its maximum")
        if lim.memory_size is not None and minimum * PAGE > lim.memory_size:
            raise WasmError(f"memory minimum size of {minimum} pages exceeds memory limits")
        self._store = store
        self._ty = ty
        self._max_pages = maximum
        try:
            reserve = maximum * PAGE
            if store.engine.config.uses_signal_bounds:
                reserve = max(reserve, SIGNAL_RESERVATION)
            self._res = Reservation(reserve, minimum * PAGE)
        except CodeMemoryError as exc:
            raise WasmError(f"cannot allocate memory of {minimum} pages: {exc}") from exc
        vm = VMMemory()
        vm.base = self._res.address
        vm.size = minimum * PAGE
        self._vm = vm
        self._vm_addr = ctypes.addressof(vm)
        store.register_memory(self)

    # -- runtime-facing: used by compiled code (libcalls), instantiation and WASI ----
    def try_grow(self, delta: int) -> int:
        """Runtime-facing: grow by ``delta`` pages; the old size in pages, or -1."""
        old = self._vm.size // PAGE
        new = old + delta
        if new > self._max_pages:
            return -1
        lim = self._store.limits.memory_size
        if lim is not None and new * PAGE > lim:
            return -1
        if delta:
            try:
                self._res.commit(new * PAGE)
            except CodeMemoryError:
                return -1
            self._vm.size = new * PAGE
        return old

    def current_wasm_type(self) -> core.MemoryType:
        """Runtime-facing: the type with ``limits.min`` the current size (what imports are matched against)."""
        return core.MemoryType(core.Limits(self._vm.size // PAGE, self._ty.limits.max))

    @property
    def base_address(self) -> int:
        """Runtime-facing: address of byte 0 (never moves)."""
        return self._vm.base

    @property
    def byte_size(self) -> int:
        """Runtime-facing: the current size in bytes."""
        return self._vm.size

    def belongs_to(self, store: Store) -> bool:
        """Runtime-facing: whether this memory was created in ``store``."""
        return self._store is store

    def byte_view(self) -> memoryview:
        """The current bytes as a writable view (stale once the memory grows)."""
        size = self._vm.size
        if size == 0:
            return memoryview(bytearray())
        return memoryview((ctypes.c_ubyte * size).from_address(self._vm.base)).cast("B")

    # -- wasmtime-py API ---------------------------------------------------------
    def type(self, store: Any) -> MemoryType:
        """The memory's type; ``limits.min`` is the current size."""
        return MemoryType.from_wasm_type(self.current_wasm_type())

    def grow(self, store: Any, delta: int) -> int:
        """Grow by ``delta`` pages; returns the previous size in pages."""
        if not isinstance(delta, int):
            raise TypeError(f"expected an integer page count, not {delta!r}")
        if delta < 0:
            raise WasmError("cannot grow by negative amount")
        old = self.try_grow(delta)
        if old < 0:
            raise WasmError(f"failed to grow memory by `{delta}`")
        return old

    def size(self, store: Any) -> int:
        """Current size in pages."""
        return self._vm.size // PAGE

    def data_len(self, store: Any) -> int:
        """Current size in bytes."""
        return self._vm.size

    def data_ptr(self, store: Any) -> ctypes._Pointer[ctypes.c_ubyte]:
        """Pointer to byte 0 (stable for the memory's life)."""
        return ctypes.cast(self._vm.base, ctypes.POINTER(ctypes.c_ubyte))

    def page_size(self, store: Any) -> int:
        """Bytes per page."""
        return PAGE

    def page_size_log2(self, store: Any) -> int:
        """log2 of the page size."""
        return 16

    def get_buffer_ptr(self, store: Any, size: int | None = None, offset: int = 0) -> ctypes.Array[ctypes.c_ubyte]:
        """A ctypes byte array over ``[offset, offset+size)`` (no copy)."""
        if size is None:
            size = self._vm.size
        if offset < 0 or size < 0 or offset + size > self._vm.size:
            raise IndexError("index out of range")
        return (ctypes.c_ubyte * size).from_address(self._vm.base + offset)

    def read(self, store: Any, start: int | None = 0, stop: int | None = None) -> bytearray:
        """A copy of ``memory[start:stop]`` (slice semantics)."""
        size = self._vm.size
        lo, hi, _ = slice(start, stop).indices(size)
        if hi <= lo:
            return bytearray()
        return bytearray(ctypes.string_at(self._vm.base + lo, hi - lo))

    def write(self, store: Any, value: bytes | bytearray, start: int | None = None) -> int:
        """Copy ``value`` in at ``start``; raises IndexError if it does not fit."""
        size = self._vm.size
        lo = slice(start, None).indices(size)[0]
        if lo >= size:
            raise IndexError("index out of range")
        # NB: not bytes(value): bytes(5) is five zero bytes
        data = bytes(memoryview(value))
        if not data:
            return 0
        if lo + len(data) > size:
            raise IndexError("index out of range")
        ctypes.memmove(self._vm.base + lo, data, len(data))
        return len(data)

    @property
    def vm_address(self) -> int:
        """Address of the VMMemory structure compiled code reads."""
        return self._vm_addr

    def __repr__(self) -> str:
        return f"<Memory {self._vm.size // PAGE} pages at 0x{self._vm.base:x}>"
