"""The Store's guest-debugging methods (Wasmtime's names), delegating to :class:`StoreDebug`.

A Store whose Engine has ``Config(debug=True)`` builds its
:class:`~.support.StoreDebug` when it is created; these methods are the
public face of it, mixed into :class:`~wasmdbg.runtime.store.Store`.  On a
Store without debugging they raise :class:`DebugError` (the queries answer
"nothing": no frames, not single-stepping).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import DebugError
from ...jit.frametable import FrameTable
from .edit import BreakpointEdit
from .events import DebugHandler
from .stack import DebugFrame
from .support import StoreDebug

__all__ = ["StoreDebugMixin"]


class StoreDebugMixin:
    """Guest-debugging methods of :class:`~wasmdbg.runtime.store.Store`."""

    _debug: StoreDebug | None

    @property
    def debug_support(self) -> StoreDebug:
        """This Store's debug support (DebugError without ``Config(debug=True)``)."""
        support = self._debug
        if support is None:
            raise DebugError("debugging needs an Engine made with Config(debug=True)")
        return support

    def edit_breakpoints(self) -> BreakpointEdit:
        """A breakpoint edit session: ``with store.edit_breakpoints() as edit:``.

        ``edit.add_breakpoint(module, pc)`` / ``edit.remove_breakpoint(module,
        pc)`` (reference-counted, slipping forward to the next sequence point)
        and ``edit.single_step(enabled)``; the code is re-published when the
        ``with`` block ends.  Safe from any thread, also while the guest runs
        (see ``runtime.debug.gate``).
        """
        return self.debug_support.edit_breakpoints()

    def resolve_breakpoint(self, module: Any, pc: int) -> int:
        """The sequence point a breakpoint requested at ``pc`` of ``module`` uses.

        A pc that is no sequence point slips forward to the next one; this is
        the one place that decides it (DebugError when there is none).
        """
        return self.debug_support.state.resolve(module, pc)

    def breakpoints(self) -> list[tuple[Any, int]]:
        """Every ``(module, pc)`` that has a breakpoint in this Store."""
        return self.debug_support.breakpoints()

    @property
    def is_single_step(self) -> bool:
        """True while every sequence point of this Store stops."""
        support = self._debug
        return support is not None and support.is_single_step

    def set_debug_handler(self, handler: DebugHandler | None) -> None:
        """Call ``handler(store, event)`` for every debug event (the guest is paused).

        The handler runs on the guest's thread; it returns ``None`` or
        ``Resume.CONTINUE`` to let the guest go on, ``Resume.ABORT`` to end
        the call.
        """
        self.debug_support.set_debug_handler(handler)

    def clear_debug_handler(self) -> None:
        """Stop delivering debug events."""
        if self._debug is not None:
            self._debug.set_debug_handler(None)

    def set_guest_exit_handler(self, handler: Callable[[Any], None] | None) -> None:
        """Call ``handler(store)`` each time the outermost guest call returns or traps.

        By then single-stepping is already off (it ends with the call); a
        debugger uses this to end its own stepping and run-to state too.
        """
        self.debug_support.set_guest_exit_handler(handler)

    def debug_frames(self) -> Sequence[DebugFrame]:
        """The paused guest's Wasm frames, innermost first (inside a handler).

        A lazy sequence: frames beyond the ones asked for are not built.
        Every frame and value view refuses access (DebugError) once the
        guest resumed.
        """
        support = self._debug
        if support is None:
            return []
        return support.debug_frames()

    def debug_frame_table(self, module: Any) -> FrameTable:
        """The frame table of ``module`` as instantiated in this Store."""
        return self.debug_support.debug_frame_table(module)
