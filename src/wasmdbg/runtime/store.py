"""``Store``: the owner of all runtime state, and the door in and out of Wasm.

A Store owns one :class:`~wasmdbg.runtime.vmcontext.VMStoreContext` and
everything created in it (instances, functions, memories, tables, globals,
externref handles, mapped code).  Nothing is freed before the Store.

Calls into Wasm (:meth:`Store.enter_wasm`) go through the entry trampoline with
the GIL released.  Calls out of Wasm arrive in four ctypes callbacks whose
addresses sit in the VMStoreContext:

* ``hostcall(host_ctx, host_id, slots)`` runs a Python host function;
* ``libcall(vmctx, op, slots)`` runs a runtime operation (``memory.grow``,
  ``table.copy`` ...; see :mod:`~wasmdbg.runtime.libcall`);
* ``debughook(fp, return_address, saved)`` forwards a breakpoint or a
  debug-mode interrupt check to the Store's debug support
  (:class:`~wasmdbg.runtime.debug.support.StoreDebug`); with ``saved = 0``
  it is the trap path of debug-mode code reporting a trap before the stack
  unwinds;
* ``faulthook(fp, fault_pc, saved)``: a guest-debug twin's access faulted
  (``runtime.sigsegv``); it resumes at the debug version's bounds check.

A callback must never let an exception escape (ctypes would print and
swallow it and report success): it catches everything, stashes the
exception in ``_pending`` together with the Wasm backtrace (walked while the
frames are still live), and returns ``TrapCode.HOST_ERROR``.  The compiled
code unwinds, the entry returns ``HOST_ERROR``, and the Python caller gets
the *same* exception object re-raised.

Nested activations (Wasm -> host -> Wasm) are tracked so backtraces cross
host frames::

    Python --entry--> wasm f --call--> host h --Func()--> entry --> wasm g  (trap)
                      ^ activation 0                              ^ activation 1
    walk g.. from trap_fp; then f.. from the last_exit pair saved when
    activation 1 began (the host stub recorded it as f called h).

Interruption: :meth:`interrupt` sets the ``interrupt`` flag; compiled code
checks it at function entries and loop headers and traps with
``TrapCode.INTERRUPT``.  The flag is cleared when that trap reaches Python,
so the Store stays usable (but a passed epoch deadline sets it again: as in
Wasmtime, every call traps until ``set_epoch_deadline`` moves the deadline).
A flag set while no Wasm runs interrupts the next call.  Code compiled for
debugging calls the breakpoint trampoline at the check instead: with a debug
handler installed the guest *pauses* there (an INTERRUPTED event; the flag is
cleared) and runs on when the handler returns; without one, or when the flag
holds ``INTERRUPT_DEADLINE`` (an epoch deadline passed), it unwinds with
``INTERRUPT`` as above::

    flag set ──► check ──┬─ plain code ─────────────────► trap INTERRUPT
                         └─ debug code ─► trampoline ─┬─ handler ─► pause, resume
                                                      └─ none ────► trap INTERRUPT

Traps in debug-mode code are reported to the debug hook (``on_trap``) from
the trap path itself, before the stack pointer is reset, so the handler
sees live frames; the Trap built there is the one the caller gets.

Guest debugging (``Config(debug=True)``): the Store builds its
:class:`~wasmdbg.runtime.debug.support.StoreDebug` when it is created; the
public debugging methods (``edit_breakpoints()``, ``set_debug_handler()``,
``debug_frames()`` ...) come from :mod:`wasmdbg.runtime.debug.api`.  The
callbacks call it through :class:`DebugHook` (``on_code_added`` for every
module mapped, ``on_trap``/``on_host_error`` before the Python caller sees a
trap or host error, ``on_guest_exit`` when the outermost call ends).  The
guest holds the Store's code gate (:mod:`wasmdbg.runtime.debug.gate`) while
it runs machine code, and releases it in every callback, so an edit from
any thread never patches under it::

    enter_wasm:  gate.enter ─► entry (machine code) ─► gate.leave
    callback:    gate.leave ─► Python ─► gate.enter (waits out an edit)

What the debugger reads of a Store: :meth:`code_of`, :meth:`code_at`,
:meth:`mapped_code`, :attr:`breakpoint_trampoline`; :meth:`wasm_frames`
walks live frames from a (fp, pc) pair, crossing host frames;
:meth:`instance_of_vmctx` maps a frame's VMContext to its Instance.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import WasmError
from ..jit import abi
from ..jit.stubs import saved_gpr
from ..jit.x64 import Reg
from ..wasm import types as core
from . import sigsegv
from .code import CodeObject, CodeRegistry
from .codemem import CodeMemory
from .debug.api import StoreDebugMixin
from .debug.gate import CodeGate
from .debug.support import StoreDebug
from .debuglayout import LayoutCode
from .engine import Engine
from .sigint import SigintInterrupt
from .stackwalk import WasmFrame, return_slots, to_api_frame, walk
from .stubs import StubCode
from .trap import Frame, Trap, format_backtrace
from .vmcontext import (
    INTERRUPT_DEADLINE,
    INTERRUPT_EDIT,
    INTERRUPT_REQUEST,
    INTERRUPT_TWIN,
    VMContext,
    VMStoreContext,
    peek,
    poke,
)
from .wasi import WasiConfig

if TYPE_CHECKING:
    from .func import Func
    from .globals import Global
    from .instance import Instance
    from .memory import Memory
    from .module import Module
    from .table import Table

__all__ = ["INTERRUPT_DEADLINE", "INTERRUPT_EDIT", "INTERRUPT_REQUEST", "DebugHook", "Store", "StoreLimits", "as_store"]


HEADROOM = 384 * 1024  # native stack kept free below the Wasm stack limit
_HOST_ERROR = int(abi.TrapCode.HOST_ERROR)
_HANDLER_LOST = int(abi.TrapCode.HANDLER_LOST)
_U64 = (1 << 64) - 1
_SAVED_RSP = saved_gpr(Reg.RSP)  # the guest's rsp before the trampoline's call (jit.stubs)
_INTERRUPT = int(abi.TrapCode.INTERRUPT)
_DEBUGGER_ABORT = int(abi.TrapCode.DEBUGGER_ABORT)
_VMCTX_INSTANCE_ID = int(abi.VMCTX.INSTANCE_ID)

_CB3 = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)


class DebugHook(Protocol):
    """What the Store's callbacks call (its StoreDebug; tests may put a stand-in here)."""

    def on_breakpoint(self, store: Store, fp: int, return_address: int, saved: int) -> int:
        """A patch site fired, or an interrupt check saw the flag (debug-mode
        code).  ``fp``: the guest frame; ``return_address``: just past the
        site or the check's call; ``saved``: the trampoline's saved-register
        area.  Return 0 to continue or a ``abi.TrapCode`` to unwind with
        (DEBUGGER_ABORT, or INTERRUPT when nobody handles the pause)."""
        ...

    def on_code_added(self, store: Store, code: CodeObject) -> None:
        """A module's code was mapped into ``store`` (enable sites here)."""
        ...

    def on_functions_mapped(self, store: Store, code: CodeObject, functions: list[int]) -> None:
        """Lazily compiled debug code (``runtime.debuglayout``): ``functions`` were
        just mapped into ``code``, which is still writable (enable their sites here)."""
        ...

    def on_host_error(self, store: Store, exc: BaseException) -> None:
        """A host function raised ``exc``; its Wasm callers are still live
        (``store.vm.last_exit_fp``/``last_exit_pc``).  Raising here replaces
        the exception the Python caller gets."""
        ...

    def on_guest_exit(self, store: Store) -> None:
        """The outermost guest call returned or trapped (no Wasm frame is
        left): stepping ends with it."""
        ...

    def on_trap(self, store: Store, trap: Trap, fp: int, pc: int) -> None:
        """Debug-mode code trapped at (``fp``, ``pc``); called from the trap
        path before the stack unwinds, so the frames are live.  Raising here
        replaces the Trap the Python caller gets."""
        ...


@dataclass(slots=True)
class StoreLimits:
    """``set_limits`` values (-1 / None: no limit)."""

    memory_size: int | None = None
    table_elements: int | None = None
    instances: int | None = None
    tables: int | None = None
    memories: int | None = None


@dataclass(frozen=True, slots=True)
class _Activation:
    """What a nested entry overwrites, saved so it can be restored and walked."""

    last_exit_fp: int
    last_exit_pc: int
    entry_fp: int
    entry_rsp: int


_libc = ctypes.CDLL(None)
_libc.pthread_self.restype = ctypes.c_ulong
_libc.pthread_getattr_np.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
_libc.pthread_attr_getstack.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_libc.pthread_attr_destroy.argtypes = [ctypes.c_void_p]


def _thread_stack_bounds() -> tuple[int, int]:
    """(lowest, highest) address of the calling thread's stack."""
    attr = ctypes.create_string_buffer(128)  # pthread_attr_t is 56 bytes on x86-64
    addr = ctypes.c_void_p()
    size = ctypes.c_size_t()
    if _libc.pthread_getattr_np(_libc.pthread_self(), attr) != 0:
        raise WasmError("pthread_getattr_np failed")
    try:
        if _libc.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size)) != 0:
            raise WasmError("pthread_attr_getstack failed")
    finally:
        _libc.pthread_attr_destroy(attr)
    lo = int(addr.value or 0)
    return lo, lo + int(size.value)


class Store(StoreDebugMixin):
    """All runtime state of one guest "world"; pass it to every API call."""

    def __init__(self, engine: Engine | None = None, data: Any = None) -> None:
        if engine is None:
            engine = Engine()
        elif not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        self.engine = engine
        self._data = data
        ctx = VMStoreContext()
        self._ctx = ctx
        self._ctx_addr = ctypes.addressof(ctx)
        # every copy of the interrupt flag: the VMStoreContext's, then each
        # instance's VMContext mirror (see _add_flag_mirror)
        self._flag_table = (ctypes.c_uint64 * 8)(1, self._ctx_addr + abi.STORE.INTERRUPT)
        self._old_flag_tables: list[ctypes.Array[ctypes.c_uint64]] = []
        self._flag_table_ptr = ctypes.c_uint64(ctypes.addressof(self._flag_table))
        self._hostcall_cb = _CB3(self._hostcall)
        self._libcall_cb = _CB3(self._libcall)
        self._debughook_cb = _CB3(self._debughook)
        self._faulthook_cb = _CB3(self._faulthook)
        ctx.hostcall = ctypes.cast(self._hostcall_cb, ctypes.c_void_p).value or 0
        ctx.libcall = ctypes.cast(self._libcall_cb, ctypes.c_void_p).value or 0
        ctx.debughook = ctypes.cast(self._debughook_cb, ctypes.c_void_p).value or 0
        ctx.faulthook = ctypes.cast(self._faulthook_cb, ctypes.c_void_p).value or 0
        self._stubs: StubCode | None = None
        self._entry: Any = None
        # registries (index 0 is never used: 0 means "none" in the VM structures)
        self._hosts: list[Func | None] = [None]
        self._instances: list[Instance | None] = [None]
        self._funcs: dict[int, Func] = {}
        self._externs: dict[int, object] = {}  # handle -> object (0 is null)
        self._extern_ids: dict[int, int] = {}  # id(object) -> handle
        self._next_extern = 1
        self._memories: list[Memory] = []
        self._tables: list[Table] = []
        self._globals: list[Global] = []
        #: ``Module -> CodeObject`` for every module instantiated here.
        self.code_objects: dict[Module, CodeObject] = {}
        self._registry = CodeRegistry()
        # NB: the hook the callbacks call is the debug support itself; tests may
        # put a stand-in there to drive the seams by hand
        self._debug: StoreDebug | None = None
        self._debug_hook: DebugHook | None = None
        self._pending: BaseException | None = None
        # (status, trap, what the hook raised) reported by debug-mode trap code
        self._reported: tuple[int, Trap, BaseException | None] | None = None
        self._depth = 0
        self._activations: list[_Activation] = []
        self._thread = -1
        self._stack_lo = 0
        self._stack_hi = 0
        self._limits = StoreLimits()
        self._epoch_deadline: int | None = None
        self._wasi: WasiConfig | None = None
        # NB: the guest holds the gate while it runs machine code, so an edit
        # from another thread never patches under it; only debug Stores pay.
        self._flag_lock = threading.Lock()
        self._gate: CodeGate | None = None
        if engine.config.guest_debug:
            self._gate = CodeGate(self._request_edit_stop, self._cancel_edit_stop)
            self._debug = StoreDebug(self)
            self._debug_hook = self._debug

    # -- wasmtime-py API -------------------------------------------------------
    def data(self) -> Any:
        """The user data given at creation."""
        return self._data

    def gc(self) -> None:
        """Release externref handles that no table or global holds any more.

        Only while no Wasm runs on this Store (frames may hold handles); a
        call from inside a host function does nothing.  Handles are never
        reused, so a stale one can only fail, never alias another object.
        """
        if self._depth:
            return
        live: set[int] = set()
        for table in self._tables:
            if table.wasm_type.elem is core.ValType.EXTERNREF:
                live.update(table.element_bits())
        for glob in self._globals:
            if glob.wasm_type.valtype is core.ValType.EXTERNREF:
                live.add(glob.raw_bits)
        for handle in [h for h in self._externs if h not in live]:
            obj = self._externs.pop(handle)
            if self._extern_ids.get(id(obj)) == handle:
                del self._extern_ids[id(obj)]

    def set_fuel(self, fuel: int) -> None:
        """Fuel is not supported."""
        raise WasmError("fuel is not enabled in this store's configuration")

    def get_fuel(self) -> int:
        """Fuel is not supported."""
        raise WasmError("fuel is not enabled in this store's configuration")

    def set_wasi(self, wasi: WasiConfig) -> None:
        """Give this Store WASI state (used by functions from ``Linker.define_wasi``)."""
        if not isinstance(wasi, WasiConfig):
            raise TypeError("expected a WasiConfig")
        self._wasi = wasi

    def set_limits(
        self,
        memory_size: int = -1,
        table_elements: int = -1,
        instances: int = -1,
        tables: int = -1,
        memories: int = -1,
    ) -> None:
        """Limit memory bytes, table elements and counts (negative: unchanged)."""
        lim = self._limits
        if memory_size >= 0:
            lim.memory_size = memory_size
        if table_elements >= 0:
            lim.table_elements = table_elements
        if instances >= 0:
            lim.instances = instances
        if tables >= 0:
            lim.tables = tables
        if memories >= 0:
            lim.memories = memories

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        """Interrupt the guest once the engine's epoch advances this many ticks.

        A deadline that has passed makes every later call trap with
        ``INTERRUPT`` too, until this is called again (as in Wasmtime).
        """
        self._epoch_deadline = self.engine.epoch + ticks_after_current
        self.engine.watch_epoch(self)
        self._clear_interrupt_if(INTERRUPT_DEADLINE)  # the old deadline is gone; a pending request stays
        self.check_epoch(self.engine.epoch)

    def check_epoch(self, epoch: int) -> None:
        """Runtime-facing: interrupt the guest if ``epoch`` reached this Store's deadline."""
        if self._epoch_deadline is not None and epoch >= self._epoch_deadline:
            # NB: a deadline ends the call even under a debugger: no pause
            self.set_interrupt_bits(INTERRUPT_DEADLINE)

    def interrupt(self) -> None:
        """Make the running (or next) guest call trap with ``INTERRUPT``.

        Safe to call from any thread; the guest notices at its next function
        entry or loop header.  In debug-mode code with a debug handler
        installed the guest pauses there instead (an INTERRUPTED event) and
        resumes when the handler returns.
        """
        self.set_interrupt_bits(INTERRUPT_REQUEST)

    # NB: the flag words change only through the atomic routines of
    # runtime.stubs: the SIGINT handler ORs into them at any moment

    def set_interrupt_bits(self, bits: int) -> None:
        """Set ``bits`` in the interrupt flag (any thread)."""
        with self._flag_lock:
            self.engine.stub_code.flag_or(ctypes.addressof(self._flag_table), bits)

    def clear_interrupt_bits(self, bits: int) -> None:
        """Clear ``bits`` of the interrupt flag (any thread)."""
        with self._flag_lock:
            self.engine.stub_code.flag_and(ctypes.addressof(self._flag_table), ~bits & _U64)

    def _clear_interrupt_if(self, value: int) -> None:
        """Clear each copy of the flag that holds exactly ``value`` (any thread)."""
        with self._flag_lock:
            self.engine.stub_code.flag_clear_if(ctypes.addressof(self._flag_table), value)

    def _add_flag_mirror(self, address: int) -> None:
        """Keep the u64 at ``address`` (a VMContext's ``interrupt``) equal to the flag.

        NB: the SIGINT handler (``sigint``) walks ``_flag_table`` ([count,
        address ...]) through ``_flag_table_ptr``: an address is written before
        the count that covers it, and a grown table is complete before the
        pointer moves to it (the old one stays alive).  The word gets the
        flag's bits only once the handler can see it (a SIGINT bit set in
        between lands in the flag, and is copied from there).
        """
        with self._flag_lock:
            ctypes.c_uint64.from_address(address).value = 0
            table = self._flag_table
            n = table[0]
            if n + 1 >= len(table):
                grown = (ctypes.c_uint64 * (2 * len(table)))()
                ctypes.memmove(grown, table, ctypes.sizeof(table))
                self._old_flag_tables.append(table)
                table = self._flag_table = grown
            table[n + 1] = address
            table[0] = n + 1
            self._flag_table_ptr.value = ctypes.addressof(table)
            one = (ctypes.c_uint64 * 2)(1, address)
            self.engine.stub_code.flag_or(ctypes.addressof(one), self._ctx.interrupt)

    def _request_edit_stop(self) -> None:
        self.set_interrupt_bits(INTERRUPT_EDIT)

    def _cancel_edit_stop(self) -> None:
        self.clear_interrupt_bits(INTERRUPT_EDIT)

    @property
    def code_gate(self) -> CodeGate:
        """The gate between this Store's running guest and code patching (debug Stores)."""
        if self._gate is None:
            raise WasmError("only a Store whose Engine has Config(debug=True) patches code")
        return self._gate

    def interrupt_on_sigint(self) -> SigintInterrupt:
        """A context manager under which Ctrl-C (SIGINT) interrupts this Store's guest.

        Installs a machine-code signal handler (see :mod:`.sigint`) that sets
        the interrupt flag and chains to the previous handler, so the guest
        traps with ``INTERRUPT`` even while the main thread is inside
        compiled code, and Python still raises ``KeyboardInterrupt``.
        """
        return SigintInterrupt(ctypes.addressof(self._flag_table_ptr), self._clear_interrupt_if)

    # -- externref and funcref conversion (value.RefHost) ---------------------
    def _extern_handle(self, obj: object) -> int:
        h = self._extern_ids.get(id(obj))
        if h is not None and self._externs.get(h) is obj:
            return h
        h = self._next_extern
        self._next_extern = h + 1
        self._externs[h] = obj
        self._extern_ids[id(obj)] = h
        return h

    def _extern_object(self, handle: int) -> object:
        try:
            return self._externs[handle]
        except KeyError:
            raise WasmError(f"invalid externref handle {handle}") from None

    def _funcref_bits(self, func: Func) -> int:
        if not func.belongs_to(self):
            raise WasmError("cannot use a function from another Store")
        return func.funcref_address

    def _func_at(self, address: int) -> Func | None:
        func = self._funcs.get(address)
        if func is None:
            raise WasmError(f"unknown funcref 0x{address:x}")
        return func

    # -- registration -----------------------------------------------------------
    @property
    def stub_code(self) -> StubCode:
        """Runtime-facing: the Engine's mapped stubs, wired into this Store on first use."""
        if self._stubs is None:
            self._stubs = self.engine.stub_code
            self._entry = self._stubs.entry
            self._ctx.debug_trampoline = self._stubs.breakpoint_address
        return self._stubs

    def register_host(self, func: Func) -> int:
        """Runtime-facing: give host function ``func`` its ``host_id``."""
        self._hosts.append(func)
        return len(self._hosts) - 1

    def register_instance(self, instance: Instance) -> int:
        """Runtime-facing: keep ``instance`` (its VMContext built) and give it its id."""
        lim = self._limits.instances
        if lim is not None and len(self._instances) - 1 >= lim:
            raise WasmError("resource limit exceeded: instance count too high")
        self._instances.append(instance)
        self._add_flag_mirror(instance.vmctx_address + abi.VMCTX.INTERRUPT)
        return len(self._instances) - 1

    def register_func(self, func: Func) -> None:
        """Runtime-facing: map ``func``'s VMFuncRef address back to it (funcref values)."""
        self._funcs[func.funcref_address] = func

    def register_memory(self, memory: Memory) -> None:
        """Runtime-facing: keep a Memory created in this Store."""
        self._memories.append(memory)

    def register_table(self, table: Table) -> None:
        """Runtime-facing: keep a Table created in this Store."""
        self._tables.append(table)

    def register_global(self, glob: Global) -> None:
        """Runtime-facing: keep a Global created in this Store."""
        self._globals.append(glob)

    @property
    def memory_count(self) -> int:
        """Runtime-facing: how many memories this Store has (``StoreLimits.memories``)."""
        return len(self._memories)

    @property
    def table_count(self) -> int:
        """Runtime-facing: how many tables this Store has (``StoreLimits.tables``)."""
        return len(self._tables)

    @property
    def limits(self) -> StoreLimits:
        """Runtime-facing: the limits ``set_limits`` set (shared, not a copy)."""
        return self._limits

    @property
    def wasi_config(self) -> WasiConfig | None:
        """Runtime-facing: the WasiConfig ``set_wasi`` gave this Store, if any."""
        return self._wasi

    def instance_of_vmctx(self, vmctx: int) -> Instance | None:
        """The Instance whose VMContext is at ``vmctx`` (None for host contexts)."""
        if not vmctx:
            return None
        iid = peek(vmctx + _VMCTX_INSTANCE_ID)
        if 0 < iid < len(self._instances):
            inst = self._instances[iid]
            if inst is not None and inst.vmctx_address == vmctx:
                return inst
        return None

    def code_for(self, module: Module) -> CodeObject:
        """Runtime-facing: the mapped code of ``module`` in this Store (mapped on first use)."""
        code = self.code_objects.get(module)
        if code is not None:
            return code
        if self.engine.config.uses_signal_bounds:
            self._ctx.segv_handler = sigsegv.ensure_installed()
            # a fault unwinds as a trap, or in debug code (twins) goes to faulthook
            debug = self.engine.config.guest_debug
            self._ctx.fault_target = self.stub_code.fault_address if debug else sigsegv.unwind_address()
        lazy = module.lazy_code
        if lazy is not None:
            # NB: the entry stubs; each function's code joins the registry as compiled
            code = lazy.stub_object()
            self._registry.add_source(lazy)
        elif module.debug_layout is not None:
            code = LayoutCode(module.debug_layout, self.code_gate.exclusive, self._code_mapped)
        elif self.engine.config.guest_debug:
            compiled = module.compiled
            code = CodeObject(module, compiled, CodeMemory.from_bytes(compiled.code), private=True)
        else:
            code = CodeObject(module, module.compiled, module.shared_code(), private=False)
        self.code_objects[module] = code
        self._registry.add(code)
        hook = self._debug_hook
        if hook is not None:
            hook.on_code_added(self, code)
        return code

    def _code_mapped(self, code: LayoutCode, functions: list[int]) -> None:
        hook = self._debug_hook
        if hook is not None:
            hook.on_functions_mapped(self, code, functions)

    def code_of(self, module: object) -> CodeObject | None:
        """The code of ``module`` as mapped in this Store (None if not instantiated here)."""
        for mod, code in self.code_objects.items():
            if mod is module:
                return code
        return None

    def mapped_code(self) -> list[CodeObject]:
        """Every module's code mapped in this Store, in instantiation order."""
        return list(self.code_objects.values())

    def code_at(self, address: int) -> CodeObject | None:
        """The code object whose machine code holds ``address``."""
        return self._registry.lookup(address)

    @property
    def breakpoint_trampoline(self) -> int:
        """Address of the breakpoint trampoline enabled patch sites call."""
        return self.stub_code.breakpoint_address

    def _notify_debugger(self, method: str, *args: Any) -> BaseException | None:
        """Tell the debug hook about a trap or host error (frames still walkable).

        Returns what the hook raised (nothing may escape: this can run inside
        a ctypes callback); the caller raises that instead of the original.
        """
        try:
            getattr(self._debug_hook, method)(self, *args)
        except BaseException as exc:
            return exc
        return None

    # -- calling into Wasm -------------------------------------------------------
    def _bind_thread(self) -> None:
        """Point the stack limit at the calling thread's stack."""
        stubs = self.stub_code
        lo, hi = _thread_stack_bounds()
        sp = stubs.read_sp()
        limit = max(lo + HEADROOM, sp - self.engine.config.max_wasm_stack)
        self._ctx.stack_limit = limit
        self._stack_lo, self._stack_hi = lo, hi
        self._thread = threading.get_ident()

    def enter_wasm(self, vmctx: int, code: int, slots: int, nslots: int) -> None:
        """Runtime-facing: run compiled code at ``code`` with ``r14 = vmctx`` on the slot array.

        Raises :class:`Trap` (or the host function's exception) on failure.
        """
        depth = self._depth
        if depth == 0:
            if self._thread != threading.get_ident() or self._entry is None:
                self._bind_thread()
            self._depth = 1
            try:
                status = self._run(vmctx, code, slots, nslots)
                if status:
                    self._raise_trap(status)
            finally:
                self._depth = 0
                if self._debug_hook is not None:
                    self._debug_hook.on_guest_exit(self)
            return
        if threading.get_ident() != self._thread:
            raise WasmError("the Store is running Wasm on another thread (a Store is single-threaded)")
        ctx = self._ctx
        saved = _Activation(ctx.last_exit_fp, ctx.last_exit_pc, ctx.entry_fp, ctx.entry_rsp)
        self._activations.append(saved)
        self._depth = depth + 1
        try:
            status = self._run(vmctx, code, slots, nslots)
            if status:
                self._raise_trap(status)
        finally:
            self._depth = depth
            self._activations.pop()
            ctx.last_exit_fp = saved.last_exit_fp
            ctx.last_exit_pc = saved.last_exit_pc
            ctx.entry_fp = saved.entry_fp
            ctx.entry_rsp = saved.entry_rsp

    def _run(self, vmctx: int, code: int, slots: int, nslots: int) -> int:
        """One pass through the entry trampoline (inside the CodeGate, if any).

        The trampoline refuses with ``HANDLER_LOST`` when another library
        replaced our SIGSEGV handler (wasmtime does, creating and dropping
        engines): put it back and enter again.
        """
        assert self._entry is not None
        gate = self._gate
        for _ in range(3):
            if gate is not None:
                gate.enter()
                try:
                    status = self._entry(vmctx, code, slots, nslots)
                finally:
                    gate.leave()
            else:
                status = self._entry(vmctx, code, slots, nslots)
            if status != _HANDLER_LOST:
                return int(status)
            sigsegv.ensure_installed()
        raise WasmError("the SIGSEGV handler keeps being replaced; signal-based bounds checks cannot run")

    def _raise_trap(self, status: int) -> None:
        ctx = self._ctx
        reported, self._reported = self._reported, None
        if status == _HOST_ERROR:
            exc = self._pending
            self._pending = None
            if exc is None:
                exc = Trap("a host function failed")
            raise exc
        if status == _INTERRUPT:
            self.clear_interrupt_bits(INTERRUPT_REQUEST | INTERRUPT_DEADLINE)
            # NB: a passed epoch deadline keeps trapping until it is moved
            self.check_epoch(self.engine.epoch)
        if reported is not None and reported[0] == status:
            # the debug-mode trap path built the Trap (and told the debugger) before unwinding
            _status, trap, failed = reported
            if failed is not None:
                raise failed from trap
            raise trap
        raise Trap.from_trap_code(status, self._backtrace_at(ctx.trap_fp, ctx.trap_pc))

    def _backtrace_at(self, fp: int, pc: int) -> list[Frame]:
        try:
            return [to_api_frame(f) for f in self.wasm_frames(fp, pc)]
        except Exception:  # NB: a backtrace is a nicety; the trap must get through
            return []

    # -- stack walking -------------------------------------------------------------
    def wasm_frames(self, fp: int, pc: int) -> list[WasmFrame]:
        """The Wasm frames from (fp, pc) outwards, across host frames.

        Valid while those frames are live (inside a host call, a libcall or
        the debug hook) or just after a trap unwound them.
        """
        reg = self._registry
        lo, hi = self._stack_lo, self._stack_hi
        frames = list(walk(reg, fp, pc, stack_lo=lo, stack_hi=hi))
        for act in reversed(self._activations):
            frames.extend(
                walk(reg, act.last_exit_fp, act.last_exit_pc, stack_lo=lo, stack_hi=hi, stop_fp=act.entry_fp)
            )
        return frames

    def wasm_return_slots(self, fp: int, slot: int, pc: int) -> list[tuple[int, int, CodeObject]]:
        """(slot, raw return address, code) of each Wasm frame from (fp, pc) outwards,
        across host frames (see ``stackwalk.return_slots``; ``slot`` 0 where only a
        copy of the return address is known, as for each outer activation's first)."""
        reg = self._registry
        lo, hi = self._stack_lo, self._stack_hi
        out = list(return_slots(reg, fp, slot, pc, stack_lo=lo, stack_hi=hi))
        for act in reversed(self._activations):
            out.extend(
                return_slots(
                    reg, act.last_exit_fp, 0, act.last_exit_pc, stack_lo=lo, stack_hi=hi,
                    stop_fp=act.entry_fp,
                )
            )
        return out

    def backtrace(self) -> list[Frame]:
        """The Wasm backtrace at the current host call (empty outside Wasm)."""
        if self._depth == 0:
            return []
        ctx = self._ctx
        return [to_api_frame(f) for f in self.wasm_frames(ctx.last_exit_fp, ctx.last_exit_pc)]

    # -- callbacks from compiled code -------------------------------------------------
    def _stash(self, exc: BaseException) -> None:
        """Keep ``exc`` for the Python caller, with the live Wasm backtrace."""
        self._pending = exc
        if isinstance(exc, Trap):
            if not exc.frames:
                exc.add_backtrace(self.backtrace())
            return
        if getattr(exc, "wasm_backtrace", None) is None:
            try:
                frames = self.backtrace()
            except Exception:
                frames = []
            try:
                exc.wasm_backtrace = frames  # type: ignore[attr-defined]
            except AttributeError:
                return
            if frames:
                exc.add_note("wasm backtrace:\n" + format_backtrace(frames))

    def _fail(self, exc: BaseException) -> int:
        try:
            self._stash(exc)
        except BaseException:
            self._pending = exc
        return _HOST_ERROR

    def _hostcall(self, host_ctx: int, host_id: int, slots: int) -> int:
        gate = self._gate
        if gate is None:
            return self._run_hostcall(host_id, slots)
        gate.leave()
        try:
            return self._run_hostcall(host_id, slots)
        finally:
            gate.enter()

    def _run_hostcall(self, host_id: int, slots: int) -> int:
        try:
            func = self._hosts[host_id]
            if func is None:
                raise WasmError(f"unknown host function {host_id}")
            return func.call_from_wasm(self, slots)
        except BaseException as exc:
            status = self._fail(exc)
            if self._debug_hook is not None:
                failed = self._notify_debugger("on_host_error", exc)
                if failed is not None:
                    self._pending = failed
            return status

    def _libcall(self, vmctx: int, op: int, slots: int) -> int:
        gate = self._gate
        if gate is None:
            return self._run_libcall(vmctx, op, slots)
        gate.leave()
        try:
            return self._run_libcall(vmctx, op, slots)
        finally:
            gate.enter()

    def _run_libcall(self, vmctx: int, op: int, slots: int) -> int:
        try:
            inst = self._instances[peek(vmctx + _VMCTX_INSTANCE_ID)]
            if inst is None:
                raise WasmError("libcall from an unknown instance")
            return inst.run_libcall(op, slots)
        except BaseException as exc:
            return self._fail(exc)

    def _debughook(self, fp: int, return_address: int, saved: int) -> int:
        # NB: one Python frame between the trampoline and the hook: every
        # breakpoint hit and single step passes here
        gate = self._gate
        if gate is not None:
            gate.leave()
        try:
            if not saved:
                return self._report_trap(fp, return_address)
            hook = self._debug_hook
            if hook is None:
                # only an interrupt check gets here without a hook: nobody pauses it
                return _INTERRUPT if self._ctx.interrupt & ~(INTERRUPT_EDIT | INTERRUPT_TWIN) else 0
            return hook.on_breakpoint(self, fp, return_address, saved)
        except BaseException as exc:
            return self._fail(exc)
        finally:
            if gate is not None:
                gate.enter()

    def _faulthook(self, fp: int, pc: int, saved: int) -> int:
        """A twin faulted at ``pc`` (through the fault trampoline): resume at the
        debug version's check of the same access, which traps there with the
        frames live; 0, or a TrapCode to unwind with when ``pc`` is no such access."""
        gate = self._gate
        if gate is not None:
            gate.leave()
        try:
            code = self.code_at(pc)
            resume = code.fault_resume(pc) if code is not None else None
            if resume is None:
                return int(abi.TrapCode.MEMORY_OUT_OF_BOUNDS)
            poke(peek(saved + _SAVED_RSP) - 8, resume)  # the trampoline's return address
            return 0
        except BaseException as exc:
            return self._fail(exc)
        finally:
            if gate is not None:
                gate.enter()

    def _report_trap(self, fp: int, pc: int) -> int:
        """Debug-mode code trapped at (``fp``, ``pc``); the frames are still live.

        Builds the Trap (its backtrace walked now) and tells the debug hook;
        :meth:`_raise_trap` raises that Trap once the entry returns.  The
        trap unwinds whatever this returns.
        """
        try:
            status = int(self._ctx.trap_code)
            if self._debug_hook is None or status in (_HOST_ERROR, _DEBUGGER_ABORT):
                return 0
            trap = Trap.from_trap_code(status, self._backtrace_at(fp, pc))
            failed = self._notify_debugger("on_trap", trap, fp, pc)
            self._reported = (status, trap, failed)
        except BaseException:  # NB: nothing may escape a ctypes callback
            self._reported = None  # the plain Trap is raised after the unwind instead
        return 0

    @property
    def vmctx_address(self) -> int:
        """Address of this Store's VMStoreContext."""
        return self._ctx_addr

    @property
    def vm(self) -> VMStoreContext:
        """This Store's VMStoreContext (for the debugger and tests)."""
        return self._ctx

    def new_host_context(self, host_id: int) -> VMContext:
        """Runtime-facing: the small VMContext a host function's VMFuncRef points at."""
        ctx = VMContext()
        ctx.store = self._ctx_addr
        ctx.host_id = host_id
        return ctx


def as_store(obj: Any) -> Store:
    """The Store behind a ``Store`` or a ``Caller``."""
    if isinstance(obj, Store):
        return obj
    store = getattr(obj, "_store", None)
    if isinstance(store, Store):
        return store
    raise TypeError("expected a Store or Caller")
