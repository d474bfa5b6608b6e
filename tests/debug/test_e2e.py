"""The debugger on real compiled code: patch sites, the trampoline, live frames.

Scripts are (expected stop, action) pairs as in ``test_debugger.py``; the
expected pcs are module offsets taken from the decoder (``iter_body``), so
the tests do not depend on how the compiler lays out machine code.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from scripted import Action, Scripted

from wasmdbg import Config, Engine, Func, FuncType, Linker, Module, Store, Trap, ValType
from wasmdbg.debug import DebugEvent, DebugEventKind, Debugger, Stop, StopReason
from wasmdbg.errors import DebugError
from wasmdbg.runtime import codemem
from wasmdbg.wasm.code import iter_body

FACT_WAT = """
(module
  (import "host" "cb" (func $cb (param i32) (result i32)))
  (func $fact (export "fact") (param $n i32) (result i32)
    local.get $n
    i32.const 1
    i32.le_s
    if (result i32)
      i32.const 1
    else
      local.get $n
      local.get $n
      i32.const 1
      i32.sub
      call $fact
      i32.mul
    end)
  (func $main (export "main") (param $x i32) (result i32)
    (local $r i32)
    local.get $x
    call $fact
    local.set $r
    local.get $r
    i32.const 1
    i32.add)
  (func $div (export "div") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.div_s)
  (func $outer (export "outer") (param $v i32) (result i32)
    local.get $v
    i32.const 10
    i32.add
    call $cb)
  (func $inner (export "inner") (param $w i32) (result i32)
    local.get $w
    i32.const 2
    i32.mul)
  (func $sum (export "sum") (param $k i32) (result i32)
    (local $acc i32)
    block
      loop
        local.get $k
        i32.eqz
        br_if 1
        local.get $acc
        local.get $k
        i32.add
        local.set $acc
        local.get $k
        i32.const 1
        i32.sub
        local.set $k
        br 0
      end
    end
    local.get $acc))
"""

FACT, MAIN, DIV, OUTER, INNER, SUM = 1, 2, 3, 4, 5, 6


class World:
    """An engine with debugging, one module, one store with an instance."""

    def __init__(self, module: Module | None = None, engine: Engine | None = None) -> None:
        self.engine = engine or Engine(Config(debug=True))
        self.module = module or Module(self.engine, FACT_WAT)
        self.store = Store(self.engine)
        linker = Linker(self.engine)
        self.inner_func: Func | None = None

        def cb(v: int) -> int:
            if self.inner_func is None:
                raise RuntimeError("host callback failed")
            return int(self.inner_func(self.store, v))

        linker.define(
            self.store,
            "host",
            "cb",
            Func(self.store, FuncType([ValType.i32()], [ValType.i32()]), cb),
        )
        self.instance = linker.instantiate(self.store, self.module)
        self.exports = self.instance.exports(self.store)

    def func(self, name: str) -> Func:
        found = self.exports[name]
        assert isinstance(found, Func)
        return found

    def call(self, name: str, *args: int) -> Any:
        return self.func(name)(self.store, *args)


def pcs(module: Module, func_index: int) -> list[int]:
    """The module offsets of a function's instructions, in order."""
    mdef = module.definition
    body = mdef.body(func_index)
    return [off for off, _, _ in iter_body(mdef, body)]




BP, STEP = StopReason.BREAKPOINT, StopReason.STEP


def test_raw_handler_gets_the_store_and_the_event() -> None:
    w = World()
    m = pcs(w.module, MAIN)
    seen: list[tuple[Any, DebugEventKind, int | None, tuple[int, ...]]] = []

    def handler(store: Any, event: DebugEvent) -> None:
        frames = store.debug_frames()
        seen.append((store, event.kind, event.pc, tuple(frames[0].locals)))

    w.store.set_debug_handler(handler)
    with w.store.edit_breakpoints() as edit:
        edit.add_breakpoint(w.module, m[2])
    assert w.call("main", 3) == 7
    assert seen == [(w.store, DebugEventKind.BREAKPOINT, m[2], (3, 0))]
    w.store.clear_debug_handler()
    assert w.call("main", 3) == 7
    assert len(seen) == 1


def test_conditional_breakpoint_in_recursive_function() -> None:
    w = World()
    entry = pcs(w.module, FACT)[0]
    dbg = Scripted(w.store, [((BP, FACT, entry, (2,)), "continue")])
    dbg.record_depths = True
    bp = dbg.set_break_function(w.module, "fact", cond="n == 2")
    assert w.call("fact", 5) == 120
    assert dbg.script == [] and bp.hits == 5  # every enabled hit counts: n = 5 ... 1
    assert dbg.depths[0] == 4


def test_ignore_count_and_temporary() -> None:
    w = World()
    entry = pcs(w.module, FACT)[0]
    dbg = Scripted(w.store, [((BP, FACT, entry, (3,)), "continue")])
    dbg.set_break_function(w.module, FACT, ignore=2, temporary=True)
    assert w.call("fact", 5) == 120
    assert dbg.breakpoints == [] and w.store.breakpoints() == []


def test_single_step_exact_pc_sequence() -> None:
    w = World()
    m, f = pcs(w.module, MAIN), pcs(w.module, FACT)
    # main(2): main[0] local.get, main[1] call -> fact(2) ... fact(1) ... back
    f_if, f_else_body = f[:4], f[6:11]  # get,const,le_s,if | get,get,const,sub,call
    base = [f[0], f[1], f[2], f[3], f[4], f[5]]  # n=1: ..., if, i32.const 1, else
    expected = (
        [(MAIN, m[1])]
        + [(FACT, pc) for pc in f_if]
        + [(FACT, pc) for pc in f_else_body]
        + [(FACT, pc) for pc in base]
        + [(FACT, f[-1])]  # the jump from `else` lands on the function's `end`
        + [(FACT, f[11]), (FACT, f[12]), (FACT, f[13])]  # mul, end (if), end
        + [(MAIN, pc) for pc in m[2:]]
    )
    script: list[tuple[tuple[Any, ...], Action]] = [((BP, MAIN, m[0]), "step")]
    script += [((STEP, fi, pc), "step") for fi, pc in expected[:-1]]
    script += [((STEP, *expected[-1]), "continue")]
    dbg = Scripted(w.store, script)
    dbg.set_break(w.module, m[0])
    assert w.call("main", 2) == 3
    assert dbg.script == []
    assert not w.store.is_single_step


def test_opcodes_without_code_share_a_site_and_stop_in_order() -> None:
    w = World()
    m = pcs(w.module, MAIN)  # ... local.get $r, i32.const 1, i32.add
    table = w.store.debug_frame_table(w.module)
    site4, site5 = table.sites_at(m[4])[0], table.sites_at(m[5])[0]
    assert site4.native_offset == site5.native_offset  # `i32.const 1` emits no code
    dbg = Scripted(
        w.store,
        [
            ((BP, MAIN, m[4], (5, 120), (120,)), "continue"),
            ((BP, MAIN, m[5], (5, 120), (120, 1)), "step"),  # the add's own row of the site
            ((STEP, MAIN, m[6], (5, 120), (121,)), "continue"),
        ],
    )
    dbg.set_break(w.module, m[4])
    dbg.set_break(w.module, m[5])
    assert w.call("main", 5) == 121
    assert dbg.script == []
    dbg.clear_break(1)  # m[5] still needs the shared site
    dbg.script = [((BP, MAIN, m[5], (2, 2), (2, 1)), "continue")]
    assert w.call("main", 2) == 3
    assert dbg.script == []


def test_step_over_a_call() -> None:
    w = World()
    m = pcs(w.module, MAIN)
    dbg = Scripted(
        w.store,
        [
            ((BP, MAIN, m[1], (4, 0), (4,)), "next"),  # at `call $fact`, 4 on the stack
            ((STEP, MAIN, m[2], (4, 0), (24,)), "next"),  # the result, back in main
            ((STEP, MAIN, m[3], (4, 24), ()), "continue"),
        ],
    )
    dbg.set_break(w.module, m[1])
    assert w.call("main", 4) == 25
    assert dbg.script == []


def test_step_out_of_a_deep_frame() -> None:
    w = World()
    f, m = pcs(w.module, FACT), pcs(w.module, MAIN)

    def check(d: Debugger, stop: Stop) -> str:
        assert [fr.func_index for fr in stop.frames] == [FACT] * 4 + [MAIN]
        assert [tuple(fr.locals) for fr in stop.frames] == [(1,), (2,), (3,), (4,), (4, 0)]
        assert stop.frames[1].pc == f[10]  # callers stand at their `call`
        assert tuple(stop.frames[1].stack) == (2,)  # the call's argument is gone
        return "return"

    dbg = Scripted(
        w.store,
        [
            ((BP, FACT, f[4], (1,)), check),  # n == 1: i32.const 1
            ((STEP, FACT, f[11], (2,), (2, 1)), "return"),  # i32.mul in fact(2)
            ((STEP, FACT, f[11], (3,), (3, 2)), "return"),
            ((STEP, FACT, f[11], (4,), (4, 6)), "return"),
            ((STEP, MAIN, m[2], (4, 0), (24,)), "continue"),
        ],
    )
    dbg.set_break(w.module, f[4])
    assert w.call("main", 4) == 25
    assert dbg.script == []


def test_breakpoint_in_one_store_does_not_fire_in_another() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, FACT_WAT)
    a, b = World(module, engine), World(module, engine)
    entry = pcs(module, FACT)[0]
    da = Scripted(a.store, [((BP, FACT, entry), "continue")] * 3)
    da.set_break(module, entry)
    db = Scripted(b.store, [])
    assert b.call("fact", 3) == 6
    assert db.stops == []
    assert a.call("fact", 3) == 6
    assert da.script == []
    code_a, code_b = a.store.code_objects[module], b.store.code_objects[module]
    assert code_a.memory.address != code_b.memory.address


def test_write_a_local_and_a_stack_value() -> None:
    w = World()
    m = pcs(w.module, MAIN)

    def poke_local(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        stop.frame.locals[0] = 5  # x: 4 -> 5
        return "continue"

    def poke_stack(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        assert tuple(stop.frame.stack) == (120,)
        stop.frame.stack[0] = 1000  # r = fact(5) -> r = 1000: r + 1 -> 1000 + 1
        return "continue"

    dbg = Scripted(
        w.store, [((BP, MAIN, m[0], (4, 0)), poke_local), ((BP, MAIN, m[2]), poke_stack)]
    )
    dbg.set_break(w.module, m[0])
    dbg.set_break(w.module, m[2])  # local.set $r (at i32.add the value is local $r's)
    assert w.call("main", 4) == 1001
    assert dbg.script == []


def test_comparison_in_the_flags_reads_and_writes() -> None:
    w = World()
    s = pcs(w.module, SUM)  # block, loop, local.get $k, i32.eqz, br_if 1, ...
    f = pcs(w.module, FACT)  # local.get $n, i32.const 1, i32.le_s, if ...
    seen: list[Any] = []

    def at_br_if(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        k, top = stop.frame.locals[0], stop.frame.stack[-1]
        seen.append((k, top, str(stop.frame.stack.location(-1))))  # type: ignore[attr-defined]
        if k == 3:
            stop.frame.stack[-1] = 7  # any non-zero value takes the branch: leave the loop
            assert stop.frame.stack[-1] == 1
        return "continue"

    dbg = Scripted(w.store, [((BP, SUM, s[4]), at_br_if)] * 3)
    dbg.set_break(w.module, s[4])
    assert w.call("sum", 5) == 5 + 4  # the loop left early, at k == 3
    assert [(k, top) for k, top, _ in seen] == [(5, 0), (4, 0), (3, 0)]
    assert all(where.startswith("i32@flags") for _, _, where in seen)
    dbg.clear_all_breaks()

    def at_if(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        n = stop.frame.locals[0]
        seen.append((n, stop.frame.stack[-1]))
        if n == 2:
            stop.frame.stack[-1] = 1  # pretend n <= 1: fact(2) answers 1 at once
        return "continue"

    seen.clear()
    dbg.script = [((BP, FACT, f[3]), at_if)] * 2
    dbg.set_break(w.module, f[3])
    assert w.call("fact", 3) == 3 * 1
    assert seen == [(3, 0), (2, 0)] and dbg.script == []


def test_writing_a_constant_is_refused() -> None:
    w = World()
    m = pcs(w.module, MAIN)
    errors: list[Exception] = []

    def poke(d: Debugger, stop: Stop) -> str:
        assert stop.frame is not None
        values = stop.frame.stack
        for i in range(len(values)):
            if not values.is_writable(i):  # type: ignore[attr-defined]
                try:
                    values[i] = 7
                except DebugError as exc:
                    errors.append(exc)
        return "continue"

    dbg = Scripted(w.store, [((BP, MAIN, m[5]), poke)])
    dbg.set_break(w.module, m[5])
    w.call("main", 1)
    # `i32.const 1` stays a constant (folded into the add): writing it is refused; the
    # value below it, pushed by local.get, is a copy of its own and writable
    assert [str(exc).split(" ")[0] for exc in errors] == ["stack[1]"]
    assert "constant" in str(errors[0])


def test_trap_stops_with_live_frames() -> None:
    w = World()
    d = pcs(w.module, DIV)

    def look(dbg: Debugger, stop: Stop) -> str:
        assert stop.event.kind == DebugEventKind.TRAP
        assert isinstance(stop.event.trap, Trap)
        assert [f.func_index for f in stop.frames] == [DIV]
        assert stop.frame is not None and tuple(stop.frame.locals) == (7, 0)
        with pytest.raises(DebugError):
            stop.frame.locals[0] = 1
        return "continue"

    dbg = Scripted(w.store, [((StopReason.TRAP, DIV, d[2], (7, 0)), look)])
    with pytest.raises(Trap, match="integer divide by zero"):
        w.call("div", 7, 0)
    assert dbg.script == []
    assert w.call("div", 7, 2) == 3  # the store is still usable


DEEP_WAT = """
(module
  (func $down (export "down") (param $d i32) (result i32)
    local.get $d
    i32.const 1
    i32.add
    call $down))
"""


def test_stack_overflow_stops_with_every_frame_live() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, DEEP_WAT)
    store = Store(engine)
    down = Linker(engine).instantiate(store, module).exports(store)["down"]
    assert isinstance(down, Func)
    seen: list[Any] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frames = st.debug_frames()
        depths = [f.locals[0] for f in frames]
        # innermost first, one less per frame: each frame's own value, read from the live
        # stack (the walk stops at stackwalk.MAX_FRAMES)
        seen.append((event.kind, len(frames), depths == list(range(depths[0], depths[0] - len(frames), -1))))
        assert isinstance(event.trap, Trap) and len(event.trap.frames) == len(frames)

    store.set_debug_handler(handler)
    with pytest.raises(Trap, match="call stack exhausted") as info:
        down(store, 0)
    assert len(seen) == 1
    kind, depth, ordered = seen[0]
    assert kind == DebugEventKind.TRAP and depth > 1000 and ordered
    assert len(info.value.frames) == depth  # the Trap the handler saw is the one raised


TRAP_STACK_WAT = """
(module
  (func (export "f") (param i32 i32) (result i32 i32)
    local.get 0
    i32.const 1
    i32.add
    local.get 0
    i32.const 7
    i32.add
    local.get 1
    i32.div_u))
"""


def test_trap_operand_stack_below_the_operands_is_readable() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, TRAP_STACK_WAT)
    store = Store(engine)
    f = Linker(engine).instantiate(store, module).exports(store)["f"]
    assert isinstance(f, Func)
    seen: list[Any] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frame = st.debug_frames()[0]
        values = frame.stack
        readable = []
        for i in range(len(values)):
            try:
                readable.append(values[i])
            except DebugError:
                readable.append(None)  # an operand of the division held only in a register
        seen.append((event.kind, event.pc, tuple(frame.locals), readable))

    store.set_debug_handler(handler)
    with pytest.raises(Trap, match="integer divide by zero"):
        f(store, 5, 0)
    div = pcs(module, 0)[7]
    # below the operands: 5 + 1, stored to its slot by the trap stub; the dividend 5 + 7,
    # held only in a register at the check, stored by the stub too; the divisor is local 1
    assert seen == [(DebugEventKind.TRAP, div, (5, 0), [6, 12, 0])]


DIVS_WAT = """
(module
  (func (export "f32") (param i32 i32) (result i32)
    local.get 0  i32.const 0  i32.add  local.get 1  i32.const 0  i32.add  i32.div_s)
  (func (export "f64") (param i64 i64) (result i64)
    local.get 0  i64.const 1  i64.sub  local.get 1  i64.const 0  i64.add  i64.rem_u))
"""


@pytest.mark.parametrize(
    ("name", "args", "message", "expected"),
    [
        ("f32", (-(2**31), -1), "integer overflow", [-(2**31), -1]),
        ("f32", (9, 0), "integer divide by zero", [9, 0]),
        ("f64", (8, 0), "integer divide by zero", [7, 0]),
    ],
)
def test_trap_operands_held_only_in_registers_are_readable(
    name: str, args: tuple[int, int], message: str, expected: list[int]
) -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, DIVS_WAT)
    store = Store(engine)
    f = Linker(engine).instantiate(store, module).exports(store)[name]
    assert isinstance(f, Func)
    seen: list[Any] = []
    store.set_debug_handler(lambda st, event: seen.append((event.kind, st.debug_frames()[0].stack[:])))
    with pytest.raises(Trap, match=message):
        f(store, *args)
    assert seen == [(DebugEventKind.TRAP, expected)]


def test_write_hot_loop_locals_on_a_later_iteration() -> None:
    # $k and $acc are the loop's locals, kept in home registers
    # (Config.locals_in_registers): a write must take effect on the
    # following iterations
    w = World()
    d = pcs(w.module, SUM)  # block, loop, local.get $k, i32.eqz, br_if, local.get $acc ...

    def poke(dbg: Debugger, stop: Stop) -> str:
        f = stop.frame
        assert f is not None and tuple(f.locals) == (4, 5)  # second iteration
        f.locals[1] = 100  # acc
        f.locals[0] = 2  # k: 100 + 2 + 1
        assert tuple(f.locals) == (2, 100)
        return "continue"

    dbg = Scripted(w.store, [((BP, SUM, d[5], (4, 5)), poke)])
    dbg.set_break(w.module, d[5], ignore=1, temporary=True)
    assert w.call("sum", 5) == 103
    assert dbg.script == []


LOCAL_GET_WAT = """
(module
  (func (export "f") (param $a i32) (param $b i32) (result i32 i32 i32)
    local.get $a
    local.get $b
    i32.sub
    local.get $a
    local.get $b))
"""


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        # the pushed copy of $b changes, $b itself does not: (10 - 1, 10, 3)
        (lambda f: f.stack.__setitem__(1, 1), (9, 10, 3)),
        (lambda f: f.stack.__setitem__(-1, 1), (9, 10, 3)),
        # $a changes, the value local.get pushed from it does not: (10 - 3, 50, 3)
        (lambda f: f.locals.__setitem__(0, 50), (7, 50, 3)),
        # both, independently: (20 - 3, 10, 8)
        (lambda f: (f.stack.__setitem__(0, 20), f.locals.__setitem__(1, 8)), (17, 10, 8)),
    ],
    ids=["stack[1]", "stack[-1]", "local", "both"],
)
def test_a_value_pushed_by_local_get_is_written_on_its_own(
    write: Any, expected: tuple[int, int, int]
) -> None:
    engine = Engine(Config(debug=True))
    w = World(Module(engine, LOCAL_GET_WAT), engine)
    d = pcs(w.module, 0)  # local.get $a, local.get $b, i32.sub, ...

    def at_sub(dbg: Debugger, stop: Stop) -> str:
        f = stop.frame
        assert f is not None
        assert all(f.stack.is_writable(i) for i in range(2))  # type: ignore[attr-defined]
        assert all(f.locals.is_writable(i) for i in range(2))  # type: ignore[attr-defined]
        before_locals, before_stack = list(f.locals), list(f.stack)
        write(f)
        # exactly the written value changed
        changed_locals = [i for i, (x, y) in enumerate(zip(before_locals, f.locals, strict=True)) if x != y]
        changed_stack = [i for i, (x, y) in enumerate(zip(before_stack, f.stack, strict=True)) if x != y]
        assert len(changed_locals) + len(changed_stack) == (2 if expected == (17, 10, 8) else 1)
        return "continue"

    dbg = Scripted(w.store, [((BP, 0, d[2], (10, 3), (10, 3)), at_sub)])
    dbg.set_break(w.module, d[2])
    assert tuple(w.call("f", 10, 3)) == expected
    assert dbg.script == []


def test_a_local_is_written_while_its_pushed_copy_keeps_the_old_value() -> None:
    w = World()
    d = pcs(w.module, DIV)

    def after_first_get(dbg: Debugger, stop: Stop) -> str:
        f = stop.frame
        assert f is not None and tuple(f.stack) == (12,)
        f.locals[1] = 2  # $b is not on the stack yet
        f.locals[0] = 100  # $a is: its pushed copy stays 12
        assert tuple(f.stack) == (12,) and tuple(f.locals) == (100, 2)
        return "continue"

    dbg = Scripted(w.store, [((BP, DIV, d[1], (12, 4)), after_first_get)])
    dbg.set_break(w.module, d[1])
    assert w.call("div", 12, 4) == 6
    assert dbg.script == []


def test_host_error_stops_with_live_frames() -> None:
    w = World()
    o = pcs(w.module, OUTER)
    dbg = Scripted(w.store, [((StopReason.HOST_ERROR, OUTER, o[3], (1,)), "continue")])
    with pytest.raises(RuntimeError, match="host callback failed"):
        w.call("outer", 1)
    assert dbg.script == []
    assert isinstance(dbg.stops[0].event.exception, RuntimeError)


def test_host_to_wasm_reentry_backtrace() -> None:
    w = World()
    w.inner_func = w.func("inner")
    i, o = pcs(w.module, INNER), pcs(w.module, OUTER)

    def bt(d: Debugger, stop: Stop) -> str:
        frames = stop.frames
        assert [(f.func_index, f.pc) for f in frames] == [(INNER, i[0]), (OUTER, o[3])]
        assert [tuple(f.locals) for f in frames] == [(11,), (1,)]
        return "step"

    dbg = Scripted(
        w.store,
        [
            ((BP, INNER, i[0], (11,)), bt),
            ((STEP, INNER, i[1]), "return"),  # out of inner, through the host function
            ((STEP, OUTER, o[4], (1,), (22,)), "continue"),  # outer's `end`, with the result
        ],
    )
    dbg.set_break_function(w.module, "inner")
    assert w.call("outer", 1) == 22
    assert dbg.script == []


def test_run_to_a_loop_and_breakpoint_slips_forward() -> None:
    w = World()
    s = pcs(w.module, SUM)

    def run_to(d: Debugger, stop: Stop) -> str:
        assert d.set_run_to(w.module, s[8]) == s[8]  # local.set $acc
        return "continue"

    dbg = Scripted(
        w.store,
        [
            ((BP, SUM, s[0], (3, 0)), run_to),
            ((StopReason.RUN_TO, SUM, s[8], (3, 0), (3,)), "continue"),
        ],
    )
    bp = dbg.set_break(w.module, s[0] - 1)  # before the first instruction: slips onto it
    assert bp.site_pc == s[0]
    assert w.call("sum", 3) == 6
    assert dbg.script == []


def test_quit_aborts_the_call() -> None:
    w = World()
    f = pcs(w.module, FACT)
    dbg = Scripted(w.store, [((BP, FACT, f[0]), "quit")])
    dbg.set_break(w.module, f[0])
    with pytest.raises(Trap) as info:
        w.call("fact", 3)
    assert "aborted by the debugger" in str(info.value)


def test_debugging_needs_a_debug_engine() -> None:
    engine = Engine()
    store = Store(engine)
    with pytest.raises(DebugError):
        store.edit_breakpoints()


# -- fault injection on the real code memory --------------------------------------------


def test_unpublish_failure_changes_nothing_and_guest_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = World()
    f = pcs(w.module, FACT)
    dbg = Scripted(w.store, [((BP, FACT, f[0]), "continue")] * 3)
    dbg.set_break(w.module, f[0])
    real = codemem.mprotect

    def refuse(address: int, size: int, prot: int) -> None:
        if prot & codemem.PROT_WRITE:
            raise codemem.CodeMemoryError("mprotect refused (injected)")
        real(address, size, prot)

    monkeypatch.setattr(codemem, "mprotect", refuse)
    with pytest.raises(codemem.CodeMemoryError):
        dbg.set_break(w.module, f[4])
    assert [bp.number for bp in dbg.breakpoints] == [1]
    assert w.store.breakpoints() == [(w.module, f[0])]
    assert w.store.code_objects[w.module].memory.published
    assert w.call("fact", 3) == 6  # still runs, the old breakpoint still fires
    assert dbg.script == []


ABORT_SCRIPT = textwrap.dedent(
    """
    from wasmdbg import Config, Engine, Linker, Module, Store
    from wasmdbg.runtime import codemem
    engine = Engine(Config(debug=True))
    store = Store(engine)
    module = Module(engine, '(module (func (export "f") nop))')
    Linker(engine).instantiate(store, module)
    real = codemem.mprotect
    def refuse(address, size, prot):
        if prot & codemem.PROT_EXEC:
            raise codemem.CodeMemoryError("mprotect(RX) refused (injected)")
        real(address, size, prot)
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
        codemem.mprotect = refuse
        print("leaving the session", flush=True)
    print("NOT REACHED", flush=True)
    """
)


def test_republish_failure_aborts_the_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", ABORT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode < 0, proc
    assert "leaving the session" in proc.stdout and "NOT REACHED" not in proc.stdout
    assert "wasmdbg: fatal: cannot make the machine code of" in proc.stderr
    assert "mprotect(RX) refused (injected)" in proc.stderr


MEM_WAT = """
(module
  (memory (export "mem") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "store") (param $addr i32) (param $v i32)
    local.get $addr
    local.get $v
    i32.store
    global.get $g
    i32.const 1
    i32.add
    global.set $g)
  (func (export "spin") (param $n i32) (result i32)
    loop
      local.get $n
      i32.const 1
      i32.add
      local.set $n
      br 0
    end
    local.get $n))
"""


def test_condition_over_memory_and_globals() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, MEM_WAT)
    store = Store(engine)
    inst = Linker(engine).instantiate(store, module)
    fn = inst.exports(store)["store"]
    assert isinstance(fn, Func)
    body = pcs(module, 0)
    seen: list[tuple[int, int]] = []

    def on_stop(d: Debugger, stop: Stop) -> None:
        assert stop.frame is not None
        seen.append((stop.frame.locals[0], stop.frame.locals[1]))

    dbg = Debugger(store, on_stop=on_stop)
    # at global.get: the store is done and g not yet incremented (g = calls so far)
    dbg.set_break(
        module,
        body[3],
        cond="int.from_bytes(memory[16:20], 'little') == 7 and globals[0] == 3",
    )
    for addr, v in [(16, 1), (16, 2), (32, 7), (16, 7), (16, 7)]:
        fn(store, addr, v)
    assert seen == [(16, 7)]


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_module_instantiated_while_single_stepping_is_covered(lazy: bool) -> None:
    engine = Engine(Config(debug=True, lazy_compilation=lazy))
    store = Store(engine)
    first = Module(engine, MEM_WAT)
    Linker(engine).instantiate(store, first)
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
    later = Module(engine, MEM_WAT)
    Linker(engine).instantiate(store, later)
    code = store.code_objects[later]
    table = store.debug_frame_table(later)
    assert len(table) > 0
    for func in table.functions():
        # lazily compiled code: a function is mapped into the Store on its first
        # call (compiled by len() above); its sites are enabled as it is mapped
        code.code_address(func)
    assert all(code.memory.read(site.native_offset, 1) == b"\xe8" for site in table)
    with store.edit_breakpoints() as edit:
        edit.single_step(False)
    assert all(code.memory.read(site.native_offset, site.size) == site.nop for site in table)


def test_pause_from_another_thread_and_resume() -> None:
    import threading

    engine = Engine(Config(debug=True))
    module = Module(engine, MEM_WAT)
    store = Store(engine)
    inst = Linker(engine).instantiate(store, module)
    spin = inst.exports(store)["spin"]
    assert isinstance(spin, Func)
    loop_pc = pcs(module, 1)[0]
    seen: list[tuple[StopReason, int, int, tuple[Any, ...], int]] = []
    paused = threading.Event()

    def on_stop(d: Debugger, stop: Stop) -> None:
        frame = stop.frame
        assert frame is not None
        seen.append((stop.reason, frame.func_index, frame.pc, tuple(frame.stack), len(stop.frames)))
        counter = frame.locals[0]
        assert isinstance(counter, int) and counter != 0  # the loop ran
        if len(seen) == 1:
            frame.locals[0] = 1_000_000_000  # the guest resumes with this
        else:
            assert counter >= 1_000_000_000  # it resumed from the written value
            d.set_quit()  # stop it for good
        paused.set()

    dbg = Debugger(store, on_stop=on_stop)
    outcome: list[BaseException] = []

    def guest() -> None:
        try:
            spin(store, 0)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=guest)
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()  # spinning
    dbg.interrupt()
    assert paused.wait(30)
    paused.clear()
    worker.join(0.2)
    assert worker.is_alive()  # resumed, spinning again
    dbg.interrupt()
    assert paused.wait(30)
    worker.join(30)
    assert not worker.is_alive()
    stop = (StopReason.INTERRUPTED, 1, loop_pc, (), 1)
    assert seen == [stop, stop]
    assert len(outcome) == 1 and isinstance(outcome[0], Trap)  # the quit
    assert store.vm.interrupt == 0


def test_interrupt_without_a_handler_still_traps() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, MEM_WAT)
    store = Store(engine)
    inst = Linker(engine).instantiate(store, module)
    spin = inst.exports(store)["spin"]
    assert isinstance(spin, Func)
    store.interrupt()  # before the call: the function entry sees it
    with pytest.raises(Trap, match="interrupt") as info:
        spin(store, 0)
    assert [f.func_index for f in info.value.frames] == [1]
    # with the debug support built but no handler installed: the same
    store.set_debug_handler(lambda _store, _event: None)
    store.clear_debug_handler()
    store.interrupt()
    with pytest.raises(Trap, match="interrupt"):
        spin(store, 0)
    assert store.vm.interrupt == 0


def test_epoch_deadline_still_traps_under_a_handler() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, MEM_WAT)
    store = Store(engine)
    spin = Linker(engine).instantiate(store, module).exports(store)["spin"]
    assert isinstance(spin, Func)
    kinds: list[DebugEventKind] = []
    store.set_debug_handler(lambda _store, event: kinds.append(event.kind))
    store.set_epoch_deadline(0)  # already reached: the next check sees it
    with pytest.raises(Trap, match="interrupt"):
        spin(store, 0)
    with pytest.raises(Trap, match="interrupt"):  # as in Wasmtime: until the deadline moves
        spin(store, 0)
    assert kinds == []
    store.set_epoch_deadline(1)
    assert store.vm.interrupt == 0


def test_interrupt_at_function_entry_pauses_with_zeroed_locals() -> None:
    engine = Engine(Config(debug=True))
    module = Module(engine, FACT_WAT)
    store = Store(engine)
    linker = Linker(engine)
    linker.define(
        store, "host", "cb", Func(store, FuncType([ValType.i32()], [ValType.i32()]), lambda v: v)
    )
    inst = linker.instantiate(store, module)
    main = inst.exports(store)["main"]
    assert isinstance(main, Func)
    seen: list[Any] = []

    def handler(st: Any, event: DebugEvent) -> None:
        frames = st.debug_frames()
        seen.append((event.kind, event.func_index, event.pc, tuple(frames[0].locals)))
        with pytest.raises(DebugError, match="constant"):
            frames[0].locals[1] = 5  # not zeroed yet: reads as the 0 it is about to be
        frames[0].locals[0] = 4  # the parameter is live

    store.set_debug_handler(handler)
    store.interrupt()
    assert main(store, 10) == 25  # fact(4) + 1
    assert seen == [(DebugEventKind.INTERRUPTED, MAIN, pcs(module, MAIN)[0], (10, 0))]


def test_calling_the_guest_from_a_stop_nests() -> None:
    w = World()
    f, i = pcs(w.module, FACT), pcs(w.module, INNER)
    log: list[Any] = []

    def on_stop(d: Debugger, stop: Stop) -> None:
        assert stop.frame is not None
        log.append((stop.frame.func_index, tuple(stop.frame.locals), d.state.name))
        if stop.frame.func_index == FACT:
            log.append(w.call("inner", 21))  # stops again, nested
            assert d.current is stop and tuple(stop.frame.locals) == (3,)
            log.append([fr.func_index for fr in w.store.debug_frames()])

    dbg = Debugger(w.store, on_stop=on_stop)
    dbg.set_break(w.module, f[0], cond="n == 3")
    dbg.set_break(w.module, i[0])
    assert w.call("fact", 3) == 6
    assert log == [(FACT, (3,), "PAUSED"), (INNER, (21,), "PAUSED"), 42, [FACT]]
    assert dbg.state.name == "RUNNING"


def test_stepping_does_not_walk_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    w = World()
    m = pcs(w.module, MAIN)
    dbg = Scripted(w.store, [((BP, MAIN, m[1]), "next"), ((STEP, MAIN, m[2]), "continue")])
    dbg.set_break(w.module, m[1])
    walks = 0
    real = w.store.wasm_frames

    def counting(fp: int, pc: int) -> Any:
        nonlocal walks
        walks += 1
        return real(fp, pc)

    monkeypatch.setattr(w.store, "wasm_frames", counting)
    assert w.call("main", 200) != 0  # ~2800 sequence points stepped over
    assert dbg.script == [] and walks == 0


def test_frames_name_their_functions_from_the_name_section() -> None:
    import wasmdbg

    config = wasmdbg.Config()
    config.guest_debug = True
    engine = wasmdbg.Engine(config)
    store = wasmdbg.Store(engine)
    module = wasmdbg.Module(
        engine,
        """(module
             (func $leaf (export "leaf") (result i32) i32.const 1)
             (func $outer (export "outer") (result i32) call $leaf))""",
    )
    instance = wasmdbg.Instance(store, module, [])
    seen: list[list[str | None]] = []

    def handler(store: wasmdbg.Store, event: object) -> None:
        seen.append([f.func_name for f in store.debug_frames()])

    store.set_debug_handler(handler)
    leaf_entry = module.definition.body(0).code_start
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(module, leaf_entry)
    assert instance.exports(store)["outer"](store) == 1
    assert seen == [["leaf", "outer"]]
