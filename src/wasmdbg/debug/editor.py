"""The source debugger as editors need it: breakpoint options, values as trees.

:class:`EditorDebugger` is a :class:`~wasmdbg.debug.source.SourceDebugger`
with what an editor's protocol (DAP) asks for and gdb does not:

* breakpoints with a hit condition and a log message besides the
  condition (:meth:`EditorDebugger.add_editor_breakpoint`).  Both are
  decided on the guest thread, after the source debugger's own rules
  (condition, hit count), by an :class:`~wasmdbg.debug.hitcond.EditorCondition`
  wrapped around them: a log message is rendered with each ``{expr}``
  evaluated in the stopped frame and handed to ``log``; the guest does not
  stop for it.
* values shown as text (:meth:`EditorDebugger.show`) and as trees
  (:meth:`EditorDebugger.children`): a struct or union opens into its
  members, an array into its elements, a pointer to data into its target.
  Children are named by C expressions built from the parent's, so an editor
  can evaluate and assign any node (``(p).x``, ``(a)[2]``, ``*(q)``)::

      pts          struct point *     children: *(pts)
      *(pts)       struct point       children: (*(pts)).x  (*(pts)).y
      (*(pts)).x   int                (a leaf)

There is no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..dwarf.types import (
    ArrayType,
    FunctionType,
    PointerType,
    StructType,
    VoidType,
    strip_typedefs,
    type_name,
)
from ..errors import DebugError, WasmError
from . import values as cv
from .hitcond import EditorCondition, HitCondition, LogMessage
from .source import SourceDebugger, UserBreakpoint
from .sourceframes import CFrameContext, SourceFrame
from .wasmvalues import WasmValue, format_scalar

__all__ = ["MAX_CHILDREN", "Child", "EditorDebugger"]

#: elements of an array shown as children (the rest are left out)
MAX_CHILDREN = 1000


@dataclass(frozen=True, slots=True)
class Child:
    """One node under a value: its label and the C expression that names it."""

    name: str
    expression: str


class EditorDebugger(SourceDebugger):
    """A SourceDebugger with editor breakpoint options and value trees (module docstring)."""

    def __init__(self, module: Any, *, log: Callable[[str], None]) -> None:
        super().__init__(module)
        self._log = log
        self._options: dict[int, tuple[HitCondition | None, LogMessage | None]] = {}

    # -- breakpoints ----------------------------------------------------------------

    def add_editor_breakpoint(
        self,
        spec: str,
        *,
        cond: str | None = None,
        hit: HitCondition | None = None,
        message: LogMessage | None = None,
    ) -> UserBreakpoint:
        """A breakpoint at ``spec`` with an optional condition, hit condition and log message."""
        if cond:
            self.parse(cond)  # NB: a bad condition refuses the breakpoint before it exists
        number = self.next_breakpoint_number
        if hit is not None or message is not None:
            self._options[number] = (hit, message)
        try:
            bp = self.add_breakpoint(spec)
        except BaseException:
            self._options.pop(number, None)
            raise
        if cond:
            self.set_condition(bp.number, cond)
        return bp

    def delete_breakpoint(self, number: int) -> None:
        """Delete breakpoint ``number`` and its editor options."""
        super().delete_breakpoint(number)
        self._options.pop(number, None)

    def _condition(self, bp: UserBreakpoint) -> Callable[[Any], bool]:
        base = super()._condition(bp)
        options = self._options.get(bp.number)
        if options is None:
            return base
        hit, message = options

        def render(frame: Any, expression: str) -> str:
            return self.show(self.evaluate(expression, frame), frame)

        return EditorCondition(condition=base, hit=hit, message=message, evaluate=render, log=self._log)

    # -- values -------------------------------------------------------------------

    def context(self, frame: Any) -> CFrameContext:
        """The C context of a Wasm or source frame (globals only without DWARF there)."""
        return CFrameContext(self, self.c_frame(frame))

    def show(self, value: Any, frame: Any) -> str:
        """A value (C or Wasm-level) as gdb prints it."""
        if isinstance(value, WasmValue):
            return format_scalar(value.value, value.mtype)
        if isinstance(value, cv.CValue):
            return cv.format_value(value, self.context(frame))
        return str(value)

    @staticmethod
    def type_of(value: Any) -> str:
        """The C type (or Wasm memory type) of a value."""
        if isinstance(value, WasmValue):
            return value.mtype
        if isinstance(value, cv.CValue):
            return type_name(value.type)
        return type(value).__name__

    @staticmethod
    def children(expression: str, value: Any) -> list[Child]:
        """The nodes under ``value`` (named ``expression``); empty for a leaf."""
        if not isinstance(value, cv.CValue) or value.optimized_out:
            return []
        core = strip_typedefs(value.type)
        if isinstance(core, StructType):
            out = []
            for k, member in enumerate(core.members):
                if member.name:
                    out.append(Child(member.name, f"({expression}).{member.name}"))
                else:
                    out.append(Child(f"<anonymous {k}>", ""))
            return [c for c in out if c.expression]
        if isinstance(core, ArrayType):
            count = core.count or 0
            return [Child(f"[{i}]", f"({expression})[{i}]") for i in range(min(count, MAX_CHILDREN))]
        if isinstance(core, PointerType):
            target = strip_typedefs(core.target)
            if isinstance(target, VoidType | FunctionType):
                return []
            try:
                if cv.scalar_of(value) == 0:
                    return []
            except DebugError:
                return []
            return [Child(f"*{expression}", f"*({expression})")]
        return []

    @staticmethod
    def child_count(value: Any) -> int:
        """How many children :meth:`children` gives (without building them)."""
        return len(EditorDebugger.children("x", value))

    def frame_variables(self, sframe: SourceFrame) -> tuple[list[str], list[str]]:
        """(locals, parameters) names of a source frame, innermost scope first."""
        params = [v.name for v in sframe.parameters() if v.name]
        names = [v.name for v in sframe.variables() if v.name and v.name not in params]
        return names, params

    def global_names(self, sframe: SourceFrame | None = None) -> list[str]:
        """The C globals the module's DWARF describes (sorted, one per name).

        With ``sframe``: those of the compile unit the frame is in (its source
        file's globals, not every library's), as a "Globals" scope shows them.
        """
        info = self.info
        if info is None:
            return []
        names: set[str] = set()
        try:
            for var in info.global_variables(sframe.pc if sframe is not None else None):
                if var.name:
                    names.add(var.name)
        except WasmError:  # NB: unreadable DWARF leaves the scope empty, not broken
            return []
        return sorted(names)
