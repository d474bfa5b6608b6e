"""The ``wasmdbg`` command: argument parsing and output formatting only.

Subcommands::

    wasmdbg validate FILE...          decode + validate; FILE:0xOFFSET: message on error
    wasmdbg describe FILE             imports, exports, functions, custom sections
    wasmdbg spec PATH...              run spec-suite scripts (wast2json JSON)
    wasmdbg run FILE [ARGS...]        run a WASI program's _start (like ``wasmtime run``)
    wasmdbg run FILE --invoke NAME [ARGS...]
                                      call an export and print its results

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

__all__ = ["main"]


def _load_def(path: Path) -> Any:
    from ..wasm.decoder import decode_module
    from ..wasm.validator import validate

    data = _read_module_bytes(path)
    module = decode_module(data)
    validate(module)
    return module


def _read_module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".wat" or (data[:4] != b"\0asm" and data.lstrip()[:1] == b"("):
        import wasmtime

        try:
            return bytes(wasmtime.wat2wasm(data.decode("utf-8", errors="replace")))
        except wasmtime.WasmtimeError as exc:
            raise WasmError(f"cannot parse text module: {exc}") from exc
    return data


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


def _parse_arg(text: str, ty: str) -> Any:
    try:
        if ty in ("i32", "i64"):
            return int(text, 0)
        if ty in ("f32", "f64"):
            return float(text)
    except ValueError as exc:
        raise WasmError(f"argument {text!r} is not a valid {ty}") from exc
    raise WasmError(f"cannot pass a {ty} argument from the command line")


def _cmd_run(args: argparse.Namespace) -> int:
    import wasmdbg

    api: Any = wasmdbg
    config = api.Config()
    config.guest_debug = args.gdb_port is not None
    engine = api.Engine(config)
    store = api.Store(engine)
    module = api.Module(engine, _read_module_bytes(Path(args.file)))
    wasi = api.WasiConfig()
    wasi.argv = [args.file, *([] if args.invoke else args.args)]
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.inherit_env()
    store.set_wasi(wasi)
    linker = api.Linker(engine)
    linker.define_wasi()
    if args.gdb_port is not None:
        return _run_gdbstub(api, store, linker, module, args)
    with store.interrupt_on_sigint():
        return _run_instance(api, store, linker, module, args)


def _run_gdbstub(api: Any, store: Any, linker: Any, module: Any, args: argparse.Namespace) -> int:
    """`run -g [ADDR:]PORT`: the guest's _start under the GDB remote server (gdbstub/)."""
    from ..gdbstub.server import ModuleTarget, serve_guest

    if args.invoke is not None:
        raise WasmError("--gdb-port debugs a WASI command's _start; it cannot be combined with --invoke")
    instance = linker.instantiate(store, module)
    start = instance.exports(store).get("_start")
    if not isinstance(start, api.Func):
        raise WasmError("module exports no _start function")
    server = serve_guest(
        store, lambda: start(store), [ModuleTarget(args.file, module, instance)], args.gdb_port,
        announce=lambda host, port: print(f"wasmdbg: waiting for a debugger on {host}:{port}",
                                          file=sys.stderr, flush=True),
    )
    if server.guest_error is not None:
        print(f"error: {server.guest_error}", file=sys.stderr)
    return server.status


def _run_instance(api: Any, store: Any, linker: Any, module: Any, args: argparse.Namespace) -> int:
    try:
        instance = linker.instantiate(store, module)
        exports = instance.exports(store)
        if args.invoke is None:
            start = exports.get("_start")
            if not isinstance(start, api.Func):
                raise WasmError("module exports no _start function; name one with --invoke NAME")
            start(store)
            return 0
        initialize = exports.get("_initialize")
        if isinstance(initialize, api.Func):
            initialize(store)
        return _invoke(api, store, exports, args.invoke, args.args)
    except api.ExitTrap as exit_:
        return int(exit_.code)
    except api.Trap as trap:
        print(f"error: {trap}", file=sys.stderr)
        return 134


def _invoke(api: Any, store: Any, exports: Any, name: str, texts: list[str]) -> int:
    func = exports.get(name)
    if not isinstance(func, api.Func):
        raise WasmError(f"module has no exported function {name!r}")
    ty = func.type(store)
    params = [str(p) for p in ty.params]
    if len(params) != len(texts):
        raise WasmError(f"{name} takes {len(params)} arguments ({', '.join(params)}), got {len(texts)}")
    values = [_parse_arg(a, t) for a, t in zip(texts, params, strict=True)]
    result = func(store, *values)
    if result is None:
        return 0
    for value in result if isinstance(result, list | tuple) else [result]:
        print(value)
    return 0


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

    p = sub.add_parser("run", help="run a WASI program, or call one exported function")
    p.add_argument("file")
    p.add_argument("--invoke", metavar="NAME", help="call this export instead of _start")
    p.add_argument("-g", "--gdb-port", metavar="[ADDR:]PORT",
                   help="serve one LLDB/GDB remote connection (127.0.0.1 unless ADDR is given); "
                   "the guest waits before its first instruction")
    p.add_argument(
        "args", nargs="*",
        help="with --invoke: the function's arguments, parsed by its parameter types; else the program's argv",
    )
    p.set_defaults(run=_cmd_run)
    return parser


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
    parser = _build_parser()
    args, extra = parser.parse_known_args(_lldb_launcher_words(sys.argv[1:] if argv is None else argv))
    if extra:
        # NB: `run FILE --invoke NAME 1 2` leaves the arguments after the option
        # unparsed; they belong to the guest (its argv or the function's arguments).
        if args.command != "run":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.args += [e for e in extra if e != "--"]
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
