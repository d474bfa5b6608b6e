"""Debug events: what a Store reports to its debug handler, and the answer.

When a Store runs with debugging on, every reason the guest might stop is
turned into one :class:`DebugEvent` and handed to the handler installed with
``store.set_debug_handler(handler)``, called as ``handler(store, event)`` on
the guest's thread.  The guest is paused (its frames are live and can be
inspected and written through ``store.debug_frames()``) until the handler
returns (``None`` or a :class:`Resume`).

=============== ===================================================== ==========
kind            when                                                  after CONTINUE
=============== ===================================================== ==========
BREAKPOINT      an enabled patch site that has a breakpoint ran       runs on
STEP            an enabled patch site ran only because of single-step runs on
TRAP            the guest trapped; frames not unwound yet             unwinds
HOST_ERROR      a host function raised; frames not unwound yet        unwinds
INTERRUPTED     the Store's interrupt flag was seen                   runs on
=============== ===================================================== ==========

``Resume.ABORT`` ends the guest call instead: it unwinds with
``TrapCode.DEBUGGER_ABORT`` and the call raises in the embedder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

__all__ = ["DebugEvent", "DebugEventKind", "DebugHandler", "Resume"]


class DebugEventKind(IntEnum):
    """Why the guest paused."""

    BREAKPOINT = 1
    STEP = 2
    TRAP = 3
    HOST_ERROR = 4
    INTERRUPTED = 5


class Resume(Enum):
    """What the guest does once the handler returns."""

    CONTINUE = "continue"
    ABORT = "abort"


@dataclass(frozen=True, slots=True)
class DebugEvent:
    """One pause of the guest.

    ``module`` (the runtime's Module object), ``func_index`` and ``pc``
    name the Wasm location when there is one (the innermost Wasm frame);
    ``trap`` is the runtime's Trap for TRAP events; ``exception`` is what a
    host function raised for HOST_ERROR events.
    """

    kind: DebugEventKind
    module: object | None = None
    func_index: int | None = None
    pc: int | None = None
    trap: BaseException | None = None
    exception: BaseException | None = None

    def __str__(self) -> str:
        where = ""
        if self.pc is not None:
            where = f" at func {self.func_index} pc 0x{self.pc:x}"
        what = ""
        if self.trap is not None:
            what = f": {self.trap}"
        elif self.exception is not None:
            what = f": {type(self.exception).__name__}: {self.exception}"
        return f"{self.kind.name.lower()}{where}{what}"


DebugHandler = Callable[[Any, DebugEvent], "Resume | None"]
"""A Store's debug handler, ``handler(store, event)``: called with the guest
paused, on the guest's thread; ``None`` means CONTINUE."""
