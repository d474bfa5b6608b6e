"""Ctrl-C during ``wasmdbg run``, compared with ``wasmtime run``.

The probe guest prints ``spinning`` and then busy-loops; SIGINT is sent as
soon as that line arrives, so it lands while compiled code runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from side_by_side import PROBE, Clis

LONG = "2000000000"  # far longer than any test waits: only an interrupt ends it early
SHORT = "300000000"  # about a second: long enough for the signal to land in the loop


def _spin_and_interrupt(cmd: list[str], rounds: str, *, ignore_sigint: bool) -> tuple[int, str]:
    def child_setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else signal.SIG_DFL)

    env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
    with subprocess.Popen(
        [*cmd, str(PROBE), "spin", rounds], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=child_setup, env=env,
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == b"spinning\n", proc.stderr.read() if proc.stderr else b""
        proc.send_signal(signal.SIGINT)
        try:
            rest, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"{cmd[0]} did not stop after SIGINT")
    assert b"Traceback" not in err, err.decode(errors="replace")
    return proc.returncode, (first + rest).decode()


def _ours() -> list[str]:
    return [sys.executable, "-m", "wasmdbg", "run"]


def test_ctrl_c_ends_the_run_as_it_ends_wasmtime(clis: Clis) -> None:
    theirs = _spin_and_interrupt([str(clis.wasmtime), "run"], LONG, ignore_sigint=False)
    ours = _spin_and_interrupt(_ours(), LONG, ignore_sigint=False)
    assert theirs == (-signal.SIGINT, "spinning\n")
    assert ours == theirs  # killed by SIGINT, so a calling shell sees Ctrl-C


def test_an_ignored_sigint_does_not_interrupt_the_guest(clis: Clis) -> None:
    # as under `nohup`, `trap '' INT` or a background job of a script
    theirs = _spin_and_interrupt([str(clis.wasmtime), "run"], SHORT, ignore_sigint=True)
    ours = _spin_and_interrupt(_ours(), SHORT, ignore_sigint=True)
    assert theirs == (0, "spinning\ndone\n")
    assert ours == theirs


def test_in_process_interrupt_returns_130() -> None:
    """Called as a function (not as the command), main() reports Ctrl-C with a status instead of dying."""
    import threading

    from wasmdbg.cli.run import EXIT_INTERRUPTED, RunOptions, run

    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        status = run(RunOptions(module=str(PROBE), args=("spin", LONG)))
    finally:
        timer.cancel()
    assert status == EXIT_INTERRUPTED == 130
