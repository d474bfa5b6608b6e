"""``wasmdbg debug`` at the Wasm level: one transcript test per command.

The guest is a small text module with a name section (function and local
names), so everything here works without DWARF; the source-level commands
are checked on C programs in ``test_repl_source.py``.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wasmdbg.cli.repl import Program, Repl, run_debugger

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "wasmdbg" / "examples"

WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 7))
  (data (i32.const 16) "hi there\\n\\00")
  (func $fact (param $n i32) (result i32)
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
  (func $div (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.div_s)
  (func $say
    ;; iovec at 0: (16, 9)
    i32.const 0 i32.const 16 i32.store
    i32.const 4 i32.const 9 i32.store
    i32.const 1 i32.const 0 i32.const 1 i32.const 8 call $fd_write drop)
  (func $main (export "_start")
    (local $r i32)
    i32.const 5
    call $fact
    local.set $r
    call $say
    global.get $counter
    i32.const 120
    local.get $r
    call $div
    i32.add
    global.set $counter
    global.get $counter
    i32.const 1
    i32.sub
    call $proc_exit))
"""

FACT, DIV, SAY, MAIN = 2, 3, 4, 5


@pytest.fixture(scope="module")
def wat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("repl") / "prog.wat"
    path.write_text(WAT)
    return path


def session(path: Path, *commands: str, stdin: str = "", repeat: bool = False, args: list[str] | None = None) -> str:
    """Run ``commands`` (as -ex) then ``stdin`` lines; return the transcript."""
    out = io.StringIO()
    program = Program(path, args or [])
    repl = Repl(program, stdin=io.StringIO(stdin), stdout=out, interactive=False)
    repl.repeat_empty = repeat
    try:
        repl.run_commands(list(commands))
        if stdin:
            repl.loop()
    finally:
        repl.dbg.kill()
    return out.getvalue()


def pc_of(path: Path, func: int, nth: int) -> int:
    """The module offset of the nth instruction of a function."""
    from wasmdbg.cli.main import _load_def
    from wasmdbg.wasm.code import iter_body

    mdef = _load_def(path)
    return list(iter_body(mdef, mdef.body(func)))[nth].offset


def test_run_without_breakpoints_runs_to_the_exit(wat: Path) -> None:
    out = session(wat, "run")
    assert out == "hi there\n[Inferior 1 (wasm) exited with code 07]\n"


def test_break_by_function_name_and_backtrace_with_arguments(wat: Path) -> None:
    out = session(wat, "break fact", "run", "backtrace")
    entry = pc_of(wat, FACT, 0)
    assert f"Breakpoint 1 at 0x{entry:08x}\n" in out
    assert f"Breakpoint 1, 0x{entry:08x} in fact (n=5)\n" in out
    assert f"=> 0x{entry:08x} <fact+0>:\tlocal.get 0\n" in out
    bt = out.split("local.get 0\n", 1)[1].splitlines()
    assert bt[0] == f"#0  0x{entry:08x} in fact (n=5)"
    assert re.fullmatch(r"#1  0x[0-9a-f]{8} in main \(\)", bt[1])


def test_info_stack_is_backtrace(wat: Path) -> None:
    out = session(wat, "break fact", "run", "backtrace", "info stack", "info s")
    bt = out.split("local.get 0\n", 1)[1]
    lines = bt.splitlines()
    assert len(lines) == 6 and lines[0:2] == lines[2:4] == lines[4:6]


def test_break_at_address_and_tbreak(wat: Path) -> None:
    pc = pc_of(wat, DIV, 2)
    out = session(wat, f"tbreak *0x{pc:x}", "run", "info breakpoints", "continue")
    assert f"Temporary breakpoint 1 at 0x{pc:08x}" in out
    assert f"Temporary breakpoint 1, 0x{pc:08x} in div (a=120, b=120)" in out
    assert "No breakpoints or watchpoints." in out
    assert "exited with code 07" in out


def test_condition_ignore_and_hit_counts(wat: Path) -> None:
    out = session(wat, "break fact if n == 2", "run", "print n", "info breakpoints")
    assert "Breakpoint 1, " in out and "in fact (n=2)" in out
    assert "$1 = 2\n" in out
    assert "\tstop only if n == 2\n\tbreakpoint already hit 1 time\n" in out
    out = session(wat, "break fact", "ignore 1 3", "run", "print n", "info breakpoints")
    assert "Will ignore next 3 crossings of breakpoint 1." in out
    assert "$1 = 2\n" in out
    assert "breakpoint already hit 4 times" in out
    out = session(wat, "break fact", "condition 1 n < 4", "run", "p n", "condition 1", "continue", "p n")
    assert "$1 = 3\n" in out and "Breakpoint 1 now unconditional." in out and "$2 = 2\n" in out


def test_a_broken_condition_stops_with_a_message(wat: Path) -> None:
    out = session(wat, "break fact if nosuch > 1", "run")
    assert "Error in testing condition for breakpoint 1:" in out
    assert 'No symbol "nosuch" in current context.' in out


def test_delete_disable_enable(wat: Path) -> None:
    out = session(wat, "break fact", "break div", "disable 1", "run", "info breakpoints")
    assert "Breakpoint 2, " in out and "in div (a=120, b=120)" in out
    assert re.search(r"1 +breakpoint +keep n", out)
    out = session(wat, "break fact", "break div", "delete 1", "run")
    assert "Breakpoint 2, " in out and "Breakpoint 1," not in out
    out = session(wat, "break fact", "disable", "enable 1", "run")
    assert "Breakpoint 1, " in out
    out = session(wat, "break fact", "delete", "run")
    assert "Breakpoint 1, " not in out and "exited with code 07" in out


def test_commands_run_at_the_breakpoint(wat: Path) -> None:
    out = session(wat, "break div", "commands 1", stdin="print a\nprint b\nend\nrun\n")
    assert "in div (a=120, b=120)" in out
    assert "$1 = 120\n$2 = 120\n" in out


def test_stepi_nexti_and_finish_print_the_returned_value(wat: Path) -> None:
    pcs = [pc_of(wat, MAIN, i) for i in range(3)]
    out = session(wat, "break main", "run", "stepi", "nexti", "nexti")
    assert f"0x{pcs[1]:08x} in main ()\n=> 0x{pcs[1]:08x} <main+2>:\tcall 2 <fact>\n" in out
    assert f"0x{pcs[2]:08x} in main ()\n=> 0x{pcs[2]:08x} <main+4>:\tlocal.set 0\n" in out
    out = session(wat, "break fact if n == 3", "run", "finish")
    assert "Run till exit from #0  " in out and "in fact (n=3)" in out
    assert "in fact (n=4)\n" in out
    assert "Value returned is $1 = 6\n" in out
    out = session(wat, "break main", "run", "finish")
    assert '"finish" not meaningful in the outermost frame.' in out


def test_stepi_enters_calls(wat: Path) -> None:
    out = session(wat, "break main", "run", "stepi 2")
    assert "in fact (n=5)\n" in out


def test_frame_up_down(wat: Path) -> None:
    out = session(wat, "break fact if n == 3", "run", "up", "print n", "up 2", "down", "frame 0", "down")
    lines = out.splitlines()
    assert any(re.fullmatch(r"#1  0x[0-9a-f]{8} in fact \(n=4\)", line) for line in lines)
    assert "$1 = 4" in lines
    assert any(re.fullmatch(r"#3  0x[0-9a-f]{8} in main \(\)", line) for line in lines)
    assert any(re.fullmatch(r"#2  0x[0-9a-f]{8} in fact \(n=5\)", line) for line in lines)
    assert "Bottom (innermost) frame selected; you cannot go down." in lines


def test_info_locals_args_frame_registers(wat: Path) -> None:
    out = session(wat, "break div", "run", "info args", "info locals", "info frame", "info registers", "up",
                  "info locals")
    assert "a = 120\nb = 120\n" in out
    assert "No locals.\n" in out
    assert "Stack level 0, frame at 0x" in out
    assert re.search(r"pc +0x[0-9a-f]{8} +<div\+0>", out)
    assert "r = 120\n" in out


def test_info_functions_and_line(wat: Path) -> None:
    out = session(wat, "info functions fa", "info line fact")
    assert "All functions matching regular expression \"fa\":" in out
    assert f"0x{pc_of(wat, FACT, 0):08x}  fact" in out
    assert "No line number information available for address" in out


def test_print_set_var_and_memory(wat: Path) -> None:
    out = session(
        wat, "break div", "run", "print a * 2 + 1", "print/x a", "print $global0", "print {i32}4",
        "set var b = 5", "print b", "set var $global0 = 3", "print $global0", "print $1 + $2",
        "print (char)65", "print/c 104", "print 7 / 2", "print -7 % 3", "print 1.5 * 2",
        "set var {u8}16 = 72", "x/s 16", "continue",
    )
    assert "$1 = 241\n$2 = 0x78\n$3 = 7\n$4 = 9\n" in out
    assert "$5 = 5\n" in out
    assert "$6 = 3\n" in out
    assert "$7 = 361\n" in out
    assert "$8 = 65\n" in out
    assert "$9 = 104 'h'\n" in out
    assert "$10 = 3\n$11 = -1\n$12 = 3\n" in out
    assert '0x00000010:\t"Hi there\\n"' in out
    # main read the global before the call: 7 + 120 / 5 - 1 = 30, shown in octal like gdb
    assert "[Inferior 1 (wasm) exited with code 36]" in out


def test_x_formats_and_repeat(wat: Path) -> None:
    out = session(wat, "break say", "run", "finish", "x/4xb 16", "x/2dw 0", "x/s 16", "x/2i $pc")
    assert "0x00000010:\t0x68\t0x69\t0x20\t0x74\n" in out
    assert "0x00000000:\t16\t9\n" in out
    assert '0x00000010:\t"hi there\\n"\n' in out
    assert re.search(r"=> 0x[0-9a-f]{8} <main\+\d+>:\tglobal\.get 0\n   0x[0-9a-f]{8} <main\+\d+>:\ti32\.const 120\n", out)
    out = session(wat, "break say", "run", "finish", "x/2xb 16", stdin="\n", repeat=True)
    assert "0x00000010:\t0x68\t0x69\n0x00000012:\t0x20\t0x74\n" in out


def test_display_and_undisplay(wat: Path) -> None:
    out = session(wat, "break fact", "run", "display n", "display/x n * 16", "continue", "undisplay 1",
                  "continue", "info display")
    assert "1: n = 5\n2: /x n * 16 = 0x50\n" in out
    assert "1: n = 4\n2: /x n * 16 = 0x40\n" in out
    assert "2: /x n * 16 = 0x30\n" in out and "1: n = 3" not in out
    assert "2:   y  /x n * 16" in out


def test_trap_stops_with_frames_readable(wat: Path) -> None:
    out = session(wat, "break div", "run", "set var b = 0", "continue", "backtrace", "print a", "print b", "up",
                  "print r", "continue")
    assert "Program stopped: wasm trap: integer divide by zero\n" in out
    assert re.search(r"0x[0-9a-f]{8} in div \(a=120, b=0\)\n=> 0x[0-9a-f]{8} <div\+4>:\ti32.div_s\n", out)
    assert "$1 = 120\n$2 = 0\n" in out and "$3 = 120\n" in out
    assert "[Inferior 1 (wasm) terminated: integer divide by zero]" in out


def test_disassemble_wasm_and_native(wat: Path) -> None:
    out = session(wat, "disassemble div")
    assert out.startswith("Dump of assembler code for function div:\n")
    assert f"   0x{pc_of(wat, DIV, 2):08x} <+4>:\ti32.div_s\n" in out
    assert out.endswith("End of assembler dump.\n")
    out = session(wat, "break div", "run", "disassemble /n")
    assert f"=> 0x{pc_of(wat, DIV, 0):08x} <+0>:\tlocal.get 0\n" in out
    sites = re.findall(r"^\t\t([ *])0x[0-9a-f]+:\t(\w+).*<- patch site for (0x[0-9a-f]+)", out, re.M)
    assert sites, out
    enabled = {pc for mark, _op, pc in sites if mark == "*"}
    assert enabled == {hex(pc_of(wat, DIV, 0))}
    assert all(op == ("call" if mark == "*" else "nop") for mark, op, _pc in sites)
    assert "idiv" in out


def test_until_and_advance(wat: Path) -> None:
    out = session(wat, "break main", "run", "advance div")
    assert "in div (a=120, b=120)" in out
    out = session(wat, "break main", "run", "until say")
    assert "in say ()" in out
    out = session(wat, "break fact if n == 2", "run", "until say")  # the frame returns first
    assert "in fact (n=3)" in out and "in say ()" not in out


def test_step_and_next_without_line_information_finish_the_function(wat: Path) -> None:
    out = session(wat, "break fact if n == 4", "run", "next")
    assert "Single stepping until exit from function fact,\nwhich has no line number information." in out
    assert "in fact (n=5)" in out


def test_prefixes_aliases_errors_and_help(wat: Path) -> None:
    out = session(wat, "br fact", "r", "p n", "inf args", "s", "xyzzy", "help finish", "help")
    assert "$1 = 5" in out and "n = 5" in out
    assert 'Ambiguous command "s"' not in out
    assert 'Undefined command: "xyzzy".  Try "help".' in out
    assert "Run until the selected frame returns, and print the value it returned.\n" in out
    assert "finish -- Run until the selected frame returns" in out
    out = session(wat, "dis 1")
    assert 'Ambiguous command "dis": disable, disassemble, display.' in out


def test_repeat_on_enter(wat: Path) -> None:
    out = session(wat, "break main", "run", "stepi", stdin="\n\n", repeat=True)
    assert out.count(" in main ()\n") == 2 and out.count(" in fact (n=5)\n") == 2


def test_kill_and_rerun(wat: Path) -> None:
    out = session(wat, "break fact", "run", "kill", "info breakpoints", "run", "p n", "run", "c", "c")
    assert "[Inferior 1 (wasm) killed]" in out
    assert out.count("Breakpoint 1, ") == 5


def test_quit_ends_the_session(wat: Path) -> None:
    out = session(wat, "break fact", "run", stdin="quit\nprint 1\n")
    assert "$1" not in out


def test_run_debugger_batch_status_and_script(wat: Path, tmp_path: Path) -> None:
    script = tmp_path / "cmds"
    script.write_text("break div\nrun\nprint a\nprint nosuch\nprint b\n")
    out = io.StringIO()
    status = run_debugger(Program(wat), files=[str(script)], batch=True, stdout=out, stdin=io.StringIO(""),
                          interactive=False)
    text = out.getvalue()
    assert "$1 = 120\n" in text and 'No symbol "nosuch" in current context.' in text
    assert "$2" not in text  # an error ends a -x script, like gdb
    assert status == 1


def test_command_line_with_pipe_and_ex(wat: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "debug", "-ex", "break div", str(wat)],
        input="run\nprint a\ncontinue\n", capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Breakpoint 1 at 0x" in proc.stdout
    assert "in div (a=120, b=120)" in proc.stdout
    assert "$1 = 120" in proc.stdout
    assert "hi there\n" in proc.stdout
    assert proc.stdout.index("hi there") < proc.stdout.index("Breakpoint 1, ")


def test_invoke_an_export(capsys: pytest.CaptureFixture[str]) -> None:
    from wasmdbg.cli.main import main

    status = main(["debug", "--invoke", "fib", "--batch",
                   "-ex", "break fib", "-ex", "run", "-ex", "delete", "-ex", "continue", str(EXAMPLES / "hello.wasm"), "6"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Breakpoint 1, fib (n=6) at hello.c:19\n19\t    if (n < 2)\n" in out
    assert "[Inferior 1 (wasm) returned 8]" in out


def test_ctrl_c_pauses_a_running_guest(tmp_path: Path) -> None:
    import signal

    spin = tmp_path / "spin.wat"
    spin.write_text(
        """(module
             (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (data (i32.const 16) "go\\n")
             (func $spin (param $n i32) (local $i i32)
               loop local.get $i i32.const 1 i32.add local.set $i br 0 end)
             (func (export "_start")
               i32.const 0 i32.const 16 i32.store  i32.const 4 i32.const 3 i32.store
               i32.const 1 i32.const 0 i32.const 1 i32.const 8 call $w drop
               i32.const 3 call $spin))"""
    )
    proc = subprocess.Popen([sys.executable, "-m", "wasmdbg", "debug", str(spin)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("run\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "go\n"  # the guest runs: now interrupt it
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate("bt\nprint n\nquit\n", timeout=60)
    assert proc.returncode == 0, err
    assert "Program received signal SIGINT, Interrupt.\n" in out
    assert re.search(r"#0  0x[0-9a-f]{8} in spin \(n=3\)\n#1  0x[0-9a-f]{8} in _start \(\)\n", out)
    assert "$1 = 3\n" in out


def test_broken_dwarf_degrades_to_the_wasm_level_with_a_note(tmp_path: Path) -> None:
    import wasmtime

    binary = bytes(wasmtime.wat2wasm(WAT))
    name = b".debug_info"
    payload = bytes([len(name)]) + name + b"\x07\x00\x00\x00\x04\x00garbage"
    broken = tmp_path / "broken.wasm"
    broken.write_bytes(binary + b"\x00" + bytes([len(payload)]) + payload)
    out = session(broken, "break fact", "run", "bt 1", "list")
    assert out.startswith("warning: ") and "debugging at the Wasm level" in out.splitlines()[0]
    assert "Breakpoint 1, 0x" in out and "in fact (n=5)" in out
    assert "No symbol table is loaded." in out
