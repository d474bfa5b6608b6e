"""The ``info`` subcommands of ``wasmdbg debug`` (cli/repl.py's ``info``).

:class:`InfoCommands` holds one ``info_<name>`` method per subcommand (the
REPL dispatches ``info NAME ARGS`` to it) and the helpers only they use; it
reads the REPL's state (the debugger, the selected frame, the displays) and
writes through the REPL's ``say``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..debug import source as src
from ..debug import values as cv
from ..debug import wasmvalues
from ..debug.sourceframes import CFrameContext, SourceFrame
from ..dwarf.types import type_name
from ..errors import DebugError, WasmError

if TYPE_CHECKING:
    from .repl import Repl

__all__ = ["InfoCommands"]


class InfoCommands:
    """``info breakpoints|locals|args|frame|registers|functions|line|source|display``."""

    def __init__(self, repl: Repl) -> None:
        self.repl = repl

    def info_breakpoints(self, arg: str) -> None:
        """info breakpoints: the table of breakpoints."""
        bps = self.repl.dbg.breakpoints
        if not bps:
            self.repl.say("No breakpoints or watchpoints.")
            return
        self.repl.say("Num     Type           Disp Enb Address    What")
        for bp in bps:
            disp = "del " if bp.temporary else "keep"
            enb = "y" if bp.enabled else "n"
            if len(bp.pcs) == 1:
                self.repl.say(f"{bp.number:<7} breakpoint     {disp} {enb}   0x{bp.pcs[0]:08x} {self.breakpoint_what(bp.pcs[0])}")
            else:
                self.repl.say(f"{bp.number:<7} breakpoint     {disp} {enb}   <MULTIPLE>")
            if bp.cond:
                self.repl.say(f"\tstop only if {bp.cond}")
            if bp.hits:
                self.repl.say(f"\tbreakpoint already hit {bp.hits} time{'s' if bp.hits != 1 else ''}")
            if bp.ignore:
                self.repl.say(f"\tWill ignore next {bp.ignore} crossings of breakpoint.")
            for line in bp.commands:
                self.repl.say(f"        {line}")
            if len(bp.pcs) > 1:
                for k, pc in enumerate(bp.pcs, 1):
                    self.repl.say(f"{bp.number}.{k:<5} {enb}   0x{pc:08x} {self.breakpoint_what(pc)}")

    def breakpoint_what(self, pc: int) -> str:
        """The What column of info breakpoints: ``in fib at fib.c:7`` (or ``<fib+4>``)."""
        here = self.repl.dbg.line_of(pc)
        if here is None:
            return self.repl.where(pc)
        sframes = self.repl.dbg.info.function_at(pc) if self.repl.dbg.info is not None else None
        chain = sframes.inline_chain(pc) if sframes is not None else ()
        name = chain[0].function if chain else (sframes.name if sframes is not None else "??")
        return f"in {name} at {here[0]}:{here[1]}"

    def info_watchpoints(self, arg: str) -> None:
        """info watchpoints: there are none (no watchpoint support)."""
        self.repl.say("No watchpoints.")

    def info_args(self, arg: str) -> None:
        """info args: the selected frame's parameters."""
        frame = self.repl.frame()
        if frame.function is not None:
            params = frame.parameters()
            if not params:
                self.repl.say("No arguments.")
            self._show_variables(frame, params)
            return
        wasm = frame.wasm
        n = self.repl.dbg.num_params(wasm.func_index)
        if n == 0:
            self.repl.say("No arguments.")
        for i in range(n):
            self.repl.say(f"{self.repl.dbg.local_name(wasm.func_index, i)} = {self._local_text(wasm, i)}")

    def info_locals(self, arg: str) -> None:
        """info locals: the selected frame's local variables (parameters excluded), innermost block first."""
        frame = self.repl.frame()
        if frame.function is not None:
            local_vars = [v for v in frame.variables() if not v.is_parameter]
            if not local_vars:
                self.repl.say("No locals.")
            self._show_variables(frame, local_vars)
            return
        wasm = frame.wasm
        n = self.repl.dbg.num_params(wasm.func_index)
        if len(wasm.locals) <= n:
            self.repl.say("No locals.")
        for i in range(n, len(wasm.locals)):
            self.repl.say(f"{self.repl.dbg.local_name(wasm.func_index, i)} = {self._local_text(wasm, i)}")

    def _show_variables(self, frame: SourceFrame, variables: Sequence[Any]) -> None:
        ctx = CFrameContext(self.repl.dbg, frame)
        for var in variables:
            try:
                text = cv.format_value(ctx.variable(var), ctx)
            except DebugError as exc:
                text = f"<error: {exc}>"
            self.repl.say(f"{var.name} = {text}")

    def _local_text(self, frame: Any, index: int) -> str:
        try:
            return self.repl.value_text(self.repl.dbg.local_value(frame, index))
        except DebugError:
            return "<unavailable>"

    def info_frame(self, arg: str) -> None:
        """info frame: where the selected frame is and what it holds."""
        frame = self.repl.frame()
        wasm = frame.wasm
        frames = self.repl.frames()
        level = self.repl.frame_no
        self.repl.say(f"Stack level {level}, frame at 0x{wasm.fp:x}:")
        where = f"; saved pc = 0x{frames[level + 1].pc:08x}" if level + 1 < len(frames) else ""
        source = f" ({frame.file}:{frame.line})" if frame.has_source else ""
        self.repl.say(f" pc = 0x{frame.pc:08x} in {frame.name}{source} {self.repl.where(frame.pc)}{where}")
        if frame.depth > 0:
            self.repl.say(f" inlined into frame {level + 1}")
        if level + 1 < len(frames):
            self.repl.say(f" called by frame at 0x{frames[level + 1].wasm.fp:x}")
        if level > 0:
            self.repl.say(f" caller of frame at 0x{frames[level - 1].wasm.fp:x}")
        native = getattr(wasm, "native_pc", None)
        if native is not None:
            self.repl.say(f" native pc = 0x{native:x}, frame pointer = 0x{wasm.fp:x}")
        self.repl.say(f" {len(wasm.locals)} Wasm locals, {len(wasm.stack)} operand stack values")

    def info_registers(self, arg: str) -> None:
        """info registers: the pc, the frame pointer and the operand stack ($stackN)."""
        frame = self.repl.frame().wasm
        self.repl.say(f"pc             0x{frame.pc:08x}          {self.repl.where(frame.pc)}")
        self.repl.say(f"fp             0x{frame.fp:x}")
        native = getattr(frame, "native_pc", None)
        if native is not None:
            self.repl.say(f"native_pc      0x{native:x}")
        stack = frame.stack
        types = stack.types()
        for i, value in src.iter_values(stack):
            name = f"$stack{i}"
            if isinstance(value, DebugError):
                self.repl.say(f"{name:<15}<unavailable>")
            else:
                mtype = wasmvalues.VALTYPE_MEM[types[i]]
                self.repl.say(f"{name:<15}{wasmvalues.format_scalar(value, mtype, 'x'):<19}{wasmvalues.format_scalar(value, mtype)}")

    info_all_registers = info_registers

    def info_functions(self, arg: str) -> None:
        """info functions [REGEX]: the functions, with source ones by file."""
        pattern = re.compile(arg.strip()) if arg.strip() else None
        names = self.repl.dbg.function_names()
        self.repl.say("All defined functions:" if pattern is None else f'All functions matching regular expression "{arg.strip()}":')
        with_source: set[int] = set()
        info = self.repl.dbg.info
        if info is not None:
            by_file: dict[str, list[tuple[int, str]]] = {}
            for func in info.functions():
                if pattern is not None and not pattern.search(func.name):
                    continue
                if func.func_index is not None:
                    with_source.add(func.func_index)
                by_file.setdefault(func.decl_file or "??", []).append((func.decl_line, self._signature(func)))
            for file in sorted(by_file):
                self.repl.say(f"\nFile {file}:")
                for line, text in sorted(by_file[file]):
                    self.repl.say(f"{line}:\t{text}")
        rows = []
        for body in self.repl.dbg.mdef.bodies:
            name = names.get(body.func_index) or f"func[{body.func_index}]"
            if body.func_index not in with_source and (pattern is None or pattern.search(name)):
                rows.append((name, body.code_start))
        if rows:
            self.repl.say("")
            self.repl.say("Non-debugging symbols:")
            for name, start in sorted(rows, key=lambda r: r[1]):
                self.repl.say(f"0x{start:08x}  {name}")

    def _signature(self, func: Any) -> str:
        """``int fib(int);`` from DWARF."""
        rtype = self.repl.dbg.return_type(func)
        try:
            params = ", ".join(type_name(v.type) for v in func.parameters)
        except WasmError:
            params = "..."
        head = type_name(rtype) if rtype is not None else "void"
        static = "" if func.external else "static "
        return f"{static}{head} {func.name}({params or 'void'});"

    def info_line(self, arg: str) -> None:
        """info line [LOCATION]: where the code of a source line starts and ends."""
        frame = self.repl.frame(required=False)
        if arg.strip():
            pcs = self.repl.dbg.resolve(arg, frame)
        elif frame is not None:
            pcs = [frame.pc]
        else:
            raise DebugError("No line number information available.")
        pc = pcs[0]
        here = self.repl.dbg.line_of(pc)
        if here is None:
            self.repl.say(f"No line number information available for address 0x{pc:08x} {self.repl.where(pc)}")
            return
        start = pc
        func = self.repl.dbg.function_at(pc)
        end_limit = self.repl.dbg.mdef.body(func).code_end if func is not None else pc + 1
        end = pc
        while end < end_limit and self.repl.dbg.line_of(end) == here:
            end = self.repl.dbg.next_pc(end)
        self.repl.say(f'Line {here[1]} of "{here[0]}" starts at address 0x{start:08x} {self.repl.where(start)} '
                 f"and ends at 0x{end:08x} {self.repl.where(end)}.")

    def info_source(self, arg: str) -> None:
        """info source: the current source file."""
        frame = self.repl.frame(required=False)
        file = frame.file if frame is not None and frame.has_source else None
        if file is None and self.repl.list_last is not None:
            file = self.repl.list_last[0]
        if file is None:
            self.repl.say("No current source file." if self.repl.dbg.info is not None else
                     "No current source file.\n(the module has no DWARF line information)")
            return
        self.repl.say(f"Current source file is {file}")
        lines = self.repl.source_lines(file)
        for candidate in (Path(file), self.repl.program.path.parent / file, Path.cwd() / file):
            if candidate.is_file():
                self.repl.say(f"Located in {candidate.resolve()}")
                break
        if lines is not None:
            self.repl.say(f"Contains {len(lines)} lines.")
        self.repl.say("Source language is c.")
        self.repl.say("Producer is clang (DWARF in the module's custom sections).")

    def info_display(self, arg: str) -> None:
        """info display: the expressions shown at every stop."""
        if not self.repl.displays:
            self.repl.say("There are no auto-display expressions now.")
            return
        self.repl.say("Auto-display expressions now in effect:\nNum Enb Expression")
        for d in self.repl.displays:
            fmt = f"/{d.fmt} " if d.fmt else ""
            self.repl.say(f"{d.number}:   {'y' if d.enabled else 'n'}  {fmt}{d.expression}")
