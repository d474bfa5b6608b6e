"""The guest debugger: breakpoints, stepping, frames, events, source mapping.

Importing this package registers the per-Store debug support with the
runtime (``runtime.debugapi.set_debug_support``), which makes
``store.edit_breakpoints()``, ``store.set_debug_handler()`` and
``store.debug_frames()`` work on Stores whose Engine has
``Config.guest_debug = True``.  :class:`Debugger` is the bdb-like core the front
ends (REPL, LLDB server) build on.
"""

from ..runtime.debugapi import set_debug_support
from .breakpoints import Breakpoint, Condition, effective
from .debugger import Debugger, Frame, RunState, StepMode, Stop, StopReason
from .edit import BreakpointEdit, BreakpointState
from .events import DebugEvent, DebugEventKind, DebugHandler, Resume
from .support import DebugFrame, StoreDebug

set_debug_support(StoreDebug)

__all__ = [
    "Breakpoint",
    "BreakpointEdit",
    "BreakpointState",
    "Condition",
    "DebugEvent",
    "DebugEventKind",
    "DebugFrame",
    "DebugHandler",
    "Debugger",
    "Frame",
    "Resume",
    "RunState",
    "StepMode",
    "Stop",
    "StopReason",
    "StoreDebug",
    "effective",
]
