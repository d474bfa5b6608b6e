"""The value stack and register allocator of the single-pass compiler.

This module owns *where operand-stack values live* while a function body is
compiled.  A value stays symbolic until an instruction needs it in a
register (the Winch model)::

    kind    data            meaning
    CONST   int             a constant: its unsigned bit pattern (i32 < 2**32)
    LOCAL   local index     "the current value of local n" (not yet read)
    REG     register number held in a register (0-15 GPR, 16-31 XMM)
    MEM     0               spilled to this depth's fixed frame slot

An entry is a plain tuple ``(kind, type, data)``; the stack is a ``list`` of
them (no copying per instruction).  Every depth ``k`` of the operand stack
owns one fixed 8-byte frame slot at ``rbp + slot_disp(k)``, so a spilled
value never moves and control-flow merges only need "everything is CONST
or MEM" (see ``compiler``).  The frame (abi.py has the whole picture)::

    rbp+16+8*i    parameter i            (caller's argument area)
    rbp-8         saved VMContext*
    rbp-16-8*j    declared local j       (j = 0 .. L-1)
    rbp-16-8*L-8*k  operand-stack slot k  (k = 0 .. max depth-1)
    rsp+8*m       outgoing argument slot m

Register allocation is a free list over the allocatable GPRs and XMMs.  When
it runs dry, the *oldest* register-held stack value is spilled to its slot.
``r11`` and ``xmm15`` are never allocated: they are the macro-assembler's
scratch registers.  ``rsp``, ``rbp`` and ``r14`` (VMContext) are reserved,
and so are ``r12``/``r13`` in modules with a linear memory (pinned to the
``VMMemory*`` and the heap base, see ``masm``).

Home registers (builds with ``locals_in_registers``): the hottest
locals of a function may live in a *home register* for the whole function
(``homes[idx]``, -1 for a frame slot).  Home registers are taken out of the
free lists, so the allocator never hands them out; a read copies the home
into a fresh register (never a lazy LOCAL entry, so spilling and block merges
never touch homes), a write moves into it.  Wasm calls clobber every register
(``abi``), so the home values are stored to the locals' own slots before each
call and loaded back after it (see ``codegen``)::

    with a linear memory    GPR homes rbx r15 r10 r9     XMM homes xmm14..xmm9
    without                 GPR homes rbx r15 r12 r13    (r10/r9 stay free)

Slot contents: i32 values are kept zero-extended to 64 bits (in registers
and in slots), f32 uses the low 32 bits of a slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..wasm.types import ValType
from .x64 import Reg

if TYPE_CHECKING:
    from .masm import MacroAssembler
    from .x64 import Mem

__all__ = [
    "CONST",
    "GPR_HOMES",
    "GPR_HOMES_NO_HEAP",
    "LOCAL",
    "MEM",
    "RAX",
    "RCX",
    "RDX",
    "REG",
    "SIZE",
    "XMM0",
    "XMM_HOMES",
    "Entry",
    "ValueStack",
    "is_float",
]

CONST, LOCAL, REG, MEM = 0, 1, 2, 3

Entry = tuple[int, ValType, int]

# NB: plain ints (the allocator's lists and the stack's tuples hold register
# numbers), taken from the encoder's one register enumeration
RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = (int(r) for r in tuple(Reg)[:8])
R8, R9, R10, R11, R12, R13, R14, R15 = (int(r) for r in tuple(Reg)[8:])
XMM0 = len(Reg)  # XMM n is register number XMM0 + n

# Allocation order: the list is popped from its end, so the registers that
# instructions need by name (rax, rdx for division, rcx for shifts) go last.
_GPR_POOL = (RDX, RCX, RAX, R15, R13, R12, RBX, R10, R9, R8, RDI, RSI)
# with a linear memory, r12/r13 are pinned to the VMMemory* and the heap base
_GPR_POOL_HEAP = tuple(r for r in _GPR_POOL if r not in (R12, R13))
_XMM_POOL = tuple(XMM0 + n for n in range(14, -1, -1))  # xmm15 is scratch
#: Registers that may be a local's home, best first (see the module doc).
GPR_HOMES = (RBX, R15, R10, R9)
GPR_HOMES_NO_HEAP = (RBX, R15, R12, R13)
XMM_HOMES = tuple(XMM0 + n for n in range(14, 8, -1))

_F32, _F64 = ValType.F32, ValType.F64

#: Significant bytes of a value of each type.
SIZE: dict[ValType, int] = {
    ValType.I32: 4,
    ValType.I64: 8,
    ValType.F32: 4,
    ValType.F64: 8,
    ValType.FUNCREF: 8,
    ValType.EXTERNREF: 8,
}


def is_float(ty: ValType) -> bool:
    """True for the types that live in XMM registers."""
    return ty is _F32 or ty is _F64


class ValueStack:
    """The operand stack of the function being compiled, plus its registers.

    ``local_types``/``local_disps`` describe the function's locals (params
    first); ``slot0`` is the rbp-relative displacement of operand slot 0.
    """

    __slots__ = (
        "free_gpr",
        "free_xmm",
        "gpr_pool",
        "home_moves",
        "homes",
        "items",
        "local_disps",
        "local_refs",
        "local_types",
        "masm",
        "max_depth",
        "slot0",
    )

    def __init__(self, masm: MacroAssembler) -> None:
        self.masm = masm
        self.items: list[Entry] = []
        self.gpr_pool: tuple[int, ...] = _GPR_POOL
        self.free_gpr: list[int] = list(_GPR_POOL)
        self.free_xmm: list[int] = list(_XMM_POOL)
        self.local_types: list[ValType] = []
        self.local_disps: list[int] = []
        self.homes: list[int] = []
        self.home_moves: list[tuple[int, int, int]] = []  # (size, home, disp)
        self.local_refs = 0  # how many LOCAL entries are on the stack
        self.slot0 = -16
        self.max_depth = 0

    def pin_heap(self, pinned: bool) -> None:
        """Reserve (or not) r12/r13 for the linear memory (see ``masm``)."""
        self.gpr_pool = _GPR_POOL_HEAP if pinned else _GPR_POOL

    def reset(
        self,
        local_types: list[ValType],
        local_disps: list[int],
        slot0: int,
        homes: list[int] | None = None,
    ) -> None:
        """Start a new function (``homes``: each local's home register or -1)."""
        self.items.clear()
        if homes is None or not any(h >= 0 for h in homes):
            self.homes = [-1] * len(local_types)
            self.home_moves = []
            self.free_gpr[:] = self.gpr_pool
            self.free_xmm[:] = _XMM_POOL
        else:
            self.homes = homes
            self.home_moves = [
                (SIZE[local_types[i]], h, local_disps[i]) for i, h in enumerate(homes) if h >= 0
            ]
            taken = set(homes)
            self.free_gpr[:] = [r for r in self.gpr_pool if r not in taken]
            self.free_xmm[:] = [r for r in _XMM_POOL if r not in taken]
        self.local_types = local_types
        self.local_disps = local_disps
        self.local_refs = 0
        self.slot0 = slot0
        self.max_depth = 0

    # -- slots ------------------------------------------------------------------

    def slot_disp(self, depth: int) -> int:
        """The rbp-relative displacement of operand slot ``depth``."""
        return self.slot0 - 8 * depth

    # -- pushing ----------------------------------------------------------------

    def push_const(self, ty: ValType, value: int) -> None:
        """Push a constant."""
        items = self.items
        items.append((CONST, ty, value))
        if len(items) > self.max_depth:
            self.max_depth = len(items)

    def push_local(self, idx: int) -> None:
        """Push a lazy reference to local ``idx`` (a register copy of a home)."""
        home = self.homes[idx]
        if home >= 0:
            ty = self.local_types[idx]
            reg = self.alloc_like(ty)
            self.masm.move(SIZE[ty], reg, home)
            self.push_reg(ty, reg)
            return
        items = self.items
        items.append((LOCAL, self.local_types[idx], idx))
        self.local_refs += 1
        if len(items) > self.max_depth:
            self.max_depth = len(items)

    def push_reg(self, ty: ValType, reg: int) -> None:
        """Push a value held in ``reg`` (the stack now owns the register)."""
        items = self.items
        items.append((REG, ty, reg))
        if len(items) > self.max_depth:
            self.max_depth = len(items)

    def push_mem(self, ty: ValType) -> None:
        """Push a value already stored in the slot of the new depth."""
        items = self.items
        items.append((MEM, ty, 0))
        if len(items) > self.max_depth:
            self.max_depth = len(items)

    # -- registers --------------------------------------------------------------

    def alloc_gpr(self) -> int:
        """A free GPR, spilling the oldest register-held value if needed."""
        free = self.free_gpr
        if free:
            return free.pop()
        self._spill_oldest(False)
        return free.pop()

    def alloc_xmm(self) -> int:
        """A free XMM register, spilling if needed."""
        free = self.free_xmm
        if free:
            return free.pop()
        self._spill_oldest(True)
        return free.pop()

    def alloc_like(self, ty: ValType) -> int:
        """A free register of the class that holds ``ty``."""
        return self.alloc_xmm() if ty is _F32 or ty is _F64 else self.alloc_gpr()

    def alloc_specific(self, reg: int) -> int:
        """Take ``reg`` itself, moving or spilling the stack value holding it."""
        free = self.free_gpr if reg < XMM0 else self.free_xmm
        if reg in free:
            free.remove(reg)
            return reg
        items = self.items
        for i, e in enumerate(items):
            if e[0] == REG and e[2] == reg:
                if free:
                    other = free.pop()
                    self.masm.move(SIZE[e[1]], other, reg)
                    items[i] = (REG, e[1], other)
                else:
                    self.masm.store_frame(SIZE[e[1]], reg, self.slot0 - 8 * i)
                    items[i] = (MEM, e[1], 0)
                return reg
        raise RuntimeError(f"register {reg} is neither free nor on the value stack")

    def free(self, reg: int) -> None:
        """Give ``reg`` back to the allocator."""
        if reg < XMM0:
            self.free_gpr.append(reg)
        else:
            self.free_xmm.append(reg)

    def _spill_oldest(self, xmm: bool) -> None:
        items = self.items
        for i, e in enumerate(items):
            if e[0] == REG and (e[2] >= XMM0) == xmm:
                self.masm.store_frame(SIZE[e[1]], e[2], self.slot0 - 8 * i)
                items[i] = (MEM, e[1], 0)
                self.free(e[2])
                return
        raise RuntimeError("out of registers with nothing to spill")

    # -- popping ----------------------------------------------------------------

    def pop(self) -> Entry:
        """Pop the top entry as it is (a REG entry's register passes to the caller)."""
        e = self.items.pop()
        if e[0] == LOCAL:
            self.local_refs -= 1
        return e

    def peek(self, depth: int = 0) -> Entry:
        """The entry ``depth`` places below the top."""
        return self.items[-1 - depth]

    def pop_to_reg(self) -> int:
        """Pop the top value into a register owned by the caller."""
        items = self.items
        kind, ty, data = items[-1]
        if kind == REG:
            items.pop()
            return data
        if ty is _F32 or ty is _F64:
            free = self.free_xmm
            reg = free.pop() if free else self.alloc_xmm()
        else:
            free = self.free_gpr
            reg = free.pop() if free else self.alloc_gpr()
        items.pop()
        if kind == LOCAL:
            self.local_refs -= 1
            self.masm.load_frame(SIZE[ty], reg, self.local_disps[data])
        elif kind == MEM:
            self.masm.load_frame(SIZE[ty], reg, self.slot0 - 8 * len(items))
        else:
            self.masm.load_const(reg, data)
        return reg

    def pop_to_specific(self, reg: int) -> int:
        """Pop the top value into ``reg`` itself."""
        items = self.items
        kind, ty, data = items[-1]
        if kind == REG and data == reg:
            items.pop()
            return reg
        self.alloc_specific(reg)
        # alloc_specific may have moved entries but never the top one into reg
        kind, ty, data = items.pop()
        depth = len(items)
        if kind == REG:
            self.masm.move(SIZE[ty], reg, data)
            self.free(data)
        else:
            self._load(kind, ty, data, reg, depth)
        return reg

    def _load(self, kind: int, ty: ValType, data: int, reg: int, depth: int) -> None:
        if kind == CONST:
            self.masm.load_const(reg, data)
        elif kind == LOCAL:
            self.local_refs -= 1
            self.masm.load_frame(SIZE[ty], reg, self.local_disps[data])
        else:
            self.masm.load_frame(SIZE[ty], reg, self.slot0 - 8 * depth)

    def pop_entry_disp(self) -> tuple[Entry, int]:
        """Pop the top entry; MEM and LOCAL entries come with their rbp displacement."""
        items = self.items
        e = items.pop()
        kind = e[0]
        if kind == LOCAL:
            self.local_refs -= 1
            return e, self.local_disps[e[2]]
        if kind == MEM:
            return e, self.slot0 - 8 * len(items)
        return e, 0

    def drop(self, n: int = 1) -> None:
        """Discard the top ``n`` values, freeing their registers."""
        items = self.items
        for _ in range(n):
            kind, _ty, data = items.pop()
            if kind == REG:
                self.free(data)
            elif kind == LOCAL:
                self.local_refs -= 1

    def truncate(self, height: int) -> None:
        """Discard everything above ``height`` (unreachable code, block ends)."""
        while len(self.items) > height:
            self.drop()

    # -- spilling -----------------------------------------------------------------

    def store_entry(self, e: Entry, m: Mem, src_disp: int = 0) -> None:
        """Write entry ``e``'s value (all 8 bytes of its slot) to ``m``.

        The stack is not changed.  ``src_disp`` is the entry's own rbp
        displacement for MEM/LOCAL entries (see :meth:`entry_disp`).
        """
        kind, ty, data = e
        masm = self.masm
        if kind == REG:
            masm.store(SIZE[ty], data, m)
        elif kind == CONST:
            masm.store_const(m, data)
        else:
            masm.copy_to(m, src_disp)

    def entry_disp(self, depth: int) -> int:
        """The rbp displacement where the entry at ``depth`` lives if MEM or LOCAL."""
        e = self.items[depth]
        if e[0] == LOCAL:
            return self.local_disps[e[2]]
        return self.slot0 - 8 * depth

    def spill_regs(self) -> None:
        """Store every register-held value to its slot (before calls)."""
        items = self.items
        masm = self.masm
        slot0 = self.slot0
        for i, e in enumerate(items):
            if e[0] == REG:
                masm.store_frame(SIZE[e[1]], e[2], slot0 - 8 * i)
                items[i] = (MEM, e[1], 0)
                self.free(e[2])

    def spill_all(self) -> None:
        """Leave only CONST and MEM entries (control-flow boundaries)."""
        items = self.items
        masm = self.masm
        slot0 = self.slot0
        for i, e in enumerate(items):
            kind = e[0]
            if kind == REG:
                masm.store_frame(SIZE[e[1]], e[2], slot0 - 8 * i)
                items[i] = (MEM, e[1], 0)
                self.free(e[2])
            elif kind == LOCAL:
                masm.copy_frame(slot0 - 8 * i, self.local_disps[e[2]])
                items[i] = (MEM, e[1], 0)
        self.local_refs = 0

    def spill_top(self, n: int) -> None:
        """Put the top ``n`` values in their own slots (block results)."""
        items = self.items
        masm = self.masm
        slot0 = self.slot0
        for i in range(len(items) - n, len(items)):
            kind, ty, data = items[i]
            if kind == MEM:
                continue
            disp = slot0 - 8 * i
            if kind == REG:
                masm.store_frame(SIZE[ty], data, disp)
                self.free(data)
            elif kind == CONST:
                masm.store_const_frame(disp, data)
            else:
                masm.copy_frame(disp, self.local_disps[data])
                self.local_refs -= 1
            items[i] = (MEM, ty, 0)

    def detach_local(self, idx: int) -> None:
        """Before ``local.set idx``: turn stacked reads of local ``idx`` into copies."""
        items = self.items
        masm = self.masm
        slot0 = self.slot0
        disp = self.local_disps[idx]
        for i, e in enumerate(items):
            if e[0] == LOCAL and e[2] == idx:
                masm.copy_frame(slot0 - 8 * i, disp)
                items[i] = (MEM, e[1], 0)
                self.local_refs -= 1

    def save_homes(self) -> None:
        """Store every home register to its local's slot (before a call)."""
        store = self.masm.store_frame
        for size, home, disp in self.home_moves:
            store(size, home, disp)

    def load_homes(self) -> None:
        """Load every home register from its local's slot (after a call, at entry)."""
        load = self.masm.load_frame
        for size, home, disp in self.home_moves:
            load(size, home, disp)

    def regs_in_use(self) -> list[int]:
        """Registers held by stack entries (for debugging and tests)."""
        return [e[2] for e in self.items if e[0] == REG]
