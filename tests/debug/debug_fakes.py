"""Fakes of the runtime for the debugger tests: code copies, a Store, a guest.

* :class:`FakeCode` is one module's patchable code in one Store.  It keeps
  the W^X discipline of the real code memory (patching published code, or
  running unpublished code, is an error) and counts publish/unpublish calls;
  ``fail_unpublish`` / ``fail_publish`` inject faults.
* :class:`FakeModule` is a "compiled" module: functions with their
  sequence-point pcs, and a real :class:`~wasmdbg.jit.frametable.FrameTable`.
* :class:`FakeStore` satisfies both ``CodeRegistry`` (for edit sessions) and
  ``DebugStore`` (for the Debugger).  Guests are Python functions taking a
  :class:`Guest` context: ``g.at(pc, *locals)`` passes a sequence point (and
  fires the debug handler if its site is patched; it returns the locals,
  which the debugger may have written), ``g.call(f, *args)`` calls another
  function, ``g.trap()`` traps, ``g.host(fn)`` calls a host function,
  ``g.loop_header()`` checks the interrupt flag like compiled loops do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from wasmdbg.errors import DebugError
from wasmdbg.jit.frametable import NOP5, FrameTable, FrameTableBuilder, Loc, Site
from wasmdbg.runtime.debug.edit import BreakpointEdit, BreakpointState
from wasmdbg.runtime.debug.events import DebugEvent, DebugEventKind, DebugHandler, Resume
from wasmdbg.wasm.module import ModuleDef, NameSection
from wasmdbg.wasm.types import ValType

GuestFn = Callable[..., Any]


class FakeError(Exception):
    """An injected failure of mprotect."""


class FakeTrap(Exception):
    """The guest trapped (after the debugger saw it)."""


class FakeAbort(Exception):
    """The debug handler answered ABORT."""


class FakeCode:
    """Patchable code of one module in one store."""

    def __init__(self, module: FakeModule) -> None:
        self.module = module
        self._table = module.table
        self.enabled: set[int] = set()  # native offsets of patched sites
        self.published = True
        self.publishes = 0
        self.unpublishes = 0
        self.patches = 0
        self.fail_unpublish = False
        self.fail_publish = False

    @property
    def frame_table(self) -> FrameTable:
        return self._table

    def patch_site(self, site: Site, enabled: bool) -> None:
        if self.published:
            raise AssertionError("patching published (executable) code")
        self.patches += 1
        if enabled:
            self.enabled.add(site.native_offset)
        else:
            self.enabled.discard(site.native_offset)

    def unpublish(self) -> None:
        if self.fail_unpublish:
            raise FakeError("mprotect(RW) refused")
        if not self.published:
            raise AssertionError("unpublish of code that is not published")
        self.unpublishes += 1
        self.published = False

    def publish(self) -> None:
        if self.fail_publish:
            raise FakeError("mprotect(RX) refused")
        if self.published:
            raise AssertionError("publish of code that is already published")
        self.publishes += 1
        self.published = True

    def enabled_pcs(self) -> list[int]:
        out = []
        for off in sorted(self.enabled):
            site = self._table.site_at_native(off)
            if site is not None:
                out.append(site.pc)
        return out

    def is_enabled(self, pc: int) -> bool:
        sites = self._table.sites_at(pc)
        return any(s.native_offset in self.enabled for s in sites)


class FakeModule:
    """A module: ``funcs`` maps func index -> (python body, sequence-point pcs).

    Every function gets as many i32 locals as its body takes parameters
    (the tests keep all locals as parameters).  A pc in ``shared`` shares
    the patch site of the pc before it (as the compiler does when no code
    lies between two opcodes).
    """

    def __init__(
        self,
        name: str,
        funcs: dict[int, tuple[GuestFn, Sequence[int]]],
        names: dict[int, str] | None = None,
        local_names: dict[int, dict[int, str]] | None = None,
        shared: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.funcs = funcs
        self.index_of = {body: index for index, (body, _) in funcs.items()}
        b = FrameTableBuilder()
        native = 0x40
        for index in sorted(funcs):
            body, pcs = funcs[index]
            nlocals = body.__code__.co_argcount - 1
            locs = [Loc.slot(-16 - 8 * i, ValType.I32) for i in range(nlocals)]
            for pc in pcs:
                if pc in shared:
                    native -= 0x10
                b.add_site(index, pc, native, NOP5, locs, [])
                native += 0x10
        self.table = b.finish()
        self.definition = ModuleDef(
            raw=b"", names=NameSection(functions=dict(names or {}), locals=local_names or {})
        )

    def __repr__(self) -> str:
        return f"<module {self.name}>"


@dataclass(eq=False)
class FakeFrame:
    """A Wasm frame of the fake guest."""

    func_index: int
    pc: int
    fp: int
    locals: list[Any]
    stack: list[Any]
    parent: FakeFrame | None
    module: object
    instance: object = None

    @property
    def func_name(self) -> str | None:
        """The function's name from the fake module's name section."""
        name: str | None = self.module.definition.func_name(self.func_index)  # type: ignore[attr-defined]
        return name


@dataclass
class Recorder:
    """What the store saw: every event delivered to the handler."""

    events: list[DebugEvent] = field(default_factory=list)


class FakeStore:
    """A Store with private code copies, a debug handler and a fake guest."""

    def __init__(self) -> None:
        self.codes: dict[object, FakeCode] = {}
        self.state = BreakpointState(self)
        self.handler: DebugHandler | None = None
        self.exit_handler: Callable[[Any], None] | None = None
        self.interrupt_flag = False
        self.frames: list[FakeFrame] = []  # innermost last while running
        self.seen = Recorder()

    # -- CodeRegistry --------------------------------------------------------

    def debug_code(self, module: object) -> FakeCode:
        code = self.codes.get(module)
        if code is None:
            raise DebugError(f"{module!r} is not instantiated in this store")
        return code

    def debug_modules(self) -> Iterable[object]:
        return list(self.codes)

    def code_exclusive(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    # -- DebugStore ----------------------------------------------------------

    def edit_breakpoints(self) -> AbstractContextManager[BreakpointEdit]:
        return self.state.edit()

    def debug_frames(self) -> list[FakeFrame]:
        return list(reversed(self.frames))

    def debug_frame_table(self, module: object) -> FrameTable:
        return self.debug_code(module).frame_table

    def resolve_breakpoint(self, module: object, pc: int) -> int:
        return self.state.resolve(module, pc)

    def set_debug_handler(self, handler: DebugHandler | None) -> None:
        self.handler = handler

    def set_guest_exit_handler(self, handler: Callable[[Any], None] | None) -> None:
        self.exit_handler = handler

    def interrupt(self) -> None:
        self.interrupt_flag = True

    @property
    def is_single_step(self) -> bool:
        return self.state.is_single_step

    # -- running ---------------------------------------------------------------

    def instantiate(self, module: FakeModule) -> FakeModule:
        self.codes[module] = FakeCode(module)
        self.state.module_added(module)
        return module

    def call(self, module: FakeModule, body: GuestFn, *args: Any) -> Any:
        """Run ``body`` (a function of ``module``) from the host."""
        return Guest(self, module).call(body, *args)

    def fire(self, event: DebugEvent) -> None:
        self.seen.events.append(event)
        if self.handler is None:
            return
        answer = self.handler(self, event)
        if answer == Resume.ABORT:
            raise FakeAbort(str(event))


class Guest:
    """The context a fake guest function runs with."""

    def __init__(self, store: FakeStore, module: FakeModule) -> None:
        self.store = store
        self.module = module

    @property
    def top(self) -> FakeFrame:
        return self.store.frames[-1]

    def call(self, body: GuestFn, *args: Any) -> Any:
        store = self.store
        index = self.module.index_of[body]
        parent = store.frames[-1] if store.frames else None
        fp = (parent.fp if parent is not None else 0x7FFF_0000) - 0x100
        frame = FakeFrame(index, -1, fp, list(args), [], parent, self.module)
        store.frames.append(frame)
        try:
            self.check_interrupt()
            return body(self, *args)
        finally:
            store.frames.pop()
            if not store.frames:  # as the runtime: stepping ends with the outermost call
                if store.state.is_single_step:
                    with store.state.edit() as edit:
                        edit.single_step(False)
                if store.exit_handler is not None:
                    store.exit_handler(store)

    def check_interrupt(self) -> None:
        if self.store.interrupt_flag:
            self.store.interrupt_flag = False
            self.store.fire(DebugEvent(DebugEventKind.INTERRUPTED, self.module))

    loop_header = check_interrupt

    def at(self, pc: int, *values: Any) -> Any:
        """Pass the sequence point at ``pc`` with the given locals; returns them."""
        store = self.store
        frame = self.top
        frame.pc = pc
        frame.locals[:] = values
        code = store.debug_code(self.module)
        if not code.published:
            raise AssertionError("executing unpublished code")
        if code.is_enabled(pc):
            # as the runtime: a (maybe shared) site stops for a breakpoint or while stepping
            if store.state.is_breakpoint(self.module, pc):
                store.fire(DebugEvent(DebugEventKind.BREAKPOINT, self.module, frame.func_index, pc))
            elif store.is_single_step:
                store.fire(DebugEvent(DebugEventKind.STEP, self.module, frame.func_index, pc))
        out = list(frame.locals)
        return out[0] if len(out) == 1 else tuple(out)

    def trap(self, message: str = "unreachable") -> None:
        frame = self.top
        trap = FakeTrap(message)
        self.store.fire(
            DebugEvent(DebugEventKind.TRAP, self.module, frame.func_index, frame.pc, trap=trap)
        )
        raise trap

    def host(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:
            frame = self.top
            self.store.fire(
                DebugEvent(
                    DebugEventKind.HOST_ERROR,
                    self.module,
                    frame.func_index,
                    frame.pc,
                    exception=exc,
                )
            )
            raise
