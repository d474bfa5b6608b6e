"""The Debug Adapter Protocol session: requests mapped onto the debug layer.

One :class:`Adapter` serves one client.  :meth:`Adapter.handle` takes one
decoded message and answers it through ``send`` (a
:class:`~wasmdbg.dap.framing.MessageWriter`'s ``send``); events come from
three places::

    request loop (server thread) ── handle(msg) ──► response
    event pump   (adapter thread) ── session.wait() ──► stopped / exited / terminated
    guest thread ── WASI stdout/stderr, logpoints ──► output

Everything the adapter does is a call on the debug layer: a
:class:`~wasmdbg.debug.launch.Program` (the Store, memory, globals), its
:class:`~wasmdbg.debug.session.Session` (run control, breakpoints),
:class:`~wasmdbg.debug.disasm.Listing` (disassembly) and
:mod:`wasmdbg.debug.hitcond` (hit conditions, log messages, Wasm-level
expressions).  Nothing here reaches the runtime.

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
one before the Session numbers it); ``hitBreakpointIds`` maps back.
Breakpoints sent between initialize and launch are answered unverified and
resolved at launch, each with a ``breakpoint`` event.  Addresses (``memoryReference``, ``instructionPointerReference``,
``instructionReference``) are ``0x``-hex: module offsets for code, linear
memory addresses for data.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..debug.breakpoints import Breakpoint
from ..debug.debugger import Frame, Stop, StopReason
from ..debug.disasm import Listing
from ..debug.hitcond import (
    EditorCondition,
    evaluate_wasm,
    parse_hit_condition,
    parse_log_message,
)
from ..debug.launch import LaunchConfig, Program, exit_status, format_value, parse_value
from ..debug.session import Exited, Session, SessionState, Stopped
from ..errors import DebugError

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
    """What one variablesReference names: a scope of a frame."""

    kind: str  # "locals" | "stack" | "globals"
    frame: Frame | None


#: requests a client may send between initialize and launch (breakpoints wait for launch)
_BEFORE_LAUNCH = frozenset(
    ["setBreakpoints", "setFunctionBreakpoints", "setInstructionBreakpoints", "setExceptionBreakpoints", "threads"]
)
#: seconds a breakpoint edit may wait for a running guest to reach a safe point
EDIT_TIMEOUT = 10.0

_STOP_REASONS = {
    StopReason.BREAKPOINT: "breakpoint",
    StopReason.STEP: "step",
    StopReason.RUN_TO: "goto",
    StopReason.TRAP: "exception",
    StopReason.HOST_ERROR: "exception",
    StopReason.INTERRUPTED: "pause",
    StopReason.ENTRY: "entry",
}

Send = Callable[[dict[str, Any]], object]


class Adapter:
    """One client's debug session (module docstring)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.state = AdapterState.FRESH
        self._last_seq = 0
        self.program: Program | None = None
        self.session: Session | None = None
        self._listing: Listing | None = None
        self._lock = threading.RLock()  # NB: orders responses with the pump's events
        self._stop: Stop | None = None
        self._refs: dict[int, _VarRef] = {}
        self._next_ref = 1
        self._next_id = 1
        self._ids: dict[int, int] = {}  # Session breakpoint number -> DAP breakpoint id
        self._pending: dict[str, tuple[dict[str, Any], list[int]]] = {}
        self._function_bps: list[int] = []
        self._instruction_bps: list[int] = []
        self._filters: set[str] = {FILTER_TRAPS}
        self._pump: threading.Thread | None = None
        self._pause_asked = False
        self._exited = threading.Event()
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
        self.session = self.program.session(
            stop_on_entry=bool(args.get("stopOnEntry", False)), stop_on_traps=True
        )
        self.state = AdapterState.CONFIGURING

    def _after_launch(self, args: dict[str, Any]) -> None:
        if self.state is AdapterState.CONFIGURING:
            with self._lock:
                self._resolve_pending()
            self._event("initialized")

    def _req_configurationDone(self, args: dict[str, Any]) -> None:
        program, session = self._need()
        self.state = AdapterState.RUNNING
        self._pump = threading.Thread(target=self._pump_events, name="wasmdbg-dap-events", daemon=True)
        program.start(session)
        self._pump.start()

    def _req_setExceptionBreakpoints(self, args: dict[str, Any]) -> dict[str, Any]:
        filters = _strings(args.get("filters", []), "filters")
        known = {FILTER_TRAPS, FILTER_HOST_ERRORS}
        self._filters = {f for f in filters if f in known}
        return {"breakpoints": [{"verified": f in known} for f in filters]}

    # -- breakpoints ---------------------------------------------------------------

    def _condition(self, spec: dict[str, Any]) -> EditorCondition | None:
        """The callable condition for an editor breakpoint (None if it has none)."""
        _, session = self._need()
        debugger = session.debugger
        cond_text = spec.get("condition") or None
        hit_text = spec.get("hitCondition") or None
        log_text = spec.get("logMessage") or None
        condition: Callable[[object], bool] | None = None
        if cond_text is not None:
            text = str(cond_text)
            try:
                compile(text, "<condition>", "eval")
            except SyntaxError as exc:
                raise RequestError(f"bad condition {text!r}: {exc.msg}") from None

            def condition(frame: Any) -> bool:
                return bool(evaluate_wasm(debugger, frame, text))

        hit = parse_hit_condition(str(hit_text)) if hit_text is not None else None
        message = parse_log_message(str(log_text)) if log_text is not None else None
        if condition is None and hit is None and message is None:
            return None

        def show(frame: Any, expression: str) -> str:
            return _show(evaluate_wasm(debugger, frame, expression))

        return EditorCondition(
            condition=condition, hit=hit, message=message, evaluate=show, log=self._logpoint
        )

    def _describe(self, bp: Breakpoint, bp_id: int) -> dict[str, Any]:
        self._ids[bp.number] = bp_id
        out: dict[str, Any] = {
            "id": bp_id,
            "verified": True,
            "instructionReference": _hex(bp.site_pc),
        }
        if bp.site_pc != bp.pc:
            out["message"] = f"moved from 0x{bp.pc:x} to the next instruction boundary"
        return out

    def _clear(self, numbers: list[int]) -> None:
        _, session = self._need()
        for number in numbers:
            with contextlib.suppress(DebugError):
                session.clear_break(number, timeout=EDIT_TIMEOUT)
            self._ids.pop(number, None)
        numbers.clear()

    def _new_ids(self, count: int) -> list[int]:
        ids = list(range(self._next_id, self._next_id + count))
        self._next_id += count
        return ids

    def _breakpoints(
        self,
        command: str,
        args: dict[str, Any],
        ids: list[int] | None,
        place: Callable[[dict[str, Any], Any], Breakpoint],
        numbers: list[int],
    ) -> dict[str, Any]:
        """Replace one group of breakpoints; ``place(spec, cond)`` sets one.

        Before launch the specs are kept and answered unverified; launch
        resolves them and sends a ``breakpoint`` event for each (same ids).
        """
        specs = _list(args.get("breakpoints", []), "breakpoints")
        if ids is None:
            ids = self._new_ids(len(specs))
        if self.session is None:
            self._pending[command] = (args, ids)
            return {
                "breakpoints": [
                    {"id": i, "verified": False, "message": "resolved when the program is launched"}
                    for i in ids
                ]
            }
        self._clear(numbers)
        out = []
        for spec, bp_id in zip(specs, ids, strict=True):
            try:
                bp = place(spec, self._condition(spec))
            except DebugError as exc:
                out.append({"id": bp_id, "verified": False, "message": _message(exc)})
                continue
            numbers.append(bp.number)
            out.append(self._describe(bp, bp_id))
        return {"breakpoints": out}

    def _req_setBreakpoints(self, args: dict[str, Any]) -> dict[str, Any]:
        source = args.get("source") or {}
        key = str(source.get("path") or source.get("name") or "")
        specs = args.get("breakpoints")
        if specs is None:
            specs = [{"line": line} for line in _list(args.get("lines", []), "lines")]
        out = []
        for spec, bp_id in zip(_list(specs, "breakpoints"), self._new_ids(len(specs)), strict=True):
            out.append(
                {
                    "id": bp_id,
                    "verified": False,
                    "line": spec.get("line"),
                    "message": f"{key or 'this source'}: no line table (the module has no DWARF line information)",
                }
            )
        return {"breakpoints": out}

    def _req_setFunctionBreakpoints(
        self, args: dict[str, Any], ids: list[int] | None = None
    ) -> dict[str, Any]:
        def place(spec: dict[str, Any], cond: Any) -> Breakpoint:
            program, session = self._need()
            name = str(spec.get("name", ""))
            return session.set_break_function(program.module, name, cond=cond, timeout=EDIT_TIMEOUT)

        return self._breakpoints("setFunctionBreakpoints", args, ids, place, self._function_bps)

    def _req_setInstructionBreakpoints(
        self, args: dict[str, Any], ids: list[int] | None = None
    ) -> dict[str, Any]:
        def place(spec: dict[str, Any], cond: Any) -> Breakpoint:
            program, session = self._need()
            pc = _address(spec.get("instructionReference")) + int(spec.get("offset", 0))
            return session.set_break(program.module, pc, cond=cond, timeout=EDIT_TIMEOUT)

        return self._breakpoints("setInstructionBreakpoints", args, ids, place, self._instruction_bps)

    def _resolve_pending(self) -> None:
        """Apply the breakpoints set before launch; a ``breakpoint`` event for each."""
        pending, self._pending = self._pending, {}
        for command, (args, ids) in pending.items():
            method = getattr(self, "_req_" + command)
            for bp in method(args, ids)["breakpoints"]:
                self._event("breakpoint", {"reason": "changed", "breakpoint": bp})

    def _logpoint(self, text: str) -> None:
        self._event("output", {"category": "console", "output": text + "\n"})

    # -- run control ---------------------------------------------------------------

    def _paused(self) -> tuple[Session, Stop]:
        _, session = self._need()
        stop = self._stop
        if stop is None or session.state is not SessionState.PAUSED:
            raise RequestError("the guest is not paused")
        return session, stop

    def _resumed(self) -> None:
        """Forget the stop: frame ids and variable references die with it."""
        self._stop = None
        self._refs.clear()

    def _req_continue(self, args: dict[str, Any]) -> dict[str, Any]:
        session, _ = self._paused()
        self._resumed()
        session.cont()
        return {"allThreadsContinued": True}

    def _step(self, args: dict[str, Any], how: str) -> None:
        session, stop = self._paused()
        # NB: granularity "line" and "statement" step by instruction until the
        # module has a line table (then the source layer steps by line)
        if how != "into" and stop.frame is None:
            raise RequestError(f"cannot step {how}: not stopped in a Wasm frame")
        self._resumed()
        if how == "into":
            session.step_into()
        elif how == "over":
            session.step_over()
        else:
            session.step_out()

    def _req_next(self, args: dict[str, Any]) -> None:
        self._step(args, "over")

    def _req_stepIn(self, args: dict[str, Any]) -> None:
        self._step(args, "into")

    def _req_stepOut(self, args: dict[str, Any]) -> None:
        self._step(args, "out")

    def _req_pause(self, args: dict[str, Any]) -> None:
        _, session = self._need()
        if self.state is not AdapterState.RUNNING:
            raise RequestError("the guest has not started (send configurationDone)")
        self._pause_asked = True
        if not session.pause():
            self._pause_asked = False
            if session.state is SessionState.EXITED:
                raise RequestError("the guest has exited")
            # already paused: nothing to do (the client may not have seen the stop yet)

    def _req_terminate(self, args: dict[str, Any]) -> None:
        session = self.session
        if session is not None and session.state is not SessionState.NOT_STARTED:
            session.kill()
        elif session is not None:
            self._end_unstarted()

    def _req_disconnect(self, args: dict[str, Any]) -> None:
        session = self.session
        if session is not None:
            if session.state is SessionState.NOT_STARTED:
                session.close()
            else:
                session.kill()
                session.close(timeout=5.0)
        self.state = AdapterState.ENDED

    def _after_disconnect(self, args: dict[str, Any]) -> None:
        pump = self._pump
        if pump is not None and pump is not threading.current_thread():
            pump.join(5.0)
        self.finished.set()

    def _end_unstarted(self) -> None:
        session = self.session
        if session is not None:
            session.close()
        self.state = AdapterState.ENDED
        self._event("terminated")

    # -- the event pump ------------------------------------------------------------

    def _pump_events(self) -> None:
        session = self.session
        if session is None:
            return
        while True:
            event = session.wait()
            if isinstance(event, Stopped):
                if not self._wanted(event.stop):
                    with contextlib.suppress(DebugError):
                        session.cont()
                    continue
                with self._lock:
                    self._stop = event.stop
                    self._refs.clear()
                    self._event("stopped", self._stopped_body(event.stop))
                    self._pause_asked = False
                continue
            if isinstance(event, Exited):
                with self._lock:
                    self._resumed()
                    self._flush_output()
                    self._report_exit(event)
                    if self.state is not AdapterState.ENDED:
                        self.state = AdapterState.ENDED
                    self._event("terminated")
                self._exited.set()
                return

    def _wanted(self, stop: Stop) -> bool:
        if stop.reason is StopReason.TRAP:
            return FILTER_TRAPS in self._filters
        if stop.reason is StopReason.HOST_ERROR:
            return FILTER_HOST_ERRORS in self._filters
        return True

    def _stopped_body(self, stop: Stop) -> dict[str, Any]:
        reason = stop.reason
        body: dict[str, Any] = {
            "reason": _STOP_REASONS[reason],
            "threadId": THREAD_ID,
            "allThreadsStopped": True,
        }
        if stop.breakpoint is not None:
            number = stop.breakpoint.number
            body["hitBreakpointIds"] = [self._ids.get(number, number)]
            if stop.breakpoint.number in self._function_bps:
                body["reason"] = "function breakpoint"
            elif stop.breakpoint.number in self._instruction_bps:
                body["reason"] = "instruction breakpoint"
        if reason in (StopReason.TRAP, StopReason.HOST_ERROR):
            info = self._exception(stop)
            body["description"] = info["description"]
            body["text"] = info["exceptionId"]
        return body

    def _exception(self, stop: Stop) -> dict[str, Any]:
        event = stop.event
        if stop.reason is StopReason.TRAP:
            error = event.trap
            return {
                "exceptionId": "trap",
                "description": f"wasm trap: {error}",
                "breakMode": "always",
            }
        error = event.exception
        name = type(error).__name__ if error is not None else "error"
        return {
            "exceptionId": name,
            "description": f"host function raised {name}: {error}",
            "breakMode": "always",
        }

    def _report_exit(self, event: Exited) -> None:
        error = event.error
        if error is not None and event.exit_code is None and not event.killed:
            self._event("output", {"category": "stderr", "output": f"error: {error}\n"})
        self._event("exited", {"exitCode": exit_status(event)})

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

    def _need(self) -> tuple[Program, Session]:
        if self.program is None or self.session is None:
            raise RequestError("no program has been launched")
        return self.program, self.session

    def _listing_of(self) -> Listing:
        program, _ = self._need()
        if self._listing is None:
            self._listing = Listing(program.definition)
        return self._listing

    def _req_threads(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"threads": [{"id": THREAD_ID, "name": "main"}]}

    def _req_exceptionInfo(self, args: dict[str, Any]) -> dict[str, Any]:
        _, stop = self._paused()
        if stop.reason not in (StopReason.TRAP, StopReason.HOST_ERROR):
            raise RequestError("the guest is not stopped at an exception")
        return self._exception(stop)

    def _req_stackTrace(self, args: dict[str, Any]) -> dict[str, Any]:
        _, stop = self._paused()
        listing = self._listing_of()
        frames = list(stop.frames)
        start = int(args.get("startFrame", 0) or 0)
        levels = int(args.get("levels", 0) or 0)
        chosen = frames[start : start + levels] if levels > 0 else frames[start:]
        out = []
        for depth, frame in enumerate(chosen, start):
            frame_id = depth + 1  # NB: ids are depths: valid for this stop only
            name = listing.function_name(frame.func_index)
            out.append(
                {
                    "id": frame_id,
                    "name": f"{name} @ 0x{frame.pc:x}",
                    "line": 0,
                    "column": 0,
                    "instructionPointerReference": _hex(frame.pc),
                    "presentationHint": "normal",
                }
            )
        return {"stackFrames": out, "totalFrames": len(frames)}

    def _frame(self, args: dict[str, Any]) -> Frame:
        self._paused()
        frame_id = args.get("frameId")
        if frame_id is None:
            stop = self._stop
            if stop is None or stop.frame is None:
                raise RequestError("not stopped in a Wasm frame")
            return stop.frame
        frames = self._stop.frames if self._stop is not None else ()
        index = int(frame_id) - 1
        if not 0 <= index < len(frames):
            raise RequestError(f"no frame {frame_id} (frame ids last one stop; ask stackTrace)")
        return frames[index]

    def _ref(self, kind: str, frame: Frame | None) -> int:
        ref = self._next_ref
        self._next_ref += 1
        self._refs[ref] = _VarRef(kind, frame)
        return ref

    def _req_scopes(self, args: dict[str, Any]) -> dict[str, Any]:
        frame = self._frame(args)
        program, _ = self._need()
        scopes = [
            {
                "name": "Wasm locals",
                "presentationHint": "locals",
                "variablesReference": self._ref("locals", frame),
                "namedVariables": len(frame.locals),
                "expensive": False,
            },
            {
                "name": "Wasm operand stack",
                "variablesReference": self._ref("stack", frame),
                "indexedVariables": len(frame.stack),
                "expensive": False,
            },
            {
                "name": "Globals",
                "presentationHint": "globals",
                "variablesReference": self._ref("globals", frame),
                "namedVariables": len(program.globals()),
                "expensive": False,
            },
        ]
        return {"scopes": scopes}

    def _local_names(self, frame: Frame) -> list[str]:
        program, _ = self._need()
        names = program.definition.names.locals.get(frame.func_index, {})
        return [names.get(i) or f"l{i}" for i in range(len(frame.locals))]

    def _req_variables(self, args: dict[str, Any]) -> dict[str, Any]:
        self._paused()
        ref = self._refs.get(int(args.get("variablesReference", 0)))
        if ref is None:
            raise RequestError(f"no variables reference {args.get('variablesReference')!r}")
        program, _ = self._need()
        out: list[dict[str, Any]] = []
        if ref.kind == "globals":
            for g in program.globals():
                name = g.name or f"global{g.index}"
                out.append(
                    _var(name, format_value(g.value, g.type), g.type.text, f"globals[{g.index}]")
                )
        else:
            frame = ref.frame
            assert frame is not None  # NB: only the globals scope has no frame
            values = frame.locals if ref.kind == "locals" else frame.stack
            types = values.types()  # type: ignore[attr-defined]
            names = (
                self._local_names(frame)
                if ref.kind == "locals"
                else [f"[{i}]" for i in range(len(values))]
            )
            for i, (name, ty) in enumerate(zip(names, types, strict=True)):
                try:
                    shown = format_value(values[i], ty)
                except DebugError as exc:
                    shown = f"<unavailable: {exc}>"
                evaluate = f"l{i}" if ref.kind == "locals" else f"stack[{i}]"
                out.append(_var(name, shown, ty.text, evaluate))
        start = int(args.get("start", 0) or 0)
        count = int(args.get("count", 0) or 0)
        if count > 0 or start > 0:
            out = out[start : start + count] if count > 0 else out[start:]
        return {"variables": out}

    def _req_setVariable(self, args: dict[str, Any]) -> dict[str, Any]:
        self._paused()
        ref = self._refs.get(int(args.get("variablesReference", 0)))
        if ref is None:
            raise RequestError(f"no variables reference {args.get('variablesReference')!r}")
        name = str(args.get("name", ""))
        text = str(args.get("value", ""))
        program, _ = self._need()
        if ref.kind == "globals":
            for g in program.globals():
                if (g.name or f"global{g.index}") == name:
                    program.set_global(g.index, parse_value(text, g.type))
                    now = program.globals()[g.index]
                    return {"value": format_value(now.value, now.type), "type": now.type.text}
            raise RequestError(f"no global {name!r}")
        frame = ref.frame
        assert frame is not None
        values = frame.locals if ref.kind == "locals" else frame.stack
        names = (
            self._local_names(frame)
            if ref.kind == "locals"
            else [f"[{i}]" for i in range(len(values))]
        )
        if name not in names:
            raise RequestError(f"no variable {name!r} in this scope")
        index = names.index(name)
        ty = values.types()[index]  # type: ignore[attr-defined]
        values[index] = parse_value(text, ty)
        return {"value": format_value(values[index], ty), "type": ty.text}

    def _req_evaluate(self, args: dict[str, Any]) -> dict[str, Any]:
        expression = str(args.get("expression", ""))
        _, session = self._need()
        frame = self._frame(args)
        value = evaluate_wasm(session.debugger, frame, expression)
        return {"result": _show(value), "variablesReference": 0}

    def _req_loadedSources(self, args: dict[str, Any]) -> dict[str, Any]:
        self._need()
        return {"sources": []}

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


def _show(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex(" ")
    return str(value)


def _var(name: str, value: str, type_: str, evaluate_name: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "type": type_,
        "evaluateName": evaluate_name,
        "variablesReference": 0,
    }
