"""Hit conditions and log messages: the I/O-free halves of editor breakpoints.

Editors (DAP's ``hitCondition`` and ``logMessage``) describe two things a
plain :class:`~wasmdbg.debug.breakpoints.Breakpoint` does not have.

A *hit condition* says on which hits (counted after the breakpoint's own
condition held) the guest stops, in the forms debugpy accepts::

    "5"  "==5"   the 5th hit only          ">5"  hits 6, 7, ...
    ">=5"        hits 5, 6, ...            "<5"  "<=5"  the first hits
    "%3"         hits 3, 6, 9, ...         (whitespace around is ignored)

A *log message* is text with ``{expression}`` holes; ``{{`` and ``}}`` are
literal braces.  :func:`parse_log_message` splits it once, and
:meth:`LogMessage.render` fills the holes with an evaluator the caller
supplies (a failing expression shows as ``<error: ...>`` and does not stop
the rendering).

:class:`EditorCondition` combines a condition, a hit condition and a log
message into one callable :data:`~wasmdbg.debug.breakpoints.Condition`
(``cond(frame) -> bool``), so the Debugger's breakpoint machinery needs
nothing new: a logpoint's condition writes its message and answers False,
and the guest runs on without stopping.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import DebugError

__all__ = [
    "EditorCondition",
    "HitCondition",
    "LogMessage",
    "parse_hit_condition",
    "parse_log_message",
]

_HIT = re.compile(r"\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*\Z")
_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "%": lambda hits, n: hits % n == 0,
}


@dataclass(frozen=True, slots=True)
class HitCondition:
    """A parsed hit condition: ``op`` one of ``== > >= < <= %``, and the count."""

    op: str
    count: int

    def holds(self, hits: int) -> bool:
        """Whether the guest stops on hit number ``hits`` (counting from 1)."""
        return _OPS[self.op](hits, self.count)

    def __str__(self) -> str:
        return f"{self.op}{self.count}"


def parse_hit_condition(text: str) -> HitCondition:
    """Parse ``5``, ``==5``, ``>5``, ``>=5``, ``<5``, ``<=5`` or ``%3``; DebugError otherwise."""
    match = _HIT.match(text)
    if match is None:
        raise DebugError(f"bad hit condition {text!r} (expected N, ==N, >N, >=N, <N, <=N or %N)")
    op = match.group(1) or "=="
    count = int(match.group(2))
    if op == "%" and count == 0:
        raise DebugError("hit condition %0 never holds")
    return HitCondition(op, count)


@dataclass(frozen=True, slots=True)
class LogMessage:
    """A log message split into literal text (str) and expressions (``_Hole``)."""

    parts: tuple[str | _Hole, ...]

    @property
    def expressions(self) -> tuple[str, ...]:
        """The expressions in its holes, in order."""
        return tuple(p.expression for p in self.parts if isinstance(p, _Hole))

    def render(self, evaluate: Callable[[str], str]) -> str:
        """The message with each hole replaced by ``evaluate(expression)``."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            try:
                out.append(evaluate(part.expression))
            except Exception as exc:  # NB: a log message never stops the guest
                out.append(f"<error: {exc}>")
        return "".join(out)


@dataclass(frozen=True, slots=True)
class _Hole:
    expression: str


def parse_log_message(text: str) -> LogMessage:
    """Split ``text`` into literals and ``{expression}`` holes (DebugError if unbalanced)."""
    parts: list[str | _Hole] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif c == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                j += 1
            if depth:
                raise DebugError(f"log message {text!r}: '{{' at {i} is never closed")
            expression = text[i + 1 : j - 1].strip()
            if not expression:
                raise DebugError(f"log message {text!r}: empty {{}} at {i}")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_Hole(expression))
            i = j
        elif c == "}":
            raise DebugError(f"log message {text!r}: '}}' at {i} has no '{{'")
        else:
            literal.append(c)
            i += 1
    if literal:
        parts.append("".join(literal))
    return LogMessage(tuple(parts))


class EditorCondition:
    """A breakpoint condition made of an editor's condition, hit condition and log message.

    Called with the frame at every hit of an enabled breakpoint:

    1. ``condition(frame)`` (when given) must hold, else no stop;
    2. the hit counter (:attr:`hits`) goes up; the hit condition (when
       given) must hold for it, else no stop;
    3. with a log message: ``log(message rendered with evaluate(frame,
       expression))`` and no stop; otherwise stop.

    An exception from ``condition`` propagates (the Debugger then stops, as
    ``bdb`` does for a condition that cannot be evaluated).
    """

    def __init__(
        self,
        *,
        condition: Callable[[object], bool] | None = None,
        hit: HitCondition | None = None,
        message: LogMessage | None = None,
        evaluate: Callable[[object, str], str] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if message is not None and (evaluate is None or log is None):
            raise DebugError("a log message needs an evaluator and a log sink")
        self.condition = condition
        self.hit = hit
        self.message = message
        self._evaluate = evaluate
        self._log = log
        self.hits = 0

    def __call__(self, frame: object) -> bool:
        if self.condition is not None and not self.condition(frame):
            return False
        self.hits += 1
        if self.hit is not None and not self.hit.holds(self.hits):
            return False
        if self.message is not None and self._evaluate is not None and self._log is not None:
            evaluate = self._evaluate
            self._log(self.message.render(lambda expr: evaluate(frame, expr)))
            return False
        return True

