"""Lazy compilation (``Config.lazy_compilation``): functions compiled on their first call."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import wasmdbg
from wasmdbg import Trap, TrapCode
from wasmdbg.runtime.lazy import LazyCode

WAT = """(module
  (import "host" "call_back" (func $call_back (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (table funcref (elem $h $never $crash))
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib
      i32.add
    end)
  (func $even (export "even") (param i32) (result i32)
    local.get 0 i32.eqz if (result i32) i32.const 1 else local.get 0 i32.const 1 i32.sub call $odd end)
  (func $odd (param i32) (result i32)
    local.get 0 i32.eqz if (result i32) i32.const 0 else local.get 0 i32.const 1 i32.sub call $even end)
  (func $g (export "g") (param i32) (result i32) local.get 0 call $h)
  (func $h (param i32) (result i32) local.get 0 i32.const 7 i32.mul)
  (func $never (param i32) (result i32) unreachable)
  (func $crash (param i32) (result i32) local.get 0 i32.load)
  (func (export "ci") (param i32 i32) (result i32) local.get 0 local.get 1 call_indirect (type $t))
  (func $deep_crash (export "deep_crash") (param i32) (result i32) local.get 0 call $middle)
  (func $middle (param i32) (result i32) local.get 0 call $crash i32.const 1 i32.add)
  (func (export "via_host") (param i32) (result i32) local.get 0 call $call_back)
  (func (export "callee_of_host") (param i32) (result i32) local.get 0 call $h i32.const 1 i32.add)
  (func $forever (export "forever") (param i32) (result i32) local.get 0 call $forever)
  (func $init global.get $g i32.const 5 i32.add global.set $g)
  (func $start call $init)
  (func (export "get_g") (result i32) global.get $g)
  (start $start)
)"""


class _World:
    def __init__(self, *, lazy: bool = True, module: Any = None) -> None:
        self.engine = wasmdbg.Engine(wasmdbg.Config(lazy_compilation=lazy)) if module is None else module.engine
        self.module = module if module is not None else wasmdbg.Module(self.engine, WAT)
        self.store = wasmdbg.Store(self.engine)
        ft = wasmdbg.FuncType([wasmdbg.ValType.i32()], [wasmdbg.ValType.i32()])
        self.back = wasmdbg.Func(self.store, ft, self._call_back, access_caller=True)
        self.instance = wasmdbg.Instance(self.store, self.module, [self.back])
        self.exports = self.instance.exports(self.store)

    def _call_back(self, caller: Any, x: int) -> int:
        return int(caller["callee_of_host"](caller, x)) * 10

    def call(self, name: str, *args: int) -> Any:
        return self.exports[name](self.store, *args)

    def index(self, name: str) -> int:
        mdef = self.module.definition
        return next(i for i, n in mdef.names.functions.items() if n == name)


def _lazy(world: _World) -> LazyCode:
    code = world.module.lazy_code
    assert code is not None
    return code


def _frames(exc: Trap) -> list[tuple[int, str | None, int, int]]:
    return [(f.func_index, f.func_name, f.module_offset, f.func_offset) for f in exc.frames]


def test_module_creation_compiles_nothing() -> None:
    engine = wasmdbg.Engine()
    module = wasmdbg.Module(engine, WAT)
    assert module.runs_lazily
    code = module.lazy_code
    assert code is not None and code.compiled_count() == 0
    eager = wasmdbg.Module(wasmdbg.Engine(wasmdbg.Config(lazy_compilation=False)), WAT)
    assert not eager.runs_lazily and eager.lazy_code is None


def test_guest_debug_code_is_lazy_through_a_debug_layout() -> None:
    module = wasmdbg.Module(wasmdbg.Engine(wasmdbg.Config(guest_debug=True)), WAT)
    assert module.runs_lazily and module.lazy_code is None
    layout = module.debug_layout
    assert layout is not None and layout.compiled_count() == 0
    eager = wasmdbg.Module(wasmdbg.Engine(wasmdbg.Config(guest_debug=True, lazy_compilation=False)), WAT)
    assert not eager.runs_lazily and eager.debug_layout is None


def test_function_compiled_on_first_call_only() -> None:
    w = _World()
    code = _lazy(w)
    # the start function ran: $start and $init only
    assert code.is_compiled(w.index("start")) and code.is_compiled(w.index("init"))
    assert code.compiled_count() == 2
    assert not code.is_compiled(w.index("g")) and not code.is_compiled(w.index("h"))
    assert w.call("g", 6) == 42
    assert code.is_compiled(w.index("g")) and code.is_compiled(w.index("h"))
    assert code.compiled_count() == 4
    assert w.call("g", 3) == 21
    assert code.compiled_count() == 4
    assert not code.is_compiled(w.index("fib"))


def test_start_function_calls_lazily() -> None:
    w = _World()
    assert w.call("get_g") == 5


def test_call_indirect_to_uncompiled_function() -> None:
    w = _World()
    code = _lazy(w)
    assert not code.is_compiled(w.index("h"))
    assert w.call("ci", 5, 0) == 35
    assert code.is_compiled(w.index("h"))


def test_recursion_and_mutual_recursion() -> None:
    w = _World()
    assert w.call("fib", 20) == 6765
    assert w.call("even", 101) == 0
    assert w.call("even", 100) == 1


def test_wasm_host_wasm() -> None:
    w = _World()
    assert w.call("via_host", 2) == 150
    assert _lazy(w).is_compiled(w.index("h"))


@pytest.mark.parametrize(
    ("call", "code", "depth"),
    [
        (("ci", 5, 1), TrapCode.UNREACHABLE, 2),
        (("ci", 5, 7), TrapCode.TABLE_OUT_OF_BOUNDS, 1),
        (("deep_crash", 70000), TrapCode.MEMORY_OUT_OF_BOUNDS, 3),
        (("ci", 70000, 2), TrapCode.MEMORY_OUT_OF_BOUNDS, 2),
    ],
)
def test_traps_and_backtraces_match_eager(call: tuple[Any, ...], code: TrapCode, depth: int) -> None:
    got = []
    for lazy in (True, False):
        w = _World(lazy=lazy)
        with pytest.raises(Trap) as info:
            w.call(*call)
        assert info.value.trap_code == code
        got.append((str(info.value), _frames(info.value)))
    assert got[0] == got[1]
    assert len(got[0][1]) == depth


def test_stack_overflow_matches_eager() -> None:
    got = []
    for lazy in (True, False):
        w = _World(lazy=lazy)
        with pytest.raises(Trap) as info:
            w.call("forever", 1)
        assert info.value.trap_code == TrapCode.STACK_OVERFLOW
        frames = _frames(info.value)
        got.append((frames[:3], frames[-1], len(frames)))
    assert got[0] == got[1]


def test_interrupt_in_lazily_compiled_code() -> None:
    w = _World()
    w.store.interrupt()
    with pytest.raises(Trap) as info:
        w.call("fib", 3)
    assert info.value.trap_code == TrapCode.INTERRUPT
    assert w.call("fib", 10) == 55


def test_code_shared_by_stores() -> None:
    a = _World()
    b = _World(module=a.module)
    assert a.call("g", 2) == 14
    n = _lazy(a).compiled_count()
    assert b.call("g", 3) == 21
    assert _lazy(a).compiled_count() == n
    with pytest.raises(Trap) as info:
        b.call("deep_crash", 70000)
    assert [f[1] for f in _frames(info.value)] == ["crash", "middle", "deep_crash"]


def test_two_threads_race_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = LazyCode._compile
    entered = threading.Event()

    def slow(self: LazyCode, func_index: int) -> int:
        calls.append(func_index)
        entered.set()
        # NB: long enough that the other thread reaches the lock meanwhile
        threading.Event().wait(0.2)
        return original(self, func_index)

    monkeypatch.setattr(LazyCode, "_compile", slow)
    module = _World().module
    worlds = [_World(module=module) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = worlds[k].call("fib", 15)
        except BaseException as exc:  # pragma: no cover - reported below
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [610, 610]
    assert entered.is_set()
    fib = worlds[0].index("fib")
    assert calls.count(fib) == 1
    assert len(calls) == len(set(calls))


def test_compile_failure_raises_and_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    w = _World()

    def broken(self: LazyCode, func_index: int) -> int:
        raise RuntimeError("compiler broke")

    _lazy(w).code_address(w.index("deep_crash"))  # compiled; $middle is not
    monkeypatch.setattr(LazyCode, "_compile", broken)
    with pytest.raises(RuntimeError, match="compiler broke") as info:
        w.call("fib", 5)
    assert getattr(info.value, "wasm_backtrace", None) == []  # called from Python: no Wasm caller
    with pytest.raises(RuntimeError, match="compiler broke") as info:
        w.call("deep_crash", 5)  # its call of $middle fails
    frames = info.value.wasm_backtrace  # type: ignore[attr-defined]
    assert [f.func_name for f in frames] == ["deep_crash"]
    monkeypatch.undo()
    assert w.call("fib", 5) == 5
    assert w.call("deep_crash", 5) == 1


def test_serialize_compiles_everything() -> None:
    w = _World()
    data = w.module.serialize()
    again = wasmdbg.Module.deserialize(w.engine, data)
    assert not again.runs_lazily
    w2 = _World(module=again)
    assert w2.call("fib", 12) == 144
    assert w2.call("get_g") == 5



def test_calls_to_compiled_functions_are_direct() -> None:
    w = _World()
    code = _lazy(w)
    h = code.code_address(w.index("h"))
    for name in ("g", "fib", "even"):
        code.code_address(w.index(name))
    pieces = {p.compiled.functions[0].func_index: p for p in code.pieces}

    def calls(name: str) -> list[tuple[bytes, int]]:
        """(the 6 bytes before, address) of each return address of a piece."""
        piece = pieces[w.index(name)]
        return [(piece.memory.read(at - 6, 6), piece.base + at) for at in sorted(piece.compiled.functions[0].call_sites)]

    # $g calls $h (compiled first): nop; call rel32 to it
    ((site, ret),) = calls("g")
    assert site[:2] == b"\x90\xe8"
    assert ret + int.from_bytes(site[2:], "little", signed=True) == h
    # $fib calls itself with call rel32; $even calls $odd (not compiled) through the table
    assert [site[1] for site, _ in calls("fib")] == [0xE8, 0xE8]
    ((site, _),) = calls("even")
    assert site[:2] == b"\xff\x15"
    assert w.call("even", 9) == 0 and w.call("g", 2) == 14


_UNROLLED = " ".join(["local.get 0 i32.const 3 i32.mul i32.const 1 i32.add local.set 0"] * 200)
DEEP = f"""(module
  (func $r (export "r") (param i32) (result i32)
    local.get 0 i32.eqz
    if (result i32) i32.const 5 call $leaf
    else local.get 0 i32.const 1 i32.sub call $r end)
  (func $leaf (param i32) (result i32)
    {_UNROLLED}
    local.get 0))"""


def test_first_call_at_the_deepest_point() -> None:
    """A function first called just above the stack limit compiles (the runtime's
    headroom below the limit carries the compiler) in a thread with a small stack."""
    engine = wasmdbg.Engine()
    out: list[Any] = []

    def run(n: int) -> object:
        store = wasmdbg.Store(engine)
        inst = wasmdbg.Instance(store, module, [])
        try:
            return inst.exports(store)["r"](store, n)
        except Trap as exc:
            return exc.trap_code

    def probe() -> None:
        nonlocal module
        module = wasmdbg.Module(engine, DEEP)
        expect = run(0)  # $leaf compiled: search the deepest call that fits
        lo, hi = 0, 1 << 20
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if run(mid) == expect else (lo, mid)
        assert run(hi) == TrapCode.STACK_OVERFLOW
        module = wasmdbg.Module(engine, DEEP)  # $leaf not compiled yet
        code = module.lazy_code
        assert code is not None
        out.append((run(lo), expect, code.compiled_count()))

    module = wasmdbg.Module(engine, DEEP)
    old = threading.stack_size(512 * 1024)
    try:
        t = threading.Thread(target=probe)
        t.start()
        t.join(60)
    finally:
        threading.stack_size(old)
    assert out == [(out[0][1], out[0][1], 2)]


def test_many_threads_many_functions() -> None:
    """Four Stores on four threads run a call chain through 60 uncompiled functions
    (and call_indirect back into it) at once: each function is compiled once."""
    n = 60
    funcs = [
        f"(func $f{i} (param i32) (result i32) local.get 0 i32.const {i} i32.add "
        + (f"call $f{i + 1})" if i + 1 < n else "i32.const 0 call_indirect (type $t))")
        for i in range(n)
    ]
    wat = (
        "(module (type $t (func (param i32) (result i32))) (table funcref (elem $last))"
        " (func $last (param i32) (result i32) local.get 0 i32.const 1000 i32.mul) "
        + " ".join(funcs)
        + ' (func (export "go") (param i32) (result i32) local.get 0 call $f0))'
    )
    engine = wasmdbg.Engine()
    module = wasmdbg.Module(engine, wat)
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def run(k: int) -> None:
        store = wasmdbg.Store(engine)
        go = wasmdbg.Instance(store, module, []).exports(store)["go"]
        barrier.wait()
        results.append(go(store, k))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    total = sum(range(n))
    assert sorted(results) == [(k + total) * 1000 for k in range(4)]
    code = module.lazy_code
    assert code is not None
    indices = [p.compiled.functions[0].func_index for p in code.pieces]
    assert sorted(indices) == list(range(n + 2))
