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
    assert run(capsys, "run", str(EXAMPLES / "hello.wasm"), "--invoke", "fib", "20")[:2] == (0, "6765\n")
    assert run(capsys, "run", "--invoke", "gcd", str(EXAMPLES / "hello.wasm"), "12", "18")[:2] == (0, "6\n")


def test_run_wasi_program_like_wasmtime_run() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(EXAMPLES / "primes.wasm"), "20"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "primes below 20: 2 3 5 7 11 13 17 19\n8 primes\n"
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "run", str(EXAMPLES / "primes.wasm"), "--", "-1"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 2  # the guest's own exit status
    assert "N must be between" in proc.stderr


def test_run_trap_prints_backtrace_and_fails(capsys: pytest.CaptureFixture[str], trap_wat: Path) -> None:
    status, _, err = run(capsys, "run", str(trap_wat), "--invoke", "outer")
    assert status != 0
    assert "integer divide by zero" in err
    assert "div" in err  # the backtrace names the trapping function


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "{hello}", "--invoke", "fib", "x"], "not a valid i32"),
        (["run", "{hello}", "--invoke", "fib"], "takes 1 arguments"),
        (["run", "{hello}", "--invoke", "nope"], "no exported function"),
        (["run", "{hello}"], "no _start"),
        (["run", "/nonexistent.wasm"], "No such file"),
        (["validate", "/nonexistent.wasm"], "No such file"),
    ],
)
def test_bad_input_gives_one_clear_error(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    argv = [a.replace("{hello}", str(EXAMPLES / "hello.wasm")) for a in argv]
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert message in err
    assert "Traceback" not in err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "x.wasm", "--bogus"])
    assert exc.value.code == 2
