"""The source-level debugger core (debug/source.py, debug/values.py, debug/expr.py), no I/O.

Driven directly through :class:`SourceDebugger` on the C programs of
``tests/programs/c``: breakpoint resolution and gdb's hit rules, line
stepping through recursion and inlined code, finish with typed return
values, and C values read and written.  The parser and the printer are
also checked on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wasmdbg import Config, Engine, Linker, Module, Store, WasiConfig
from wasmdbg.debug import expr as ex
from wasmdbg.debug import values as cv
from wasmdbg.debug.source import Ended, Launch, Paused, PauseReason, SourceDebugger
from wasmdbg.debug.sourceframes import CFrameContext
from wasmdbg.dwarf.types import ArrayType, BaseType, Encoding, Member, PointerType, StructType
from wasmdbg.errors import DebugError

PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "c"


def mark(program: str, name: str) -> int:
    for number, text in enumerate((PROGRAMS / f"{program}.c").read_text().splitlines(), 1):
        if text.rstrip().endswith(f"// MARK: {name}"):
            return number
    raise LookupError(name)


class World:
    """One module, and a fresh Store + instance per run (output collected)."""

    def __init__(self, name: str) -> None:
        config = Config()
        config.guest_debug = True
        self.engine = Engine(config)
        self.module = Module.from_file(self.engine, str(PROGRAMS / name))
        self.output = bytearray()
        self.dbg = SourceDebugger(self.module)

    def launch(self, *args: str) -> Launch:
        store = Store(self.engine)
        wasi = WasiConfig()
        wasi.argv = ["prog", *args]
        wasi.stdout_custom = self.output.extend
        store.set_wasi(wasi)
        linker = Linker(self.engine)
        linker.define_wasi()
        instance = linker.instantiate(store, self.module)
        start: Any = instance.exports(store)["_start"]
        return Launch(store, instance, lambda: start(store))

    def start(self, *args: str) -> Any:
        return self.dbg.start(self.launch(*args))

    def value(self, text: str, level: int = 0) -> str:
        frame = self.dbg.stack()[level]
        return cv.format_value(self.dbg.evaluate(text, frame), CFrameContext(self.dbg, frame))

    def where(self) -> tuple[str, int, int]:
        top = self.dbg.stack()[0]
        return top.name, top.line, len(self.dbg.stack())


@pytest.fixture
def recursion() -> Any:
    world = World("recursion.O0.wasm")
    yield world
    world.dbg.kill()


def test_breakpoints_by_line_and_function_resolve_through_dwarf(recursion: World) -> None:
    dbg = recursion.dbg
    line = mark("recursion", "fib-base")
    bp = dbg.add_breakpoint(f"recursion.c:{line}")
    assert dbg.line_of(bp.pcs[0]) == ("recursion.c", line)
    func = dbg.add_breakpoint("factorial")
    assert dbg.info is not None
    factorial = dbg.info.function_named("factorial")
    assert factorial is not None and func.pcs == (factorial.breakpoint_pc,)
    assert func.pcs[0] != factorial.entry_pc  # after the prologue
    with pytest.raises(DebugError, match=r"No source file named nosuch\.c"):
        dbg.add_breakpoint("nosuch.c:3")
    with pytest.raises(DebugError, match='Function "nosuch" not defined'):
        dbg.add_breakpoint("nosuch")


def test_gdb_hit_rules_condition_then_ignore_count(recursion: World) -> None:
    dbg = recursion.dbg
    bp = dbg.add_breakpoint("factorial")
    dbg.set_condition(bp.number, "n < 5")
    dbg.set_ignore(bp.number, 1)
    stop = recursion.start()
    assert isinstance(stop, Paused) and stop.reason == PauseReason.BREAKPOINT
    # n=5 fails the condition (no hit); n=4 is a hit but ignored; n=3 stops
    assert recursion.value("n") == "3"
    assert (bp.hits, bp.ignore) == (2, 0)


def test_temporary_breakpoints_are_deleted_when_they_stop(recursion: World) -> None:
    dbg = recursion.dbg
    bp = dbg.add_breakpoint("fib", temporary=True)
    stop = recursion.start()
    assert isinstance(stop, Paused) and stop.breakpoint is bp
    assert dbg.breakpoints == []
    assert isinstance(dbg.cont(), Ended)


def test_disabled_breakpoints_do_not_stop_and_the_exit_code_comes_back(recursion: World) -> None:
    dbg = recursion.dbg
    bp = dbg.add_breakpoint("fib")
    dbg.enable_breakpoint(bp.number, False)
    ended = recursion.start()
    assert isinstance(ended, Ended) and ended.error is None and ended.exit_code in (None, 0)
    assert b"fib(5) = 5\n" in recursion.output


def test_step_line_through_recursion_compares_frames(recursion: World) -> None:
    dbg = recursion.dbg
    dbg.add_breakpoint(f"recursion.c:{mark('recursion', 'fact-recurse')}")
    recursion.start()
    dbg.delete_breakpoint(1)
    assert recursion.where()[:2] == ("factorial", mark("recursion", "fact-recurse"))
    depth = recursion.where()[2]
    dbg.step_line(into=False)  # over the whole recursive call
    assert recursion.where() == ("factorial", mark("recursion", "fact-return"), depth)
    assert recursion.value("rest") == "24"
    dbg.step_line(into=False)
    dbg.step_line(into=False)  # the closing brace, then back in main
    assert recursion.where()[0] == "main" and recursion.where()[2] == depth - 1


def test_step_into_stops_after_the_callee_prologue(recursion: World) -> None:
    dbg = recursion.dbg
    dbg.add_breakpoint(f"recursion.c:{mark('recursion', 'fact-recurse')}")
    recursion.start()
    dbg.delete_breakpoint(1)
    depth = recursion.where()[2]
    outcome = dbg.step_line(into=True)
    assert isinstance(outcome, Paused) and outcome.reason == PauseReason.STEP
    assert recursion.where() == ("factorial", 17, depth + 1)
    assert recursion.value("n") == "4"


def test_finish_returns_the_value_with_its_c_type(recursion: World) -> None:
    dbg = recursion.dbg
    dbg.add_breakpoint(f"recursion.c:{mark('recursion', 'fact-base')}")
    recursion.start()
    outcome = dbg.finish_source(0)
    assert isinstance(outcome, Paused) and outcome.reason == PauseReason.FINISH
    (value,) = outcome.returned
    assert isinstance(value, cv.CValue) and value.type.name == "long long"  # type: ignore[union-attr]
    assert cv.scalar_of(value) == 1
    assert recursion.where()[:2] == ("factorial", mark("recursion", "fact-recurse"))


def test_finish_of_an_inlined_frame_runs_to_the_end_of_the_copy() -> None:
    world = World("inline.O2.wasm")
    try:
        world.dbg.add_breakpoint(f"inline.c:{mark('inline', 'clamp-test')}")
        world.start()
        stack = world.dbg.stack()
        assert [f.name for f in stack[:3]] == ["clamp", "smooth", "process"]
        assert stack[0].depth == 2 and stack[1].depth == 1 and stack[2].depth == 0
        world.dbg.delete_breakpoint(1)
        outcome = world.dbg.finish_source(0)
        assert isinstance(outcome, Paused) and outcome.reason == PauseReason.FINISH
        assert world.dbg.stack()[0].name in ("smooth", "process")
    finally:
        world.dbg.kill()


def test_c_values_read_and_write() -> None:
    world = World("types.O0.wasm")
    try:
        world.dbg.add_breakpoint(f"types.c:{mark('types', 'main-locals-ready')}")
        world.start()
        assert world.value("rc.bottom_right") == "{x = 11, y = 7}"
        assert world.value("g_nodes[1].next->value") == "300"
        assert world.value("*ipp == ip") == "1"
        assert world.value("ip[1]") == "40"
        assert world.value("(unsigned char)-1") == "255 '\\377'"
        assert world.value("u * 2") == "3705032704"  # unsigned int arithmetic wraps
        assert world.value("ll >> 38") == "4"
        world.value("fl.delta = -3")
        assert world.value("fl.delta") == "-3"
        assert world.value("fl") == "{ready = 0, mode = 0, delta = -3, count = 0}"
        world.value("name[0] = 'W'")
        assert world.value("name") == '"Wasm\\000\\000\\000"'
        world.value("g_counter = g_counter + 1")
        assert world.value("g_counter") == "43"
        with pytest.raises(DebugError, match="There is no member named z"):
            world.value("pt.z")
        with pytest.raises(DebugError, match="Division by zero"):
            world.value("i / 0")
    finally:
        world.dbg.kill()


def test_values_in_wasm_locals_at_O2_are_read_and_written() -> None:
    world = World("trap.O2.wasm")
    try:
        outcome = world.start()
        assert isinstance(outcome, Paused) and outcome.reason == PauseReason.TRAP
        assert world.value("count") == "0"
        assert world.value("sum") == "-10"
        assert world.value("n", level=1) == "<optimized out>"
    finally:
        world.dbg.kill()


# -- the parser and the printer on their own -------------------------------------


def test_parser_precedence_casts_and_postfix() -> None:
    node = ex.parse_expression("a + b * c == d && !e", lambda _w: False)
    assert node == ex.Binary("&&", ex.Binary("==", ex.Binary("+", ex.Name("a"), ex.Binary("*", ex.Name("b"), ex.Name("c"))),
                                             ex.Name("d")), ex.Unary("!", ex.Name("e")))
    assert ex.parse_expression("(Point *)p->next[2].x", lambda w: w == "Point") == ex.Cast(
        ex.TypeName(("Point",), 1),
        ex.Member(ex.Index(ex.Member(ex.Name("p"), "next", arrow=True), ex.Number(2)), "x"))
    assert ex.parse_expression("(p)->x", lambda _w: False) == ex.Member(ex.Name("p"), "x", arrow=True)
    assert ex.parse_expression("{unsigned int} 0x10", lambda _w: False) == ex.Cast(
        ex.TypeName(("unsigned", "int")), ex.Number(16), at_address=True)
    assert ex.parse_expression("x = y = 3") == ex.Binary("=", ex.Name("x"), ex.Binary("=", ex.Name("y"), ex.Number(3)))
    assert ex.parse_expression("'\\n'") == ex.Number(10, is_char=True)
    assert ex.parse_expression("$1 + $pc") == ex.Binary("+", ex.Name("$1"), ex.Name("$pc"))
    with pytest.raises(DebugError, match="junk"):
        ex.parse_expression("a b")
    with pytest.raises(DebugError):
        ex.parse_expression("(a")


class _Memory:
    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    def read_memory(self, address: int, size: int) -> bytes:
        if address + size > len(self.data):
            raise DebugError(f"Cannot access memory at address 0x{address:x}")
        return bytes(self.data[address : address + size])

    def write_memory(self, address: int, data: bytes) -> None:
        self.data[address : address + len(data)] = data

    def lookup(self, name: str) -> cv.CValue | None:
        return None

    def dollar(self, name: str) -> cv.CValue:
        raise DebugError(name)

    def find_type(self, words: tuple[str, ...]) -> Any:
        return None

    def function_for_pointer(self, value: int) -> str | None:
        return None


def test_printer_repeats_strings_and_floats_like_gdb() -> None:
    ctx = _Memory(b"hi\0" + b"z" * 12 + b"\0")
    char = cv.BASE_TYPES["char"]
    zeros = cv.CValue(ArrayType(cv.BASE_TYPES["int"], 12), bytes(48))
    assert cv.format_value(zeros, ctx) == "{0 <repeats 12 times>}"
    assert cv.format_value(cv.value_of(PointerType(char), 3), ctx) == "0x3 'z' <repeats 12 times>"
    assert cv.format_value(cv.value_of(PointerType(char), 0), ctx) == "0x0"
    assert cv.format_value(cv.value_of(cv.BASE_TYPES["double"], 3.14159), ctx) == "3.1415899999999999"
    assert cv.format_value(cv.value_of(cv.BASE_TYPES["float"], 0.1), ctx) == "0.100000001"
    assert cv.format_value(cv.value_of(cv.BASE_TYPES["int"], -5), ctx, "x") == "0xfffffffb"
    assert cv.format_value(cv.value_of(cv.BASE_TYPES["_Bool"], 1), ctx) == "true"
    bits = StructType("struct", "f", 4, (Member("a", cv.BASE_TYPES["unsigned int"], 0, 3, 0),
                                          Member("b", BaseType("int", 4, Encoding.SIGNED), 0, 4, 3)))
    packed = cv.CValue(bits, (0b1111_101).to_bytes(4, "little"))
    assert cv.format_value(packed, ctx) == "{a = 5, b = -1}"
