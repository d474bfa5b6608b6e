"""gdb commands in an editor's debug console: the REPL's inspection commands for ``wasmdbg dap``.

The DAP adapter cannot import the command line (front ends sit below
``cli``), so ``wasmdbg dap`` hands it a :class:`ConsoleCommands`: an
``evaluate`` in the ``repl`` context that starts with ``-exec`` (as in
VS Code's C/C++ debuggers) runs one gdb command of :mod:`.repl` over the
adapter's own source debugger, in the selected frame, and answers with
what the command printed::

    -exec info locals        -exec x/4xw &pts        -exec ptype struct point

Only commands that look (and ``set var``, which writes a value) are
offered: running, stepping and breakpoints belong to the editor's own
controls, which keep the adapter's picture of the guest right.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..errors import DebugError
from .repl import Program, Repl

__all__ = ["INSPECTION", "ConsoleCommands"]

#: the REPL commands the debug console runs
INSPECTION = frozenset(
    ["backtrace", "echo", "help", "info", "list", "output", "print", "ptype", "set", "whatis", "x",
     "disassemble"]
)


class ConsoleCommands:
    """Runs console command lines for a DAP adapter (one REPL, made on first use)."""

    def __init__(self) -> None:
        self._repl: Repl | None = None
        self._out = io.StringIO()

    def __call__(self, debugger: Any, path: Path, frame_index: int, line: str) -> str:
        """Run ``line`` with frame ``frame_index`` selected; the text it printed.

        ``debugger`` is the adapter's source debugger, ``path`` the program's
        file (sources are looked up next to it).
        """
        repl = self._repl_for(debugger, path)
        word, _, _ = repl.parseline(line)
        if word is None:
            raise DebugError(f'Undefined command: "{line.strip()}".  Try "help".')
        name = repl.resolve_command(word)
        if name not in INSPECTION:
            raise DebugError(f'"{name}" is not available in the debug console: use the editor\'s controls')
        repl.frame_no = frame_index
        self._out.seek(0)
        self._out.truncate()
        repl.execute(line)
        return self._out.getvalue().rstrip("\n")

    def _repl_for(self, debugger: Any, path: Path) -> Repl:
        repl = self._repl
        if repl is None or repl.dbg is not debugger:
            # NB: a Program that compiles nothing: the REPL only formats; the module and
            # the debugger are the adapter's (the REPL's own SourceDebugger is replaced)
            program = Program.__new__(Program)
            program.path = path
            program.args, program.env, program.dirs, program.invoke, program.argv0 = [], None, [], None, None
            program.module = debugger.module
            repl = Repl(program, stdin=io.StringIO(), stdout=self._out, interactive=False)
            repl.dbg = debugger
            self._repl = repl
        return repl
