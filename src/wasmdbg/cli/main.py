"""The ``wasmdbg`` command: argument parsing and output formatting only.

Subcommands::

    wasmdbg validate FILE...          decode + validate; FILE:0xOFFSET: message on error
    wasmdbg describe FILE             imports, exports, functions, custom sections
    wasmdbg spec PATH...              run spec-suite scripts (wast2json JSON)
    wasmdbg run [OPTIONS] FILE [ARGS...]
                                      run a WASI program like ``wasmtime run``
                                      (options, exit codes, trap reports: cli/run.py)
    wasmdbg debug [OPTIONS] [-ex CMD]... [-x FILE] [--batch] FILE [ARGS...]
                                      the gdb-style debugger (cli/repl.py; run's options)
    wasmdbg dap [--port N]            a Debug Adapter Protocol server (stdio, or 127.0.0.1:N)

Every failure prints one readable message to stderr and exits non-zero;
no traceback reaches the user for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import WasmError
from .modfile import read_module_bytes

__all__ = ["main"]


def _load_def(path: Path) -> Any:
    from ..wasm.decoder import decode_module
    from ..wasm.validator import validate

    data = read_module_bytes(path)
    module = decode_module(data)
    validate(module)
    return module


def _cmd_validate(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            _load_def(path)
        except WasmError as exc:
            offset = getattr(exc, "offset", 0)
            message = getattr(exc, "message", str(exc))
            print(f"{path}:0x{offset:x}: {message}", file=sys.stderr)
            status = 1
        else:
            if not args.quiet:
                print(f"{path}: valid")
    return status


def _cmd_describe(args: argparse.Namespace) -> int:
    module = _load_def(Path(args.file))
    print(f"module {module.names.module or Path(args.file).name}: {len(module.raw)} bytes")
    for imp in module.imports:
        print(f"  import {imp.module}.{imp.name}: {imp.kind.name.lower()}")
    for exp in module.exports:
        print(f"  export {exp.name}: {exp.kind.name.lower()} {exp.index}")
    print(f"  functions: {len(module.func_type_indices)} ({module.num_imported_funcs} imported)")
    for body in module.bodies:
        name = module.func_name(body.func_index) or f"func[{body.func_index}]"
        size = body.code_end - body.code_start
        print(f"    {name}: {module.func_type(body.func_index)}, {size} bytes of code at 0x{body.code_start:x}")
    for custom in module.customs:
        print(f"  custom section {custom.name!r}: {len(custom.data)} bytes at 0x{custom.offset:x}")
    return 0


def _cmd_spec(args: argparse.Namespace) -> int:
    from ..testsuite import find_scripts, run_file, summarize

    results = []
    for script in find_scripts([Path(p) for p in args.paths]):
        result = run_file(script, guest_debug=args.guest_debug, all_sites=args.all_sites)
        results.append(result)
        print(f"{script.name}: {result.passed} passed, {result.failed} failed, {result.skipped} skipped")
        for failure in result.failures[: args.show_failures]:
            print(f"  FAIL {failure}")
    passed, failed, skipped = summarize(results)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmdbg", description="WebAssembly runtime and debugger")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="decode and validate modules")
    p.add_argument("files", nargs="+")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid modules")
    p.set_defaults(run=_cmd_validate)

    p = sub.add_parser("describe", help="show a module's imports, exports, functions and sections")
    p.add_argument("file")
    p.set_defaults(run=_cmd_describe)

    p = sub.add_parser("spec", help="run spec-suite scripts in wast2json format")
    p.add_argument("paths", nargs="+")
    p.add_argument("--guest-debug", action="store_true", help="compile with patch sites")
    p.add_argument("--all-sites", action="store_true", help="enable every patch site (implies --guest-debug)")
    p.add_argument("--show-failures", type=int, default=5, metavar="N", help="failures listed per file")
    p.set_defaults(run=_cmd_spec)

    p = sub.add_parser("dap", help="serve the Debug Adapter Protocol (VS Code, nvim-dap) on stdio")
    p.add_argument("--port", type=int, default=None, metavar="N",
                   help="listen on 127.0.0.1:N for one client instead (0: any free port)")
    p.set_defaults(run=_cmd_dap)

    # NB: `run` has its own parser (cli/run.py): main() hands it every word after
    # `run`, since the words after the module belong to the guest.  This entry
    # only lists it in `wasmdbg --help`.
    sub.add_parser("run", help="run a WASI program, or call one exported function, like `wasmtime run`",
                   add_help=False)
    sub.add_parser("debug", help="debug a WASI program with gdb's commands (-ex CMD, -x FILE, --batch)",
                   add_help=False)
    return parser


def _cmd_debug(words: Sequence[str]) -> int:
    from .repl import debug_main

    return debug_main(words)


def _cmd_run(words: Sequence[str]) -> int:
    from .run import UsageError, parse_run_args, run

    try:
        opts = parse_run_args(words)
    except UsageError as exc:
        print(f"error: {exc} (see `wasmdbg run --help`)", file=sys.stderr)
        return 2
    return run(opts)


def _cmd_dap(args: argparse.Namespace) -> int:
    from ..dap.server import serve_socket, serve_stdio
    from .dapconsole import ConsoleCommands

    console = ConsoleCommands()
    return serve_stdio(console=console) if args.port is None else serve_socket(args.port, console=console)


def _die_of_sigint() -> None:
    """End the process the way Ctrl-C ends ``wasmtime``: killed by SIGINT."""
    import os
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def _lldb_launcher_words(argv: Sequence[str]) -> list[str]:
    """``--gdb-port=N [run] FILE ARGS`` (how LLDB's Wasm launcher calls a runtime) -> ``run --gdb-port=N FILE ARGS``.

    NB: LLDB puts its port argument first, before ``platform.plugin.wasm.runtime-args``.
    """
    words = list(argv)
    if words and words[0].startswith("--gdb-port="):
        rest = words[2:] if len(words) > 1 and words[1] == "run" else words[1:]
        return ["run", words[0], *rest]
    return words


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wasmdbg`` console script."""
    words = _lldb_launcher_words(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["run"]:
        from .run import EXIT_INTERRUPTED

        run_status = _cmd_run(words[1:])
        if run_status == EXIT_INTERRUPTED and argv is None:
            # NB: only as the command itself (argv from the process): a caller
            # of main([...]) in the same process gets the status instead.
            _die_of_sigint()
        return run_status
    if words[:1] == ["debug"]:
        return _cmd_debug(words[1:])
    parser = _build_parser()
    args = parser.parse_args(words)
    if getattr(args, "all_sites", False):
        args.guest_debug = True
    try:
        status: int = args.run(args)
    except WasmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
