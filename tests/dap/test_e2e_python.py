"""End to end: a Python DAP client drives ``python -m wasmdbg dap`` over a real C program."""

from __future__ import annotations

import base64
import io
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dapclient import POINTS, PROGRAMS, TIMEOUT, Client

from wasmdbg.dap.adapter import CAPABILITIES
from wasmdbg.dap.framing import MessageReader, encode


@pytest.fixture
def client() -> Iterator[Client]:
    c = Client()
    try:
        yield c
    finally:
        c.close()


def _top(c: Client) -> dict[str, Any]:
    return c.request("stackTrace", {"threadId": 1})["body"]["stackFrames"][0]


def _scope(c: Client, name: str, frame_id: int = 1) -> list[dict[str, Any]]:
    scopes = c.request("scopes", {"frameId": frame_id})["body"]["scopes"]
    (scope,) = [s for s in scopes if s["name"] == name]
    return c.request("variables", {"variablesReference": scope["variablesReference"]})["body"]["variables"]


def _local(c: Client, name: str, frame_id: int = 1) -> str:
    (var,) = [v for v in _scope(c, "Wasm locals", frame_id) if v["name"] == name]
    return str(var["value"])


def _finish(c: Client) -> int:
    code = int(c.event("exited")["body"]["exitCode"])
    c.event("terminated")
    return code


def test_initialize_is_honest(client: Client) -> None:
    caps = client.request("initialize", {"adapterID": "wasmdbg"})["body"]
    assert caps == CAPABILITIES
    for key in ("supportsInstructionBreakpoints", "supportsDisassembleRequest", "supportsReadMemoryRequest",
                "supportsLogPoints", "supportsHitConditionalBreakpoints", "supportsSteppingGranularity"):
        assert caps[key] is True
    assert {f["filter"] for f in caps["exceptionBreakpointFilters"]} == {"traps", "hostErrors"}


def test_run_to_exit_with_output(client: Client) -> None:
    client.start("sum")
    client.request("configurationDone")
    assert _finish(client) == 0
    assert client.output("stdout") == "total 47\n"


def test_exit_code(client: Client) -> None:
    client.start("exit")
    client.request("configurationDone")
    assert _finish(client) == 7


def test_stop_on_entry_then_function_breakpoint(client: Client) -> None:
    client.start("sum", stop_on_entry=True)
    bps = client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square"}]})["body"]["breakpoints"]
    assert bps[0]["verified"] and bps[0]["id"] >= 1
    client.request("configurationDone")
    assert client.event("stopped")["body"]["reason"] == "entry"
    client.request("continue", {"threadId": 1})
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "function breakpoint"
    assert stopped["hitBreakpointIds"] == [bps[0]["id"]]
    trace = client.request("stackTrace", {"threadId": 1})["body"]
    names = [f["name"].split(" @ ")[0] for f in trace["stackFrames"]]
    assert names[:3] == ["square", "sum_points", "main"]
    assert trace["totalFrames"] == len(trace["stackFrames"])
    top = trace["stackFrames"][0]
    assert top["instructionPointerReference"] == bps[0]["instructionReference"]
    assert _local(client, "$local0") == "1"
    assert client.request("threads")["body"]["threads"] == [{"id": 1, "name": "main"}]


def test_conditional_breakpoint(client: Client) -> None:
    client.start("sum")
    client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square", "condition": "v == 3"}]})
    client.request("configurationDone")
    client.event("stopped")
    assert _local(client, "$local0") == "3"
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


@pytest.mark.parametrize(
    ("hit", "stops"),
    [("2", ["3"]), ("==3", ["5"]), (">1", ["3", "5"]), (">=1", ["1", "3", "5"]), ("%3", ["5"]), ("<2", ["1"])],
)
def test_hit_condition(client: Client, hit: str, stops: list[str]) -> None:
    client.start("sum")
    client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square", "hitCondition": hit}]})
    client.request("configurationDone")
    seen = []
    for _ in stops:
        client.event("stopped")
        seen.append(_local(client, "$local0"))
        client.request("continue", {"threadId": 1})
    assert seen == stops
    assert _finish(client) == 0


def test_bad_hit_condition_is_unverified(client: Client) -> None:
    client.start("sum")
    bps = client.request(
        "setFunctionBreakpoints", {"breakpoints": [{"name": "square", "hitCondition": "often"}]}
    )["body"]["breakpoints"]
    assert bps[0]["verified"] is False and "hit condition" in bps[0]["message"]


def test_logpoint_prints_without_stopping(client: Client) -> None:
    client.start("sum")
    client.request(
        "setFunctionBreakpoints",
        {"breakpoints": [{"name": "square", "logMessage": "square({v}) {{x}} {v * 2}"}]},
    )
    client.request("configurationDone")
    assert _finish(client) == 0
    assert not [e for e in client.events if e["event"] == "stopped"]
    assert client.output("console") == "square(1) {x} 2\nsquare(3) {x} 6\nsquare(5) {x} 10\n"


def _disassemble(c: Client, ref: str, count: int = 40) -> list[dict[str, Any]]:
    return c.request(
        "disassemble", {"memoryReference": ref, "instructionOffset": 0, "instructionCount": count}
    )["body"]["instructions"]


def test_instruction_breakpoint_and_disassembly(client: Client) -> None:
    client.start("sum")
    bps = client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square"}]})["body"]["breakpoints"]
    entry = bps[0]["instructionReference"]
    listing = _disassemble(client, entry)
    assert listing[0]["address"] == entry and listing[0]["symbol"] == "square"
    (mul,) = [i for i in listing if i["instruction"] == "i32.mul"]
    client.request("setFunctionBreakpoints", {"breakpoints": []})
    ibps = client.request(
        "setInstructionBreakpoints", {"breakpoints": [{"instructionReference": mul["address"]}]}
    )["body"]["breakpoints"]
    assert ibps[0]["verified"] and ibps[0]["instructionReference"] == mul["address"]
    client.request("configurationDone")
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "instruction breakpoint" and stopped["hitBreakpointIds"] == [ibps[0]["id"]]
    assert _top(client)["instructionPointerReference"] == mul["address"]
    stack = _scope(client, "Wasm operand stack")
    assert [v["value"] for v in stack][-2:] == ["1", "1"]  # v * v with v = 1 (-O0 keeps the frame base below)
    # windows before the first instruction come back marked invalid, always `count` long
    before = client.request(
        "disassemble", {"memoryReference": "0x0", "instructionOffset": -3, "instructionCount": 5}
    )["body"]["instructions"]
    assert len(before) == 5 and before[0]["presentationHint"] == "invalid"
    client.request("setInstructionBreakpoints", {"breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_step_in_over_out_by_instruction(client: Client) -> None:
    client.start("sum")
    bps = client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "sum_points"}]})["body"]["breakpoints"]
    listing = _disassemble(client, bps[0]["instructionReference"], 200)
    calls = [i for i in listing if i["instruction"].startswith("call ") and i["symbol"] == "sum_points"]
    call = calls[0]
    after = listing[listing.index(call) + 1]
    client.request("setFunctionBreakpoints", {"breakpoints": []})
    client.request("setInstructionBreakpoints", {"breakpoints": [{"instructionReference": call["address"]}]})
    client.request("configurationDone")
    client.event("stopped")
    # next over the call: the next instruction of sum_points
    client.request("next", {"threadId": 1, "granularity": "instruction"})
    assert client.event("stopped")["body"]["reason"] == "step"
    top = _top(client)
    assert top["name"].startswith("sum_points") and top["instructionPointerReference"] == after["address"]
    # the second iteration's call: step into square, then out again
    client.request("continue", {"threadId": 1})
    client.event("stopped")
    client.request("stepIn", {"threadId": 1, "granularity": "instruction"})
    client.event("stopped")
    assert _top(client)["name"].startswith("square")
    assert _local(client, "$local0") == "3"
    client.request("stepOut", {"threadId": 1, "granularity": "instruction"})
    client.event("stopped")
    top = _top(client)
    assert top["name"].startswith("sum_points") and top["instructionPointerReference"] == after["address"]
    client.request("setInstructionBreakpoints", {"breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_set_variable_changes_the_result(client: Client) -> None:
    client.start("sum")
    client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square", "hitCondition": "1"}]})
    client.request("configurationDone")
    client.event("stopped")
    scopes = {s["name"]: s for s in client.request("scopes", {"frameId": 1})["body"]["scopes"]}
    args = scopes["Arguments"]["variablesReference"]
    resp = client.request("setVariable", {"variablesReference": args, "name": "v", "value": "10"})
    assert resp["body"]["value"] == "10"
    assert client.request("evaluate", {"expression": "v + 1", "frameId": 1, "context": "watch"})["body"]["result"] == "11"
    wasm = scopes["Wasm locals"]["variablesReference"]
    resp = client.request("setVariable", {"variablesReference": wasm, "name": "$local0", "value": "0x7"})
    assert resp["body"]["value"] == "7"
    assert client.request("evaluate", {"expression": "$local0", "frameId": 1})["body"]["result"] == "7"
    bad = client.request("setVariable", {"variablesReference": wasm, "name": "$local0", "value": "ten"}, ok=False)
    assert "not a i32 value" in bad["message"]
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 1  # total 100 + 2 + 9 + 4 + 25 + 6 = 146, not 47
    assert client.output("stdout") == "total 146\n"


def test_trap_is_an_exception_stop(client: Client) -> None:
    client.start("trap")
    client.request("setExceptionBreakpoints", {"filters": ["traps"]})
    client.request("configurationDone")
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "exception"
    assert "divide by zero" in stopped["description"]
    info = client.request("exceptionInfo", {"threadId": 1})["body"]
    assert info["exceptionId"] == "trap" and "divide by zero" in info["description"]
    assert _top(client)["name"].startswith("main")
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 134
    assert client.output("stdout") == "about to trap\n"
    assert "divide by zero" in client.output("stderr")


def test_trap_without_the_filter_does_not_stop(client: Client) -> None:
    client.start("trap")
    client.request("setExceptionBreakpoints", {"filters": []})
    client.request("configurationDone")
    assert _finish(client) == 134
    assert not [e for e in client.events if e["event"] == "stopped"]


def test_memory_read_and_write(client: Client) -> None:
    client.start("show")
    client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "show"}]})
    client.request("configurationDone")
    client.event("stopped")
    address = int(_local(client, "$local0"))
    read = client.request("readMemory", {"memoryReference": hex(address), "count": 12})["body"]
    assert base64.b64decode(read["data"]) == b"hello, world"
    assert read["address"] == hex(address) and read["unreadableBytes"] == 0
    wrote = client.request(
        "writeMemory", {"memoryReference": hex(address), "offset": 0, "data": base64.b64encode(b"HELLO").decode()}
    )["body"]
    assert wrote["bytesWritten"] == 5
    # past the end of memory: fewer bytes, the rest unreadable
    edge = client.request("readMemory", {"memoryReference": "0x7fffffff", "count": 4})["body"]
    assert edge["unreadableBytes"] == 4 and edge["data"] == ""
    outside = client.request("writeMemory", {"memoryReference": "0x7fffffff", "data": "AAAA"}, ok=False)
    assert "outside linear memory" in outside["message"]
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0
    assert client.output("stdout") == "message: HELLO, world\n"


def test_pause_a_running_loop_then_terminate(client: Client) -> None:
    client.start("spin")
    client.request("configurationDone")
    time.sleep(0.3)
    client.request("pause", {"threadId": 1})
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "pause"
    assert _top(client)["name"].startswith("main")
    client.request("continue", {"threadId": 1})
    time.sleep(0.1)
    client.request("terminate")
    assert _finish(client) == 137


def test_launch_args_env_cwd_and_preopens(client: Client, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "note.txt").write_text("from the note\n")
    client.request("initialize", {"adapterID": "wasmdbg"})
    client.request(
        "launch",
        {
            "program": POINTS.name,
            "cwd": str(PROGRAMS),
            "args": ["env", "extra"],
            "env": {"GREETING": "hi there"},
            "dirs": [f"{tmp_path / 'data'}::data"],
        },
    )
    client.event("initialized")
    client.request("configurationDone")
    assert _finish(client) == 0
    assert client.output("stdout") == "argc 3 greeting hi there\nnote from the note\n\n"  # fgets keeps the newline


def test_launch_failure_is_an_error_and_the_adapter_lives(client: Client) -> None:
    client.request("initialize", {"adapterID": "wasmdbg"})
    resp = client.request("launch", {"program": "/nonexistent/x.wasm"}, ok=False)
    assert "cannot read" in resp["message"]
    assert not client.request("launch", {}, ok=False)["success"]
    client.request("launch", {"program": str(POINTS), "args": ["exit"]})
    client.event("initialized")
    client.request("configurationDone")
    assert _finish(client) == 7


def test_bad_input_gets_error_responses(client: Client) -> None:
    # out of order: before initialize
    assert "before initialize" in client.request("stackTrace", {"threadId": 1}, ok=False)["message"]
    # malformed JSON: an error response, the adapter reads on
    client.send_raw(b"Content-Length: 9\r\n\r\n{not json")
    resp = client.response()
    assert resp["success"] is False and "not JSON" in resp["message"]
    # not an object
    client.send_raw(b"Content-Length: 2\r\n\r\n[]")
    assert client.response()["success"] is False
    # a broken header: an error response, then the reader resyncs at the next message
    client.send_raw(b"Content-Length: zz\r\n\r\n{}\r\n")
    assert "bad Content-Length" in client.response()["message"]
    client.request("initialize", {"adapterID": "wasmdbg"})
    # a repeated seq, a missing seq
    seq = client.send("threads", seq=client.seq)
    resp = client.response(seq)
    assert resp["success"] is False and "bad seq" in resp["message"]
    client.send_raw(encode({"type": "request", "command": "threads"}))
    assert "bad seq" in client.response()["message"]
    # unknown command; initialize twice; before launch
    assert "unknown request" in client.request("frobnicate", {}, ok=False)["message"]
    assert "already" in client.request("initialize", {}, ok=False)["message"]
    assert "before launch" in client.request("configurationDone", ok=False)["message"]
    assert not client.request("launch", {"program": 5}, ok=False)["success"]
    client.request("launch", {"program": str(POINTS), "args": ["sum"]})
    client.event("initialized")
    assert "not paused" in client.request("stackTrace", {"threadId": 1}, ok=False)["message"]
    assert not client.request("continue", {"threadId": 1}, ok=False)["success"]
    assert not client.request("variables", {"variablesReference": 99}, ok=False)["success"]
    assert not client.request("readMemory", {"memoryReference": "nowhere", "count": 1}, ok=False)["success"]
    client.request("configurationDone")
    assert _finish(client) == 0
    assert not client.request("evaluate", {"expression": "1"}, ok=False)["success"]
    client.request("disconnect")
    assert client.proc.wait(timeout=TIMEOUT) == 0


def _line_of(text: str) -> int:
    lines = (PROGRAMS / "points.c").read_text().splitlines()
    (number,) = [i for i, line in enumerate(lines, 1) if text in line]
    return number


def test_line_breakpoint_hits_the_right_line(client: Client) -> None:
    client.start("sum")
    line = _line_of("int r = v * v;")
    source = {"path": str(PROGRAMS / "points.c")}
    bps = client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": line}]})["body"]["breakpoints"]
    assert bps[0]["verified"] and bps[0]["line"] == line
    client.request("configurationDone")
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "breakpoint" and stopped["hitBreakpointIds"] == [bps[0]["id"]]
    top = _top(client)
    assert top["name"] == "square" and top["line"] == line
    assert top["source"]["path"] == str(PROGRAMS / "points.c")
    frames = client.request("stackTrace", {"threadId": 1})["body"]["stackFrames"]
    assert [f["name"] for f in frames[:3]] == ["square", "sum_points", "main"]
    assert frames[1]["line"] == _line_of("total += square(pts[i].x) + pts[i].y;")
    args = _scope(client, "Arguments")
    assert [(v["name"], v["value"], v["type"]) for v in args] == [("v", "1", "int")]
    client.request("setBreakpoints", {"source": source, "breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_struct_and_array_variables_expand(client: Client) -> None:
    client.start("sum")
    line = _line_of("int total = sum_points(pts, 3);")
    source = {"path": str(PROGRAMS / "points.c")}
    client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": line}]})
    client.request("configurationDone")
    client.event("stopped")
    (pts,) = [v for v in _scope(client, "Locals") if v["name"] == "pts"]
    assert pts["type"] == "struct point [3]" and pts["variablesReference"] > 0
    elements = client.request("variables", {"variablesReference": pts["variablesReference"]})["body"]["variables"]
    assert [e["name"] for e in elements] == ["[0]", "[1]", "[2]"]
    assert elements[1]["value"] == "{x = 3, y = 4}"
    members = client.request("variables", {"variablesReference": elements[1]["variablesReference"]})["body"]["variables"]
    assert [(m["name"], m["value"], m["type"]) for m in members] == [("x", "3", "int"), ("y", "4", "int")]
    # assign through a member, read back through an expression
    client.request("setVariable", {"variablesReference": elements[1]["variablesReference"], "name": "y", "value": "40"})
    assert client.request("evaluate", {"expression": "pts[1].y * 2", "frameId": 1, "context": "hover"})["body"]["result"] == "80"
    # a pointer opens into its target
    client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": _line_of("int total = 0;")}]})
    client.request("continue", {"threadId": 1})
    client.event("stopped")
    (ptr,) = [v for v in _scope(client, "Arguments") if v["name"] == "pts"]
    assert ptr["type"] == "struct point *" and ptr["variablesReference"] > 0
    (target,) = client.request("variables", {"variablesReference": ptr["variablesReference"]})["body"]["variables"]
    assert target["name"] == "*pts" and target["value"] == "{x = 1, y = 2}"
    # the Globals scope holds the stopped frame's file's globals, not the C library's
    assert [g["name"] for g in _scope(client, "Globals")] == ["counter", "message", "spin", "zero"]
    client.request("setBreakpoints", {"source": source, "breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 1  # pts[1].y became 40
    assert client.output("stdout") == "total 83\n"


def test_step_over_and_into_by_line(client: Client) -> None:
    client.start("sum")
    source = {"path": str(PROGRAMS / "points.c")}
    loop_line = _line_of("total += square(pts[i].x) + pts[i].y;")
    client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": loop_line}]})
    client.request("configurationDone")
    client.event("stopped")
    client.request("setBreakpoints", {"source": source, "breakpoints": []})
    client.request("next", {"threadId": 1})
    assert client.event("stopped")["body"]["reason"] == "step"
    assert _top(client)["line"] == _line_of("counter++;")
    client.request("next", {"threadId": 1})
    client.event("stopped")
    client.request("next", {"threadId": 1})
    client.event("stopped")
    assert _top(client)["line"] == loop_line  # the loop's second turn
    client.request("stepIn", {"threadId": 1})
    client.event("stopped")
    top = _top(client)
    assert top["name"] == "square" and top["line"] == _line_of("int r = v * v;")
    assert [v["value"] for v in _scope(client, "Arguments")] == ["3"]
    client.request("stepOut", {"threadId": 1})
    client.event("stopped")
    top = _top(client)
    assert top["name"] == "sum_points" and top["line"] == loop_line
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_loaded_sources_and_conditions_in_c(client: Client) -> None:
    client.start("sum")
    sources = client.request("loadedSources")["body"]["sources"]
    assert str(PROGRAMS / "points.c") in [s["path"] for s in sources]
    bad = client.request(
        "setFunctionBreakpoints", {"breakpoints": [{"name": "square", "condition": "v ==="}]}
    )["body"]["breakpoints"]
    assert bad[0]["verified"] is False
    client.request("configurationDone")
    assert _finish(client) == 0


def test_guest_output_never_reaches_the_protocol_stream() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmdbg", "dap"],
        input=b"".join(
            encode(m)
            for m in [
                {"seq": 1, "type": "request", "command": "initialize", "arguments": {}},
                {"seq": 2, "type": "request", "command": "launch",
                 "arguments": {"program": str(POINTS), "args": ["sum"]}},
                {"seq": 3, "type": "request", "command": "configurationDone"},
            ]
        ),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    # end of input: the adapter kills the guest if needed and ends; every byte it wrote is a message


    reader = MessageReader(io.BytesIO(proc.stdout))
    count = 0
    while reader.read() is not None:
        count += 1
    assert count >= 4
    assert b"total 47\n" not in proc.stdout.replace(b'"total 47\\n"', b"")


def test_socket_transport() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wasmdbg", "dap", "--port", "0"], stderr=subprocess.PIPE
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=TIMEOUT) as sock:
            sock.sendall(encode({"seq": 1, "type": "request", "command": "initialize", "arguments": {}}))
            reader = MessageReader(sock.makefile("rb"))
            resp = reader.read()
            assert resp is not None and resp["success"] and resp["body"]["supportsDisassembleRequest"]
            sock.sendall(encode({"seq": 2, "type": "request", "command": "disconnect", "arguments": {}}))
            resp = reader.read()
            assert resp is not None and resp["command"] == "disconnect"
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_breakpoints_before_launch_resolve_with_breakpoint_events(client: Client) -> None:
    client.request("initialize", {"adapterID": "wasmdbg"})
    bps = client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "square"}, {"name": "nope"}]})
    pending = bps["body"]["breakpoints"]
    assert [b["verified"] for b in pending] == [False, False]
    client.request("launch", {"program": str(POINTS), "args": ["sum"]})
    changed = [client.event("breakpoint")["body"], client.event("breakpoint")["body"]]
    client.event("initialized")
    assert [c["reason"] for c in changed] == ["changed", "changed"]
    assert [c["breakpoint"]["id"] for c in changed] == [b["id"] for b in pending]
    assert changed[0]["breakpoint"]["verified"] is True
    assert changed[1]["breakpoint"]["verified"] is False and "nope" in changed[1]["breakpoint"]["message"]
    client.request("configurationDone")
    assert client.event("stopped")["body"]["hitBreakpointIds"] == [pending[0]["id"]]
    client.request("setFunctionBreakpoints", {"breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_instruction_breakpoint_set_while_running(client: Client) -> None:
    client.start("spin")
    client.request("configurationDone")
    time.sleep(0.3)
    # the spin loop is the only `loop` in main at -O0: break on its first instruction
    bps = client.request("setFunctionBreakpoints", {"breakpoints": [{"name": "main"}]})["body"]["breakpoints"]
    listing = _disassemble(client, bps[0]["instructionReference"], 600)
    client.request("setFunctionBreakpoints", {"breakpoints": []})
    main = [i for i in listing if i.get("symbol") == "main"]
    loops = [k for k, i in enumerate(main) if i["instruction"] == "loop"]
    assert len(loops) == 1
    target = main[loops[0] + 1]["address"]
    ibp = client.request("setInstructionBreakpoints", {"breakpoints": [{"instructionReference": target}]})
    assert ibp["body"]["breakpoints"][0]["verified"]
    stopped = client.event("stopped")["body"]
    assert stopped["reason"] == "instruction breakpoint"
    assert _top(client)["instructionPointerReference"] == target
    client.request("terminate")
    assert _finish(client) == 137


TYPES = Path(__file__).resolve().parents[1] / "programs" / "c"


def test_nested_structs_of_the_types_program(client: Client) -> None:
    source = TYPES / "types.c"
    lines = source.read_text().splitlines()
    (mark,) = [i for i, text in enumerate(lines, 1) if "MARK: area-return" in text]
    client.request("initialize", {"adapterID": "wasmdbg"})
    client.request("launch", {"program": str(TYPES / "types.O0.wasm")})
    client.event("initialized")
    bps = client.request("setBreakpoints", {"source": {"path": str(source)}, "breakpoints": [{"line": mark}]})
    assert bps["body"]["breakpoints"][0]["verified"]
    client.request("configurationDone")
    client.event("stopped")
    top = _top(client)
    assert top["name"] == "area" and top["line"] == mark and top["source"]["path"] == str(source)
    locals_ = {v["name"]: v for v in _scope(client, "Locals")}
    assert (locals_["w"]["value"], locals_["h"]["value"]) == ("10", "5")
    (r,) = _scope(client, "Arguments")
    assert r["name"] == "r" and r["type"] == "const struct rect *"
    (rect,) = client.request("variables", {"variablesReference": r["variablesReference"]})["body"]["variables"]
    fields = client.request("variables", {"variablesReference": rect["variablesReference"]})["body"]["variables"]
    assert [f["name"] for f in fields] == ["top_left", "bottom_right", "color", "label"]
    corner = client.request("variables", {"variablesReference": fields[1]["variablesReference"]})["body"]["variables"]
    assert [(c["name"], c["value"]) for c in corner] == [("x", "11"), ("y", "7")]
    assert fields[2]["value"] == "RED" and '"box"' in fields[3]["value"]
    assert client.request("evaluate", {"expression": "r->bottom_right.x - r->top_left.x", "frameId": 1})["body"]["result"] == "10"
    client.request("setBreakpoints", {"source": {"path": str(source)}, "breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0
    assert client.output("stdout").startswith("checksum ")


def test_line_logpoint_and_c_condition(client: Client) -> None:
    client.start("sum")
    source = {"path": str(PROGRAMS / "points.c")}
    loop_line = _line_of("total += square(pts[i].x) + pts[i].y;")
    count_line = _line_of("counter++;")
    bps = client.request(
        "setBreakpoints",
        {
            "source": source,
            "breakpoints": [
                {"line": loop_line, "logMessage": "i={i} x={pts[i].x} total={total}"},
                {"line": count_line, "condition": "i == 2 && total > 30"},
            ],
        },
    )["body"]["breakpoints"]
    assert [b["verified"] for b in bps] == [True, True]
    client.request("configurationDone")
    stopped = client.event("stopped")["body"]
    assert stopped["hitBreakpointIds"] == [bps[1]["id"]]
    values = {v["name"]: v["value"] for v in _scope(client, "Locals")}
    assert (values["i"], values["total"]) == ("2", "47")
    assert client.output("console") == "i=0 x=1 total=0\ni=1 x=3 total=3\ni=2 x=5 total=16\n"
    client.request("setBreakpoints", {"source": source, "breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0


def test_guest_stderr_and_status(client: Client) -> None:
    client.start("bogus")
    client.request("configurationDone")
    assert _finish(client) == 2
    assert client.output("stderr") == "usage: points [sum|show|trap|spin|exit|env]\n"


def test_gdb_commands_in_the_debug_console(client: Client) -> None:
    client.start("sum")
    source = {"path": str(PROGRAMS / "points.c")}
    line = _line_of("int r = v * v;")
    client.request("setBreakpoints", {"source": source, "breakpoints": [{"line": line}]})
    client.request("configurationDone")
    client.event("stopped")

    def console(text: str, frame_id: int = 1, ok: bool = True) -> dict[str, Any]:
        return client.request(
            "evaluate", {"expression": text, "frameId": frame_id, "context": "repl"}, ok=ok
        )

    assert "struct point {" in console("-exec ptype struct point")["body"]["result"]
    assert console("-exec print v * 10")["body"]["result"].endswith("= 10")
    bt = console("-exec bt")["body"]["result"].splitlines()
    assert "square" in bt[0] and "sum_points" in bt[1] and "main" in bt[2]
    # frame 3 (main) is selected for the command
    assert "{x = 3, y = 4}" in console("-exec print pts[1]", frame_id=3)["body"]["result"]
    refused = console("-exec continue", ok=False)
    assert "not available in the debug console" in refused["message"]
    assert "Undefined command" in console("-exec frobnicate", ok=False)["message"]
    # without the prefix: a C expression
    assert console("v + 1")["body"]["result"] == "2"
    client.request("setBreakpoints", {"source": source, "breakpoints": []})
    client.request("continue", {"threadId": 1})
    assert _finish(client) == 0
