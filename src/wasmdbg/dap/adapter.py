"""The Debug Adapter Protocol session: requests mapped onto the debug layer.

One :class:`Adapter` serves one client.  :meth:`Adapter.handle` takes one
decoded message and answers it through ``send`` (a
:class:`~wasmdbg.dap.framing.MessageWriter`'s ``send``); messages come from
three threads::

    request loop (server thread) ── handle(msg) ──► response (run control: queue an operation)
    runner (adapter thread)      ── cont / step_line / finish ... blocks ──► stopped / exited
    guest thread                 ── WASI stdout/stderr, logpoints ──► output

Everything the adapter does is a call on the debug layer: a
:class:`~wasmdbg.debug.launch.Program` (the Store, memory, Wasm globals),
an :class:`~wasmdbg.debug.editor.EditorDebugger` (the source debugger:
breakpoints, run control by line and by instruction, C values, with hit
conditions and log messages from :mod:`wasmdbg.debug.hitcond`) and a
:class:`~wasmdbg.debug.disasm.Listing` (disassembly).  The source
debugger's run control blocks until the next stop, so it runs on the
runner thread, one operation at a time; ``pause`` and ``terminate`` reach
the Session directly.  Nothing here reaches the runtime.

Request order (anything else gets an error response; the adapter lives on)::

    ┌──────────┐ initialize ┌─────────────┐ launch  ┌────────────┐
    │  FRESH   ├───────────►│ INITIALIZED ├────────►│ CONFIGURING│ set*Breakpoints ...
    └──────────┘            └─────────────┘         └─────┬──────┘
                                                          │ configurationDone: the guest starts
                                                          ▼
                               stopped ◄──── RUNNING ◄──► PAUSED (stackTrace, scopes, ...)
                                                          │ exited + terminated
                                                          ▼
                                                        ENDED  (disconnect closes)

The client's ``seq`` must increase from message to message; a request with
a missing or non-increasing ``seq`` is refused.

Ids: the one thread is ``1``.  Frame ids (depths, innermost 1) and
variable references are valid for one stop; every resume forgets them.
Breakpoint ids are the adapter's own (a breakpoint set before launch needs
one before the debugger numbers it); ``hitBreakpointIds`` maps back.
Breakpoints sent between initialize and launch are answered unverified and
resolved at launch, each with a ``breakpoint`` event.  Addresses
(``memoryReference``, ``instructionPointerReference``,
``instructionReference``) are ``0x``-hex: module offsets for code, linear
memory addresses for data.  Variables are named by expressions
(``evaluateName``): C over DWARF, ``$local0``/``$stack0``/``$global0`` at
the Wasm level.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..debug.disasm import Listing
from ..debug.editor import EditorDebugger
from ..debug.hitcond import parse_hit_condition, parse_log_message
from ..debug.launch import LaunchConfig, Program, exit_status, format_value, parse_value
from ..debug.session import SessionState
from ..debug.source import Ended, Outcome, Paused, PauseReason
from ..errors import DebugError, WasmError

__all__ = ["CAPABILITIES", "Adapter", "AdapterState"]

THREAD_ID = 1

FILTER_TRAPS = "traps"
FILTER_HOST_ERRORS = "hostErrors"

CAPABILITIES: dict[str, Any] = {
    "supportsConfigurationDoneRequest": True,
    "supportsFunctionBreakpoints": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsLogPoints": True,
    "supportsEvaluateForHovers": True,
    "supportsSetVariable": True,
    "supportsReadMemoryRequest": True,
    "supportsWriteMemoryRequest": True,
    "supportsDisassembleRequest": True,
    "supportsInstructionBreakpoints": True,
    "supportsSteppingGranularity": True,
    "supportsLoadedSourcesRequest": True,
    "supportsTerminateRequest": True,
    "supportTerminateDebuggee": True,
    "supportsExceptionInfoRequest": True,
    "supportsValueFormattingOptions": False,
    "exceptionBreakpointFilters": [
        {
            "filter": FILTER_TRAPS,
            "label": "Wasm traps",
            "description": "Stop when the guest traps (unreachable, out-of-bounds access, ...), "
            "before its frames unwind",
            "default": True,
        },
        {
            "filter": FILTER_HOST_ERRORS,
            "label": "Host function errors",
            "description": "Stop when a host function called by the guest raises",
            "default": False,
        },
    ],
}


class AdapterState(Enum):
    """Where the client is in the request order (module diagram)."""

    FRESH = "fresh"
    INITIALIZED = "initialized"
    CONFIGURING = "configuring"
    RUNNING = "running"
    ENDED = "ended"


class RequestError(DebugError):
    """A request that gets an error response with ``message``."""


@dataclass(frozen=True, slots=True)
class _VarRef:
    """What one variablesReference names: a scope of a frame, or a value's children.

    ``kind``: locals, arguments, globals (C, over DWARF), children (of the C
    value ``expression``), wasm locals, wasm stack, wasm globals; ``frame``
    the source frame (C kinds) or the Wasm frame (Wasm kinds).
    """

    kind: str
    frame: Any
    expression: str = ""


#: requests a client may send between initialize and launch (breakpoints wait for launch)
_BEFORE_LAUNCH = frozenset(
    ["setBreakpoints", "setFunctionBreakpoints", "setInstructionBreakpoints", "setExceptionBreakpoints", "threads"]
)

_STOP_REASONS = {
    PauseReason.BREAKPOINT: "breakpoint",
    PauseReason.STEP: "step",
    PauseReason.FINISH: "step",
    PauseReason.LOCATION: "goto",
    PauseReason.TRAP: "exception",
    PauseReason.HOST_ERROR: "exception",
    PauseReason.INTERRUPTED: "pause",
}

Send = Callable[[dict[str, Any]], object]
#: runs one gdb command line in the debug console: (debugger, program path, frame index, line) -> text
ConsoleRunner = Callable[[EditorDebugger, Path, int, str], str]
#: the prefix that makes a debug-console line a gdb command (as VS Code's C/C++ debuggers use)
CONSOLE_PREFIX = "-exec "


class Adapter:
    """One client's debug session (module docstring)."""

    def __init__(self, send: Send, *, console: ConsoleRunner | None = None) -> None:
        self._send = send
        self._console = console
        self.state = AdapterState.FRESH
        self._last_seq = 0
        self.program: Program | None = None
        self.debugger: EditorDebugger | None = None
        self._listing: Listing | None = None
        self._lock = threading.RLock()  # NB: orders responses with the runner's events
        self._ops: queue.SimpleQueue[Callable[[], Outcome] | None] = queue.SimpleQueue()
        self._runner: threading.Thread | None = None
        self._busy = False  # an operation runs: the guest is not paused for the client
        self._paused_at: Paused | None = None
        self._killed = False
        self._entry_number: int | None = None
        self._refs: dict[int, _VarRef] = {}
        self._next_ref = 1
        self._next_id = 1
        self._ids: dict[int, int] = {}  # source-debugger breakpoint number -> DAP id
        self._kinds: dict[int, str] = {}  # number -> its group ("function", "source:PATH" ...)
        self._groups: dict[str, list[int]] = {}
        self._pending: dict[str, tuple[dict[str, Any], list[int]]] = {}
        self._filters: set[str] = {FILTER_TRAPS}
        self.finished = threading.Event()  # disconnect answered: the server may stop
        self._stdout = codecs.getincrementaldecoder("utf-8")("replace")
        self._stderr = codecs.getincrementaldecoder("utf-8")("replace")

    # -- messages ------------------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> None:
        """Answer one message from the client."""
        seq = message.get("seq")
        kind = message.get("type")
        command = message.get("command")
        if kind == "response":
            return  # NB: answers to reverse requests; the adapter sends none
        if not isinstance(seq, int) or isinstance(seq, bool) or seq <= self._last_seq:
            self._error(
                seq if isinstance(seq, int) else 0,
                str(command or ""),
                f"bad seq {seq!r}: it must be an integer above the last one ({self._last_seq})",
            )
            return
        self._last_seq = seq
        if kind != "request" or not isinstance(command, str):
            self._error(seq, str(command or ""), f"not a request: type {kind!r}, command {command!r}")
            return
        args = message.get("arguments") or {}
        if not isinstance(args, dict):
            self._error(seq, command, "arguments must be an object")
            return
        method = getattr(self, "_req_" + command, None)
        if method is None:
            self._error(seq, command, f"unknown request {command!r}")
            return
        try:
            self._check_order(command)
            with self._lock:
                body = method(args)
                self._respond(seq, command, body)
        except Exception as exc:  # NB: every request gets an answer; the adapter lives on
            self._error(seq, command, _message(exc))
        after = getattr(self, "_after_" + command, None)
        if after is not None:
            after(args)

    def error_response(self, message: str) -> None:
        """An error response to a message that could not be read at all."""
        self._error(0, "", message)

    def _respond(self, seq: int, command: str, body: dict[str, Any] | None) -> None:
        msg: dict[str, Any] = {
            "type": "response",
            "request_seq": seq,
            "success": True,
            "command": command,
        }
        if body is not None:
            msg["body"] = body
        self._send(msg)

    def _error(self, seq: int, command: str, text: str) -> None:
        self._send(
            {
                "type": "response",
                "request_seq": seq,
                "success": False,
                "command": command,
                "message": text,
                "body": {"error": {"id": 1, "format": text.replace("{", "{{").replace("}", "}}")}},
            }
        )

    def _event(self, event: str, body: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"type": "event", "event": event}
        if body is not None:
            msg["body"] = body
        self._send(msg)

    def _check_order(self, command: str) -> None:
        state = self.state
        if command == "initialize":
            if state is not AdapterState.FRESH:
                raise RequestError("initialize was already answered")
            return
        if state is AdapterState.FRESH:
            raise RequestError(f"{command} before initialize")
        if command in ("disconnect", "terminate"):
            return
        if command == "launch":
            if state is not AdapterState.INITIALIZED:
                raise RequestError("launch: a program was already launched")
            return
        if state is AdapterState.INITIALIZED and command not in _BEFORE_LAUNCH:
            raise RequestError(f"{command} before launch")
        if command == "configurationDone" and state is not AdapterState.CONFIGURING:
            raise RequestError("configurationDone was already answered")

    # -- initialize, launch, configuration ---------------------------------------

    def _req_initialize(self, args: dict[str, Any]) -> dict[str, Any]:
        self.state = AdapterState.INITIALIZED
        return dict(CAPABILITIES)

    def _req_attach(self, args: dict[str, Any]) -> None:
        raise RequestError("attach is not supported: use launch")

    def _req_launch(self, args: dict[str, Any]) -> None:
        program = args.get("program")
        if not isinstance(program, str) or not program:
            raise RequestError("launch needs a 'program' (the path of a .wasm file)")
        guest_args = _strings(args.get("args", []), "args")
        cwd = args.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise RequestError("'cwd' must be a string")
        env_arg = args.get("env", {})
        if not isinstance(env_arg, dict):
            raise RequestError("'env' must be an object of strings")
        env = tuple((str(k), str(v)) for k, v in env_arg.items() if v is not None)
        dirs = tuple(_dir(d) for d in _list(args.get("dirs", args.get("preopens", [])), "dirs"))
        argv0 = args.get("argv0")
        config = LaunchConfig(
            program, tuple(guest_args), cwd, env, dirs, argv0 if isinstance(argv0, str) else None
        )
        self.program = Program(config, stdout=self._guest_stdout, stderr=self._guest_stderr)
        self.debugger = EditorDebugger(self.program.module, log=self._logpoint)
        if args.get("stopOnEntry") and self.program.entry_pc is not None:
            entry = self.debugger.add_breakpoint(f"*0x{self.program.entry_pc:x}", temporary=True)
            self._entry_number = entry.number
        self.state = AdapterState.CONFIGURING

    def _after_launch(self, args: dict[str, Any]) -> None:
        if self.state is AdapterState.CONFIGURING:
            with self._lock:
                self._resolve_pending()
            self._event("initialized")
            note = self.debugger.dwarf_note if self.debugger is not None else None
            if note:
                self._event("output", {"category": "console", "output": f"{note}\n"})

    def _req_configurationDone(self, args: dict[str, Any]) -> None:
        program, debugger = self._need()
        self.state = AdapterState.RUNNING
        launch = program.launch()
        self._submit(lambda: debugger.start(launch))
        self._runner = threading.Thread(target=self._run_ops, name="wasmdbg-dap-runner", daemon=True)
        self._runner.start()

    def _req_setExceptionBreakpoints(self, args: dict[str, Any]) -> dict[str, Any]:
        filters = _strings(args.get("filters", []), "filters")
        known = {FILTER_TRAPS, FILTER_HOST_ERRORS}
        self._filters = {f for f in filters if f in known}
        return {"breakpoints": [{"verified": f in known} for f in filters]}

    # -- breakpoints ---------------------------------------------------------------

    def _new_ids(self, count: int) -> list[int]:
        ids = list(range(self._next_id, self._next_id + count))
        self._next_id += count
        return ids

    def _breakpoints(
        self,
        group: str,
        args: dict[str, Any],
        ids: list[int] | None,
        where: Callable[[dict[str, Any]], str],
    ) -> dict[str, Any]:
        """Replace one group of breakpoints (a source's, the function or the instruction ones).

        ``where(spec)`` is the location in the source debugger's terms.
        Before launch the specs are kept and answered unverified; launch
        resolves them and sends a ``breakpoint`` event for each (same ids).
        """
        specs = _list(args.get("breakpoints", []), "breakpoints")
        if ids is None:
            ids = self._new_ids(len(specs))
        debugger = self.debugger
        if debugger is None:
            self._pending[group] = (args, ids)
            return {
                "breakpoints": [
                    {"id": i, "verified": False, "message": "resolved when the program is launched"}
                    for i in ids
                ]
            }
        for number in self._groups.pop(group, []):
            with contextlib.suppress(DebugError):
                debugger.delete_breakpoint(number)
            self._ids.pop(number, None)
            self._kinds.pop(number, None)
        numbers: list[int] = []
        out = []
        for spec, bp_id in zip(specs, ids, strict=True):
            if not isinstance(spec, dict):
                out.append({"id": bp_id, "verified": False, "message": "not a breakpoint object"})
                continue
            try:
                hit_text = spec.get("hitCondition") or None
                log_text = spec.get("logMessage") or None
                bp = debugger.add_editor_breakpoint(
                    where(spec),
                    cond=str(spec["condition"]) if spec.get("condition") else None,
                    hit=parse_hit_condition(str(hit_text)) if hit_text is not None else None,
                    message=parse_log_message(str(log_text)) if log_text is not None else None,
                )
            except (DebugError, RequestError) as exc:
                out.append({"id": bp_id, "verified": False, "message": _message(exc)})
                continue
            numbers.append(bp.number)
            self._ids[bp.number] = bp_id
            self._kinds[bp.number] = group
            out.append(self._describe(bp, bp_id))
        self._groups[group] = numbers
        return {"breakpoints": out}

    def _describe(self, bp: Any, bp_id: int) -> dict[str, Any]:
        debugger = self.debugger
        assert debugger is not None
        pc = bp.installed[0].site_pc if bp.installed else bp.pcs[0]
        out: dict[str, Any] = {"id": bp_id, "verified": True, "instructionReference": _hex(pc)}
        line = debugger.line_of(pc)
        if line is not None:
            out["source"] = _source(line[0], self._base())
            out["line"] = line[1]
        if len(bp.pcs) > 1:
            out["message"] = f"{len(bp.pcs)} locations"
        return out

    def _req_setBreakpoints(self, args: dict[str, Any], ids: list[int] | None = None) -> dict[str, Any]:
        source = args.get("source") or {}
        if not isinstance(source, dict):
            raise RequestError("'source' must be an object")
        path = str(source.get("path") or source.get("name") or "")
        if not path:
            raise RequestError("setBreakpoints needs a source with a path")
        if args.get("breakpoints") is None and "lines" in args:
            args = dict(args, breakpoints=[{"line": n} for n in _list(args["lines"], "lines")])

        def where(spec: dict[str, Any]) -> str:
            line = spec.get("line")
            if not isinstance(line, int) or isinstance(line, bool) or line < 1:
                raise RequestError(f"bad line {line!r}")
            return f"{path}:{line}"

        return self._breakpoints("source:" + path, args, ids, where)

    def _req_setFunctionBreakpoints(
        self, args: dict[str, Any], ids: list[int] | None = None
    ) -> dict[str, Any]:
        def where(spec: dict[str, Any]) -> str:
            name = spec.get("name")
            if not isinstance(name, str) or not name.strip() or name.strip().startswith("*"):
                raise RequestError(f"bad function name {name!r}")
            return name.strip()

        return self._breakpoints("function", args, ids, where)

    def _req_setInstructionBreakpoints(
        self, args: dict[str, Any], ids: list[int] | None = None
    ) -> dict[str, Any]:
        def where(spec: dict[str, Any]) -> str:
            pc = _address(spec.get("instructionReference")) + int(spec.get("offset", 0))
            return f"*0x{pc:x}"

        return self._breakpoints("instruction", args, ids, where)

    def _resolve_pending(self) -> None:
        """Apply the breakpoints set before launch; a ``breakpoint`` event for each."""
        pending, self._pending = self._pending, {}
        for group, (args, ids) in pending.items():
            if group == "function":
                body = self._req_setFunctionBreakpoints(args, ids)
            elif group == "instruction":
                body = self._req_setInstructionBreakpoints(args, ids)
            else:
                body = self._req_setBreakpoints(args, ids)
            for bp in body["breakpoints"]:
                self._event("breakpoint", {"reason": "changed", "breakpoint": bp})

    def _logpoint(self, text: str) -> None:
        self._event("output", {"category": "console", "output": text + "\n"})

    # -- run control: a runner thread performs the blocking operations ------------

    def _submit(self, op: Callable[[], Outcome]) -> None:
        self._busy = True
        self._paused_at = None
        self._refs.clear()
        self._ops.put(op)

    def _run_ops(self) -> None:
        debugger = self.debugger
        assert debugger is not None
        while True:
            op = self._ops.get()
            if op is None:
                return
            try:
                outcome = op()
                while isinstance(outcome, Paused) and not self._wanted(outcome):
                    outcome = debugger.cont()
            except Exception as exc:  # NB: still paused where it was: say why, stop again
                self._event("output", {"category": "stderr", "output": f"error: {_message(exc)}\n"})
                if debugger.paused:
                    outcome = Paused(PauseReason.STEP, debugger.frames())
                else:
                    outcome = Ended(error=exc)
            if isinstance(outcome, Paused):
                with self._lock:
                    self._paused_at = outcome
                    self._busy = False
                    self._refs.clear()
                    self._event("stopped", self._stopped_body(outcome))
                continue
            with self._lock:
                self._busy = False
                self._paused_at = None
                self._flush_output()
                self._report_exit(outcome)
                self.state = AdapterState.ENDED
                self._event("terminated")
            return

    def _wanted(self, outcome: Paused) -> bool:
        if outcome.reason is PauseReason.TRAP:
            return FILTER_TRAPS in self._filters
        if outcome.reason is PauseReason.HOST_ERROR:
            return FILTER_HOST_ERRORS in self._filters
        return True

    def _paused(self) -> tuple[EditorDebugger, Paused]:
        _, debugger = self._need()
        outcome = self._paused_at
        if self._busy or outcome is None or not debugger.paused:
            raise RequestError("the guest is not paused")
        return debugger, outcome

    def _req_continue(self, args: dict[str, Any]) -> dict[str, Any]:
        debugger, _ = self._paused()
        self._submit(debugger.cont)
        return {"allThreadsContinued": True}

    def _step(self, args: dict[str, Any], how: str) -> None:
        debugger, outcome = self._paused()
        if outcome.frame is None:
            raise RequestError(f"cannot step {how}: not stopped in a Wasm frame")
        by_instruction = args.get("granularity") == "instruction" or debugger.info is None
        op: Callable[[], Outcome]
        if how == "into":
            op = debugger.stepi if by_instruction else (lambda: debugger.step_line(into=True))
        elif how == "over":
            op = debugger.nexti if by_instruction else (lambda: debugger.step_line(into=False))
        elif len(debugger.frames()) < 2:
            op = debugger.cont  # NB: out of the outermost frame: run on to the end
        elif by_instruction:
            op = debugger.finish
        else:
            op = lambda: debugger.finish_source(0)  # noqa: E731
        self._submit(op)

    def _req_next(self, args: dict[str, Any]) -> None:
        self._step(args, "over")

    def _req_stepIn(self, args: dict[str, Any]) -> None:
        self._step(args, "into")

    def _req_stepOut(self, args: dict[str, Any]) -> None:
        self._step(args, "out")

    def _req_pause(self, args: dict[str, Any]) -> None:
        _, debugger = self._need()
        if self.state is not AdapterState.RUNNING:
            raise RequestError("the guest is not running (send configurationDone)")
        session = debugger.session
        if session is None or session.state is SessionState.EXITED:
            raise RequestError("the guest has exited")
        if self._busy:
            session.pause()  # NB: False when it is stopping anyway; the stop follows either way

    def _kill(self) -> None:
        debugger = self.debugger
        session = debugger.session if debugger is not None else None
        if session is None or session.state in (SessionState.NOT_STARTED, SessionState.EXITED):
            return
        assert debugger is not None
        with self._lock:
            self._killed = True
            session.kill()
            if not self._busy and self._runner is not None and self._runner.is_alive():
                self._submit(debugger.wait)  # NB: paused: nobody waits for the end yet

    def _req_terminate(self, args: dict[str, Any]) -> None:
        if self.state is AdapterState.RUNNING:
            self._kill()
        elif self.state is not AdapterState.ENDED:
            self.state = AdapterState.ENDED
            self._event("terminated")

    def _req_disconnect(self, args: dict[str, Any]) -> None:
        if self.state is AdapterState.RUNNING:
            self._kill()
        else:
            self.state = AdapterState.ENDED

    def _after_disconnect(self, args: dict[str, Any]) -> None:
        self.close()
        self.finished.set()

    def close(self) -> None:
        """End the guest (if it runs) and the runner thread."""
        self._kill()
        runner = self._runner
        if runner is not None and runner is not threading.current_thread():
            runner.join(10.0)
        debugger = self.debugger
        if debugger is not None:
            debugger.kill()
        self._ops.put(None)

    def _stopped_body(self, outcome: Paused) -> dict[str, Any]:
        reason = _STOP_REASONS[outcome.reason]
        body: dict[str, Any] = {"reason": reason, "threadId": THREAD_ID, "allThreadsStopped": True}
        bp = outcome.breakpoint
        if bp is not None:
            if bp.number == self._entry_number:
                body["reason"] = "entry"
            else:
                body["hitBreakpointIds"] = [self._ids.get(bp.number, bp.number)]
                kind = self._kinds.get(bp.number, "")
                if kind == "function":
                    body["reason"] = "function breakpoint"
                elif kind == "instruction":
                    body["reason"] = "instruction breakpoint"
        if outcome.reason in (PauseReason.TRAP, PauseReason.HOST_ERROR):
            info = self._exception(outcome)
            body["description"] = info["description"]
            body["text"] = info["exceptionId"]
        return body

    @staticmethod
    def _exception(outcome: Paused) -> dict[str, Any]:
        error = outcome.error
        if outcome.reason is PauseReason.TRAP:
            return {"exceptionId": "trap", "description": f"wasm trap: {error}", "breakMode": "always"}
        name = type(error).__name__ if error is not None else "error"
        return {
            "exceptionId": name,
            "description": f"host function raised {name}: {error}",
            "breakMode": "always",
        }

    def _report_exit(self, ended: Ended) -> None:
        error = ended.error
        if error is not None and ended.exit_code is None and not self._killed:
            self._event("output", {"category": "stderr", "output": f"error: {error}\n"})
        code = exit_status(ended.exit_code, error, killed=self._killed and ended.exit_code is None)
        self._event("exited", {"exitCode": code})

    def _guest_stdout(self, data: bytes) -> None:
        text = self._stdout.decode(data)
        if text:
            self._event("output", {"category": "stdout", "output": text})

    def _guest_stderr(self, data: bytes) -> None:
        text = self._stderr.decode(data)
        if text:
            self._event("output", {"category": "stderr", "output": text})

    def _flush_output(self) -> None:
        for decoder, category in ((self._stdout, "stdout"), (self._stderr, "stderr")):
            text = decoder.decode(b"", final=True)
            if text:
                self._event("output", {"category": category, "output": text})

    # -- inspection ------------------------------------------------------------------

    def _base(self) -> Path | None:
        """Where relative DWARF paths are looked up: the program's directory."""
        return self.program.path.parent if self.program is not None else None

    def _need(self) -> tuple[Program, EditorDebugger]:
        if self.program is None or self.debugger is None:
            raise RequestError("no program has been launched")
        return self.program, self.debugger

    def _listing_of(self) -> Listing:
        program, _ = self._need()
        if self._listing is None:
            self._listing = Listing(program.definition)
        return self._listing

    def _req_threads(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"threads": [{"id": THREAD_ID, "name": "main"}]}

    def _req_exceptionInfo(self, args: dict[str, Any]) -> dict[str, Any]:
        _, outcome = self._paused()
        if outcome.reason not in (PauseReason.TRAP, PauseReason.HOST_ERROR):
            raise RequestError("the guest is not stopped at an exception")
        return self._exception(outcome)

    def _req_stackTrace(self, args: dict[str, Any]) -> dict[str, Any]:
        debugger, _ = self._paused()
        frames = debugger.stack()
        start = int(args.get("startFrame", 0) or 0)
        levels = int(args.get("levels", 0) or 0)
        chosen = frames[start : start + levels] if levels > 0 else frames[start:]
        out = []
        for depth, sframe in enumerate(chosen, start):
            entry: dict[str, Any] = {
                "id": depth + 1,  # NB: ids are depths: valid for this stop only
                "name": sframe.name,
                "line": 0,
                "column": 0,
                "instructionPointerReference": _hex(sframe.pc),
            }
            if sframe.has_source:
                assert sframe.file is not None
                entry["source"] = _source(sframe.file, self._base())
                entry["line"] = sframe.line
                entry["column"] = self._column(sframe)
            else:
                entry["name"] = f"{sframe.name} @ 0x{sframe.pc:x}"
                entry["presentationHint"] = "subtle"
            out.append(entry)
        return {"stackFrames": out, "totalFrames": len(frames)}

    def _column(self, sframe: Any) -> int:
        debugger = self.debugger
        info = debugger.info if debugger is not None else None
        if info is None or sframe.depth:
            return 1
        row = info.line_at(sframe.pc)
        column = getattr(row, "column", 0) if row is not None else 0
        return int(column) if column else 1

    def _frame(self, args: dict[str, Any]) -> Any:
        """The source frame a request names (``frameId``), or the innermost one."""
        debugger, _ = self._paused()
        frames = debugger.stack()
        frame_id = args.get("frameId")
        index = 0 if frame_id is None else int(frame_id) - 1
        if not 0 <= index < len(frames):
            raise RequestError(f"no frame {frame_id} (frame ids last one stop; ask stackTrace)")
        return frames[index]

    def _ref(self, kind: str, frame: Any, expression: str = "") -> int:
        ref = self._next_ref
        self._next_ref += 1
        self._refs[ref] = _VarRef(kind, frame, expression)
        return ref

    def _req_scopes(self, args: dict[str, Any]) -> dict[str, Any]:
        sframe = self._frame(args)
        program, debugger = self._need()
        scopes = []
        if sframe.function is not None:
            names, params = debugger.frame_variables(sframe)
            scopes.append(_scope("Locals", self._ref("locals", sframe), len(names), "locals"))
            scopes.append(_scope("Arguments", self._ref("arguments", sframe), len(params), "arguments"))
        if debugger.info is not None:
            scopes.append(_scope("Globals", self._ref("globals", sframe), len(debugger.global_names(sframe)), "globals"))
        wasm = sframe.wasm
        scopes.append(_scope("Wasm locals", self._ref("wasm locals", wasm), len(wasm.locals), "registers"))
        scopes.append(_scope("Wasm operand stack", self._ref("wasm stack", wasm), len(wasm.stack), "registers"))
        scopes.append(_scope("Wasm globals", self._ref("wasm globals", wasm), len(program.globals()), "registers"))
        return {"scopes": scopes}

    def _local_names(self, frame: Any) -> list[str]:
        program, _ = self._need()
        names = program.definition.names.locals.get(frame.func_index, {})
        return [names.get(i) or f"$local{i}" for i in range(len(frame.locals))]

    def _c_variable(self, sframe: Any, name: str, expression: str) -> dict[str, Any]:
        """One C value as a DAP variable (expandable when it has children)."""
        debugger = self.debugger
        assert debugger is not None
        try:
            value = debugger.evaluate(expression, sframe)
        except WasmError as exc:
            return _var(name, f"<error: {exc}>", "", expression)
        out = _var(name, debugger.show(value, sframe), debugger.type_of(value), expression)
        children = debugger.children(expression, value)
        if children:
            out["variablesReference"] = self._ref("children", sframe, expression)
            if name.startswith("[") or any(c.name.startswith("[") for c in children[:1]):
                out["indexedVariables"] = len(children)
        return out

    def _req_variables(self, args: dict[str, Any]) -> dict[str, Any]:
        debugger, _ = self._paused()
        ref = self._refs.get(int(args.get("variablesReference", 0)))
        if ref is None:
            raise RequestError(f"no variables reference {args.get('variablesReference')!r}")
        program, _ = self._need()
        out: list[dict[str, Any]] = []
        frame = ref.frame
        if ref.kind in ("locals", "arguments"):
            names, params = debugger.frame_variables(frame)
            for name in names if ref.kind == "locals" else params:
                out.append(self._c_variable(frame, name, name))
        elif ref.kind == "globals":
            for name in debugger.global_names(frame):
                out.append(self._c_variable(frame, name, name))
        elif ref.kind == "children":
            value = debugger.evaluate(ref.expression, frame)
            for child in debugger.children(ref.expression, value):
                out.append(self._c_variable(frame, child.name, child.expression))
        elif ref.kind == "wasm globals":
            for g in program.globals():
                name = g.name or f"$global{g.index}"
                out.append(_var(name, format_value(g.value, g.type), g.type.text, f"$global{g.index}"))
        else:
            values = frame.locals if ref.kind == "wasm locals" else frame.stack
            types = values.types()
            names = (
                self._local_names(frame)
                if ref.kind == "wasm locals"
                else [f"$stack{i}" for i in range(len(values))]
            )
            for i, (name, ty) in enumerate(zip(names, types, strict=True)):
                try:
                    shown = format_value(values[i], ty)
                except DebugError as exc:
                    shown = f"<unavailable: {exc}>"
                evaluate = f"$local{i}" if ref.kind == "wasm locals" else f"$stack{i}"
                out.append(_var(name, shown, ty.text, evaluate))
        start = int(args.get("start", 0) or 0)
        count = int(args.get("count", 0) or 0)
        if count > 0 or start > 0:
            out = out[start : start + count] if count > 0 else out[start:]
        return {"variables": out}

    def _req_setVariable(self, args: dict[str, Any]) -> dict[str, Any]:
        debugger, _ = self._paused()
        ref = self._refs.get(int(args.get("variablesReference", 0)))
        if ref is None:
            raise RequestError(f"no variables reference {args.get('variablesReference')!r}")
        name = str(args.get("name", ""))
        text = str(args.get("value", ""))
        program, _ = self._need()
        frame = ref.frame
        if ref.kind == "wasm globals":
            for g in program.globals():
                if (g.name or f"$global{g.index}") == name:
                    program.set_global(g.index, parse_value(text, g.type))
                    now = program.globals()[g.index]
                    return {"value": format_value(now.value, now.type), "type": now.type.text}
            raise RequestError(f"no global {name!r}")
        if ref.kind in ("wasm locals", "wasm stack"):
            values = frame.locals if ref.kind == "wasm locals" else frame.stack
            names = (
                self._local_names(frame)
                if ref.kind == "wasm locals"
                else [f"$stack{i}" for i in range(len(values))]
            )
            if name not in names:
                raise RequestError(f"no variable {name!r} in this scope")
            index = names.index(name)
            ty = values.types()[index]
            values[index] = parse_value(text, ty)
            return {"value": format_value(values[index], ty), "type": ty.text}
        # C values: find the child's expression, assign through the evaluator
        if ref.kind == "children":
            value = debugger.evaluate(ref.expression, frame)
            found = [c.expression for c in debugger.children(ref.expression, value) if c.name == name]
            if not found:
                raise RequestError(f"no member {name!r} here")
            target = found[0]
        else:
            target = name
        debugger.evaluate(f"{target} = ({text})", frame)
        value = debugger.evaluate(target, frame)
        out: dict[str, Any] = {"value": debugger.show(value, frame), "type": debugger.type_of(value)}
        if debugger.children(target, value):
            out["variablesReference"] = self._ref("children", frame, target)
        return out

    def _req_evaluate(self, args: dict[str, Any]) -> dict[str, Any]:
        expression = str(args.get("expression", ""))
        program, debugger = self._need()
        if args.get("context") == "repl" and expression.startswith(CONSOLE_PREFIX):
            if self._console is None:
                raise RequestError("gdb commands are not available in this adapter")
            frame_id = args.get("frameId")
            index = int(frame_id) - 1 if frame_id is not None else 0
            self._frame(args)  # NB: paused, and the frame exists
            text = self._console(debugger, program.path, index, expression[len(CONSOLE_PREFIX) :])
            return {"result": text, "variablesReference": 0}
        frame = self._frame(args)
        value = debugger.evaluate(expression, frame)
        out: dict[str, Any] = {
            "result": debugger.show(value, frame),
            "type": debugger.type_of(value),
            "variablesReference": 0,
        }
        if debugger.children(expression, value):
            out["variablesReference"] = self._ref("children", frame, expression)
        return out

    def _req_loadedSources(self, args: dict[str, Any]) -> dict[str, Any]:
        _, debugger = self._need()
        info = debugger.info
        files = sorted(set(info.source_files())) if info is not None else []
        return {"sources": [_source(f, self._base()) for f in files]}

    # -- memory and code -----------------------------------------------------------

    def _req_readMemory(self, args: dict[str, Any]) -> dict[str, Any]:
        program, _ = self._need()
        address = _address(args.get("memoryReference")) + int(args.get("offset", 0))
        count = int(args.get("count", 0))
        if count < 0:
            raise RequestError("count cannot be negative")
        if address < 0:
            raise RequestError(f"address {address} is below linear memory")
        data = program.read_memory(address, count)
        return {
            "address": _hex(address),
            "data": base64.b64encode(data).decode("ascii"),
            "unreadableBytes": count - len(data),
        }

    def _req_writeMemory(self, args: dict[str, Any]) -> dict[str, Any]:
        program, _ = self._need()
        address = _address(args.get("memoryReference")) + int(args.get("offset", 0))
        try:
            data = base64.b64decode(str(args.get("data", "")), validate=True)
        except binascii.Error as exc:
            raise RequestError(f"data is not base64: {exc}") from None
        written = program.write_memory(address, data)
        return {"offset": 0, "bytesWritten": written}

    def _req_disassemble(self, args: dict[str, Any]) -> dict[str, Any]:
        listing = self._listing_of()
        pc = _address(args.get("memoryReference")) + int(args.get("offset", 0))
        count = int(args.get("instructionCount", 0))
        if count < 0 or count > 100_000:
            raise RequestError(f"instructionCount {count} is out of range")
        raw = listing.definition.raw
        out = []
        for k, line in enumerate(listing.window(pc, int(args.get("instructionOffset", 0)), count)):
            if line is None:
                out.append(
                    {
                        "address": _hex(max(pc, 0) + k),
                        "instruction": "(no code)",
                        "presentationHint": "invalid",
                    }
                )
                continue
            entry: dict[str, Any] = {
                "address": _hex(line.pc),
                "instruction": line.text,
                "symbol": listing.function_name(line.func_index),
            }
            if args.get("resolveSymbols", True) is not False:
                entry["instructionBytes"] = raw[line.pc : line.pc + line.size].hex(" ")
            out.append(entry)
        return {"instructions": out}


# -- helpers ---------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing or unknown {exc}"
    return str(exc) or type(exc).__name__


def _hex(value: int) -> str:
    return f"0x{value:x}"


def _address(ref: object) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    if not isinstance(ref, str):
        raise RequestError(f"bad address reference {ref!r}")
    try:
        return int(ref, 0)
    except ValueError:
        raise RequestError(f"bad address reference {ref!r} (expected 0x-hex)") from None


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise RequestError(f"{what!r} must be an array")
    return value


def _strings(value: object, what: str) -> list[str]:
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise RequestError(f"{what!r} must be an array of strings")
    return items


def _dir(spec: object) -> tuple[str, str]:
    """``"HOST[::GUEST]"`` or ``{"host": ..., "guest": ...}`` -> (host, guest)."""
    if isinstance(spec, str):
        host, sep, guest = spec.partition("::")
        return host, guest if sep else host
    if isinstance(spec, dict) and isinstance(spec.get("host"), str):
        where = str(spec["host"])
        return where, str(spec.get("guest", where))
    raise RequestError(f"bad preopened directory {spec!r} (HOST[::GUEST] or {{host, guest}})")


def _source(path: str, base: Path | None = None) -> dict[str, Any]:
    """A DAP Source for a DWARF path; a relative one is looked up under ``base``."""
    if base is not None and not os.path.isabs(path):
        candidate = os.path.normpath(base / path)
        if os.path.exists(candidate):
            path = candidate
    return {"name": os.path.basename(path), "path": path}


def _scope(name: str, ref: int, count: int, hint: str) -> dict[str, Any]:
    return {
        "name": name,
        "presentationHint": hint,
        "variablesReference": ref,
        "namedVariables": count,
        "expensive": False,
    }


def _var(name: str, value: str, type_: str, evaluate_name: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "type": type_,
        "evaluateName": evaluate_name,
        "variablesReference": 0,
    }
