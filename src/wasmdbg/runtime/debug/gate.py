"""The code gate: a running guest and a breakpoint edit never overlap.

Patching machine code means making its pages writable, and W^X means they
are not executable meanwhile.  A guest thread executing those pages at that
moment faults.  Front ends edit breakpoints from threads of their own (a
socket reader, an editor's request loop) while the guest runs, so every
edit must be made safe against a guest running on another thread.

The design: one lock per Store, held by the guest thread exactly while it
executes machine code, and by an edit session while it patches::

    guest thread                             editing thread
    ────────────                             ──────────────
    enter()    lock ─┐                       exclusive():
    machine code      │ held                    try the lock
    callback: leave() ┘ released                 busy -> request_stop()
      Python (handler, host function,              (the interrupt flag: the
      libcall) ...                                  guest calls back at its
    callback returns: enter()  (waits               next function entry or
      while an edit holds the lock)                 loop header, where the
    machine code ...                                lock is released)
    entry returns: leave()                        lock acquired
                                                  unpublish, patch, publish
                                                 release, cancel_stop()

The guest releases the lock in *every* callback (host functions, libcalls,
breakpoint and interrupt hooks), not only at a stop, so an edit made while
the guest sits in a long host call (a blocking read) goes through at once,
and one made while the guest is paused in a debug handler too.  The guest
cannot get back into machine code until the edit has republished.

NB: why not patch without ever removing execute permission (a second,
writable mapping of the same pages)?  A 5-byte patch racing with the
instruction fetch of another core can be seen torn unless the site is
aligned so that one 8-byte store covers it, or is patched int3-first with a
SIGTRAP handler; patch sites are not aligned, and a signal handler that
re-runs a half-patched site is more machine code to trust.  The lock needs
neither: every patch happens while no guest instruction runs.

The cost on the guest's side is one uncontended lock release and acquire
per callback (tens of nanoseconds), paid only by Stores with debugging on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

__all__ = ["CodeGate"]


class CodeGate:
    """Mutual exclusion between a Store's running guest and its code edits.

    ``request_stop()`` asks a guest running machine code to call back soon
    (it sets a bit of the interrupt flag); ``cancel_stop()`` withdraws the
    request once the edit is done.  Both are called by the editing thread.
    """

    def __init__(self, request_stop: Callable[[], None], cancel_stop: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        # NB: a lock is not fair: a guest that releases it in a callback and
        # takes it back on return would usually win against a waiting editor.
        # Editors announce themselves (and set INTERRUPT_EDIT); at the next
        # interrupt check the guest lets them go first (wait_for_editors).
        self._waiting = 0
        self._turn = threading.Condition(threading.Lock())
        self._request_stop = request_stop
        self._cancel_stop = cancel_stop
        #: the guest thread is about to run machine code (waits out an edit)
        self.enter: Callable[[], object] = self._lock.acquire
        #: the guest thread left machine code (a callback, or the entry returned)
        self.leave: Callable[[], None] = self._lock.release

    # -- the guest's side (enter and leave are the lock's own methods: no
    #    Python frame on every callback) ----------------------------------

    def wait_for_editors(self) -> None:
        """Called by the guest with the gate open: let waiting editors in first."""
        if self._waiting:
            with self._turn:
                while self._waiting:
                    self._turn.wait()

    # -- the editor's side --------------------------------------------------

    def exclusive(self) -> _Exclusive:
        """``with gate.exclusive():`` no guest instruction runs inside the block."""
        return _Exclusive(self)

    def lock_out_guest(self) -> None:
        """Wait until the guest is out of machine code and keep it out.

        Prefer :meth:`exclusive`; this and :meth:`let_guest_in` are its halves.
        """
        if self._lock.acquire(blocking=False):
            return
        with self._turn:
            self._waiting += 1
        try:
            self._request_stop()
            self._lock.acquire()
        finally:
            with self._turn:
                self._waiting -= 1
                last = not self._waiting
                self._turn.notify_all()
            if last:
                self._cancel_stop()

    def let_guest_in(self) -> None:
        """Undo :meth:`lock_out_guest`."""
        self._lock.release()


class _Exclusive:
    """The context manager of :meth:`CodeGate.exclusive`."""

    __slots__ = ("_gate",)

    def __init__(self, gate: CodeGate) -> None:
        self._gate = gate

    def __enter__(self) -> None:
        self._gate.lock_out_guest()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._gate.let_guest_in()
