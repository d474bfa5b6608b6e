"""The paused guest's Wasm frames: :class:`DebugFrame` and the lazy :class:`FrameList`.

A stop (see :mod:`.support`) records where the guest paused: the innermost
frame's rbp, the native pc, the trampoline's saved-register area (0 when
there is none: traps and host errors) and, at patch sites and interrupt
checks, the frame-table row of that point.  From that record:

* the innermost frame of a patch-site or interrupt stop is built alone,
  without walking the stack, from a :class:`TopRecipe` made once per row
  (module, function, pc, and one precomputed decoder per value, see
  ``frames.make_reader``);
* every other frame comes from walking the frame-pointer chain
  (``Store.wasm_frames``) and the frame table of each frame's module.

Which row describes a frame::

    innermost, patch site / interrupt   its own row + the saved registers
    innermost, trap                     the trapping instruction's patch row,
                                        register values from the trap check's
                                        row (the trap stub stored them)
    innermost, host call                the call's CALL row (or its patch row
                                        without the call's arguments)
    caller                              the CALL row of its return address
                                        (registers are clobbered across calls)

Everything here belongs to one stop and refuses access once it is over.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, overload

from ...jit.frametable import Loc, LocKind, Site, SiteKind
from ...wasm.reader import read_u32
from ..vmcontext import peek
from .frames import (
    FrameValues,
    GlobalCell,
    GlobalValues,
    MemoryAccess,
    ProcessMemory,
    Reader,
    SavedRegisters,
    StopToken,
    make_reader,
)

if TYPE_CHECKING:
    from ...wasm.module import ModuleDef
    from ..code import CodeObject

__all__ = [
    "DebugFrame",
    "FrameList",
    "FrameSource",
    "PauseSource",
    "TopRecipe",
    "call_arity",
    "frame_rows",
    "trap_locations",
]

_MEMORY = ProcessMemory()


@dataclass(frozen=True, slots=True)
class TopRecipe:
    """How to build the innermost frame at one patch site or interrupt check (per Store)."""

    module: object
    site: Site
    layout: SavedRegisters
    local_readers: tuple[Reader, ...]
    stack_readers: tuple[Reader, ...]
    #: both, as frames keep them
    readers: tuple[tuple[Reader, ...], tuple[Reader, ...]]
    #: a frame's attributes that are the same at every stop here (see DebugFrame.at_site)
    template: tuple[object, int, int, Site, tuple[Loc, ...], tuple[Loc, ...], tuple[tuple[Reader, ...], tuple[Reader, ...]]]

    @classmethod
    def of(cls, module: object, site: Site, layout: SavedRegisters) -> TopRecipe:
        """The recipe of ``site`` (its decoders made now)."""
        local_readers = tuple(make_reader(loc, layout) for loc in site.locals)
        stack_readers = tuple(make_reader(loc, layout) for loc in site.stack)
        readers = (local_readers, stack_readers)
        template = (module, site.func_index, site.pc, site, site.locals, site.stack, readers)
        return cls(module, site, layout, local_readers, stack_readers, readers, template)


class FrameSource:
    """What frames need from the Store: instances by VMContext (cached)."""

    def __init__(self, instance_of_vmctx: Callable[[int], object]) -> None:
        self._lookup = instance_of_vmctx
        self._instances: dict[int, object] = {}

    def instance_at(self, fp: int) -> object:
        """The instance of the Wasm frame at ``fp`` (its VMContext is at ``[fp-8]``)."""
        vmctx = peek(fp - 8)
        instance = self._instances.get(vmctx)
        if instance is None:
            instance = self._instances[vmctx] = self._lookup(vmctx)
        return instance


class DebugFrame:
    """One live Wasm frame of a paused Store (see ``wasmdbg.debug.Frame``).

    ``locals`` and ``stack`` are :class:`~.frames.FrameValues` (readable and
    writable while the guest is paused), ``globals`` a
    :class:`~.frames.GlobalValues`; ``native_pc`` is the frame's native
    program counter; ``site`` the frame-table row used; ``stop`` the pause
    it belongs to.  Built lazily: the views are made on first use.
    """

    # NB: slots, every one set by both constructors: a frame is built at every
    # conditional-breakpoint hit, and slot stores are the cheapest way there
    __slots__ = (
        "_instance",
        "_locals",
        "_locals_locs",
        "_memory",
        "_owner",
        "_parent",
        "_readers",
        "_saved",
        "_source",
        "_stack",
        "_stack_locs",
        "fp",
        "func_index",
        "module",
        "native_pc",
        "pc",
        "site",
        "stop",
    )

    def __init__(
        self,
        module: object,
        func_index: int,
        pc: int,
        fp: int,
        native_pc: int,
        site: Site | None,
        stop: StopToken,
        source: FrameSource,
        locals_locs: tuple[Loc, ...],
        stack_locs: tuple[Loc, ...],
        memory: MemoryAccess = _MEMORY,
    ) -> None:
        self.module = module
        self.func_index = func_index
        self.pc = pc
        self.fp = fp
        self.native_pc = native_pc
        self.site = site
        self.stop = stop
        self._source = source
        self._locals_locs = locals_locs
        self._stack_locs = stack_locs
        self._memory = memory
        self._saved = 0
        self._readers: tuple[tuple[Reader, ...], tuple[Reader, ...]] | None = None
        self._locals: FrameValues | None = None
        self._stack: FrameValues | None = None
        self._instance: object = None
        self._parent: DebugFrame | None = None
        self._owner: FrameList | None = None

    @classmethod
    def at_site(
        cls,
        recipe: TopRecipe,
        fp: int,
        native_pc: int,
        saved: int,
        stop: StopToken,
        source: FrameSource,
    ) -> DebugFrame:
        """The innermost frame at a patch site or interrupt check (registers saved)."""
        # NB: built at every conditional-breakpoint hit: the site's template
        # unpacked, no __init__ call
        frame = cls.__new__(cls)
        (frame.module, frame.func_index, frame.pc, frame.site, frame._locals_locs,
         frame._stack_locs, frame._readers) = recipe.template
        frame.fp = fp
        frame.native_pc = native_pc
        frame.stop = stop
        frame._source = source
        frame._saved = saved
        frame._memory = _MEMORY
        frame._locals = frame._stack = frame._owner = frame._parent = None
        frame._instance = None
        return frame

    def use_saved_registers(
        self, saved: int, readers: tuple[tuple[Reader, ...], tuple[Reader, ...]]
    ) -> None:
        """Values in registers come from the area at ``saved``, read by ``readers``."""
        self._saved = saved
        self._readers = readers

    # -- views ----------------------------------------------------------------

    def _view(self, what: str) -> FrameValues:
        stop = self.stop
        if not stop.live:
            stop.check()
        readers = self._readers
        if what == "locals":
            locs, mine = self._locals_locs, readers[0] if readers is not None else None
        else:
            locs, mine = self._stack_locs, readers[1] if readers is not None else None
        return FrameValues(what, locs, self.fp, self._memory, None, stop, mine, self._saved, self)

    def peer_of(self, view: FrameValues) -> FrameValues:
        """The other value list of this frame (for refusing writes through an alias)."""
        return self.stack if view is self._locals else self.locals

    @property
    def locals(self) -> FrameValues:
        """The function's parameters and locals."""
        view = self._locals
        if view is None:
            # NB: _view inlined: this is a conditional breakpoint's path
            stop = self.stop
            if not stop.live:
                stop.check()
            readers = self._readers
            view = self._locals = FrameValues(
                "locals", self._locals_locs, self.fp, self._memory, None, stop,
                readers[0] if readers is not None else None, self._saved, self,
            )
        return view

    @property
    def stack(self) -> FrameValues:
        """The operand stack, bottom first."""
        view = self._stack
        if view is None:
            view = self._stack = self._view("stack")
        return view

    @property
    def instance(self) -> Any:
        """The instance running the frame."""
        self.stop.check()
        if self._instance is None:
            self._instance = self._source.instance_at(self.fp)
        return self._instance

    @property
    def parent(self) -> DebugFrame | None:
        """The next older Wasm frame (host frames skipped), or ``None``."""
        self.stop.check()
        if self._owner is not None:
            self._owner.link()
        return self._parent

    def set_parent(self, parent: DebugFrame | None) -> None:
        """Link the next older frame (done by the frame list)."""
        self._parent = parent
        self._owner = None

    def release(self) -> None:
        """The stop is over: drop the links back from this frame's views and list.

        NB: a frame and its views, and a frame and its list, point at each
        other; left as cycles, every hit's objects would wait for the cyclic
        garbage collector, which then costs more than the hit itself.
        """
        self._owner = None
        self._locals = None
        self._stack = None

    def adopt(self, owner: FrameList) -> None:
        """``owner`` walks the rest of the stack when :attr:`parent` is asked for."""
        self._owner = owner

    @property
    def func_name(self) -> str | None:
        """The function's name from the module's name section, if it has one."""
        definition = getattr(self.module, "definition", None)
        if definition is None:
            return None
        name: str | None = definition.func_name(self.func_index)
        return name

    @property
    def memory(self) -> memoryview | None:
        """Memory 0 of the frame's instance as a writable byte view (or None)."""
        self.stop.check()
        memories = getattr(self.instance, "memories", None)
        if not memories:
            return None
        view: memoryview = memories[0].byte_view()
        return view

    @property
    def globals(self) -> GlobalValues:
        """The instance's globals (imports first), readable and writable."""
        self.stop.check()
        cells = [
            GlobalCell(g.cell_address, g.wasm_type.valtype, g.wasm_type.mutable)
            for g in getattr(self.instance, "globals", ())
        ]
        return GlobalValues(cells, _MEMORY, self.stop)

    def __repr__(self) -> str:
        return f"<DebugFrame func {self.func_index} pc 0x{self.pc:x} fp 0x{self.fp:x}>"


class PauseSource(Protocol):
    """What a frame list asks the Store's debug support for."""

    def top_frame(self, pause: Any, stop: StopToken) -> DebugFrame | None: ...

    def walk(self, pause: Any, stop: StopToken, top: DebugFrame | None) -> list[DebugFrame]: ...


class FrameList(StopToken, Sequence[DebugFrame]):
    """The paused guest's frames, innermost first, built on demand.

    NB: the debugger looks at ``frames[0]`` at every sequence point while
    stepping; only that frame is built until something asks for more (a
    length, another index, a parent), so stepping stays O(1) in the depth
    of the stack.  ``frames``: all of them, when walked already.

    A list made before anyone asked for the stop's token *is* that token
    (``stop=None``; see :meth:`at_site`): one object fewer per stop on a
    conditional breakpoint's path.  Otherwise ``stop`` is the token.
    """

    __slots__ = ("_all", "_pause", "_source", "_stop", "_top", "_top_made")

    def __init__(
        self,
        source: PauseSource,
        stop: StopToken | None,
        frames: list[DebugFrame] | None = None,
        pause: Any = None,
        top: DebugFrame | None = None,
    ) -> None:
        super().__init__(stop.generation if stop is not None else pause[4])
        self._source = source
        self._stop = stop
        self._pause = pause
        self._all: list[DebugFrame] | None = frames
        self._top = top
        self._top_made = top is not None
        if top is not None:
            top._owner = self

    @classmethod
    def at_site(cls, source: PauseSource, pause: Any, frames: FrameSource) -> FrameList:
        """The list of a patch-site stop, its own token, with its top frame built
        at once (as :meth:`DebugFrame.at_site` builds it; ``pause`` = fp, native
        pc, saved area, recipe, generation).

        NB: one call, slot by slot, not through :meth:`DebugFrame.at_site`
        (measured: 0.09 us more per stop): a conditional breakpoint asks for
        frame 0 right after the list.  The two must set the same slots.
        """
        self = cls.__new__(cls)
        self.generation = pause[4]
        self.live = True
        top = DebugFrame.__new__(DebugFrame)
        (top.module, top.func_index, top.pc, top.site, top._locals_locs,
         top._stack_locs, top._readers) = pause[3].template
        top.fp, top.native_pc, top._saved = pause[0], pause[1], pause[2]
        top.stop = self
        top._source = frames
        top._memory = _MEMORY
        top._locals = top._stack = top._parent = top._instance = None
        top._owner = self
        self._source = source
        self._stop = None
        self._pause = pause
        self._all = None
        self._top = top
        self._top_made = True
        return self

    def _first(self) -> DebugFrame | None:
        stop = self._stop or self
        if not stop.live:
            stop.check()
        if self._all is not None:
            return self._all[0] if self._all else None
        if not self._top_made:
            top = self._top = self._source.top_frame(self._pause, stop)
            self._top_made = True
            if top is not None:
                top.adopt(self)
        return self._top

    def release(self) -> None:
        """The stop is over: break the reference cycles of the frames built (see
        :meth:`DebugFrame.release`; frames may point back at the list as their
        token)."""
        top = self._top
        if top is not None:
            top._owner = top._locals = top._stack = None  # DebugFrame.release, inlined
            self._top = None
        for frame in self._all or ():
            frame.release()
        self._all = None

    def link(self) -> list[DebugFrame]:
        """Every frame, parents linked (walks the stack once)."""
        stop = self._stop or self
        stop.check()
        if self._all is None:
            frames = self._source.walk(self._pause, stop, self._first())
            for inner, outer in itertools.pairwise(frames):
                inner.set_parent(outer)
            if frames:
                frames[-1].set_parent(None)
            self._all = frames
        return self._all

    @overload
    def __getitem__(self, index: int) -> DebugFrame: ...

    @overload
    def __getitem__(self, index: slice) -> list[DebugFrame]: ...

    def __getitem__(self, index: int | slice) -> DebugFrame | list[DebugFrame]:
        if index == 0 and self._all is None:
            # NB: the conditional breakpoint's path: the top frame, once built
            top = self._top
            if top is not None and (self._stop or self).live:
                return top
            top = self._first()
            if top is None:
                raise IndexError("no Wasm frame")
            return top
        return self.link()[index]

    def __len__(self) -> int:
        return len(self.link())

    def __bool__(self) -> bool:
        return self._first() is not None


def call_arity(mdef: ModuleDef, pc: int) -> int:
    """How many operand-stack values the instruction at ``pc`` consumes if it is a call (else 0)."""
    raw = mdef.raw
    if not 0 <= pc < len(raw):
        return 0
    op = raw[pc]
    if op in (0x10, 0x12):  # call, return_call
        index, _ = read_u32(raw, pc + 1, len(raw))
        return len(mdef.func_type(index).params)
    if op in (0x11, 0x13):  # call_indirect, return_call_indirect: + the table index
        type_index, _ = read_u32(raw, pc + 1, len(raw))
        return len(mdef.types[type_index].params) + 1
    return 0


def trap_locations(patch: Site | None, check: Site | None) -> tuple[tuple[Loc, ...], tuple[Loc, ...]]:
    """Locals and operand stack of a frame that trapped, as readable as they get.

    ``patch`` is the trapping instruction's patch-site row (the stack before
    the instruction, some values in registers); ``check`` the row of the
    trap check (registers stored to slots by its stub, the instruction's
    operands already popped).  The stack is the patch row's, with each
    register location replaced by the check row's slot at the same depth.
    The check rows of the integer divisions also list the instruction's
    operands (their stubs store them too); any other operand that was only
    in a register stays a register location, which reads as "not saved".
    Locals come from the check row when there is one (in a prologue it
    knows the declared locals are not zeroed yet).
    """
    if patch is None:
        return (check.locals, check.stack) if check is not None else ((), ())
    if check is None:
        return patch.locals, patch.stack
    below = check.stack
    stack = tuple(
        loc
        if loc.kind in (LocKind.SLOT, LocKind.CONST) or depth >= len(below)
        else below[depth]
        for depth, loc in enumerate(patch.stack)
    )
    return check.locals, stack


def frame_rows(
    code: CodeObject, wasm_pc: int | None, native_pc: int, func_index: int, depth: int, *, trapped: bool
) -> tuple[Site | None, int, tuple[Loc, ...], tuple[Loc, ...]]:
    """The row, pc, locals and stack locations of a walked frame (see the module table)."""
    table = code.frame_table
    offset = native_pc - code.base
    pc = wasm_pc if wasm_pc is not None else -1
    drop = 0
    locs: tuple[tuple[Loc, ...], tuple[Loc, ...]] | None = None
    row: Site | None
    if depth == 0 and trapped:
        rows = [s for s in table.sites_at(pc) if s.func_index == func_index]
        check = table.call_state(offset)  # the trap check's row, if recorded
        row = rows[0] if rows else check
        locs = trap_locations(rows[0] if rows else None, check)
    elif depth == 0:
        # a host call in progress: the call's state row (or its patch site without the arguments)
        row = table.call_state(offset)
        if row is None:
            rows = [s for s in table.sites_at(pc) if s.func_index == func_index]
            row = rows[0] if rows else table.frame_state(offset)
            if wasm_pc is not None and rows:
                drop = call_arity(code.definition, pc)
    else:
        row = table.frame_state(offset)
        if wasm_pc is None:
            pc = row.pc if row is not None else -1
        if row is not None and row.kind == SiteKind.PATCH:  # the call's own site
            drop = call_arity(code.definition, pc)
    if locs is not None:
        locals_locs, stack_locs = locs
    else:
        locals_locs = row.locals if row is not None else ()
        stack_locs = row.stack if row is not None else ()
    if drop:
        stack_locs = stack_locs[: max(0, len(stack_locs) - drop)]
    return row, pc, locals_locs, stack_locs
