"""``wasmdbg debug`` at the source level: transcripts on real C programs at -O0 and -O2.

The programs live in ``tests/programs/c`` (sources, build script, committed
.wasm); lines are found by their ``// MARK: name`` comments, so a rebuild
that moves code keeps the tests valid.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from wasmdbg.cli.repl import Program, Repl

PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "c"


def mark(program: str, name: str) -> int:
    """The line number of ``// MARK: name`` in ``program``.c."""
    for number, text in enumerate((PROGRAMS / f"{program}.c").read_text().splitlines(), 1):
        if text.rstrip().endswith(f"// MARK: {name}"):
            return number
    raise LookupError(name)


def session(wasm: str, *commands: str, args: list[str] | None = None, stdin: str = "") -> str:
    out = io.StringIO()
    repl = Repl(Program(PROGRAMS / wasm, args or []), stdin=io.StringIO(stdin), stdout=out, interactive=False)
    try:
        repl.run_commands(list(commands))
        if stdin:
            repl.loop()
    finally:
        repl.dbg.kill()
    return out.getvalue()


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_break_at_a_line_stops_there_with_a_gdb_stop_line(opt: str) -> None:
    line = mark("recursion", "fib-base")
    out = session(f"recursion.{opt}.wasm", f"break recursion.c:{line}", "run", "print n")
    if opt == "O0":
        assert re.search(rf"Breakpoint 1 at 0x[0-9a-f]{{8}}: file recursion.c, line {line}\.", out)
        assert f"\nBreakpoint 1, fib (n=1) at recursion.c:{line}\n{line}\t        return n; // MARK: fib-base\n" in out
        assert "$1 = 1\n" in out
    else:  # -O2 has no statement on that line: the breakpoint slides to the next one, as in gdb
        found = re.search(r"Breakpoint 1 at 0x[0-9a-f]{8}: file recursion.c, line (\d+)\.", out)
        assert found is not None and int(found.group(1)) > line
        got = found.group(1)
        assert re.search(rf"\nBreakpoint 1, fib \(n=\d+\) at recursion.c:{got}\n{got}\t", out)


def test_break_on_a_function_stops_after_its_prologue() -> None:
    out = session("recursion.O0.wasm", "break factorial", "run", "info args")
    assert "Breakpoint 1, factorial (n=5) at recursion.c:17\n17\t    if (n > depth_reached)\n" in out
    assert "n = 5\n" in out


def test_backtrace_through_recursion_and_finish_prints_the_value() -> None:
    line = mark("recursion", "fact-base")
    out = session("recursion.O0.wasm", f"break {line}", "run", "backtrace 7", "finish", "finish")
    bt = [ln for ln in out.splitlines() if ln.startswith("#")]
    assert bt[0] == f"#0  factorial (n=1) at recursion.c:{line}"
    recurse = mark("recursion", "fact-recurse")
    for level in range(1, 5):
        assert re.fullmatch(rf"#{level} +0x[0-9a-f]{{8}} in factorial \(n={level + 1}\) at recursion.c:{recurse}", bt[level])
    assert re.fullmatch(r"#5  0x[0-9a-f]{8} in main \(argc=1, argv=0x[0-9a-f]+\) at recursion.c:\d+", bt[5])
    assert f"Run till exit from #0  factorial (n=1) at recursion.c:{line}\n" in out
    assert re.search(rf"0x[0-9a-f]{{8}} in factorial \(n=2\) at recursion.c:{recurse}\n{recurse}\t", out)
    assert "Value returned is $1 = 1\n" in out
    assert "Value returned is $2 = 2\n" in out


def test_next_and_step_by_line_through_recursion() -> None:
    out = session("recursion.O0.wasm", "break factorial", "run", "delete", "next", "next", "next", "step", "bt 2")
    lines = out.splitlines()
    start = lines.index("17\t    if (n > depth_reached)")
    assert lines[start + 1] == "18\t        depth_reached = n;"
    assert lines[start + 2] == "19\t    if (n <= 1)"
    assert lines[start + 3].startswith("21\t    long long rest = factorial(n - 1);")
    assert lines[start + 4] == "factorial (n=4) at recursion.c:17"
    assert re.fullmatch(r"#1  0x[0-9a-f]{8} in factorial \(n=5\) at recursion.c:21", lines[start + 7])


def test_next_steps_over_a_recursive_call_in_the_same_frame() -> None:
    recurse = mark("recursion", "fact-recurse")
    out = session("recursion.O0.wasm", f"break {recurse}", "run", "delete", "next", "print rest", "print n")
    assert f"\n{recurse + 1}\t    return n * rest; // MARK: fact-return\n" in out
    assert "$1 = 24\n$2 = 5\n" in out


def test_until_and_advance_by_line() -> None:
    out = session("types.O0.wasm", f"break {mark('types', 'list-loop')}", "run", "delete", "until", "until",
                  f"advance types.c:{mark('types', 'main-print')}", f"advance types.c:{mark('types', 'main-print')}")
    lines = out.splitlines()
    start = lines.index("79\t        sum += p->value; // MARK: list-loop")
    assert lines[start + 1] == "78\t    for (struct node *p = head; p; p = p->next)"
    assert lines[start + 2] == "80\t    return sum;"  # until does not go back round the loop
    # advance stops when the current frame returns first, then reaches the line
    assert re.fullmatch(r"0x[0-9a-f]{8} in main \(\) at types.c:129", lines[start + 3])
    assert lines[-2] == f"main () at types.c:{mark('types', 'main-print')}"


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_trap_stops_at_the_source_line_with_locals(opt: str) -> None:
    line = mark("trap", "divide")
    out = session(f"trap.{opt}.wasm", "run", "backtrace", "info locals", "up", "print st", "continue")
    assert "Program stopped: wasm trap: integer divide by zero\n" in out
    assert re.search(rf"\n(0x[0-9a-f]{{8}} in )?average \(st=0x[0-9a-f]+\) at trap.c:{line}\n{line}\t    return sum / count;", out)
    assert re.search(r"#1  0x[0-9a-f]{8} in compute \(values=0x[0-9a-f]+, n=(4|<optimized out>)\) at trap.c:\d+", out)
    if opt == "O0":
        assert "sum = -10\ncount = 0\n" in out
        assert "$1 = {sum = -10, count = 0}\n" in out
    assert "[Inferior 1 (wasm) terminated: integer divide by zero]" in out


def test_print_c_values_of_every_kind() -> None:
    out = session(
        "types.O0.wasm", f"break {mark('types', 'main-locals-ready')}", "run",
        "print c", "print uc", "print s", "print u", "print ll", "print f", "print d", "print flag", "print col",
        "print arr", "print name", "print str", "print *ip", "print **ipp", "print pt", "print ppt->y",
        "print rc", "print num", "print ops", "print pts[1]", "print g_message", "print g_matrix",
        "print g_nodes[0].next->value", "print g_big", "print g_ull", "print/x arr[1]", "print arr[1] + arr[2] * 2",
        "print sizeof(rc)", "print &pt == ppt", "print *rc.label", "print (char)66", "print BLUE", "print g_color",
    )
    expected = [
        "65 'A'", "255 '\\377'", "-300", "4000000000", "1099511627776", "1.5", "-2.25", "true", "GREEN",
        "{10, 20, 30, 40, 50}", '"wasm\\000\\000\\000"', None, "30", "30", "{x = 3, y = 4}", "4",
        None, '{i = 1065353216, f = 1, bytes = "\\000\\000\\200?"}', "{0x1 <add>, 0x2 <mul>}",
        "{x = 5, y = 6}", '"hello, wasm\\000\\000\\000\\000"', "{{1, 2, 3}, {4, 5, 6}}", "200",
        "-1234567890123", "18446744073709551615", "0x14", "80", "24", "1", "98 'b'", "66 'B'", "BLUE", "BLUE",
    ]
    values = re.findall(r"^\$(\d+) = (.*)$", out, re.M)
    assert len(values) == len(expected), out
    for (_n, got), want in zip(values, expected, strict=True):
        if want is not None:
            assert got == want
    assert re.fullmatch(r'0x[0-9a-f]+ "a string"', values[11][1])
    assert re.fullmatch(r'\{top_left = \{x = 1, y = 2\}, bottom_right = \{x = 11, y = 7\}, color = RED, '
                        r'label = 0x[0-9a-f]+ "box"\}', values[16][1])


def test_set_var_writes_c_values() -> None:
    area = mark("types", "area-return")
    out = session("types.O0.wasm", f"break {mark('types', 'main-locals-ready')}", "run",
                  "set var pt.x = 9", "set var arr[0] = -1", "set var c = 'z'", "set var fl.mode = 6",
                  "set var d = 0.5", "print pt", "print arr[0]", "print c", "print fl", "print d",
                  "set var rc.bottom_right.x = 21", f"break {area}", "continue", "print w * h")
    assert "$1 = {x = 9, y = 4}\n$2 = -1\n$3 = 122 'z'\n" in out
    assert "$4 = {ready = 0, mode = 6, delta = 0, count = 0}\n$5 = 0.5\n" in out
    assert "$6 = 100\n" in out  # (21 - 1) * (7 - 2)


def test_ptype_and_whatis() -> None:
    out = session("types.O0.wasm", f"break {mark('types', 'main-locals-ready')}", "run",
                  "whatis pt", "ptype pt", "whatis ppt", "ptype struct rect", "whatis arr", "ptype union number",
                  "whatis Color", "ptype col", "ptype binop", "whatis str")
    assert "type = Point\n" in out
    assert "type = struct point {\n    int x;\n    int y;\n}\n" in out
    assert "type = Point *\n" in out
    assert "    const char *label;\n}\n" in out
    assert "type = int [5]\n" in out
    assert "    unsigned char bytes[4];\n" in out
    assert "type = enum color\n" in out
    assert "type = enum color {RED, GREEN = 5, BLUE}\n" in out
    assert "type = int (*)(int, int)\n" in out
    assert "type = const char *\n" in out


def test_condition_in_c_and_display() -> None:
    out = session("recursion.O0.wasm", "break fib if n == 2 && 1", "run", "display n * 10", "display/x n",
                  "continue", "info breakpoints")
    assert "Breakpoint 1, fib (n=2) at recursion.c:26" in out
    assert "1: n * 10 = 20\n2: /x n = 0x2\n" in out
    assert "\tstop only if n == 2 && 1\n" in out


def test_inlined_code_at_O2_has_frames_and_several_locations() -> None:
    line = mark("inline", "clamp-test")
    out = session("inline.O2.wasm", f"break {line}", "run", "backtrace 3", "info breakpoints", "up", "info locals",
                  "finish")
    assert re.search(rf"Breakpoint 1 at inline.c:{line}\. \(\d+ locations\)", out)
    assert re.search(rf"Breakpoint 1, clamp \(v=-?\d+, lo=0, hi=1000\) at inline.c:{line}\n", out)
    bt = [ln for ln in out.splitlines() if ln.startswith("#")]
    assert bt[0].startswith("#0  clamp (") and bt[1].startswith("#1  smooth (") and " at inline.c:" in bt[1]
    assert bt[2].startswith("#2  process (data=0x")
    assert re.search(rf"1\.1 +y +0x[0-9a-f]{{8}} in clamp at inline.c:{line}", out)
    assert re.search(r"^avg = -?\d+$", out, re.M)
    assert "Run till exit from #1  smooth (" in out


def test_list_and_info_source_and_line() -> None:
    out = session("recursion.O0.wasm", "list fib", "list", "info line fib", "break fib", "run", "list", "info source")
    assert "20\t        return 1; // MARK: fact-base\n" in out  # list fib centres on line 25
    assert "\n30\t    return a + b; // MARK: fib-sum\n" in out
    assert re.search(r'Line 26 of "recursion.c" starts at address 0x[0-9a-f]{8} <fib\+\d+> and ends at', out)
    assert "Current source file is recursion.c\n" in out and "Contains 69 lines.\n" in out


def test_list_ranges() -> None:
    out = session("recursion.O0.wasm", "list 16,18", "list recursion.c:25,", "list ,5")
    lines = out.splitlines()
    assert lines[:3] == ["16\tlong long factorial(int n) {", "17\t    if (n > depth_reached)",
                         "18\t        depth_reached = n;"]
    assert lines[3] == "25\tint fib(int n) {" and lines[12].startswith("34\t")
    assert lines[13].startswith("1\t/* recursion.c") and lines[-1].startswith("5\t")


def test_info_functions_lists_source_functions() -> None:
    out = session("recursion.O0.wasm", "info functions ^fib$|^hanoi$")
    assert "File recursion.c:\n" in out
    assert "25:\tint fib(int);\n" in out
    assert re.search(r"\n\d+:\tvoid hanoi\(int, char, char, char\);\n", out)


def test_info_frame_and_registers_on_a_source_frame() -> None:
    out = session("recursion.O0.wasm", "break fib", "run", "info frame", "info registers")
    assert "Stack level 0, frame at 0x" in out and "in fib (recursion.c:26)" in out
    assert re.search(r"^pc +0x[0-9a-f]{8} +<fib\+\d+>", out, re.M)


def test_x_examines_memory_named_by_c_expressions() -> None:
    out = session("types.O0.wasm", f"break {mark('types', 'main-locals-ready')}", "run",
                  "x/5dw arr", "x/s str", "x/2xh &s", "x/4cb name", "x/2dw ip")
    assert re.search(r"0x[0-9a-f]{8}:\t10\t20\t30\t40\n0x[0-9a-f]{8}:\t50\n", out)
    assert re.search(r'0x[0-9a-f]{8}:\t"a string"\n', out)
    assert re.search(r"0x[0-9a-f]{8}:\t0xfed4\t0x[0-9a-f]{4}\n", out)
    assert re.search(r"0x[0-9a-f]{8}:\t119 'w'\t97 'a'\t115 's'\t109 'm'\n", out)
    assert re.search(r"0x[0-9a-f]{8}:\t30\t40\n", out)


def test_globals_print_before_the_program_runs() -> None:
    out = session("types.O0.wasm", "print g_counter", "print g_message", "print g_greeting", "print g_origin",
                  "print g_matrix[1][2] * 2", "print arr")
    assert "$1 = 42\n" in out
    assert '$2 = "hello, wasm\\000\\000\\000\\000"\n' in out
    assert re.search(r'\$3 = 0x[0-9a-f]+ "greetings"\n', out)
    assert "$4 = {x = 0, y = 0}\n$5 = 12\n" in out
    assert 'No symbol "arr" in current context.' in out


def test_artificial_arrays_with_at() -> None:
    out = session("types.O0.wasm", f"break {mark('types', 'main-locals-ready')}", "run",
                  "print *ip@3", "print g_matrix[0][1]@4", "print pts[0].x@2", "print c@0")
    assert "$1 = {30, 40, 50}\n$2 = {2, 3, 4, 5}\n$3 = {-1, -2}\n" in out
    assert "Non-positive repeat count." in out


def test_start_and_silent_breakpoint_commands() -> None:
    out = session("recursion.O0.wasm", "start", "break fib if n == 3", "commands", stdin="silent\nprint n * 100\ncontinue\nend\ncontinue\n")
    assert re.search(r"Temporary breakpoint 1 at 0x[0-9a-f]{8}: file recursion.c, line \d+\.\n", out)
    assert re.search(r"Temporary breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at recursion.c:\d+\n", out)
    assert "Breakpoint 2, " not in out  # silent
    assert out.count("= 300\n") == 2  # fib(3) runs twice within fib(5)
    assert "[Inferior 1 (wasm) exited normally]" in out


def test_a_variable_on_the_operand_stack_at_O2() -> None:
    from wasmdbg.dwarf import load_debug_info
    from wasmdbg.dwarf.locations import WasmStack
    from wasmdbg.wasm.decoder import decode_module

    info, _ = load_debug_info(decode_module((PROGRAMS / "recursion.O2.wasm").read_bytes()))
    assert info is not None
    fib = info.function_named("fib")
    assert fib is not None
    var = next(v for v in fib.root.variables if v.name == "a")
    where = next(r for r in var.ranges if isinstance(r.location, WasmStack))
    out = session("recursion.O2.wasm", f"break *0x{where.low:x}", "run", "print a", "print $stack0", "info locals")
    assert "Breakpoint 1, fib (n=2) at recursion.c:" in out
    assert "$1 = 1\n$2 = 1\n" in out  # fib(1), still on the operand stack
    assert "a = 1\n" in out
