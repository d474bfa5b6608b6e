"""``wasmdbg run`` against the real ``wasmtime run``: stdout, stderr's first line, exit status.

Each case runs both commands with the same words in the same directory and
environment.  Traps are compared further: the cause (the report's last line)
and the function names of the backtrace frames.  Byte offsets of the
innermost frame are not compared: Cranelift may attribute a trap to the
branch that guards it (``br_if`` + ``unreachable`` become one conditional
trap), while wasmdbg reports the trapping instruction itself.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import wasmtime
from side_by_side import EXAMPLES, PROBE, TRAP_DIR, Clis, Result

_FRAME = re.compile(r"^\s+\d+:\s+(?:(0x[0-9a-f]+) - )?(\S+!.*)$")
_STEP = re.compile(r"^\s+\d+: (.*)$")


def _frames(err: str) -> list[str]:
    """The function names of the backtrace, innermost first."""
    return [m.group(2) for ln in err.splitlines() if (m := _FRAME.match(ln))]


def _call_sites(err: str) -> list[str | None]:
    """The offsets of the backtrace's outer frames (the calls), innermost first."""
    return [m.group(1) for ln in err.splitlines() if (m := _FRAME.match(ln))][1:]


def _cause(err: str) -> str:
    steps = [m.group(1) for ln in err.splitlines() if (m := _STEP.match(ln))]
    return steps[-1] if steps else ""


def _same(ours: Result, theirs: Result) -> None:
    assert (ours.status, ours.out, ours.first_err_line) == (theirs.status, theirs.out, theirs.first_err_line), (
        f"\n--- wasmdbg ---\n{ours.err}\n--- wasmtime ---\n{theirs.err}"
    )


TRAP_MODES = [[], ["recurse", "5"], ["recurse", "30"], ["oob"], ["divzero"], ["nullcall"], ["overflow"], ["abort"]]


@pytest.mark.parametrize("build", ["O0", "O2"])
@pytest.mark.parametrize("mode", TRAP_MODES, ids=lambda m: "-".join(m) or "default")
def test_trap_program(clis: Clis, build: str, mode: list[str]) -> None:
    argv = [f"trap.{build}.wasm", *mode]
    theirs = clis.wasmtime_run(*argv, cwd=TRAP_DIR)
    ours = clis.wasmdbg_run(*argv, cwd=TRAP_DIR)
    _same(ours, theirs)
    assert ours.status == 134
    assert ours.first_err_line == f"Error: failed to run main module `trap.{build}.wasm`"
    assert ours.err.splitlines()[:5] == theirs.err.splitlines()[:5]  # down to "1: error while executing"
    assert _cause(ours.err) == _cause(theirs.err)
    assert _frames(ours.err) == _frames(theirs.err)  # both list 20 frames at most
    assert _call_sites(ours.err) == _call_sites(theirs.err)
    assert len(_frames(ours.err)) <= 20
    assert "Traceback" not in ours.err


def test_deep_recursion_counts_the_frames_left_out(clis: Clis) -> None:
    ours = clis.wasmdbg_run("trap.O0.wasm", "recurse", "1000", cwd=TRAP_DIR)
    assert ours.status == 134
    assert ours.out == "trap: recursing 1000 calls deep\n"
    # recurse(1000) .. recurse(0), main, __main_void, __original_main, _start, _start.command_export
    assert "      ... 986 more frames" in ours.err.splitlines()
    assert len(ours.err.splitlines()) < 60  # 20 frames, each with its `at FILE:LINE:COL` line


def test_unknown_mode_is_the_guests_own_error(clis: Clis) -> None:
    argv = ["trap.O2.wasm", "bogus"]
    _same(clis.wasmdbg_run(*argv, cwd=TRAP_DIR), clis.wasmtime_run(*argv, cwd=TRAP_DIR))


@pytest.mark.parametrize(
    "argv",
    [
        ["primes.wasm"],
        ["primes.wasm", "20"],
        ["primes.wasm", "-1"],
        ["primes.wasm", "--", "-1"],  # `--` after the module is the guest's
        ["--", "primes.wasm", "-1"],  # `--` before it ends the options
        ["primes.wasm", "--help"],
        ["primes.wasm", "--invoke", "fib"],
        ["--invoke", "fib", "hello.wasm", "20"],
        ["--invoke", "gcd", "hello.wasm", "1071", "462"],
        ["--invoke=fib", "hello.wasm", "10"],
        ["hello.wasm"],  # no _start: runs nothing
        ["--invoke", "fib", "hello.wasm", "20", "extra"],  # extra words are only argv
        ["--invoke", "_start", "primes.wasm", "7"],
        ["--argv0", "other", "primes.wasm", "5"],
    ],
    ids=" ".join,
)
def test_examples(clis: Clis, argv: list[str]) -> None:
    _same(clis.wasmdbg_run(*argv, cwd=EXAMPLES), clis.wasmtime_run(*argv, cwd=EXAMPLES))


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("probe")
    shutil.copyfile(PROBE, d / "probe.wasm")
    return d


@pytest.mark.parametrize(
    "argv",
    [
        ["probe.wasm", "args", "a b", "--", "--help", "-x", ""],
        ["--argv0", "zz", "probe.wasm", "args"],
        ["--invoke", "_start", "probe.wasm", "args", "x"],
        ["probe.wasm", "env"],  # nothing leaks in from the host
        ["--env", "HOST_ONLY", "probe.wasm", "env"],
        ["--env", "MISSING_ON_HOST", "probe.wasm", "env"],
        ["--env", "A=1", "--env=B=x=y", "--env", "C=", "probe.wasm", "env"],
        ["--env", "A=1", "--env", "A=2", "--env", "HOST_ONLY", "probe.wasm", "env"],
        ["--invoke", "add", "probe.wasm", "2", "40"],
        ["--invoke", "wide", "probe.wasm", "-4611686018427387904"],
        ["--invoke", "half", "probe.wasm", "0.1"],
        ["--invoke", "scale", "probe.wasm", "0.1"],
    ],
    ids=" ".join,
)
def test_probe(clis: Clis, probe_dir: Path, argv: list[str]) -> None:
    env = {"HOST_ONLY": "from the host", "SECRET": "must not leak"}
    _same(clis.wasmdbg_run(*argv, cwd=probe_dir, env=env), clis.wasmtime_run(*argv, cwd=probe_dir, env=env))


@pytest.mark.parametrize("code", ["0", "1", "2", "125", "126", "127", "128", "255", "256", "257", "-1", "0x7fffffff"])
def test_exit_status(clis: Clis, probe_dir: Path, code: str) -> None:
    argv = ["probe.wasm", "exit", code]
    ours = clis.wasmdbg_run(*argv, cwd=probe_dir)
    theirs = clis.wasmtime_run(*argv, cwd=probe_dir)
    _same(ours, theirs)
    if int(code, 0) in range(126):
        assert ours.status == int(code, 0) and ours.err == ""
    else:
        assert ours.status == 1  # never success, never a fake signal status
        assert _cause(ours.err) == _cause(theirs.err) == "exit with invalid exit status outside of [0..126)"
        assert _frames(ours.err) == _frames(theirs.err)


TYPES_WAT = """(module
  (func $i32 (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0)
  (func (export "mixed") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "none"))
  (func (export "ext") (param externref))
  (func (export "nullfunc") (result funcref) ref.null func)
  (func (export "somefunc") (result funcref) ref.func $i32)
  (func (export "nullext") (result externref) ref.null extern)
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (elem declare func $i32))"""

VALUE_CASES = [
    ("i32", "0"), ("i32", "-1"), ("i32", "+7"), ("i32", "010"), ("i32", "2147483647"), ("i32", "-2147483648"),
    ("i32", "2147483648"), ("i32", "4294967295"), ("i32", "-2147483649"), ("i32", "0x10"), ("i32", "0XfF"),
    ("i32", "0x7fffffff"), ("i32", "0x80000000"), ("i32", "0xffffffff"), ("i32", "0x-1"), ("i32", "-0x1"),
    ("i32", "0x"), ("i32", "1_000"), ("i32", " 5"), ("i32", "1e3"), ("i32", "0b11"), ("i32", "abc"),
    ("i32", "\u0663"), ("i32", ""), ("i32", "-"),
    ("i64", "9223372036854775807"), ("i64", "9223372036854775808"), ("i64", "-9223372036854775808"),
    ("i64", "0x7fffffffffffffff"), ("i64", "0xffffffffffffffff"), ("i64", "-0"),
    ("f32", "1.5"), ("f32", "0.1"), ("f32", "-0"), ("f32", "1e40"), ("f32", "1e-50"), ("f32", "1e-45"),
    ("f32", "3.4028235e38"), ("f32", "16777217"), ("f32", "0.30000001192092896"), ("f32", ".5"), ("f32", "5."),
    ("f32", "+1.5"), ("f32", "1e+5"), ("f32", "inf"), ("f32", "-Infinity"), ("f32", "nan"), ("f32", "-NaN"),
    ("f32", "0x10"), ("f32", "1_0"), ("f32", "e5"), ("f32", "1e"), ("f32", "."), ("f32", "abc"),
    ("f32", "1.00000005960464477539062500000000001"),  # just above a tie: rounds up, not to even
    ("f64", "0.1"), ("f64", "1e300"), ("f64", "1e400"), ("f64", "5e-324"), ("f64", "123456789012345678"),
    ("f64", "1.7976931348623157e308"), ("f64", "2.5e-308"), ("f64", "1E5"), ("f64", "-0.0"),
]


@pytest.fixture(scope="module")
def types_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("types") / "types.wasm"
    path.write_bytes(wasmtime.wat2wasm(TYPES_WAT))
    return path


@pytest.mark.parametrize(("func", "text"), VALUE_CASES, ids=[f"{f}:{t!r}" for f, t in VALUE_CASES])
def test_invoke_values(clis: Clis, types_wasm: Path, func: str, text: str) -> None:
    argv = ["--invoke", func, types_wasm.name, text]
    ours = clis.wasmdbg_run(*argv, cwd=types_wasm.parent)
    theirs = clis.wasmtime_run(*argv, cwd=types_wasm.parent)
    assert (ours.status, ours.out) == (theirs.status, theirs.out), ours.err
    if ours.status:
        assert len(ours.err.splitlines()) == 1 and "not a valid" in ours.err


@pytest.mark.parametrize(
    "argv",
    [
        ["mixed", "-3", "0x10", "2.5", "1e-7"],
        ["none"],
        ["nullfunc"],
        ["somefunc"],
        ["nullext"],
        ["i32"],  # not enough arguments
        ["ext", "1"],  # no reference from the command line
        ["nope"],
        ["div", "7", "0"],  # traps: the report and 134
        ["div", "-2147483648", "-1"],
    ],
    ids=" ".join,
)
def test_invoke_results_and_errors(clis: Clis, types_wasm: Path, argv: list[str]) -> None:
    words = ["--invoke", argv[0], types_wasm.name, *argv[1:]]
    ours = clis.wasmdbg_run(*words, cwd=types_wasm.parent)
    theirs = clis.wasmtime_run(*words, cwd=types_wasm.parent)
    assert (ours.status, ours.out) == (theirs.status, theirs.out), ours.err
    if ours.status == 134:
        assert ours.first_err_line == theirs.first_err_line
        assert _cause(ours.err) == _cause(theirs.err)
        step = f"    0: failed to invoke `{argv[0]}`"
        assert step in ours.err.splitlines() and step in theirs.err.splitlines()


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["missing.wasm"], 1),
        (["junk.wasm"], 1),
        (["truncated.wasm"], 1),
        (["."], 1),
        (["--dir", "no-such-dir", "probe.wasm"], 1),
        (["--bogus", "probe.wasm"], 2),
        ([], 2),
        (["--invoke"], 2),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_bad_input_status_matches_and_ours_is_one_line(
    clis: Clis, probe_dir: Path, argv: list[str], status: int
) -> None:
    (probe_dir / "junk.wasm").write_bytes(b"\0asm\x01\0\0\0\x7f")
    (probe_dir / "truncated.wasm").write_bytes(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00\x01")
    ours = clis.wasmdbg_run(*argv, cwd=probe_dir)
    theirs = clis.wasmtime_run(*argv, cwd=probe_dir)
    assert ours.status == theirs.status == status
    assert ours.out == ""
    assert len(ours.err.splitlines()) == 1, ours.err
    assert "Traceback" not in ours.err


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    shutil.copyfile(PROBE, root / "probe.wasm")
    (root / "top.txt").write_text("top\n")
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "sub" / "f.txt").write_text("deep\n")
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["--dir", ".", "probe.wasm", "cat", "top.txt"],
        ["--dir=.::/", "probe.wasm", "cat", "/top.txt"],
        ["--dir", "d::/g", "probe.wasm", "cat", "/g/sub/f.txt"],
        ["--dir", "d/sub::.", "probe.wasm", "cat", "f.txt"],
        ["--dir", "d", "probe.wasm", "cat", "d/sub/f.txt"],
        ["--dir", "d::/g", "--dir", "d/sub::/h", "probe.wasm", "cat", "/h/f.txt"],
        ["--dir", "d::/g", "probe.wasm", "cat", "/g/../top.txt"],  # no way out of the preopen
        ["probe.wasm", "cat", "top.txt"],  # no --dir: no files at all
    ],
    ids=" ".join,
)
def test_dir(clis: Clis, tree: Path, argv: list[str]) -> None:
    _same(clis.wasmdbg_run(*argv, cwd=tree), clis.wasmtime_run(*argv, cwd=tree))


@pytest.mark.parametrize(
    ("wat", "status"),
    [
        ('(module (import "env" "foo" (func)) (func (export "_start")))', 1),  # unknown import
        ("(module (func $s unreachable) (start $s))", 134),  # the start function traps
        ('(module (memory (export "memory") 1) (func (export "_start") i32.const -1 i32.load drop))', 134),
    ],
)
def test_instantiation_and_start(clis: Clis, tmp_path: Path, wat: str, status: int) -> None:
    (tmp_path / "m.wasm").write_bytes(wasmtime.wat2wasm(wat))
    ours = clis.wasmdbg_run("m.wasm", cwd=tmp_path)
    theirs = clis.wasmtime_run("m.wasm", cwd=tmp_path)
    assert (ours.status, ours.first_err_line.split(": ")[:2]) == (status, theirs.first_err_line.split(": ")[:2])
    assert _cause(ours.err) == _cause(theirs.err) or status == 1
    assert "Traceback" not in ours.err
