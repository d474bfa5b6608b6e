"""Sequence points: patch sites and frame-table rows of debug builds.

This module owns what a guest-debug build records while the compiler runs
(the visitor calls it; plain builds never create it):

* before every reachable instruction, :meth:`SequencePoints.before_op` emits
  a 5-byte patch site (``0F 1F 44 00 00``) and adds a frame-table row: the
  Wasm pc, the site's offset, and where each local and operand-stack value
  lives at that point.  When the previous instruction emitted no code and no
  label was bound since the previous site (``local.get``, ``i32.const``,
  ``block`` ...), the instruction shares that site: a second row at the same
  offset.  Control cannot reach the instruction without passing the shared
  site, and the machine state is the same for both rows, so a stop there is
  exact for either;
* every call gets a row at its return address (the caller's state while the
  callee runs), every interrupt check an INTERRUPT row and every trap check a
  row keyed by its stub's return address (:meth:`note_stub_states`), with
  register-held values stored to their slots by the stub
  (:meth:`trap_snapshot`, the macro-assembler's ``trap_state``).

Locals kept in home registers (``stack``) are described as those registers
at patch sites and interrupt checks, and as their slots in call rows and trap
rows: the code stores the homes to the slots around every call, and a trap
stub stores them with the other register-held values.  So a debugger's write
to a caller frame's local lands where the caller reloads it from.

A pending comparison (the top value, before its consumer) is described by a
FLAGS location with its condition: the breakpoint trampoline saves and
restores rflags, so the debugger reads it and can even change the branch.

Row states are memoised per function on the value stack's entries: an equal
state gives the same tuple object, which the frame-table builder interns by
identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from ..wasm.types import ValType
from .codegen import CodeGen
from .frametable import FrameTable, FrameTableBuilder, Loc, LocKind
from .stack import CONST, LOCAL, REG, SIZE

__all__ = ["SequencePoints"]


class SequencePoints:
    """The frame-table recorder of one module's debug build."""

    __slots__ = (
        "cg",
        "entry_locals",
        "func_index",
        "local_locs",
        "locals_id",
        "masm",
        "memo",
        "site_end",
        "site_start",
        "slot_locs",
        "stack",
        "table",
        "twin",
    )

    def __init__(self, cg: CodeGen) -> None:
        self.cg = cg
        self.masm = cg.masm
        self.stack = cg.stack
        self.table = FrameTableBuilder()
        self.func_index = 0
        self.local_locs: tuple[Loc, ...] = ()  # at patch sites and interrupt checks
        self.slot_locs: tuple[Loc, ...] = ()  # during calls and at trap stubs
        self.locals_id = 0  # local_locs's id in the frame-table builder
        self.entry_locals: tuple[Loc, ...] | None = None  # locals during the prologue
        # operand-stack state -> its locations and their frame-table id, for
        # the current function
        self.memo: dict[tuple[object, ...], tuple[tuple[Loc, ...], int]] = {}
        self.site_start = self.site_end = -1  # the last patch site emitted
        #: compiling a NOP-free twin: no patch sites, no frame-table rows (the
        #: debug version's rows describe it); trap snapshots still drive the
        #: trap stubs' spills, so the code matches the debug version's
        self.twin = False

    def start_function(
        self,
        func_index: int,
        code_start: int,
        local_types: Sequence[ValType],
        local_disps: Sequence[int],
        nparams: int,
    ) -> object:
        """A new function; returns the token of its prologue's interrupt check."""
        self.func_index = func_index
        # NB: one tuple per function and kind: the frame-table builder interns
        # them by identity.  Homed locals are in their home registers at patch
        # sites and interrupt checks (the trampoline saves every register) and in
        # their slots while a call runs or a trap stub reports (codegen and
        # trap_snapshot store the homes there)
        self.slot_locs = tuple(
            Loc(LocKind.SLOT, d, t) for t, d in zip(local_types, local_disps, strict=True)
        )
        homes = self.stack.homes
        self.local_locs = tuple(
            loc if h < 0 else _reg_loc(h, loc.type)
            for loc, h in zip(self.slot_locs, homes, strict=True)
        )
        if self.local_locs == self.slot_locs:
            self.local_locs = self.slot_locs
        self.locals_id = self.table.intern_locs(self.local_locs)
        self.memo = {}
        # NB: a lazily compiled function starts a blob of its own, at offset 0
        # again: a site of the previous one must not look shareable
        self.site_start = self.site_end = -1
        # NB: the check runs before the declared locals are zeroed: they are 0 by then
        zeros = tuple(Loc(LocKind.CONST, 0, t) for t in local_types[nparams:])
        self.entry_locals = self.slot_locs[:nparams] + zeros  # the homes load after the prologue
        return (code_start, self.entry_locals, [])

    def end_prologue(self) -> None:
        """The declared locals are zeroed from here on."""
        self.entry_locals = None

    def finish(self, base: int = 0) -> FrameTable:
        """The frame table of what was compiled since the last call (the module,
        or a lazily compiled piece), native offsets moved by ``base``."""
        table = self.table.finish(base)
        self.discard()
        return table

    def discard(self) -> None:
        """Start the rows afresh (a piece's, after :meth:`finish` or a failed compile)."""
        self.table = FrameTableBuilder()

    def before_op(self, offset: int) -> None:
        """Emit a patch site and a frame-table row before the instruction at ``offset``."""
        if self.twin:
            return
        table = self.table
        masm = self.masm
        at = masm.offset
        if at == self.site_end and masm.bound_at != at:
            site = self.site_start  # no code since the last site: share it
        else:
            site = masm.patch_site()
            self.site_start, self.site_end = site, masm.offset
        stack_id = self._stack_state()[1]
        table.add_nop5_site(self.func_index, offset, site, self.locals_id, stack_id)

    def stack_locs(self) -> tuple[Loc, ...]:
        """Where each operand-stack value lives now (bottom first).

        A pending comparison (the top value, before its consumer) is only in
        the flags: a FLAGS location with its condition.
        """
        return self._stack_state()[0]

    def _stack_state(self) -> tuple[tuple[Loc, ...], int]:
        """:meth:`stack_locs` and its id in the frame-table builder."""
        # NB: memoised per function on the stack's entries: an equal state gives
        # the same tuple object and id, so a row costs no hashing of Locs
        key = (*self.stack.items, self.cg.pending)
        state = self.memo.get(key)
        if state is None:
            where = self._describe_stack()
            state = self.memo[key] = (where, self.table.intern_locs(where))
        return state

    def _describe_stack(self) -> tuple[Loc, ...]:
        stack = self.stack
        where: list[Loc] = []
        pending = self.cg.pending
        top = len(stack.items) - 1
        for depth, (kind, ty, data) in enumerate(stack.items):
            if kind == CONST:
                where.append(Loc(LocKind.CONST, data, ty))
            elif kind == REG:
                if pending is not None and depth == top and data == pending[0]:
                    where.append(Loc(LocKind.FLAGS, int(pending[1]), ty))
                elif data < 16:
                    where.append(Loc(LocKind.GPR, data, ty))
                else:
                    where.append(Loc(LocKind.XMM, data - 16, ty))
            elif kind == LOCAL:
                where.append(Loc(LocKind.SLOT, stack.local_disps[data], ty))
            else:
                where.append(Loc(LocKind.SLOT, stack.slot_disp(depth), ty))
        return tuple(where)

    def call_state(self, return_offset: int) -> None:
        """Record the caller's state while a call is in progress (debug only)."""
        if self.twin:
            return
        self.table.add_call_state(
                self.func_index, self.masm.pc, return_offset, self.slot_locs, self.stack_locs()
            )

    def interrupt_state(self) -> object:
        """The token a debug-mode interrupt check carries: (pc, locals, stack)."""
        return (self.masm.pc, self.local_locs, self.stack_locs())

    def note_stub_states(self) -> None:
        """Frame-table rows for the function's interrupt checks and trap checks,
        keyed by their stubs' return addresses (debug only)."""
        table = self.table
        masm = self.masm
        if self.twin:
            masm.interrupt_sites.clear()
            masm.trap_states.clear()
            return
        for add, states in (
            (table.add_interrupt_state, masm.interrupt_sites),
            (table.add_call_state, masm.trap_states),
        ):
            for ret, token in states:
                pc, local_locs, stack_locs = cast(tuple[int, Sequence[Loc], Sequence[Loc]], token)
                add(self.func_index, pc, ret, local_locs, stack_locs)
            states.clear()

    def trap_snapshot(self) -> tuple[list[tuple[int, int, int]], object]:
        """The operand stack at a trap check (debug mode; see ``masm.trap_state``).

        Register-held values are stored to their slots by the trap stub, so
        the row lists only slots and constants.  The operands of the trapping
        instruction that the compiler names in ``_trap_operands`` (those of the
        integer divisions) come last, at the depths they had before the
        instruction popped them.
        """
        stack = self.stack
        spills: list[tuple[int, int, int]] = []
        where: list[Loc] = []
        for depth, (kind, ty, data) in enumerate(stack.items):
            if kind == CONST:
                where.append(Loc(LocKind.CONST, data, ty))
            elif kind == LOCAL:
                where.append(Loc(LocKind.SLOT, stack.local_disps[data], ty))
            else:
                disp = stack.slot_disp(depth)
                if kind == REG:
                    spills.append((SIZE[ty], data, disp))
                where.append(Loc(LocKind.SLOT, disp, ty))
        # the trapping instruction's operands, already popped but still in their
        # registers: stored to the slots they had on the operand stack
        for depth, (ty, reg) in enumerate(self.cg.trap_operands, len(stack.items)):
            disp = stack.slot_disp(depth)
            spills.append((SIZE[ty], reg, disp))
            where.append(Loc(LocKind.SLOT, disp, ty))
        if self.entry_locals is not None:  # in the prologue: the homes are not loaded yet
            return spills, (self.masm.pc, self.entry_locals, where)
        spills.extend(stack.home_moves)  # the homes go to their locals' slots too
        return spills, (self.masm.pc, self.slot_locs, where)


def _reg_loc(reg: int, ty: ValType) -> Loc:
    """The location of a value in register ``reg`` (0-15 GPR, 16-31 XMM)."""
    return Loc(LocKind.GPR, reg, ty) if reg < 16 else Loc(LocKind.XMM, reg - 16, ty)
