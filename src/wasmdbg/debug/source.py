"""What a person debugs: numbered breakpoints with many locations, stepping, values.

:class:`SourceDebugger` sits on a :class:`~wasmdbg.debug.session.Session`
(the guest runs on the session's worker thread; the caller of this class is
the front end's thread) and speaks in the units of a gdb user: breakpoints by
function name, ``*pc`` (and, with DWARF, ``file:line``), each numbered with a
condition, an ignore count and a hit count; run control that blocks until the
next stop the user should see; and values read and written by expression.
It does no I/O: front ends format what it returns.

One user breakpoint may have several locations (every copy of a source line);
each location is one session breakpoint whose condition is a callable that
applies the user breakpoint's rules on the guest thread, gdb's order::

    location reached ─► user breakpoint disabled?      yes ─► run on
                        condition given and false?    yes ─► run on
                        hits += 1
                        ignore count > 0?             yes ─► ignore -= 1, run on
                        ─► STOP (a condition that fails to evaluate stops too)

Run control (every call blocks until a stop or the exit)::

    operation   how                                     stops when
    cont        session.cont                            any breakpoint, trap
    stepi       session.step_into                       next instruction, any frame
    nexti       session.step_over                       next instruction, this frame or a caller
    finish      internal breakpoint at the call's       the selected frame's caller resumes
                return point, condition fp == caller's  (the returned values are on its stack)
    advance     internal breakpoints at LOCATION        LOCATION in any frame, or the current
                (+ the finish breakpoint)               frame returns
    step_line   step: instruction steps (into), each    the pc starts an is_stmt line-table row
                judged on this thread; next / until     of another line (see below)
                outside inlined code: one continue to
                internal breakpoints (below)

Operations stop early, like gdb, at a user breakpoint or a trap.  A
``proc_exit`` (WASI's exit, raised by a host function) is not a stop: the
guest runs on to its exit.

Line stepping (``step_line``) compares each stop with where it began: the
Wasm frame (frame pointer, so recursion cannot fool it) and the inline
depth (how many inlined calls contain the pc, from DWARF)::

    stop in ...                       step (into)                    next / until
    a deeper Wasm frame (a call)      with lines: run to the callee's  --  (step over never
                                      first line after its prologue;   stops there)
                                      without: finish it, go on
    a caller (the frame returned)     at a line start: stop; mid-line: go on in the caller
    the same frame, deeper inline     at a line start: stop            go on
    the same frame and depth          a line start of another line: stop (until: not backwards)

``next`` and ``until`` from outside inlined code do not step: the pcs where
the table above would stop in the stepping frame are known before running
(every is_stmt row start of another line, outside inlined code; for until
not before the current pc), so internal breakpoints go there, conditioned on
the frame pointer (a recursive call runs through), plus one at the caller's
return point, all set and removed in one session edit each; the guest
continues at full speed and a return mid-line goes on as the table says.

Source level (with DWARF, read by :mod:`wasmdbg.dwarf`): a
:class:`~.sourceframes.SourceFrame` expands a Wasm frame into its inlined
calls (``sourceframes``); Wasm-level values and their places are in
``wasmvalues``;
expressions are C (:mod:`.expr` parses, :mod:`.values` evaluates and prints)
over :class:`~.sourceframes.CFrameContext`, which reads variables through their DWARF
locations (memory over the frame base, Wasm locals, globals, operand-stack
slots, constants, pieces) and writes them back.  Without DWARF (or in a frame
without it) expressions see the Wasm state: ``$localN``, names from the name
section, ``$globalN``, ``$stackN``, ``$pc`` and ``{TYPE} ADDR``.
"""

from __future__ import annotations

import math
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..dwarf import load_debug_info
from ..dwarf.types import CType
from ..errors import DebugError, WasmError
from ..wasm.code import iter_raw
from . import expr as ex
from . import values as cv
from .breakpoints import Breakpoint
from .debugger import StopReason
from .session import Exited, Session, Stopped
from .sourceframes import CFrameContext, SourceFrame, file_match, source_frames, wasm_to_c
from .wasmvalues import (
    MEMTYPES,
    VALTYPE_MEM,
    GlobalPlace,
    ListPlace,
    MemoryPlace,
    WasmValue,
    memtype_of,
    read_memory,
    wrap,
)

__all__ = [
    "Ended",
    "Launch",
    "Outcome",
    "PauseReason",
    "Paused",
    "SourceDebugger",
    "UserBreakpoint",
    "iter_values",
]


# --------------------------------------------------------------------------
# What a run produces


@dataclass(frozen=True)
class Launch:
    """One run of the program: a fresh Store with the module instantiated, and its entry."""

    store: Any
    instance: Any
    entry: Callable[[], Any]


class PauseReason(Enum):
    """Why a run-control operation returned with the guest paused."""

    BREAKPOINT = "breakpoint"
    STEP = "step"
    FINISH = "finish"
    LOCATION = "location"
    TRAP = "trap"
    HOST_ERROR = "host error"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Paused:
    """The guest is paused; ``frames`` innermost first (live until it resumes).

    ``breakpoint`` for BREAKPOINT; ``error`` the trap or host exception for
    TRAP / HOST_ERROR; ``returned`` the values of the finished call (FINISH)
    and ``finished`` the function index it returned from.
    """

    reason: PauseReason
    frames: Sequence[Any]
    breakpoint: UserBreakpoint | None = None
    error: BaseException | None = None
    returned: tuple[WasmValue, ...] = ()
    finished: int | None = None

    @property
    def frame(self) -> Any:
        """The innermost frame (``None`` when the stop has none)."""
        return self.frames[0] if self.frames else None


@dataclass(frozen=True)
class Ended:
    """The guest call finished: ``exit_code`` for a WASI exit, else ``result`` or ``error``."""

    exit_code: int | None = None
    result: Any = None
    error: BaseException | None = None


Outcome = Paused | Ended


# --------------------------------------------------------------------------
# Breakpoints


class UserBreakpoint:
    """One numbered breakpoint as the user set it (``spec``), with its locations.

    ``pcs`` are the module pcs it resolved to (before slipping to sequence
    points); ``commands`` are front-end command lines run when it stops.
    """

    def __init__(self, number: int, spec: str, pcs: Sequence[int], *, temporary: bool = False) -> None:
        self.number = number
        self.spec = spec
        self.pcs = tuple(pcs)
        self.temporary = temporary
        self.enabled = True
        self.cond: str | None = None
        self.cond_node: ex.Node | None = None
        self.cond_error: str | None = None
        self.ignore = 0
        self.hits = 0
        self.commands: list[str] = []
        self.installed: list[Breakpoint] = []

    def __repr__(self) -> str:
        return f"<UserBreakpoint {self.number} {self.spec!r} pcs={[hex(p) for p in self.pcs]}>"


# --------------------------------------------------------------------------
# The debugger


class SourceDebugger:
    """Breakpoints, run control and values for one module (see the module docstring).

    ``module`` is the runtime Module (``module.definition`` its ModuleDef);
    one SourceDebugger outlives many runs: breakpoints stay, each
    :meth:`start` makes a new Session on the Launch's Store.
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.mdef = module.definition
        self.session: Session | None = None
        self.launch: Launch | None = None
        self._breakpoints: dict[int, UserBreakpoint] = {}
        self._next_number = 1  # see next_breakpoint_number
        self._by_session: dict[int, UserBreakpoint] = {}
        self._internal: list[Breakpoint] = []
        self.history: list[Any] = []
        self.info, self.dwarf_note = load_debug_info(self.mdef)
        self._types: dict[tuple[str, ...], CType] | None = None
        self._stack_cache: tuple[object, list[SourceFrame]] | None = None
        self._static: memoryview | None = None

    # -- names ----------------------------------------------------------------

    def function_names(self) -> dict[int, str]:
        """Function index -> name (name section, then exports)."""
        names: dict[int, str] = {}
        for export in self.mdef.exports:
            if int(export.kind) == 0:
                names.setdefault(export.index, export.name)
        names.update(self.mdef.names.functions)
        return names

    def function_name(self, func_index: int) -> str:
        """A function's name, or ``func[N]``."""
        return self.function_names().get(func_index) or f"func[{func_index}]"

    def function_index(self, name: str) -> int:
        """The defined function called ``name`` (or ``func[N]`` / ``N``)."""
        for index, known in self.function_names().items():
            if known == name:
                return index
        text = name[5:-1] if name.startswith("func[") and name.endswith("]") else name
        if text.isdigit() and int(text) < len(self.mdef.func_type_indices):
            return int(text)
        raise DebugError(f'Function "{name}" not defined.')

    def function_at(self, pc: int) -> int | None:
        """The defined function whose code holds module offset ``pc``."""
        for body in self.mdef.bodies:
            if body.code_start <= pc < body.code_end:
                return int(body.func_index)
        return None

    def local_name(self, func_index: int, index: int) -> str:
        """A local's name from the name section, or ``$localN``."""
        return self.mdef.names.locals.get(func_index, {}).get(index) or f"$local{index}"

    def local_names(self, func_index: int) -> dict[int, str]:
        """The name section's local names of one function."""
        names: dict[int, str] = self.mdef.names.locals.get(func_index, {})
        return names

    def num_params(self, func_index: int) -> int:
        """How many of a function's locals are its parameters."""
        return len(self.mdef.func_type(func_index).params)

    def next_pc(self, pc: int) -> int:
        """The module offset of the instruction after the one at ``pc``."""
        func = self.function_at(pc)
        if func is None:
            raise DebugError(f"pc 0x{pc:x} is not in any function's code")
        body = self.mdef.body(func)
        items = iter_raw(self.mdef.raw, pc, body.code_end, exact=False)
        next(items)
        following = next(items, None)
        return following[0] if following is not None else body.code_end

    # -- breakpoints ----------------------------------------------------------

    def resolve(self, spec: str, frame: Any = None) -> list[int]:
        """The pcs a location names: ``*ADDR``, a function name, (``+N``/``-N`` need DWARF)."""
        spec = spec.strip()
        if not spec:
            if frame is None:
                raise DebugError("No default breakpoint location now selected.")
            return [frame.pc]
        if spec.startswith("*"):
            value = self.evaluate(spec[1:], frame) if frame is not None else None
            pc = int(value.value) if value is not None else _parse_int(spec[1:])
            if self.function_at(pc) is None:
                raise DebugError(f"no code at address 0x{pc:x}")
            return [pc]
        if self.info is not None:
            pcs = self._resolve_source(spec, frame)
            if pcs is not None:
                return pcs
        func = self.function_index(spec)
        if func < self.mdef.num_imported_funcs:
            raise DebugError(f"{spec} is an imported function: it has no code to stop in")
        return [self.mdef.body(func).code_start]

    def _resolve_source(self, spec: str, frame: Any) -> list[int] | None:
        """``FILE:LINE``, ``LINE``, ``+N``/``-N``, ``FILE:FUNCTION`` or a DWARF function name."""
        info = self.info
        assert info is not None
        file: str | None = None
        text = spec
        if ":" in spec:
            file, text = spec.rsplit(":", 1)
        if text.lstrip("+-").isdigit():
            number = int(text.lstrip("+-"))
            if file is None:
                here = self.source_position(frame)
                if text[0] in "+-":
                    if here is None:
                        raise DebugError("No default source line now selected.")
                    number = here[1] + (number if text[0] == "+" else -number)
                if here is not None:
                    file = here[0]
                else:
                    file = self.default_file()
                if file is None:
                    raise DebugError("No symbol table is loaded.")
            match = info.lines_for(file, number)
            if match is None:
                if not any(p for p in info.source_files() if file_match(p, file)):
                    raise DebugError(f'No source file named {file}.')
                raise DebugError(f'Line {number} out of range; "{file}" has no code after it.')
            self.last_match = match
            return list(info.breakpoint_pcs(match))
        func = info.function_named(text)
        if func is None:
            if file is not None:
                raise DebugError(f'Function "{text}" not defined in "{file}".')
            return None
        return [func.breakpoint_pc]

    def default_file(self) -> str | None:
        """The file of ``main`` (gdb's default source file)."""
        info = self.info
        if info is None:
            return None
        for name in ("main", "__main_argc_argv", "__original_main"):
            func = info.function_named(name)
            if func is not None and func.decl_file:
                return str(func.decl_file)
        return None

    def source_position(self, frame: Any) -> tuple[str, int] | None:
        """(file, line) of a Wasm or source frame, if known."""
        if frame is None or self.info is None:
            return None
        if isinstance(frame, SourceFrame):
            return (frame.file, frame.line) if frame.file and frame.line else None
        row = self.info.line_at(int(frame.pc))
        return (row.file, row.line) if row is not None and row.line else None

    def line_of(self, pc: int) -> tuple[str, int] | None:
        """(file, line) of a pc."""
        if self.info is None:
            return None
        row = self.info.line_at(pc)
        return (row.file, row.line) if row is not None and row.line else None

    def add_breakpoint(self, spec: str, *, temporary: bool = False, frame: Any = None) -> UserBreakpoint:
        """A new numbered breakpoint at ``spec`` (installed now if a run is live)."""
        pcs = self.resolve(spec, frame)
        bp = UserBreakpoint(self._next_number, spec.strip(), pcs, temporary=temporary)
        self._next_number += 1
        self._breakpoints[bp.number] = bp
        if self._live():
            self._install(bp)
        return bp

    @property
    def breakpoints(self) -> list[UserBreakpoint]:
        """Every user breakpoint, by number."""
        return [self._breakpoints[n] for n in sorted(self._breakpoints)]

    def get_breakpoint(self, number: int) -> UserBreakpoint:
        """The breakpoint numbered ``number``."""
        bp = self._breakpoints.get(number)
        if bp is None:
            raise DebugError(f"No breakpoint number {number}.")
        return bp

    def delete_breakpoint(self, number: int) -> None:
        """Delete breakpoint ``number``."""
        bp = self.get_breakpoint(number)
        self._uninstall(bp)
        del self._breakpoints[number]

    def enable_breakpoint(self, number: int, enabled: bool = True) -> None:
        """Enable (or disable) breakpoint ``number``."""
        bp = self.get_breakpoint(number)
        bp.enabled = enabled
        if not enabled:
            self._uninstall(bp)
        elif self._live() and not bp.installed:
            self._install(bp)

    def set_condition(self, number: int, cond: str | None) -> None:
        """Stop at breakpoint ``number`` only when ``cond`` is true (``None``: always)."""
        bp = self.get_breakpoint(number)
        bp.cond_node = self.parse(cond) if cond else None
        bp.cond = cond or None
        bp.cond_error = None

    def set_ignore(self, number: int, count: int) -> None:
        """Pass breakpoint ``number`` ``count`` times before stopping."""
        if count < 0:
            raise DebugError("an ignore count cannot be negative")
        self.get_breakpoint(number).ignore = count

    @property
    def next_breakpoint_number(self) -> int:
        """The number the next breakpoint added will get."""
        return self._next_number

    def _live(self) -> bool:
        return self.session is not None and self.session.state.name in ("RUNNING", "PAUSED", "NOT_STARTED")

    def _install(self, bp: UserBreakpoint) -> None:
        """Put ``bp`` into the running session.

        NB: each placed breakpoint is recorded where the session makes the
        edit, before the guest can hit it: a stop at it is then known as
        ``bp``'s even when the front end handles stops on another thread.
        """
        session = self.session
        if session is None or not bp.enabled:
            return

        def record(placed: Breakpoint) -> None:
            bp.installed.append(placed)
            self._by_session[placed.number] = bp

        for pc in bp.pcs:
            session.set_break(self.module, pc, cond=self._condition(bp), placed=record)

    def _uninstall(self, bp: UserBreakpoint) -> None:
        session = self.session
        for placed in bp.installed:
            self._by_session.pop(placed.number, None)
            if session is not None and not placed.deleted:
                session.clear_break(placed.number)
        bp.installed = []

    def _condition(self, bp: UserBreakpoint) -> Callable[[Any], bool]:
        def hit(frame: Any) -> bool:
            # NB: runs on the guest thread, inside the session's stop decision.
            if not bp.enabled:
                return False
            if bp.cond_node is not None:
                try:
                    if not self.truth(self.eval_node(bp.cond_node, frame)):
                        return False
                    bp.cond_error = None
                except Exception as exc:  # a broken condition stops, as in gdb
                    bp.cond_error = str(exc)
                    return True
            bp.hits += 1
            if bp.ignore > 0:
                bp.ignore -= 1
                return False
            return True

        return hit

    # -- running ----------------------------------------------------------------

    def start(self, launch: Launch) -> Outcome:
        """Begin a run on ``launch`` (ending a live one) and wait for its first stop."""
        self.kill()
        self.launch = launch
        self.session = Session(launch.store, stop_on_entry=False, stop_on_traps=True)
        self._by_session.clear()
        for bp in self.breakpoints:
            bp.installed = []
            self._install(bp)
        # NB: the guest thread inherits this thread's signal mask: with SIGINT
        # blocked while it is created, Ctrl-C always lands on the front end's
        # thread.  Taking it there interrupts the blocking wait in _wait, whose
        # handler pauses the guest.  Taken by the guest thread (machine code
        # copes with that, tests/runtime/test_signals.py), it wakes nobody:
        # KeyboardInterrupt would surface later at whatever bytecode the front
        # end is running, outside that handler, and the guest would run on.
        session = self.session
        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                session.start(launch.entry)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a pending Ctrl-C fires here
        except KeyboardInterrupt:
            if session.state.name == "NOT_STARTED":
                raise
            session.pause()
        return self._wait()

    def kill(self) -> None:
        """End the live run, if any."""
        session = self.session
        if session is None:
            return
        session.close(timeout=5.0)
        self.session = None
        for bp in self.breakpoints:
            bp.installed = []
        self._by_session.clear()
        self._internal = []

    @property
    def paused(self) -> bool:
        """True while a run is paused."""
        return self.session is not None and self.session.state.name == "PAUSED"

    def _require_paused(self) -> Session:
        if self.session is None or self.session.state.name == "EXITED":
            raise DebugError("The program is not being run.")
        if self.session.state.name != "PAUSED":
            raise DebugError("The program is running.")
        return self.session

    def frames(self) -> list[Any]:
        """The paused guest's Wasm frames, innermost first."""
        if not self.paused or self.session is None or self.session.current is None:
            return []
        return list(self.session.current.frames)

    def stack(self) -> list[SourceFrame]:
        """The paused guest's source frames, innermost first (inlined calls expanded)."""
        current = self.session.current if self.session is not None and self.paused else None
        if current is None:
            return []
        if self._stack_cache is not None and self._stack_cache[0] is current:
            return self._stack_cache[1]
        out: list[SourceFrame] = []
        for i, frame in enumerate(current.frames):
            out.extend(source_frames(self.info, frame, innermost=i == 0, names=self.function_name))
        self._stack_cache = (current, out)
        return out

    def cont(self) -> Outcome:
        """Continue until a breakpoint, a trap or the exit."""
        self._require_paused().cont()
        return self._wait()

    def stepi(self) -> Outcome:
        """Run one Wasm instruction, entering calls."""
        self._require_paused().step_into()
        return self._wait()

    def nexti(self) -> Outcome:
        """Run one Wasm instruction, stepping over calls."""
        self._require_paused().step_over()
        return self._wait()

    def finish(self, level: int = 0) -> Outcome:
        """Run until frame ``level`` returns to its caller; FINISH carries the returned values."""
        self._require_paused()
        return self._finish_frames(self.frames(), level)

    def _finish_frames(self, frames: Sequence[Any], level: int) -> Outcome:
        session = self._require_paused()
        if level + 1 >= len(frames):
            raise DebugError('"finish" not meaningful in the outermost frame.')
        callee, caller = frames[level], frames[level + 1]
        func = callee.func_index
        self._return_breakpoint(caller)
        session.cont()
        outcome = self._wait(internal=PauseReason.FINISH)
        if isinstance(outcome, Paused) and outcome.reason == PauseReason.FINISH:
            results = self.mdef.func_type(func).results
            frame = outcome.frames[0]
            stack = frame.stack
            values = []
            for i, ty in enumerate(results):
                k = len(stack) - len(results) + i
                values.append(WasmValue(stack[k], VALTYPE_MEM[ty], ListPlace(stack, k)))
            return Paused(PauseReason.FINISH, outcome.frames, returned=tuple(values), finished=func)
        return outcome

    def advance(self, spec: str, level: int = 0) -> Outcome:
        """Run until ``spec`` is reached, or the frame at ``level`` returns."""
        session = self._require_paused()
        frames = self.frames()
        pcs = self.resolve(spec, frames[level] if frames else None)
        for pc in pcs:
            self._internal.append(session.set_break(self.module, pc))
        if level + 1 < len(frames):
            self._return_breakpoint(frames[level + 1])
        session.cont()
        return self._wait(internal=PauseReason.LOCATION)

    # -- source-level run control -------------------------------------------------

    def step_line(self, *, into: bool, until: bool = False) -> Outcome:
        """Run to the start of another source line (gdb's step / next / until).

        ``into`` enters calls that have line information (stopping after
        their prologue); calls without it, and (for next) every call and
        inlined call, are run through.  ``until`` also runs on when the line
        reached lies before the current pc in the same frame (a loop's
        jump back).  A frame that returns stops at the next line start of
        its caller.  Without line information at the pc, runs until the
        function returns (as gdb does).
        """
        session = self._require_paused()
        info = self.info
        frames = self.frames()
        top = frames[0]
        if info is None or info.function_at(int(top.pc)) is None:
            if len(frames) > 1:
                return self.finish(0)
            session.cont()
            return self._wait()
        fp0 = top.fp
        start_pc = int(top.pc)
        depth0 = self._inline_depth(start_pc)
        line0 = self.line_of(start_pc)
        while True:
            if not into and depth0 == 0:
                # next / until outside inlined code: run to the stops at full speed.
                outcome = self._run_over_line(frames, fp0, line0, start_pc, until)
                if not isinstance(outcome, Paused) or outcome.reason != PauseReason.STEP:
                    return outcome
                frames = list(outcome.frames)
                frame = frames[0]
                if frame.fp <= fp0:  # a line stop in the stepping frame
                    return outcome
                pc = int(frame.pc)
                func = info.function_at(pc)
                if func is None or self._starts_line(pc):  # returned to a line start
                    return outcome
                fp0, start_pc = frame.fp, pc
                depth0, line0 = self._inline_depth(pc), self.line_of(pc)
                continue
            if into:
                session.step_into()
            else:
                session.step_over()
            outcome = self._wait()
            if not isinstance(outcome, Paused) or outcome.reason != PauseReason.STEP:
                return outcome
            frame = outcome.frames[0]
            pc = int(frame.pc)
            func = info.function_at(pc)
            if frame.fp < fp0:  # entered a call (step only)
                if func is not None:
                    return self._run_to_in_frame(func.breakpoint_pc, frame)
                outcome = self._finish_frames(outcome.frames, 0)
                if not isinstance(outcome, Paused) or outcome.reason != PauseReason.FINISH:
                    return outcome
                continue
            depth = self._inline_depth(pc) if func is not None else 0
            starts = func is not None and self._starts_line(pc)
            here = self.line_of(pc)
            if frame.fp > fp0:  # the frame returned: finish the caller's line
                if func is None or starts:
                    return Paused(PauseReason.STEP, outcome.frames)
                fp0, depth0, line0, start_pc = frame.fp, depth, here, pc
                continue
            if not starts or (here == line0 and depth == depth0):
                if depth < depth0:
                    depth0, line0 = depth, here
                continue
            if depth > depth0 and not into:
                continue
            if until and pc < start_pc and depth == depth0:
                continue
            return Paused(PauseReason.STEP, outcome.frames)

    def _run_over_line(
        self, frames: Sequence[Any], fp0: int, line0: tuple[str, int] | None, start_pc: int, until: bool
    ) -> Outcome:
        """``next`` (``until``) from outside inlined code, as one continue.

        Stepping instruction by instruction (the loop in :meth:`step_line`)
        stops in the stepping frame at exactly the pcs that start an is_stmt
        row of another line, outside inlined code (for ``until``: not before
        ``start_pc``), and otherwise where the frame returns to its caller.
        Those are all known before running, so internal breakpoints go there
        (conditioned on the frame pointer: a recursive call of the same
        function runs through) plus the caller's return point, and the
        guest continues; the caller judges a return as the loop would.
        """
        session = self._require_paused()
        info = self.info
        assert info is not None
        func = info.function_at(int(frames[0].pc))
        assert func is not None
        pcs: set[int] = set()
        for lo, hi in func.ranges or ((func.low_pc, func.high_pc),):
            for row in info.line_rows(lo, hi):
                pc = row.pc
                if not row.is_stmt or row.line <= 0 or row.end_sequence or pc in pcs:
                    continue
                if info.line_at(pc) != row or self.line_of(pc) == line0:
                    continue  # a later row at the same pc wins, as line_at says
                if until and pc < start_pc:
                    continue
                if self._inline_depth(pc) != 0:
                    continue
                pcs.add(pc)

        def same_frame(frame: Any) -> bool:
            return bool(frame.fp == fp0)

        places: list[tuple[int, Any]] = [(pc, same_frame) for pc in sorted(pcs)]
        if len(frames) > 1:
            caller_fp = frames[1].fp
            places.append((self.next_pc(frames[1].pc), lambda frame: frame.fp == caller_fp))
        self._internal.extend(session.set_breaks(self.module, places))
        session.cont()
        return self._wait(internal=PauseReason.STEP)

    def _starts_line(self, pc: int) -> bool:
        assert self.info is not None
        row = self.info.line_at(pc)
        return row is not None and row.pc == pc and row.is_stmt and row.line > 0

    def _inline_depth(self, pc: int) -> int:
        assert self.info is not None
        func = self.info.function_at(pc)
        return len(func.inline_chain(pc)) if func is not None else 0

    def _run_to_in_frame(self, pc: int, frame: Any) -> Outcome:
        """Continue to ``pc`` in the frame ``frame`` (its fp), e.g. past a prologue."""
        session = self._require_paused()
        if int(frame.pc) == pc:
            return Paused(PauseReason.STEP, self.frames())
        fp = frame.fp
        self._internal.append(session.set_break(self.module, pc, cond=lambda f: f.fp == fp))
        session.cont()
        outcome = self._wait(internal=PauseReason.STEP)
        return outcome

    def finish_source(self, level: int) -> Outcome:
        """Finish source frame ``level``: an inlined call runs to its end, a
        function returns (FINISH with its value typed by DWARF)."""
        stack = self.stack()
        if not 0 <= level < len(stack):
            raise DebugError("No frame at that level.")
        sframe = stack[level]
        if sframe.depth > 0:
            return self._finish_inline(sframe)
        frames = self.frames()
        index = next(i for i, f in enumerate(frames) if f is sframe.wasm)
        outcome = self.finish(index)
        if isinstance(outcome, Paused) and outcome.reason == PauseReason.FINISH and sframe.function is not None:
            rtype = self.return_type(sframe.function)
            if rtype is None:
                return Paused(PauseReason.FINISH, outcome.frames, finished=outcome.finished)
            returned = outcome.returned
            if len(returned) == 1:
                value = wasm_to_c(returned[0], rtype)
                return Paused(PauseReason.FINISH, outcome.frames, returned=(value,), finished=outcome.finished)  # type: ignore[arg-type]
        return outcome

    def _finish_inline(self, sframe: SourceFrame) -> Outcome:
        session = self._require_paused()
        fp0 = sframe.wasm.fp
        depth = sframe.depth
        while True:
            session.step_over()
            outcome = self._wait()
            if not isinstance(outcome, Paused) or outcome.reason != PauseReason.STEP:
                return outcome
            frame = outcome.frames[0]
            if frame.fp != fp0 or self._inline_depth(int(frame.pc)) < depth:
                return Paused(PauseReason.FINISH, outcome.frames)

    def return_type(self, func: Any) -> CType | None:
        """A DWARF function's return type (``None`` for void or unknown)."""
        info = self.info
        if info is None:
            return None
        try:
            die = info.dwarf.get_DIE_from_refaddr(func.die_offset)
            unit = next(u for u in info.units if u.cu.cu_offset <= func.die_offset < u.cu.cu_offset + u.cu.size)
            while "DW_AT_type" not in die.attributes:
                origin = die.attributes.get("DW_AT_abstract_origin") or die.attributes.get("DW_AT_specification")
                if origin is None:
                    return None
                die = die.get_DIE_from_attribute(origin.name)
            ctype: CType = unit.types.type_of(die)
        except (StopIteration, WasmError, KeyError, AttributeError):
            return None
        return ctype

    def _return_breakpoint(self, caller: Any) -> None:
        """An internal breakpoint where ``caller``'s pending call returns, in that frame only."""
        assert self.session is not None
        target_fp = caller.fp
        resume_pc = self.next_pc(caller.pc)
        placed = self.session.set_break(self.module, resume_pc, cond=lambda frame: frame.fp == target_fp)
        self._internal.append(placed)

    def _clear_internal(self) -> None:
        session = self.session
        numbers = [placed.number for placed in self._internal if not placed.deleted]
        if session is not None and numbers and session.state.name != "EXITED":
            session.clear_breaks(numbers)
        self._internal = []

    def wait(self) -> Outcome:
        """The next outcome of the run under way (after a kill: its end)."""
        return self._wait()

    def _wait(self, internal: PauseReason | None = None) -> Outcome:
        session = self.session
        if session is None:
            raise DebugError("The program is not being run.")
        internal_numbers = {bp.number for bp in self._internal}
        while True:
            try:
                event = session.wait(timeout=0.1)
            except KeyboardInterrupt:
                session.pause()
                continue
            if event is None:
                continue
            if isinstance(event, Exited):
                self._clear_internal()
                return _ended(event)
            outcome = self._paused(event, internal, internal_numbers)
            if outcome is None:
                session.cont()
                continue
            self._clear_internal()
            return outcome

    def _paused(
        self, event: Stopped, internal: PauseReason | None, internal_numbers: set[int]
    ) -> Paused | None:
        """What a stop means to the user (None: run on)."""
        stop = event.stop
        frames = list(stop.frames)
        reason = stop.reason
        if reason == StopReason.HOST_ERROR:
            exc = stop.event.exception
            if type(exc).__name__ == "ExitTrap":
                return None  # proc_exit: the guest is leaving, not failing
            return Paused(PauseReason.HOST_ERROR, frames, error=exc)
        if reason == StopReason.TRAP:
            return Paused(PauseReason.TRAP, frames, error=stop.event.trap)
        if reason == StopReason.INTERRUPTED:
            return Paused(PauseReason.INTERRUPTED, frames)
        if reason == StopReason.BREAKPOINT and stop.breakpoint is not None:
            number = stop.breakpoint.number
            user = self._by_session.get(number)
            if user is not None:
                if user.temporary:
                    self.delete_breakpoint(user.number)
                return Paused(PauseReason.BREAKPOINT, frames, breakpoint=user)
            if number in internal_numbers and internal is not None:
                return Paused(internal, frames)
        if reason.name == "ENTRY":
            return None
        return Paused(PauseReason.STEP, frames)

    # -- values -------------------------------------------------------------------

    def evaluate(self, text: str, frame: Any) -> Any:
        """Evaluate ``text`` in a source frame (C values) or a Wasm frame (Wasm values)."""
        return self.eval_node(self.parse(text), frame)

    @staticmethod
    def truth(value: Any) -> bool:
        """C truth of a value."""
        if isinstance(value, cv.CValue):
            return bool(cv.scalar_of(value))
        return bool(value.value)

    def c_frame(self, frame: Any) -> SourceFrame | None:
        """The source frame to evaluate C in, for a Wasm or source frame (None: Wasm level)."""
        if self.info is None:
            return None
        if isinstance(frame, SourceFrame):
            return frame if frame.function is not None else None
        if frame is None:
            return None
        top = source_frames(self.info, frame, innermost=True)[0]
        return top if top.function is not None else None

    def eval_node(self, node: ex.Node, frame: Any) -> Any:
        """Evaluate a parsed expression: C over DWARF when the frame has it, else Wasm values."""
        sframe = self.c_frame(frame)
        if sframe is not None or (self.info is not None and frame is None):
            return cv.CEvaluator(CFrameContext(self, sframe)).eval(node)
        wasm = frame.wasm if isinstance(frame, SourceFrame) else frame
        return _WasmEval(self, wasm).eval(node)

    def parse(self, text: str) -> ex.Node:
        """Parse an expression (DebugError on bad syntax)."""
        types = self.named_types() if self.info is not None else {}
        names = {w[0] for w in types if len(w) == 1}
        return ex.parse_expression(text, lambda word: word in names)

    def named_types(self) -> dict[tuple[str, ...], CType]:
        """Types named at file scope: typedefs (``("Point",)``), tags (``("struct", "point")``)."""
        if self._types is not None:
            return self._types
        found: dict[tuple[str, ...], CType] = {}
        info = self.info
        if info is not None:
            tags = {"DW_TAG_typedef": None, "DW_TAG_structure_type": "struct",
                    "DW_TAG_union_type": "union", "DW_TAG_enumeration_type": "enum"}
            for unit in info.units:
                try:
                    for die in unit.top.iter_children():
                        if die.tag not in tags or "DW_AT_name" not in die.attributes:
                            continue
                        name = die.attributes["DW_AT_name"].value
                        name = name.decode() if isinstance(name, bytes) else str(name)
                        prefix = tags[die.tag]
                        key = (prefix, name) if prefix else (name,)
                        if key not in found or getattr(found[key], "declaration", False):
                            found[key] = unit.types.read(die)
                except Exception:  # NB: types are a nicety; broken DWARF must not break print
                    continue
        self._types = found
        return found

    def global_values(self, frame: Any) -> list[Any]:
        """The raw values of the frame's instance's globals."""
        store = self.launch.store if self.launch is not None else None
        return [g.value(store) for g in getattr(frame.instance, "globals", [])]

    def global_place(self, frame: Any, index: int) -> WasmValue:
        """Global ``index`` as a writable Wasm value."""
        return self._global(frame, index)

    def function_for_table_index(self, index: int, frame: Any) -> str | None:
        """The name of the function at ``index`` of table 0 (a C function pointer)."""
        frames = self.frames()
        frame = frame or (frames[0] if frames else None)
        if frame is None or self.launch is None:
            return None
        tables = getattr(frame.instance, "tables", None)
        if not tables:
            return None
        try:
            func = tables[0].get(self.launch.store, index)
        except Exception:
            return None
        func_index = getattr(func, "func_index", None)
        return self.function_name(func_index) if isinstance(func_index, int) else None

    def lookup(self, name: str, frame: Any) -> WasmValue:
        """A Wasm-level name: a local (named or ``$localN``), ``$globalN``, ``$pc``, ``$N``."""
        if isinstance(frame, SourceFrame):
            frame = frame.wasm
        if frame is None and not (name.startswith("$") and name[1:].isdigit()):
            raise DebugError(f'No symbol "{name}" in current context.')
        if name.startswith("$"):
            return self.dollar_value(name, frame)
        for index, known in self.local_names(frame.func_index).items():
            if known == name and index < len(frame.locals):
                return self.local_value(frame, index)
        raise DebugError(f'No symbol "{name}" in current context.')

    def local_value(self, frame: Any, index: int) -> WasmValue:
        """Local ``index`` of Wasm frame ``frame`` as a writable value."""
        types = frame.locals.types()
        return WasmValue(frame.locals[index], VALTYPE_MEM[types[index]], ListPlace(frame.locals, index))

    def dollar_value(self, name: str, frame: Any) -> WasmValue:
        """CFrameContext-facing: what ``$name`` means in ``frame`` (history, locals, globals ...)."""
        body = name[1:]
        if body == "" or body.isdigit() or ((body.startswith("$") and body[1:].isdigit()) or body == "$"):
            return self.history_value(body)
        for prefix in ("local", "l"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                index = int(body[len(prefix):])
                if index >= len(frame.locals):
                    raise DebugError(f"{name}: the function has {len(frame.locals)} locals")
                return self.local_value(frame, index)
        for prefix in ("global", "g"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                return self._global(frame, int(body[len(prefix):]))
        for prefix in ("stack", "s"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                index = int(body[len(prefix):])
                stack = frame.stack
                if index >= len(stack):
                    raise DebugError(f"{name}: the operand stack holds {len(stack)} values")
                return WasmValue(stack[index], VALTYPE_MEM[stack.types()[index]], ListPlace(stack, index))
        if body == "pc":
            return WasmValue(frame.pc, "u32")
        raise DebugError(f"unknown convenience name {name}")

    def _global(self, frame: Any, index: int) -> WasmValue:
        globals_ = getattr(frame.instance, "globals", [])
        if index >= len(globals_):
            raise DebugError(f"there is no global {index} ({len(globals_)} globals)")
        glob = globals_[index]
        store = self.launch.store if self.launch is not None else None
        ty = glob.type(store).content
        mtype = VALTYPE_MEM.get(ty.wasm_type) or _mtype_of_api(ty)
        return WasmValue(glob.value(store), mtype, GlobalPlace(glob, store))

    def history_value(self, body: str) -> WasmValue:
        """Value-history entry ``$`` + ``body`` (``$``: the last, ``$N``, ``$$N``: N back)."""
        if not self.history:
            raise DebugError("History is empty.")
        if body == "":
            index = len(self.history)
        elif body == "$":
            index = len(self.history) - 1
        elif body.startswith("$"):
            index = len(self.history) - int(body[1:])
        else:
            index = int(body)
        if not 1 <= index <= len(self.history):
            raise DebugError(f"History has not yet reached ${index}.")
        value: WasmValue = self.history[index - 1]
        return value

    def record(self, value: Any) -> int:
        """Keep ``value`` in the value history; returns its ``$N`` number."""
        self.history.append(value)
        return len(self.history)

    def memory_view(self, frame: Any) -> memoryview:
        """Memory 0 of the frame's instance (DebugError when there is none)."""
        if isinstance(frame, SourceFrame):
            frame = frame.wasm
        if frame is None:
            frames = self.frames()
            frame = frames[0] if frames else None
            if frame is None:
                return self.static_memory()
        view = frame.memory if frame is not None else None
        if view is None:
            raise DebugError("the module has no linear memory")
        mem: memoryview = view
        return mem

    def static_memory(self) -> memoryview:
        """Memory 0 as the module starts it (active data segments over zeros), read-only.

        What ``print`` of a global reads before ``run``, as gdb reads a
        program's initialised data from the file.
        """
        if self._static is None:
            memories = self.mdef.memories
            if not memories:
                raise DebugError("the module has no linear memory")
            image = bytearray(int(memories[0].limits.min) * 65536)
            for seg in self.mdef.datas:
                expr = seg.offset_expr
                if int(seg.mode) != 0 or seg.memory != 0 or expr is None or len(expr.instrs) != 1:
                    continue
                op, imm = expr.instrs[0]
                if op not in (0x41, 0x42) or not isinstance(imm, int):  # i32.const / i64.const
                    continue
                start = imm & 0xFFFF_FFFF
                if start + len(seg.data) <= len(image):
                    image[start : start + len(seg.data)] = seg.data
            self._static = memoryview(bytes(image))
        return self._static

    def read_memory(self, frame: Any, address: int, size: int) -> bytes:
        """Bytes of linear memory."""
        return read_memory(self.memory_view(frame), address, size)


def _mtype_of_api(ty: Any) -> str:
    text = str(ty)
    for name in ("i32", "i64", "f32", "f64"):
        if name in text:
            return name
    raise DebugError(f"global of type {text} cannot be shown")


def _parse_int(text: str) -> int:
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise DebugError(f"bad address {text.strip()!r}") from None


def _ended(event: Exited) -> Ended:
    error = event.error
    code = getattr(event, "exit_code", None)
    if code is None and error is not None and type(error).__name__ == "ExitTrap":
        code = int(getattr(error, "code", 0))
    if code is not None:
        return Ended(exit_code=code)
    return Ended(result=event.result, error=error)


class _WasmEval:
    """Expression evaluation over Wasm values (ints wrap to their type, C-like arithmetic)."""

    def __init__(self, debugger: SourceDebugger, frame: Any) -> None:
        self.dbg = debugger
        self.frame = frame

    def eval(self, node: ex.Node) -> WasmValue:
        method: Callable[[Any], WasmValue] = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _number(self, node: ex.Number) -> WasmValue:
        if isinstance(node.value, float):
            return WasmValue(node.value, "f64")
        if node.is_char:
            return WasmValue(node.value, "i8")
        return WasmValue(node.value, "i32" if -(1 << 31) <= node.value < (1 << 31) else "i64")

    def _str(self, node: ex.Str) -> WasmValue:
        raise DebugError("string literals need a program to hold them")

    def _name(self, node: ex.Name) -> WasmValue:
        return self.dbg.lookup(node.name, self.frame)

    def _memory(self, address: int, mtype: str) -> WasmValue:
        view = self.dbg.memory_view(self.frame)
        code, size, _f, _s = MEMTYPES[mtype]
        raw = read_memory(view, address, size)
        value = struct.unpack("<" + code, raw)[0]
        return WasmValue(value, mtype, MemoryPlace(lambda: self.dbg.memory_view(self.frame), address, mtype))

    def _cast(self, node: ex.Cast) -> WasmValue:
        inner = self.eval(node.operand)
        if node.at_address:
            return self._memory(int(inner.value), memtype_of(node.type.words, node.type.pointers))
        mtype = memtype_of(node.type.words, node.type.pointers)
        return _convert(inner, mtype)

    def _unary(self, node: ex.Unary) -> WasmValue:
        if node.op == "sizeof":
            if isinstance(node.operand, ex.Cast):
                return WasmValue(MEMTYPES[memtype_of(node.operand.type.words, node.operand.type.pointers)][1], "u32")
            return WasmValue(self.eval(node.operand).size, "u32")
        value = self.eval(node.operand)
        if node.op == "*":
            return self._memory(int(value.value), "i32")
        if node.op == "&":
            if isinstance(value.place, MemoryPlace):
                return WasmValue(value.place.address, "u32")
            raise DebugError("Attempt to take address of value not located in memory.")
        if node.op == "-":
            return _arith(value, "-", None)
        if node.op == "+":
            return value
        if node.op == "!":
            return WasmValue(int(not value.value), "i32")
        if node.op == "~":
            if value.is_float:
                raise DebugError("Argument to complement operation not an integer")
            return WasmValue(wrap(~int(value.value), value.mtype), value.mtype)
        raise DebugError(f"unknown operator {node.op}")

    def _binary(self, node: ex.Binary) -> WasmValue:
        if node.op == "=":
            target = self.eval(node.left)
            value = self.eval(node.right)
            if target.place is None:
                raise DebugError("Left operand of assignment is not an lvalue.")
            converted = _convert(value, target.mtype)
            target.place.write(converted.value)
            return WasmValue(converted.value, target.mtype, target.place)
        if node.op == "&&":
            left = self.eval(node.left)
            return WasmValue(int(bool(left.value) and bool(self.eval(node.right).value)), "i32")
        if node.op == "||":
            left = self.eval(node.left)
            return WasmValue(int(bool(left.value) or bool(self.eval(node.right).value)), "i32")
        return _arith(self.eval(node.left), node.op, self.eval(node.right))

    def _conditional(self, node: ex.Conditional) -> WasmValue:
        return self.eval(node.then) if self.eval(node.test).value else self.eval(node.other)

    def _index(self, node: ex.Index) -> WasmValue:
        raise DebugError("indexing needs type information (DWARF); use {type} ADDR or x/")

    def _member(self, node: ex.Member) -> WasmValue:
        raise DebugError("members need type information (DWARF)")


def _convert(value: WasmValue, mtype: str) -> WasmValue:
    if MEMTYPES[mtype][2]:
        v = float(value.value)
        if mtype == "f32":
            v = struct.unpack("<f", struct.pack("<f", v))[0] if math.isfinite(v) else v
        return WasmValue(v, mtype)
    if value.is_float:
        if not math.isfinite(float(value.value)):
            raise DebugError("cannot convert a non-finite float to an integer")
        return WasmValue(wrap(int(value.value), mtype), mtype)
    return WasmValue(wrap(int(value.value), mtype), mtype)


def _arith(left: WasmValue, op: str, right: WasmValue | None) -> WasmValue:
    if right is None:
        if left.is_float:
            return WasmValue(-float(left.value), left.mtype)
        return WasmValue(wrap(-int(left.value), left.mtype), left.mtype)
    if left.is_float or right.is_float:
        mtype = "f64" if "f64" in (left.mtype, right.mtype) or not (left.is_float and right.is_float) else "f32"
        a, b = float(left.value), float(right.value)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return WasmValue(int(_compare(a, op, b)), "i32")
        if op == "+":
            r = a + b
        elif op == "-":
            r = a - b
        elif op == "*":
            r = a * b
        elif op == "/":
            r = a / b if b else (math.copysign(math.inf, a) if a else math.nan)
        else:
            raise DebugError(f"Integer only operation {op}.")
        return _convert(WasmValue(r, "f64"), mtype)
    size = max(left.size, right.size, 4)
    unsigned = any(not MEMTYPES[v.mtype][3] and v.size >= size for v in (left, right))
    mtype = {4: "i32", 8: "i64"}[size]
    if unsigned:
        mtype = "u" + mtype[1:]
    a, b = wrap(int(left.value), mtype), wrap(int(right.value), mtype)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return WasmValue(int(_compare(a, op, b)), "i32")
    if op in ("/", "%"):
        if b == 0:
            raise DebugError("Division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        r = q if op == "/" else a - q * b
    elif op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "<<":
        r = a << (b & (size * 8 - 1))
    elif op == ">>":
        r = a >> (b & (size * 8 - 1))
    elif op == "&":
        r = a & b
    elif op == "|":
        r = a | b
    elif op == "^":
        r = a ^ b
    else:
        raise DebugError(f"unknown operator {op}")
    return WasmValue(wrap(r, mtype), mtype)


def _compare(a: float, op: str, b: float) -> bool:
    return {
        "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
    }[op]


def iter_values(values: Any) -> Iterator[tuple[int, Any]]:
    """``(index, value or the DebugError)`` for each value of a frame's list."""
    for i in range(len(values)):
        try:
            yield i, values[i]
        except DebugError as exc:
            yield i, exc


