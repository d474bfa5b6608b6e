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

Operations stop early, like gdb, at a user breakpoint or a trap.  A
``proc_exit`` (WASI's exit, raised by a host function) is not a stop: the
guest runs on to its exit.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..errors import DebugError
from ..wasm.code import iter_raw
from ..wasm.types import ValType
from . import expr as ex
from .breakpoints import Breakpoint
from .debugger import StopReason
from .session import Exited, Session, Stopped

__all__ = [
    "Ended",
    "Launch",
    "PauseReason",
    "Paused",
    "SourceDebugger",
    "UserBreakpoint",
    "WasmValue",
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
# Wasm-level values

#: Memory types for ``{T} addr`` and casts: (struct code, size, is_float, signed).
_MEMTYPES: dict[str, tuple[str, int, bool, bool]] = {
    "i8": ("b", 1, False, True),
    "u8": ("B", 1, False, False),
    "i16": ("h", 2, False, True),
    "u16": ("H", 2, False, False),
    "i32": ("i", 4, False, True),
    "u32": ("I", 4, False, False),
    "i64": ("q", 8, False, True),
    "u64": ("Q", 8, False, False),
    "f32": ("f", 4, True, True),
    "f64": ("d", 8, True, True),
}

#: C spellings of the same (wasm32: ``long`` and pointers are 4 bytes).
_C_NAMES = {
    "char": "i8", "signed char": "i8", "unsigned char": "u8", "_Bool": "u8", "bool": "u8",
    "short": "i16", "short int": "i16", "unsigned short": "u16", "unsigned short int": "u16",
    "int": "i32", "signed": "i32", "signed int": "i32", "unsigned": "u32", "unsigned int": "u32",
    "long": "i32", "long int": "i32", "unsigned long": "u32", "unsigned long int": "u32",
    "long long": "i64", "long long int": "i64", "unsigned long long": "u64",
    "unsigned long long int": "u64", "float": "f32", "double": "f64",
}

_VALTYPE_MEM = {ValType.I32: "i32", ValType.I64: "i64", ValType.F32: "f32", ValType.F64: "f64"}


def memtype_of(words: Sequence[str], pointers: int = 0) -> str:
    """The memory type named by type words (``i32``, ``unsigned int`` ...); pointers are u32."""
    if pointers:
        return "u32"
    text = " ".join(words)
    name = _C_NAMES.get(text, text)
    if name not in _MEMTYPES:
        raise DebugError(f"no type named {text!r} at the Wasm level")
    return name


def wrap(value: int, mtype: str) -> int:
    """``value`` wrapped to the width and signedness of an integer memory type."""
    _code, size, _is_float, signed = _MEMTYPES[mtype]
    bits = size * 8
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


class Place:
    """Where a value can be written (an lvalue)."""

    def write(self, value: int | float) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class ListPlace(Place):
    """Element ``index`` of a frame's ``locals`` or ``stack``."""

    values: Any
    index: int

    def write(self, value: int | float) -> None:
        self.values[self.index] = value


@dataclass(frozen=True)
class GlobalPlace(Place):
    """A global of an instance."""

    glob: Any
    store: Any

    def write(self, value: int | float) -> None:
        try:
            self.glob.set_value(self.store, value)
        except Exception as exc:
            raise DebugError(f"cannot set the global: {exc}") from exc


@dataclass(frozen=True)
class MemoryPlace(Place):
    """``mtype`` bytes at ``address`` of a linear memory."""

    memory: Callable[[], memoryview]
    address: int
    mtype: str

    def write(self, value: int | float) -> None:
        code, _size, is_float, _signed = _MEMTYPES[self.mtype]
        data = struct.pack("<" + code, float(value) if is_float else wrap(int(value), self.mtype))
        write_memory(self.memory(), self.address, data)


def read_memory(view: memoryview, address: int, size: int) -> bytes:
    """``size`` bytes of linear memory at ``address`` (DebugError when out of bounds)."""
    if address < 0 or address + size > len(view):
        raise DebugError(f"cannot access memory at address 0x{address:x}")
    return bytes(view[address : address + size])


def write_memory(view: memoryview, address: int, data: bytes) -> None:
    """Write ``data`` to linear memory at ``address``."""
    if address < 0 or address + len(data) > len(view):
        raise DebugError(f"cannot access memory at address 0x{address:x}")
    view[address : address + len(data)] = data


@dataclass(frozen=True)
class WasmValue:
    """A value at the Wasm level: a number of memory type ``mtype``, maybe writable."""

    value: int | float
    mtype: str
    place: Place | None = field(default=None, compare=False)

    @property
    def is_float(self) -> bool:
        """True for f32 / f64."""
        return _MEMTYPES[self.mtype][2]

    @property
    def size(self) -> int:
        """The width in bytes."""
        return _MEMTYPES[self.mtype][1]


def format_float(value: float, mtype: str) -> str:
    """A float the way gdb prints it (shortest text that reads back; ``inf``, ``nan(0x..)``)."""
    if math.isnan(value):
        bits = struct.unpack("<Q", struct.pack("<d", value))[0] & ((1 << 52) - 1)
        if mtype == "f32":
            bits = struct.unpack("<I", struct.pack("<f", value))[0] & ((1 << 23) - 1)
        return ("-" if math.copysign(1, value) < 0 else "") + f"nan(0x{bits:x})"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if mtype == "f32":
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                return text
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def format_scalar(value: int | float, mtype: str, fmt: str | None = None) -> str:
    """One number in a gdb print format: ``x d u o t c f`` or ``None`` (natural)."""
    _code, size, is_float, signed = _MEMTYPES[mtype]
    if fmt in (None, "f") and is_float:
        return format_float(float(value), mtype)
    if fmt == "f" and not is_float:
        return str(value)
    if is_float:
        if fmt == "d":
            return str(int(value))
        bits = int.from_bytes(struct.pack("<" + _MEMTYPES[mtype][0], value), "little")
        value, signed = bits, False
    ivalue = int(value)
    mask = (1 << (size * 8)) - 1
    if fmt is None or fmt == "d":
        return str(wrap(ivalue, mtype) if signed or fmt == "d" else ivalue)
    if fmt == "u":
        return str(ivalue & mask)
    if fmt == "x":
        return f"0x{ivalue & mask:x}"
    if fmt == "o":
        return f"0{ivalue & mask:o}" if ivalue & mask else "0"
    if fmt == "t":
        return f"{ivalue & mask:b}"
    if fmt == "c":
        code = wrap(ivalue, "i8")
        return f"{code} {char_literal(code & 0xFF)}"
    if fmt == "a":
        return f"0x{ivalue & mask:x}"
    raise DebugError(f"undefined output format {fmt!r}")


def char_literal(byte: int) -> str:
    """``'a'``, ``'\\n'``, ``'\\377'`` as gdb shows a char."""
    names = {0: "\\000", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
             39: "\\'", 92: "\\\\"}
    if byte in names:
        return f"'{names[byte]}'"
    if 32 <= byte < 127:
        return f"'{chr(byte)}'"
    return f"'\\{byte:03o}'"


def c_string(data: bytes, limit: int = 200) -> str:
    """``"text"`` with C escapes, ``...`` when cut at ``limit``."""
    out = []
    for b in data[:limit]:
        if b == 34:
            out.append('\\"')
        elif b == 92:
            out.append("\\\\")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            lit = char_literal(b)[1:-1]
            out.append(lit if lit != "'" else "'")
    text = '"' + "".join(out) + '"'
    return text + ("..." if len(data) > limit else "")


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
        self._next_number = 1
        self._by_session: dict[int, UserBreakpoint] = {}
        self._internal: list[Breakpoint] = []
        self.history: list[Any] = []

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
        func = self.function_index(spec)
        if func < self.mdef.num_imported_funcs:
            raise DebugError(f"{spec} is an imported function: it has no code to stop in")
        return [self.mdef.body(func).code_start]

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

    def _live(self) -> bool:
        return self.session is not None and self.session.state.name in ("RUNNING", "PAUSED", "NOT_STARTED")

    def _install(self, bp: UserBreakpoint) -> None:
        session = self.session
        if session is None or not bp.enabled:
            return
        for pc in bp.pcs:
            placed = session.set_break(self.module, pc, cond=self._condition(bp))
            bp.installed.append(placed)
            self._by_session[placed.number] = bp

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
        self.session.start(launch.entry)
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
        session = self._require_paused()
        frames = self.frames()
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
                values.append(WasmValue(stack[k], _VALTYPE_MEM[ty], ListPlace(stack, k)))
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

    def _return_breakpoint(self, caller: Any) -> None:
        """An internal breakpoint where ``caller``'s pending call returns, in that frame only."""
        assert self.session is not None
        target_fp = caller.fp
        resume_pc = self.next_pc(caller.pc)
        placed = self.session.set_break(self.module, resume_pc, cond=lambda frame: frame.fp == target_fp)
        self._internal.append(placed)

    def _clear_internal(self) -> None:
        session = self.session
        for placed in self._internal:
            if session is not None and not placed.deleted:
                session.clear_break(placed.number)
        self._internal = []

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

    def parse(self, text: str) -> ex.Node:
        """Parse an expression (DebugError on bad syntax)."""
        return ex.parse_expression(text)

    def evaluate(self, text: str, frame: Any) -> WasmValue:
        """Evaluate ``text`` in ``frame``."""
        return self.eval_node(self.parse(text), frame)

    @staticmethod
    def truth(value: WasmValue) -> bool:
        """C truth of a value."""
        return bool(value.value)

    def eval_node(self, node: ex.Node, frame: Any) -> WasmValue:
        """Evaluate a parsed expression over ``frame``'s Wasm values."""
        return _WasmEval(self, frame).eval(node)

    def lookup(self, name: str, frame: Any) -> WasmValue:
        """A Wasm-level name: a local (named or ``$localN``), ``$globalN``, ``$pc``, ``$N``."""
        if frame is None and not (name.startswith("$") and name[1:].isdigit()):
            raise DebugError(f'No symbol "{name}" in current context.')
        if name.startswith("$"):
            return self._dollar(name, frame)
        for index, known in self.local_names(frame.func_index).items():
            if known == name and index < len(frame.locals):
                return self._local(frame, index)
        raise DebugError(f'No symbol "{name}" in current context.')

    def _local(self, frame: Any, index: int) -> WasmValue:
        types = frame.locals.types()
        return WasmValue(frame.locals[index], _VALTYPE_MEM[types[index]], ListPlace(frame.locals, index))

    def _dollar(self, name: str, frame: Any) -> WasmValue:
        body = name[1:]
        if body == "" or body.isdigit() or ((body.startswith("$") and body[1:].isdigit()) or body == "$"):
            return self._history(body)
        for prefix in ("local", "l"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                index = int(body[len(prefix):])
                if index >= len(frame.locals):
                    raise DebugError(f"{name}: the function has {len(frame.locals)} locals")
                return self._local(frame, index)
        for prefix in ("global", "g"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                return self._global(frame, int(body[len(prefix):]))
        for prefix in ("stack", "s"):
            if body.startswith(prefix) and body[len(prefix):].isdigit():
                index = int(body[len(prefix):])
                stack = frame.stack
                if index >= len(stack):
                    raise DebugError(f"{name}: the operand stack holds {len(stack)} values")
                return WasmValue(stack[index], _VALTYPE_MEM[stack.types()[index]], ListPlace(stack, index))
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
        mtype = _VALTYPE_MEM.get(getattr(ty, "_ty", ty)) or _mtype_of_api(ty)
        return WasmValue(glob.value(store), mtype, GlobalPlace(glob, store))

    def _history(self, body: str) -> WasmValue:
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
        view = frame.memory if frame is not None else None
        if view is None:
            raise DebugError("the module has no linear memory")
        mem: memoryview = view
        return mem

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
        code, size, _f, _s = _MEMTYPES[mtype]
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
                return WasmValue(_MEMTYPES[memtype_of(node.operand.type.words, node.operand.type.pointers)][1], "u32")
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
    if _MEMTYPES[mtype][2]:
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
    unsigned = any(not _MEMTYPES[v.mtype][3] and v.size >= size for v in (left, right))
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
