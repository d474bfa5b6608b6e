"""Memory, tables, globals and calls in the macro-assembler.

This module owns every access that goes through the VM context (see
``abi``): globals, the linear memory with its bounds checks, tables, function
references, the three kinds of call (direct, through a ``VMFuncRef``, libcall)
and the bulk operations (``memory.copy``/``fill``, ``table.copy``/``fill``) in
machine code.

Pinned heap registers
---------------------
In a module with a linear memory, ``r12`` holds the ``VMMemory*`` of memory
0 and ``r13`` its base address in every function (loaded in the prologue,
reloaded after calls through a ``VMFuncRef``, which may run another
module's code; direct calls and System V calls preserve them, and the base
never moves).  A bounds-checked access is then::

    add  addr, offset+size        ; addr: zero-extended i32
    cmp  addr, [r12 + MEMORY.SIZE]
    ja   trap_stub                ; MEMORY_OUT_OF_BOUNDS
    mov  dst, [r13 + addr - size]

Signal-based bounds checks
--------------------------
With ``heap_signals`` (plain builds with ``Config.signals_based_traps``)
an access whose ``offset + size`` fits in a positive disp32 has no check
at all::

    mov  dst, [r13 + addr + offset]

Every memory is then reserved 8 GiB, only ``[0, size)`` of it accessible
(``runtime.memory``), so ``addr + offset + size < 6 GiB`` lands in the
reservation and an out-of-bounds access faults.  The offset of the
faulting instruction goes into ``trap_sites`` with the Wasm pc, exactly as
a trap stub's return address would; the SIGSEGV handler
(``runtime.sigsegv``) makes the faulting instruction "call" a trap routine
so that ``trap_pc`` is that offset.  Larger offsets keep the explicit check.

Guest-debug builds with twins (``twin_faults``) use this in the twins only:
the debug version keeps its checks and lists where each one starts
(``fault_sites``), the twin lists its faulting accesses in the same order.
Up to the check the two emitted the same code, so the runtime resumes a
faulting twin at the matching check (``CompiledModule.twin_faults``), which
then traps in the debug version with the frames live for the debugger.
"""

from __future__ import annotations

from .abi import FUNCREF, MEMORY, STORE, TABLE, VMCTX, TrapCode
from .codebuf import Label
from .outofline import OutOfLine
from .x64 import Cond, Mem, Reg, Xmm

__all__ = ["HeapOps"]

_G: tuple[Reg, ...] = tuple(Reg)
_X: tuple[Xmm, ...] = tuple(Xmm) * 2  # indexed by register number 16..31

RAX, RCX, RDX, R11, R14 = Reg.RAX, Reg.RCX, Reg.RDX, Reg.R11, Reg.R14
R12, R13 = Reg.R12, Reg.R13
RSP, RBP, RDI, RSI = Reg.RSP, Reg.RBP, Reg.RDI, Reg.RSI
_XMM0 = 16
_I64_SIGN = 1 << 63


class HeapOps(OutOfLine):
    """The VM-context part of :class:`~wasmdbg.jit.masm.MacroAssembler`."""

    def __init__(self) -> None:
        super().__init__()
        self.heap_pinned = False
        self.heap_used = False  # the current function accesses memory
        self.heap_loads: list[tuple[int, int]] = []  # (offset, size) of load_heap_regs code
        self._heap_size = Mem(R12, MEMORY.SIZE)
        self._heap_mems: dict[tuple[int, int], Mem] = {}
        # signal-based bounds checks (see the module doc): the next heap access
        # instruction is a fault site; (addr, offset) -> its operand
        self.heap_signals = False
        self._fault_site = False
        self._fault_mems: dict[tuple[int, int], Mem] = {}
        # guest-debug builds whose twins fault (see the module doc): the twin
        # keeps an unreachable trap stub per faulting access (so return
        # addresses still pair up) and the debug version records where each
        # such access's explicit check starts; per function, in code order
        self.twin_faults = False
        self.fault_sites: list[int] = []
        # lazily compiled pieces: (offset of the disp32 of a ``call [rip+disp32]``,
        # callee function index) per call through the module's code table
        self.table_calls: list[tuple[int, int]] = []
        self.self_calls: list[int] = []  # see CompiledFunction.self_calls

    # -- VM context access ---------------------------------------------------------------

    def load_vmctx_field(self, dst: int, field: int) -> None:
        """``dst = [r14 + field]``."""
        self.asm.mov_rm(_G[dst], self.mem(R14, field))

    def global_addr(self, index: int) -> Mem:
        """Put the address of global ``index``'s cell in ``r11``; return ``[r11]``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.GLOBALS))
        a.mov_rm(R11, self.mem(R11, 8 * index))
        return self.mem(R11, 0)

    def memory_size(self, dst: int) -> None:
        """``dst`` = current memory 0 size in pages."""
        a = self.asm
        if self.heap_pinned:
            self.heap_used = True
            a.mov_rm(_G[dst], self.mem(12, MEMORY.SIZE))
        else:
            a.mov_rm(R11, self.mem(14, VMCTX.MEMORY))
            a.mov_rm(_G[dst], self.mem(11, MEMORY.SIZE))
        a.shr_ri(_G[dst], 16)

    def load_heap_regs(self) -> None:
        """Load the pinned ``r12`` (VMMemory*) and ``r13`` (heap base).

        NB: a function that turns out not to touch memory gets these loads
        overwritten with a NOP by :meth:`finish_function`.
        """
        if self.heap_pinned:
            a = self.asm
            at = len(self.buf.data)
            a.mov_rm(R12, self.mem(14, VMCTX.MEMORY))
            a.mov_rm(R13, self.mem(12, MEMORY.BASE))
            self.heap_loads.append((at, len(self.buf.data) - at))

    def heap_addr(self, addr: int, offset: int, size: int) -> Mem:
        """Bounds-check an access of ``size`` bytes at ``addr + offset``.

        ``addr`` holds the zero-extended i32 address and is clobbered (it
        becomes the end of the access).  Without pinned heap registers,
        ``r11`` ends up holding the memory base.  Returns the operand
        addressing the access.
        """
        a = self.asm
        r = _G[addr]
        end = offset + size
        if self.heap_pinned:
            self.heap_used = True
            if self.heap_signals and end <= 0x7FFF_FFFF:
                # NB: cached, not fresh: heap_load/heap_store key encodings by id(m)
                fkey = (addr, offset)
                m = self._fault_mems.get(fkey)
                if m is None:
                    m = self._fault_mems[fkey] = Mem(R13, offset, r, 1)
                self._fault_site = True
                if self.twin_faults:
                    self.trap_stub(TrapCode.MEMORY_OUT_OF_BOUNDS)
                return m
            ekey = (12, addr, end)
            data = self.data
            if self.twin_faults and end <= 0x7FFF_FFFF:
                self.fault_sites.append(len(data))
            enc = self.enc.get(ekey)
            if enc is not None:
                data += enc
            else:
                start = len(data)
                if end <= 0x7FFF_FFFF:
                    a.add_ri(r, end)
                else:
                    a.mov_ri(R11, end)
                    a.add_rr(r, R11)
                a.cmp_rm(r, self._heap_size)
                self.enc[ekey] = bytes(data[start:])
            self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
            key = (addr, size)
            m = self._heap_mems.get(key)
            if m is None:
                m = self._heap_mems[key] = Mem(R13, -size, r, 1)
            return m
        if end <= 0x7FFF_FFFF:
            a.add_ri(r, end)
        else:
            a.mov_ri(R11, end)
            a.add_rr(r, R11)
        a.mov_rm(R11, self.mem(14, VMCTX.MEMORY))
        a.cmp_rm(r, self.mem(11, MEMORY.SIZE))
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(11, MEMORY.BASE))
        return self.mem(11, -size, addr)

    def _mark_fault_site(self) -> None:
        """The instruction about to be emitted is a faulting heap access.

        NB: its offset must not be a return address too (a trap or a call
        just before it, with no code in between): the tables would give the
        fault that instruction's pc.  A 1-byte NOP keeps them apart.
        """
        self._fault_site = False
        at = len(self.data)
        if at in self.trap_sites or at in self.call_sites:
            self.asm.nop()
            at += 1
        self.trap_sites[at] = self.pc
        if self.twin_faults:
            self.fault_sites.append(at)

    def heap_load(self, m: Mem, dst: int, size: int, signed: bool, to64: bool) -> None:
        """Cached-encoding front of :meth:`_enc_heap_load`."""
        key = (9, id(m), dst, size, signed, to64)
        enc = self.enc.get(key)
        data = self.data
        if self._fault_site:
            self._mark_fault_site()
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_heap_load(m, dst, size, signed, to64)
        self.enc[key] = bytes(data[start:])

    def _enc_heap_load(self, m: Mem, dst: int, size: int, signed: bool, to64: bool) -> None:
        """Load ``size`` bytes from ``m`` into ``dst`` (extended as asked)."""
        a = self.asm
        if dst >= _XMM0:
            (a.movsd_xm if size == 8 else a.movss_xm)(_X[dst], m)
            return
        d = _G[dst]
        if size == 8:
            a.mov_rm(d, m)
        elif size == 4:
            if signed and to64:
                a.movsx32_rm(d, m)
            else:
                a.mov32_rm(d, m)
        elif size == 2:
            if not signed:
                a.movzx16_rm(d, m)
            elif to64:
                a.movsx16_rm(d, m)
            else:
                a.movsx16to32_rm(d, m)
        elif not signed:
            a.movzx8_rm(d, m)
        elif to64:
            a.movsx8_rm(d, m)
        else:
            a.movsx8to32_rm(d, m)

    def heap_store(self, m: Mem, src: int, size: int) -> None:
        """Cached-encoding front of :meth:`_enc_heap_store`."""
        key = (10, id(m), src, size)
        enc = self.enc.get(key)
        data = self.data
        if self._fault_site:
            self._mark_fault_site()
        if enc is not None:
            data += enc
            return
        start = len(data)
        self._enc_heap_store(m, src, size)
        self.enc[key] = bytes(data[start:])

    def _enc_heap_store(self, m: Mem, src: int, size: int) -> None:
        """Store the low ``size`` bytes of ``src`` to ``m``."""
        a = self.asm
        if src >= _XMM0:
            (a.movsd_mx if size == 8 else a.movss_mx)(m, _X[src])
        elif size == 8:
            a.mov_mr(m, _G[src])
        elif size == 4:
            a.mov32_mr(m, _G[src])
        elif size == 2:
            a.mov16_mr(m, _G[src])
        else:
            a.mov8_mr(m, _G[src])

    @staticmethod
    def can_store_const(size: int, bits: int) -> bool:
        """Whether :meth:`heap_store_const` takes ``bits`` for a ``size``-byte store
        (8 bytes need a sign-extended 32-bit immediate)."""
        return size < 8 or bits < 0x8000_0000 or bits >= 0xFFFF_FFFF_8000_0000

    def heap_store_const(self, m: Mem, bits: int, size: int) -> None:
        """Store the low ``size`` bytes of the constant ``bits`` to ``m``.

        Only for constants :meth:`can_store_const` accepts.
        """
        a = self.asm
        if self._fault_site:
            self._mark_fault_site()
        if size == 8:
            a.mov_mi(m, bits - (1 << 64) if bits >= _I64_SIGN else bits)
        elif size == 4:
            a.mov32_mi(m, bits & 0xFFFF_FFFF)
        elif size == 2:
            a.mov16_mi(m, bits & 0xFFFF)
        else:
            a.mov8_mi(m, bits & 0xFF)

    def table_addr(self, table: int, index: int) -> Mem:
        """Bounds-check ``index`` against table ``table``; return its element slot.

        Traps ``TABLE_OUT_OF_BOUNDS``.  Uses ``r11``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(R11, 8 * table))
        a.cmp_rm(_G[index], self.mem(R11, TABLE.SIZE))
        self.trap_if(Cond.AE, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(R11, TABLE.ELEMENTS))
        return self.mem(R11, 0, index, 8)

    def table_size(self, table: int, dst: int) -> None:
        """``dst`` = the element count of table ``table``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(R11, 8 * table))
        a.mov_rm(_G[dst], self.mem(R11, TABLE.SIZE))

    def func_ref(self, func: int, dst: int) -> None:
        """``dst`` = the ``VMFuncRef*`` of function ``func``."""
        a = self.asm
        a.mov_rm(R11, self.mem(R14, VMCTX.FUNCS))
        a.mov_rm(_G[dst], self.mem(R11, 8 * func))

    # -- calls ----------------------------------------------------------------------------

    def call_direct(self, label: Label) -> int:
        """Call a function of this module; return the return address's offset.

        ``r14`` needs no reload: a Wasm callee of the same instance leaves it as is.
        """
        self.asm.call_l(label)
        ret = len(self.buf.data)
        self.call_sites[ret] = self.pc
        return ret

    def call_table(self, func: int) -> int:
        """Call function ``func`` through its slot of the module's code table (lazy
        compilation): ``call [rip+disp32]``, the disp32 fixed by whoever maps the
        code (``table_calls``).  Returns the return address's offset.

        Like :meth:`call_direct`, ``r14`` needs no reload.
        """
        data = self.data
        data += b"\xff\x15\0\0\0\0"
        ret = len(data)
        self.table_calls.append((ret - 4, func))
        self.call_sites[ret] = self.pc
        return ret

    def call_funcref(self, ref: int) -> int:
        """Call through a ``VMFuncRef*`` in ``ref`` (switching ``r14``), then reload ``r14``.

        Returns the offset of the return address.
        """
        a = self.asm
        a.mov_rm(R14, self.mem(ref, FUNCREF.VMCTX))
        a.call_m(self.mem(ref, FUNCREF.CODE))
        ret = len(self.buf.data)
        self.call_sites[ret] = self.pc
        a.mov_rm(R14, self.frame(-8))
        self.load_heap_regs()
        return ret

    def check_funcref(self, ref: int, sig_id: int | None, type_index: int) -> None:
        """Trap unless ``ref`` is non-null with the expected signature."""
        a = self.asm
        r = _G[ref]
        a.test_rr(r, r)
        self.trap_if(Cond.E, TrapCode.ELEMENT_UNINITIALIZED)
        if sig_id is not None and sig_id <= 0x7FFF_FFFF:
            a.cmp_mi(self.mem(ref, FUNCREF.SIG_ID), sig_id)
        else:
            a.mov_rm(R11, self.mem(R14, VMCTX.SIG_IDS))
            a.mov_rm(R11, self.mem(R11, 8 * type_index))
            a.cmp_rm(R11, self.mem(ref, FUNCREF.SIG_ID))
        self.trap_if(Cond.NE, TrapCode.BAD_SIGNATURE)

    def libcall(self, op: int) -> None:
        """Call ``libcall(vmctx, op, &out0)`` (System V); trap on a non-zero status.

        Arguments are already in the outgoing slots; all registers are free.
        """
        a = self.asm
        a.mov_rr(RDI, R14)
        a.mov32_ri(RSI, op)
        a.mov_rr(RDX, RSP)
        a.mov_rm(RAX, self.mem(R14, VMCTX.STORE))
        a.call_m(self.mem(RAX, STORE.LIBCALL))
        self.call_sites[len(self.buf.data)] = self.pc
        a.test32_rr(RAX, RAX)
        self.status_stub()

    # -- bulk memory and tables ----------------------------------------------------------
    #
    # Operands arrive in the registers the string instructions use (zero-extended
    # i32): rdi = destination, rsi = source, rcx = count, rax = fill value.  The
    # whole range is checked first, so an out-of-bounds operation writes nothing;
    # ``end <= size`` passes, so ``n = 0`` at the very end is fine.  Copies run
    # backward exactly when the destination starts inside the source range
    # (``dst - src < len`` unsigned), which is the only overlap a forward copy
    # would corrupt::
    #
    #       lea  r11, [rsi + rcx]  ; cmp r11, size ; ja trap     (source range)
    #       lea  r11, [rdi + rcx]  ; cmp r11, size ; ja trap     (destination range)
    #       rsi, rdi += base
    #       mov  r11, rdi ; sub r11, rsi ; cmp r11, len ; jb back
    #       rep movs ; jmp done
    # back: rsi, rdi += len - width ; std ; rep movs ; cld
    # done:

    def memory_copy(self) -> None:
        """``memory.copy`` within memory 0: rdi = dst, rsi = src, rcx = n (all clobbered).

        Traps ``MEMORY_OUT_OF_BOUNDS``; uses ``r11``.  Needs the pinned heap registers.
        """
        a = self.asm
        self.heap_used = True
        a.lea_rm(R11, self.mem(6, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.lea_rm(R11, self.mem(7, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.add_rr(RSI, R13)
        a.add_rr(RDI, R13)
        self._copy_either_way(1, R11)

    def memory_fill(self) -> None:
        """``memory.fill`` of memory 0: rdi = dst, al = value, rcx = n (all clobbered).

        Traps ``MEMORY_OUT_OF_BOUNDS``; uses ``r11``.  Needs the pinned heap registers.
        """
        a = self.asm
        self.heap_used = True
        a.lea_rm(R11, self.mem(7, 0, 1))
        a.cmp_rm(R11, self._heap_size)
        self.trap_if(Cond.A, TrapCode.MEMORY_OUT_OF_BOUNDS)
        a.add_rr(RDI, R13)
        a.rep_stosb()

    def table_copy(self, dst_table: int, src_table: int) -> None:
        """``table.copy``: rdi = dst, rsi = src, rcx = n; clobbers those, rax, rdx, r11.

        Traps ``TABLE_OUT_OF_BOUNDS``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(14, VMCTX.TABLES))
        a.mov_rm(RAX, self.mem(11, 8 * src_table))
        a.mov_rm(R11, self.mem(11, 8 * dst_table))
        a.lea_rm(RDX, self.mem(6, 0, 1))
        a.cmp_rm(RDX, self.mem(0, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.lea_rm(RDX, self.mem(7, 0, 1))
        a.cmp_rm(RDX, self.mem(11, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(RAX, self.mem(0, TABLE.ELEMENTS))
        a.lea_rm(RSI, self.mem(0, 0, 6, 8))
        a.mov_rm(R11, self.mem(11, TABLE.ELEMENTS))
        a.lea_rm(RDI, self.mem(11, 0, 7, 8))
        self._copy_either_way(8, RDX)

    def table_fill(self, table: int) -> None:
        """``table.fill``: rdi = dst, rax = value, rcx = n; clobbers rdi, rcx, rdx, r11.

        Traps ``TABLE_OUT_OF_BOUNDS``.
        """
        a = self.asm
        a.mov_rm(R11, self.mem(14, VMCTX.TABLES))
        a.mov_rm(R11, self.mem(11, 8 * table))
        a.lea_rm(RDX, self.mem(7, 0, 1))
        a.cmp_rm(RDX, self.mem(11, TABLE.SIZE))
        self.trap_if(Cond.A, TrapCode.TABLE_OUT_OF_BOUNDS)
        a.mov_rm(R11, self.mem(11, TABLE.ELEMENTS))
        a.lea_rm(RDI, self.mem(11, 0, 7, 8))
        a.rep_stosq()

    def _copy_either_way(self, width: int, tmp: Reg) -> None:
        """Copy ``rcx`` elements of ``width`` bytes from ``[rsi]`` to ``[rdi]``, overlap-safe.

        Backward (``std``) only when ``rdi`` lies inside ``[rsi, rsi + rcx*width)``.
        """
        a = self.asm
        buf = self.buf
        rep = a.rep_movsb if width == 1 else a.rep_movsq
        back, done = Label("copy_back"), Label("copy_done")
        a.mov_rr(tmp, RDI)
        a.sub_rr(tmp, RSI)
        if width == 1:
            a.cmp_rr(tmp, RCX)
        else:
            a.shr_ri(tmp, 3)  # element distance: rdi - rsi is a multiple of 8 when in range
            a.cmp_rr(tmp, RCX)
        a.jcc_l(Cond.B, back)
        rep()
        a.jmp_l(done)
        buf.bind(back)
        a.lea_rm(RSI, self.mem(6, -width, 1, width))
        a.lea_rm(RDI, self.mem(7, -width, 1, width))
        a.std()
        rep()
        a.cld()
        buf.bind(done)
