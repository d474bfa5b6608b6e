"""The guest-debug *mechanism* of the runtime (the policy lives in ``wasmdbg.debug``).

As Wasmtime keeps it in its runtime: what a Store needs to stop its guest
and let a debugger look at it.

========== ==================================================================
module     owns
========== ==================================================================
gate       the code gate: a running guest and a code edit never overlap
edit       breakpoint edit sessions, reference counts, slip-forward, stepping
events     DebugEvent / DebugEventKind / Resume: what a handler gets and says
frames     stop tokens, value views (locals, stack, globals), decoders
stack      DebugFrame and the lazy frame list of a pause
support    StoreDebug: patching, hook dispatch, pauses (one per debug Store)
api        the Store's public debugging methods
========== ==================================================================
"""

from .edit import BreakpointEdit, BreakpointState
from .events import DebugEvent, DebugEventKind, DebugHandler, Resume
from .frames import FrameValues, GlobalValues, SavedRegisters, StopToken
from .gate import CodeGate
from .stack import DebugFrame, FrameList
from .support import CodePatcher, StoreDebug

__all__ = [
    "BreakpointEdit",
    "BreakpointState",
    "CodeGate",
    "CodePatcher",
    "DebugEvent",
    "DebugEventKind",
    "DebugFrame",
    "DebugHandler",
    "FrameList",
    "FrameValues",
    "GlobalValues",
    "Resume",
    "SavedRegisters",
    "StopToken",
    "StoreDebug",
]
