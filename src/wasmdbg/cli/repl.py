"""``wasmdbg debug``: a gdb-style command line over :class:`~wasmdbg.debug.source.SourceDebugger`.

The REPL is a :class:`cmd.Cmd` with injectable streams.  It only parses
commands and formats answers; every decision (breakpoint rules, stepping,
values) belongs to the debugger core.  The guest runs on the session's
worker thread; this thread waits for its stops.

Where command lines come from, in order::

    -ex CMD (each, in order) ─► -x FILE (each line) ─► stdin ─► EOF = quit
                                                       │
                     a terminal: readline with history, prompt "(wasmdbg) "
                     a pipe:     lines as they come, no prompt

``--batch`` stops after the -ex / -x commands.  Like gdb, a command name may
be any unambiguous prefix (plus gdb's one-letter aliases), and an empty line
repeats the last stepping or examining command when reading from a terminal.

Output: the REPL's lines and the guest's standard output and error go to the
same stream through one lock, so a guest line is never cut by a REPL line.
"""

from __future__ import annotations

import cmd
import contextlib
import ctypes
import os
import re
import shlex
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..debug import expr as ex
from ..debug import source as src
from ..debug import sourceframes, wasmvalues
from ..debug import values as cv
from ..debug.source import Ended, Launch, Outcome, Paused, PauseReason, SourceDebugger
from ..debug.sourceframes import CFrameContext, SourceFrame
from ..debug.wasmvalues import WasmValue
from ..dwarf.types import ArrayType, FunctionType, StructType, TypedefType, ptype, type_name
from ..errors import DebugError, WasmError
from ..wasm.code import iter_raw
from ..wasm.opcodes import OPCODES, Imm
from .replinfo import InfoCommands

__all__ = ["Program", "Repl", "run_debugger"]

PROMPT = "(wasmdbg) "

#: gdb's abbreviations that are not plain prefixes (or would be ambiguous).
ALIASES = {
    "b": "break", "br": "break", "c": "continue", "cont": "continue", "n": "next", "s": "step",
    "si": "stepi", "ni": "nexti", "bt": "backtrace", "where": "backtrace", "p": "print",
    "q": "quit", "l": "list", "i": "info", "fin": "finish", "u": "until", "disas": "disassemble",
    "tb": "tbreak", "d": "delete", "r": "run", "f": "frame", "inspect": "print", "k": "kill",
    "e": "echo", "h": "help",
}

#: Commands an empty line repeats (gdb's repeatable ones that matter here).
REPEATABLE = frozenset(
    ["step", "next", "stepi", "nexti", "continue", "finish", "until", "advance", "x", "list", "up", "down", "backtrace"]
)


@dataclass
class Program:
    """What ``wasmdbg debug`` runs: the module file, its argv and its WASI environment."""

    path: Path
    args: list[str] = field(default_factory=list)
    env: list[tuple[str, str]] | None = None
    dirs: list[tuple[str, str]] = field(default_factory=list)
    invoke: str | None = None
    argv0: str | None = None

    def __post_init__(self) -> None:
        import wasmdbg

        self._api: Any = wasmdbg
        config = wasmdbg.Config()
        config.guest_debug = True
        self.engine = wasmdbg.Engine(config)
        from .modfile import read_module_bytes

        self.module = wasmdbg.Module(self.engine, read_module_bytes(self.path))

    def launch(self, args: Sequence[str], write: Callable[[bytes], None], stdin: str | None,
               inherit_stdin: bool) -> Launch:
        """A fresh Store with WASI and the module instantiated; the entry calls ``_start``."""
        api = self._api
        store = api.Store(self.engine)
        wasi = api.WasiConfig()
        wasi.argv = [self.argv0 if self.argv0 is not None else str(self.path), *args]
        wasi.stdout_custom = write
        wasi.stderr_custom = write
        if stdin is not None:
            wasi.stdin_file = stdin
        elif inherit_stdin:
            wasi.inherit_stdin()
        wasi.env = self.env or []
        for host, guest in self.dirs:
            wasi.preopen_dir(host, guest)
        store.set_wasi(wasi)
        linker = api.Linker(self.engine)
        linker.define_wasi()
        instance = linker.instantiate(store, self.module)
        exports = instance.exports(store)
        if self.invoke is not None:
            return Launch(store, instance, self._invoker(store, exports, args))
        start = exports.get("_start")
        if isinstance(start, api.Func):
            return Launch(store, instance, lambda: start(store))
        main = exports.get("main")
        if isinstance(main, api.Func) and not main.type(store).params:
            return Launch(store, instance, lambda: main(store))
        raise WasmError("module exports no _start function (nor a main without parameters)")


    def _invoker(self, store: Any, exports: Any, args: Sequence[str]) -> Callable[[], Any]:
        from .values import parse_value

        api = self._api
        func = exports.get(self.invoke)
        if not isinstance(func, api.Func):
            raise WasmError(f"module has no exported function {self.invoke!r}")
        params = [str(p) for p in func.type(store).params]
        if len(params) != len(args):
            raise WasmError(f"{self.invoke} takes {len(params)} arguments, got {len(args)}")
        values = [parse_value(a, t) for a, t in zip(args, params, strict=True)]
        initialize = exports.get("_initialize")

        def call() -> Any:
            if isinstance(initialize, api.Func):
                initialize(store)
            return func(store, *values)

        return call


class _Console:
    """The one output stream, shared by the REPL and the guest under a lock."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            self.stream.write(text)
            self.stream.flush()

    def guest(self, data: bytes) -> None:
        with self.lock:
            buffer = getattr(self.stream, "buffer", None)
            if buffer is not None:
                self.stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                self.stream.write(data.decode("utf-8", errors="replace"))
                self.stream.flush()


class _Quit(Exception):
    """``quit`` was entered (or input ended)."""


@dataclass
class _Display:
    number: int
    expression: str
    fmt: str | None
    enabled: bool = True


class Repl(cmd.Cmd):
    """The gdb-style REPL (see the module docstring)."""

    prompt = PROMPT
    intro = None

    def __init__(
        self,
        program: Program,
        *,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.input = stdin if stdin is not None else sys.stdin
        self.output = stdout if stdout is not None else sys.stdout
        super().__init__(stdin=self.input, stdout=self.output)
        self.console = _Console(self.output)
        if interactive is None:
            interactive = self.input is sys.stdin and _isatty(self.input)
        self.interactive = interactive
        self.repeat_empty = interactive
        self.program = program
        self.dbg = SourceDebugger(program.module)
        self.frame_no = 0
        self.displays: list[_Display] = []
        self._next_display = 1
        self.pending: list[str] = []
        self.last_error = False
        self._x_next: int | None = None
        self._x_fmt = ("x", "w")
        self._x_count = 1
        self._list_next: tuple[str, int] | None = None
        self.run_args: list[str] = list(program.args)
        self._exit_status = 0
        self._sources: dict[str, list[str] | None] = {}
        self._last_shown: tuple[int, str, int] | None = None
        self.list_last: tuple[str, int, int] | None = None
        self.listsize = 10
        self.info = InfoCommands(self)
        if self.dbg.dwarf_note is not None and self.dbg.mdef.debug_sections():
            self.say(f"warning: {self.dbg.dwarf_note}")

    # -- output ---------------------------------------------------------------

    def say(self, text: str = "") -> None:
        """Print one line (or several)."""
        self.console.write(text + "\n")

    def error(self, text: str) -> None:
        """Print an error message."""
        self.last_error = True
        self.console.write(text + "\n")

    # -- input ------------------------------------------------------------------

    def read_line(self, prompt: str) -> str:
        """The next command line (raises _Quit at the end of input)."""
        if self.pending:
            return self.pending.pop(0)
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                self.say("quit")
                raise _Quit from None
        line = self.input.readline()
        if not line:
            raise _Quit
        return line.rstrip("\n")

    def run_commands(self, lines: Sequence[str], *, stop_on_error: bool = False) -> bool:
        """Run command lines in order; False if one failed and ``stop_on_error``."""
        self.pending = list(lines) + self.pending
        count = len(lines)
        while count > 0 and self.pending:
            before = len(self.pending)
            line = self.pending.pop(0)
            self.last_error = False
            self.execute(line)
            consumed = before - len(self.pending)  # `commands` may read lines too
            count -= consumed
            if self.last_error and stop_on_error:
                del self.pending[: max(count, 0)]
                return False
        return True

    def loop(self) -> None:
        """Read and run commands until ``quit`` or the end of input."""
        with self._history():
            while True:
                try:
                    line = self.read_line(self.prompt)
                except _Quit:
                    return
                except KeyboardInterrupt:
                    self.say("Quit")
                    continue
                self.last_error = False
                try:
                    self.execute(line)
                except _Quit:
                    return

    @contextlib.contextmanager
    def _history(self) -> Iterator[None]:
        if not self.interactive:
            yield
            return
        try:
            import readline
        except ImportError:  # pragma: no cover - readline is part of CPython on Linux
            yield
            return
        path = Path.home() / ".wasmdbg_history"
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                readline.set_history_length(1000)
                readline.write_history_file(path)

    def execute(self, line: str) -> None:
        """Run one command line, reporting errors (raises _Quit for quit)."""
        try:
            self.onecmd(line)
        except _Quit:
            raise
        except KeyboardInterrupt:
            self.error("Quit")
        except (DebugError, WasmError) as exc:
            self.error(str(exc))
        except OSError as exc:
            self.error(f"{exc.filename or ''}: {exc.strerror or exc}")

    # -- cmd.Cmd plumbing -------------------------------------------------------

    def commands(self) -> list[str]:
        """Every command name."""
        return sorted(name[3:] for name in dir(self) if name.startswith("do_"))

    def resolve_command(self, word: str) -> str:
        """The full command name for ``word`` (alias or unambiguous prefix)."""
        if word in ALIASES:
            return ALIASES[word]
        names = self.commands()
        if word in names:
            return word
        matches = [n for n in names if n.startswith(word)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise DebugError(f'Undefined command: "{word}".  Try "help".')
        raise DebugError(f'Ambiguous command "{word}": {", ".join(matches)}.')

    def parseline(self, line: str) -> tuple[str | None, str | None, str]:
        line = line.strip()
        if not line:
            return None, None, line
        m = re.match(r"[A-Za-z_-]+", line)
        if m is None:
            return None, None, line
        word = m.group()
        return word, line[m.end():].strip(), line

    def onecmd(self, line: str) -> bool:
        stripped = line.strip()
        if stripped.startswith("#"):
            return False
        if not stripped:
            return self.emptyline()
        word, arg, _ = self.parseline(stripped)
        if word is None:
            raise DebugError(f'Undefined command: "{stripped}".  Try "help".')
        name = self.resolve_command(word)
        self.lastcmd = stripped if name in REPEATABLE else ""
        func: Callable[[str], Any] = getattr(self, "do_" + name)
        func(arg or "")
        return False

    def emptyline(self) -> bool:
        if self.repeat_empty and self.lastcmd:
            word, arg, _ = self.parseline(self.lastcmd)
            name = self.resolve_command(word or "")
            if name in ("x", "list"):
                arg = ""  # continue where the last one stopped
            getattr(self, "do_" + name)(arg or "")
        return False

    # -- helpers ------------------------------------------------------------------

    def frames(self) -> list[SourceFrame]:
        """The paused guest's source frames (one per Wasm frame without DWARF)."""
        return self.dbg.stack()

    def frame(self, required: bool = True) -> Any:
        """The selected (source) frame."""
        frames = self.frames()
        if not frames:
            if required:
                raise DebugError("No frame selected." if self.dbg.session is None else "No stack.")
            return None
        return frames[min(self.frame_no, len(frames) - 1)]

    def launch(self) -> Launch:
        """A new run of the program with the current ``run`` arguments."""
        args, stdin = _split_redirect(self.run_args)
        return self.program.launch(args, self.console.guest, stdin, self.interactive)

    def where(self, pc: int) -> str:
        """``<fib+4>`` for a pc."""
        func = self.dbg.function_at(pc)
        if func is None:
            return ""
        return f"<{self.dbg.function_name(func)}+{pc - self.dbg.mdef.body(func).code_start}>"

    def args_text(self, frame: SourceFrame) -> str:
        """``n=5, m=2``: a frame's parameters (C values with DWARF, else Wasm locals)."""
        parts = []
        if frame.function is not None:
            ctx = CFrameContext(self.dbg, frame)
            for var in frame.parameters():
                try:
                    text = cv.format_value(ctx.variable(var), ctx, top=False)
                except DebugError as exc:
                    text = f"<error: {exc}>"
                parts.append(f"{var.name}={text}")
            return ", ".join(parts)
        wasm = frame.wasm
        for i in range(self.dbg.num_params(wasm.func_index)):
            name = self.dbg.local_name(wasm.func_index, i)
            try:
                text = self.value_text(self.dbg.local_value(wasm, i))
            except DebugError:
                text = "<unavailable>"
            parts.append(f"{name}={text}")
        return ", ".join(parts)

    def frame_line(self, frame: SourceFrame, level: int | None = None, *, address: bool | None = None) -> str:
        """``#1  0x0000002a in fib (n=5) at fib.c:7`` (address only when mid-line)."""
        head = f"#{level:<3}" if level is not None else ""
        if address is None:
            address = not (frame.has_source and frame.at_line_start) and frame.depth == 0
            if frame.depth > 0:
                address = False
        addr = f"0x{frame.pc:08x} in " if address else ""
        where = f" at {frame.file}:{frame.line}" if frame.has_source else ""
        return f"{head}{addr}{frame.name} ({self.args_text(frame)}){where}"

    def value_text(self, value: Any, fmt: str | None = None) -> str:
        """A value as print shows it."""
        if isinstance(value, WasmValue):
            return wasmvalues.format_scalar(value.value, value.mtype, fmt)
        if isinstance(value, cv.CValue):
            return cv.format_value(value, CFrameContext(self.dbg, self.frame(required=False)), fmt)
        return str(value)

    # -- source text -----------------------------------------------------------

    def source_lines(self, file: str) -> list[str] | None:
        """The lines of a source file (found as written, next to the module, or in cwd)."""
        if file in self._sources:
            return self._sources[file]
        lines: list[str] | None = None
        for candidate in (Path(file), self.program.path.parent / file, Path.cwd() / file):
            try:
                lines = candidate.read_text(errors="replace").splitlines()
            except OSError:
                continue
            break
        self._sources[file] = lines
        return lines

    def source_line(self, file: str, line: int) -> str:
        """``7\t    if (n < 2)`` (or gdb's note when the file is missing)."""
        lines = self.source_lines(file)
        if lines is None:
            return f"{line}\tin {file}"
        if not 1 <= line <= len(lines):
            return f"Line number {line} out of range; \"{file}\" has {len(lines)} lines."
        return f"{line}\t{lines[line - 1]}"

    def instruction_text(self, pc: int) -> str:
        """The Wasm instruction at ``pc`` as text."""
        func = self.dbg.function_at(pc)
        if func is None:
            raise DebugError(f"Cannot access memory at address 0x{pc:x}")
        end = self.dbg.mdef.body(func).code_end
        _offset, op, imm = next(iter_raw(self.dbg.mdef.raw, pc, end, exact=False))
        return format_instruction(self.dbg, op, imm)

    # -- reporting stops --------------------------------------------------------

    def report(self, outcome: Outcome, *, header: bool = True) -> None:
        """Print a stop (or the exit), then the displays and breakpoint commands."""
        self.frame_no = 0
        self._x_next = None
        self.list_last = None
        if isinstance(outcome, Ended):
            self._last_shown = None
            self.report_exit(outcome)
            return
        stack = self.frames()
        frame = stack[0] if stack else None
        reason = outcome.reason
        bp_commands = outcome.breakpoint.commands if outcome.breakpoint is not None else []
        if reason == PauseReason.BREAKPOINT and bp_commands[:1] == ["silent"]:
            if frame is not None:
                self._last_shown = (frame.wasm.fp, frame.name, frame.depth)
            self.run_breakpoint_commands(bp_commands)
            return
        if reason == PauseReason.BREAKPOINT and outcome.breakpoint is not None:
            bp = outcome.breakpoint
            if bp.cond_error is not None:
                self.say(f"Error in testing condition for breakpoint {bp.number}:")
                self.say(bp.cond_error)
            kind = "Temporary breakpoint" if bp.temporary else "Breakpoint"
            self.say("")
            self.say(f"{kind} {bp.number}, {self.frame_line(frame)}" if frame else f"{kind} {bp.number}")
        elif reason == PauseReason.TRAP:
            self.say("")
            self.say(f"Program stopped: wasm trap: {_trap_reason(outcome.error)}")
            if frame is not None:
                self.say(self.frame_line(frame))
        elif reason == PauseReason.HOST_ERROR:
            exc = outcome.error
            self.say("")
            self.say(f"Program stopped: host function error: {type(exc).__name__}: {exc}")
            if frame is not None:
                self.say(self.frame_line(frame))
        elif reason == PauseReason.INTERRUPTED:
            self.say("")
            self.say("Program received signal SIGINT, Interrupt.")
            if frame is not None:
                self.say(self.frame_line(frame))
        elif frame is not None and header:
            same = self._last_shown == (frame.wasm.fp, frame.name, frame.depth)
            if not (same and frame.has_source and reason == PauseReason.STEP):
                self.say(self.frame_line(frame))
            elif not frame.at_line_start:
                self.console.write(f"0x{frame.pc:08x}\t")
        if frame is not None:
            self.show_position(frame)
            self._last_shown = (frame.wasm.fp, frame.name, frame.depth)
        if reason == PauseReason.FINISH and outcome.returned:
            value = outcome.returned[0] if len(outcome.returned) == 1 else outcome.returned
            number = self.dbg.record(value)
            shown = ", ".join(self.value_text(v) for v in outcome.returned)
            self.say(f"Value returned is ${number} = {shown}")
        self.show_displays()
        if reason == PauseReason.BREAKPOINT and outcome.breakpoint is not None:
            self.run_breakpoint_commands(outcome.breakpoint.commands)

    def show_position(self, frame: SourceFrame) -> None:
        """The current source line, or (without one) the current Wasm instruction."""
        if frame.has_source and frame.file is not None:
            self.say(self.source_line(frame.file, frame.line))
            return
        with contextlib.suppress(DebugError):
            self.say(f"=> 0x{frame.pc:08x} {self.where(frame.pc)}:\t{self.instruction_text(frame.pc)}")

    def report_exit(self, ended: Ended) -> None:
        """``[Inferior 1 (wasm) exited normally]`` and friends."""
        if ended.exit_code is not None:
            code = ended.exit_code
            if code == 0:
                self.say("[Inferior 1 (wasm) exited normally]")
            else:
                self.say(f"[Inferior 1 (wasm) exited with code {code:02o}]")
            self._exit_status = code
            return
        if ended.error is not None:
            reason = _trap_reason(ended.error)
            if "abort" in reason and "debugger" in reason:
                self.say("[Inferior 1 (wasm) killed]")
            else:
                self.say(f"[Inferior 1 (wasm) terminated: {reason}]")
            return
        if ended.result is not None:
            self.say(f"[Inferior 1 (wasm) returned {ended.result}]")
        self.say("[Inferior 1 (wasm) exited normally]")

    def run_breakpoint_commands(self, lines: Sequence[str]) -> None:
        """A breakpoint's ``commands``: stop after one that resumes the guest."""
        for line in lines:
            if line.strip() == "silent":
                continue
            word, _arg, _ = self.parseline(line)
            self.execute(line)
            if word is not None:
                with contextlib.suppress(DebugError):
                    if self.resolve_command(word) in ("continue", "next", "step", "stepi", "nexti",
                                                       "finish", "until", "advance", "run"):
                        return

    def show_displays(self) -> None:
        """Print every enabled display expression."""
        frame = self.frame(required=False)
        if frame is None:
            return
        for d in self.displays:
            if d.enabled:
                self.show_display(d, frame)

    def show_display(self, d: _Display, frame: Any) -> None:
        """``1: n = 5``."""
        fmt = f"/{d.fmt} " if d.fmt else ""
        try:
            text = self.value_text(self.dbg.evaluate(d.expression, frame), d.fmt)
        except DebugError as exc:
            text = f"<error: {exc}>"
        self.say(f"{d.number}: {fmt}{d.expression} = {text}")

    def resume(self, operation: Callable[[], Outcome], *, header: bool = True) -> None:
        """Run a resuming operation and report where it stopped."""
        outcome = operation()
        self.report(outcome, header=header)

    # ==========================================================================
    # Commands.  The first line of each docstring is its one-line help.

    # -- running ----------------------------------------------------------------

    def do_run(self, arg: str) -> None:
        """Start the program (again): run [ARGS...] [< FILE].

        Without ARGS, the arguments of the last run (or of the command line)
        are used.  The program runs until a breakpoint, a trap or its exit.
        """
        if arg:
            self.run_args = shlex.split(arg)
        launch = self.launch()
        self.resume(lambda: self.dbg.start(launch))

    def do_start(self, arg: str) -> None:
        """Run to the beginning of main: a temporary breakpoint on main, then run."""
        for name in ("main", "__main_argc_argv", "__original_main", "_start"):
            try:
                bp = self.dbg.add_breakpoint(name, temporary=True)
            except DebugError:
                continue
            self.say(f"Temporary breakpoint {bp.number} at {self.breakpoint_where(bp)}")
            break
        self.do_run(arg)

    def do_continue(self, arg: str) -> None:
        """Continue the program: continue [N] (N: ignore this breakpoint N-1 more times)."""
        if arg.strip():
            count = int(arg, 0)
            stop = self._current_breakpoint()
            if stop is not None and count > 1:
                self.dbg.set_ignore(stop.number, count - 1)
                self.say(f"Will ignore next {count - 1} crossings of breakpoint {stop.number}.  Continuing.")
        self.resume(self.dbg.cont)

    def _current_breakpoint(self) -> Any:
        frame = self.frame(required=False)
        if frame is None:
            return None
        for bp in self.dbg.breakpoints:
            if frame.pc in bp.pcs:
                return bp
        return None

    def _count(self, arg: str) -> int:
        text = arg.strip()
        if not text:
            return 1
        value = self.dbg.evaluate(text, self.frame(required=False))
        return int(value.value) if isinstance(value, WasmValue) else int(cv.scalar_of(value))

    def _repeat(self, arg: str, operation: Callable[[], Outcome], *, header: bool = True) -> None:
        count = self._count(arg)
        for i in range(count):
            outcome = operation()
            last = i == count - 1
            if not isinstance(outcome, Paused) or outcome.reason not in (PauseReason.STEP, PauseReason.FINISH):
                self.report(outcome)
                return
            if last:
                self.report(outcome, header=header)

    def do_stepi(self, arg: str) -> None:
        """Step one Wasm instruction, entering calls: stepi [N]."""
        self._repeat(arg, self.dbg.stepi)

    def do_nexti(self, arg: str) -> None:
        """Step one Wasm instruction, stepping over calls: nexti [N]."""
        self._repeat(arg, self.dbg.nexti)

    def do_step(self, arg: str) -> None:
        """Step to the next source line, entering calls: step [N].

        In code without line information, runs until the function returns.
        """
        self._repeat(arg, lambda: self._step_line(into=True))

    def do_next(self, arg: str) -> None:
        """Step to the next source line, stepping over calls: next [N]."""
        self._repeat(arg, lambda: self._step_line(into=False))

    def _step_line(self, *, into: bool, until: bool = False) -> Outcome:
        frames = self.frames()
        if not frames:
            raise DebugError("The program is not being run.")
        frame = frames[0]
        if frame.function is None:
            self.say(
                f"Single stepping until exit from function {frame.name},\n"
                "which has no line number information."
            )
        return self.dbg.step_line(into=into, until=until)

    def _wasm_level(self) -> int:
        """The index of the selected frame's Wasm frame."""
        frame = self.frame()
        return next(i for i, f in enumerate(self.dbg.frames()) if f is frame.wasm)

    def do_finish(self, arg: str) -> None:
        """Run until the selected frame returns, and print the value it returned."""
        frame = self.frame()
        level = self.frame_no
        if level + 1 >= len(self.frames()):
            raise DebugError('"finish" not meaningful in the outermost frame.')
        self.say(f"Run till exit from {self.frame_line(frame, level)}")
        self.resume(lambda: self.dbg.finish_source(level))

    def do_until(self, arg: str) -> None:
        """Continue until a location, or (without one) a source line past the current one: until [LOC].

        Without LOCATION, like next, but a jump back in a loop does not stop.
        """
        if arg.strip():
            level = self._wasm_level()
            self.resume(lambda: self.dbg.advance(arg, level))
            return
        self.resume(lambda: self._step_line(into=False, until=True))

    def do_advance(self, arg: str) -> None:
        """Continue until LOCATION is reached, or the current frame returns: advance LOCATION."""
        if not arg.strip():
            raise DebugError("Argument required (a location).")
        level = self._wasm_level()
        self.resume(lambda: self.dbg.advance(arg, level))

    def do_kill(self, arg: str) -> None:
        """Kill the running program."""
        if self.dbg.session is None:
            raise DebugError("The program is not being run.")
        self.dbg.kill()
        self.say("[Inferior 1 (wasm) killed]")

    def do_quit(self, arg: str) -> None:
        """Exit the debugger (killing the program)."""
        self.dbg.kill()
        raise _Quit

    # -- breakpoints ----------------------------------------------------------------

    def _break(self, arg: str, temporary: bool) -> None:
        spec, cond = _split_condition(arg)
        bp = self.dbg.add_breakpoint(spec, temporary=temporary, frame=self.frame(required=False))
        if cond:
            try:
                self.dbg.set_condition(bp.number, cond)
            except DebugError:
                self.dbg.delete_breakpoint(bp.number)
                raise
        kind = "Temporary breakpoint" if temporary else "Breakpoint"
        self.say(f"{kind} {bp.number} at {self.breakpoint_where(bp)}")

    def breakpoint_where(self, bp: src.UserBreakpoint) -> str:
        """``0x0000002a: file fib.c, line 7.`` / ``0x0000002a`` / ``fib.c:7. (3 locations)``."""
        if len(bp.pcs) == 1:
            here = self.dbg.line_of(bp.pcs[0])
            if here is not None:
                return f"0x{bp.pcs[0]:08x}: file {here[0]}, line {here[1]}."
            return f"0x{bp.pcs[0]:08x}"
        here = self.dbg.line_of(bp.pcs[0])
        spec = f"{here[0]}:{here[1]}" if here is not None else bp.spec
        return f"{spec}. ({len(bp.pcs)} locations)"

    def do_break(self, arg: str) -> None:
        """Set a breakpoint: break [LOCATION] [if CONDITION].

        LOCATION is a function name, *ADDRESS (a module offset), or with
        DWARF FILE:LINE, LINE or FILE:FUNCTION.  Without LOCATION, the
        current pc of the selected frame.
        """
        self._break(arg, False)

    def do_tbreak(self, arg: str) -> None:
        """Set a temporary breakpoint (deleted when hit): tbreak LOCATION [if CONDITION]."""
        self._break(arg, True)

    def _numbers(self, arg: str) -> list[int]:
        numbers: list[int] = []
        for word in arg.split():
            m = re.fullmatch(r"(\d+)-(\d+)", word)
            if m:
                numbers.extend(range(int(m.group(1)), int(m.group(2)) + 1))
            elif word.isdigit():
                numbers.append(int(word))
            else:
                raise DebugError(f"Convenience variable must have integer value.\nBad breakpoint argument: '{word}'")
        return numbers

    def do_delete(self, arg: str) -> None:
        """Delete breakpoints: delete [N...] (all of them without N); delete display N."""
        if arg.startswith("display"):
            self.do_undisplay(arg[len("display"):])
            return
        if arg.startswith("breakpoints"):
            arg = arg[len("breakpoints"):]
        numbers = self._numbers(arg) if arg.strip() else [bp.number for bp in self.dbg.breakpoints]
        for n in numbers:
            self.dbg.delete_breakpoint(n)

    def do_clear(self, arg: str) -> None:
        """Delete the breakpoints at a location: clear LOCATION."""
        pcs = set(self.dbg.resolve(arg, self.frame(required=False)))
        gone = [bp.number for bp in self.dbg.breakpoints if pcs & set(bp.pcs)]
        if not gone:
            raise DebugError(f"No breakpoint at {arg.strip()}.")
        for n in gone:
            self.dbg.delete_breakpoint(n)
        self.say(f"Deleted breakpoint{'s' if len(gone) > 1 else ''} {' '.join(map(str, gone))} ")

    def do_disable(self, arg: str) -> None:
        """Disable breakpoints: disable [N...]; disable display N."""
        if arg.startswith("display"):
            for d in self._display_numbers(arg[len("display"):]):
                d.enabled = False
            return
        numbers = self._numbers(arg) if arg.strip() else [bp.number for bp in self.dbg.breakpoints]
        for n in numbers:
            self.dbg.enable_breakpoint(n, False)

    def do_enable(self, arg: str) -> None:
        """Enable breakpoints: enable [once] [N...]; enable display N."""
        if arg.startswith("display"):
            for d in self._display_numbers(arg[len("display"):]):
                d.enabled = True
            return
        temporary = False
        if arg.startswith("once"):
            temporary, arg = True, arg[4:]
        numbers = self._numbers(arg) if arg.strip() else [bp.number for bp in self.dbg.breakpoints]
        for n in numbers:
            self.dbg.enable_breakpoint(n, True)
            if temporary:
                self.dbg.get_breakpoint(n).temporary = True

    def do_condition(self, arg: str) -> None:
        """Stop at breakpoint N only if CONDITION is true: condition N [CONDITION]."""
        parts = arg.split(None, 1)
        if not parts or not parts[0].isdigit():
            raise DebugError("Argument required (breakpoint number).")
        number = int(parts[0])
        cond = parts[1] if len(parts) > 1 else None
        self.dbg.set_condition(number, cond)
        if cond is None:
            self.say(f"Breakpoint {number} now unconditional.")

    def do_ignore(self, arg: str) -> None:
        """Ignore the next COUNT crossings of breakpoint N: ignore N COUNT."""
        parts = arg.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise DebugError("Argument required (a breakpoint number and a count).")
        number, count = int(parts[0]), int(parts[1], 0)
        self.dbg.set_ignore(number, count)
        if count == 0:
            self.say(f"Will stop next time breakpoint {number} is reached.")
        elif count == 1:
            self.say(f"Will ignore next crossing of breakpoint {number}.")
        else:
            self.say(f"Will ignore next {count} crossings of breakpoint {number}.")

    def do_commands(self, arg: str) -> None:
        """Commands to run when breakpoint N stops: commands [N], then lines, then end."""
        if arg.strip():
            number = int(arg.split()[0])
        elif self.dbg.breakpoints:
            number = self.dbg.breakpoints[-1].number
        else:
            raise DebugError("No breakpoints specified.")
        bp = self.dbg.get_breakpoint(number)
        if self.interactive:
            self.say(f"Type commands for breakpoint(s) {number}, one per line.\n"
                     'End with a line saying just "end".')
        lines = []
        while True:
            try:
                line = self.read_line(">")
            except _Quit:
                break
            if line.strip() == "end":
                break
            lines.append(line.strip())
        bp.commands = lines

    # -- stack ----------------------------------------------------------------------

    def do_backtrace(self, arg: str) -> None:
        """Print the stack, innermost frame first: backtrace [N | -N]."""
        frames = self.frames()
        if not frames:
            raise DebugError("No stack.")
        shown = list(enumerate(frames))
        text = arg.strip().split()
        limit = next((int(w) for w in text if re.fullmatch(r"-?\d+", w)), None)
        if limit is not None:
            shown = shown[:limit] if limit >= 0 else shown[limit:]
        for level, frame in shown:
            self.say(self.frame_line(frame, level, address=self.show_address(level)))
        if limit is not None and 0 <= limit < len(frames):
            self.say("(More stack frames follow...)")

    def show_address(self, level: int) -> bool:
        """Whether frame ``level``'s line shows its pc, as gdb decides.

        Not for inlined frames and the frames they are inlined into; for
        other callers yes (their pc is mid-line); for the innermost frame
        only when it is not at the start of a line.
        """
        frames = self.frames()
        frame = frames[level]
        if not frame.has_source:
            return True
        if frame.depth > 0 or (level > 0 and frames[level - 1].wasm is frame.wasm):
            return False
        return level > 0 or not frame.at_line_start

    def _select(self, level: int) -> None:
        frames = self.frames()
        if not frames:
            raise DebugError("No stack.")
        if not 0 <= level < len(frames):
            raise DebugError(f"No frame at level {level}.")
        self.frame_no = level
        frame = frames[level]
        self.say(self.frame_line(frame, level, address=self.show_address(level)))
        self.show_position(frame)

    def do_frame(self, arg: str) -> None:
        """Select and print a stack frame: frame [N]."""
        self._select(int(arg, 0) if arg.strip() else self.frame_no)

    def do_up(self, arg: str) -> None:
        """Select the frame N (default 1) levels out (towards the caller)."""
        frames = self.frames()
        target = self.frame_no + (int(arg, 0) if arg.strip() else 1)
        if frames and target >= len(frames):
            if self.frame_no == len(frames) - 1:
                raise DebugError("Initial frame selected; you cannot go up.")
            target = len(frames) - 1
        self._select(target)

    def do_down(self, arg: str) -> None:
        """Select the frame N (default 1) levels in (towards the innermost)."""
        target = self.frame_no - (int(arg, 0) if arg.strip() else 1)
        if target < 0:
            if self.frame_no == 0:
                raise DebugError("Bottom (innermost) frame selected; you cannot go down.")
            target = 0
        self._select(target)

    # -- info -------------------------------------------------------------------------

    def do_info(self, arg: str) -> None:
        """Show things about the program: info breakpoints|locals|args|frame|registers|functions|line|source|display."""
        parts = arg.split(None, 1)
        if not parts:
            raise DebugError('"info" must be followed by the name of an info command.')
        subs = ["args", "breakpoints", "display", "frame", "functions", "line", "locals", "registers",
                "source", "stack", "watchpoints", "all-registers"]
        word = parts[0]
        matches = [s for s in subs if s.startswith(word)]
        if word in ("b", "br", "break"):
            matches = ["breakpoints"]
        if word == "s":
            matches = ["stack"]
        if len(matches) != 1:
            raise DebugError(f'Undefined info command: "{word}".  Try "help info".')
        name = matches[0]
        rest = parts[1] if len(parts) > 1 else ""
        if name == "stack":
            self.do_backtrace(rest)
            return
        getattr(self.info, "info_" + name.replace("-", "_"))(rest)

    # -- data -------------------------------------------------------------------------

    def do_print(self, arg: str) -> None:
        """Print the value of an expression: print[/FMT] EXPR (FMT: x d u o t c f a).

        Names: a frame's locals by name or as $local0, $local1 ...; globals as
        $global0 ...; the operand stack as $stack0 (bottom) ...; $pc; value
        history as $1, $2 ... and $ (the last).  {TYPE} ADDR reads memory
        (TYPE: i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 or a C base type).
        """
        fmt, text = _split_format(arg)
        frame = self.frame(required=False)
        value = self.dbg.evaluate(text, frame) if text else self.dbg.history_value("")
        number = self.dbg.record(value)
        self.say(f"${number} = {self.value_text(value, fmt)}")

    def do_output(self, arg: str) -> None:
        """Print the value of an expression with no history number or newline."""
        fmt, text = _split_format(arg)
        self.console.write(self.value_text(self.dbg.evaluate(text, self.frame(required=False)), fmt))

    def do_echo(self, arg: str) -> None:
        """Print text (C escapes such as \\n are understood)."""
        self.console.write(arg.encode().decode("unicode_escape"))

    def do_set(self, arg: str) -> None:
        """Assign to a variable: set var NAME = EXPR (also set NAME = EXPR).

        The target may be a local, a global ($global0), an operand stack value
        or memory ({i32} ADDR).  Debugger settings (set pagination, set
        confirm, set listsize ...) are accepted.
        """
        text = arg.strip()
        if text.startswith("var ") or text.startswith("variable "):
            text = text.split(None, 1)[1]
        elif re.match(r"(pagination|confirm|height|width|print|listsize|logging|verbose|style)\b", text):
            if text.startswith("listsize"):
                self.listsize = int(text.split()[1])
            return
        self.dbg.evaluate(text, self.frame())

    def do_display(self, arg: str) -> None:
        """Print an expression at every stop: display[/FMT] EXPR (no argument: show them)."""
        if not arg.strip():
            self.show_displays()
            return
        fmt, text = _split_format(arg)
        d = _Display(self._next_display, text, fmt)
        self._next_display += 1
        self.displays.append(d)
        frame = self.frame(required=False)
        if frame is not None:
            self.show_display(d, frame)

    def _display_numbers(self, arg: str) -> list[_Display]:
        if not arg.strip():
            return list(self.displays)
        wanted = set(self._numbers(arg))
        found = [d for d in self.displays if d.number in wanted]
        if len(found) != len(wanted):
            raise DebugError("Arguments must be display numbers.")
        return found

    def do_undisplay(self, arg: str) -> None:
        """Stop displaying expressions: undisplay [N...] (all without N)."""
        for d in self._display_numbers(arg):
            self.displays.remove(d)

    def _type_of(self, text: str, expand: bool) -> str:
        frame = self.frame(required=False)
        if self.dbg.info is not None:
            try:
                node = self.dbg.parse(f"sizeof({text})")
            except DebugError:
                node = None
            if isinstance(node, ex.Unary) and isinstance(node.operand, ex.Cast) and node.operand.operand == ex.Number(0):
                ctype = cv.CEvaluator(CFrameContext(self.dbg, self.dbg.c_frame(frame))).resolve_type(node.operand.type)
                if not expand and isinstance(ctype, TypedefType):
                    ctype = ctype.target  # whatis on a typedef name unrolls one level, as gdb
                return ptype(ctype) if expand else type_name(ctype)
        value = self.dbg.evaluate(text, frame)
        if isinstance(value, WasmValue):
            return value.mtype
        return ptype(value.type) if expand else type_name(value.type)

    def do_whatis(self, arg: str) -> None:
        """Print the type of an expression (or of a type name, unrolled once): whatis EXPR."""
        self.say(f"type = {self._type_of(arg, False)}")

    def do_ptype(self, arg: str) -> None:
        """Print the full type of an expression or type name, structs expanded: ptype EXPR."""
        self.say(f"type = {self._type_of(arg, True)}")

    def do_x(self, arg: str) -> None:
        """Examine memory: x/NFU ADDR (N count, F format x d u o t a c f s i, U size b h w g)."""
        spec, text = "", arg.strip()
        if text.startswith("/"):
            spec, _, text = text[1:].partition(" ")
        m = re.fullmatch(r"(\d*)([xduotacfsi]?)([bhwg]?)", spec)
        if m is None:
            raise DebugError(f'Invalid format "{spec}".')
        count = int(m.group(1) or (self._x_count if not spec and not text else 1))
        self._x_count = count
        fmt = m.group(2) or self._x_fmt[0]
        unit = m.group(3) or (self._x_fmt[1] if fmt not in ("c", "a") else {"c": "b", "a": "w"}[fmt])
        frame = self.frame()
        if text:
            value = self.dbg.evaluate(text, frame)
            address = self.address_of(value)
        elif self._x_next is not None:
            address = self._x_next
        else:
            raise DebugError("Argument required (starting display address).")
        self._x_fmt = (fmt, unit)
        if fmt == "i":
            pc = address
            for _ in range(count):
                marker = "=> " if pc == frame.pc else "   "
                self.say(f"{marker}0x{pc:08x} {self.where(pc)}:\t{self.instruction_text(pc)}")
                pc = self.dbg.next_pc(pc)
            self._x_next = pc
            return
        if fmt == "s":
            for _ in range(count):
                data = bytearray()
                while len(data) < 4096:
                    byte = self.dbg.read_memory(frame, address + len(data), 1)
                    if byte == b"\0":
                        break
                    data += byte
                self.say(f"0x{address:08x}:\t{wasmvalues.c_string(bytes(data))}")
                address += len(data) + 1
            self._x_next = address
            return
        size = {"b": 1, "h": 2, "w": 4, "g": 8}[unit]
        per_line = {1: 8, 2: 8, 4: 4, 8: 2}[size]
        mtype = {1: "u8", 2: "u16", 4: "u32", 8: "u64"}[size]
        if fmt == "d":
            mtype = "i" + mtype[1:]
        if fmt == "f":
            mtype = {4: "f32", 8: "f64"}.get(size, "f64")
            if size < 4:
                mtype, size = "f64", 8
        raw = self.dbg.read_memory(frame, address, size * count)
        import struct

        code = wasmvalues.MEMTYPES[mtype][0]
        values = struct.unpack("<" + code * count, raw)
        for start in range(0, count, per_line):
            chunk = values[start:start + per_line]
            cells = [self._x_cell(v, mtype, fmt) for v in chunk]
            self.say(f"0x{address + start * size:08x}:\t" + "\t".join(cells))
        self._x_next = address + size * count

    def address_of(self, value: Any) -> int:
        """The address ``x`` examines for a value: a number, a pointer, or where an array or struct lies."""
        if isinstance(value, WasmValue):
            return int(value.value)
        core = value.core
        if isinstance(core, ArrayType | StructType | FunctionType):
            if value.address is None:
                raise DebugError("Attempt to take address of value not located in memory.")
            return int(value.address)
        number = cv.scalar_of(value)
        if isinstance(number, float):
            raise DebugError("Invalid number as an address.")
        return number & 0xFFFF_FFFF

    def _x_cell(self, value: int | float, mtype: str, fmt: str) -> str:
        if fmt == "x":
            return f"0x{int(value):0{wasmvalues.MEMTYPES[mtype][1] * 2}x}"
        if fmt == "c":
            return wasmvalues.format_scalar(value, "i8", "c")
        if fmt == "a":
            return f"0x{int(value):x}"
        return wasmvalues.format_scalar(value, mtype, fmt)

    # -- code -------------------------------------------------------------------------

    def do_disassemble(self, arg: str) -> None:
        """Disassemble a function: disassemble[/n] [FUNCTION | *ADDRESS].

        Lists the Wasm instructions with their module offsets; /n adds the
        native x86-64 code of each and marks its patch sites (* when enabled).
        """
        text = arg.strip()
        native = False
        if text.startswith("/"):
            mods, _, text = text[1:].partition(" ")
            native = "n" in mods or "r" in mods
        frame = self.frame(required=False)
        if text:
            pcs = self.dbg.resolve(text, frame)
            func = self.dbg.function_at(pcs[0])
        elif frame is not None:
            func = frame.wasm.func_index
        else:
            raise DebugError("No frame selected.")
        if func is None:
            raise DebugError("No function contains the specified address.")
        body = self.dbg.mdef.body(func)
        current = frame.pc if frame is not None and frame.wasm.func_index == func else None
        self.say(f"Dump of assembler code for function {self.dbg.function_name(func)}:")
        natives = self.native_code(func) if native else None
        for offset, op, imm in iter_raw(self.dbg.mdef.raw, body.code_start, body.code_end, exact=False):
            marker = "=> " if offset == current else "   "
            self.say(f"{marker}0x{offset:08x} <+{offset - body.code_start}>:\t{format_instruction(self.dbg, op, imm)}")
            if natives is not None:
                for line in natives.get(offset, ()):
                    self.say(f"\t\t{line}")
        self.say("End of assembler dump.")

    def native_code(self, func: int) -> dict[int, list[str]]:
        """Wasm pc -> lines of the x86-64 code compiled for it (needs a live run)."""
        launch = self.dbg.launch
        if launch is None or self.dbg.session is None:
            raise DebugError("disassemble /n needs a running program (its private code copy).")
        return native_listing(launch.store, self.program.module, func)

    def do_list(self, arg: str) -> None:
        """List source lines: list [LINE | FUNCTION | FILE:LINE | FILE:FUNCTION | FIRST,LAST]; again to go on.

        Lists ten lines around the place given (or around the current line),
        or the ten lines after the last listing.
        """
        if self.dbg.info is None:
            raise DebugError("No symbol table is loaded.  Use the \"file\" command.")
        text = arg.strip()
        if "," in text:  # list FIRST,LAST  /  list FIRST,  /  list ,LAST
            first_text, _, last_text = text.partition(",")
            if first_text.strip():
                file, first = self._list_center(first_text.strip())
                last = self._list_center(last_text.strip())[1] if last_text.strip() else first + self.listsize - 1
            else:
                file, last = self._list_center(last_text.strip())
                first = max(last - self.listsize + 1, 1)
            self._print_lines(file, first, last)
            return
        if text:
            center = self._list_center(text)
        elif self.list_last is not None:
            file, _first, last = self.list_last
            self._print_lines(file, last + 1, last + self.listsize)
            return
        else:
            frame = self.frame(required=False)
            if frame is not None and frame.has_source and frame.file is not None:
                center = (frame.file, frame.line)
            else:
                main = next((f for f in (self.dbg.info.function_named(n) for n in ("main", "__main_argc_argv"))
                             if f is not None), None)
                if main is None:
                    raise DebugError("No default source file.")
                center = (main.decl_file, main.decl_line)
        file, line = center
        first = max(line - self.listsize // 2, 1)
        self._print_lines(file, first, first + self.listsize - 1)

    def _list_center(self, text: str) -> tuple[str, int]:
        info = self.dbg.info
        assert info is not None
        file, _, rest = text.rpartition(":")
        if rest.isdigit():
            if not file:
                frame = self.frame(required=False)
                if self.list_last is not None:
                    file = self.list_last[0]
                elif frame is not None and frame.file:
                    file = frame.file
                else:
                    file = self.dbg.default_file() or ""
            found = next((p for p in info.source_files() if sourceframes.file_match(p, file)), None)
            if found is None:
                raise DebugError(f"No source file named {file}.")
            return found, int(rest)
        func = info.function_named(rest)
        if func is None:
            raise DebugError(f'Function "{rest}" not defined.')
        return func.decl_file, func.decl_line

    def _print_lines(self, file: str, first: int, last: int) -> None:
        lines = self.source_lines(file)
        if lines is None:
            raise DebugError(f"{first}\tin {file}\n{file}: No such file or directory.")
        if first > len(lines):
            raise DebugError(f'Line number {first} out of range; "{file}" has {len(lines)} lines.')
        last = min(last, len(lines))
        for n in range(first, last + 1):
            self.say(f"{n}\t{lines[n - 1]}")
        self.list_last = (file, first, last)

    def do_help(self, arg: str) -> None:
        """Print the list of commands, or the help of one: help [COMMAND]."""
        word = arg.strip()
        if word:
            name = self.resolve_command(word)
            doc = getattr(self, "do_" + name).__doc__ or ""
            self.say(_dedent(doc))
            return
        self.say("List of commands:\n")
        for name in self.commands():
            doc = (getattr(self, "do_" + name).__doc__ or "").strip().splitlines()
            self.say(f"{name} -- {doc[0] if doc else ''}")
        self.say('\nType "help" followed by a command name for its full documentation.')
        self.say("Command name abbreviations are allowed if unambiguous.")


# --------------------------------------------------------------------------
# Wasm and native code as text


def format_instruction(dbg: SourceDebugger, op: int, imm: object) -> str:
    """``call 3 <fib>``, ``i32.load offset=8``, ``local.get 0 <n>``."""
    info = OPCODES.get(op)
    if info is None:
        return f"<unknown opcode 0x{op:x}>"
    name = info.name
    kind = info.imm
    if kind == Imm.NONE or imm is None:
        return name
    if kind == Imm.FUNC:
        return f"{name} {imm} <{dbg.function_name(int(imm))}>"  # type: ignore[call-overload]
    if kind == Imm.MEMARG:
        memarg: tuple[int, int] = imm  # type: ignore[assignment]
        align, offset = memarg
        parts = [name]
        if offset:
            parts.append(f"offset={offset}")
        if align != info.natural_align:
            parts.append(f"align={1 << align}")
        return " ".join(parts)
    if kind in (Imm.F32, Imm.F64):
        import struct

        bits = int(imm)  # type: ignore[call-overload]
        value = struct.unpack("<f", struct.pack("<I", bits))[0] if kind == Imm.F32 else struct.unpack(
            "<d", struct.pack("<Q", bits))[0]
        return f"{name} {wasmvalues.format_float(value, 'f32' if kind == Imm.F32 else 'f64')}"
    if kind == Imm.BR_TABLE:
        table: tuple[tuple[int, ...], int] = imm  # type: ignore[assignment]
        labels, default = table
        return f"{name} {' '.join(map(str, labels))} {default}"
    if kind == Imm.BLOCKTYPE:
        value = int(imm)  # type: ignore[call-overload]
        if value == -64:
            return name
        if value < 0:
            names = {-1: "i32", -2: "i64", -3: "f32", -4: "f64", -5: "v128", -16: "funcref", -17: "externref"}
            return f"{name} (result {names.get(value, value)})"
        return f"{name} (type {value})"
    if isinstance(imm, tuple):
        return f"{name} {' '.join(str(getattr(x, 'text', x)) for x in imm)}"
    return f"{name} {getattr(imm, 'text', imm)}"


def native_listing(store: Any, module: Any, func: int) -> dict[int, list[str]]:
    """Wasm pc -> disassembled x86-64 lines of one function in ``store``'s code copy.

    Reads the live (possibly patched) code: a patch site shows ``nop`` when
    disabled and ``call`` (to the breakpoint trampoline) when enabled; each
    site is marked ``<- patch site`` (``*`` enabled).
    """
    import capstone  # type: ignore[import-untyped]

    code = store.code_objects.get(module)
    if code is None:
        raise DebugError("the module has no code in this run")
    table = store.debug_frame_table(module)
    if module.definition.num_imported_funcs <= func < len(module.definition.func_type_indices):
        code.code_address(func)  # lazily compiled debug code: compiled and mapped now
    compiled = next((f for f in code.compiled.functions if f.func_index == func), None)
    if compiled is None:
        raise DebugError(f"function {func} has no compiled code")
    sites = sorted(table.function_sites(func), key=lambda s: s.native_offset)
    starts: dict[int, list[Any]] = {}
    for site in sites:
        starts.setdefault(site.native_offset, []).append(site)
    data = ctypes.string_at(code.base + compiled.start, compiled.end - compiled.start)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    out: dict[int, list[str]] = {}
    boundaries = sorted(starts)
    owner_pc = sites[0].pc if sites else 0
    prologue: list[str] = []
    current = prologue
    for insn in md.disasm(data, code.base + compiled.start):
        offset = insn.address - code.base
        if offset in starts:
            rows = starts[offset]
            owner_pc = rows[0].pc
            current = out.setdefault(owner_pc, [])
            enabled = data[offset - compiled.start] == 0xE8
            mark = "*" if enabled else " "
            pcs = ",".join(f"0x{r.pc:x}" for r in rows)
            current.append(f"{mark}0x{insn.address:x}:\t{insn.mnemonic} {insn.op_str}".rstrip()
                           + f"\t<- patch site for {pcs}")
            continue
        current.append(f" 0x{insn.address:x}:\t{insn.mnemonic} {insn.op_str}".rstrip())
    if prologue and sites:
        out.setdefault(sites[0].pc, [])[:0] = ["(prologue)", *prologue]
    del boundaries, owner_pc
    return out


# --------------------------------------------------------------------------
# Small parsers


def _split_format(arg: str) -> tuple[str | None, str]:
    text = arg.strip()
    if text.startswith("/"):
        spec, _, rest = text[1:].partition(" ")
        fmt = spec[-1:] if spec else None
        if fmt is not None and fmt not in "xduotcfas":
            raise DebugError(f'Undefined output format "{spec}".')
        return fmt, rest.strip()
    return None, text


def _split_condition(arg: str) -> tuple[str, str | None]:
    m = re.match(r"(.*?)(?:^|\s)if(?:\s+|\()(.*)$", arg.strip())
    if m is None:
        return arg.strip(), None
    cond = m.group(2)
    if arg.strip()[m.start(2) - 1] == "(":
        cond = "(" + cond
    return m.group(1).strip(), cond.strip()


def _split_redirect(args: Sequence[str]) -> tuple[list[str], str | None]:
    out: list[str] = []
    stdin = None
    it = iter(args)
    for word in it:
        if word == "<":
            stdin = next(it, None)
        elif word.startswith("<") and len(word) > 1:
            stdin = word[1:]
        else:
            out.append(word)
    return out, stdin


def _trap_reason(error: BaseException | None) -> str:
    if error is None:
        return "unknown"
    reason = getattr(error, "reason", None)
    return str(reason) if reason else str(error).splitlines()[0]


def _dedent(doc: str) -> str:
    lines = doc.strip("\n").splitlines()
    import textwrap

    first = lines[0].strip() if lines else ""
    rest = textwrap.dedent("\n".join(lines[1:]))
    return (first + ("\n" + rest if rest.strip() else "")).rstrip()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_debugger(
    program: Program,
    *,
    commands: Sequence[str] = (),
    files: Sequence[str] = (),
    batch: bool = False,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    interactive: bool | None = None,
) -> int:
    """``wasmdbg debug``: run -ex commands, -x files, then (unless batch) the REPL loop."""
    repl = Repl(program, stdin=stdin, stdout=stdout, interactive=interactive)
    try:
        try:
            if not repl.run_commands(commands):
                pass
            for name in files:
                lines = Path(name).read_text().splitlines()
                repl.run_commands(lines, stop_on_error=True)
            if not batch:
                repl.loop()
        except _Quit:
            pass
    finally:
        repl.dbg.kill()
    return 1 if batch and repl.last_error else 0



DEBUG_USAGE = "wasmdbg debug [OPTIONS] [-ex CMD]... [-x FILE]... [--batch] [--] MODULE [ARGS...]"


def debug_main(words: Sequence[str]) -> int:
    """``wasmdbg debug``: the debugger's own options (-ex, -x, --batch), then ``wasmdbg run``'s."""
    from .run import UsageError, parse_run_args

    commands: list[str] = []
    files: list[str] = []
    batch = False
    rest: list[str] = []
    it = iter(words)
    for word in it:
        if word in ("-ex", "--eval-command", "-x", "--command"):
            value = next(it, None)
            if value is None:
                print(f"error: {word} needs a value (usage: {DEBUG_USAGE})", file=sys.stderr)
                return 2
            (commands if word in ("-ex", "--eval-command") else files).append(value)
        elif word == "--batch":
            batch = True
        elif word in ("-h", "--help"):
            print(f"usage: {DEBUG_USAGE}\n\nDebug a WASI program with gdb's commands. -ex CMD runs CMD "
                  "(repeatable), -x FILE runs FILE's commands, --batch exits after them; the options of "
                  "`wasmdbg run` (--dir, --env, --invoke, --argv0) set up the guest.")
            return 0
        elif word.startswith("-") and word != "-" and word != "--":
            rest.append(word)
            if word in ("--dir", "--env", "--invoke", "--argv0"):
                value = next(it, None)
                if value is not None:
                    rest.append(value)
        else:
            rest.append(word)
            rest.extend(it)
    try:
        opts = parse_run_args(rest)
    except UsageError as exc:
        print(f"error: {exc} (usage: {DEBUG_USAGE})", file=sys.stderr)
        return 2
    env = []
    for name, value in opts.env:
        if value is None:
            value = os.environ.get(name)
            if value is None:
                continue
        env.append((name, value))
    try:
        program = Program(Path(opts.module), list(opts.args), env, list(opts.dirs), opts.invoke, opts.argv0)
    except WasmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return run_debugger(program, commands=commands, files=files, batch=batch)
