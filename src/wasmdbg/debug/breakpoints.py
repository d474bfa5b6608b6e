"""User-level breakpoints with the semantics of CPython's ``bdb.Breakpoint``.

A :class:`Breakpoint` is what a person sets: it has a number, can be
enabled or disabled, temporary, conditional, and carries an ignore count and
a hit count.  It is *not* a patch site: the :class:`~wasmdbg.debug.debugger.
Debugger` keeps a Store-level breakpoint (``edit.add_breakpoint``) installed
at the breakpoint's sequence point for as long as any enabled user
breakpoint wants it, and asks :func:`effective` whether a hit should stop.

Unlike ``bdb``, the numbering and the location index belong to the owning
Debugger, not to the class, so several Debuggers can coexist.

What a hit does (exactly ``bdb.effective``), for each breakpoint at the
location in creation order::

    disabled? ────────────────────────────────► skip it
    hits += 1
    no condition:   ignore > 0 ? ignore -= 1, skip it : STOP (may delete temporary)
    condition:      evaluate it
        raised     ───────────────────────────► STOP, keep temporary (a hint)
        false      ───────────────────────────► skip it
        true:       ignore > 0 ? ignore -= 1, skip it : STOP (may delete temporary)

The first breakpoint that says STOP wins; the ones after it are not looked
at (their hits do not change).  A condition is a Python expression string
evaluated over the frame's namespace (see ``Debugger.frame_namespace``:
locals, operand stack, globals, memory), or a callable taking the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import CodeType
from typing import Any

from ..errors import DebugError

__all__ = ["Breakpoint", "Condition", "effective"]

Condition = str | Callable[[Any], object]
"""A breakpoint condition: an expression string, or a callable taking the frame."""


class Breakpoint:
    """One numbered user breakpoint at a Wasm location.

    ``module`` and ``pc`` are what the user asked for; ``site_pc`` is the
    sequence point it resolved to (``pc`` slipped forward when needed).
    ``func_index`` is the function the site lies in, when known.
    """

    def __init__(
        self,
        number: int,
        module: object,
        pc: int,
        site_pc: int,
        *,
        func_index: int | None = None,
        funcname: str | None = None,
        temporary: bool = False,
        cond: Condition | None = None,
        ignore: int = 0,
        on_change: Callable[[Breakpoint], None] | None = None,
    ) -> None:
        self.number = number
        self.module = module
        self.pc = pc
        self.site_pc = site_pc
        self.func_index = func_index
        self.funcname = funcname
        self.temporary = temporary
        self.enabled = True
        self.ignore = ignore
        self.hits = 0
        self.deleted = False
        self._code: CodeType | None = None
        self.cond: Condition | None = None
        self._on_change = on_change
        self.set_condition(cond)

    def set_condition(self, cond: Condition | None) -> None:
        """Replace the condition; a string must compile as an expression."""
        code: CodeType | None = None
        if isinstance(cond, str) and cond:
            try:
                code = compile(cond, f"<breakpoint {self.number} condition>", "eval")
            except SyntaxError as exc:
                raise DebugError(f"bad breakpoint condition {cond!r}: {exc.msg}") from exc
        elif cond is not None and not isinstance(cond, str) and not callable(cond):
            raise DebugError(f"a condition must be a string or a callable, not {cond!r}")
        self.cond = cond
        self._code = code

    def enable(self) -> None:
        """Mark the breakpoint enabled."""
        if not self.enabled:
            self.enabled = True
            self._changed()

    def disable(self) -> None:
        """Mark the breakpoint disabled (it stays numbered and keeps its hits)."""
        if self.enabled:
            self.enabled = False
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None and not self.deleted:
            self._on_change(self)

    @property
    def needs_namespace(self) -> bool:
        """True for a string condition (evaluated over ``Debugger.frame_namespace``)."""
        return self._code is not None

    def evaluate(self, frame: object, namespace: Mapping[str, object]) -> bool:
        """Evaluate the condition (True when there is none); exceptions propagate."""
        if not self.cond:
            return True
        if self._code is not None:
            return bool(eval(self._code, {"__builtins__": __builtins__}, dict(namespace)))
        if callable(self.cond):
            return bool(self.cond(frame))
        return True

    @property
    def where(self) -> str:
        """``func N pc 0x..`` with the slip shown when the pc moved."""
        parts = []
        if self.funcname:
            parts.append(self.funcname)
        elif self.func_index is not None:
            parts.append(f"func {self.func_index}")
        parts.append(f"pc 0x{self.site_pc:x}")
        if self.site_pc != self.pc:
            parts.append(f"(requested 0x{self.pc:x})")
        return " ".join(parts)

    def bpformat(self) -> str:
        """One or more lines describing the breakpoint, like ``bdb``'s."""
        disp = "del " if self.temporary else "keep"
        state = "yes" if self.enabled else "no "
        lines = [f"{self.number:<4}breakpoint   {disp} {state}   at {self.where}"]
        if self.cond:
            shown = (
                self.cond
                if isinstance(self.cond, str)
                else getattr(self.cond, "__name__", repr(self.cond))
            )
            lines.append(f"\tstop only if {shown}")
        if self.ignore:
            lines.append(f"\twill ignore next {self.ignore} hits")
        if self.hits:
            lines.append(f"\tbreakpoint already hit {self.hits} time{'s' if self.hits > 1 else ''}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"Breakpoint {self.number} at {self.where}"

    def __repr__(self) -> str:
        return f"<Breakpoint {self.number} {self.where} enabled={self.enabled}>"


def effective(
    candidates: Sequence[Breakpoint],
    frame: object,
    namespace: Callable[[], Mapping[str, object]],
) -> tuple[Breakpoint | None, bool]:
    """Decide whether a hit at one location stops, following ``bdb.effective``.

    ``candidates`` are the breakpoints at the location in creation order;
    ``namespace`` builds the condition namespace (called at most once, and
    only if a string condition is evaluated).  Returns ``(breakpoint,
    may_delete_temporary)`` or ``(None, False)``.
    """
    ns: Mapping[str, object] | None = None
    for bp in candidates:
        if not bp.enabled or bp.deleted:
            continue
        bp.hits += 1  # every hit of an enabled breakpoint counts
        if not bp.cond:
            if bp.ignore > 0:
                bp.ignore -= 1
                continue
            return bp, True
        try:
            if bp.needs_namespace and ns is None:
                ns = namespace()
            ok = bp.evaluate(frame, ns if ns is not None else {})
        except Exception:
            # NB: like bdb, a condition that cannot be evaluated stops
            # regardless of the ignore count, and a temporary breakpoint
            # survives as a hint that something went wrong.
            return bp, False
        if ok:
            if bp.ignore > 0:
                bp.ignore -= 1
                continue
            return bp, True
    return None, False
