"""Breakpoint edit sessions: the only code that patches machine code.

A Store running with debugging on owns one :class:`BreakpointState` (in its
:class:`~.support.StoreDebug`) with the Store-level breakpoints: a reference count per ``(module, pc)`` sequence point, the
slip-forward redirects, and the single-step flag.  All changes go through a
:class:`BreakpointEdit` session::

    with store.edit_breakpoints() as edit:
        pc = edit.add_breakpoint(module, 0x2a)   # -> the sequence point used
        edit.remove_breakpoint(module, 0x17)
        edit.single_step(True)

Session life cycle::

                 store.edit_breakpoints()
                          │
                          ▼
                     ┌─────────┐  __enter__   ┌──────────────────────────────┐
                     │ CREATED ├─────────────►│ OPEN                         │
                     └─────────┘              │  first change to module M:   │
                                              │   M.unpublish()  (RW, not X) │
                                              │   ok   -> M joins `dirty`    │
                                              │   fail -> raise; nothing     │
                                              │           changed            │
                                              │  patch sites of M            │
                                              └──────────────┬───────────────┘
                                                  __exit__   │ (also on error)
                                                             ▼
                                              ┌──────────────────────────────┐
                                              │ every dirty module, once:    │
                                              │   M.publish()  (RX again)    │
                                              │   fail -> stderr + abort()   │
                                              └──────────────┬───────────────┘
                                                             ▼
                                                        ┌────────┐
                                                        │ CLOSED │ (unusable)
                                                        └────────┘

Rules kept here:

* A site is enabled exactly when the Store single-steps or one of its pcs
  has a positive reference count (a site the compiler shares between
  consecutive opcodes has several pcs, see ``jit.frametable``).  Only
  changes that flip a site touch a module, so adding a second reference to
  a pc, a breakpoint at a pc whose shared site is already on, or a
  breakpoint while single-stepping, costs no ``mprotect``.
* All-or-nothing: when ``unpublish`` raises, the request changes nothing (no
  count, no redirect, no flag, no dirty entry) and the error propagates; the
  code stays executable so the guest still runs.  A request that touches
  several modules (``single_step``) republishes the ones it had just
  unpublished before re-raising.
* ``publish`` failing cannot be recovered from: JIT frames on the stack
  would return into memory that is not executable.  The process writes a
  message on stderr and calls ``os.abort()`` (Wasmtime and SpiderMonkey do
  the same).
* A requested pc that is not a sequence point slips forward to the next one
  (module-wide, see ``FrameTable.slip``); the redirect is remembered so
  removing the requested pc removes what adding it added.
* Single-stepping covers every module of the Store, including ones
  instantiated later (the runtime calls :meth:`BreakpointState.module_added`);
  turning it off leaves exactly the breakpoint sites enabled.

* Any thread may edit, also while the guest runs: a session holds the
  Store's code gate (``CodeRegistry.code_exclusive``, see :mod:`.gate`) from
  ``__enter__`` to ``__exit__``, so no guest instruction runs while the code
  is writable; a second thread's session waits for the first.  A session
  nested on the same thread is refused.
* Every change tells the listener given to :class:`BreakpointState` (the
  Store's dispatch drops its per-return-address plans).

The Store's side is described by two Protocols, :class:`PatchableCode` (one
module's code copy in one Store) and :class:`CodeRegistry` (the Store), so
this module is tested with fakes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import NoReturn, Protocol

from ...errors import DebugError
from ...jit.frametable import FrameTable, Site

__all__ = ["BreakpointEdit", "BreakpointState", "CodeRegistry", "PatchableCode", "fatal_republish"]


class PatchableCode(Protocol):
    """One module's machine code as one Store holds it (its private copy).

    ``frame_table`` is the module's frame table.  ``patch_site(site,
    enabled)`` writes the site's call bytes (enabled) or NOP bytes
    (disabled) into this copy; it is only called while the code is
    unpublished.  ``unpublish()`` makes the code writable and not
    executable, all-or-nothing (on failure it raises and the code is still
    executable); ``publish()`` makes it executable and not writable.
    """

    @property
    def frame_table(self) -> FrameTable: ...

    def patch_site(self, site: Site, enabled: bool) -> None: ...

    def unpublish(self) -> None: ...

    def publish(self) -> None: ...


class CodeRegistry(Protocol):
    """What an edit session needs from a Store.

    ``debug_code(module)`` returns the Store's patchable code for a Module
    instantiated in it, or raises :class:`DebugError` (not instantiated in
    this Store, or not compiled for debugging).  ``debug_modules()`` lists
    the Store's modules with debuggable code, in instantiation order.
    ``code_exclusive()`` is held while a session is open: no guest
    instruction of the Store runs inside it (see ``runtime.debug.gate``).
    """

    def debug_code(self, module: object) -> PatchableCode: ...

    def debug_modules(self) -> Iterable[object]: ...

    def code_exclusive(self) -> AbstractContextManager[None]: ...


def fatal_republish(module: object, exc: BaseException, after: str = "a breakpoint edit") -> NoReturn:
    """Machine code that Wasm frames may return into could not be made
    executable again: say so on stderr and abort the process."""
    message = (
        "wasmdbg: fatal: cannot make the machine code of "
        f"{module!r} executable again after {after} ({type(exc).__name__}: "
        f"{exc}). Wasm frames on the stack would return into non-executable "
        "memory, so the process aborts.\n"
    )
    try:
        sys.stderr.flush()
    finally:
        os.write(2, message.encode("utf-8", "replace"))
        os.abort()


class BreakpointState:
    """One Store's breakpoints: reference counts, redirects, single-step flag.

    The Store's debug support calls :meth:`edit` (for
    ``store.edit_breakpoints()``), :meth:`breakpoints`,
    :attr:`is_single_step`, :meth:`is_breakpoint` and :meth:`module_added`.
    """

    def __init__(self, registry: CodeRegistry, on_change: Callable[[], None] | None = None) -> None:
        self._registry = registry
        self._on_change = on_change
        self._counts: dict[tuple[object, int], int] = {}
        # requested pc (not a sequence point) -> [sequence point, references]
        self._redirects: dict[tuple[object, int], list[int]] = {}
        self._single_step = False
        self._session: BreakpointEdit | None = None
        self._session_thread = 0

    # -- queries ---------------------------------------------------------

    @property
    def is_single_step(self) -> bool:
        """True while every site of every module is enabled."""
        return self._single_step

    def breakpoints(self) -> list[tuple[object, int]]:
        """Every ``(module, sequence point pc)`` with a breakpoint."""
        return list(self._counts)

    def is_breakpoint(self, module: object, pc: int) -> bool:
        """True when the sequence point ``pc`` of ``module`` has a breakpoint."""
        return (module, pc) in self._counts

    def breakpoint_pcs(self, module: object) -> set[int]:
        """The sequence points of ``module`` with a breakpoint."""
        return {pc for m, pc in self._counts if m is module}

    def refcount(self, module: object, pc: int) -> int:
        """How many references hold the breakpoint at sequence point ``pc``."""
        return self._counts.get((module, pc), 0)

    def resolve(self, module: object, pc: int) -> int:
        """The sequence point a breakpoint requested at ``pc`` uses."""
        return _slip(module, self._registry.debug_code(module), pc)

    @property
    def registry(self) -> CodeRegistry:
        """The Store's side (patchable code per module)."""
        return self._registry

    def redirect(self, module: object, pc: int) -> int | None:
        """The sequence point a requested, non-sequence-point ``pc`` was slipped to."""
        entry = self._redirects.get((module, pc))
        return entry[0] if entry is not None else None

    def add_reference(self, module: object, actual: int, requested: int) -> None:
        """Count one more reference to sequence point ``actual`` (asked for at ``requested``)."""
        key = (module, actual)
        self._counts[key] = self._counts.get(key, 0) + 1
        if actual != requested:
            entry = self._redirects.setdefault((module, requested), [actual, 0])
            entry[1] += 1
        self.changed()

    def drop_reference(self, module: object, actual: int, requested: int) -> None:
        """Undo one :meth:`add_reference` (the count must be positive)."""
        key = (module, actual)
        count = self._counts[key]
        if count == 1:
            del self._counts[key]
        else:
            self._counts[key] = count - 1
        entry = self._redirects.get((module, requested))
        if entry is not None:
            entry[1] -= 1
            if entry[1] == 0:
                del self._redirects[(module, requested)]
        self.changed()

    def set_single_step(self, enabled: bool) -> None:
        """Record the single-step flag (the session has patched the sites)."""
        self._single_step = enabled
        self.changed()

    def session_on_this_thread(self) -> BreakpointEdit | None:
        """The open session, if this thread opened it."""
        if self._session is not None and self._session_thread == threading.get_ident():
            return self._session
        return None

    def open_session(self, session: BreakpointEdit | None) -> None:
        """Record ``session`` as the open one (``None``: closed), on this thread."""
        self._session = session
        self._session_thread = threading.get_ident() if session is not None else 0

    def changed(self) -> None:
        """Tell the listener given at creation that breakpoints or stepping changed."""
        if self._on_change is not None:
            self._on_change()

    # -- sessions --------------------------------------------------------

    def edit(self) -> BreakpointEdit:
        """A new edit session (use it with ``with``)."""
        return BreakpointEdit(self)

    def module_added(self, module: object) -> None:
        """The Store instantiated ``module``: single-stepping must cover it too.

        Called by the runtime after the module's code copy is published.
        """
        if not self._single_step:
            return
        session = self.session_on_this_thread()
        if session is not None:
            session.enable_all(module)
            return
        with self.edit() as edit:
            edit.enable_all(module)


class BreakpointEdit:
    """One edit session over a Store's breakpoints (see the module docstring)."""

    def __init__(self, state: BreakpointState) -> None:
        self._state = state
        self._stage = "created"
        self._dirty: dict[object, PatchableCode] = {}
        self._exclusive: AbstractContextManager[None] | None = None

    # -- context manager -------------------------------------------------

    def __enter__(self) -> BreakpointEdit:
        if self._stage != "created":
            raise DebugError("an edit session can be entered only once")
        state = self._state
        if state.session_on_this_thread() is not None:
            raise DebugError("another breakpoint edit session is open on this store")
        # NB: a session of another thread is waited for here (the gate is one lock)
        exclusive = state.registry.code_exclusive()
        exclusive.__enter__()
        self._exclusive = exclusive
        state.open_session(self)
        self._stage = "open"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stage != "open":
            return
        self._stage = "closed"
        self._state.open_session(None)
        dirty, self._dirty = self._dirty, {}
        for module, code in dirty.items():
            try:
                code.publish()
            except BaseException as err:
                fatal_republish(module, err)
        exclusive, self._exclusive = self._exclusive, None
        if exclusive is not None:
            exclusive.__exit__(None, None, None)

    @property
    def dirty_modules(self) -> list[object]:
        """The modules this session has unpublished so far."""
        return list(self._dirty)

    # -- edits -----------------------------------------------------------

    def add_breakpoint(self, module: object, pc: int) -> int:
        """Add one reference to the breakpoint at ``pc`` (slipped forward).

        Returns the sequence-point pc actually used.
        """
        self._check_open()
        state = self._state
        code = state.registry.debug_code(module)
        actual = _slip(module, code, pc)
        if not state.is_breakpoint(module, actual) and not state.is_single_step:
            self._flip(module, code, actual, True)
        state.add_reference(module, actual, pc)
        return actual

    def remove_breakpoint(self, module: object, pc: int) -> int:
        """Drop one reference added by ``add_breakpoint(module, pc)``.

        Returns the sequence-point pc it referred to.  Raises
        :class:`DebugError` when there is no such breakpoint.
        """
        self._check_open()
        state = self._state
        redirect = state.redirect(module, pc)
        actual = redirect if redirect is not None else pc
        count = state.refcount(module, actual)
        if count == 0:
            raise DebugError(f"no breakpoint at pc 0x{pc:x} in {module!r}")
        if count == 1 and not state.is_single_step:
            self._flip(module, state.registry.debug_code(module), actual, False)
        state.drop_reference(module, actual, pc)
        return actual

    def single_step(self, enabled: bool) -> None:
        """Turn the Store's single-step flag on or off."""
        self._check_open()
        state = self._state
        if enabled == state.is_single_step:
            return
        registry = state.registry
        codes = [(m, registry.debug_code(m)) for m in registry.debug_modules()]
        self._touch_all(codes)
        for module, code in codes:
            for rows in code.frame_table.native_sites():
                if enabled or not any(state.is_breakpoint(module, row.pc) for row in rows):
                    code.patch_site(rows[0], enabled)
        state.set_single_step(enabled)

    def enable_all(self, module: object) -> None:
        """Enable every site of ``module`` (a module instantiated while single-stepping)."""
        code = self._state.registry.debug_code(module)
        self._touch(module, code)
        for rows in code.frame_table.native_sites():
            code.patch_site(rows[0], True)

    # -- internals -------------------------------------------------------

    def _check_open(self) -> None:
        if self._stage != "open":
            raise DebugError(
                "breakpoint edits need an open session: `with store.edit_breakpoints() as edit:`"
            )

    def _flip(
        self, module: object, code: PatchableCode, pc: int, enabled: bool
    ) -> None:
        """Turn the sites of ``pc`` on or off, except shared sites another pc keeps on."""
        table = code.frame_table
        state = self._state
        flips = [
            site
            for site in table.sites_at(pc)
            if not any(
                row.pc != pc and state.is_breakpoint(module, row.pc)
                for row in table.sites_at_native(site.native_offset)
            )
        ]
        if flips:
            self._touch(module, code)
            for site in flips:
                code.patch_site(site, enabled)

    def _touch(self, module: object, code: PatchableCode) -> None:
        if module not in self._dirty:
            code.unpublish()  # raises -> nothing recorded
            self._dirty[module] = code

    def _touch_all(self, codes: list[tuple[object, PatchableCode]]) -> None:
        fresh: list[tuple[object, PatchableCode]] = []
        try:
            for module, code in codes:
                if module not in self._dirty:
                    self._touch(module, code)
                    fresh.append((module, code))
        except BaseException:
            for module, code in fresh:
                del self._dirty[module]
                try:
                    code.publish()
                except BaseException as err:
                    fatal_republish(module, err)
            raise


def _slip(module: object, code: PatchableCode, pc: int) -> int:
    """The sequence point at or after ``pc`` in ``code`` (DebugError if none)."""
    actual = code.frame_table.slip(pc)
    if actual is None:
        raise DebugError(f"no sequence point at or after pc 0x{pc:x} in {module!r}")
    return actual
