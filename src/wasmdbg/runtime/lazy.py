"""Lazy compilation: a module's functions compiled on their first call.

With ``Config.lazy_compilation`` (plain code; guest-debug code has its own
scheme, ``runtime.debuglayout``) ``Module(engine, data)``
decodes and validates; nothing is compiled until a function is first
called.  The machine-level contract (code table, entry stubs,
``Libcall.LAZY_COMPILE``) is in ``jit.abi``; this module owns the runtime
side, :class:`LazyCode`, one per Module, shared by every Store::

    VMFuncRef.code ──► fwd_k: jmp [slot k] ──► lazy_k ──► lazy_common ──► libcall
    compiled code: call [rip+slot k] ───────────┘ (later: the code)        │
                                                                            ▼
    code_address(f): lock; compile f (one blob) ; map it read+execute ; piece
                     registered ; slot k = its entry ; unlock ; return entry

When a function is compiled, its calls to functions that have code already
become direct (``nop; call rel32``, the same six bytes and return address);
the others go through the table for good (the code is never patched later).

Nothing executable is ever written: each function's code goes to fresh
code memory, written then published before its address is stored in the
table (a data page that is never executable), so code other threads run is
never re-protected.  (Publishing is an ``mprotect``, whose TLB shootdown
interrupts every other CPU running the process: a thread that then reads
the slot and jumps fetches the new bytes.)  A lock makes the first call compile once when Stores
on several threads race it (the loser finds the slot filled).

Each compiled function is a :class:`~wasmdbg.runtime.code.CodeObject` of
its own (a *piece*): its site tables are keyed by offsets in its own blob,
so stack walks, trap lookups and the SIGSEGV handler (any pc in the code
arena) need nothing new; a Store's :class:`~wasmdbg.runtime.code.CodeRegistry`
picks up pieces compiled since it last looked (``pieces``).
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..jit.abi import LAZY_ENTRY, LAZY_STUB, CompiledFunction, CompiledModule
from ..jit.compiler import FuncCompiler
from ..jit.stubs import compile_lazy_stubs
from .code import CodeObject
from .codemem import CodeMemory

if TYPE_CHECKING:
    from .config import Config
    from .module import Module

__all__ = ["LazyCode"]

_pack_i32_into = struct.Struct("<i").pack_into


class LazyCode:
    """One module's code table, entry stubs and lazily compiled pieces."""

    def __init__(self, module: Module, sig_ids: Sequence[int], config: Config) -> None:
        mdef = module.definition
        self.module = module
        self.first = first = mdef.num_imported_funcs
        count = len(mdef.func_type_indices) - first
        self._sig_ids = list(sig_ids)
        self._locals_in_registers = config.locals_in_registers
        self._signals = config.signals_based_traps
        # NB: an unpublished CodeMemory: a data page inside the code arena, so every
        # code blob reaches it with a rip-relative disp32
        self.table = CodeMemory(8 * max(count, 1))
        self._slots = (ctypes.c_uint64 * max(count, 1)).from_address(self.table.address)
        start = compile_lazy_stubs(first, 0, 0)[1]  # the common part's size
        stubs = CodeMemory(start + count * LAZY_STUB)
        code, _ = compile_lazy_stubs(first, count, self.table.address - stubs.address)
        stubs.write(0, code)
        stubs.publish()
        self.stubs = stubs
        #: the stub blob as a CodeObject's code: each "function" is its entry stub
        self.compiled = CompiledModule(
            code,
            [CompiledFunction(first + k, start + LAZY_STUB * k, start + LAZY_STUB * (k + 1)) for k in range(count)],
        )
        for k in range(count):
            self._slots[k] = stubs.address + start + LAZY_STUB * k + LAZY_ENTRY
        #: compiled functions, in compile order (only ever appended to)
        self.pieces: list[CodeObject] = []
        self._done = [0] * count
        self._lock = threading.Lock()
        self._compiler: FuncCompiler | None = None

    def stub_object(self) -> CodeObject:
        """A CodeObject for the entry stubs (what a Store maps for this module)."""
        return CodeObject(self.module, self.compiled, self.stubs, private=False)

    def is_compiled(self, func_index: int) -> bool:
        """True once function ``func_index`` (a defined one) has code."""
        return bool(self._done[func_index - self.first])

    def compiled_count(self) -> int:
        """How many functions have been compiled so far."""
        return len(self.pieces)

    def code_address(self, func_index: int) -> int:
        """The native entry of function ``func_index``, compiled now if need be."""
        k = func_index - self.first
        if not 0 <= k < len(self._done):
            raise IndexError(f"function {func_index} is not a defined function")
        addr = self._done[k]
        if addr:
            return addr
        with self._lock:
            addr = self._done[k]
            if not addr:
                addr = self._compile(func_index)
        return addr

    def compile_all(self) -> None:
        """Compile every function not compiled yet."""
        for k in range(len(self._done)):
            self.code_address(self.first + k)

    def _compile(self, func_index: int) -> int:
        """Compile, map and publish one function; fill its slot (lock held)."""
        mdef = self.module.definition
        compiler = self._compiler
        if compiler is None:
            compiler = self._compiler = FuncCompiler(
                mdef,
                sig_ids=self._sig_ids,
                locals_in_registers=self._locals_in_registers,
                signals_based_traps=self._signals,
                lazy=True,
            )
        compiled, calls = compiler.compile_piece(mdef.body(func_index))
        mem = CodeMemory(len(compiled.code))
        base = mem.address
        code = bytearray(compiled.code)
        table = self.table.address
        first = self.first
        done = self._done
        for at, callee in calls:
            target = done[callee - first]
            if target:
                # the callee has code already: a direct call (nop; call rel32), the
                # same length and return address as the call through the table
                code[at - 2] = 0x90
                code[at - 1] = 0xE8
                _pack_i32_into(code, at, target - (base + at + 4))
            else:
                _pack_i32_into(code, at, table + 8 * (callee - first) - (base + at + 4))
        mem.write(0, bytes(code))
        mem.publish()
        piece = CodeObject(self.module, compiled, mem, private=False)
        self.pieces.append(piece)  # NB: before the slot: a trap in it must find it
        addr = base + compiled.functions[0].start
        k = func_index - first
        self._slots[k] = addr
        self._done[k] = addr
        return addr
