"""Out-of-line code: trap stubs, trap routines and interrupt stubs.

This module owns the code a function keeps *after* its body, where the hot
path never falls through: the jump targets of trap checks, the shared
per-module trap routines, and (in debug builds) the stubs of the interrupt
checks.  The inline side is one ``jcc`` (:meth:`OutOfLine.trap_if`) or one
``call`` (:meth:`OutOfLine.trap`).

Traps
-----
A trap check jumps to an out-of-line *trap stub* of the current function::

    stub:  call trap_<code>        ; return address = the trap site
    ...
    trap_<code>:  mov eax, <code>  ; one per module and code
                  jmp trap_common
    trap_common:  pop rcx          ; (eax holds the code)
                  store = [r14 + VMCTX.STORE]
                  store.trap_code = rax; store.trap_pc = rcx; store.trap_fp = rbp
                  mov rsp, store.entry_rsp
                  ret              ; into the entry trampoline's unwind path

Checks of one instruction for the same trap code share one stub (keyed by
``(code, pc)``).  A libcall's non-zero status goes to a *dynamic* stub
(``status_stub``) that traps with the returned code.

With ``debug_hooks`` (code compiled for debugging) two things change:

* ``trap_common`` reports the trap before unwinding: it calls
  ``store.debughook(rbp, trap_pc, 0)`` (System V, ``saved = 0`` meaning "a
  trap") while the Wasm frames are still live, then reloads ``eax`` from
  ``store.trap_code`` and unwinds as above;
* an interrupt check does not trap but calls the preserve-all breakpoint
  trampoline from an out-of-line stub, and continues when it returns::

      cmp  qword [r14 + VMCTX.INTERRUPT], 0     ; a loop header (the prologue
      jne  stub                                 ; tests [r11 + STORE.INTERRUPT])
    back:
      ...
    stub: mov  r11, [r14 + VMCTX.STORE]         ; (the prologue's r11 is loaded)
          call [r11 + STORE.DEBUG_TRAMPOLINE]   ; return address: a trap site
          jmp  back

  ``interrupt_sites`` lists ``(return offset, token)`` per stub; the token
  is whatever the caller passed (the compiler's frame-table state).

In debug mode the compiler also hands over a snapshot of the operand stack
at each check (``trap_state``): the stub first stores register-held values
to their frame slots, so a debugger inspecting the trapped frame finds every
value in memory; ``trap_states`` pairs each stub's return address with the
compiler's token (it becomes a frame-table row).

The return address pushed by a stub's ``call`` is unique to the check, so
``trap_sites`` maps its code offset to the Wasm pc.  ``[entry_rsp]`` holds
the address of the entry trampoline's unwind code (see ``stubs``), so the
module blob needs no absolute address and stays position independent.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct

from .abi import STORE, VMCTX, TrapCode
from .codebuf import Label
from .emitter import Emitter
from .ops import TrapState
from .x64 import Cond, Reg

__all__ = ["OutOfLine"]

_pack_i32_into = Struct("<i").pack_into

RAX, RCX, RDX, RSP, RBP = Reg.RAX, Reg.RCX, Reg.RDX, Reg.RSP, Reg.RBP
RSI, RDI, R11, R14 = Reg.RSI, Reg.RDI, Reg.R11, Reg.R14


class OutOfLine(Emitter):
    """Trap checks and the out-of-line code they jump to (see the module doc)."""

    def __init__(self) -> None:
        super().__init__()
        # per module: one routine per trap code, plus the common tail
        self._trap_routines: dict[int, Label] = {}
        self._trap_common = Label("trap_common")
        # per function: (code, pc) -> stub label; pc -> dynamic-code stub label
        # (code, pc) -> offsets of the rel32 fields of the jumps to that stub
        self.trap_stubs: dict[tuple[int, int], list[int]] = {}
        self._dyn_stubs: dict[int, Label] = {}
        # debug mode: trap reporting and pausing interrupt checks (see the module doc)
        self.debug_hooks = False
        self._interrupt_stubs: list[tuple[Label, Label, int, object, bool]] = []
        self.interrupt_sites: list[tuple[int, object]] = []
        # debug mode: the compiler's snapshot of the operand stack at a trap check:
        # (register spills the stub performs, token); trap_states collects
        # (stub return offset, token) per function
        self.trap_state: Callable[[], TrapState] | None = None
        self._stub_states: dict[tuple[int, int], TrapState] = {}
        self.trap_states: list[tuple[int, object]] = []


    def trap_if(self, cond: Cond, code: TrapCode) -> None:
        """Jump to a trap stub for ``code`` if ``cond`` holds."""
        key = (code, self.pc)
        fixups = self.trap_stubs.get(key)
        if fixups is None:
            fixups = self.trap_stubs[key] = []
            if self.trap_state is not None:
                self._stub_states[key] = self.trap_state()
        fixups.append(self.asm.jcc_fixup(cond))

    def trap_stub(self, code: TrapCode) -> None:
        """The stub :meth:`trap_if` would make, with no jump to it (a twin's
        faulting access: its return address pairs with the debug version's)."""
        key = (code, self.pc)
        if key not in self.trap_stubs:
            self.trap_stubs[key] = []
            if self.trap_state is not None:
                self._stub_states[key] = self.trap_state()

    def trap(self, code: TrapCode) -> None:
        """Trap unconditionally (inline ``call``; the site is the return address)."""
        state = self.trap_state() if self.trap_state is not None else None
        if state is not None:
            self._spill_for_trap(state[0])
        self.asm.call_l(self._trap_routine(code))
        ret = len(self.buf.data)
        self.trap_sites[ret] = self.pc
        if state is not None:
            self.trap_states.append((ret, state[1]))

    def _spill_for_trap(self, spills: list[tuple[int, int, int]]) -> None:
        """Store register-held operand-stack values to their slots (debug-mode trap paths)."""
        for size, reg, disp in spills:
            self.store_frame(size, reg, disp)

    def _trap_routine(self, code: int) -> Label:
        label = self._trap_routines.get(code)
        if label is None:
            label = self._trap_routines[code] = Label(f"trap_{code}")
        return label

    def status_stub(self) -> None:
        """``jne`` to a stub that traps with the status in ``eax`` (after a libcall's test)."""
        stub = self._dyn_stubs.get(self.pc)
        if stub is None:
            stub = self._dyn_stubs[self.pc] = Label("trap_dyn")
            if self.trap_state is not None:
                self._stub_states[(-1, self.pc)] = self.trap_state()
        self.asm.jcc_l(Cond.NE, stub)

    def interrupt_stub(self, token: object, *, load_store: bool = False) -> None:
        """Debug mode: ``jne`` to a stub that calls the breakpoint trampoline and comes back.

        ``r11`` holds the VMStoreContext* (or, with ``load_store``, the stub
        loads it); ``token`` is recorded with the stub's return address in
        ``interrupt_sites``.
        """
        stub, back = Label("interrupt"), Label("interrupt_back")
        self.asm.jcc_l(Cond.NE, stub)
        self.buf.bind(back)
        self._interrupt_stubs.append((stub, back, self.pc, token, load_store))

    def emit_stubs(self) -> None:
        """Emit the current function's out-of-line stubs (at the end of its code)."""
        a = self.asm
        buf = self.buf
        states = self._stub_states
        data = buf.data
        trap_sites = self.trap_sites
        routines = self._trap_routines
        emit_rel32 = buf.emit_label_rel32
        for key, fixups in self.trap_stubs.items():
            code, pc = key
            here = len(data)
            for at in fixups:
                _pack_i32_into(data, at, here - at - 4)
            state = states.get(key) if states else None
            if state is not None:
                self._spill_for_trap(state[0])
            routine = routines.get(code)
            if routine is None:
                routine = self._trap_routine(code)
            data.append(0xE8)  # call rel32 (inline Assembler.call_l)
            emit_rel32(routine)
            trap_sites[len(data)] = pc
            if state is not None:
                self.trap_states.append((len(data), state[1]))
        for pc, label in self._dyn_stubs.items():
            # NB: no spills here: a status stub follows a libcall, which stored
            # every register-held value (the homes too) before it clobbered them,
            # so the slots already hold what the row describes
            buf.bind(label)
            a.mov32_rr(RAX, RAX)  # the status is an int32: clear the upper half
            a.call_l(self._trap_common)
            self.trap_sites[len(buf.data)] = pc
            state = states.get((-1, pc))
            if state is not None:
                self.trap_states.append((len(buf.data), state[1]))
        states.clear()
        for stub, back, pc, token, load_store in self._interrupt_stubs:
            buf.bind(stub)
            if load_store:
                a.mov_rm(R11, self.mem(R14, VMCTX.STORE))
            a.call_m(self.mem(R11, STORE.DEBUG_TRAMPOLINE))
            ret = len(buf.data)
            self.trap_sites[ret] = pc  # where a backtrace says an INTERRUPT trap was
            self.interrupt_sites.append((ret, token))
            a.jmp_l(back)
        self.trap_stubs.clear()
        self._dyn_stubs.clear()
        self._interrupt_stubs.clear()

    def reset_blob(self) -> None:
        """Empty the buffer and the per-module trap routines for a new blob (see
        ``MacroAssembler.new_blob``); per-function state too, in case the last
        compile stopped half-way."""
        self.buf.reset()  # NB: in place: the encoders hold its bytearray
        self.trap_stubs.clear()
        self._dyn_stubs.clear()
        self._interrupt_stubs.clear()
        self._trap_routines = {}
        self._trap_common = Label("trap_common")
        self.trap_sites = {}
        self.call_sites = {}
        self.bound_at = -1

    def finish_module(self) -> bytes:
        """Emit the shared trap routines and return the module's code."""
        a = self.asm
        buf = self.buf
        for code, label in self._trap_routines.items():
            buf.bind(label)
            a.mov32_ri(RAX, code)
            a.jmp_l(self._trap_common)
        buf.bind(self._trap_common)
        a.pop_r(RCX)
        a.mov_rm(RDX, self.mem(R14, VMCTX.STORE))
        a.mov_mr(self.mem(RDX, STORE.TRAP_CODE), RAX)
        a.mov_mr(self.mem(RDX, STORE.TRAP_PC), RCX)
        a.mov_mr(self.mem(RDX, STORE.TRAP_FP), RBP)
        if self.debug_hooks:
            # debughook(fp, trap_pc, 0) while the frames are live (System V call)
            a.mov_rr(RDI, RBP)
            a.mov_rr(RSI, RCX)
            a.mov_rm(RAX, self.mem(RDX, STORE.DEBUGHOOK))
            a.xor32_rr(RDX, RDX)
            a.and_ri(RSP, -16)
            a.call_r(RAX)
            a.mov_rm(RDX, self.mem(R14, VMCTX.STORE))
            a.mov32_rm(RAX, self.mem(RDX, STORE.TRAP_CODE))
        a.mov_rm(RSP, self.mem(RDX, STORE.ENTRY_RSP))
        a.ret()
        return buf.finish()
