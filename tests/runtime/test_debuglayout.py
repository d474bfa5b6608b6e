"""Lazily compiled guest-debug code (``runtime.debuglayout``): one layout per module, a copy per Store."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import wasmdbg
from wasmdbg import DebugEventKind
from wasmdbg.jit.frametable import FrameTable, Site
from wasmdbg.runtime.codemem import CodeMemoryError
from wasmdbg.runtime.debuglayout import DebugLayout, LayoutCode

EXAMPLES = Path(wasmdbg.__file__).resolve().parent / "examples"

WAT = """(module
  (memory 1)
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib
      i32.add
    end)
  (func $g (export "g") (param i32) (result i32) local.get 0 call $h i32.const 1 i32.add)
  (func $h (param i32) (result i32) (local i32) local.get 0 i32.const 7 i32.mul local.tee 1)
  (func $crash (export "crash") (param i32) (result i32) local.get 0 i32.load)
  (func (export "never") unreachable)
)"""


class _World:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.store = wasmdbg.Store(module.engine)
        self.exports = wasmdbg.Instance(self.store, module, []).exports(self.store)
        self.events: list[tuple[DebugEventKind, int]] = []

    @property
    def code(self) -> LayoutCode:
        code = self.store.code_objects[self.module]
        assert isinstance(code, LayoutCode)
        return code

    def call(self, name: str, *args: int) -> Any:
        return self.exports[name](self.store, *args)


def _module(wat: str | bytes = WAT, **settings: Any) -> Any:
    return wasmdbg.Module(wasmdbg.Engine(wasmdbg.Config(guest_debug=True, **settings)), wat)


def _layout(module: Any) -> DebugLayout:
    layout = module.debug_layout
    assert isinstance(layout, DebugLayout)
    return layout


def _index(module: Any, name: str) -> int:
    return next(i for i, n in module.definition.names.functions.items() if n == name)


def _entry_pc(module: Any, name: str) -> int:
    return int(module.definition.body(_index(module, name)).code_start)


def _row(site: Site) -> tuple[object, ...]:
    return (site.kind, site.func_index, site.pc, site.nop, site.locals, site.stack)


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_each_functions_rows_match_the_eager_table_in_any_compile_order(order: str) -> None:
    data = (EXAMPLES / "primes.wasm").read_bytes()
    eager = _module(data, lazy_compilation=False)
    table = eager.compiled.frame_table
    assert isinstance(table, FrameTable)
    lazy = _module(data)
    layout = _layout(lazy)
    funcs = list(range(layout.first, layout.first + layout.count))
    if order == "reversed":
        funcs.reverse()
    else:
        random.Random(7).shuffle(funcs)
    for func in funcs:
        layout.ensure(func)
    ltable = layout.compiled.frame_table
    assert isinstance(ltable, FrameTable)
    image = bytes(layout.image)
    calls = {f.func_index: f for f in layout.compiled.functions}
    eager_calls = {f.func_index: f for f in eager.compiled.functions}
    for func in funcs:
        ours, theirs = ltable.function_sites(func), table.function_sites(func)
        assert [_row(s) for s in ours] == [_row(s) for s in theirs], f"function {func}"
        # every patch site is the NOP its row names, inside the function's own piece
        for site in ours:
            assert image[site.native_offset : site.native_offset + len(site.nop)] == site.nop
            assert ltable.site_at_native(site.native_offset) is not None
        # the caller-frame rows at each call's return address
        ours_calls = [ltable.frame_state(r) for r in sorted(calls[func].call_sites)]
        theirs_calls = [table.frame_state(r) for r in sorted(eager_calls[func].call_sites)]
        assert [_row(s) for s in ours_calls if s] == [_row(s) for s in theirs_calls if s]
    assert ltable.pcs() == table.pcs() and ltable.functions() == table.functions()
    assert len(ltable) == len(table)
    for pc in table.pcs()[::7]:
        assert ltable.slip(pc + 1) == table.slip(pc + 1)
        assert [_row(s) for s in ltable.sites_at(pc)] == [_row(s) for s in table.sites_at(pc)]


def test_creation_compiles_nothing_and_stores_share_what_was_compiled() -> None:
    module = _module()
    layout = _layout(module)
    assert layout.compiled_count() == 0
    a, b = _World(module), _World(module)
    assert a.call("fib", 10) == 55
    assert layout.compiled_count() == 1
    assert b.call("fib", 11) == 89
    assert layout.compiled_count() == 1  # mapped into b, not compiled again
    assert a.code.base != b.code.base and a.code.mapped == b.code.mapped == layout.end
    fib = layout.entry_offset(_index(module, "fib"))
    assert a.code.memory.read(fib, 64) == b.code.memory.read(fib, 64) == bytes(layout.image[fib : fib + 64])


def test_a_breakpoint_in_a_function_never_called_compiles_only_it_and_fires() -> None:
    module = _module()
    layout = _layout(module)
    world = _World(module)
    seen: list[tuple[DebugEventKind, int, list[object]]] = []

    def handler(store: Any, event: Any) -> None:
        seen.append((event.kind, event.func_index, list(store.debug_frames()[0].locals)))

    world.store.set_debug_handler(handler)
    with world.store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, _entry_pc(module, "h"))
    assert layout.compiled_count() == 1
    assert world.call("g", 3) == 22
    assert seen == [(DebugEventKind.BREAKPOINT, _index(module, "h"), [3, 0])]


def test_a_breakpoint_set_while_stepping_fires_once_its_function_is_mapped() -> None:
    module = _module()
    world = _World(module)
    store = world.store
    h = _index(module, "h")
    kinds: list[tuple[DebugEventKind, int]] = []

    def handler(st: Any, event: Any) -> None:
        kinds.append((event.kind, event.func_index))
        if len(kinds) == 1:  # the first step: a breakpoint in h (not compiled yet), then run
            with st.edit_breakpoints() as edit:
                edit.add_breakpoint(module, _entry_pc(module, "h"))
                edit.single_step(False)

    store.set_debug_handler(handler)
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
    assert world.call("g", 1) == 8
    assert kinds[-1] == (DebugEventKind.BREAKPOINT, h) and len(kinds) == 2


def _stepped_pcs(module: Any) -> list[int]:
    world = _World(module)
    pcs: list[int] = []
    world.store.set_debug_handler(lambda st, event: pcs.append(event.pc))
    for name, arg, result in (("g", 2, 15), ("fib", 4, 3)):
        with world.store.edit_breakpoints() as edit:
            edit.single_step(True)  # (stepping ends with each outermost call)
        assert world.call(name, arg) == result
    return pcs


def test_single_stepping_covers_functions_mapped_later_as_eager_code_does() -> None:
    lazy = _stepped_pcs(_module())
    assert len(lazy) > 40
    assert lazy == _stepped_pcs(_module(lazy_compilation=False))


def test_a_breakpoint_patches_one_stores_copy_only() -> None:
    module = _module()
    a, b = _World(module), _World(module)
    for world in (a, b):
        world.store.set_debug_handler(lambda st, event, w=world: w.events.append((event.kind, event.pc)))
    with a.store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, _entry_pc(module, "h"))
    assert b.call("g", 1) == 8 and b.events == []
    assert a.call("g", 1) == 8 and a.events == [(DebugEventKind.BREAKPOINT, _entry_pc(module, "h"))]


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager"])
def test_a_trap_in_lazily_compiled_code_stops_with_live_frames(lazy: bool) -> None:
    world = _World(_module(lazy_compilation=lazy))
    seen: list[tuple[DebugEventKind, list[object]]] = []
    world.store.set_debug_handler(
        lambda st, event: seen.append((event.kind, list(st.debug_frames()[0].locals)))
    )
    with pytest.raises(wasmdbg.Trap, match="out of bounds"):
        world.call("crash", 70000)
    assert seen == [(DebugEventKind.TRAP, [70000])]


def test_stores_on_threads_racing_first_calls_compile_each_function_once() -> None:
    module = _module()
    layout = _layout(module)
    errors: list[BaseException] = []
    results: list[tuple[int, int]] = []

    def run() -> None:
        try:
            world = _World(module)
            for n in range(12):
                results.append((world.call("fib", n), world.call("g", n)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    fib = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    assert sorted(results) == sorted([(fib[n], 7 * n + 1) for n in range(12)] * 4)
    assert layout.compiled_count() == 3  # fib, g, h


def test_debug_code_outgrowing_its_reservation_is_a_clear_error() -> None:
    module = _module()
    layout = _layout(module)
    world = _World(module)
    assert world.call("fib", 5) == 5
    layout.size = layout.end  # as if the reservation were full
    with pytest.raises(CodeMemoryError, match="outgrew its"):
        world.call("g", 1)
    assert world.call("fib", 6) == 8  # what was compiled still runs
    assert layout.compiled_count() == 1


def test_a_store_stepping_when_it_instantiates_code_another_store_compiled() -> None:
    module = _module()
    assert _World(module).call("g", 1) == 8  # compiles g and h
    engine = module.engine
    store = wasmdbg.Store(engine)
    pcs: list[int] = []
    store.set_debug_handler(lambda st, event: pcs.append(event.pc))
    other = wasmdbg.Module(engine, "(module (func (export \"nop\")))")
    wasmdbg.Instance(store, other, [])
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
    exports = wasmdbg.Instance(store, module, []).exports(store)  # maps g and h, stepping
    assert exports["g"](store, 1) == 8
    assert len(pcs) == 10  # every instruction of g and h


MAP_ABORT_SCRIPT = """
import wasmdbg
from wasmdbg.runtime import codemem
from wasmdbg.runtime.codemem import CodeMemoryError

engine = wasmdbg.Engine(wasmdbg.Config(guest_debug=True))
module = wasmdbg.Module(engine, '(module (func (export "f") (result i32) i32.const 7))')
store = wasmdbg.Store(engine)
f = wasmdbg.Instance(store, module, []).exports(store)["f"]
real = codemem.mprotect

def refuse_rx(address, size, prot):
    if prot & codemem.PROT_EXEC:
        raise CodeMemoryError("mprotect(RX) refused")
    real(address, size, prot)

codemem.mprotect = refuse_rx
print("calling", flush=True)
f(store)
print("NOT REACHED", flush=True)
"""


def test_code_that_cannot_be_republished_after_mapping_aborts_the_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", MAP_ABORT_SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode < 0, proc  # killed by SIGABRT, not returning into RW pages
    assert "calling" in proc.stdout and "NOT REACHED" not in proc.stdout
    assert "executable again after mapping lazily compiled code" in proc.stderr
    assert "mprotect(RX) refused" in proc.stderr


def test_a_compile_that_fails_half_way_leaves_no_rows_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from wasmdbg.jit.seqpoints import SequencePoints

    module = _module()
    layout = _layout(module)

    def failing(self: SequencePoints) -> None:
        raise RuntimeError("injected")

    # NB: called at the end of each function body, after its rows were added
    monkeypatch.setattr(SequencePoints, "note_stub_states", failing)
    fib = _index(module, "fib")
    with pytest.raises(RuntimeError, match="injected"):
        layout.ensure(fib)
    monkeypatch.undo()
    g = _index(module, "g")
    layout.ensure(g)
    table = layout.compiled.frame_table
    assert isinstance(table, FrameTable)
    assert {s.func_index for rows in table.native_sites() for s in rows} == {g}
    layout.ensure(fib)  # and it compiles once the fault is gone
    assert layout.compiled_count() == 2
