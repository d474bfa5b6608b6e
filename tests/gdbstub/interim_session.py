"""A minimal stand-in for wasmdbg.debug.session.Session, on the real Debugger.

Used by the gdbstub tests until the session controller lands; it follows
the documented contract (start / wait / cont / step_into / pause / kill /
set_break / clear_break) closely enough for the server, nothing more.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wasmdbg.debug import Debugger, Stop


@dataclass(frozen=True)
class Stopped:
    stop: Stop


@dataclass(frozen=True)
class Exited:
    result: Any = None
    error: BaseException | None = None
    exit_code: int | None = None


class InterimSession:
    def __init__(self, store: Any, *, stop_on_entry: bool = True) -> None:
        self.debugger = Debugger(store, on_stop=self._on_stop)
        self._events: queue.Queue[Any] = queue.Queue()
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._paused = False
        if stop_on_entry:
            self.debugger.set_step()
            self.debugger._apply_single_step(True)

    def start(self, call: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                result = call()
            except BaseException as exc:
                code = getattr(exc, "code", None)
                self._events.put(Exited(error=exc, exit_code=code if isinstance(code, int) else None))
            else:
                self._events.put(Exited(result=result, exit_code=0))

        threading.stack_size(64 << 20)
        threading.Thread(target=run, daemon=True).start()

    def _on_stop(self, debugger: Debugger, stop: Stop) -> None:
        self._paused = True
        self._events.put(Stopped(stop))
        while True:
            command = self._commands.get()
            command()
            if not self._paused:
                return

    def wait(self, timeout: float | None = None) -> Any:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _resume(self, how: Callable[[], None]) -> None:
        def go() -> None:
            how()
            self._paused = False

        self._commands.put(go)

    def cont(self) -> None:
        self._resume(self.debugger.set_continue)

    def step_into(self) -> None:
        self._resume(self.debugger.set_step)

    def pause(self) -> None:
        self.debugger.interrupt()

    def kill(self) -> None:
        if self._paused:
            self._resume(self.debugger.set_quit)
        else:
            self.debugger.set_quit()
            self.debugger.interrupt()

    def _on_guest(self, fn: Callable[[], Any]) -> Any:
        done: queue.Queue[Any] = queue.Queue()

        def run() -> None:
            try:
                done.put((True, fn()))
            except BaseException as exc:
                done.put((False, exc))

        self._commands.put(run)
        ok, value = done.get(timeout=10)
        if not ok:
            raise value
        return value

    def set_break(self, module: Any, pc: int) -> Any:
        return self._on_guest(lambda: self.debugger.set_break(module, pc))

    def clear_break(self, number: int) -> Any:
        return self._on_guest(lambda: self.debugger.clear_break(number))
