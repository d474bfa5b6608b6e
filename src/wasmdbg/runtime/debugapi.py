"""The Store's guest-debugging methods, delegated to the debug layer.

The runtime must not import ``wasmdbg.debug`` (DESIGN.md §2), yet the
debugging API lives on the Store (``store.edit_breakpoints()``, as in
Wasmtime).  This mixin bridges the two: the debug layer registers a
factory with :func:`set_debug_support` when it is imported, and the first
debugging call on a Store builds that Store's debug support object (which
also becomes the Store's ``_debug_hook``, see ``Store.DebugHook``).  Every
method below only forwards to it.

``wasmdbg/__init__.py`` imports ``wasmdbg.debug``, so the factory is
registered for anyone who imports the package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import DebugError

__all__ = ["StoreDebugMixin", "set_debug_support"]

_factory: Callable[[Any], Any] | None = None


def set_debug_support(factory: Callable[[Any], Any] | None) -> None:
    """Register the debug layer's per-Store factory (``None`` to forget it)."""
    global _factory
    _factory = factory


class StoreDebugMixin:
    """Guest-debugging methods of :class:`~wasmdbg.runtime.store.Store`."""

    _debug_hook: Any

    def _debug_support(self) -> Any:
        hook = self._debug_hook
        if hook is not None:
            return hook
        engine = getattr(self, "engine", None)
        if engine is None or not engine.config.guest_debug:
            raise DebugError("debugging needs an Engine made with Config(debug=True)")
        if _factory is None:
            raise DebugError("the debugger is not loaded (import wasmdbg.debug)")
        hook = self._debug_hook = _factory(self)
        return hook

    def _notify_debugger(self, method: str, *args: Any) -> BaseException | None:
        """Tell the debug hook about a trap or host error (frames still walkable).

        Returns what the hook raised (nothing may escape: this can run inside
        a ctypes callback); the caller raises that instead of the original.
        """
        try:
            getattr(self._debug_hook, method)(self, *args)
        except BaseException as exc:
            return exc
        return None

    def edit_breakpoints(self) -> Any:
        """A breakpoint edit session: ``with store.edit_breakpoints() as edit:``.

        ``edit.add_breakpoint(module, pc)`` / ``edit.remove_breakpoint(module,
        pc)`` (reference-counted, slipping forward to the next sequence point)
        and ``edit.single_step(enabled)``; the code is re-published when the
        ``with`` block ends.
        """
        return self._debug_support().edit_breakpoints()

    def breakpoints(self) -> list[tuple[Any, int]]:
        """Every ``(module, pc)`` that has a breakpoint in this Store."""
        return list(self._debug_support().breakpoints())

    @property
    def is_single_step(self) -> bool:
        """True while every sequence point of this Store stops."""
        hook = self._debug_hook
        return bool(hook is not None and hook.is_single_step)

    def set_debug_handler(self, handler: Callable[[Any, Any], Any] | None) -> None:
        """Call ``handler(store, event)`` for every debug event (the guest is paused).

        The handler runs on the guest's thread; it returns ``None`` or
        ``Resume.CONTINUE`` to let the guest go on, ``Resume.ABORT`` to end
        the call.
        """
        self._debug_support().set_debug_handler(handler)

    def set_guest_exit_handler(self, handler: Callable[[Any], None] | None) -> None:
        """Call ``handler(store)`` each time the outermost guest call returns or traps.

        By then single-stepping is already off (it ends with the call); a
        debugger uses this to end its own stepping and run-to state too.
        """
        self._debug_support().set_guest_exit_handler(handler)

    def clear_debug_handler(self) -> None:
        """Stop delivering debug events."""
        if self._debug_hook is not None:
            self._debug_hook.set_debug_handler(None)

    def debug_frames(self) -> Sequence[Any]:
        """The paused guest's Wasm frames, innermost first (inside a handler).

        A lazy sequence: frames beyond the ones asked for are not built.
        """
        if self._debug_hook is None:
            return []
        frames: Sequence[Any] = self._debug_hook.debug_frames()
        return frames

    def debug_frame_table(self, module: Any) -> Any:
        """The frame table of ``module`` as instantiated in this Store."""
        return self._debug_support().debug_frame_table(module)
