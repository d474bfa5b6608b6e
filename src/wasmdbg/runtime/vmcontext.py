"""The ctypes mirrors of the structures compiled code reads and writes.

The layouts are defined (and drawn) in :mod:`wasmdbg.jit.abi`; this module
declares one ``ctypes.Structure`` per layout and checks, at import time,
that every declared field sits at the offset ``abi`` gives it and that the
structure is exactly ``abi``'s ``SIZE``.  A field added to ``abi`` that is
not declared here is still reachable by offset through :func:`peek` and
:func:`poke`; a field moved in ``abi`` makes this import fail loudly.

Besides the structures it holds the small helpers the rest of the runtime
uses to read raw memory (``peek``/``poke``) and to allocate the pointer
arrays a VMContext points at.

Ownership: whoever creates a structure keeps the Python object alive for as
long as compiled code may hold its address (Store owns VMStoreContext,
Instance owns its VMContext and arrays, Memory/Table/Global their own).
"""

from __future__ import annotations

import ctypes
from enum import IntEnum
from typing import ClassVar

from ..jit import abi

__all__ = [
    "INTERRUPT_DEADLINE",
    "INTERRUPT_EDIT",
    "INTERRUPT_REQUEST",
    "INTERRUPT_TWIN",
    "U64Array",
    "VMContext",
    "VMFuncRef",
    "VMMemory",
    "VMStoreContext",
    "VMTable",
    "addr_of",
    "peek",
    "poke",
    "u64_array",
]

U64Array = ctypes.Array[ctypes.c_uint64]

#: Bits of ``VMStoreContext.interrupt``: compiled code only tests it for
#: non-zero; a debug handler pauses the guest on a request (``interrupt()``,
#: Ctrl-C) but not on an epoch deadline, which always traps.
#: ``INTERRUPT_EDIT`` only asks debug-mode code to call back so that a
#: breakpoint edit from another thread can take the code gate (see
#: ``runtime.debug.gate``); it never stops the guest.
INTERRUPT_REQUEST = 1
INTERRUPT_DEADLINE = 2
INTERRUPT_EDIT = 4
#: ``INTERRUPT_TWIN`` asks debug-mode code to call back so that frames running
#: a function's NOP-free twin move to its debug version after the function was
#: armed (see ``runtime.debug.twins``); it never stops the guest either.
INTERRUPT_TWIN = 8

_u64 = ctypes.c_uint64


def _total_size(layout: type[IntEnum]) -> int:
    """The structure size ``abi`` gives.

    NB: in ``MEMORY`` and ``TABLE`` the member ``SIZE`` is a *field* (the
    memory's byte size, the table's length), not the structure size; those
    layouts are two fields long.
    """
    if layout in (abi.MEMORY, abi.TABLE):
        return 16
    return int(layout["SIZE"])


def _tail(layout: type[IntEnum], declared: int) -> list[tuple[str, type[ctypes.Array[ctypes.c_uint8]]]]:
    """Padding for fields ``abi`` has that this module does not name."""
    extra = _total_size(layout) - declared * 8
    return [("_abi_tail", ctypes.c_uint8 * extra)] if extra > 0 else []


class _Checked(ctypes.Structure):
    """A structure whose fields are checked against an ``abi`` layout."""

    LAYOUT: ClassVar[type[IntEnum]]

    @property
    def address(self) -> int:
        """The structure's address, as compiled code sees it."""
        return ctypes.addressof(self)


class VMStoreContext(_Checked):
    """One per Store; see ``abi`` for the drawing."""

    LAYOUT = abi.STORE
    _fields_: ClassVar = [
        ("stack_limit", _u64),
        ("interrupt", _u64),
        ("entry_rsp", _u64),
        ("last_exit_fp", _u64),
        ("last_exit_pc", _u64),
        ("trap_code", _u64),
        ("trap_pc", _u64),
        ("trap_fp", _u64),
        ("hostcall", _u64),
        ("libcall", _u64),
        ("debughook", _u64),
        ("entry_fp", _u64),
        ("debug_trampoline", _u64),
        ("segv_handler", _u64),
        ("fault_target", _u64),
        ("faulthook", _u64),
        *_tail(abi.STORE, 16),
    ]
    stack_limit: int
    interrupt: int
    entry_rsp: int
    last_exit_fp: int
    last_exit_pc: int
    trap_code: int
    trap_pc: int
    trap_fp: int
    hostcall: int
    libcall: int
    debughook: int
    entry_fp: int
    debug_trampoline: int
    segv_handler: int
    fault_target: int
    faulthook: int


class VMContext(_Checked):
    """One per instance (and a small one per host function)."""

    LAYOUT = abi.VMCTX
    _fields_: ClassVar = [
        ("store", _u64),
        ("memory", _u64),
        ("funcs", _u64),
        ("globals", _u64),
        ("tables", _u64),
        ("sig_ids", _u64),
        ("host_id", _u64),
        ("instance_id", _u64),
        ("interrupt", _u64),
        *_tail(abi.VMCTX, 9),
    ]
    store: int
    memory: int
    funcs: int
    globals: int
    tables: int
    sig_ids: int
    host_id: int
    instance_id: int
    interrupt: int


class VMMemory(_Checked):
    """Base and byte size of one linear memory."""

    LAYOUT = abi.MEMORY
    _fields_: ClassVar = [("base", _u64), ("size", _u64), *_tail(abi.MEMORY, 2)]
    base: int
    size: int


class VMTable(_Checked):
    """Element array and element count of one table."""

    LAYOUT = abi.TABLE
    _fields_: ClassVar = [("elements", _u64), ("size", _u64), *_tail(abi.TABLE, 2)]
    elements: int
    size: int


class VMFuncRef(_Checked):
    """What a funcref points at: code, signature id, callee VMContext."""

    LAYOUT = abi.FUNCREF
    _fields_: ClassVar = [("code", _u64), ("sig_id", _u64), ("vmctx", _u64), *_tail(abi.FUNCREF, 3)]
    code: int
    sig_id: int
    vmctx: int


def _check(cls: type[_Checked]) -> None:
    """Fail the import if ``cls`` disagrees with its ``abi`` layout."""
    layout = cls.LAYOUT
    names = [f[0] for f in cls._fields_ if f[0] != "_abi_tail"]
    for name in names:
        want = int(layout[name.upper()])
        got = int(getattr(cls, name).offset)
        if got != want:
            raise ImportError(f"{cls.__name__}.{name} at {got}, abi says {want}")
    total = _total_size(layout)
    if ctypes.sizeof(cls) != total:
        raise ImportError(f"{cls.__name__} is {ctypes.sizeof(cls)} bytes, abi says {total}")


for _cls in (VMStoreContext, VMContext, VMMemory, VMTable, VMFuncRef):
    _check(_cls)


def peek(address: int) -> int:
    """The u64 at ``address``."""
    return _u64.from_address(address).value


def poke(address: int, value: int) -> None:
    """Store the u64 ``value`` (taken modulo 2**64) at ``address``."""
    _u64.from_address(address).value = value & 0xFFFF_FFFF_FFFF_FFFF


def u64_array(values: list[int]) -> U64Array:
    """A C array of u64 holding ``values`` (at least one element, so it has an address)."""
    arr = (_u64 * max(len(values), 1))()
    for i, v in enumerate(values):
        arr[i] = v & 0xFFFF_FFFF_FFFF_FFFF
    return arr


def addr_of(obj: ctypes.Array[ctypes.c_uint64] | ctypes.Structure) -> int:
    """The address of a ctypes object."""
    return ctypes.addressof(obj)
