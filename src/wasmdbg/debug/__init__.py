"""The guest debugger's *policy*: numbered breakpoints, stepping, sessions.

The mechanism (edit sessions, debug events, frame views, hook dispatch)
lives in the runtime (:mod:`wasmdbg.runtime.debug`); every Store whose
Engine has ``Config(debug=True)`` carries it.  This package decides *when*
to stop: :class:`Debugger` is the bdb-like core the front ends (REPL, LLDB
server, DAP server) build on, and the session controller runs a guest on a
worker thread under it.  The mechanism's names are re-exported here.
"""

from ..runtime.debug import (
    BreakpointEdit,
    BreakpointState,
    DebugEvent,
    DebugEventKind,
    DebugFrame,
    DebugHandler,
    FrameValues,
    Resume,
    StopToken,
    StoreDebug,
)
from .breakpoints import Breakpoint, Condition, effective
from .debugger import Debugger, Frame, RunState, StepMode, StepState, Stop, StopReason

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
    "FrameValues",
    "Resume",
    "RunState",
    "StepMode",
    "StepState",
    "Stop",
    "StopReason",
    "StopToken",
    "StoreDebug",
    "effective",
]
