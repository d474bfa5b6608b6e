"""Stack walking: native frame pointers and pcs to Wasm frames.

Every Wasm frame links to its caller (``abi``)::

    [fp]      caller's fp        [fp+8]  return address into the caller
    [fp-8]    the frame's VMContext* (r14 of the function)

A walk starts from a known (fp, pc) pair -- the trapping frame
(``trap_fp``/``trap_pc``), the frame that last called the host
(``last_exit_fp``/``last_exit_pc``), or a breakpoint's frame -- and follows
the chain while the pc lies in registered Wasm code.  It stops at the entry
trampoline (whose code is not Wasm code), at ``stop_fp``, or at the first
link that fails validation (frame pointers must increase and stay inside
the thread's stack), so a damaged chain shortens a backtrace but never
crashes the process.

A return address into a function's NOP-free twin (debug code compiled with
twins) is reported as the matching return address of its debug version:
both have the same frame layout there, and the tables know only the latter.

A Store with nested activations (Wasm -> host -> Wasm) walks each segment
in turn: the innermost from its start, then each outer one from the
``last_exit`` pair saved when the inner entry began (see ``Store``).

:class:`WasmFrame` is the debugger's view (fp, native pc, code object,
function, Wasm pc); :func:`to_api_frame` turns one into the public
:class:`~wasmdbg.runtime.trap.Frame`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..jit.abi import CompiledFunction
from .code import CodeObject, CodeRegistry
from .trap import Frame
from .vmcontext import peek

__all__ = ["MAX_FRAMES", "WasmFrame", "return_slots", "to_api_frame", "walk"]

MAX_FRAMES = 20000


@dataclass(frozen=True, slots=True)
class WasmFrame:
    """One live (or just-unwound) Wasm frame."""

    fp: int
    pc: int
    code: CodeObject
    func: CompiledFunction
    wasm_pc: int | None

    @property
    def func_index(self) -> int:
        """Function index in the module (imports included)."""
        return self.func.func_index

    @property
    def vmctx(self) -> int:
        """The frame's VMContext* (saved at ``[fp-8]``)."""
        return peek(self.fp - 8)


def walk(
    registry: CodeRegistry,
    fp: int,
    pc: int,
    *,
    stack_lo: int,
    stack_hi: int,
    stop_fp: int = 0,
    limit: int = MAX_FRAMES,
) -> Iterator[WasmFrame]:
    """Yield the Wasm frames from (fp, pc) outwards, innermost first."""
    chain = _chain(registry, fp, 0, pc, stack_lo=stack_lo, stack_hi=stack_hi, stop_fp=stop_fp, limit=limit)
    for frame_fp, _slot, _raw_pc, pc, code, func in chain:
        yield WasmFrame(frame_fp, pc, code, func, code.wasm_pc_at(pc, func))


def return_slots(
    registry: CodeRegistry,
    fp: int,
    slot: int,
    pc: int,
    *,
    stack_lo: int,
    stack_hi: int,
    stop_fp: int = 0,
    limit: int = MAX_FRAMES,
) -> Iterator[tuple[int, int, CodeObject]]:
    """The (slot, return address, code object) of each Wasm frame from (fp, pc) outwards.

    ``slot`` is where the machine stack holds ``pc`` (0: unknown, only a copy
    was saved); every later pc is read from its slot ``[fp+8]``.  The pcs are
    raw (a twin's return address stays one): this is what moving frames
    between twin and debug code rewrites.
    """
    chain = _chain(registry, fp, slot, pc, stack_lo=stack_lo, stack_hi=stack_hi, stop_fp=stop_fp, limit=limit)
    for _fp, pc_slot, raw_pc, _pc, code, _func in chain:
        yield pc_slot, raw_pc, code


def _chain(
    registry: CodeRegistry,
    fp: int,
    slot: int,
    pc: int,
    *,
    stack_lo: int,
    stack_hi: int,
    stop_fp: int,
    limit: int,
) -> Iterator[tuple[int, int, int, int, CodeObject, CompiledFunction]]:
    """(fp, slot of pc, raw pc, pc, code object, function) of each Wasm frame along
    the frame-pointer chain; ``pc`` is the raw one mapped out of a twin (the
    frame reads as its debug version's)."""
    count = 0
    while count < limit:
        # NB: every pc walked is a return address (of a call, a trap stub's
        # call, or a patch site's call): the instruction it names ends just
        # before it, possibly as the last bytes of its function.
        code = registry.lookup(pc - 1)
        if code is None:
            return
        mapped = code.debug_pc(pc)
        func = code.function_at(mapped - 1)
        if func is None:
            return
        yield fp, slot, pc, mapped, code, func
        count += 1
        if fp == stop_fp or fp & 7 or not stack_lo <= fp < stack_hi - 16:
            return
        next_fp = peek(fp)
        slot = fp + 8
        next_pc = peek(slot)
        if next_fp == stop_fp or next_fp <= fp or next_fp >= stack_hi:
            return
        fp, pc = next_fp, next_pc


def to_api_frame(frame: WasmFrame) -> Frame:
    """The public :class:`Frame` for a walked frame."""
    code = frame.code
    mod = code.definition
    index = frame.func.func_index
    start = code.body_start(index)
    wpc = frame.wasm_pc if frame.wasm_pc is not None else start
    return Frame(
        index,
        mod.func_name(index),
        mod.names.module,
        wpc,
        wpc - start,
        fp=frame.fp,
        pc=frame.pc,
        module=code.module,
    )
