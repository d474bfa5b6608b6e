"""C values and expressions over real DWARF types, on a fake target.

The fake target's memory starts as the module's data segments, so the
globals of types.c hold their initial values; locals are placed where
their DWARF locations say, relative to a chosen frame base.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

import pytest
from dwarf_oracle import debug_info, marker

from wasmdbg.dwarf import DebugInfo, DwarfError
from wasmdbg.dwarf.cexpr import DebugContext, evaluate, parse_type_name
from wasmdbg.dwarf.cvalue import format_value, string_literal
from wasmdbg.dwarf.locations import FRAME_BASE, OPTIMIZED_OUT, Memory, WasmLocal
from wasmdbg.dwarf.types import type_name

FRAME = 0x2000  # the frame base we give main's frame


@dataclass
class FakeTarget:
    memory: bytearray
    locals: dict[int, int | float] = field(default_factory=dict)
    globals: dict[int, int | float] = field(default_factory=dict)
    stack: dict[int, int | float] = field(default_factory=dict)
    writes: list[tuple[str, int, object]] = field(default_factory=list)

    def read_memory(self, address: int, size: int) -> bytes:
        if address < 0 or address + size > len(self.memory):
            raise DwarfError(f"Cannot access memory at address 0x{address:x}")
        return bytes(self.memory[address : address + size])

    def write_memory(self, address: int, data: bytes) -> None:
        self.read_memory(address, len(data))
        self.memory[address : address + len(data)] = data
        self.writes.append(("memory", address, data))

    def read_local(self, index: int) -> int | float:
        return self.locals.get(index, 0)

    def write_local(self, index: int, value: int | float) -> None:
        self.locals[index] = value
        self.writes.append(("local", index, value))

    def read_global(self, index: int) -> int | float:
        return self.globals.get(index, 0)

    def write_global(self, index: int, value: int | float) -> None:
        self.globals[index] = value

    def read_stack(self, index: int) -> int | float:
        return self.stack.get(index, 0)

    def write_stack(self, index: int, value: int | float) -> None:
        self.stack[index] = value


def _memory_of(info: DebugInfo) -> bytearray:
    m = info.module
    mem = bytearray(m.memories[0].limits.min * 65536)
    for seg in m.datas:
        if seg.offset_expr is not None:
            ((_op, start),) = seg.offset_expr.instrs
            mem[int(start) : int(start) + len(seg.data)] = seg.data  # type: ignore[call-overload]
    return mem


class Frame:
    """types.O0 stopped in main at `main-locals-ready`, its locals filled in."""

    def __init__(self) -> None:
        self.info = debug_info("types.O0")
        match = self.info.lines_for("types.c", marker("types.c", "main-locals-ready"))
        assert match is not None
        self.pc = match.pcs[0]
        main = self.info.function_at(self.pc)
        assert main is not None and isinstance(main.frame_base, WasmLocal)
        self.target = FakeTarget(_memory_of(self.info))
        self.target.locals[main.frame_base.index] = FRAME
        self.ctx = DebugContext(self.info, self.pc, self.target)
        self.address = {}
        for v in main.root.variables:
            loc = v.location
            assert isinstance(loc, Memory) and loc.base is FRAME_BASE
            self.address[v.name] = FRAME + loc.offset
        label = 0x3000
        self.target.memory[label : label + 4] = b"box\0"
        self.put("c", b"A")
        self.put("uc", b"\xff")
        self.put("s", struct.pack("<h", -300))
        self.put("i", struct.pack("<i", -5))
        self.put("u", struct.pack("<I", 4000000000))
        self.put("ll", struct.pack("<q", 1 << 40))
        self.put("f", struct.pack("<f", 1.5))
        self.put("d", struct.pack("<d", -2.25))
        self.put("flag", b"\x01")
        self.put("col", struct.pack("<I", 5))
        self.put("arr", struct.pack("<5i", 10, 20, 30, 40, 50))
        self.put("name", b"wasm\0\0\0\0")
        self.put("pt", struct.pack("<2i", 3, 4))
        self.put("ppt", struct.pack("<I", self.address["pt"]))
        self.put("ip", struct.pack("<I", self.address["arr"] + 8))
        self.put("ipp", struct.pack("<I", self.address["ip"]))
        self.put("rc", struct.pack("<4iII", 1, 2, 11, 7, 0, label))
        self.put("num", struct.pack("<f", 1.0))
        # ready=1 (bit 0), mode=5 (bits 1-3), delta=-3 (bits 4-7), count=1 (bits 8-15)
        self.put("fl", struct.pack("<I", 1 | 5 << 1 | (-3 & 0xF) << 4 | 1 << 8))
        self.put("ops", struct.pack("<2I", 1, 2))
        self.put("pts", struct.pack("<4i", -1, -2, 5, 6))

    def put(self, name: str, data: bytes) -> None:
        a = self.address[name]
        self.target.memory[a : a + len(data)] = data

    def p(self, expr: str) -> str:
        names = {1: "add", 2: "mul"}
        return format_value(evaluate(expr, self.ctx), self.target, names.get)


@pytest.fixture(scope="module")
def frame() -> Frame:
    return Frame()


GLOBALS = [
    ("g_counter", "42"),
    ("g_volatile", "-7"),
    ("g_message", '"hello, wasm\\000\\000\\000\\000"'),
    ("g_matrix", "{{1, 2, 3}, {4, 5, 6}}"),
    ("g_color", "BLUE"),
    ("g_big", "-1234567890123"),
    ("g_byte", "200 '\\310'"),
    ("g_ull", "18446744073709551615"),
    ("g_origin", "{x = 0, y = 0}"),
    ("g_pi", "<optimized out>"),
]


@pytest.mark.parametrize(("expr", "text"), GLOBALS)
def test_print_globals(frame: Frame, expr: str, text: str) -> None:
    assert frame.p(expr) == text


def test_print_string_pointer(frame: Frame) -> None:
    text = frame.p("g_greeting")
    assert text.startswith("0x") and text.endswith(' "greetings"')
    assert frame.p("*g_greeting") == "103 'g'"
    assert frame.p("g_greeting[1]") == "114 'r'"


LOCALS = [
    ("c", "65 'A'"),
    ("uc", "255 '\\377'"),
    ("s", "-300"),
    ("i", "-5"),
    ("u", "4000000000"),
    ("ll", "1099511627776"),
    ("f", "1.5"),
    ("d", "-2.25"),
    ("flag", "true"),
    ("col", "GREEN"),
    ("arr", "{10, 20, 30, 40, 50}"),
    ("name", '"wasm\\000\\000\\000"'),
    ("pt", "{x = 3, y = 4}"),
    ("*ppt", "{x = 3, y = 4}"),
    ("ppt->y", "4"),
    ("(*ppt).x + ppt->y", "7"),
    ("*ip", "30"),
    ("**ipp", "30"),
    ("ip[1]", "40"),
    ("*(ip - 2)", "10"),
    ("ip - &arr[0]", "2"),
    (
        "rc",
        '{top_left = {x = 1, y = 2}, bottom_right = {x = 11, y = 7}, color = RED, label = 0x3000 "box"}',
    ),
    ("rc.bottom_right.x - rc.top_left.x", "10"),
    ("num", '{i = 1065353216, f = 1, bytes = "\\000\\000\\200?"}'),
    ("fl", "{ready = 1, mode = 5, delta = -3, count = 1}"),
    ("fl.delta * 2", "-6"),
    ("ops", "{0x1 <add>, 0x2 <mul>}"),
    ("ops[1]", "(binop) 0x2 <mul>"),
    ("pts[1]", "{x = 5, y = 6}"),
    ("pts", "{{x = -1, y = -2}, {x = 5, y = 6}}"),
    ("sizeof(pts)", "16"),
    ("sizeof rc", "24"),
    ("sizeof(struct rect)", "24"),
    ("sizeof(Point)", "8"),
    ("(char)66", "66 'B'"),
    ("(unsigned char)i", "251 '\\373'"),
    ("(unsigned)i", "4294967291"),
    ("(long long)u * 2", "8000000000"),
    ("u + 1", "4000000001"),
    ("i < u", "0"),  # the usual conversions: -5 becomes a large unsigned
    ("f * 3", "4.5"),
    ("d / 0", "-inf"),
    ("1.0 / 3", "0.33333333333333331"),
    ("(float)1 / 3", "0.333333343"),
    ("10 / 3", "3"),
    ("-7 / 2", "-3"),
    ("-7 % 3", "-1"),
    ("1 << 31", "-2147483648"),
    ("0x7fffffff + 1", "-2147483648"),
    ("4294967295", "4294967295"),
    ("'\\n'", "10 '\\n'"),
    ("!flag", "0"),
    ("~0", "-1"),
    ("col == GREEN", "1"),
    ("BLUE", "BLUE"),
    ("BLUE + 1", "7"),
    ("(Color)0", "RED"),
    ("c == 'A' && s < 0 || 0", "1"),
    ("i > 0 ? 1 : 2", "2"),
    ("&pt", f"(Point *) 0x{FRAME + 96:x}"),
    ("(struct point *)ppt", f"(struct point *) 0x{FRAME + 96:x}"),
    ("*&arr[3]", "40"),
    ("arr + 1", f"(int *) 0x{FRAME + 128 + 4:x}"),
]


@pytest.mark.parametrize(("expr", "text"), LOCALS)
def test_print_locals(frame: Frame, expr: str, text: str) -> None:
    assert frame.p(expr) == text


def test_main_local_addresses_are_as_compiled(frame: Frame) -> None:
    # The locals the table above relies on lie where clang put them.
    assert frame.address["pt"] == FRAME + 96 and frame.address["arr"] == FRAME + 128


def test_assignment() -> None:
    f = Frame()
    assert f.p("g_counter = 7") == "7"
    assert f.p("g_counter") == "7"
    assert f.p("g_counter += 3") == "10"
    assert f.p("g_counter") == "10"
    f.p("g_matrix[0][1] = -1")
    assert f.p("g_matrix") == "{{1, -1, 3}, {4, 5, 6}}"
    f.p("g_nodes[0].next = &g_nodes[1]")
    f.p("g_nodes[0].next->value = 5")
    assert f.p("g_nodes[1].value") == "5"
    f.p("g_message[0] = 'J'")
    assert f.p("g_message").startswith('"Jello')
    f.p("fl.mode = 2")
    assert f.p("fl") == "{ready = 1, mode = 2, delta = -3, count = 1}"
    f.p("fl.delta = 7")
    assert f.p("fl") == "{ready = 1, mode = 2, delta = 7, count = 1}"
    f.p("d = 1")
    assert f.p("d") == "1"
    f.p("f = d / 4")
    assert f.p("f") == "0.25"
    f.p("col = BLUE")
    assert f.p("col") == "BLUE"
    f.p("ppt->x = 100")
    assert f.p("pt") == "{x = 100, y = 4}"
    f.p("*ip = 1")
    assert f.p("arr[2]") == "1"
    f.p("c = 300")  # truncates to the type, as C does
    assert f.p("c") == "44 ','"
    assert f.p("i++") == "-5"
    assert f.p("i") == "-4"
    assert f.p("--i") == "-5"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("nosuch", 'No symbol "nosuch" in current context.'),
        ("*g_counter", "Attempt to take contents of a non-pointer value."),
        ("g_counter / 0", "Division by zero"),
        ("pt.z", "There is no member named z."),
        ("g_counter.x", "not a structure"),
        ("pt->x", "needs a pointer"),
        ("1 +", "syntax error"),
        ("g_counter $ 1", "Invalid character"),
        ("3 = 4", "not an lvalue"),
        ("*(int *)0x7fffffff", "Cannot access memory at address 0x7fffffff"),
        ("", "Argument required"),
        ("(struct nosuch *)0", "No struct type named nosuch."),
    ],
)
def test_errors(frame: Frame, expr: str, message: str) -> None:
    with pytest.raises(DwarfError, match=re.escape(message)):
        frame.p(expr)


def test_values_in_wasm_locals_and_optimized_out() -> None:
    info = debug_info("recursion.O2")
    fib = info.function_named("fib")
    assert fib is not None
    n = next(v for v in fib.root.variables if v.name == "n")
    pc = fib.breakpoint_pc
    loc = n.location_at(pc)
    assert isinstance(loc, WasmLocal)
    target = FakeTarget(bytearray(65536), locals={loc.index: 10})
    ctx = DebugContext(info, pc, target)
    assert format_value(evaluate("n", ctx)) == "10"
    assert format_value(evaluate("n * 2 + 1", ctx)) == "21"
    assert format_value(evaluate("n = 3", ctx)) == "3"
    assert target.writes[-1] == ("local", loc.index, 3)
    with pytest.raises(DwarfError, match="not located in memory"):
        evaluate("&n", ctx)
    # Where no location-list entry covers the pc, a variable is optimized out.
    main = info.function_named("main")
    assert main is not None
    v = next(v for v in main.root.variables if v.location is None and v.ranges)
    pc = next(
        pc
        for pc in range(main.entry_pc, main.high_pc)
        if v.location_at(pc) is OPTIMIZED_OUT and v in info.variables_at(pc)
    )
    ctx = DebugContext(info, pc, FakeTarget(bytearray(65536)))
    assert format_value(evaluate(v.name, ctx)) == "<optimized out>"
    with pytest.raises(DwarfError, match="optimized out"):
        evaluate(v.name + " + 1", ctx)


def test_type_names(frame: Frame) -> None:
    for text, spelled in [
        ("unsigned int", "unsigned int"),
        ("unsigned", "unsigned int"),
        ("long long", "long long"),
        ("struct point *", "struct point *"),
        ("Point", "Point"),
        ("char **", "char **"),
        ("const char *", "char *"),
        ("enum color", "enum color"),
        ("binop", "binop"),
    ]:
        assert type_name(parse_type_name(text, frame.ctx)) == spelled


def test_string_literal_repeats() -> None:
    assert string_literal(b"hi" + b"\0" * 29) == "\"hi\", '\\000' <repeats 29 times>"
    assert string_literal(b"a" * 10) == '"aaaaaaaaaa"'
    assert string_literal(b"x" + b"a" * 11 + b"y") == '"x", \'a\' <repeats 11 times>, "y"'
    assert string_literal(b'q"\\\t') == '"q\\"\\\\\\t"'
    assert string_literal(b"") == '""'
