"""The GDB remote server: one LLDB connection driving one debug session.

The guest runs on the session's worker thread; this module's thread owns the
socket.  A small pump thread turns ``session.wait()`` results into queue
items and wakes the socket loop through a socket pair, so the loop sleeps in
``select`` on exactly two things::

    LLDB ──bytes──► PacketReader ──► _dispatch ──► session.cont() / step_into()
                                          ▲             │ (returns at once)
    select([conn, wake]) ◄── wake ◄─ pump thread ◄─ session.wait()  (Stopped/Exited)

Run states of the guest, as this server sees them::

            listen, session.start(): guest stops on entry
                          │
                          ▼
    ┌────────────────────────────────┐  c, vCont;c, s, vCont;s  ┌─────────────┐
    │ STOPPED: answer packets from   ├─────────────────────────►│ RUNNING: no │
    │ the current Stop's frames      │◄─────────────────────────┤ reply until │
    └──────────────┬─────────────────┘  Stopped: send T05/T02   │ a stop      │
                   │ k: session.kill()                          └──┬───────┬──┘
                   ▼                        \\x03: session.pause()   │       │ Exited
             X09, close; done               (stops as INTERRUPTED)◄┘       ▼
                                                                     W<code>, close

A client that goes away (EOF, reset) kills the guest; the server returns.
Only one connection is served: the listening socket closes once it is
accepted, so a second client is refused rather than left waiting.

Module ids: every module instance seen (the ones given to the server first,
then any a frame names) gets the next id; ``qXfer:libraries`` lists them.
Addresses follow :mod:`.wasm`.  ``m`` on a code address returns the
module's original bytes (``module.definition.raw``), never patched code;
``m``/``M`` on a memory address use the linear memory of the innermost
frame's instance (``frame.memory``).
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..debug.debugger import StopReason
from ..debug.launch import EXIT_KILLED, EXIT_TRAP, exit_status
from ..debug.session import Exited, Stopped
from ..errors import DebugError, WasmError
from .packets import (
    Ack,
    BadPacket,
    Interrupt,
    Nack,
    Packet,
    PacketReader,
    ProtocolError,
    frame,
    hex_encode,
    parse_hex,
)
from .wasm import (
    AddressSpace,
    Library,
    StopReply,
    WasmAddress,
    call_stack_reply,
    code_address,
    exit_reply,
    host_info,
    library_list_xml,
    memory_region_reply,
    parse_breakpoint,
    parse_memory_read,
    parse_memory_write,
    parse_thread_suffix,
    parse_vcont,
    parse_wasm_query,
    parse_xfer_read,
    pc_register,
    process_info,
    register_info,
    supported_reply,
    value_bytes,
    xfer_chunk,
)

__all__ = ["GdbServer", "ModuleTarget", "SessionLike", "parse_listen_address", "serve_guest"]

log = logging.getLogger(__name__)

PACKET_SIZE = 0x4000  # what qSupported announces, and the reader's bound
_MAX_READ = 0x10000  # the most bytes one m request returns (LLDB asks again for the rest)
_KILL_TIMEOUT = 10.0
_EDIT_TIMEOUT = 10.0  # a breakpoint edit while the guest runs waits for it to stop
TRAP_EXIT_STATUS = EXIT_TRAP  # what `wasmdbg run` exits with when the guest traps
KILLED_STATUS = EXIT_KILLED  # ... and when the debugger killed it (128 + SIGKILL)


class SessionLike(Protocol):
    """The part of :class:`wasmdbg.debug.session.Session` this server uses."""

    def wait(self, timeout: float | None = None) -> Any: ...

    def cont(self) -> None: ...

    def step_into(self) -> None: ...

    def pause(self) -> object: ...

    def kill(self) -> None: ...

    def set_break(self, module: Any, pc: int, *, timeout: float | None = None) -> Any: ...

    def clear_break(self, number: int, *, timeout: float | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class ModuleTarget:
    """A module instance to list before any frame names it."""

    name: str
    module: object
    instance: object


def parse_listen_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``[ADDR:]PORT`` -> (host, port); ``[::1]:PORT`` for IPv6 (DebugError if malformed)."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host = default_host
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        host = default_host
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise DebugError(f"bad port in {text!r}: expected [ADDR:]PORT")
    return host, int(port_text)


# --------------------------------------------------------------------------
# Helpers over what frames and modules offer


def _module_bytes(module: object) -> bytes:
    definition = getattr(module, "definition", None)
    raw = getattr(definition, "raw", None)
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise DebugError("the module's original bytes are not available")
    return bytes(raw)


def _read_leb(raw: bytes, pos: int) -> int:
    """The position after the LEB128 number at ``pos`` (raises past the end)."""
    for i in range(pos, min(pos + 10, len(raw))):
        if not raw[i] & 0x80:
            return i + 1
    raise DebugError(f"truncated LEB128 at 0x{pos:x}")


def return_address(raw: bytes, pc: int) -> int:
    """The pc after the call instruction at ``pc`` (``pc`` itself if it is no call).

    A caller frame is paused *at* its call; LLDB wants the return address
    (``finish`` and ``next`` put a breakpoint there).
    """
    if not 0 <= pc < len(raw):
        return pc
    op = raw[pc]
    if op in (0x10, 0x12):  # call, return_call: funcidx
        return _read_leb(raw, pc + 1)
    if op in (0x11, 0x13):  # call_indirect, return_call_indirect: typeidx, tableidx
        return _read_leb(raw, _read_leb(raw, pc + 1))
    return pc


def _type_names(values: Any) -> list[str]:
    types = getattr(values, "types", None)
    if types is None:
        raise DebugError("value types are not available")
    return [str(getattr(t, "text", t)).lower() for t in types()]


def _global_type(module: object, index: int) -> str:
    definition = getattr(module, "definition", None)
    globals_ = getattr(definition, "globals", None)
    if globals_ is None or not 0 <= index < len(globals_):
        raise DebugError(f"no global {index}")
    valtype = globals_[index].valtype
    return str(getattr(valtype, "text", valtype)).lower()


# --------------------------------------------------------------------------
# The server


# Packets answered the same way every time (exact match).
_FIXED_REPLIES: dict[str, str] = {
    "QThreadSuffixSupported": "OK",
    "QListThreadsInStopReply": "OK",
    "QEnableErrorStrings": "OK",
    "qHostInfo": host_info(),
    "vCont?": "vCont;c;C;s;S",
    "qC": "QC1",
    "qfThreadInfo": "m1",
    "qsThreadInfo": "l",
    "qSymbol::": "OK",
}

# The others, by prefix (first match wins: longer prefixes first where they share one).
_HANDLERS: tuple[tuple[str, str], ...] = (
    ("QStartNoAckMode", "_on_no_ack"),
    ("qSupported", "_on_supported"),
    ("qProcessInfo", "_on_process_info"),
    ("qThreadStopInfo", "_on_stop_query"),
    ("qRegisterInfo", "_on_register_info"),
    ("qXfer:", "_xfer"),
    ("qMemoryRegionInfo:", "_on_region"),
    ("qWasmCallStack", "_on_call_stack"),
    ("qWasmLocal:", "_on_local"),
    ("qWasmGlobal:", "_on_global"),
    ("qWasmStackValue:", "_on_stack_value"),
    ("vCont;", "_on_vcont"),
    ("vKill", "_on_kill"),
    ("?", "_on_stop_query"),
    ("H", "_ok"),
    ("p", "_on_read_register"),
    ("g", "_on_read_register"),
    ("m", "_read_memory"),
    ("M", "_write_memory"),
    ("Z", "_breakpoint"),
    ("z", "_breakpoint"),
    ("c", "_on_resume"),
    ("s", "_on_resume"),
    ("k", "_on_kill"),
    ("D", "_on_detach"),
)


class _Finished(Exception):
    """The connection is over (the guest exited, was killed, or the client left)."""


class GdbServer:
    """Serves one debugger connection for ``session``; see the module docstring.

    ``targets`` are the module instances known up front (named in
    ``qXfer:libraries``).  :meth:`serve` returns the guest's exit status.
    """

    def __init__(
        self,
        session: SessionLike,
        targets: Sequence[ModuleTarget] = (),
        *,
        max_packet: int = PACKET_SIZE,
        on_listen: Callable[[str, int], None] | None = None,
    ) -> None:
        self.session = session
        self.max_packet = max_packet
        self.on_listen = on_listen
        self._instances: list[tuple[object, object, str]] = []  # (instance, module, name)
        for target in targets:
            self._instances.append((target.instance, target.module, target.name))
        self._reader = PacketReader(max_packet)
        self._ack = True
        self._last_sent = b""
        self._conn: socket.socket | None = None
        self._events: queue.Queue[Any] = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._pump_stop = threading.Event()
        self._stop: Any = None  # the current Stop while the guest is stopped
        self._stop_pc_override: int | None = None
        self._running = False
        self._exit_status: int | None = None
        self._breakpoints: dict[int, int] = {}  # requested address -> breakpoint number
        self._xfer_cache: bytes | None = None
        self.status = 0
        #: what the guest call raised when it ended by a trap or an error
        self.guest_error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------

    def serve(self, host: str, port: int, *, entry_timeout: float = 60.0) -> int:
        """Listen on ``host:port``, wait for the entry stop, serve one client.

        Returns the guest's exit status (:func:`~wasmdbg.debug.launch.exit_status`:
        its WASI exit code below 126, ``TRAP_EXIT_STATUS`` after a trap, 137 when
        killed, 1 for a host error or a larger exit code).
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(1)
            bound = listener.getsockname()[1]
            first = self.session.wait(entry_timeout)
            if first is None:
                raise DebugError("the guest did not reach its entry point")
            if not self._take_event(first):
                return self.status
            if self.on_listen is not None:
                self.on_listen(host, bound)
            conn, _ = listener.accept()
        finally:
            listener.close()
        return self.serve_connection(conn)

    def serve_connection(self, conn: socket.socket) -> int:
        """Serve an accepted connection until the guest exits or the client leaves."""
        self._conn = conn
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pump = threading.Thread(target=self._pump, name="gdbstub-events", daemon=True)
        pump.start()
        try:
            self._loop()
        except _Finished:
            pass
        finally:
            self._pump_stop.set()
            try:
                conn.close()
            finally:
                self._conn = None
            pump.join(timeout=2.0)
            self._wake_r.close()
            self._wake_w.close()
        return self.status

    def _pump(self) -> None:
        while not self._pump_stop.is_set():
            try:
                event = self.session.wait(0.25)
            except Exception as exc:  # a session that broke: end the connection
                event = exc
            if event is None:
                continue
            self._events.put(event)
            try:
                self._wake_w.send(b"!")
            except OSError:
                return
            if isinstance(event, Exited | Exception):
                return

    def _loop(self) -> None:
        conn = self._conn
        if conn is None:
            raise DebugError("no connection")
        while True:
            ready, _, _ = select.select([conn, self._wake_r], [], [], 1.0)
            if self._wake_r in ready:
                self._wake_r.recv(4096)
                self._drain_events()
            if conn in ready:
                try:
                    data = conn.recv(65536)
                except (ConnectionError, OSError):
                    data = b""
                if not data:
                    self._client_gone()
                for event in self._reader.feed(data):
                    self._on_wire(event)

    def _client_gone(self) -> None:
        log.info("client disconnected; ending the guest")
        if self._exit_status is None:
            self._kill()
        raise _Finished

    # -- session events -------------------------------------------------------

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            was_running = self._running
            alive = self._take_event(event)
            if was_running and not self._running:
                self._send(self._stop_reply() if alive else exit_reply(self.status))
            if not alive:
                raise _Finished

    def _take_event(self, event: Any) -> bool:
        """Record a Stopped or Exited; False once the guest is gone."""
        if isinstance(event, Exception):
            log.error("session failed: %s", event)
            self.status = 1
            self._exit_status = 1
            self._running = False
            return False
        if isinstance(event, Exited):
            self.status = self._status_of(event)
            self._exit_status = self.status
            self._stop = None
            self._running = False
            return False
        if not isinstance(event, Stopped):
            raise DebugError(f"unexpected session event {event!r}")
        self._stop = stop = event.stop
        self._stop_pc_override = None
        self._running = False
        if stop.frame is None:
            return True
        bp = getattr(stop, "breakpoint", None)
        requested = getattr(bp, "pc", None)
        ours = getattr(bp, "number", None) in self._breakpoints.values()
        if stop.reason is StopReason.BREAKPOINT and ours and isinstance(requested, int):
            # NB: LLDB attributes a hit by pc: report the address it asked for,
            # not the sequence point the breakpoint slipped forward to.
            self._stop_pc_override = requested
        return True

    def _status_of(self, exited: Exited) -> int:
        if exited.error is not None and exited.exit_code is None and not exited.killed:
            self.guest_error = exited.error
        killed = exited.killed and exited.exit_code is None
        return exit_status(exited.exit_code, exited.error, killed=killed)

    # -- wire -------------------------------------------------------------

    def _send(self, payload: str | bytes) -> None:
        data = frame(payload)
        self._last_sent = data
        self._write(data)

    def _write(self, data: bytes) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            conn.sendall(data)
        except OSError:
            self._client_gone()

    def _on_wire(self, event: object) -> None:
        if isinstance(event, Ack):
            return
        if isinstance(event, Nack):
            if self._ack and self._last_sent:
                self._write(self._last_sent)
            return
        if isinstance(event, Interrupt):
            if self._running:
                try:
                    self.session.pause()
                except WasmError as exc:
                    log.info("pause refused: %s", exc)
            return
        if isinstance(event, BadPacket):
            log.info("bad packet: %s", event.reason)
            if self._ack:
                self._write(b"-")
            else:
                self._send("E01")
            return
        if isinstance(event, Packet):
            if self._ack:
                self._write(b"+")
            reply = self._dispatch(event.text)
            if reply is not None:
                self._send(reply)

    # -- packets ------------------------------------------------------------

    def _dispatch(self, text: str) -> str | bytes | None:
        """The reply to one packet (``None``: the reply comes later, with a stop)."""
        try:
            return self._answer(text)
        except _Finished:
            raise
        except (ProtocolError, DebugError, IndexError, ValueError, TypeError) as exc:
            log.info("packet %r refused: %s", text[:60], exc)
            return "E01"
        except Exception:
            # NB: a bug answering one packet must not end the debugging session
            log.exception("packet %r failed", text[:60])
            return "E01"

    def _answer(self, text: str) -> str | bytes | None:
        fixed = _FIXED_REPLIES.get(text)
        if fixed is not None:
            return fixed
        for prefix, name in _HANDLERS:
            if text.startswith(prefix):
                handler: Callable[[str], str | bytes | None] = getattr(self, name)
                return handler(text)
        return ""  # unknown packet: the empty reply

    # -- packet handlers (named in _HANDLERS; each gets the whole packet) -------

    def _on_no_ack(self, text: str) -> str:
        # NB: this packet itself is still acked (done before dispatch).
        self._ack = False
        return "OK"

    def _on_supported(self, text: str) -> str:
        return supported_reply(self.max_packet)

    def _on_process_info(self, text: str) -> str:
        return process_info(os.getpid(), os.getppid())

    def _on_stop_query(self, text: str) -> str:
        return self._stop_reply()

    def _on_register_info(self, text: str) -> str:
        return register_info(parse_hex(text[len("qRegisterInfo") :], "register"))

    def _on_read_register(self, text: str) -> str:
        body = parse_thread_suffix(text)
        if body[:1] == "g":  # all registers: there is only the pc
            if body != "g":
                raise ProtocolError(f"bad g packet {text[:40]!r}")
            return pc_register(self._top_pc())
        if parse_hex(body[1:], "register") != 0:
            return "E45"
        return pc_register(self._top_pc())

    def _on_region(self, text: str) -> str:
        return self._region(parse_hex(text[len("qMemoryRegionInfo:") :], "address"))

    def _on_call_stack(self, text: str) -> str:
        frames = self._frames()
        return call_stack_reply([self._pc_of(f, i) for i, f in enumerate(frames)])

    def _on_local(self, text: str) -> str:
        return self._wasm_value("local", text[len("qWasmLocal:") :])

    def _on_global(self, text: str) -> str:
        return self._wasm_value("global", text[len("qWasmGlobal:") :])

    def _on_stack_value(self, text: str) -> str:
        return self._wasm_value("stack", text[len("qWasmStackValue:") :])

    def _on_vcont(self, text: str) -> None:
        actions = parse_vcont(text)
        self._resume(step=actions[0][0] == "s")

    def _on_resume(self, text: str) -> str | None:
        if text not in ("c", "s"):
            return "E01"  # resuming at another address is not supported
        self._resume(step=text == "s")
        return None

    def _on_kill(self, text: str) -> None:
        self._kill()
        self._send("X09" if text == "k" else "OK")
        raise _Finished

    def _on_detach(self, text: str) -> str:
        if text != "D" and not text.startswith("D;"):
            return ""
        return self._detach()

    # -- the stop -------------------------------------------------------------

    def _need_stop(self) -> Any:
        if self._running or self._stop is None:
            raise DebugError("the guest is not stopped")
        return self._stop

    def _frames(self) -> Sequence[Any]:
        return list(self._need_stop().frames)

    def _frame(self, index: int) -> Any:
        frames = self._frames()
        if not 0 <= index < len(frames):
            raise DebugError(f"no frame {index}")
        return frames[index]

    def _module_id(self, frame: Any) -> int:
        instance = frame.instance
        for i, (known, _, _) in enumerate(self._instances):
            if known is instance:
                return i
        name = getattr(frame.module, "name", None) or f"module{len(self._instances)}.wasm"
        self._instances.append((instance, frame.module, str(name)))
        self._xfer_cache = None
        return len(self._instances) - 1

    def _ok(self, text: str) -> str:
        return "OK"

    def _top_pc(self) -> int:
        frame = self._need_stop().frame
        if frame is None:
            raise DebugError("the stop has no Wasm frame")
        return self._pc_of(frame, 0)

    def _pc_of(self, frame: Any, index: int) -> int:
        """Frame ``index``'s pc as an LLDB code address (callers: the return address)."""
        pc = frame.pc
        if index == 0 and self._stop_pc_override is not None:
            pc = self._stop_pc_override
        elif index > 0:
            pc = return_address(_module_bytes(frame.module), pc)
        return code_address(self._module_id(frame), pc)

    def _stop_reply(self) -> str:
        if self._exit_status is not None:
            return exit_reply(self._exit_status)
        stop = self._need_stop()
        reason = stop.reason
        description: str | None = None
        signal = 5
        if reason is StopReason.BREAKPOINT:
            word = "breakpoint"
        elif reason in (StopReason.TRAP, StopReason.HOST_ERROR):
            word = "exception"
            event = stop.event
            what = event.trap if event.trap is not None else event.exception
            # a Trap's `reason` is its one-line message (str() adds a backtrace)
            text = getattr(what, "reason", None)
            description = text if isinstance(text, str) else f"{type(what).__name__}: {what}"
        elif reason is StopReason.INTERRUPTED:
            word, signal = "signal", 2
        else:  # ENTRY, STEP, RUN_TO
            word = "trace"
        # NB: a stop with no Wasm frame (a host error before any Wasm ran) has no pc to name
        pc = self._top_pc() if stop.frame is not None else 0
        return StopReply(pc, word, description=description, signal=signal).encode()

    # -- resuming -------------------------------------------------------------

    def _resume(self, *, step: bool) -> None:
        self._need_stop()
        if step:
            self.session.step_into()
        else:
            self.session.cont()
        self._running = True
        self._stop = None

    def _kill(self) -> None:
        if self._exit_status is not None:
            return
        try:
            self.session.kill()
        except WasmError as exc:
            log.info("kill: %s", exc)
        deadline_left = _KILL_TIMEOUT
        while deadline_left > 0:
            try:
                event = self._events.get(timeout=0.25)
            except queue.Empty:
                deadline_left -= 0.25
                continue
            if not self._take_event(event):
                break
        self.status = KILLED_STATUS
        self._exit_status = KILLED_STATUS

    def _detach(self) -> str:
        for number in list(self._breakpoints.values()):
            self.session.clear_break(number, timeout=_EDIT_TIMEOUT)
        self._breakpoints.clear()
        if not self._running and self._stop is not None:
            self.session.cont()
            self._running = True
        self._send("OK")
        # the guest runs on without a debugger: wait for it here
        while True:
            event = self._events.get()
            if not self._take_event(event):
                raise _Finished

    # -- memory ---------------------------------------------------------------

    def _target(self, module_id: int) -> tuple[object, object, str]:
        if not 0 <= module_id < len(self._instances):
            raise DebugError(f"no module {module_id}")
        return self._instances[module_id]

    def _linear_memory(self) -> memoryview:
        frame = self._frame(0)
        memory = getattr(frame, "memory", None)
        if memory is None:
            raise DebugError("the frame's instance has no linear memory")
        return memoryview(memory)

    def _read_memory(self, text: str) -> str:
        req = parse_memory_read(text[1:])
        addr = WasmAddress.decode(req.address)
        if addr.space == AddressSpace.CODE:
            data: bytes | memoryview = _module_bytes(self._target(addr.module_id)[1])
        else:
            data = self._linear_memory()
        if addr.offset >= len(data):
            return "E03"
        end = min(len(data), addr.offset + min(req.length, _MAX_READ))
        return hex_encode(bytes(data[addr.offset : end]))

    def _write_memory(self, text: str) -> str:
        req = parse_memory_write(text[1:])
        addr = WasmAddress.decode(req.address)
        if addr.space == AddressSpace.CODE:
            return "E02"  # module bytes are read-only
        memory = self._linear_memory()
        if addr.offset + len(req.data) > len(memory):
            return "E03"
        memory[addr.offset : addr.offset + len(req.data)] = req.data
        return "OK"

    def _region(self, value: int) -> str:
        addr = WasmAddress.decode(value)
        if addr.space == AddressSpace.CODE:
            if addr.module_id < len(self._instances):
                size = len(_module_bytes(self._instances[addr.module_id][1]))
                start = code_address(addr.module_id, 0)
                if addr.offset < size:
                    return memory_region_reply(value, start, size, "rx")
                return memory_region_reply(value, value, (1 << 32) - addr.offset, None)
            return memory_region_reply(value, value, 1 << 32, None)
        try:
            size = len(self._linear_memory())
        except DebugError:
            size = 0
        if addr.offset < size:
            return memory_region_reply(value, 0, size, "rw")
        return memory_region_reply(value, value, (1 << 32) - addr.offset, None)

    def _xfer(self, text: str) -> bytes | str:
        obj, annex, offset, length = parse_xfer_read(text)
        if obj != "libraries" or annex:
            return ""
        if self._stop is not None and not self._running:
            for f in self._frames():  # give every instance on the stack its id first
                self._module_id(f)
        if self._xfer_cache is None or offset == 0:
            libs = [Library(name, i) for i, (_, _, name) in enumerate(self._instances)]
            self._xfer_cache = library_list_xml(libs).encode()
        return xfer_chunk(self._xfer_cache, offset, length)

    # -- values ---------------------------------------------------------------

    def _wasm_value(self, what: str, args: str) -> str:
        frame_index, index = parse_wasm_query(args)
        frame = self._frame(frame_index)
        if what == "global":
            globals_ = getattr(frame, "globals", None)
            if globals_ is None or not 0 <= index < len(globals_):
                return "E01"
            return hex_encode(value_bytes(globals_[index], _global_type(frame.module, index)))
        values = frame.locals if what == "local" else frame.stack
        if not 0 <= index < len(values):
            return "E01"
        return hex_encode(value_bytes(values[index], _type_names(values)[index]))

    # -- breakpoints ----------------------------------------------------------

    def _breakpoint(self, text: str) -> str:
        req = parse_breakpoint(text)
        if req.type != 0:
            return ""  # hardware breakpoints and watchpoints: not supported
        addr = WasmAddress.decode(req.address)
        if addr.space != AddressSpace.CODE:
            return "E02"
        if req.insert:
            if req.address in self._breakpoints:
                return "OK"
            module = self._target(addr.module_id)[1]
            bp = self.session.set_break(module, addr.offset, timeout=_EDIT_TIMEOUT)
            self._breakpoints[req.address] = int(bp.number)
            return "OK"
        number = self._breakpoints.pop(req.address, None)
        if number is not None:
            self.session.clear_break(number, timeout=_EDIT_TIMEOUT)
        return "OK"


def serve_guest(
    store: Any,
    call: Callable[[], object],
    targets: Sequence[ModuleTarget],
    listen: str,
    *,
    announce: Callable[[str, int], None] | None = None,
) -> GdbServer:
    """Run ``call()`` (the guest) under a debug session served on ``listen``.

    ``listen`` is ``[ADDR:]PORT`` (127.0.0.1 unless ADDR is given; port 0
    picks a free one, which ``announce(host, port)`` is told).  The guest
    waits before its first instruction until the client resumes it.
    Returns the server once the guest has ended; its ``status`` is the exit
    status and ``guest_error`` what a trapping guest raised.
    """
    from ..debug.session import Session

    host, port = parse_listen_address(listen)
    session = Session(store, stop_on_entry=True, stop_on_traps=True)
    server = GdbServer(session, targets, on_listen=announce)
    session.start(call)
    try:
        server.serve(host, port)
    finally:
        session.close()
    return server
