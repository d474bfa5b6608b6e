"""The ``wasmdbg`` command: exit codes, output and messages for good and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

from wasmdbg.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "wasmdbg" / "examples"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def trap_wat(tmp_path: Path) -> Path:
    path = tmp_path / "trap.wat"
    path.write_text(
        """(module
             (func $div (export "div") (param i32 i32) (result i32)
               local.get 0 local.get 1 i32.div_s)
             (func (export "outer") (result i32) i32.const 7 i32.const 0 call $div))"""
    )
    return path


def test_validate_accepts_a_valid_module(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", str(EXAMPLES / "hello.wasm"))
    assert status == 0
    assert out.strip().endswith("hello.wasm: valid")


def test_validate_reports_file_offset_and_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00\x01")  # truncated type section
    status, _, err = run(capsys, "validate", str(bad))
    assert status == 1
    assert err.startswith(f"{bad}:0x")
    invalid = tmp_path / "invalid.wasm"
    invalid.write_bytes(wasmtime.wat2wasm("(module (func (result i32) i64.const 0))"))
    status, _, err = run(capsys, "validate", str(invalid))
    assert status == 1
    assert "type mismatch" in err


def test_describe_lists_exports_and_sections(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "describe", str(EXAMPLES / "hello.wasm"))
    assert status == 0
    assert "export fib: func" in out
    assert "custom section '.debug_info'" in out


def test_run_invokes_an_export_with_typed_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    hello = str(EXAMPLES / "hello.wasm")
    assert run(capsys, "run", "--invoke", "fib", hello, "20")[:2] == (0, "6765\n")
    assert run(capsys, "run", "--invoke=gcd", hello, "12", "18")[:2] == (0, "6\n")


def test_words_after_the_module_belong_to_the_guest(capsys: pytest.CaptureFixture[str]) -> None:
    # hello.wasm has no _start: like wasmtime, `run` then runs nothing; `--invoke fib 20`
    # after the module is the guest's argv, not an option
    assert run(capsys, "run", str(EXAMPLES / "hello.wasm"), "--invoke", "fib", "20") == (0, "", "")


def test_run_wasi_program_like_wasmtime_run() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(EXAMPLES / "primes.wasm"), "20"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "primes below 20: 2 3 5 7 11 13 17 19\n8 primes\n"
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", "--", str(EXAMPLES / "primes.wasm"), "-1"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 2  # the guest's own exit status
    assert "N must be between" in proc.stderr


def test_run_trap_prints_backtrace_and_fails(capsys: pytest.CaptureFixture[str], trap_wat: Path) -> None:
    status, _, err = run(capsys, "run", "--invoke", "outer", str(trap_wat))
    assert status == 134  # 128 + SIGABRT, as wasmtime
    assert err.splitlines()[0] == f"Error: failed to run main module `{trap_wat}`"
    assert "    0: failed to invoke `outer`" in err
    assert "integer divide by zero" in err
    assert "!div" in err  # the backtrace names the trapping function


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--invoke", "fib", "{hello}", "x"], "argument 1 of `fib` is 'x', not a valid i32"),
        (["run", "--invoke", "fib", "{hello}", "4294967296"], "number too large to fit in i32"),
        (["run", "--invoke", "fib", "{hello}", "-2147483649"], "number too small to fit in i32"),
        (["run", "--invoke", "fib", "{hello}"], "not enough arguments for `fib`: it takes 1 argument (i32), got 0"),
        (["run", "--invoke", "nope", "{hello}"], "no func export named `nope` found"),
        (["run", "/nonexistent.wasm"], 'failed to open wasm module "/nonexistent.wasm": No such file'),
        (["run", "{bad}"], "failed to parse WebAssembly module"),
        (["run", "{examples}"], "Is a directory"),
        (["run", "--dir", "/nonexistent", "{hello}"], "failed to open directory `/nonexistent` for --dir"),
        (["run", "--dir", "{hello}", "{hello}"], "Not a directory"),
        (["validate", "/nonexistent.wasm"], "No such file"),
    ],
)
def test_bad_input_gives_one_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00\x01")
    names = {"{hello}": str(EXAMPLES / "hello.wasm"), "{bad}": str(bad), "{examples}": str(EXAMPLES)}
    status, out, err = run(capsys, *[names.get(a, a) for a in argv])
    assert status == 1
    assert out == ""
    assert message in err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run"], "required: MODULE"),
        (["run", "--bogus", "x.wasm"], "unrecognized arguments: --bogus"),
        (["run", "--invoke"], "expected one argument"),
        (["run", "--dir", "a::", "x.wasm"], "invalid --dir 'a::'"),
        (["run", "--env", "=1", "x.wasm"], "invalid --env '=1'"),
        (["run", "--inv", "f", "x.wasm"], "unrecognized arguments: --inv"),  # no abbreviations
    ],
)
def test_bad_run_command_line_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert message in err
    assert len(err.splitlines()) == 1, err


def test_run_help_lists_the_wasmtime_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--dir HOST[::GUEST]", "--env NAME[=VAL]", "--invoke NAME", "--argv0 NAME"):
        assert flag in out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "x.wasm", "--bogus"])
    assert exc.value.code == 2
