"""`wasmdbg run -g [ADDR:]PORT` / `--gdb-port=PORT`, and the listen-address syntax."""

from __future__ import annotations

import subprocess
import sys

import pytest
from harness import PROGRAMS, Server, _env
from test_robustness import Client, finish_by_kill

from wasmdbg.cli.main import _lldb_launcher_words
from wasmdbg.errors import DebugError
from wasmdbg.gdbstub.server import parse_listen_address


def test_parse_listen_address() -> None:
    assert parse_listen_address("1234") == ("127.0.0.1", 1234)
    assert parse_listen_address("0.0.0.0:1234") == ("0.0.0.0", 1234)
    assert parse_listen_address("localhost:0") == ("localhost", 0)
    assert parse_listen_address("[::1]:99") == ("::1", 99)
    assert parse_listen_address(":7") == ("127.0.0.1", 7)
    for bad in ("", "host:", "x", "1:65536", "1:-1", "1:0x10"):
        with pytest.raises(DebugError):
            parse_listen_address(bad)


def test_lldb_launcher_word_order() -> None:
    assert _lldb_launcher_words(["--gdb-port=5", "/p.wasm", "a"]) == ["run", "--gdb-port=5", "/p.wasm", "a"]
    assert _lldb_launcher_words(["--gdb-port=5", "run", "/p.wasm"]) == ["run", "--gdb-port=5", "/p.wasm"]
    assert _lldb_launcher_words(["run", "-g", "5", "p.wasm"]) == ["run", "-g", "5", "p.wasm"]


@pytest.mark.parametrize(
    "words",
    [
        ["run", "-g", "0"],
        ["run", "--gdb-port=0"],
        ["--gdb-port=0"],  # LLDB's launcher: port argument first
    ],
)
def test_every_spelling_listens_on_localhost(words: list[str]) -> None:
    server = Server("demo.O0.wasm", options=words)
    client = Client(server.port)
    assert client.sock.getpeername()[0] == "127.0.0.1"
    assert client.ask("qC") == "QC1"
    finish_by_kill(client, server)


def run_cli(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmdbg", *words], capture_output=True, text=True,
        env=_env(), timeout=60, stdin=subprocess.DEVNULL,
    )


def test_bad_port_and_invoke_are_usage_errors() -> None:
    program = str(PROGRAMS / "demo.O0.wasm")
    bad = run_cli("run", "-g", "nope", program)
    assert bad.returncode == 2 and "bad port" in bad.stderr and "Traceback" not in bad.stderr
    invoke = run_cli("run", "-g", "0", "--invoke", "fact", program, "3")
    assert invoke.returncode == 2 and "--invoke" in invoke.stderr
