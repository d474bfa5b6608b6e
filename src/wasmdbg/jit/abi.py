"""The machine-level contract between compiled code (``jit``) and the runtime.

The compiler emits code that follows these layouts; the runtime allocates
the structures (with ctypes) and fills them.  Both import the offsets from
here, so this module is the single source of truth.  Everything is 64-bit
little-endian; every field is 8 bytes unless stated.

Registers
---------
* ``r14`` holds the current instance's ``VMContext*`` throughout Wasm code.
  A caller reloads it from its own frame after every call.
* ``rbp`` is the frame pointer; every Wasm frame links to its caller's, so
  the runtime walks the chain ``[rbp] -> caller rbp``, ``[rbp+8] -> return
  address``.
* All other registers are scratch across Wasm calls.  Calls out to C
  (host calls, libcalls) follow the System V ABI, so compiled code spills
  every live register value before them.

Wasm calling convention (Wasm -> Wasm, entry -> Wasm)
-----------------------------------------------------
Arguments and results travel in an *argument area* of 8-byte slots that the
caller reserves at the bottom of its frame, ``max(len(params),
len(results))`` slots long.  The callee reads parameter ``i`` from
``[rbp+16+8*i]`` and, before returning, writes result ``i`` to the same
place.  i32 values are zero-extended to 64 bits; f32 occupies the low 32
bits; funcref is a ``VMFuncRef*`` (0 = null); externref is an opaque
64-bit handle (0 = null).  At the ``call`` instruction ``rsp`` is 16-byte
aligned (so ``rsp % 16 == 8`` on entry, as in System V)::

      higher addresses
    +------------------------+
    | slot n-1               |  [rbp+16+8*(n-1)]   argument/result area,
    | ...                    |                      owned by the caller
    | slot 0                 |  [rbp+16]
    +------------------------+
    | return address         |  [rbp+8]
    | caller's rbp           |  [rbp]     <- rbp
    | saved VMContext* (r14) |  [rbp-8]
    | locals, spill slots,   |  [rbp-16 ...]  layout chosen by the compiler
    | outgoing arg area      |            and described by the frame tables
    +------------------------+  <- rsp
      lower addresses

Prologue duties: ``push rbp; mov rbp, rsp; push r14``, reserve the frame,
then trap with ``STACK_OVERFLOW`` if ``rsp < VMStoreContext.stack_limit``
and with ``INTERRUPT`` if ``VMStoreContext.interrupt`` is non-zero (the
interrupt flag is also checked at every loop header).  Code compiled for
debugging calls ``[VMStoreContext.debug_trampoline]`` instead of trapping,
from an out-of-line stub whose return address is recorded as a trap site;
it continues when the call returns (the runtime decides there whether the
guest pauses in the debugger or unwinds with ``INTERRUPT``).

VMContext (one per instance; ``r14`` points at it)::

    off  field
    0    store        VMStoreContext*
    8    memory       VMMemory* of memory 0 (0 if the instance has none)
    16   funcs        VMFuncRef** : one pointer per function, imports first
    24   globals      u64** : one pointer per global to its 8-byte cell
                      (funcref/externref globals hold the reference value)
    32   tables       VMTable** : one pointer per table, imports first
    40   sig_ids      u64* : canonical signature id per type index
    48   host_id      u64 : only in a host function's context (see below)
    56   instance_id  u64 : the runtime's handle for libcalls
    64   interrupt    u64 : a mirror of ``VMStoreContext.interrupt`` (the Store
                      writes both), so a loop header tests the flag in one
                      instruction: ``cmp qword [r14 + 64], 0; jne stub``

VMStoreContext (one per Store)::

    0    stack_limit     trap if rsp is below this in a prologue
    8    interrupt       non-zero: trap with INTERRUPT at the next check
    16   entry_rsp       rsp saved by the innermost entry trampoline; the
                         word there is the address of the trampoline's unwind
                         code, so every trap path is ``eax = code;
                         rsp = entry_rsp; ret`` (see ``jit.stubs``)
    24   last_exit_fp    rbp of the Wasm frame that last called out
    32   last_exit_pc    return address into Wasm of that call
    40   trap_code       TrapCode of the trap being raised
    48   trap_pc         native address identifying the trap site
    56   trap_fp         rbp of the frame that trapped
    64   hostcall        C fn: int32 (VMContext* host_ctx, u64 host_id, u64* slots)
    72   libcall         C fn: int32 (VMContext* vmctx, u64 op, u64* slots)
    80   debughook       C fn: int32 (u64 frame_fp, u64 return_address, u64* saved);
                         ``saved`` is the breakpoint trampoline's register area,
                         or 0 when a debug-mode module's trap path reports a
                         trap (trap_code/pc/fp set, frames not unwound yet)
    88   entry_fp        rbp of the innermost entry trampoline (walk stops here)
    96   debug_trampoline  the preserve-all breakpoint trampoline; the interrupt
                         checks of debug-mode code call it when ``interrupt``
                         is set (the debugger pauses there, see ``jit.stubs``)
    104  segv_handler    address of the runtime's SIGSEGV handler when this
                         Store runs code with signal-based bounds checks, else
                         0; the entry trampoline compares it with the current
                         disposition (another library may have replaced it)
    112  fault_target    where ``runtime.sigsegv``'s stub goes with the faulting
                         pc pushed: its trap-unwind routine, or in guest-debug
                         Stores the fault trampoline (the breakpoint trampoline
                         calling ``faulthook``), every register intact
    120  faulthook       C fn: int32 (u64 frame_fp, u64 fault_pc, u64* saved):
                         a twin faulted at ``fault_pc``; it rewrites the return
                         address to the debug version's check, or returns a
                         TrapCode to unwind with

VMMemory: ``0 base`` (u8*), ``8 size`` (bytes; the runtime reserves the
whole address range once so ``base`` never moves).
VMTable: ``0 elements`` (u64*), ``8 size`` (element count).
VMFuncRef: ``0 code``, ``8 sig_id``, ``16 vmctx``.  A host function's
``vmctx`` points at a small VMContext whose ``store`` and ``host_id`` are set;
its ``code`` is the host-call stub, which calls ``hostcall(vmctx, host_id,
&slot0)`` and unwinds with the returned status when it is non-zero.

Lazy compilation (``Config.lazy_compilation``)
----------------------------------------------
A lazily compiled module has a *code table*: one 8-byte slot per defined
function (function ``first + k`` at ``table + 8*k``) in a data page of the
code arena (read+write, never executable, within ``rel32`` reach of all
code; lazily compiled guest-debug code keeps one per Store at the start of
its copy, written only while the copy is unpublished, ``runtime.debuglayout``).
A slot holds the function's entry: first its *lazy stub*, then, once
compiled, its code.  Compiled code calls another defined function with
``call [rip+disp32]`` at its slot (the mapper fixes the disp32, or, when the
callee has code already, rewrites the six bytes as ``nop; call rel32`` to
it); a function calling itself keeps ``call rel32``.  Per function, a 16-byte *entry stub*
(what VMFuncRef.code and the runtime's calls point at) is::

    fwd_k:   jmp  [rip + slot k]      ; FF 25 disp32
    lazy_k:  mov  eax, first + k      ; (fwd_k + 6) the initial content of slot k
             jmp  lazy_common

``lazy_common`` keeps the caller's argument area and ``r14`` as they are,
records the caller as ``last_exit_fp``/``last_exit_pc`` (restored after), asks the runtime for the code (``Libcall.LAZY_COMPILE``, the function index
in slot 0, the code address back in slot 0; the runtime compiles, maps,
then writes the slot) and jumps to it, so the callee runs as if called
directly.  A non-zero status traps at the caller's call site.  Slots are
only ever written whole (8-byte aligned stores), so a thread calling
through one sees the stub or the code, never a torn address.

Status codes: host calls and libcalls return 0 on success or a
:class:`TrapCode` to unwind with.  The entry trampoline returns 0 or the
TrapCode that ended the call, or ``HANDLER_LOST`` without running anything
when ``segv_handler`` is set and is not the current SIGSEGV handler.  Libcall results are written to slot 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .x64 import jmp_rel32_bytes

__all__ = [
    "FUNCREF",
    "LAZY_ENTRY",
    "LAZY_STUB",
    "MEMORY",
    "SLOT",
    "STORE",
    "TABLE",
    "VMCTX",
    "CompiledFunction",
    "CompiledModule",
    "Libcall",
    "RuntimeStubs",
    "TrapCode",
    "twin_jump",
]

SLOT = 8
LAZY_STUB = 16  # bytes per function of a lazy module's entry stubs (see the module doc)
LAZY_ENTRY = 6  # offset of lazy_k in function k's entry stub


class VMCTX(IntEnum):
    """Offsets in a VMContext."""

    STORE = 0
    MEMORY = 8
    FUNCS = 16
    GLOBALS = 24
    TABLES = 32
    SIG_IDS = 40
    HOST_ID = 48
    INSTANCE_ID = 56
    INTERRUPT = 64
    SIZE = 72


class STORE(IntEnum):
    """Offsets in a VMStoreContext."""

    STACK_LIMIT = 0
    INTERRUPT = 8
    ENTRY_RSP = 16
    LAST_EXIT_FP = 24
    LAST_EXIT_PC = 32
    TRAP_CODE = 40
    TRAP_PC = 48
    TRAP_FP = 56
    HOSTCALL = 64
    LIBCALL = 72
    DEBUGHOOK = 80
    ENTRY_FP = 88
    DEBUG_TRAMPOLINE = 96
    SEGV_HANDLER = 104
    FAULT_TARGET = 112
    FAULTHOOK = 120
    SIZE = 128


class MEMORY(IntEnum):
    """Offsets in a VMMemory."""

    BASE = 0
    SIZE = 8


class TABLE(IntEnum):
    """Offsets in a VMTable."""

    ELEMENTS = 0
    SIZE = 8


class FUNCREF(IntEnum):
    """Offsets in a VMFuncRef."""

    CODE = 0
    SIG_ID = 8
    VMCTX = 16
    SIZE = 24


class TrapCode(IntEnum):
    """Why compiled code stopped early (0 means it did not)."""

    OK = 0
    STACK_OVERFLOW = 1
    MEMORY_OUT_OF_BOUNDS = 2
    HEAP_MISALIGNED = 3
    TABLE_OUT_OF_BOUNDS = 4
    INDIRECT_CALL_TO_NULL = 5
    BAD_SIGNATURE = 6
    INTEGER_OVERFLOW = 7
    INTEGER_DIVISION_BY_ZERO = 8
    BAD_CONVERSION_TO_INTEGER = 9
    UNREACHABLE_CODE_REACHED = 10
    INTERRUPT = 11
    HOST_ERROR = 12  # a host function raised; the runtime holds the exception
    ELEMENT_UNINITIALIZED = 13  # table element is null (call_indirect)
    DEBUGGER_ABORT = 14  # the debugger asked to end the guest
    HANDLER_LOST = 15  # entry refused: SIGSEGV is not the runtime's handler (reinstall, re-enter)


class Libcall(IntEnum):
    """Operations compiled code delegates to the runtime through ``libcall``.

    Only what needs the runtime's objects: growing (allocation) and the passive
    segments (``memory.init``/``table.init`` read segments the runtime keeps;
    the drops empty them).  ``memory.copy``/``memory.fill`` and
    ``table.copy``/``table.fill`` are machine code (see ``masm``).

    Arguments are in slots 0.. in Wasm operand order (the immediates first:
    memory/table/segment indices), the result (if any) goes to slot 0.
    """

    MEMORY_GROW = 1  # (mem, delta) -> old pages or -1
    MEMORY_INIT = 2  # (data, mem, dst, src, len)
    DATA_DROP = 3  # (data)
    # 4, 5 were memory.copy/memory.fill; 9, 10 table.copy/table.fill (now machine code)
    TABLE_GROW = 6  # (table, init, delta) -> old size or -1
    TABLE_INIT = 7  # (elem, table, dst, src, len)
    ELEM_DROP = 8  # (elem)
    LAZY_COMPILE = 11  # (function index) -> native address of its compiled code


@dataclass(slots=True)
class CompiledFunction:
    """Where one defined function lies in its module's code blob."""

    func_index: int
    start: int  # native offset of the entry point
    end: int  # native offset one past its last byte
    # native offset of a call's return address -> Wasm pc of the call
    call_sites: dict[int, int] = field(default_factory=dict)
    # native offset identifying a trap site -> Wasm pc of the trapping instruction
    trap_sites: dict[int, int] = field(default_factory=dict)
    # twin builds that fault (``masm_heap``): a twin's faulting accesses, or its
    # debug version's matching bounds checks, in code order
    fault_sites: list[int] = field(default_factory=list)
    # a twin's calls of its own function (the offsets of their ``call`` opcodes):
    # they go to the twin itself while the function is unarmed, and to the debug
    # version once it is armed (``runtime.debug.twins`` rewrites them)
    self_calls: list[int] = field(default_factory=list)


@dataclass(slots=True)
class CompiledModule:
    """Position-independent machine code for all defined functions of a module.

    The code refers to nothing outside itself except through the VMContext,
    so the runtime may copy it anywhere (each Store gets its own copy in
    debug mode).  ``frame_table`` is ``None`` unless compiled for debugging.
    """

    code: bytes
    functions: list[CompiledFunction]
    guest_debug: bool = False
    frame_table: object | None = None
    # debug builds with twins (``compile_module(twins=True)``): the NOP-free
    # twin of each function (same order as ``functions``), and every return
    # address of twin code (call, trap stub, interrupt stub) -> the matching
    # return address of the debug version (native offsets).  A debug
    # function's first 5 bytes are then its *entry switch* (see ``twin_jump``).
    twins: list[CompiledFunction] = field(default_factory=list)
    twin_returns: dict[int, int] = field(default_factory=dict)
    # twins with signal-based bounds checks: a twin's faulting access -> the
    # debug version's explicit check of the same access (native offsets)
    twin_faults: dict[int, int] = field(default_factory=dict)


def twin_jump(func: CompiledFunction, twin: CompiledFunction) -> bytes:
    """The entry switch of an unarmed debug function: ``jmp rel32`` to its twin.

    An armed function's switch is the 5-byte NOP (``x64.NOP5``): calls fall
    through into the debug version.
    """
    return jmp_rel32_bytes(func.start, twin.start)


@dataclass(frozen=True, slots=True)
class RuntimeStubs:
    """Engine-wide machine code the runtime calls or points at.

    ``entry``: C function ``int64 entry(VMContext*, void* code, u64* slots,
    u64 nslots)``: copies the slots to an argument area, calls ``code`` with
    ``r14 = vmctx``, copies the result slots back and returns 0, or returns
    the TrapCode when the guest trapped.
    ``hostcall``: the code pointer of every host function's VMFuncRef.
    ``breakpoint``: the preserve-all trampoline patch sites call.
    ``fault``: the same trampoline calling ``faulthook`` instead of
    ``debughook`` (a twin's faulting access, see ``runtime.sigsegv``).
    """

    code: bytes
    entry: int
    hostcall: int
    breakpoint: int
    fault: int
