"""The single-pass compiler: Wasm function bodies -> x86-64 machine code.

This module owns the *visitor*: one ``visit_<op>`` per Wasm instruction
(Wasm 2.0 without SIMD), which reads immediates, types and control
structure and says what to generate.  It drives three layers below it and
does no x86 encoding itself::

    FuncCompiler (visitor, here)
      ├─ CodeGen         codegen.py    operand forms, fixed registers, control-flow merges
      │    ├─ ValueStack   stack.py    where each operand-stack value lives
      │    └─ MacroAssembler masm.py   semantic operations -> instructions
      └─ SequencePoints  seqpoints.py  debug builds: patch sites, frame-table rows

Numeric families (``i32.add``, ``f64.lt``, ``i64.load16_s`` ...) are
``CodeGen`` methods; their ``visit_<op>`` entries come from the tables of
``families``, and the opcode dispatch binds them to the CodeGen
directly (no visitor frame in between).  The dispatch is a dict keyed by
opcode (``0xFC``-prefixed opcodes are ``0xFC00 | sub``).

Reachability is the visitor's: code after ``br``/``return``/``unreachable``
is skipped until the enclosing ``else``/``end``.  A comparison followed by
``if``, ``br_if``, ``select`` or ``i32.eqz`` stays *pending* in the flags
(see ``codegen``); the visitor loop materialises it before any other
instruction.

With ``guest_debug`` the visitor loop asks :class:`SequencePoints` for a
patch site and a frame-table row before every reachable instruction, and the
macro-assembler's ``debug_hooks`` are on: traps are reported before the
stack unwinds, interrupt checks call the breakpoint trampoline.  Without
``guest_debug`` nothing of this is emitted.

Twins (``guest_debug`` and ``twins``): after the debug versions, every body
is compiled again by the same compiler with the patch sites left out (the
*twin*), so frame layout and register state match the debug version at every
instruction boundary and every return address.  The module blob then holds::

    f0: [entry switch 5B][debug code + stubs] f1: ... | t0: [twin code + stubs] t1: ...
          jmp t0 (unarmed) / NOP5 (armed)              (direct calls target f0, f1 ...)

Return addresses (calls, trap stubs, interrupt stubs) are emitted in the same
order in both versions, so the n-th of a twin matches the n-th of its debug
version (``CompiledModule.twin_returns``); the runtime moves live frames over
by rewriting them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from types import MethodType
from typing import cast

from ..wasm.code import RawInstruction, block_type, data_count_ok, iter_raw
from ..wasm.module import FunctionBody, ModuleDef
from ..wasm.opcodes import OPCODES
from ..wasm.types import FuncType, ValType
from .abi import CompiledFunction, CompiledModule, Libcall, TrapCode
from .codebuf import Label
from .codegen import BLOCK, FUNC, IF, LOOP, CodeGen
from .families import install_families
from .masm import (
    MacroAssembler,
)
from .seqpoints import SequencePoints
from .stack import (
    CONST,
    GPR_HOMES,
    GPR_HOMES_NO_HEAP,
    LOCAL,
    REG,
    SIZE,
    XMM_HOMES,
    ValueStack,
)

__all__ = ["FuncCompiler", "compile_module"]

I32, I64, F32, F64 = ValType.I32, ValType.I64, ValType.F32, ValType.F64
FUNCREF, EXTERNREF = ValType.FUNCREF, ValType.EXTERNREF
_MASK32 = 0xFFFF_FFFF
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF

# instructions that consume a pending comparison straight from the flags:
# if, br_if, select, typed select, i32.eqz
_FLAG_CONSUMERS = frozenset({0x04, 0x0D, 0x1B, 0x1C, 0x45})

# an opcode's visitor: (function, None) called as function(compiler, imm), or a
# family's (CodeGen method, args) called as method(codegen, *args, imm)
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
            handler = partial(fn, self._compiler.cg, *args)
        self[code] = handler
        return handler


class FuncCompiler:
    """Compiles the functions of one module into one :class:`MacroAssembler`."""

    def __init__(
        self,
        module: ModuleDef,
        *,
        guest_debug: bool = False,
        sig_ids: Sequence[int] | None = None,
        locals_in_registers: bool = True,
        signals_based_traps: bool = False,
        twins: bool = False,
        lazy: bool = False,
    ) -> None:
        self.module = module
        # lazy compilation: see compile_piece
        self.lazy = lazy
        self._current = -1
        self.guest_debug = guest_debug
        self.twins = twins and guest_debug
        # NB: guest-debug builds too: the frame table names a homed local's
        # register where the trampoline saved it (see seqpoints)
        self.locals_in_registers = locals_in_registers
        self.sig_ids = sig_ids
        self.masm = MacroAssembler()
        self.masm.debug_hooks = guest_debug
        self.stack = ValueStack(self.masm)
        self.cg = CodeGen(self.masm, self.stack, guest_debug)
        # debug builds only: patch sites and frame-table rows
        self.seq = SequencePoints(self.cg) if guest_debug else None
        if self.seq is not None:
            self.masm.trap_state = self.seq.trap_snapshot
        self.dead = False
        self._dead_depth = 0
        self.func_labels = [Label(f"func{i}") for i in range(len(module.func_type_indices))]
        # the twins' entries (twin builds); direct calls still target func_labels
        self.twin_labels = [Label(f"twin{i}") for i in range(len(module.func_type_indices))] if self.twins else []
        self._block_types: dict[int, FuncType] = {}
        pinned = bool(module.memories)
        self._gpr_homes = GPR_HOMES if pinned else GPR_HOMES_NO_HEAP
        self.masm.heap_pinned = pinned
        # NB: guest-debug code keeps explicit bounds checks (a trap stub spills
        # the operand stack for the debugger; a fault site could not), except
        # in twins, whose faults resume at the debug version's check (masm_heap)
        signals = pinned and signals_based_traps
        self.masm.heap_signals = signals and not guest_debug
        self.masm.twin_faults = signals and self.twins
        self.stack.pin_heap(pinned)
        self.handlers = self._build_handlers()
        self._data_count = data_count_ok(module)
        # twins: (function index, homes, decoded body) of the debug version just compiled
        self._kept: tuple[int, list[int] | None, list[RawInstruction]] | None = None

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
            family = getattr(fn, "family", None)
            # a family visitor skips its generated wrapper: one Python frame less per
            # instruction
            specs[code] = family if family is not None else (fn, None)
        return specs

    # -- driver ---------------------------------------------------------------------------

    def compile(self) -> CompiledModule:
        """Compile every defined function; return the module's code."""
        functions = [self.compile_function(body) for body in self.module.bodies]
        twins = [self._compile_twin(body) for body in self.module.bodies] if self.twins else []
        seq = self.seq
        code = self.masm.finish_module()
        table = seq.finish() if seq is not None else None
        return CompiledModule(
            code, functions, self.guest_debug, table, twins, _match_returns(functions, twins),
            _match_faults(functions, twins),
        )

    def compile_piece(self, body: FunctionBody, base: int = 0) -> tuple[CompiledModule, list[tuple[int, int]]]:
        """Lazy compilation: one body as a blob of its own (its code, stubs and trap
        routines), and its calls through the module's code table.

        A call to another defined function is ``call [rip+disp32]`` at a slot of
        the code table (``masm.call_table``); the second result lists
        ``(offset of the disp32, callee index)`` for whoever maps the blob.  A
        call of the function to itself stays a direct ``call rel32``.

        Debug builds: the blob holds the debug version, then (with twins) its
        twin, and the piece's own frame table; every native offset in the
        result (functions, sites, frame table, twin maps, calls) is ``base``
        plus the offset in the blob, ``base`` being where the blob goes in the
        module's debug layout (``runtime.debuglayout``).
        """
        if not self.lazy:
            raise RuntimeError("compile_piece needs a lazy compiler")
        masm = self.masm
        masm.new_blob()
        if self.seq is not None:
            self.seq.discard()  # NB: the rows of a compile that failed half-way
        index = body.func_index
        # NB: fresh entry labels per blob (a failed compile may be retried)
        self.func_labels[index] = Label(f"func{index}")
        if self.twins:
            self.twin_labels[index] = Label(f"twin{index}")
        func = self.compile_function(body)
        seq = self.seq
        if seq is None:
            return CompiledModule(masm.finish_module(), [func]), masm.table_calls
        twins: list[CompiledFunction] = []
        if self.twins:
            # NB: the twin starts 64-aligned, as a plain piece does: the hot loops
            # it runs instead of the debug version keep the same alignment
            masm.buf.align(64)
            twins.append(self._compile_twin(body))
        code = masm.finish_module()
        table = seq.finish(base)
        functions = [_shifted(func, base)]
        twins = [_shifted(t, base) for t in twins]
        calls = [(at + base, callee) for at, callee in masm.table_calls]
        return CompiledModule(
            code, functions, True, table, twins, _match_returns(functions, twins),
            _match_faults(functions, twins),
        ), calls

    def _compile_twin(self, body: FunctionBody) -> CompiledFunction:
        """The NOP-free twin of a body (debug builds with twins)."""
        seq = self.seq
        assert seq is not None
        seq.twin = True
        self.masm.heap_signals = self.masm.twin_faults
        try:
            return self.compile_function(body, twin=True)
        finally:
            seq.twin = False
            self.masm.heap_signals = False

    def compile_function(self, body: FunctionBody, *, twin: bool = False) -> CompiledFunction:
        """Compile one body; its code is appended to the module blob.

        ``twin``: the body's NOP-free twin (``SequencePoints.twin`` is on).
        """
        module = self.module
        masm = self.masm
        stack = self.stack
        ft = module.types[body.type_index]
        nparams = len(ft.params)
        nlocals = len(body.locals)
        local_types = list(ft.params) + list(body.locals)
        local_disps = [16 + 8 * i for i in range(nparams)] + [-16 - 8 * j for j in range(nlocals)]
        # NB: a twin repeats its debug version's decisions and decoding (the same
        # body compiled just before): both are kept for it
        kept = self._kept if twin and self._kept is not None and self._kept[0] == body.func_index else None
        self._kept = None
        if kept is not None:
            homes, raw_instrs = kept[1], kept[2]
        else:
            homes = self._choose_homes(body, local_types) if self.locals_in_registers else None
            raw_instrs = None
        stack.reset(local_types, local_disps, -16 - 8 * nlocals, homes)
        masm.trap_sites = {}
        masm.call_sites = {}
        masm.fault_sites = []
        masm.self_calls = []
        self.dead = False
        self._dead_depth = 0
        cg = self.cg
        cg.start_function(ft.results)
        seq = self.seq
        self._current = body.func_index

        masm.bind((self.twin_labels if twin else self.func_labels)[body.func_index])
        start = masm.offset
        if self.twins and not twin:
            # the entry switch: to the twin while the function is unarmed
            masm.asm.jmp_l(self.twin_labels[body.func_index])
        masm.pc = body.code_start
        entry_state: object = None
        if seq is not None:
            entry_state = seq.start_function(
                body.func_index, body.code_start, local_types, local_disps, nparams
            )
        masm.prologue(entry_state)
        if seq is not None:
            seq.end_prologue()
        masm.zero_frame(-16, nlocals)
        stack.load_homes()

        if seq is not None:
            if raw_instrs is None:
                raw_instrs = list(iter_raw(module.raw, body.code_start, body.code_end, data_count=self._data_count))
                if self.twins and not twin:
                    self._kept = (body.func_index, homes, raw_instrs)
            self._debug_loop(iter(raw_instrs), seq)
        else:
            # NB: plain tuples, not Instruction named tuples: the loop unpacks them anyway
            self._fast_loop(
                iter_raw(module.raw, body.code_start, body.code_end, data_count=self._data_count)
            )
        masm.finish_function()
        if seq is not None:
            seq.note_stub_states()
        end = masm.offset
        size = 8 * (nlocals + stack.max_depth + cg.max_out)
        if size % 16 != 8:
            size += 8
        masm.set_frame_size(size)
        return CompiledFunction(
            body.func_index, start, end, call_sites=masm.call_sites, trap_sites=masm.trap_sites,
            fault_sites=masm.fault_sites, self_calls=masm.self_calls,
        )

    def _choose_homes(self, body: FunctionBody, local_types: list[ValType]) -> list[int]:
        """Each local's home register (-1: its frame slot), by uses weighted 8**loop depth."""
        weight = [0] * len(local_types)
        loops: list[bool] = []  # per open block: is it a loop
        depth = 0
        raw = iter_raw(self.module.raw, body.code_start, body.code_end, data_count=self._data_count)
        for _off, op, imm in raw:
            if op == 0x20 or op == 0x21 or op == 0x22:
                weight[cast(int, imm)] += 8 ** min(depth, 5)
            elif op == 0x03:
                loops.append(True)
                depth += 1
            elif op == 0x02 or op == 0x04:
                loops.append(False)
            elif op == 0x0B and loops and loops.pop():
                depth -= 1
        homes = [-1] * len(local_types)
        order = sorted((i for i, w in enumerate(weight) if w), key=lambda i: -weight[i])
        gprs = list(self._gpr_homes)
        xmms = list(XMM_HOMES)
        for i in order:
            ty = local_types[i]
            if (ty is ValType.I32 or ty is ValType.I64) and gprs:
                homes[i] = gprs.pop(0)
            elif (ty is ValType.F32 or ty is ValType.F64) and xmms:
                homes[i] = xmms.pop(0)
        return homes

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
        homes = stack.homes
        free_gpr = stack.free_gpr
        free_xmm = stack.free_xmm
        store_frame = masm.store_frame
        consumers = _FLAG_CONSUMERS
        cg = self.cg
        for off, op, imm in instrs:
            if self.dead and self._skip_dead(op):
                continue
            if cg.pending is not None and op not in consumers:
                cg.materialize()
            # NB: the two most frequent instructions are inlined
            if op == 0x20:  # local.get
                if homes[imm] >= 0:  # type: ignore[call-overload]
                    stack.push_local(imm)  # type: ignore[arg-type]
                    continue
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
                # (what CodeGen.set_local does then)
                kind, ty, data = items[-1]
                if kind == REG and not stack.local_refs and homes[imm] < 0:  # type: ignore[call-overload]
                    store_frame(SIZE[ty], data, ldisps[imm])  # type: ignore[call-overload]
                    if op == 0x21:
                        items.pop()
                        (free_gpr if data < 16 else free_xmm).append(data)
                    continue
            masm.pc = off
            handlers[op](imm)

    def _debug_loop(self, instrs: Iterator[RawInstruction], seq: SequencePoints) -> None:
        """The visitor loop with a sequence point before every reachable instruction."""
        handlers = self.handlers
        masm = self.masm
        cg = self.cg
        for off, op, imm in instrs:
            if self.dead and self._skip_dead(op):
                continue
            if cg.pending is not None and op not in _FLAG_CONSUMERS:
                cg.materialize()
            masm.pc = off
            if not self.dead:
                seq.before_op(off)
            handlers[op](imm)

    # -- helpers ----------------------------------------------------------------------------

    def _block_type(self, imm: object) -> FuncType:
        if not isinstance(imm, int):
            raise TypeError("block type immediate must be an int")
        ft = self._block_types.get(imm)
        if ft is None:
            ft = self._block_types[imm] = block_type(self.module, imm)
        return ft

    # -- control ----------------------------------------------------------------------------

    def visit_unreachable(self, imm: object) -> None:
        """``unreachable``: trap."""
        self.masm.trap(TrapCode.UNREACHABLE_CODE_REACHED)
        self.dead = True

    def visit_nop(self, imm: object) -> None:
        """``nop``."""

    def visit_block(self, imm: object) -> None:
        """``block``."""
        self.cg.enter(BLOCK, self._block_type(imm))

    def visit_loop(self, imm: object) -> None:
        """``loop``: the header checks the interrupt flag."""
        frame = self.cg.enter(LOOP, self._block_type(imm))
        self.masm.bind(frame.label)
        seq = self.seq
        self.masm.interrupt_check(seq.interrupt_state() if seq is not None else None)

    def visit_if(self, imm: object) -> None:
        """``if``."""
        self.cg.enter_if(self._block_type(imm))

    def visit_else(self, imm: object) -> None:
        """``else``."""
        self.cg.merge_else(self.cg.frames[-1], not self.dead)
        self.dead = False

    def visit_end(self, imm: object) -> None:
        """``end`` of a block, loop, if or the function."""
        frame = self.cg.frames.pop()
        kind = frame.kind
        if kind == FUNC:
            if not self.dead:
                self.cg.return_()
            self.dead = True
            return
        if kind == LOOP or not (frame.targeted or kind == IF):
            if self.dead:
                self.stack.truncate(frame.base)
            return
        self.cg.merge_end(frame, not self.dead)
        self.dead = False

    def visit_br(self, imm: object) -> None:
        """``br``."""
        if not isinstance(imm, int):
            raise TypeError("label immediate")
        self.cg.branch(self.cg.frames[-1 - imm])
        self.dead = True

    def visit_br_if(self, imm: object) -> None:
        """``br_if``."""
        if not isinstance(imm, int):
            raise TypeError("label immediate")
        self.cg.branch_if(self.cg.frames[-1 - imm])

    def visit_br_table(self, imm: object) -> None:
        """``br_table`` via a jump table."""
        labels, default = cast(tuple[tuple[int, ...], int], imm)
        self.cg.branch_table(labels, default)
        self.dead = True

    def visit_return(self, imm: object) -> None:
        """``return``."""
        self.cg.return_()
        self.dead = True

    def visit_call(self, imm: object) -> None:
        """``call``: direct for defined functions, through the VMFuncRef for imports."""
        if not isinstance(imm, int):
            raise TypeError("function immediate")
        module = self.module
        ft = module.func_type(imm)
        n = len(ft.params)
        self.cg.call_args(n)
        masm = self.masm
        if imm < module.num_imported_funcs:
            reg = self.stack.alloc_gpr()
            masm.func_ref(imm, reg)
            ret = masm.call_funcref(reg)
            self.stack.free(reg)
        elif self.lazy and imm != self._current:
            ret = masm.call_table(imm)
        elif imm == self._current and self.seq is not None and self.seq.twin:
            # a twin calls itself straight (no entry switch on the way) while unarmed
            ret = masm.call_direct(self.twin_labels[imm])
            masm.self_calls.append(ret - 5)
        else:
            ret = masm.call_direct(self.func_labels[imm])
        if self.seq is not None:
            self.seq.call_state(ret)
        self.cg.call_results(ft.results, n)

    def visit_call_indirect(self, imm: object) -> None:
        """``call_indirect``: bounds, null and signature checks, then call."""
        type_index, table = cast(tuple[int, int], imm)
        ft = self.module.types[type_index]
        stack = self.stack
        masm = self.masm
        idx = stack.pop_to_reg()
        n = len(ft.params)
        self.cg.call_args(n)
        m = masm.table_addr(table, idx)
        masm.load(8, idx, m)
        sig = self.sig_ids[type_index] if self.sig_ids is not None else None
        masm.check_funcref(idx, sig, type_index)
        ret = masm.call_funcref(idx)
        stack.free(idx)
        if self.seq is not None:
            self.seq.call_state(ret)
        self.cg.call_results(ft.results, n)

    # -- parametric ---------------------------------------------------------------------------

    def visit_drop(self, imm: object) -> None:
        """``drop``."""
        self.stack.drop()

    def visit_select(self, imm: object) -> None:
        """``select``."""
        self.cg.select()

    def visit_select_t(self, imm: object) -> None:
        """Typed ``select``."""
        self.visit_select(imm)

    # -- variables ------------------------------------------------------------------------------

    def visit_local_get(self, imm: object) -> None:
        """``local.get``: a lazy reference until used (plain builds), a copy in debug builds."""
        if self.seq is not None:
            self.cg.local_get_copy(imm)  # type: ignore[arg-type]
        else:
            self.stack.push_local(imm)  # type: ignore[arg-type]

    def visit_local_set(self, imm: object) -> None:
        """``local.set``."""
        self.cg.set_local(imm, False)  # type: ignore[arg-type]

    def visit_local_tee(self, imm: object) -> None:
        """``local.tee``."""
        self.cg.set_local(imm, True)  # type: ignore[arg-type]

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
        self.cg.libcall(Libcall.TABLE_GROW, (imm,), 2, I32)  # type: ignore[arg-type]

    def visit_table_fill(self, imm: object) -> None:
        """``table.fill`` (inline ``rep stosq``)."""
        if not isinstance(imm, int):
            raise TypeError("table immediate")
        self.cg.table_fill(imm)

    def visit_table_init(self, imm: object) -> None:
        """``table.init`` (libcall)."""
        self.cg.libcall(Libcall.TABLE_INIT, imm, 3, None)  # type: ignore[arg-type]

    def visit_table_copy(self, imm: object) -> None:
        """``table.copy`` (inline ``rep movsq``, backward on overlap)."""
        dst_table, src_table = cast(tuple[int, int], imm)
        self.cg.table_copy(dst_table, src_table)

    def visit_elem_drop(self, imm: object) -> None:
        """``elem.drop`` (libcall)."""
        self.cg.libcall(Libcall.ELEM_DROP, (imm,), 0, None)  # type: ignore[arg-type]

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

    def visit_memory_size(self, imm: object) -> None:
        """``memory.size`` (bytes >> 16)."""
        reg = self.stack.alloc_gpr()
        self.masm.memory_size(reg)
        self.stack.push_reg(I32, reg)

    def visit_memory_grow(self, imm: object) -> None:
        """``memory.grow`` (libcall)."""
        self.cg.libcall(Libcall.MEMORY_GROW, (0,), 1, I32)

    def visit_memory_init(self, imm: object) -> None:
        """``memory.init`` (libcall)."""
        self.cg.libcall(Libcall.MEMORY_INIT, imm, 3, None)  # type: ignore[arg-type]

    def visit_data_drop(self, imm: object) -> None:
        """``data.drop`` (libcall)."""
        self.cg.libcall(Libcall.DATA_DROP, (imm,), 0, None)  # type: ignore[arg-type]

    def visit_memory_copy(self, imm: object) -> None:
        """``memory.copy`` (inline ``rep movsb``, backward on overlap; one memory only)."""
        self.cg.memory_copy()

    def visit_memory_fill(self, imm: object) -> None:
        """``memory.fill`` (inline ``rep stosb``)."""
        self.cg.memory_fill()

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

    def visit_i64_extend_i32_u(self, imm: object) -> None:
        """``i64.extend_i32_u``: only the type changes."""
        self.cg.extend_i32_u()

    def visit_i32_wrap_i64(self, imm: object) -> None:
        """``i32.wrap_i64``."""
        self.cg.wrap_i64()

    # -- float helpers ---------------------------------------------------------------------------


def _shifted(func: CompiledFunction, base: int) -> CompiledFunction:
    """``func`` with every native offset moved by ``base``."""
    if not base:
        return func
    return CompiledFunction(
        func.func_index, func.start + base, func.end + base,
        call_sites={k + base: v for k, v in func.call_sites.items()},
        trap_sites={k + base: v for k, v in func.trap_sites.items()},
        fault_sites=[k + base for k in func.fault_sites],
        self_calls=[k + base for k in func.self_calls],
    )


def _return_points(func: CompiledFunction, *, twin: bool = False) -> list[int]:
    """Every native return address of a function's code, in code order.

    (A twin's faulting accesses are trap sites but not return addresses; one
    may start right at a call's return address, which stays.)
    """
    traps = set(func.trap_sites)
    if twin:
        traps.difference_update(func.fault_sites)
    return sorted(traps.union(func.call_sites))


def _match_returns(functions: list[CompiledFunction], twins: list[CompiledFunction]) -> dict[int, int]:
    """Twin return address -> debug return address, by ordinal (see the module docstring)."""
    out: dict[int, int] = {}
    if not twins:
        return out
    for func, twin in zip(functions, twins, strict=True):
        ours, theirs = _return_points(twin, twin=True), _return_points(func)
        if len(ours) != len(theirs):
            raise RuntimeError(
                f"function {func.func_index}: the twin has {len(ours)} return addresses, "
                f"the debug version {len(theirs)}"
            )
        out.update(zip(ours, theirs, strict=True))
    return out


def _match_faults(functions: list[CompiledFunction], twins: list[CompiledFunction]) -> dict[int, int]:
    """Twin faulting access -> debug version's bounds check, by ordinal (see ``masm_heap``)."""
    out: dict[int, int] = {}
    if not twins:
        return out
    for func, twin in zip(functions, twins, strict=True):
        if len(twin.fault_sites) != len(func.fault_sites):
            raise RuntimeError(
                f"function {func.func_index}: the twin has {len(twin.fault_sites)} faulting "
                f"accesses, the debug version {len(func.fault_sites)} checks"
            )
        out.update(zip(twin.fault_sites, func.fault_sites, strict=True))
    return out


install_families(FuncCompiler)


def compile_module(
    module: ModuleDef,
    *,
    guest_debug: bool = False,
    sig_ids: Sequence[int] | None = None,
    locals_in_registers: bool = True,
    signals_based_traps: bool = False,
    twins: bool = False,
) -> CompiledModule:
    """Compile every defined function of a (valid) module into one code blob.

    ``sig_ids`` gives the canonical signature id per type index; when it is
    given and an id fits in 31 bits, ``call_indirect`` compares against an
    immediate, otherwise it reads ``VMContext.sig_ids`` at run time.
    With ``guest_debug`` every reachable instruction gets a patch site and
    ``CompiledModule.frame_table`` is a :class:`~wasmdbg.jit.frametable.FrameTable`.
    With ``locals_in_registers`` the hottest locals of each function live in
    home registers (see ``stack``; in debug builds ``seqpoints`` describes them).
    With ``signals_based_traps`` (plain builds only) most heap accesses have
    no explicit bounds check and fault instead (see ``masm_heap``).
    With ``twins`` (debug builds only) every function also gets a NOP-free
    twin (see the module docstring).
    """
    # NB: the cyclic collector is paused for the compile.  A large module's
    # build allocates millions of objects that all stay alive until the end
    # (code buffers, frame-table rows and their Loc lists), so each automatic
    # collection re-walks a growing heap and frees nothing: about half of a
    # 1 MB module's debug build was collection.  The compile creates no cycles
    # worth collecting early; the collector's state is restored afterwards
    # (a concurrent compile in another thread at worst ends the pause early).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return FuncCompiler(
            module, guest_debug=guest_debug, sig_ids=sig_ids,
            locals_in_registers=locals_in_registers,
            signals_based_traps=signals_based_traps,
            twins=twins,
        ).compile()
    finally:
        if was_enabled:
            gc.enable()
