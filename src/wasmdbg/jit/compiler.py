"""The single-pass compiler: Wasm function bodies -> x86-64 machine code.

This module owns the *visitor*: one ``visit_<op>`` per Wasm instruction
(Wasm 2.0 without SIMD), which reads immediates, types and control
structure and drives the value stack (:mod:`~wasmdbg.jit.stack`) and the
macro-assembler (:mod:`~wasmdbg.jit.masm`).  No x86 encoding happens here.

Numeric families (``i32.add``, ``f64.lt``, ``i64.load16_s`` ...) get their
``visit_<op>`` methods from small tables at the end of the module; the
opcode dispatch is a dict keyed by opcode (``0xFC``-prefixed opcodes are
``0xFC00 | sub``).

Control flow
------------
Every operand-stack depth has a fixed frame slot (see ``stack``), so a
merge point only needs an agreed *shape*: at a block, loop or if entry the
whole stack is spilled (registers and lazy local reads go to their slots,
constants stay constants); inside the block, entries below its base never
change.  A branch copies its carried values into the slots of the target's
base depth and jumps; after an ``end`` that was branched to, the results
are slot-resident (``MEM``).  A block that nothing branches to keeps its
results wherever they are.  Code after ``br``/``return``/``unreachable``
is skipped until the enclosing ``else``/``end``.

A comparison followed by ``if``, ``br_if``, ``select`` or ``i32.eqz`` is
not turned into a 0/1 value: its result stays *pending* in the flags (the
compiler remembers the register reserved for it and the condition) and the
consumer branches or ``cmov``s on the flags directly.  Any other next
instruction materialises it first (``setcc``).  Debug builds fuse too: at
the consumer's patch site the frame table gives the pending value a FLAGS
location (the condition; the breakpoint trampoline saves and restores
rflags, so the debugger reads it and can even change the branch).

Calls use the argument area at the bottom of the frame (``rsp+8*i``); the
arguments are stored there first, then everything else register-resident
is spilled.  Direct calls to defined
functions are ``call rel32`` inside the module blob; imports and
``call_indirect`` go through a ``VMFuncRef`` (``r14`` switched to the
callee's context, reloaded from ``[rbp-8]`` afterwards).

Debugging
---------
With ``guest_debug`` the visitor loop calls :meth:`FuncCompiler.before_visit_op`
before every reachable instruction: it emits a 5-byte patch site
(``0F 1F 44 00 00``) and records a frame-table row: the Wasm pc, the site's
offset, and where each local and operand-stack value lives at that point.
When the previous instruction emitted no code and no label was bound since
the previous site (``local.get``, ``i32.const``, ``block`` ...), the
instruction shares that site: a second row at the same offset.  Control
cannot reach the instruction without passing the shared site, and the
machine state is the same for both rows, so a stop there is exact for
either; the NOPs of a run like ``local.get; local.get; i32.const`` cost one
instruction instead of three.
The macro-assembler's ``debug_hooks`` are on as well: traps are reported
before the stack unwinds, and the interrupt checks (function entry, loop
headers) call the breakpoint trampoline instead of trapping, each with an
INTERRUPT frame-table row (the state at the check).  Every trap check gets
a row keyed by its stub's return address (``add_call_state``), describing
the operand stack at the check with register-held values stored to their
slots by the stub.  Every call gets such a row at its return address.
Without ``guest_debug`` the hooks are not called and nothing is emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from types import MethodType
from typing import cast

from ..wasm.code import Instruction, RawInstruction, block_type, data_count_ok, iter_body, iter_raw
from ..wasm.module import FunctionBody, ModuleDef
from ..wasm.opcodes import OPCODES
from ..wasm.types import FuncType, ValType
from .abi import CompiledFunction, CompiledModule, Libcall, TrapCode
from .codebuf import Label
from .frametable import NOP5, FrameTableBuilder, Loc, LocKind
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

__all__ = ["FuncCompiler", "compile_module"]

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF
_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF

# instructions that consume a pending comparison straight from the flags:
# if, br_if, select, typed select, i32.eqz
_FLAG_CONSUMERS = frozenset({0x04, 0x0D, 0x1B, 0x1C, 0x45})

# control frame kinds
_FUNC, _BLOCK, _LOOP, _IF, _ELSE = range(5)


class _Frame:
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
        return self.nparams if self.kind == _LOOP else len(self.results)

    def note_branch(self) -> None:
        """A branch jumps to :attr:`label` (a loop's label is its header, not its end)."""
        if self.kind != _LOOP:
            self.targeted = True


# an opcode's visitor: (function, None) called as function(compiler, imm), or a
# family's (method, args) called as method(compiler, *args, imm)
_HandlerSpec = tuple[Callable[..., None], "tuple[object, ...] | None"]

# per compiler class: its opcode table (see FuncCompiler._handler_specs)
_HANDLER_SPECS: dict[type, dict[int, _HandlerSpec]] = {}


class _Handlers(dict[int, Callable[[object], None]]):
    """The opcode dispatch of one compiler: opcode -> bound visitor.

    NB: filled on first use of each opcode (a module uses a few dozen of the
    ~450): binding them all would cost more than compiling a small module.
    """

    __slots__ = ("_compiler", "_specs")

    def __init__(self, compiler: FuncCompiler, specs: dict[int, _HandlerSpec]) -> None:
        super().__init__()
        self._compiler = compiler
        self._specs = specs

    def __missing__(self, code: int) -> Callable[[object], None]:
        spec = self._specs.get(code)
        if spec is None:
            raise RuntimeError("opcode without a visitor")
        fn, args = spec
        if args is None:
            handler: Callable[[object], None] = MethodType(fn, self._compiler)
        else:
            handler = partial(fn, self._compiler, *args)
        self[code] = handler
        return handler


class FuncCompiler:
    """Compiles the functions of one module into one :class:`MacroAssembler`."""

    def __init__(
        self, module: ModuleDef, *, guest_debug: bool = False, sig_ids: Sequence[int] | None = None
    ) -> None:
        self.module = module
        self.guest_debug = guest_debug
        self.sig_ids = sig_ids
        self.masm = MacroAssembler()
        self.masm.debug_hooks = guest_debug
        if guest_debug:
            self.masm.trap_state = self._trap_snapshot
        self._entry_locals: tuple[Loc, ...] | None = None  # locals during the prologue (debug)
        # debug: the popped operands (type, register) of the instruction being compiled,
        # still in those registers at its trap checks (see _trap_snapshot)
        self._trap_operands: tuple[tuple[ValType, int], ...] = ()
        self.stack = ValueStack(self.masm)
        self.frames: list[_Frame] = []
        self.dead = False
        self._dead_depth = 0
        self.max_out = 0
        self.func_results: tuple[ValType, ...] = ()
        self.func_labels = [Label(f"func{i}") for i in range(len(module.func_type_indices))]
        self._block_types: dict[int, FuncType] = {}
        self.frame_table = FrameTableBuilder() if guest_debug else None
        # a comparison whose 0/1 result is still only in the flags: (register, condition)
        self.pending: tuple[int, FlagCond] | None = None
        pinned = bool(module.memories)
        self.masm.heap_pinned = pinned
        self.stack.pin_heap(pinned)
        self.func_index = 0
        self._local_locs: tuple[Loc, ...] = ()
        # debug: operand-stack state -> its locations, for the current function
        self._stack_memo: dict[tuple[object, ...], tuple[Loc, ...]] = {}
        self._site_start = self._site_end = -1  # the last patch site emitted (debug)
        self.handlers = self._build_handlers()
        self._data_count = data_count_ok(module)

    def _build_handlers(self) -> _Handlers:
        specs = _HANDLER_SPECS.get(type(self))
        if specs is None:
            specs = _HANDLER_SPECS[type(self)] = self._handler_specs()
        return _Handlers(self, specs)

    @classmethod
    def _handler_specs(cls) -> dict[int, _HandlerSpec]:
        """Per class, once per process: opcode -> (function, family arguments or None)."""
        specs: dict[int, _HandlerSpec] = {}
        for code, info in OPCODES.items():
            name = "visit_" + info.name.replace(".", "_")
            if code == 0x1C:
                name = "visit_select_t"
            fn = getattr(cls, name)
            family = getattr(fn, "_family", None)
            # a family visitor skips its generated wrapper: one Python frame less per
            # instruction
            specs[code] = family if family is not None else (fn, None)
        return specs

    # -- driver ---------------------------------------------------------------------------

    def compile(self) -> CompiledModule:
        """Compile every defined function; return the module's code."""
        functions = [self.compile_function(body) for body in self.module.bodies]
        code = self.masm.finish_module()
        table = self.frame_table.finish() if self.frame_table is not None else None
        return CompiledModule(code, functions, self.guest_debug, table)

    def compile_function(self, body: FunctionBody) -> CompiledFunction:
        """Compile one body; its code is appended to the module blob."""
        module = self.module
        masm = self.masm
        stack = self.stack
        ft = module.types[body.type_index]
        nparams = len(ft.params)
        nlocals = len(body.locals)
        local_types = list(ft.params) + list(body.locals)
        local_disps = [16 + 8 * i for i in range(nparams)] + [-16 - 8 * j for j in range(nlocals)]
        stack.reset(local_types, local_disps, -16 - 8 * nlocals)
        masm.trap_sites = {}
        masm.call_sites = {}
        self.max_out = 0
        self.dead = False
        self._dead_depth = 0
        self.func_results = ft.results
        self.frames = [_Frame(_FUNC, Label("body"), 0, FuncType((), ft.results))]
        self.func_index = body.func_index
        if self.guest_debug:
            # NB: one tuple per function: the frame-table builder interns it by identity
            self._local_locs = tuple(
                Loc(LocKind.SLOT, d, t) for t, d in zip(local_types, local_disps, strict=True)
            )
            self._stack_memo = {}

        masm.bind(self.func_labels[body.func_index])
        start = masm.offset
        masm.pc = body.code_start
        entry_state: object = None
        if self.guest_debug:
            # NB: the check runs before the declared locals are zeroed: they are 0 by then
            zeros = tuple(Loc(LocKind.CONST, 0, t) for t in body.locals)
            self._entry_locals = self._local_locs[:nparams] + zeros
            entry_state = (body.code_start, self._entry_locals, [])
        masm.prologue(entry_state)
        self._entry_locals = None
        masm.zero_frame(-16, nlocals)

        if self.guest_debug:
            self._debug_loop(iter_body(module, body))
        else:
            # NB: plain tuples, not Instruction named tuples: the loop unpacks them anyway
            self._fast_loop(
                iter_raw(module.raw, body.code_start, body.code_end, data_count=self._data_count)
            )
        masm.finish_function()
        self._note_stub_states()
        end = masm.offset
        size = 8 * (nlocals + stack.max_depth + self.max_out)
        if size % 16 != 8:
            size += 8
        masm.set_frame_size(size)
        return CompiledFunction(
            body.func_index, start, end, call_sites=masm.call_sites, trap_sites=masm.trap_sites
        )

    def _skip_dead(self, op: int) -> bool:
        """In unreachable code: track nesting; True if ``op`` is skipped."""
        if op <= 0x05:
            if op >= 0x02 and op != 0x05:  # block, loop, if
                self._dead_depth += 1
                return True
            return op != 0x05 or self._dead_depth > 0
        if op == 0x0B:
            if self._dead_depth:
                self._dead_depth -= 1
                return True
            return False
        return True

    def _fast_loop(self, instrs: Iterator[RawInstruction]) -> None:
        """The visitor loop without debug hooks (the hottest code of the compiler)."""
        handlers = self.handlers
        masm = self.masm
        stack = self.stack
        items = stack.items
        ltypes = stack.local_types
        ldisps = stack.local_disps
        free_gpr = stack.free_gpr
        free_xmm = stack.free_xmm
        store_frame = masm.store_frame
        consumers = _FLAG_CONSUMERS
        for off, op, imm in instrs:
            if self.dead and self._skip_dead(op):
                continue
            if self.pending is not None and op not in consumers:
                self._materialize()
            # NB: the two most frequent instructions are inlined
            if op == 0x20:  # local.get
                items.append((LOCAL, ltypes[imm], imm))  # type: ignore[call-overload, arg-type]
                stack.local_refs += 1
                if len(items) > stack.max_depth:
                    stack.max_depth = len(items)
                continue
            if op == 0x41:  # i32.const
                items.append((CONST, I32, imm & _MASK32))  # type: ignore[operator]
                if len(items) > stack.max_depth:
                    stack.max_depth = len(items)
                continue
            if op == 0x21 or op == 0x22:  # local.set, local.tee
                # NB: inlined for a register-held value and no pending local reads
                # (what _set_local does then)
                kind, ty, data = items[-1]
                if kind == REG and not stack.local_refs:
                    store_frame(SIZE[ty], data, ldisps[imm])  # type: ignore[call-overload]
                    if op == 0x21:
                        items.pop()
                        (free_gpr if data < 16 else free_xmm).append(data)
                    continue
            masm.pc = off
            handlers[op](imm)

    def _debug_loop(self, instrs: Iterator[Instruction]) -> None:
        """The visitor loop with the before/after hooks around every reachable instruction."""
        handlers = self.handlers
        masm = self.masm
        for off, op, imm in instrs:
            if self.dead and self._skip_dead(op):
                continue
            if self.pending is not None and op not in _FLAG_CONSUMERS:
                self._materialize()
            masm.pc = off
            if not self.dead:
                self.before_visit_op(off, op)
            handlers[op](imm)
            self.after_visit_op(off, op)

    # -- debugger hooks ---------------------------------------------------------------------

    def before_visit_op(self, offset: int, op: int) -> None:
        """Emit a patch site and a frame-table row before instruction ``op`` at ``offset``."""
        table = self.frame_table
        if table is None:
            return
        masm = self.masm
        at = masm.offset
        if at == self._site_end and masm.bound_at != at:
            site = self._site_start  # no code since the last site: share it
        else:
            site = masm.patch_site()
            self._site_start, self._site_end = site, masm.offset
        table.add_site(self.func_index, offset, site, NOP5, self._local_locs, self._stack_locs())

    def _stack_locs(self) -> tuple[Loc, ...]:
        """Where each operand-stack value lives now (bottom first).

        A pending comparison (the top value, before its consumer) is only in
        the flags: a FLAGS location with its condition.
        """
        # NB: memoised per function on the stack's entries: an equal state gives
        # the same tuple object, which the frame-table builder interns by identity
        key = (*self.stack.items, self.pending)
        where = self._stack_memo.get(key)
        if where is None:
            where = self._stack_memo[key] = self._describe_stack()
        return where

    def _describe_stack(self) -> tuple[Loc, ...]:
        stack = self.stack
        where: list[Loc] = []
        pending = self.pending
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

    def _note_call_state(self, return_offset: int) -> None:
        """Record the caller's state while a call is in progress (debug only)."""
        table = self.frame_table
        if table is not None:
            table.add_call_state(
                self.func_index, self.masm.pc, return_offset, self._local_locs, self._stack_locs()
            )

    def _interrupt_state(self) -> object:
        """The token a debug-mode interrupt check carries: (pc, locals, stack)."""
        if self.frame_table is None:
            return None
        return (self.masm.pc, self._local_locs, self._stack_locs())

    def _note_stub_states(self) -> None:
        """Frame-table rows for the function's interrupt checks and trap checks,
        keyed by their stubs' return addresses (debug only)."""
        table = self.frame_table
        if table is None:
            return
        masm = self.masm
        for add, states in (
            (table.add_interrupt_state, masm.interrupt_sites),
            (table.add_call_state, masm.trap_states),
        ):
            for ret, token in states:
                pc, local_locs, stack_locs = cast(tuple[int, Sequence[Loc], Sequence[Loc]], token)
                add(self.func_index, pc, ret, local_locs, stack_locs)
            states.clear()

    def _trap_snapshot(self) -> tuple[list[tuple[int, int, int]], object]:
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
        for depth, (ty, reg) in enumerate(self._trap_operands, len(stack.items)):
            disp = stack.slot_disp(depth)
            spills.append((SIZE[ty], reg, disp))
            where.append(Loc(LocKind.SLOT, disp, ty))
        local_locs = self._entry_locals if self._entry_locals is not None else self._local_locs
        return spills, (self.masm.pc, local_locs, where)

    def after_visit_op(self, offset: int, op: int) -> None:
        """Hook after each instruction (nothing to emit today)."""

    # -- helpers ----------------------------------------------------------------------------

    def _materialize(self) -> None:
        """Turn the pending comparison into its 0/1 value in its register."""
        if self.pending is not None:
            reg, cond = self.pending
            self.pending = None
            self.masm.set_cond(cond, reg)

    def _pop_cond(self) -> FlagCond:
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

    def _block_type(self, imm: object) -> FuncType:
        if not isinstance(imm, int):
            raise TypeError("block type immediate must be an int")
        ft = self._block_types.get(imm)
        if ft is None:
            ft = self._block_types[imm] = block_type(self.module, imm)
        return ft

    def _copy_to_frame_slots(self, frame: _Frame) -> None:
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

    def _detach_params(self, n: int) -> None:
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

    def _write_results(self) -> None:
        """Copy the function's results into the argument area (params detached)."""
        stack = self.stack
        items = stack.items
        n = len(self.func_results)
        top = len(items) - n
        masm = self.masm
        for i in range(n):
            depth = top + i
            stack.store_entry(items[depth], masm.frame(16 + 8 * i), stack.entry_disp(depth))

    def _return(self) -> None:
        self._detach_params(len(self.func_results))
        self._write_results()
        self.masm.epilogue()

    def _branch(self, frame: _Frame) -> None:
        """Unconditional branch to ``frame`` (the stack is left unchanged)."""
        if frame.kind == _FUNC:
            self._return()
            return
        self._copy_to_frame_slots(frame)
        self.masm.jmp(frame.label)
        frame.note_branch()

    def _call_args(self, n: int) -> None:
        """Move the top ``n`` values to the outgoing slots, then spill registers."""
        stack = self.stack
        items = stack.items
        base = len(items) - n
        masm = self.masm
        for i in range(n):
            stack.store_entry(items[base + i], masm.out(i), stack.entry_disp(base + i))
        stack.truncate(base)
        stack.spill_regs()

    def _call_results(self, results: tuple[ValType, ...], nargs: int) -> None:
        stack = self.stack
        masm = self.masm
        for i, ty in enumerate(results):
            reg = stack.alloc_like(ty)
            masm.load(SIZE[ty], reg, masm.out(i))
            stack.push_reg(ty, reg)
        n = max(nargs, len(results))
        if n > self.max_out:
            self.max_out = n

    def _libcall(
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
        masm.libcall(op)
        n = k + nargs
        if n > self.max_out:
            self.max_out = n
        if result is not None:
            reg = stack.alloc_gpr()
            masm.load(SIZE[result], reg, masm.out(0))
            stack.push_reg(result, reg)

    # -- control ----------------------------------------------------------------------------

    def visit_unreachable(self, imm: object) -> None:
        """``unreachable``: trap."""
        self.masm.trap(TrapCode.UNREACHABLE_CODE_REACHED)
        self.dead = True

    def visit_nop(self, imm: object) -> None:
        """``nop``."""

    def _enter(self, kind: int, ft: FuncType) -> _Frame:
        stack = self.stack
        stack.spill_all()
        n = len(ft.params)
        if n and kind != _BLOCK:
            stack.spill_top(n)
        frame = _Frame(kind, Label(), len(stack.items) - n, ft)
        self.frames.append(frame)
        return frame

    def visit_block(self, imm: object) -> None:
        """``block``."""
        self._enter(_BLOCK, self._block_type(imm))

    def visit_loop(self, imm: object) -> None:
        """``loop``: the header checks the interrupt flag."""
        frame = self._enter(_LOOP, self._block_type(imm))
        self.masm.bind(frame.label)
        self.masm.interrupt_check(self._interrupt_state())

    def visit_if(self, imm: object) -> None:
        """``if``."""
        ft = self._block_type(imm)
        cond = self._pop_cond()
        frame = self._enter(_IF, ft)  # only moves: the flags survive
        frame.else_label = Label("else")
        masm = self.masm
        masm.jump_if(masm.invert_cond(cond), frame.else_label)

    def visit_else(self, imm: object) -> None:
        """``else``."""
        frame = self.frames[-1]
        stack = self.stack
        masm = self.masm
        if not self.dead:
            stack.spill_top(len(frame.results))
            masm.jmp(frame.label)
            frame.targeted = True
        if frame.else_label is not None:
            masm.bind(frame.else_label)
        frame.else_label = None
        frame.kind = _ELSE
        stack.truncate(frame.base)
        for ty in frame.params:
            stack.push_mem(ty)
        self.dead = False

    def visit_end(self, imm: object) -> None:
        """``end`` of a block, loop, if or the function."""
        frame = self.frames.pop()
        stack = self.stack
        kind = frame.kind
        if kind == _FUNC:
            if not self.dead:
                self._return()
            self.dead = True
            return
        if kind == _LOOP:
            if self.dead:
                stack.truncate(frame.base)
            return
        merge = frame.targeted or kind == _IF
        if not merge:
            if self.dead:
                stack.truncate(frame.base)
            return
        if not self.dead:
            stack.spill_top(len(frame.results))
        masm = self.masm
        if frame.else_label is not None:
            masm.bind(frame.else_label)
        masm.bind(frame.label)
        stack.truncate(frame.base)
        for ty in frame.results:
            stack.push_mem(ty)
        self.dead = False

    def visit_br(self, imm: object) -> None:
        """``br``."""
        if not isinstance(imm, int):
            raise TypeError("label immediate")
        self._branch(self.frames[-1 - imm])
        self.dead = True

    def visit_br_if(self, imm: object) -> None:
        """``br_if``."""
        if not isinstance(imm, int):
            raise TypeError("label immediate")
        frame = self.frames[-1 - imm]
        masm = self.masm
        cond = self._pop_cond()
        if frame.kind == _FUNC:
            self._detach_params(len(self.func_results))
        elif frame.arity == 0:
            masm.jump_if(cond, frame.label)
            frame.note_branch()
            return
        skip = Label()
        masm.jump_if(masm.invert_cond(cond), skip)
        self._branch(frame)
        masm.bind(skip)

    def visit_br_table(self, imm: object) -> None:
        """``br_table`` via a jump table."""
        labels, default = cast(tuple[tuple[int, ...], int], imm)
        stack = self.stack
        masm = self.masm
        frames = self.frames
        idx = stack.pop_to_reg()
        if any(frames[-1 - d].kind == _FUNC for d in (*labels, default)):
            self._detach_params(len(self.func_results))
        stubs: dict[int, Label] = {}
        moves: list[tuple[Label, _Frame]] = []
        for d in {*labels, default}:
            frame = frames[-1 - d]
            if frame.kind == _FUNC or frame.arity:
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
            self._branch(frame)
        self.dead = True

    def visit_return(self, imm: object) -> None:
        """``return``."""
        self._return()
        self.dead = True

    def visit_call(self, imm: object) -> None:
        """``call``: direct for defined functions, through the VMFuncRef for imports."""
        if not isinstance(imm, int):
            raise TypeError("function immediate")
        module = self.module
        ft = module.func_type(imm)
        n = len(ft.params)
        self._call_args(n)
        masm = self.masm
        if imm < module.num_imported_funcs:
            reg = self.stack.alloc_gpr()
            masm.func_ref(imm, reg)
            ret = masm.call_funcref(reg)
            self.stack.free(reg)
        else:
            ret = masm.call_direct(self.func_labels[imm])
        if self.frame_table is not None:
            self._note_call_state(ret)
        self._call_results(ft.results, n)

    def visit_call_indirect(self, imm: object) -> None:
        """``call_indirect``: bounds, null and signature checks, then call."""
        type_index, table = cast(tuple[int, int], imm)
        ft = self.module.types[type_index]
        stack = self.stack
        masm = self.masm
        idx = stack.pop_to_reg()
        n = len(ft.params)
        self._call_args(n)
        m = masm.table_addr(table, idx)
        masm.load(8, idx, m)
        sig = self.sig_ids[type_index] if self.sig_ids is not None else None
        masm.check_funcref(idx, sig, type_index)
        ret = masm.call_funcref(idx)
        stack.free(idx)
        if self.frame_table is not None:
            self._note_call_state(ret)
        self._call_results(ft.results, n)

    # -- parametric ---------------------------------------------------------------------------

    def visit_drop(self, imm: object) -> None:
        """``drop``."""
        self.stack.drop()

    def visit_select(self, imm: object) -> None:
        """``select``."""
        stack = self.stack
        cond = self._pop_cond()
        other = stack.pop_to_reg()  # only moves: the flags survive
        ty = stack.peek()[1]
        dst = stack.pop_to_reg()
        self.masm.select_cond(SIZE[ty], dst, other, cond)
        stack.free(other)
        stack.push_reg(ty, dst)

    def visit_select_t(self, imm: object) -> None:
        """Typed ``select``."""
        self.visit_select(imm)

    # -- variables ------------------------------------------------------------------------------

    def visit_local_get(self, imm: object) -> None:
        """``local.get``: a lazy reference until used."""
        self.stack.push_local(imm)  # type: ignore[arg-type]

    def _set_local(self, idx: int, keep: bool) -> None:
        stack = self.stack
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

    def visit_local_set(self, imm: object) -> None:
        """``local.set``."""
        self._set_local(imm, False)  # type: ignore[arg-type]

    def visit_local_tee(self, imm: object) -> None:
        """``local.tee``."""
        self._set_local(imm, True)  # type: ignore[arg-type]

    def visit_global_get(self, imm: object) -> None:
        """``global.get`` through the VMContext's global pointer array."""
        if not isinstance(imm, int):
            raise TypeError("global immediate")
        ty = self.module.globals[imm].valtype
        stack = self.stack
        reg = stack.alloc_like(ty)
        m = self.masm.global_addr(imm)
        self.masm.load(SIZE[ty], reg, m)
        stack.push_reg(ty, reg)

    def visit_global_set(self, imm: object) -> None:
        """``global.set``."""
        if not isinstance(imm, int):
            raise TypeError("global immediate")
        ty = self.module.globals[imm].valtype
        stack = self.stack
        reg = stack.pop_to_reg()
        m = self.masm.global_addr(imm)
        self.masm.store(SIZE[ty], reg, m)
        stack.free(reg)

    # -- tables and references ------------------------------------------------------------------

    def visit_table_get(self, imm: object) -> None:
        """``table.get`` (inline bounds check)."""
        if not isinstance(imm, int):
            raise TypeError("table immediate")
        stack = self.stack
        idx = stack.pop_to_reg()
        m = self.masm.table_addr(imm, idx)
        self.masm.load(8, idx, m)
        stack.push_reg(self.module.tables[imm].elem, idx)

    def visit_table_set(self, imm: object) -> None:
        """``table.set`` (inline bounds check)."""
        if not isinstance(imm, int):
            raise TypeError("table immediate")
        stack = self.stack
        val = stack.pop_to_reg()
        idx = stack.pop_to_reg()
        m = self.masm.table_addr(imm, idx)
        self.masm.store(8, val, m)
        stack.free(val)
        stack.free(idx)

    def visit_table_size(self, imm: object) -> None:
        """``table.size``."""
        if not isinstance(imm, int):
            raise TypeError("table immediate")
        reg = self.stack.alloc_gpr()
        self.masm.table_size(imm, reg)
        self.stack.push_reg(I32, reg)

    def visit_table_grow(self, imm: object) -> None:
        """``table.grow`` (libcall)."""
        self._libcall(Libcall.TABLE_GROW, (imm,), 2, I32)  # type: ignore[arg-type]

    def visit_table_fill(self, imm: object) -> None:
        """``table.fill`` (inline ``rep stosq``)."""
        if not isinstance(imm, int):
            raise TypeError("table immediate")
        self._bulk((RDX,), (RDI, RAX, RCX), partial(self.masm.table_fill, imm))

    def visit_table_init(self, imm: object) -> None:
        """``table.init`` (libcall)."""
        self._libcall(Libcall.TABLE_INIT, imm, 3, None)  # type: ignore[arg-type]

    def visit_table_copy(self, imm: object) -> None:
        """``table.copy`` (inline ``rep movsq``, backward on overlap)."""
        dst_table, src_table = cast(tuple[int, int], imm)
        self._bulk((RAX, RDX), (RDI, RSI, RCX), partial(self.masm.table_copy, dst_table, src_table))

    def visit_elem_drop(self, imm: object) -> None:
        """``elem.drop`` (libcall)."""
        self._libcall(Libcall.ELEM_DROP, (imm,), 0, None)  # type: ignore[arg-type]

    def visit_ref_null(self, imm: object) -> None:
        """``ref.null``: the constant 0."""
        self.stack.push_const(imm, 0)  # type: ignore[arg-type]

    def visit_ref_is_null(self, imm: object) -> None:
        """``ref.is_null``."""
        stack = self.stack
        reg = stack.pop_to_reg()
        self.masm.int_test_zero(8, reg)
        self.masm.set_if_zero(reg)
        stack.push_reg(I32, reg)

    def visit_ref_func(self, imm: object) -> None:
        """``ref.func``: the function's VMFuncRef*."""
        if not isinstance(imm, int):
            raise TypeError("function immediate")
        reg = self.stack.alloc_gpr()
        self.masm.func_ref(imm, reg)
        self.stack.push_reg(FUNCREF, reg)

    # -- memory ------------------------------------------------------------------------------

    def _load(self, size: int, ty: ValType, signed: bool, imm: object) -> None:
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

    def _store(self, size: int, imm: object) -> None:
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

    def visit_memory_size(self, imm: object) -> None:
        """``memory.size`` (bytes >> 16)."""
        reg = self.stack.alloc_gpr()
        self.masm.memory_size(reg)
        self.stack.push_reg(I32, reg)

    def visit_memory_grow(self, imm: object) -> None:
        """``memory.grow`` (libcall)."""
        self._libcall(Libcall.MEMORY_GROW, (0,), 1, I32)

    def visit_memory_init(self, imm: object) -> None:
        """``memory.init`` (libcall)."""
        self._libcall(Libcall.MEMORY_INIT, imm, 3, None)  # type: ignore[arg-type]

    def visit_data_drop(self, imm: object) -> None:
        """``data.drop`` (libcall)."""
        self._libcall(Libcall.DATA_DROP, (imm,), 0, None)  # type: ignore[arg-type]

    def visit_memory_copy(self, imm: object) -> None:
        """``memory.copy`` (inline ``rep movsb``, backward on overlap; one memory only)."""
        self._bulk((), (RDI, RSI, RCX), self.masm.memory_copy)

    def visit_memory_fill(self, imm: object) -> None:
        """``memory.fill`` (inline ``rep stosb``)."""
        self._bulk((), (RDI, RAX, RCX), self.masm.memory_fill)

    def _bulk(
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
            self._trap_operands = tuple(zip(tys, operands, strict=True))
            emit()
            self._trap_operands = ()
        else:
            emit()
        for reg in scratch + operands:
            stack.free(reg)

    # -- constants ------------------------------------------------------------------------------

    def visit_i32_const(self, imm: object) -> None:
        """``i32.const``."""
        self.stack.push_const(I32, imm & _MASK32)  # type: ignore[operator]

    def visit_i64_const(self, imm: object) -> None:
        """``i64.const``."""
        self.stack.push_const(I64, imm & _MASK64)  # type: ignore[operator]

    def visit_f32_const(self, imm: object) -> None:
        """``f32.const`` (raw bits)."""
        self.stack.push_const(F32, imm)  # type: ignore[arg-type]

    def visit_f64_const(self, imm: object) -> None:
        """``f64.const`` (raw bits)."""
        self.stack.push_const(F64, imm)  # type: ignore[arg-type]

    # -- integer helpers -------------------------------------------------------------------------

    def _int_binop(self, op: IntBinOp, size: int, ty: ValType, imm: object = None) -> None:
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

    def _int_cmp(self, cmp: IntCmpKind, size: int, imm: object = None) -> None:
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

    def _int_eqz(self, size: int, imm: object = None) -> None:
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

    def _shift(self, kind: ShiftKind, size: int, ty: ValType, imm: object = None) -> None:
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

    def _divrem(self, kind: DivKind, size: int, ty: ValType, imm: object = None) -> None:
        stack = self.stack
        stack.alloc_specific(RAX)
        stack.alloc_specific(RDX)
        divisor = stack.pop_to_reg()
        stack.free(RAX)
        stack.pop_to_specific(RAX)
        if self.guest_debug:  # both operands stay put until the traps are past
            self._trap_operands = ((ty, RAX), (ty, divisor))
            self.masm.int_divrem(kind, size, divisor)
            self._trap_operands = ()
        else:
            self.masm.int_divrem(kind, size, divisor)
        stack.free(divisor)
        if kind == DivKind.DIV_S or kind == DivKind.DIV_U:
            stack.free(RDX)
            stack.push_reg(ty, RAX)
        else:
            stack.free(RAX)
            stack.push_reg(ty, RDX)

    def _unop(
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

    def _extend(self, from_bits: int, to_ty: ValType, signed: bool, imm: object = None) -> None:
        stack = self.stack
        reg = stack.pop_to_reg()
        self.masm.extend(reg, reg, from_bits, to_ty is I64, signed)
        stack.push_reg(to_ty, reg)

    def visit_i64_extend_i32_u(self, imm: object) -> None:
        """``i64.extend_i32_u``: i32 values are kept zero-extended, so only the type changes."""
        stack = self.stack
        kind, _t, data = stack.items[-1]
        if kind == CONST:
            stack.items[-1] = (CONST, I64, data)
            return
        reg = stack.pop_to_reg()
        stack.push_reg(I64, reg)

    def visit_i32_wrap_i64(self, imm: object) -> None:
        """``i32.wrap_i64``."""
        stack = self.stack
        kind, _t, data = stack.items[-1]
        if kind == CONST:
            stack.items[-1] = (CONST, I32, data & _MASK32)
            return
        self._extend(32, I32, False)

    # -- float helpers ---------------------------------------------------------------------------

    def _float_binop(self, op: FloatBinOp, size: int, ty: ValType, imm: object = None) -> None:
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

    def _float_cmp(self, kind: FloatCmpKind, size: int, imm: object = None) -> None:
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

    def _float_unop(self, what: int, size: int, ty: ValType, imm: object = None) -> None:
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

    def _trunc(
        self, kind: TruncKind, fsize: int, ity: ValType, signed: bool, imm: object = None
    ) -> None:
        stack = self.stack
        src = stack.pop_to_reg()
        dst = stack.alloc_gpr()
        self.masm.float_to_int(kind, fsize, src, dst, SIZE[ity], signed)
        stack.free(src)
        stack.push_reg(ity, dst)

    def _convert(self, fty: ValType, isize: int, signed: bool, imm: object = None) -> None:
        stack = self.stack
        src = stack.pop_to_reg()
        dst = stack.alloc_xmm()
        self.masm.int_to_float(SIZE[fty], dst, src, isize, signed)
        stack.free(src)
        stack.push_reg(fty, dst)

    def _float_convert(self, to_ty: ValType, imm: object = None) -> None:
        stack = self.stack
        reg = stack.pop_to_reg()
        self.masm.float_convert(SIZE[to_ty], reg, reg)
        stack.push_reg(to_ty, reg)

    def _reinterpret(self, to_ty: ValType, imm: object = None) -> None:
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


# -- the numeric families: each row becomes a visit_<op> method ----------------------------------


def _visitor(name: str, method: Callable[..., None], *args: object) -> None:
    """Install ``visit_<name>`` calling ``method(self, *args)``."""

    def visit(self: FuncCompiler, imm: object) -> None:
        method(self, *args, imm)

    visit._family = (method, args)  # type: ignore[attr-defined]
    visit.__name__ = "visit_" + name
    visit.__doc__ = f"``{name.replace('_', '.', 1)}``."
    setattr(FuncCompiler, visit.__name__, visit)


def _install() -> None:
    sizes = {I32: 4, I64: 8, F32: 4, F64: 8}
    for t in (I32, I64):
        s = sizes[t]
        p = t.name.lower()
        for name, op in (
            ("add", IntBinOp.ADD),
            ("sub", IntBinOp.SUB),
            ("mul", IntBinOp.MUL),
            ("and", IntBinOp.AND),
            ("or", IntBinOp.OR),
            ("xor", IntBinOp.XOR),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._int_binop, op, s, t)
        for name, cmp in (
            ("eq", IntCmpKind.EQ),
            ("ne", IntCmpKind.NE),
            ("lt_s", IntCmpKind.LT_S),
            ("lt_u", IntCmpKind.LT_U),
            ("gt_s", IntCmpKind.GT_S),
            ("gt_u", IntCmpKind.GT_U),
            ("le_s", IntCmpKind.LE_S),
            ("le_u", IntCmpKind.LE_U),
            ("ge_s", IntCmpKind.GE_S),
            ("ge_u", IntCmpKind.GE_U),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._int_cmp, cmp, s)
        _visitor(f"{p}_eqz", FuncCompiler._int_eqz, s)
        for name, sh in (
            ("shl", ShiftKind.SHL),
            ("shr_s", ShiftKind.SHR_S),
            ("shr_u", ShiftKind.SHR_U),
            ("rotl", ShiftKind.ROTL),
            ("rotr", ShiftKind.ROTR),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._shift, sh, s, t)
        for name, dk in (
            ("div_s", DivKind.DIV_S),
            ("div_u", DivKind.DIV_U),
            ("rem_s", DivKind.REM_S),
            ("rem_u", DivKind.REM_U),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._divrem, dk, s, t)
        _visitor(f"{p}_clz", FuncCompiler._unop, MacroAssembler.int_clz, s, t)
        _visitor(f"{p}_ctz", FuncCompiler._unop, MacroAssembler.int_ctz, s, t)
        _visitor(f"{p}_popcnt", FuncCompiler._unop, MacroAssembler.int_popcnt, s, t)
        _visitor(f"{p}_extend8_s", FuncCompiler._extend, 8, t, True)
        _visitor(f"{p}_extend16_s", FuncCompiler._extend, 16, t, True)
    _visitor("i64_extend32_s", FuncCompiler._extend, 32, I64, True)
    _visitor("i64_extend_i32_s", FuncCompiler._extend, 32, I64, True)

    for t in (F32, F64):
        s = sizes[t]
        p = t.name.lower()
        for name, fop in (
            ("add", FloatBinOp.ADD),
            ("sub", FloatBinOp.SUB),
            ("mul", FloatBinOp.MUL),
            ("div", FloatBinOp.DIV),
            ("min", FloatBinOp.MIN),
            ("max", FloatBinOp.MAX),
            ("copysign", FloatBinOp.COPYSIGN),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._float_binop, fop, s, t)
        for name, fcmp in (
            ("eq", FloatCmpKind.EQ),
            ("ne", FloatCmpKind.NE),
            ("lt", FloatCmpKind.LT),
            ("gt", FloatCmpKind.GT),
            ("le", FloatCmpKind.LE),
            ("ge", FloatCmpKind.GE),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._float_cmp, fcmp, s)
        for name, what in (
            ("abs", 0),
            ("neg", 1),
            ("sqrt", 2),
            ("nearest", RoundingMode.NEAREST),
            ("floor", RoundingMode.DOWN),
            ("ceil", RoundingMode.UP),
            ("trunc", RoundingMode.ZERO),
        ):
            _visitor(f"{p}_{name}", FuncCompiler._float_unop, what, s, t)
        for it in (I32, I64):
            ip = it.name.lower()
            tr, sat = TruncKind.TRAPPING, TruncKind.SATURATING
            _visitor(f"{ip}_trunc_{p}_s", FuncCompiler._trunc, tr, s, it, True)
            _visitor(f"{ip}_trunc_{p}_u", FuncCompiler._trunc, tr, s, it, False)
            _visitor(f"{ip}_trunc_sat_{p}_s", FuncCompiler._trunc, sat, s, it, True)
            _visitor(f"{ip}_trunc_sat_{p}_u", FuncCompiler._trunc, sat, s, it, False)
            _visitor(f"{p}_convert_{ip}_s", FuncCompiler._convert, t, SIZE[it], True)
            _visitor(f"{p}_convert_{ip}_u", FuncCompiler._convert, t, SIZE[it], False)
    _visitor("f32_demote_f64", FuncCompiler._float_convert, F32)
    _visitor("f64_promote_f32", FuncCompiler._float_convert, F64)
    _visitor("i32_reinterpret_f32", FuncCompiler._reinterpret, I32)
    _visitor("i64_reinterpret_f64", FuncCompiler._reinterpret, I64)
    _visitor("f32_reinterpret_i32", FuncCompiler._reinterpret, F32)
    _visitor("f64_reinterpret_i64", FuncCompiler._reinterpret, F64)

    loads = (
        ("i32_load", 4, I32, False),
        ("i64_load", 8, I64, False),
        ("f32_load", 4, F32, False),
        ("f64_load", 8, F64, False),
        ("i32_load8_s", 1, I32, True),
        ("i32_load8_u", 1, I32, False),
        ("i32_load16_s", 2, I32, True),
        ("i32_load16_u", 2, I32, False),
        ("i64_load8_s", 1, I64, True),
        ("i64_load8_u", 1, I64, False),
        ("i64_load16_s", 2, I64, True),
        ("i64_load16_u", 2, I64, False),
        ("i64_load32_s", 4, I64, True),
        ("i64_load32_u", 4, I64, False),
    )
    for name, size, ty, signed in loads:
        _visitor(name, FuncCompiler._load, size, ty, signed)
    stores = (
        ("i32_store", 4),
        ("i64_store", 8),
        ("f32_store", 4),
        ("f64_store", 8),
        ("i32_store8", 1),
        ("i32_store16", 2),
        ("i64_store8", 1),
        ("i64_store16", 2),
        ("i64_store32", 4),
    )
    for name, size in stores:
        _visitor(name, FuncCompiler._store, size)


_install()


def compile_module(
    module: ModuleDef, *, guest_debug: bool = False, sig_ids: Sequence[int] | None = None
) -> CompiledModule:
    """Compile every defined function of a (valid) module into one code blob.

    ``sig_ids`` gives the canonical signature id per type index; when it is
    given and an id fits in 31 bits, ``call_indirect`` compares against an
    immediate, otherwise it reads ``VMContext.sig_ids`` at run time.
    With ``guest_debug`` every reachable instruction gets a patch site and
    ``CompiledModule.frame_table`` is a :class:`~wasmdbg.jit.frametable.FrameTable`.
    """
    return FuncCompiler(module, guest_debug=guest_debug, sig_ids=sig_ids).compile()
