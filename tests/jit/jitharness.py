"""A tiny stand-alone runner for compiled code, for the compiler's own tests.

It maps code with ``mmap``/``mprotect`` through ctypes (RW -> copy -> RX),
builds the VMContext / VMStoreContext / VMMemory / VMTable / VMFuncRef
structures of ``jit.abi`` by hand and calls the entry trampoline.  It is
deliberately independent of ``wasmdbg.runtime`` so the compiler can be
tested on its own.  Imports are limited to host functions (Python callables).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Sequence
from typing import Any

from wasmdbg.jit.abi import STORE, VMCTX, Libcall, TrapCode
from wasmdbg.jit.compiler import compile_module
from wasmdbg.jit.stubs import compile_runtime_stubs
from wasmdbg.wasm.decoder import decode_module
from wasmdbg.wasm.module import ModuleDef, SegmentMode
from wasmdbg.wasm.types import ExternKind, FuncType, ValType

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_PRIVATE, MAP_ANONYMOUS = 2, 0x20

U64 = ctypes.c_uint64
_HOOK = ctypes.CFUNCTYPE(
    ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)
)
_ENTRY = ctypes.CFUNCTYPE(
    ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64
)
_RSP = ctypes.CFUNCTYPE(ctypes.c_uint64)


def map_code(code: bytes) -> int:
    """Copy ``code`` into fresh read+execute memory; return its address."""
    size = max(4096, (len(code) + 4095) & ~4095)
    addr = _libc.mmap(None, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap failed")
    ctypes.memmove(addr, code, len(code))
    if _libc.mprotect(addr, size, PROT_READ | PROT_EXEC) != 0:
        raise OSError(ctypes.get_errno(), "mprotect failed")
    return int(addr)


_STUBS = compile_runtime_stubs()
_STUB_BASE = map_code(_STUBS.code)
_entry = _ENTRY(_STUB_BASE + _STUBS.entry)
_read_rsp = _RSP(map_code(b"\x48\x89\xe0\xc3"))


class Trapped(Exception):
    """The guest trapped."""

    def __init__(self, code: TrapCode) -> None:
        super().__init__(code.name)
        self.code = code


def _sig_key(ft: FuncType) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(int(t) for t in ft.params), tuple(int(t) for t in ft.results)


_SIGS: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}


def sig_id(ft: FuncType) -> int:
    """A canonical id per signature (process-wide)."""
    return _SIGS.setdefault(_sig_key(ft), len(_SIGS) + 1)


def to_bits(ty: ValType, v: Any) -> int:
    if ty is ValType.F32:
        return struct.unpack("<I", struct.pack("<f", v))[0]
    if ty is ValType.F64:
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    if ty is ValType.I32:
        return v & 0xFFFF_FFFF
    return v & 0xFFFF_FFFF_FFFF_FFFF


def from_bits(ty: ValType, b: int) -> Any:
    if ty is ValType.F32:
        return struct.unpack("<f", struct.pack("<I", b & 0xFFFF_FFFF))[0]
    if ty is ValType.F64:
        return struct.unpack("<d", struct.pack("<Q", b))[0]
    if ty is ValType.I32:
        b &= 0xFFFF_FFFF
        return b - (1 << 32) if b >> 31 else b
    if ty is ValType.I64:
        return b - (1 << 64) if b >> 63 else b
    return b


class Instance:
    """One instantiated module on the test harness."""

    def __init__(
        self,
        wasm: bytes,
        host: dict[str, Callable[..., Any]] | None = None,
        *,
        guest_debug: bool = False,
        max_pages: int = 64,
    ) -> None:
        self.module: ModuleDef = decode_module(wasm)
        m = self.module
        self.compiled = compile_module(
            m, guest_debug=guest_debug, sig_ids=[sig_id(t) for t in m.types]
        )
        self.base = map_code(self.compiled.code)
        self._keep: list[Any] = []
        self.store = (U64 * (STORE.SIZE // 8))()
        rsp = _read_rsp()
        self.store[STORE.STACK_LIMIT // 8] = rsp - 512 * 1024
        self.hostcall_cb = _HOOK(self._hostcall)
        self.libcall_cb = _HOOK(self._libcall)
        self.store[STORE.HOSTCALL // 8] = ctypes.cast(self.hostcall_cb, ctypes.c_void_p).value or 0
        self.store[STORE.LIBCALL // 8] = ctypes.cast(self.libcall_cb, ctypes.c_void_p).value or 0
        self.vmctx = (U64 * (VMCTX.SIZE // 8))()
        self.vmctx[VMCTX.STORE // 8] = ctypes.addressof(self.store)
        self.error: BaseException | None = None
        # memory
        self.mem_buf: Any = None
        self.vmmem = (U64 * 2)()
        if m.memories:
            lim = m.memories[0].limits
            self.max_pages = min(lim.max if lim.max is not None else max_pages, max_pages)
            self.mem_buf = (ctypes.c_ubyte * (self.max_pages * 65536 + 16))()
            self.vmmem[0] = ctypes.addressof(self.mem_buf)
            self.vmmem[1] = lim.min * 65536
            self.vmctx[VMCTX.MEMORY // 8] = ctypes.addressof(self.vmmem)
        # functions
        host = host or {}
        self.host_fns: list[tuple[Callable[..., Any], FuncType]] = []
        nfuncs = len(m.func_type_indices)
        self.funcrefs = (U64 * (3 * nfuncs + 1))()
        self.funcs = (U64 * (nfuncs + 1))()
        fi = 0
        for imp in m.imports:
            if imp.kind != ExternKind.FUNC:
                continue
            ft = m.types[imp.desc]  # type: ignore[index]
            hctx = (U64 * (VMCTX.SIZE // 8))()
            self._keep.append(hctx)
            hctx[VMCTX.STORE // 8] = ctypes.addressof(self.store)
            hctx[VMCTX.HOST_ID // 8] = len(self.host_fns)
            self.host_fns.append((host.get(f"{imp.module}.{imp.name}", lambda *a: None), ft))
            self._set_funcref(fi, _STUB_BASE + _STUBS.hostcall, sig_id(ft), ctypes.addressof(hctx))
            fi += 1
        for cf in self.compiled.functions:
            ft = m.func_type(cf.func_index)
            self._set_funcref(
                cf.func_index, self.base + cf.start, sig_id(ft), ctypes.addressof(self.vmctx)
            )
        self.vmctx[VMCTX.FUNCS // 8] = ctypes.addressof(self.funcs)
        # globals
        self.global_cells = (U64 * (len(m.globals) + 1))()
        self.global_ptrs = (U64 * (len(m.globals) + 1))()
        for i in range(len(m.globals)):
            self.global_ptrs[i] = ctypes.addressof(self.global_cells) + 8 * i
        for i, g in enumerate(m.global_defs):
            self.global_cells[m.num_imported_globals + i] = self._const(g.init.instrs)
        self.vmctx[VMCTX.GLOBALS // 8] = ctypes.addressof(self.global_ptrs)
        # tables
        self.tables: list[Any] = []
        self.table_ptrs = (U64 * (len(m.tables) + 1))()
        for i, t in enumerate(m.tables):
            cap = max(t.limits.min, 16) * 4
            elems = (U64 * cap)()
            vt = (U64 * 2)()
            vt[0] = ctypes.addressof(elems)
            vt[1] = t.limits.min
            self.tables.append((vt, elems, cap, t))
            self.table_ptrs[i] = ctypes.addressof(vt)
        self.vmctx[VMCTX.TABLES // 8] = ctypes.addressof(self.table_ptrs)
        self.dropped_elems: set[int] = set()
        self.dropped_datas: set[int] = set()
        for seg in m.elems:
            if seg.mode == SegmentMode.ACTIVE and seg.offset_expr is not None:
                off = self._const(seg.offset_expr.instrs)
                vt, elems, _cap, _t = self.tables[seg.table]
                for j, e in enumerate(seg.init):
                    elems[off + j] = self._const(e.instrs)
        for d in m.datas:
            if d.mode == SegmentMode.ACTIVE and d.offset_expr is not None:
                off = self._const(d.offset_expr.instrs)
                ctypes.memmove(self.vmmem[0] + off, d.data, len(d.data))
        self.exports = {e.name: e.index for e in m.exports if e.kind == ExternKind.FUNC}
        if m.start is not None:
            self.call_index(m.start, [])

    def _set_funcref(self, index: int, code: int, sid: int, ctx: int) -> None:
        self.funcrefs[3 * index] = code
        self.funcrefs[3 * index + 1] = sid
        self.funcrefs[3 * index + 2] = ctx
        self.funcs[index] = ctypes.addressof(self.funcrefs) + 8 * 3 * index

    def _const(self, instrs: Sequence[tuple[int, object]]) -> int:
        op, imm = instrs[0]
        if op == 0x41:
            return int(imm) & 0xFFFF_FFFF  # type: ignore[call-overload]
        if op in (0x42,):
            return int(imm) & 0xFFFF_FFFF_FFFF_FFFF  # type: ignore[call-overload]
        if op in (0x43, 0x44):
            return int(imm)  # type: ignore[call-overload]
        if op == 0xD0:
            return 0
        if op == 0xD2:
            return int(self.funcs[int(imm)])  # type: ignore[call-overload]
        if op == 0x23:
            return int(self.global_cells[int(imm)])  # type: ignore[call-overload]
        raise NotImplementedError(hex(op))

    # -- callbacks -------------------------------------------------------------------

    def _hostcall(self, ctx: int, host_id: int, slots: Any) -> int:
        try:
            fn, ft = self.host_fns[host_id]
            args = [from_bits(t, slots[i]) for i, t in enumerate(ft.params)]
            res = fn(*args)
            if len(ft.results) == 1:
                res = (res,)
            for i, t in enumerate(ft.results):
                slots[i] = to_bits(t, res[i])
            return 0
        except Trapped as t:
            return int(t.code)
        except BaseException as e:
            self.error = e
            return int(TrapCode.HOST_ERROR)

    def _libcall(self, ctx: int, op: int, slots: Any) -> int:
        try:
            return self._do_libcall(Libcall(op), slots)
        except BaseException as e:
            self.error = e
            return int(TrapCode.HOST_ERROR)

    def _do_libcall(self, op: Libcall, s: Any) -> int:
        m = self.module
        mem_size = self.vmmem[1]
        base = self.vmmem[0]
        if op == Libcall.MEMORY_GROW:
            delta = s[1] & 0xFFFF_FFFF
            old = mem_size // 65536
            if old + delta > self.max_pages:
                s[0] = 0xFFFF_FFFF
            else:
                self.vmmem[1] = (old + delta) * 65536
                s[0] = old
            return 0
        if op == Libcall.MEMORY_INIT:
            seg, dst, src, n = s[0], *(s[i] & 0xFFFF_FFFF for i in (2, 3, 4))
            data = b"" if seg in self.dropped_datas else m.datas[seg].data
            if src + n > len(data) or dst + n > mem_size:
                return int(TrapCode.MEMORY_OUT_OF_BOUNDS)
            ctypes.memmove(base + dst, data[src : src + n], n)
            return 0
        if op == Libcall.DATA_DROP:
            self.dropped_datas.add(s[0])
            return 0
        if op == Libcall.ELEM_DROP:
            self.dropped_elems.add(s[0])
            return 0
        if op == Libcall.TABLE_GROW:
            vt, elems, cap, t = self.tables[s[0]]
            init, delta = s[1], s[2] & 0xFFFF_FFFF
            old = vt[1]
            limit = min(t.limits.max if t.limits.max is not None else cap, cap)
            if old + delta > limit:
                s[0] = 0xFFFF_FFFF
                return 0
            for i in range(old, old + delta):
                elems[i] = init
            vt[1] = old + delta
            s[0] = old
            return 0
        if op == Libcall.TABLE_INIT:
            seg, ti = s[0], s[1]
            dst, src, n = (s[i] & 0xFFFF_FFFF for i in (2, 3, 4))
            init = () if seg in self.dropped_elems else m.elems[seg].init
            vt, elems, _cap, _t = self.tables[ti]
            if src + n > len(init) or dst + n > vt[1]:
                return int(TrapCode.TABLE_OUT_OF_BOUNDS)
            for i in range(n):
                elems[dst + i] = self._const(init[src + i].instrs)
            return 0
        raise NotImplementedError(op.name)

    # -- calls -------------------------------------------------------------------------

    def call_index(self, index: int, args: Sequence[Any]) -> list[Any]:
        """Call function ``index`` with Python values; return Python values."""
        ft = self.module.func_type(index)
        n = max(len(ft.params), len(ft.results), 1)
        slots = (U64 * n)()
        for i, t in enumerate(ft.params):
            slots[i] = to_bits(t, args[i])
        code = self.funcrefs[3 * index]
        ctx = self.funcrefs[3 * index + 2]
        status = _entry(ctx, code, ctypes.addressof(slots), n)
        if status:
            if self.error is not None:
                err, self.error = self.error, None
                raise err
            raise Trapped(TrapCode(status))
        return [from_bits(t, slots[i]) for i, t in enumerate(ft.results)]

    def call(self, name: str, *args: Any) -> list[Any]:
        """Call an exported function by name."""
        return self.call_index(self.exports[name], args)

    def trap_info(self) -> tuple[int, int, int]:
        """(trap code, trap pc relative to the module blob, trap fp)."""
        s = self.store
        return s[STORE.TRAP_CODE // 8], s[STORE.TRAP_PC // 8] - self.base, s[STORE.TRAP_FP // 8]
