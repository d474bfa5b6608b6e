"""``Scripted``: a Debugger driven by ``(expected stop, action)`` pairs, as in CPython's test_bdb.

Each stop is compared with ``(reason, func_index, pc[, locals[, stack]])``; the
action is ``"continue"``, ``"step"``, ``"next"``, ``"return"`` or ``"quit"``, or a
callable ``(debugger, stop) -> action`` that may inspect or change the frame first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from wasmdbg.debug.debugger import Debugger, Stop

Action = str | Callable[[Debugger, Stop], str]


class Scripted(Debugger):
    """Checks each stop against the script and performs the scripted action."""

    def __init__(self, store: Any, script: Sequence[tuple[tuple[Any, ...], Action]]) -> None:
        super().__init__(store)
        self.script = list(script)
        self.stops: list[Stop] = []
        # len(stop.frames) at each stop when record_depths (frames go stale after it;
        # counting them walks the stack, which some tests count)
        self.record_depths = False
        self.depths: list[int] = []

    def user_stop(self, stop: Stop) -> None:
        self.stops.append(stop)
        if self.record_depths:
            self.depths.append(len(stop.frames))
        assert self.script, f"unexpected stop {stop.reason} at {stop.pc}"
        expect, action = self.script.pop(0)
        f = stop.frame
        got: tuple[Any, ...] = (stop.reason, f.func_index if f else None, f.pc if f else None)
        if len(expect) > 3:
            got += (tuple(f.locals) if f else None,)
        if len(expect) > 4:
            got += (tuple(f.stack) if f else None,)
        assert got == expect
        if callable(action):
            action = action(self, stop)
        {
            "continue": self.set_continue,
            "step": self.set_step,
            "next": self.set_next,
            "return": self.set_return,
            "quit": self.set_quit,
        }[action]()
