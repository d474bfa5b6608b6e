"""Real LLDB (lldb-22, through its Python API) debugging C programs under the gdbstub.

The programs are ``programs/demo.c`` built at -O0 and -O2 with -g; each test
asserts on what LLDB reports (function names, lines, values).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import PROGRAMS, drive_lldb, run_lldb, runtime_wrapper

from wasmdbg.wasm.decoder import decode_module

O0 = "demo.O0.wasm"
O2 = "demo.O2.wasm"
SOURCE = (PROGRAMS / "demo.c").read_text().splitlines()


def line_of(marker: str) -> int:
    """The 1-based line of demo.c carrying ``/* marker */``."""
    for number, text in enumerate(SOURCE, 1):
        if f"/* {marker} */" in text:
            return number
    raise KeyError(marker)


def code_start(program: str, name: str) -> int:
    """The file offset of function ``name``'s first instruction."""
    mdef = decode_module((PROGRAMS / program).read_bytes())
    for body in mdef.bodies:
        if mdef.func_name(body.func_index) == name:
            return int(body.code_start)
    raise KeyError(name)


def frame0(text: str) -> str:
    """The ``frame #0`` line of a stop report or backtrace."""
    match = re.search(r"frame #0: (.*)", text)
    assert match, text
    return match.group(1)


def test_connect_stops_on_entry_and_runs_to_the_exit_code() -> None:
    run = run_lldb(O0, ["bt", "image list", "continue"])
    connect = run["process connect"]
    assert connect.ok, connect.text
    assert "stop reason = trace" in connect.text
    assert "_start" in frame0(connect.text)
    assert "demo.O0.wasm" in run["image list"].text
    cont = run["continue"]
    assert "exited with status = 1" in cont.text
    assert cont.state == "exited" and cont.exit_status == 1
    assert run.status == 1
    assert "hello 6 3 120" in run.stdout


@pytest.mark.parametrize("program", [O0, O2])
def test_breakpoint_by_name_and_backtrace(program: str) -> None:
    run = run_lldb(program, ["breakpoint set -n fact", "continue", "bt", "frame variable n", "process kill"])
    assert "Breakpoint 1: where = " in run["breakpoint set"].text
    stop = run["continue"].text
    assert "stop reason = breakpoint 1.1" in stop
    assert "fact(n=5)" in frame0(stop)
    bt = run["bt"].text
    caller = rf"frame #1: 0x[0-9a-f]+ \S+`__main_argc_argv\(.*\) at demo.c:{line_of('MAIN_FACT')}"
    assert re.search(caller, bt), bt
    assert re.search(r"`_start at crt1-command.c", bt), bt
    assert "(int) n = 5" in run["frame variable n"].text
    assert run["process kill"].state == "exited"
    assert run.status == 137


def test_frame_variable_struct_char_array_double_O0() -> None:
    run = run_lldb(
        O0,
        [
            f"breakpoint set -f demo.c -l {line_of('SCALE_FIRST')}",
            "continue",
            "frame variable *p",
            "frame variable factor",
            "next",
            "frame variable w",
            "finish",
            "frame variable pt",
            "process kill",
        ],
    )
    stop = run["continue"].text
    assert f"demo.c:{line_of('SCALE_FIRST')}" in frame0(stop)
    assert "scale(" in frame0(stop)
    assert '(point) *p = (x = 3, y = 4, weight = 1.5, label = "origin")' in run["frame variable *p"].text
    assert "(double) factor = 2" in run["frame variable factor"].text
    assert f"demo.c:{line_of('SCALE_FIRST') + 1}" in frame0(run["next"].text)
    assert "(double) w = 3" in run["frame variable w"].text
    finish = run["finish"].text
    assert "__main_argc_argv" in frame0(finish) and f"demo.c:{line_of('MAIN_SCALE')}" in frame0(finish)
    assert '(point) pt = (x = 6, y = 4, weight = 1.5, label = "origin")' in run["frame variable pt"].text


def test_frame_variable_O2_struct_and_double() -> None:
    run = run_lldb(
        O2,
        ["breakpoint set -n scale", "continue", "frame variable", "frame variable *p", "finish",
         "frame variable pt", "process kill"],
    )
    assert "scale(p=0x" in frame0(run["continue"].text)
    values = run["frame variable"].text
    assert "(double) factor = 2" in values
    assert '(x = 3, y = 4, weight = 1.5, label = "origin")' in run["frame variable *p"].text
    assert "__main_argc_argv" in frame0(run["finish"].text)
    assert '(point) pt = (x = 6, y = 4, weight = 1.5, label = "origin")' in run["frame variable pt"].text


def test_breakpoint_by_address_inside_an_instruction_reports_that_address() -> None:
    # scale starts with a global.get whose index is a padded 5-byte LEB:
    # one byte in is the middle of an instruction, which slips forward
    start = code_start(O0, "scale")
    address = (1 << 62) | (start + 1)
    run = run_lldb(O0, [f"breakpoint set -a 0x{address:x}", "continue", "register read pc", "process kill"])
    stop = run["continue"].text
    assert "stop reason = breakpoint 1.1" in stop
    assert frame0(stop).startswith(f"0x{address:016x} ")
    assert "scale" in frame0(stop)
    assert f"pc = 0x{address:016x}" in run["register read pc"].text


def test_ignore_count_through_recursion() -> None:
    run = run_lldb(O0, ["breakpoint set -n fact", "breakpoint modify -i 3 1", "continue", "bt", "process kill"])
    assert "fact(n=2)" in frame0(run["continue"].text)
    assert len(re.findall(r"`fact\(n=", run["bt"].text)) == 4


def test_stepi_next_step_finish() -> None:
    main_scale, main_fact = line_of("MAIN_SCALE"), line_of("MAIN_FACT")
    run = run_lldb(
        O0,
        [
            f"breakpoint set -f demo.c -l {main_scale}",
            "continue",
            "register read pc",
            "stepi",
            "register read pc",
            "next",
            "step",
            "next",
            "frame variable n",
            "finish",
            "next",
            "frame variable f",
            "process kill",
        ],
    )
    assert f"demo.c:{main_scale}" in frame0(run["continue"].text)
    pcs = [int(m, 16) for r in run.all("register read pc") for m in re.findall(r"pc = (0x[0-9a-f]+)", r.text)]
    assert len(pcs) == 2 and pcs[1] > pcs[0]
    assert "instruction step into" in run["stepi"].text
    nexts = run.all("next")
    assert f"demo.c:{main_fact}" in frame0(nexts[0].text)
    step = run["step"].text
    assert "stop reason = step in" in step and "fact(" in frame0(step)
    assert "fact(n=5)" in frame0(nexts[1].text)
    assert "(int) n = 5" in run["frame variable n"].text
    finish = run["finish"].text
    assert "stop reason = step out" in finish and "__main_argc_argv" in frame0(finish)
    assert f"demo.c:{main_fact + 1}" in frame0(nexts[2].text)
    assert "(int) f = 120" in run["frame variable f"].text


def test_memory_read_write_and_expressions() -> None:
    run = run_lldb(
        O0,
        [
            "breakpoint set -n fact",
            "continue",
            "x/s &message",
            "memory read -s 4 -f d -c 1 &counter",
            "memory write -s 4 &counter 5",
            "memory read -s 4 -f d -c 1 &counter",
            "expr n * 2",
            "p counter + 1",
            "breakpoint delete 1",
            "continue",
        ],
    )
    assert '"hello"' in run["x/s &message"].text
    reads = run.all("memory read")
    assert re.search(r"0x[0-9a-f]+: 0\b", reads[0].text), reads[0].text
    assert run["memory write"].ok, run["memory write"].text
    assert re.search(r"0x[0-9a-f]+: 5\b", reads[1].text), reads[1].text
    assert re.search(r"\(int\) \$\d+ = 10\b", run["expr n * 2"].text)
    assert re.search(r"\) 6\b", run["p counter + 1"].text)
    # main returns f % 7 + counter = 1 + 5
    assert run.all("continue")[1].exit_status == 6
    assert run.status == 6


def test_process_interrupt_of_a_running_loop() -> None:
    run = run_lldb(O2, ["!interrupt 1.0", "bt", "p counter > 0", "process kill"], args=["spin"])
    stop = run["!interrupt"].text
    assert "stop reason = signal SIGINT" in stop
    assert "`spin" in stop
    bt = run["bt"].text
    assert re.search(r"frame #1: .*`__main_argc_argv.*demo.c:", bt), bt
    assert "true" in run["p counter"].text
    assert run["process kill"].state == "exited"
    assert run.status == 137


def test_trap_stops_before_unwinding_then_exits() -> None:
    run = run_lldb(O0, ["continue", "bt", "frame variable argc", "continue"], args=["trap"])
    stop = run["continue"].text
    assert "unreachable" in stop
    assert "__main_argc_argv" in frame0(stop)
    assert "__builtin_trap" in stop  # LLDB shows the source line
    assert "(int) argc = 2" in run["frame variable argc"].text
    last = run.all("continue")[1]
    assert last.state == "exited" and last.exit_status == 134
    assert run.status == 134


def test_disassemble_target_variable_and_image_list() -> None:
    run = run_lldb(
        O0,
        ["breakpoint set -n scale", "continue", "disassemble -c 3", "target variable message",
         "image list", "process kill"],
    )
    disassembly = run["disassemble -c 3"].text
    assert "demo.O0.wasm`scale" in disassembly and "global.get" in disassembly
    assert '(char[16]) message = "hello"' in run["target variable message"].text
    assert "0x4000000000000000" in run["image list"].text


def test_programs_are_built() -> None:
    for name in (O0, O2):
        assert Path(PROGRAMS / name).read_bytes()[:4] == b"\0asm"


def test_lldb_launches_wasmdbg_itself(tmp_path: Path) -> None:
    runtime = runtime_wrapper(tmp_path)
    results = drive_lldb(
        [
            f"settings set platform.plugin.wasm.runtime-path {runtime}",
            "settings set -- platform.plugin.wasm.port-arg --gdb-port=",
            f"target create {PROGRAMS / O0}",
            "breakpoint set -n fact",
            "process launch",
            "bt",
            "breakpoint delete 1",
            "continue",
        ]
    )
    launch = results[4]
    assert launch.ok, launch.text
    assert "stop reason = breakpoint 1." in launch.text and "fact(n=5)" in frame0(launch.text)
    assert "__main_argc_argv" in results[5].text
    assert results[7].state == "exited" and results[7].exit_status == 1


def test_O2_value_on_the_operand_stack() -> None:
    # at -O2, scale's `w` lives on the operand stack at its final `end`
    # (DW_OP_WASM_location 2 0): LLDB reads it with qWasmStackValue
    mdef = decode_module((PROGRAMS / O2).read_bytes())
    (body,) = [b for b in mdef.bodies if mdef.func_name(b.func_index) == "scale"]
    address = (1 << 62) | (body.code_end - 1)
    run = run_lldb(O2, [f"breakpoint set -a 0x{address:x}", "continue", "frame variable", "process kill"])
    assert f"demo.c:{line_of('SCALE_FIRST') + 2}" in frame0(run["continue"].text)
    values = run["frame variable"].text
    assert "(double) w = 3" in values and "(double) factor = 2" in values
