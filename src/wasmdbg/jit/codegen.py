"""The code-generation context: between the visitor and the macro-assembler.

The visitor (:mod:`~wasmdbg.jit.compiler`) reads Wasm: immediates, types and
block structure.  This module owns what it takes to turn that into calls on
the macro-assembler with the value stack (:mod:`~wasmdbg.jit.stack`), the
layer Winch calls its code-generation context:

* **operand-form dispatch**: an instruction's operands may be constants,
  lazy local reads, registers or spill slots; each family picks the
  instruction form that fits (``add r, imm``, ``add r, [rbp+d]``, ``add r, r``)
  and keeps comparisons *pending* in the flags for their consumer;
* **fixed-register requests**: shift counts in ``cl``, ``rdx:rax`` for
  division, ``rdi``/``rsi``/``rcx``/``rax`` for the bulk operations, the
  System V registers of libcalls; other register-held values are moved or
  spilled out of the way by the value stack;
* **control-flow merges**: entering a block spills the stack to its fixed
  slots; a branch copies the carried values into the target's slots; an
  ``end`` or ``else`` that something branched to finds the results there.

Every operand-stack depth has a fixed frame slot (see ``stack``), so a
merge point only needs an agreed *shape*: at a block, loop or if entry the
whole stack is spilled (registers and lazy local reads go to their slots,
constants stay constants); inside the block, entries below its base never
change.  A branch copies its carried values into the slots of the target's
base depth and jumps; after an ``end`` that was branched to, the results
are slot-resident (``MEM``).  A block that nothing branches to keeps its
results wherever they are.

A comparison followed by ``if``, ``br_if``, ``select`` or ``i32.eqz`` is
not turned into a 0/1 value: its result stays *pending* in the flags
(:attr:`CodeGen.pending`: the register reserved for it and the condition)
and the consumer branches or ``cmov``s on the flags directly.  Debug builds
fuse too (the frame table gives the pending value a FLAGS location).

Calls use the argument area at the bottom of the frame (``rsp+8*i``); the
arguments are stored there first, then everything else register-resident
is spilled.  Direct calls to defined functions are ``call rel32`` inside the
module blob; imports and ``call_indirect`` go through a ``VMFuncRef``
(``r14`` switched to the callee's context, reloaded from ``[rbp-8]``).

Control frames
--------------
::

    Frame(kind, label, base, params -> results)
      FUNC   label = the body; a branch to it is a return
      BLOCK  label = its end           (bound at ``end`` if targeted)
      LOOP   label = its header        (bound at entry; branches carry params)
      IF     label = its end, else_label = the else arm (bound at ``else``/``end``)
      ELSE   an IF after its ``else``

``base`` is the operand-stack height below the frame's params; entries
below it never change inside the frame.  In debug builds the trapping
instruction's popped operands are named in :attr:`CodeGen.trap_operands`
while its checks are emitted (see :mod:`~wasmdbg.jit.seqpoints`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import cast

from ..wasm.types import FuncType, ValType
from .abi import Libcall
from .codebuf import Label
from .masm import (
    DivKind,
    FlagCond,
    FloatBinOp,
    FloatCmpKind,
    IntBinOp,
    IntCmpKind,
    MacroAssembler,
    RoundingMode,
    ShiftKind,
    TruncKind,
)
from .stack import CONST, LOCAL, MEM, RAX, RCX, RDI, RDX, REG, RSI, SIZE, ValueStack

__all__ = ["BLOCK", "ELSE", "FUNC", "IF", "LOOP", "CodeGen", "Frame"]

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
_MASK32 = 0xFFFF_FFFF

# control frame kinds
FUNC, BLOCK, LOOP, IF, ELSE = range(5)


class Frame:
    """A control frame (block, loop, if/else, or the function body)."""

    __slots__ = ("base", "else_label", "kind", "label", "nparams", "params", "results", "targeted")

    def __init__(self, kind: int, label: Label, base: int, ft: FuncType) -> None:
        self.kind = kind
        self.label = label
        self.else_label: Label | None = None
        self.base = base  # operand stack height below the params
        self.params = ft.params
        self.results = ft.results
        self.nparams = len(ft.params)
        self.targeted = False  # a branch jumps to the end label

    @property
    def arity(self) -> int:
        """How many values a branch to this frame carries."""
        return self.nparams if self.kind == LOOP else len(self.results)

    def note_branch(self) -> None:
        """A branch jumps to :attr:`label` (a loop's label is its header, not its end)."""
        if self.kind != LOOP:
            self.targeted = True


class CodeGen:
    """The state of code generation for the function being compiled.

    ``pending`` is a comparison whose 0/1 result is still only in the flags:
    ``(register reserved for it, condition)``.  ``max_out`` is the largest
    outgoing-argument area a call or libcall needed.
    """

    __slots__ = (
        "frames",
        "func_results",
        "guest_debug",
        "masm",
        "max_out",
        "pending",
        "stack",
        "trap_operands",
    )

    def __init__(self, masm: MacroAssembler, stack: ValueStack, guest_debug: bool) -> None:
        self.masm = masm
        self.stack = stack
        self.guest_debug = guest_debug
        self.frames: list[Frame] = []
        self.func_results: tuple[ValType, ...] = ()
        self.max_out = 0
        self.pending: tuple[int, FlagCond] | None = None
        # debug: the popped operands (type, register) of the instruction being compiled,
        # still in those registers at its trap checks (see seqpoints)
        self.trap_operands: tuple[tuple[ValType, int], ...] = ()

    def start_function(self, results: tuple[ValType, ...]) -> None:
        """A new function body returning ``results``."""
        self.max_out = 0
        self.func_results = results
        self.frames = [Frame(FUNC, Label("body"), 0, FuncType((), results))]

    # -- pending comparisons ------------------------------------------------------------

    def materialize(self) -> None:
        """Turn the pending comparison into its 0/1 value in its register."""
        if self.pending is not None:
            reg, cond = self.pending
            self.pending = None
            self.masm.set_cond(cond, reg)

    def pop_cond(self) -> FlagCond:
        """Pop an i32 condition; return the flag condition "it is non-zero"."""
        masm = self.masm
        pending = self.pending
        if pending is not None:
            self.pending = None
            self.stack.drop()
            return pending[1]
        reg = self.stack.pop_to_reg()
        masm.int_test_zero(4, reg)
        self.stack.free(reg)
        return masm.invert_cond(masm.zero_cond())

    # -- control-flow merges -------------------------------------------------------------

    def enter(self, kind: int, ft: FuncType) -> Frame:
        stack = self.stack
        stack.spill_all()
        n = len(ft.params)
        if n and kind != BLOCK:
            stack.spill_top(n)
        frame = Frame(kind, Label(), len(stack.items) - n, ft)
        self.frames.append(frame)
        return frame

    def enter_if(self, ft: FuncType) -> None:
        """``if``: pop the condition, enter the frame, jump to the else arm unless it holds."""
        cond = self.pop_cond()
        frame = self.enter(IF, ft)  # only moves: the flags survive
        frame.else_label = Label("else")
        masm = self.masm
        masm.jump_if(masm.invert_cond(cond), frame.else_label)

    def merge_else(self, frame: Frame, reachable: bool) -> None:
        """``else``: the then arm's results to their slots and a jump to the end."""
        stack = self.stack
        masm = self.masm
        if reachable:
            stack.spill_top(len(frame.results))
            masm.jmp(frame.label)
            frame.targeted = True
        if frame.else_label is not None:
            masm.bind(frame.else_label)
        frame.else_label = None
        frame.kind = ELSE
        stack.truncate(frame.base)
        for ty in frame.params:
            stack.push_mem(ty)

    def merge_end(self, frame: Frame, reachable: bool) -> None:
        """``end`` of a block something branched to, or of an if: results in their slots."""
        stack = self.stack
        if reachable:
            stack.spill_top(len(frame.results))
        masm = self.masm
        if frame.else_label is not None:
            masm.bind(frame.else_label)
        masm.bind(frame.label)
        stack.truncate(frame.base)
        for ty in frame.results:
            stack.push_mem(ty)

    def copy_to_frame_slots(self, frame: Frame) -> None:
        """Copy the values a branch to ``frame`` carries into the target slots."""
        n = frame.arity
        if n == 0:
            return
        stack = self.stack
        items = stack.items
        top = len(items) - n
        for i in range(n):
            depth = top + i
            dst = frame.base + i
            e = items[depth]
            if e[0] == MEM and depth == dst:
                continue
            stack.store_entry(e, self.masm.frame(stack.slot_disp(dst)), stack.entry_disp(depth))

    def detach_params(self, n: int) -> None:
        """Make sure no lazy parameter read is among the top ``n`` values."""
        stack = self.stack
        items = stack.items
        masm = self.masm
        for depth in range(len(items) - n, len(items)):
            kind, ty, data = items[depth]
            if kind == LOCAL and stack.local_disps[data] > 0:
                masm.copy_frame(stack.slot_disp(depth), stack.local_disps[data])
                items[depth] = (MEM, ty, 0)
                stack.local_refs -= 1

    def write_results(self) -> None:
        """Copy the function's results into the argument area (params detached)."""
        stack = self.stack
        items = stack.items
        n = len(self.func_results)
        top = len(items) - n
        masm = self.masm
        for i in range(n):
            depth = top + i
            stack.store_entry(items[depth], masm.frame(16 + 8 * i), stack.entry_disp(depth))

    def return_(self) -> None:
        self.detach_params(len(self.func_results))
        self.write_results()
        self.masm.epilogue()

    def branch(self, frame: Frame) -> None:
        """Unconditional branch to ``frame`` (the stack is left unchanged)."""
        if frame.kind == FUNC:
            self.return_()
            return
        self.copy_to_frame_slots(frame)
        self.masm.jmp(frame.label)
        frame.note_branch()

    def branch_if(self, frame: Frame) -> None:
        """``br_if`` to ``frame`` on the popped condition."""
        masm = self.masm
        cond = self.pop_cond()
        if frame.kind == FUNC:
            self.detach_params(len(self.func_results))
        elif frame.arity == 0:
            masm.jump_if(cond, frame.label)
            frame.note_branch()
            return
        skip = Label()
        masm.jump_if(masm.invert_cond(cond), skip)
        self.branch(frame)
        masm.bind(skip)

    def branch_table(self, labels: Sequence[int], default: int) -> None:
        """``br_table``: a jump table; targets that carry values get a move stub."""
        stack = self.stack
        masm = self.masm
        frames = self.frames
        idx = stack.pop_to_reg()
        if any(frames[-1 - d].kind == FUNC for d in (*labels, default)):
            self.detach_params(len(self.func_results))
        stubs: dict[int, Label] = {}
        moves: list[tuple[Label, Frame]] = []
        for d in {*labels, default}:
            frame = frames[-1 - d]
            if frame.kind == FUNC or frame.arity:
                stub = Label("br_table_stub")
                moves.append((stub, frame))
                stubs[d] = stub
            else:
                stubs[d] = frame.label
                frame.note_branch()
        if labels:
            masm.jump_table(idx, [stubs[d] for d in labels], stubs[default])
        else:
            masm.jmp(stubs[default])
        stack.free(idx)
        for stub, frame in moves:
            masm.bind(stub)
            self.branch(frame)

    # -- calls ------------------------------------------------------------------------------

    def call_args(self, n: int) -> None:
        """Move the top ``n`` values to the outgoing slots, then spill registers."""
        stack = self.stack
        items = stack.items
        base = len(items) - n
        masm = self.masm
        for i in range(n):
            stack.store_entry(items[base + i], masm.out(i), stack.entry_disp(base + i))
        stack.truncate(base)
        stack.spill_regs()
        stack.save_homes()

    def call_results(self, results: tuple[ValType, ...], nargs: int) -> None:
        stack = self.stack
        masm = self.masm
        stack.load_homes()
        for i, ty in enumerate(results):
            reg = stack.alloc_like(ty)
            masm.load(SIZE[ty], reg, masm.out(i))
            stack.push_reg(ty, reg)
        n = max(nargs, len(results))
        if n > self.max_out:
            self.max_out = n

    def libcall(
        self, op: Libcall, imms: Sequence[int], nargs: int, result: ValType | None
    ) -> None:
        stack = self.stack
        masm = self.masm
        stack.spill_regs()
        for i, v in enumerate(imms):
            masm.store_const(masm.out(i), v)
        items = stack.items
        base = len(items) - nargs
        k = len(imms)
        for j in range(nargs):
            stack.store_entry(items[base + j], masm.out(k + j), stack.entry_disp(base + j))
        stack.truncate(base)
        stack.save_homes()
        masm.libcall(op)
        stack.load_homes()
        n = k + nargs
        if n > self.max_out:
            self.max_out = n
        if result is not None:
            reg = stack.alloc_gpr()
            masm.load(SIZE[result], reg, masm.out(0))
            stack.push_reg(result, reg)

    # -- variables and parametric -----------------------------------------------------------

    def set_local(self, idx: int, keep: bool) -> None:
        stack = self.stack
        home = stack.homes[idx]
        if home >= 0:
            self._set_home(home, keep)
            return
        if stack.local_refs:
            stack.detach_local(idx)
        disp = stack.local_disps[idx]
        masm = self.masm
        items = stack.items
        kind, ty, data = items[-1]
        if kind == REG:
            masm.store_frame(SIZE[ty], data, disp)
        elif kind == CONST:
            masm.store_const_frame(disp, data)
        else:
            src = stack.entry_disp(len(items) - 1)
            if src != disp:
                masm.copy_frame(disp, src)
        if not keep:
            stack.drop()

    def _set_home(self, home: int, keep: bool) -> None:
        """``local.set``/``local.tee`` of a register-held local (no LOCAL entry refers to it)."""
        stack = self.stack
        masm = self.masm
        items = stack.items
        kind, ty, data = items[-1]
        if kind == REG:
            masm.move(SIZE[ty], home, data)
        elif kind == CONST:
            masm.load_const(home, data)
        else:
            masm.load_frame(SIZE[ty], home, stack.entry_disp(len(items) - 1))
        if not keep:
            stack.drop()

    def local_get_copy(self, idx: int) -> None:
        """``local.get`` that copies the local into a register at once (debug builds).

        NB: a lazy LOCAL entry would be described by the frame table at the
        local's own slot, so a debugger could not write the pushed value
        without changing the local.  A register copy is its own location (the
        breakpoint trampoline saves and restores it), and costs about what the
        consumer's own load would have: the load only moves up.
        """
        stack = self.stack
        if stack.homes[idx] >= 0:
            stack.push_local(idx)  # a register copy of the home
            return
        ty = stack.local_types[idx]
        reg = stack.alloc_like(ty)
        self.masm.load_frame(SIZE[ty], reg, stack.local_disps[idx])
        stack.push_reg(ty, reg)

    def select(self) -> None:
        """``select`` (a ``cmov`` on the popped condition)."""
        stack = self.stack
        cond = self.pop_cond()
        other = stack.pop_to_reg()  # only moves: the flags survive
        ty = stack.peek()[1]
        dst = stack.pop_to_reg()
        self.masm.select_cond(SIZE[ty], dst, other, cond)
        stack.free(other)
        stack.push_reg(ty, dst)

    # -- memory -----------------------------------------------------------------------------

    def load(self, size: int, ty: ValType, signed: bool, imm: object) -> None:
        _align, offset = cast(tuple[int, int], imm)
        stack = self.stack
        masm = self.masm
        addr = stack.pop_to_reg()
        m = masm.heap_addr(addr, offset, size)
        if ty is F32 or ty is F64:
            dst = stack.alloc_xmm()
            masm.heap_load(m, dst, size, False, False)
            stack.free(addr)
            stack.push_reg(ty, dst)
        else:
            masm.heap_load(m, addr, size, signed, ty is I64)
            stack.push_reg(ty, addr)

    def store(self, size: int, imm: object) -> None:
        _align, offset = cast(tuple[int, int], imm)
        stack = self.stack
        masm = self.masm
        kind, _ty, data = stack.items[-1]
        if kind == CONST and masm.can_store_const(size, data):
            stack.items.pop()
            addr = stack.pop_to_reg()
            m = masm.heap_addr(addr, offset, size)
            masm.heap_store_const(m, data, size)
            stack.free(addr)
            return
        val = stack.pop_to_reg()
        addr = stack.pop_to_reg()
        m = masm.heap_addr(addr, offset, size)
        masm.heap_store(m, val, size)
        stack.free(val)
        stack.free(addr)

    def memory_copy(self) -> None:
        """``memory.copy``: dst, src, n in rdi, rsi, rcx."""
        self.bulk((), (RDI, RSI, RCX), self.masm.memory_copy)

    def memory_fill(self) -> None:
        """``memory.fill``: dst, value, n in rdi, rax (al), rcx."""
        self.bulk((), (RDI, RAX, RCX), self.masm.memory_fill)

    def table_copy(self, dst_table: int, src_table: int) -> None:
        """``table.copy``: dst, src, n in rdi, rsi, rcx; rax and rdx are clobbered."""
        self.bulk((RAX, RDX), (RDI, RSI, RCX), partial(self.masm.table_copy, dst_table, src_table))

    def table_fill(self, table: int) -> None:
        """``table.fill``: dst, value, n in rdi, rax, rcx; rdx is clobbered."""
        self.bulk((RDX,), (RDI, RAX, RCX), partial(self.masm.table_fill, table))

    def bulk(
        self, scratch: tuple[int, ...], operands: tuple[int, int, int], emit: Callable[[], None]
    ) -> None:
        """A bulk operation on the top three operands, in the fixed registers ``operands``
        (Wasm order), with ``scratch`` registers it clobbers (the masm's contract).

        Unlike a libcall, other register-held stack values stay where they are.
        """
        stack = self.stack
        tys = [e[1] for e in stack.items[-3:]]
        for reg in scratch:
            stack.alloc_specific(reg)
        for reg in reversed(operands):
            stack.pop_to_specific(reg)
        if self.guest_debug:  # the operands stay in place until the bounds checks are past
            self.trap_operands = tuple(zip(tys, operands, strict=True))
            emit()
            self.trap_operands = ()
        else:
            emit()
        for reg in scratch + operands:
            stack.free(reg)

    # -- integer families --------------------------------------------------------------

    def int_binop(self, op: IntBinOp, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        masm = self.masm
        items = stack.items
        kind, _t, data = items[-1]
        if kind == CONST:
            items.pop()
            lhs = stack.pop_to_reg()
            if not masm.int_binop_imm(op, size, lhs, data):
                tmp = stack.alloc_gpr()
                masm.load_const(tmp, data)
                masm.int_binop(op, size, lhs, tmp)
                stack.free(tmp)
        elif kind == REG:
            items.pop()
            lhs = stack.pop_to_reg()
            masm.int_binop(op, size, lhs, data)
            stack.free(data)
        else:
            _e, disp = stack.pop_entry_disp()
            lhs = stack.pop_to_reg()
            masm.int_binop_frame(op, size, lhs, disp)
        stack.push_reg(ty, lhs)

    def int_cmp(self, cmp: IntCmpKind, size: int, imm: object = None) -> None:
        stack = self.stack
        masm = self.masm
        items = stack.items
        kind, _t, data = items[-1]
        if kind == CONST:
            items.pop()
            lhs = stack.pop_to_reg()
            if not masm.int_cmp_imm(size, lhs, data):
                tmp = stack.alloc_gpr()
                masm.load_const(tmp, data)
                masm.int_cmp(size, lhs, tmp)
                stack.free(tmp)
        elif kind == REG:
            items.pop()
            lhs = stack.pop_to_reg()
            masm.int_cmp(size, lhs, data)
            stack.free(data)
        else:
            _e, disp = stack.pop_entry_disp()
            lhs = stack.pop_to_reg()
            masm.int_cmp_frame(size, lhs, disp)
        self.pending = (lhs, masm.int_cond(cmp))
        stack.push_reg(I32, lhs)

    def int_eqz(self, size: int, imm: object = None) -> None:
        masm = self.masm
        pending = self.pending
        if pending is not None:  # eqz of a comparison: the opposite condition
            self.pending = (pending[0], masm.invert_cond(pending[1]))
            return
        stack = self.stack
        reg = stack.pop_to_reg()
        masm.int_test_zero(size, reg)
        self.pending = (reg, masm.zero_cond())
        stack.push_reg(I32, reg)

    def shift(self, kind: ShiftKind, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        items = stack.items
        top = items[-1]
        if top[0] == CONST:
            items.pop()
            lhs = stack.pop_to_reg()
            self.masm.int_shift_imm(kind, size, lhs, top[2])
        else:
            stack.pop_to_specific(RCX)
            lhs = stack.pop_to_reg()
            self.masm.int_shift(kind, size, lhs)
            stack.free(RCX)
        stack.push_reg(ty, lhs)

    def divrem(self, kind: DivKind, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        stack.alloc_specific(RAX)
        stack.alloc_specific(RDX)
        divisor = stack.pop_to_reg()
        stack.free(RAX)
        stack.pop_to_specific(RAX)
        if self.guest_debug:  # both operands stay put until the traps are past
            self.trap_operands = ((ty, RAX), (ty, divisor))
            self.masm.int_divrem(kind, size, divisor)
            self.trap_operands = ()
        else:
            self.masm.int_divrem(kind, size, divisor)
        stack.free(divisor)
        if kind == DivKind.DIV_S or kind == DivKind.DIV_U:
            stack.free(RDX)
            stack.push_reg(ty, RAX)
        else:
            stack.free(RAX)
            stack.push_reg(ty, RDX)

    def unop(
        self,
        fn: Callable[[MacroAssembler, int, int, int], None],
        size: int,
        ty: ValType,
        imm: object = None,
    ) -> None:
        stack = self.stack
        reg = stack.pop_to_reg()
        fn(self.masm, size, reg, reg)
        stack.push_reg(ty, reg)

    def extend(self, from_bits: int, to_ty: ValType, signed: bool, imm: object = None) -> None:
        stack = self.stack
        reg = stack.pop_to_reg()
        self.masm.extend(reg, reg, from_bits, to_ty is I64, signed)
        stack.push_reg(to_ty, reg)

    def extend_i32_u(self) -> None:
        """``i64.extend_i32_u``: i32 values are kept zero-extended, so only the type changes."""
        stack = self.stack
        kind, _t, data = stack.items[-1]
        if kind == CONST:
            stack.items[-1] = (CONST, I64, data)
            return
        reg = stack.pop_to_reg()
        stack.push_reg(I64, reg)

    def wrap_i64(self) -> None:
        """``i32.wrap_i64``."""
        stack = self.stack
        kind, _t, data = stack.items[-1]
        if kind == CONST:
            stack.items[-1] = (CONST, I32, data & _MASK32)
            return
        self.extend(32, I32, False)

    # -- float families ------------------------------------------------------------------

    def float_binop(self, op: FloatBinOp, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        kind = stack.items[-1][0]
        if kind in (LOCAL, MEM) and op <= FloatBinOp.DIV:
            _e, disp = stack.pop_entry_disp()
            lhs = stack.pop_to_reg()
            self.masm.float_binop_frame(op, size, lhs, disp)
            stack.push_reg(ty, lhs)
            return
        rhs = stack.pop_to_reg()
        lhs = stack.pop_to_reg()
        self.masm.float_binop(op, size, lhs, rhs)
        stack.free(rhs)
        stack.push_reg(ty, lhs)

    def float_cmp(self, kind: FloatCmpKind, size: int, imm: object = None) -> None:
        stack = self.stack
        rhs = stack.pop_to_reg()
        lhs = stack.pop_to_reg()
        dst = stack.alloc_gpr()
        cond = self.masm.float_cmp_cond(kind, size, lhs, rhs)
        if cond is not None:
            self.pending = (dst, cond)
        else:
            self.masm.set_float_cmp(kind, size, dst, lhs, rhs)
        stack.free(rhs)
        stack.free(lhs)
        stack.push_reg(I32, dst)

    def float_unop(self, what: int, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        masm = self.masm
        reg = stack.pop_to_reg()
        if what == 0:
            masm.float_abs_neg(size, reg, False)
        elif what == 1:
            masm.float_abs_neg(size, reg, True)
        elif what == 2:
            masm.float_sqrt(size, reg)
        else:
            masm.float_round(size, reg, RoundingMode(what))
        stack.push_reg(ty, reg)

    def trunc(
        self, kind: TruncKind, fsize: int, ity: ValType, signed: bool, imm: object = None
    ) -> None:
        stack = self.stack
        src = stack.pop_to_reg()
        dst = stack.alloc_gpr()
        self.masm.float_to_int(kind, fsize, src, dst, SIZE[ity], signed)
        stack.free(src)
        stack.push_reg(ity, dst)

    def convert(self, fty: ValType, isize: int, signed: bool, imm: object = None) -> None:
        stack = self.stack
        src = stack.pop_to_reg()
        dst = stack.alloc_xmm()
        self.masm.int_to_float(SIZE[fty], dst, src, isize, signed)
        stack.free(src)
        stack.push_reg(fty, dst)

    def float_convert(self, to_ty: ValType, imm: object = None) -> None:
        stack = self.stack
        reg = stack.pop_to_reg()
        self.masm.float_convert(SIZE[to_ty], reg, reg)
        stack.push_reg(to_ty, reg)

    def reinterpret(self, to_ty: ValType, imm: object = None) -> None:
        stack = self.stack
        kind, _t, data = stack.items[-1]
        if kind == CONST:
            stack.items[-1] = (CONST, to_ty, data)
            return
        src = stack.pop_to_reg()
        dst = stack.alloc_like(to_ty)
        self.masm.reinterpret(SIZE[to_ty], dst, src)
        stack.free(src)
        stack.push_reg(to_ty, dst)
