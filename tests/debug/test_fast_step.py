"""``next`` / ``until`` by source line run as one continue (internal breakpoints),
and stop where stepping instruction by instruction would: checked on
benchmarks/programs/steploop.c (a 100,000-iteration loop on one line, a call
that loops) and on recursion (a deeper frame of the same function runs through).
"""

from __future__ import annotations

import io
from pathlib import Path

from wasmdbg.cli.repl import Program, Repl

ROOT = Path(__file__).resolve().parents[2]
STEPLOOP = ROOT / "benchmarks" / "programs" / "steploop.wasm"
SOURCE = STEPLOOP.with_suffix(".c")


def _line(marker: str) -> int:
    return next(i for i, t in enumerate(SOURCE.read_text().splitlines(), 1) if marker in t)


def _session(commands: list[str]) -> tuple[Repl, str]:
    out = io.StringIO()
    repl = Repl(Program(STEPLOOP), stdin=io.StringIO(""), stdout=out, interactive=False)
    repl.run_commands(commands)
    return repl, out.getvalue()


def test_next_over_a_looping_line_and_a_call() -> None:
    loop, call, after = _line("next over this"), _line("and this"), _line("printf")
    repl, text = _session([f"break steploop.c:{loop}", "run", "next", "print total", "next", "print total"])
    try:
        lines = text.splitlines()
        assert lines[-4].startswith(f"{call}\t") and lines[-2].startswith(f"{after}\t")
        # the loop ran all 100,000 times: the values the program computes
        assert lines[-3] == "$1 = 3710737283" and lines[-1] == "$2 = 1638498003"
        # the internal breakpoints are gone: only the user's remains
        session = repl.dbg.session
        assert session is not None and [bp.number for bp in session.breakpoints] == [
            p.number for bp in repl.dbg.breakpoints for p in bp.installed
        ]
    finally:
        repl.dbg.kill()


def test_until_and_next_out_of_a_function_return_to_the_caller() -> None:
    hot, after = _line("the hot line"), _line("printf")
    repl, text = _session([f"break steploop.c:{hot}", "run", "until", "next", "next"])
    try:
        lines = text.splitlines()
        # until leaves the loop for `return acc;`; next returns to main mid-line
        # and runs on to main's next line start, as instruction steps do.
        assert lines[-6].startswith(f"{hot}\t") and lines[-5].startswith(f"{hot + 1}\t")
        assert lines[-4] == f"main () at steploop.c:{after}" and lines[-3].startswith(f"{after}\t")
        assert lines[-2] == "1638498003" and lines[-1].startswith(f"{after + 1}\t")
    finally:
        repl.dbg.kill()


def test_next_in_recursion_runs_through_deeper_frames() -> None:
    # recursion.c's fib calls itself: next over the recursive line stays in this frame.
    program = ROOT / "tests" / "programs" / "c" / "recursion.O0.wasm"
    src = (program.parent / "recursion.c").read_text().splitlines()
    line = next(i for i, t in enumerate(src, 1) if "fib(n - 1)" in t)
    out = io.StringIO()
    repl = Repl(Program(program), stdin=io.StringIO(""), stdout=out, interactive=False)
    try:
        repl.run_commands([f"tbreak recursion.c:{line}", "run", "print n", "next", "print n", "backtrace"])
        text = out.getvalue().splitlines()
        values = [t for t in text if t.startswith("$")]
        frames = [t for t in text if t.startswith("#")]
        # the same frame (same n), at the next line, with the same depth of fib frames
        assert values[0][5:] == values[1][5:]
        assert any(t.startswith(f"{line + 1}\t") for t in text)
        assert frames[0].startswith("#0  fib (n=") and f"recursion.c:{line + 1}" in frames[0]
    finally:
        repl.dbg.kill()
