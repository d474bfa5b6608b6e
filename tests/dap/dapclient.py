"""A small Debug Adapter Protocol client for the tests: spawns ``python -m wasmdbg dap``.

Messages are read by a thread into a queue; :meth:`Client.request` sends a
request and returns its response (events that arrive meanwhile are kept for
:meth:`Client.event`).  Every wait has a timeout, so a broken adapter fails
a test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from wasmdbg.dap.framing import MessageReader, encode

PROGRAMS = Path(__file__).resolve().parent / "programs"
POINTS = PROGRAMS / "points.O0.wasm"
TIMEOUT = 30.0


class Client:
    """One adapter process and its message streams."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wasmdbg", "dap"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []  # every event seen, in order
        self._pending: list[dict[str, Any]] = []
        self.seq = 0
        reader = MessageReader(self.proc.stdout)
        self._thread = threading.Thread(target=self._read, args=(reader,), daemon=True)
        self._thread.start()

    def _read(self, reader: MessageReader) -> None:
        while True:
            try:
                msg = reader.read()
            except Exception:
                msg = None
            self._messages.put(msg)
            if msg is None:
                return

    def _next(self, timeout: float) -> dict[str, Any]:
        msg = self._messages.get(timeout=timeout)
        if msg is None:
            raise EOFError("the adapter closed its output")
        if msg.get("type") == "event":
            self.events.append(msg)
        return msg

    def send_raw(self, data: bytes) -> None:
        self._in.write(data)
        self._in.flush()

    def send(self, command: str, arguments: dict[str, Any] | None = None, seq: int | None = None) -> int:
        if seq is None:
            self.seq += 1
            seq = self.seq
        msg: dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.send_raw(encode(msg))
        return seq

    def response(self, seq: int | None = None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next response (to ``seq`` when given)."""
        for i, msg in enumerate(self._pending):
            if msg.get("type") == "response" and (seq is None or msg["request_seq"] == seq):
                return self._pending.pop(i)
        while True:
            msg = self._next(timeout)
            if msg.get("type") == "response" and (seq is None or msg["request_seq"] == seq):
                return msg
            self._pending.append(msg)

    def request(self, command: str, arguments: dict[str, Any] | None = None, *, ok: bool = True) -> dict[str, Any]:
        """Send a request and return its response (asserting success unless ``ok`` is False)."""
        seq = self.send(command, arguments)
        resp = self.response(seq)
        assert resp["command"] == command
        if ok:
            assert resp["success"], resp
        return resp

    def event(self, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next event called ``name`` (earlier other events stay in ``events``)."""
        for i, msg in enumerate(self._pending):
            if msg.get("type") == "event" and msg["event"] == name:
                return self._pending.pop(i)
        while True:
            msg = self._next(timeout)
            if msg.get("type") == "event" and msg["event"] == name:
                return msg
            self._pending.append(msg)

    def output(self, category: str | None = None) -> str:
        """All output events' text so far (of one category)."""
        return "".join(
            e["body"]["output"]
            for e in self.events
            if e["event"] == "output" and (category is None or e["body"].get("category") == category)
        )

    def start(self, *args: str, stop_on_entry: bool = False, **launch: Any) -> dict[str, Any]:
        """initialize + launch POINTS with ``args``; returns the capabilities."""
        caps = self.request("initialize", {"adapterID": "wasmdbg", "linesStartAt1": True})["body"]
        self.request("launch", {"program": str(POINTS), "args": list(args), "stopOnEntry": stop_on_entry, **launch})
        self.event("initialized")
        return caps

    def close(self) -> int:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("disconnect", {"terminateDebuggee": True})
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._in.close()
        return self.proc.returncode

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")


def dumps(msg: object) -> str:
    return json.dumps(msg, indent=1)
