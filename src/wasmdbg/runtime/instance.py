"""``Instance``: instantiation, the instance's VMContext, and its exports.

Instantiation (``Instance(store, module, imports)``) follows the spec's
order:

1. check the imports (count, kind, type; :class:`~wasmdbg.errors.LinkError`);
2. map the module's code into the Store (shared, or private with
   ``guest_debug``) and build the VMContext (layout in ``jit.abi``)::

       VMContext ──► funcs[]   ──► VMFuncRef (imports first, then defined)
                 ──► tables[]  ──► VMTable ──► elements[]
                 ──► memory    ──► VMMemory (memory 0)
                 ──► globals[] ──► 8-byte cells
                 ──► sig_ids[] (canonical id per type index)

3. create tables and memories, initialise globals from constant expressions
   (in order; ``global.get`` reads earlier globals);
4. evaluate every element segment, then apply the active ones in order
   (bounds trap -> :class:`~wasmdbg.runtime.trap.Trap`), dropping active and
   declarative segments; then the active data segments likewise;
5. run the start function.

Effects of steps before a trap stay visible (imported tables and memories
keep the writes), as the spec requires.  The Store keeps every instance
alive, since its functions may be referenced from other instances' tables.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from ..errors import LinkError, WasmError
from ..jit import abi
from ..wasm import types as core
from ..wasm.module import ConstExpr, ElemSegment, Import, SegmentMode
from ..wasm.types import ExternKind
from .func import Func
from .globals import Global
from .memory import Memory
from .store import Store, as_store
from .table import Table
from .trap import Trap
from .types import FuncType, GlobalType, MemoryType, TableType
from .vmcontext import VMContext, u64_array

if TYPE_CHECKING:
    from .code import CodeObject
    from .module import Module

__all__ = ["AsExtern", "Instance", "InstanceExports", "check_import"]

AsExtern = Union[Func, Table, Memory, Global]  # noqa: UP007

_M32 = 0xFFFF_FFFF
_M64 = 0xFFFF_FFFF_FFFF_FFFF


def _kind_name(kind: ExternKind) -> str:
    return {ExternKind.FUNC: "func", ExternKind.TABLE: "table", ExternKind.MEMORY: "memory"}.get(kind, "global")


def _limits_match(got: core.Limits, want: core.Limits) -> bool:
    if got.min < want.min:
        return False
    if want.max is None:
        return True
    return got.max is not None and got.max <= want.max


def _incompatible(imp: Import, want: str, got: str) -> LinkError:
    return LinkError(
        f"incompatible import type for `{imp.module}::{imp.name}`\n\nCaused by:\n"
        f"    types incompatible: expected type `{want}`, found type `{got}`"
    )


def _describe(item: Any) -> str:
    if isinstance(item, Func):
        return str(FuncType.from_wasm_type(item.wasm_type))
    if isinstance(item, Table):
        return str(TableType.from_wasm_type(item.current_wasm_type()))
    if isinstance(item, Memory):
        return str(MemoryType.from_wasm_type(item.current_wasm_type()))
    if isinstance(item, Global):
        return str(GlobalType.from_wasm_type(item.wasm_type))
    return type(item).__name__


def check_import(store: Store, types: Sequence[core.FuncType], imp: Import, item: Any) -> None:
    """Raise :class:`LinkError` unless ``item`` satisfies ``imp``."""
    if not isinstance(item, Func | Table | Memory | Global):
        raise TypeError("expected a Func, Global, Memory, or Table")
    if not item.belongs_to(store):
        raise WasmError("cross-`Store` instantiation is not currently supported")
    desc = imp.desc
    kind = imp.kind
    if kind is ExternKind.FUNC:
        want_ft = types[desc] if isinstance(desc, int) else None
        if not isinstance(item, Func) or want_ft is None or item.wasm_type != want_ft:
            want = str(FuncType.from_wasm_type(want_ft)) if want_ft is not None else "func"
            raise _incompatible(imp, want, _describe(item))
        return
    if kind is ExternKind.TABLE and isinstance(desc, core.TableType):
        if (
            not isinstance(item, Table)
            or item.wasm_type.elem is not desc.elem
            or not _limits_match(item.current_wasm_type().limits, desc.limits)
        ):
            raise _incompatible(imp, str(TableType.from_wasm_type(desc)), _describe(item))
        return
    if kind is ExternKind.MEMORY and isinstance(desc, core.MemoryType):
        if not isinstance(item, Memory) or not _limits_match(item.current_wasm_type().limits, desc.limits):
            raise _incompatible(imp, str(MemoryType.from_wasm_type(desc)), _describe(item))
        return
    if kind is ExternKind.GLOBAL and isinstance(desc, core.GlobalType):
        if not isinstance(item, Global) or item.wasm_type != desc:
            raise _incompatible(imp, str(GlobalType.from_wasm_type(desc)), _describe(item))
        return
    raise _incompatible(imp, _kind_name(kind), _describe(item))


class Instance:
    """An instantiated module: ``Instance(store, module, [imports...])``."""

    _store: Store
    _module: Module
    _code: CodeObject
    _vmctx: VMContext
    _vmctx_addr: int
    _id: int
    _funcs: list[Func]
    _tables: list[Table]
    _memories: list[Memory]
    _globals: list[Global]
    _elems: list[list[int]]
    _datas: list[bytes]
    _exports: InstanceExports | None

    def __init__(self, store: Any, module: Module, imports: Sequence[AsExtern]) -> None:
        from .module import Module

        if not isinstance(module, Module):
            raise TypeError("expected a Module")
        self._instantiate(as_store(store), module, list(imports))

    # -- instantiation ------------------------------------------------------------------
    def _instantiate(self, st: Store, module: Module, imports: list[Any]) -> None:
        mod = module.definition
        if module.engine is not st.engine:
            raise WasmError("cross-`Engine` instantiation is not currently supported")
        if len(imports) != len(mod.imports):
            raise LinkError(f"expected {len(mod.imports)} imports, found {len(imports)}")
        self._store = st
        self._module = module
        self._exports = None
        funcs: list[Func] = []
        tables: list[Table] = []
        memories: list[Memory] = []
        globals_: list[Global] = []
        for imp, item in zip(mod.imports, imports, strict=True):
            check_import(st, mod.types, imp, item)
            if imp.kind is ExternKind.FUNC:
                funcs.append(item)
            elif imp.kind is ExternKind.TABLE:
                tables.append(item)
            elif imp.kind is ExternKind.MEMORY:
                memories.append(item)
            else:
                globals_.append(item)
        code = st.code_for(module)
        self._code = code
        ctx = VMContext()
        self._vmctx = ctx
        self._vmctx_addr = vmctx_addr = ctypes.addressof(ctx)
        self._id = st.register_instance(self)
        ctx.store = st.vmctx_address
        ctx.instance_id = self._id
        engine = st.engine
        self._sig_ids = u64_array([engine.sig_id(t) for t in mod.types])
        ctx.sig_ids = ctypes.addressof(self._sig_ids)

        for index in range(mod.num_imported_funcs, len(mod.func_type_indices)):
            funcs.append(Func.for_instance(st, self, index, mod.func_type(index), code.entry_address(index), vmctx_addr))
        self._funcs = funcs
        self._func_ptrs = u64_array([f.funcref_address for f in funcs])
        ctx.funcs = ctypes.addressof(self._func_ptrs)

        for tt in mod.tables[mod.num_imported_tables :]:
            tables.append(Table.create(st, tt))
        self._tables = tables
        self._table_ptrs = u64_array([t.vm_address for t in tables])
        ctx.tables = ctypes.addressof(self._table_ptrs)

        for mt in mod.memories[mod.num_imported_memories :]:
            memories.append(Memory.create(st, mt))
        self._memories = memories
        ctx.memory = memories[0].vm_address if memories else 0

        self._globals = globals_
        for gd in mod.global_defs:
            globals_.append(Global.create(st, gd.type, self._eval(gd.init)))
        self._global_ptrs = u64_array([g.cell_address for g in globals_])
        ctx.globals = ctypes.addressof(self._global_ptrs)

        self._elems = [self._eval_elem(seg) for seg in mod.elems]
        self._datas = [seg.data for seg in mod.datas]
        for i, seg in enumerate(mod.elems):
            if seg.mode is SegmentMode.ACTIVE and seg.offset_expr is not None:
                values = self._elems[i]
                offset = self._eval(seg.offset_expr) & _M32
                table = tables[seg.table]
                if offset + len(values) > table.element_count:
                    raise Trap.from_trap_code(abi.TrapCode.TABLE_OUT_OF_BOUNDS, [])
                for j, bits in enumerate(values):
                    table.set_bits(offset + j, bits)
            if seg.mode is not SegmentMode.PASSIVE:
                self._elems[i] = []
        for i, dseg in enumerate(mod.datas):
            if dseg.mode is SegmentMode.ACTIVE and dseg.offset_expr is not None:
                offset = self._eval(dseg.offset_expr) & _M32
                mem = memories[dseg.memory]
                if offset + len(dseg.data) > mem.byte_size:
                    raise Trap.from_trap_code(abi.TrapCode.MEMORY_OUT_OF_BOUNDS, [])
                if dseg.data:
                    ctypes.memmove(mem.base_address + offset, dseg.data, len(dseg.data))
                self._datas[i] = b""
        if mod.start is not None:
            funcs[mod.start](st)

    def _eval(self, expr: ConstExpr) -> int:
        """Evaluate a constant expression to slot bits."""
        stack: list[int] = []
        for op, imm in expr.instrs:
            if op == 0x41 or op == 0x43:  # i32.const, f32.const (raw bits)
                stack.append(int(imm) & _M32)  # type: ignore[call-overload]
            elif op == 0x42 or op == 0x44:  # i64.const, f64.const
                stack.append(int(imm) & _M64)  # type: ignore[call-overload]
            elif op == 0x23:  # global.get
                stack.append(self._globals[int(imm)].raw_bits)  # type: ignore[call-overload]
            elif op == 0xD0:  # ref.null
                stack.append(0)
            elif op == 0xD2:  # ref.func
                stack.append(self._funcs[int(imm)].funcref_address)  # type: ignore[call-overload]
            elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):  # extended const
                b = stack.pop()
                a = stack.pop()
                r = a + b if op in (0x6A, 0x7C) else a - b if op in (0x6B, 0x7D) else a * b
                stack.append(r & (_M32 if op < 0x70 else _M64))
            else:
                raise WasmError(f"unsupported constant instruction 0x{op:x}")
        if len(stack) != 1:
            raise WasmError("constant expression does not produce one value")
        return stack[0]

    def _eval_elem(self, seg: ElemSegment) -> list[int]:
        return [self._eval(e) for e in seg.init]

    # -- libcalls (runtime-facing) ------------------------------------------------------
    def run_libcall(self, op: int, slots: int) -> int:
        """Runtime-facing: run libcall ``op`` on the slots at ``slots`` (the Store's callback)."""
        from .libcall import dispatch

        return dispatch(self, op, slots)

    def memory_at(self, index: int) -> Memory:
        """Runtime-facing: memory ``index`` (imports first)."""
        return self._memories[index]

    def table_at(self, index: int) -> Table:
        """Runtime-facing: table ``index`` (imports first)."""
        return self._tables[index]

    def data_segment(self, index: int) -> bytes:
        """Runtime-facing: the bytes of data segment ``index`` (empty once dropped or applied)."""
        return self._datas[index]

    def drop_data(self, index: int) -> None:
        """Runtime-facing: ``data.drop``."""
        self._datas[index] = b""

    def elem_segment(self, index: int) -> list[int]:
        """Runtime-facing: the slot bits of element segment ``index`` (empty once dropped or applied)."""
        return self._elems[index]

    def drop_elem(self, index: int) -> None:
        """Runtime-facing: ``elem.drop``."""
        self._elems[index] = []

    # -- exports ------------------------------------------------------------------------
    def _extern(self, kind: ExternKind, index: int) -> AsExtern:
        if kind is ExternKind.FUNC:
            return self._funcs[index]
        if kind is ExternKind.TABLE:
            return self._tables[index]
        if kind is ExternKind.MEMORY:
            return self._memories[index]
        return self._globals[index]

    def exports(self, store: Any) -> InstanceExports:
        """The exports, by name (``exports(store)["f"]``) or index (``[0]``)."""
        if self._exports is None:
            self._exports = InstanceExports(self)
        return self._exports

    # -- introspection (debugger) ---------------------------------------------------------
    @property
    def module(self) -> Module:
        """The instantiated Module."""
        return self._module

    @property
    def code(self) -> CodeObject:
        """The code object this instance runs (private per Store with guest_debug)."""
        return self._code

    @property
    def vmctx_address(self) -> int:
        """Address of the instance's VMContext (``r14`` in its frames)."""
        return self._vmctx_addr

    @property
    def functions(self) -> list[Func]:
        """Every function, imports first (function index order)."""
        return list(self._funcs)

    @property
    def memories(self) -> list[Memory]:
        """Every memory, imports first."""
        return list(self._memories)

    @property
    def tables(self) -> list[Table]:
        """Every table, imports first."""
        return list(self._tables)

    @property
    def globals(self) -> list[Global]:
        """Every global, imports first."""
        return list(self._globals)

    def __repr__(self) -> str:
        name = self._module.name or "<unnamed>"
        return f"<Instance {self._id} of {name}>"


class InstanceExports(Mapping[str, AsExtern]):
    """An instance's exports: a Mapping by name that also accepts integer indices."""

    def __init__(self, instance: Instance) -> None:
        items: dict[str, AsExtern] = {}
        seq: list[AsExtern] = []
        for exp in instance.module.definition.exports:
            item = instance._extern(exp.kind, exp.index)
            items[exp.name] = item
            seq.append(item)
        self._map = items
        self._seq = tuple(seq)

    @property
    def by_index(self) -> Sequence[AsExtern]:
        """The exports in export-section order."""
        return self._seq

    def __getitem__(self, key: str | int) -> AsExtern:
        if isinstance(key, int):
            return self._seq[key]
        return self._map[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._seq)
