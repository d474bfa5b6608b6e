"""NOP-free twins: which version of a debug function runs, and moving frames over.

Code compiled with ``Config.debug_twins`` holds two versions of every
function (``jit.compiler``): the *debug* version with a patch site before
every instruction, and its *twin* without them, identical in frame layout
and register state at every instruction boundary and return address.  A
debug function's first 5 bytes are its *entry switch*::

    unarmed:  f: jmp twin_f      calls run the twin (no NOPs executed)
    armed:    f: nop5            calls run the debug version

A twin calls itself straight (``call twin_f``); arming rewrites those calls
to ``call f`` too (``CompiledFunction.self_calls``), so that a recursive
twin frame not moved over (see below) still runs into the sites.

A function is *armed* while any of its patch sites is enabled (a
breakpoint, single-stepping).  :class:`EntrySwitches` keeps the switches of
one code copy in step with its enabled sites; it is told of every site the
edit session patches, while that copy is unpublished.

Arming a function does not move its live activations: they sit in the twin
at return addresses (calls, trap stubs, interrupt checks).  Each such return
address has a matching one in the debug version (``twin_returns``), so
:func:`move_frames` rewrites the machine stack's return-address slots and
the frames return into the debug version, where the sites fire.  When it
runs (``StoreDebug``)::

    an edit arms f ──► pending, and the INTERRUPT_TWIN bit is set
    guest calls back (patch site, interrupt check: the bit makes one soon)
        └─► pending? move every twin frame; the callback's own return
            address is moved too whenever it lies in a twin

Disarming writes the ``jmp`` back for new calls; frames already in the
debug version stay there until they return (always correct, only slower).

NB: the first frame of each *outer* activation (a frame that called a host
function which re-entered Wasm) is known only through a copy of its return
address: it is not moved, and keeps running its twin until it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...jit.abi import CompiledFunction, twin_jump
from ...jit.frametable import Site
from ...jit.x64 import NOP5, call_rel32_bytes
from ..vmcontext import poke

if TYPE_CHECKING:
    from ..code import CodeObject
    from ..store import Store

__all__ = ["EntrySwitches", "move_frames"]


class EntrySwitches:
    """The entry switches of one Store's private code copy of a module."""

    def __init__(self, code: CodeObject, on_armed: Callable[[], None]) -> None:
        self.code = code
        self._on_armed = on_armed
        self._pairs: dict[int, tuple[CompiledFunction, CompiledFunction]] = {}
        # func_index -> native offsets of its enabled patch sites
        self._enabled: dict[int, set[int]] = {}

    def is_armed(self, func_index: int) -> bool:
        """Whether calls of the function run its debug version."""
        return bool(self._enabled.get(func_index))

    def site_patched(self, site: Site, enabled: bool) -> None:
        """``site`` was just enabled or disabled in this (unpublished) copy."""
        index = site.func_index
        sites = self._enabled.get(index)
        if enabled:
            if sites is None:
                sites = self._enabled[index] = set()
            was_armed = bool(sites)
            sites.add(site.native_offset)
            if not was_armed:
                self._switch(index, True)
                self._on_armed()
        elif sites:
            sites.discard(site.native_offset)
            if not sites:
                self._switch(index, False)

    def _switch(self, func_index: int, armed: bool) -> None:
        pair = self._pairs.get(func_index)
        if pair is None:
            # NB: lazily compiled code grows its function lists (runtime.debuglayout)
            compiled = self.code.compiled
            self._pairs = {f.func_index: (f, t) for f, t in zip(compiled.functions, compiled.twins, strict=True)}
            pair = self._pairs[func_index]
        func, twin = pair
        memory = self.code.memory
        memory.write(func.start, NOP5 if armed else twin_jump(func, twin))
        # the twin's calls of itself: to the debug version while armed (a twin frame
        # not moved over still recurses into the sites), else to the twin
        target = func.start if armed else twin.start
        for at in twin.self_calls:
            memory.write(at, call_rel32_bytes(at, target))


def move_frames(store: Store, fp: int, slot: int, pc: int) -> int:
    """Move every live frame in a twin to its debug version; return ``pc`` moved.

    (``fp``, ``pc``) is the innermost Wasm frame and ``slot`` where the
    machine stack holds ``pc`` (a trampoline's return address).  Only valid
    while the guest is out of machine code (in a callback).
    """
    top = pc
    for at, ret, code in store.wasm_return_slots(fp, slot, pc):
        if at and code.in_twin(ret):
            moved = code.debug_pc(ret)
            poke(at, moved)
            if at == slot:
                top = moved
    return top
