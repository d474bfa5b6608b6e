"""Drive LLDB through its Python API; run as a subprocess by the tests.

    python lldb_driver.py PORT < commands.json > results.json

The commands are LLDB command lines, run one after another in synchronous
mode; a few start with ``!`` and use the API instead:

    !interrupt SECONDS    continue asynchronously, wait, ``process interrupt``
    !connect              process connect --plugin wasm to 127.0.0.1:PORT

For each command the result records whether it succeeded, its output and
error text, and the process state and exit status afterwards.
"""

from __future__ import annotations

import json
import sys
import time

import lldb


def _wait_for_state(dbg: lldb.SBDebugger, wanted: set[int], timeout: float) -> int:
    listener = dbg.GetListener()
    deadline = time.monotonic() + timeout
    event = lldb.SBEvent()
    state = -1
    while time.monotonic() < deadline:
        if listener.WaitForEvent(1, event) and lldb.SBProcess.EventIsProcessEvent(event):
            state = lldb.SBProcess.GetStateFromEvent(event)
            if state in wanted:
                return state
    return state


def main() -> int:
    port = int(sys.argv[1])
    commands = json.load(sys.stdin)
    lldb.SBDebugger.Initialize()
    dbg = lldb.SBDebugger.Create()
    dbg.SetAsync(False)
    interp = dbg.GetCommandInterpreter()
    results = []
    for command in commands:
        ro = lldb.SBCommandReturnObject()
        if command == "!connect":
            command = f"process connect --plugin wasm connect://127.0.0.1:{port}"
        if command.startswith("!interrupt"):
            seconds = float(command.split()[1])
            dbg.SetAsync(True)
            process = dbg.GetSelectedTarget().GetProcess()
            process.Continue()
            _wait_for_state(dbg, {lldb.eStateRunning}, 10)
            time.sleep(seconds)
            interp.HandleCommand("process interrupt", ro)
            _wait_for_state(dbg, {lldb.eStateStopped, lldb.eStateExited}, 20)
            dbg.SetAsync(False)
            interp.HandleCommand("thread list", ro)
        else:
            interp.HandleCommand(command, ro)
        process = dbg.GetSelectedTarget().GetProcess()
        results.append(
            {
                "command": command,
                "ok": ro.Succeeded(),
                "out": ro.GetOutput() or "",
                "err": ro.GetError() or "",
                "state": lldb.SBDebugger.StateAsCString(process.GetState()) if process else "none",
                "exit_status": process.GetExitStatus() if process else None,
            }
        )
    json.dump(results, sys.stdout)
    sys.stdout.flush()
    lldb.SBDebugger.Destroy(dbg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
