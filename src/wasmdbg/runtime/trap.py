"""Traps: ``Trap``, its ``TrapCode`` and the ``Frame`` s of its backtrace.

A trap raised by compiled code carries the ``abi.TrapCode`` the guest
stopped with; the API exposes it as :class:`TrapCode` with wasmtime-py's
member names.  ``str(trap)`` (and ``trap.message``) follow Wasmtime's
layout, so tests and people used to Wasmtime read the same text::

    error while executing at wasm backtrace:
        0:     0x4e - mymod!bar
        1:     0x49 - mymod!foo

    Caused by:
        wasm trap: wasm `unreachable` instruction executed

A backtrace lists at most :data:`BACKTRACE_LIMIT` frames (innermost first)
and counts the rest on one line (see :func:`format_backtrace`).

:class:`Frame` is one frame of a backtrace: function index and name,
module name, and the pc both as a module offset and as an offset into the
function body.  Frames made by the stack walker also keep the native frame
pointer and pc, for the debugger.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from ..errors import WasmError
from ..jit import abi

__all__ = ["BACKTRACE_LIMIT", "Frame", "Trap", "TrapCode", "format_backtrace"]


class TrapCode(Enum):
    """Why the guest trapped (wasmtime-py's names, plus ``DEBUGGER_ABORT``)."""

    STACK_OVERFLOW = 0
    MEMORY_OUT_OF_BOUNDS = 1
    HEAP_MISALIGNED = 2
    TABLE_OUT_OF_BOUNDS = 3
    INDIRECT_CALL_TO_NULL = 4
    BAD_SIGNATURE = 5
    INTEGER_OVERFLOW = 6
    INTEGER_DIVISION_BY_ZERO = 7
    BAD_CONVERSION_TO_INTEGER = 8
    UNREACHABLE = 9
    INTERRUPT = 10
    OUT_OF_FUEL = 11
    DEBUGGER_ABORT = 100


_FROM_ABI: dict[int, tuple[TrapCode, str]] = {
    abi.TrapCode.STACK_OVERFLOW: (TrapCode.STACK_OVERFLOW, "call stack exhausted"),
    abi.TrapCode.MEMORY_OUT_OF_BOUNDS: (TrapCode.MEMORY_OUT_OF_BOUNDS, "out of bounds memory access"),
    abi.TrapCode.HEAP_MISALIGNED: (TrapCode.HEAP_MISALIGNED, "unaligned atomic"),
    abi.TrapCode.TABLE_OUT_OF_BOUNDS: (
        TrapCode.TABLE_OUT_OF_BOUNDS,
        "undefined element: out of bounds table access",
    ),
    abi.TrapCode.INDIRECT_CALL_TO_NULL: (TrapCode.INDIRECT_CALL_TO_NULL, "uninitialized element"),
    abi.TrapCode.ELEMENT_UNINITIALIZED: (TrapCode.INDIRECT_CALL_TO_NULL, "uninitialized element"),
    abi.TrapCode.BAD_SIGNATURE: (TrapCode.BAD_SIGNATURE, "indirect call type mismatch"),
    abi.TrapCode.INTEGER_OVERFLOW: (TrapCode.INTEGER_OVERFLOW, "integer overflow"),
    abi.TrapCode.INTEGER_DIVISION_BY_ZERO: (TrapCode.INTEGER_DIVISION_BY_ZERO, "integer divide by zero"),
    abi.TrapCode.BAD_CONVERSION_TO_INTEGER: (
        TrapCode.BAD_CONVERSION_TO_INTEGER,
        "invalid conversion to integer",
    ),
    abi.TrapCode.UNREACHABLE_CODE_REACHED: (
        TrapCode.UNREACHABLE,
        "wasm `unreachable` instruction executed",
    ),
    abi.TrapCode.INTERRUPT: (TrapCode.INTERRUPT, "interrupt"),
    abi.TrapCode.DEBUGGER_ABORT: (TrapCode.DEBUGGER_ABORT, "execution aborted by the debugger"),
}


class Frame:
    """One Wasm frame of a backtrace.

    ``module_offset`` is the module-relative byte offset of the instruction
    (the trapping one for the innermost frame, the call for the others);
    ``func_offset`` is the same pc relative to the function body (after its
    size field), as Wasmtime reports it.  ``fp`` and ``pc`` are the native
    frame pointer and program counter (0 when unknown).
    """

    __slots__ = ("fp", "func_index", "func_name", "func_offset", "module", "module_name", "module_offset", "pc")

    def __init__(
        self,
        func_index: int,
        func_name: str | None,
        module_name: str | None,
        module_offset: int,
        func_offset: int,
        *,
        fp: int = 0,
        pc: int = 0,
        module: object | None = None,
    ) -> None:
        self.func_index = func_index
        self.func_name = func_name
        self.module_name = module_name
        self.module_offset = module_offset
        self.func_offset = func_offset
        self.fp = fp
        self.pc = pc
        self.module = module

    def label(self) -> str:
        """``module!function`` as Wasmtime prints it."""
        mod = self.module_name if self.module_name is not None else "<unknown>"
        func = self.func_name if self.func_name is not None else f"<wasm function {self.func_index}>"
        return f"{mod}!{func}"

    def __repr__(self) -> str:
        return f"<Frame {self.label()} @0x{self.module_offset:x}>"


#: Frames a printed backtrace shows (Wasmtime's default limit is the same).
BACKTRACE_LIMIT = 20


def format_backtrace(frames: Sequence[Frame], limit: int | None = BACKTRACE_LIMIT) -> str:
    """The numbered backtrace lines, innermost frame first.

    At most ``limit`` frames are listed (all of them with ``limit=None``);
    the rest are counted on one last line, so a trap 10,000 calls deep
    prints 21 lines, not 10,000::

          0:    0x42a - trap.wasm!recurse
          ...
         19:    0x436 - trap.wasm!recurse
        ... 9981 more frames
    """
    shown = frames if limit is None else frames[:limit]
    lines = [f"  {i:>3}: {f.module_offset:#8x} - {f.label()}" for i, f in enumerate(shown)]
    hidden = len(frames) - len(shown)
    if hidden:
        lines.append(f"      ... {hidden} more frame{'s' if hidden != 1 else ''}")
    return "\n".join(lines)


class Trap(WasmError):
    """The guest trapped (or a host function asked it to).

    ``Trap("message")`` makes a trap a host function may raise.  Traps from
    compiled code have a :attr:`trap_code` and :attr:`frames`.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self._reason = message
        self._code: TrapCode | None = None
        self._frames: list[Frame] = []
        self._from_wasm = False

    @classmethod
    def from_trap_code(cls, code: int, frames: list[Frame]) -> Trap:
        """Runtime-facing: the trap compiled code reported with ``abi.TrapCode`` ``code``."""
        api_code, reason = _FROM_ABI.get(code, (None, f"wasm trap code {code}"))
        trap = cls(reason)
        trap._code = api_code
        trap._frames = frames
        trap._from_wasm = True
        return trap

    def add_backtrace(self, frames: list[Frame]) -> None:
        """Runtime-facing: give a trap raised by a host function the Wasm backtrace it
        was raised under (a trap that has frames keeps them)."""
        if not self._frames:
            self._frames = frames

    @property
    def reason(self) -> str:
        """The bare cause (``integer divide by zero``), without the backtrace."""
        return self._reason

    @property
    def message(self) -> str:
        """The full text, as ``str(trap)``."""
        return str(self)

    @property
    def trap_code(self) -> TrapCode | None:
        """Why the guest trapped; None for traps made by ``Trap(message)``."""
        return self._code

    @property
    def frames(self) -> list[Frame]:
        """The Wasm backtrace, innermost frame first."""
        return list(self._frames)

    @property
    def cause(self) -> str:
        """The last line of the report: ``wasm trap: <reason>`` for traps of compiled code."""
        return f"wasm trap: {self._reason}" if self._from_wasm else self._reason

    def __str__(self) -> str:
        cause = self.cause
        if not self._frames:
            return cause
        return (
            "error while executing at wasm backtrace:\n"
            + format_backtrace(self._frames)
            + "\n\nCaused by:\n    "
            + cause
            + "\n"
        )
