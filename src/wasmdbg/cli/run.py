"""``wasmdbg run``: run a WASI command, or call one export, the way ``wasmtime run`` does.

Command line (options first; the first word that is not an option is the
module, and every word after it belongs to the guest, ``--help`` and ``--``
included)::

    wasmdbg run [OPTIONS] [--] MODULE [ARGS...]

    --dir HOST[::GUEST]   preopen directory HOST, seen by the guest as GUEST (default: HOST)
    --env NAME=VALUE      set one guest environment variable
    --env NAME            pass the host's NAME (nothing if the host has none)
    --invoke NAME         call export NAME with ARGS parsed by its parameter types
    --argv0 NAME          the guest's argv[0] (default: MODULE as written)
    -g, --gdb-port [ADDR:]PORT
                          run _start under the GDB remote server for LLDB (gdbstub/):
                          listen on ADDR (127.0.0.1), wait for the debugger to resume

The guest sees only what it is given: no directories and no environment
unless named.  ``argv`` is always ``[argv0, *ARGS]``, with ``--invoke`` too.
Without ``--invoke`` the module's ``_start`` runs (a module without one runs
nothing, successfully).

Exit status, as Wasmtime's::

    guest returns from _start, or the called export returns      0
    guest calls proc_exit(N) with 0 <= N < 126                    N
    proc_exit(N) with any other N (256 is not 0, -1 is not 255)   1, with an error report
    the guest traps                                               134 (128 + SIGABRT), with a trap report
    bad input: unreadable or malformed module, bad --invoke       1, one line on stderr
      arguments, unknown export, a --dir that is not a directory
    bad command line (unknown option, no module)                  2, one line on stderr
    Ctrl-C                                                        the process dies of SIGINT

A trap report has Wasmtime's layout (its first line is the same)::

    Error: failed to run main module `trap.wasm`

    Caused by:
        0: failed to invoke command default
        1: error while executing at wasm backtrace:
          0:    0x42a - trap.wasm!recurse
          ...
        2: wasm trap: wasm `unreachable` instruction executed

with at most 20 frames and a count of those left out.

Ctrl-C interrupts the guest (a machine-code SIGINT handler sets the
interrupt flag, see :mod:`wasmdbg.runtime.sigint`), unless SIGINT was
ignored when wasmdbg started (``nohup``, ``trap '' INT``): then it stays
ignored, as it would for ``wasmtime``.

Known differences from ``wasmtime run`` (tests/cli/test_vs_wasmtime.py
checks everything else it can: stdout, stderr's first line, exit status,
the trap's cause, frame names and call-site offsets):

* bad input is reported on one line (wasmtime adds a "Caused by:" list);
* no "using `--invoke` ... is experimental" warning;
* the innermost frame's offset is the trapping instruction's; Cranelift may
  name the branch guarding it (``br_if`` + ``unreachable`` fold into one trap);
* an out-of-bounds access has no "memory fault at wasm address ..." step,
  and there is no ``WASMTIME_BACKTRACE_DETAILS`` note;
* a backtrace deeper than 20 frames ends with a count of the rest;
* words that are not UTF-8 reach the guest as bytes (wasmtime refuses them);
* only the options above: no ``-O``/``-C``/``-W``/``-S``, ``--preload`` ...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..errors import WasmError
from .modfile import read_module_bytes
from .values import format_value, parse_value

__all__ = ["EXIT_INTERRUPTED", "EXIT_TRAP", "RunOptions", "UsageError", "build_parser", "parse_run_args", "run"]

EXIT_TRAP = 128 + 6  # 128 + SIGABRT: what wasmtime exits with when the guest traps
EXIT_INTERRUPTED = 128 + 2  # 128 + SIGINT, when the process cannot die of the signal itself
_EXIT_LIMIT = 126  # proc_exit codes below this are the process's status


class UsageError(WasmError):
    """The command line itself is wrong (exit status 2)."""


@dataclass(frozen=True)
class RunOptions:
    """A parsed ``wasmdbg run`` command line."""

    module: str
    args: tuple[str, ...] = ()
    invoke: str | None = None
    dirs: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str | None], ...] = ()  # value None: inherit NAME from the host
    argv0: str | None = None
    gdb_port: str | None = None  # [ADDR:]PORT: serve a debugger (gdbstub)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and an exception, not a print and exit.

    ``value_options`` holds every option string added through :meth:`add_option`
    that takes a value (how the command line is cut after the module path).
    """

    def __init__(self, **kwargs: Any) -> None:
        self.value_options: set[str] = set()
        super().__init__(**kwargs)

    def add_option(self, *flags: str, **kwargs: Any) -> None:
        """``add_argument`` for an option, noting whether it takes a value."""
        action = self.add_argument(*flags, **kwargs)
        if action.nargs != 0:
            self.value_options.update(action.option_strings)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> _Parser:
    """The option parser of ``wasmdbg run`` (also used for ``--help``)."""
    p = _Parser(
        prog="wasmdbg run",
        usage="wasmdbg run [OPTIONS] [--] MODULE [ARGS...]",
        description="Run a WASI command's _start, or call one exported function, like `wasmtime run`. "
        "Every word after MODULE is passed to the guest (with --invoke: the function's arguments).",
        allow_abbrev=False,
    )
    p.add_option(
        "--dir", action="append", default=[], metavar="HOST[::GUEST]",
        help="give the guest the host directory HOST, under the name GUEST (default: HOST)",
    )
    p.add_option(
        "--env", action="append", default=[], metavar="NAME[=VAL]",
        help="set the guest's environment variable NAME to VAL, or to the host's value of NAME "
        "(the guest gets no other environment)",
    )
    p.add_option(
        "--invoke", metavar="NAME",
        help="call the exported function NAME instead of _start, parse ARGS by its parameter types "
        "and print its results",
    )
    p.add_option("--argv0", metavar="NAME", help="the guest's argv[0] (default: MODULE)")
    p.add_option(
        "-g", "--gdb-port", metavar="[ADDR:]PORT",
        help="serve one LLDB connection (GDB remote protocol) on ADDR (default 127.0.0.1):PORT; "
        "the guest waits before its first instruction until the debugger resumes it",
    )
    p.add_argument("module", metavar="MODULE", help="the .wasm (or .wat) file to run")
    return p


def _split(parser: _Parser, argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Cut ``argv`` after the module path: (options and the module, guest words)."""
    takes_value = parser.value_options
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return list(argv[: i + 2]), list(argv[i + 2 :])
        if word.startswith("-") and word != "-":
            i += 2 if word in takes_value else 1
            continue
        return list(argv[: i + 1]), list(argv[i + 1 :])
    return list(argv), []


def parse_run_args(argv: Sequence[str]) -> RunOptions:
    """Parse ``wasmdbg run``'s arguments (without the word ``run``).

    Raises :class:`UsageError` for a bad command line; ``-h``/``--help``
    before the module prints the help and raises ``SystemExit(0)``.
    """
    parser = build_parser()
    head, guest = _split(parser, argv)
    ns = parser.parse_args(head)
    dirs = []
    for spec in ns.dir:
        host, sep, guest_name = spec.partition("::")
        if not host or (sep and not guest_name):
            raise UsageError(f"invalid --dir {spec!r}: expected HOST or HOST::GUEST")
        dirs.append((host, guest_name if sep else host))
    env: list[tuple[str, str | None]] = []
    for spec in ns.env:
        name, sep, value = spec.partition("=")
        if not name:
            raise UsageError(f"invalid --env {spec!r}: expected NAME=VAL or NAME")
        env.append((name, value if sep else None))
    if ns.gdb_port is not None:
        from ..gdbstub.server import parse_listen_address

        try:
            parse_listen_address(ns.gdb_port)
        except WasmError as exc:
            raise UsageError(str(exc)) from exc
        if ns.invoke is not None:
            raise UsageError("--gdb-port debugs a command's _start; it cannot be combined with --invoke")
    return RunOptions(
        module=ns.module, args=tuple(guest), invoke=ns.invoke, dirs=tuple(dirs), env=tuple(env), argv0=ns.argv0,
        gdb_port=ns.gdb_port,
    )


class _Failure(Exception):
    """A report is ready: print ``text`` to stderr and exit with ``status``."""

    def __init__(self, text: str, status: int) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


class _Exit(Exception):
    """The guest called ``proc_exit`` with a status the process can exit with."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Interrupted(Exception):
    """Ctrl-C reached the guest."""


def run(opts: RunOptions) -> int:
    """Run the command line ``opts``; the process exit status (see the module docstring).

    Returns :data:`EXIT_INTERRUPTED` after Ctrl-C (while compiling, too); the
    caller decides whether the process then dies of SIGINT.
    """
    try:
        return _load_and_run(opts)
    except _Exit as exit_:
        return exit_.status
    except (KeyboardInterrupt, _Interrupted):
        return EXIT_INTERRUPTED
    except _Failure as failure:
        print(failure.text, file=sys.stderr)
        return failure.status


def _load_and_run(opts: RunOptions) -> int:
    import wasmdbg

    api: Any = wasmdbg
    path = opts.module
    try:
        data = read_module_bytes(Path(path))
    except IsADirectoryError:
        return _fail(f"failed to read file: {path}: Is a directory")
    except OSError as exc:
        return _fail(f'failed to open wasm module "{path}": {exc.strerror or exc}')
    except WasmError as exc:
        return _fail(f"failed to parse WebAssembly module `{path}`: {exc}")
    config = api.Config()
    config.guest_debug = opts.gdb_port is not None
    engine = api.Engine(config)
    try:
        module = api.Module(engine, data)
    except WasmError as exc:
        return _fail(f"failed to parse WebAssembly module `{path}`: {exc}")
    wasi = _wasi_config(api, opts)
    store = api.Store(engine)
    store.set_wasi(wasi)
    linker = api.Linker(engine)
    linker.define_wasi()
    with store.interrupt_on_sigint():
        if opts.gdb_port is not None:
            return _run_under_debugger(api, store, linker, module, opts)
        return _run_module(api, store, linker, module, opts)


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 1


def _wasi_config(api: Any, opts: RunOptions) -> Any:
    wasi = api.WasiConfig()
    wasi.argv = [opts.argv0 if opts.argv0 is not None else opts.module, *opts.args]
    env = []
    for name, value in opts.env:
        if value is None:
            value = os.environ.get(name)
            if value is None:
                continue  # NB: as wasmtime: inheriting a variable the host lacks passes nothing
        env.append((name, value))
    wasi.env = env
    for host, guest in opts.dirs:
        if not os.path.isdir(host):
            why = "No such file or directory" if not os.path.exists(host) else "Not a directory"
            raise _Failure(f"Error: failed to open directory `{host}` for --dir: {why}", 1)
        try:
            wasi.preopen_dir(host, guest)
        except (WasmError, OSError) as exc:
            raise _Failure(f"Error: failed to open directory `{host}` for --dir: {exc}", 1) from exc
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    return wasi


def _run_module(api: Any, store: Any, linker: Any, module: Any, opts: RunOptions) -> int:
    path = opts.module
    try:
        instance = linker.instantiate(store, module)
    except WasmError as exc:
        if isinstance(exc, api.Trap | api.ExitTrap):
            _raise_for(api, path, f'failed to instantiate "{path}"', exc)
        raise _Failure(f"Error: failed to run main module `{path}`: {exc}", 1) from exc
    exports = instance.exports(store)
    if opts.invoke is None:
        func = exports.get("")
        if not isinstance(func, api.Func):
            func = exports.get("_start")
        if not isinstance(func, api.Func):
            return 0  # NB: as wasmtime: a module without a command entry point runs nothing
        _call(api, store, func, [], path, "failed to invoke command default")
        return 0
    name = opts.invoke
    func = exports.get(name)
    if not isinstance(func, api.Func):
        raise _Failure(f"Error: failed to run main module `{path}`: no func export named `{name}` found", 1)
    ty = func.type(store)
    values = _invoke_arguments(path, name, [str(p) for p in ty.params], opts.args)
    result_types = [str(r) for r in ty.results]
    initialize = exports.get("_initialize")
    if isinstance(initialize, api.Func) and name != "_initialize":
        _call(api, store, initialize, [], path, "failed to invoke `_initialize`")
    results = _call(api, store, func, values, path, f"failed to invoke `{name}`")
    # NB: one result comes back bare (None for a null reference), several as a list
    if len(result_types) == 1:
        results = [results]
    elif not result_types:
        results = []
    for value, ty_name in zip(results, result_types, strict=True):
        print(format_value(value, ty_name))
    sys.stdout.flush()
    return 0


def _run_under_debugger(api: Any, store: Any, linker: Any, module: Any, opts: RunOptions) -> int:
    """``--gdb-port``: ``_start`` under the GDB remote server, until the guest ends."""
    from ..gdbstub.server import ModuleTarget, serve_guest

    path = opts.module
    try:
        instance = linker.instantiate(store, module)
    except WasmError as exc:
        raise _Failure(f"Error: failed to run main module `{path}`: {exc}", 1) from exc
    start = instance.exports(store).get("_start")
    if not isinstance(start, api.Func):
        raise _Failure(f"Error: failed to run main module `{path}`: no _start to debug", 1)
    server = serve_guest(
        store, lambda: start(store), [ModuleTarget(path, module, instance)], opts.gdb_port or "",
        announce=lambda host, port: print(f"wasmdbg: waiting for a debugger on {host}:{port}",
                                          file=sys.stderr, flush=True),
    )
    if isinstance(server.guest_error, WasmError):
        _raise_for(api, path, "failed to invoke command default", server.guest_error)
    return int(server.status)


def _call(api: Any, store: Any, func: Any, values: list[Any], path: str, what: str) -> Any:
    """``func(store, *values)``; what can go wrong becomes the matching exit."""
    try:
        return func(store, *values)
    except WasmError as exc:
        _raise_for(api, path, what, exc)


def _raise_for(api: Any, path: str, what: str, exc: WasmError) -> NoReturn:
    """Turn a failed call into its exit: :class:`_Exit`, :class:`_Interrupted` or :class:`_Failure`."""
    if isinstance(exc, api.ExitTrap):  # NB: first, in case an ExitTrap is also a Trap
        code = int(exc.code)
        if 0 <= code < _EXIT_LIMIT:
            raise _Exit(code) from None
        # NB: wasmtime refuses statuses a shell would misread (256 is not success,
        # 128+N looks like a signal): it reports an error and exits with 1.
        cause = f"exit with invalid exit status outside of [0..{_EXIT_LIMIT})"
        raise _Failure(_report(path, what, cause, _host_backtrace(exc)), 1) from None
    if isinstance(exc, api.Trap):
        if exc.trap_code == api.TrapCode.INTERRUPT:
            raise _Interrupted from None
        raise _Failure(_report(path, what, exc.cause, exc.frames), EXIT_TRAP) from None
    raise _Failure(_report(path, what, str(exc), _host_backtrace(exc)), 1) from None


def _host_backtrace(exc: BaseException) -> list[Any]:
    """The Wasm frames under a host function's exception (the Store records them)."""
    frames = getattr(exc, "wasm_backtrace", None)
    return list(frames) if frames else []


def _invoke_arguments(path: str, name: str, params: list[str], texts: Sequence[str]) -> list[Any]:
    if len(texts) < len(params):
        want = f"{len(params)} argument{'s' if len(params) != 1 else ''}"
        raise _Failure(
            f"Error: failed to run main module `{path}`: not enough arguments for `{name}`: "
            f"it takes {want} ({', '.join(params)}), got {len(texts)}",
            1,
        )
    # NB: as wasmtime, words beyond the parameters are not an error: they are
    # still the guest's argv (`--invoke _start prog.wasm ARGS...`)
    values = []
    for i, (text, param) in enumerate(zip(texts, params, strict=False)):
        try:
            values.append(parse_value(text, param))
        except WasmError as exc:
            raise _Failure(
                f"Error: failed to run main module `{path}`: argument {i + 1} of `{name}` "
                f"is {text!r}, not a valid {param}: {exc}",
                1,
            ) from exc
    return values


def _report(path: str, what: str, cause: str, frames: Sequence[Any]) -> str:
    """Wasmtime's error chain: the failed step, the backtrace, the cause."""
    from ..runtime.trap import format_backtrace

    chain = [what]
    if frames:
        chain.append("error while executing at wasm backtrace:\n" + _with_sources(format_backtrace(frames), frames))
    chain.append(cause)
    lines = [f"Error: failed to run main module `{path}`", "", "Caused by:"]
    lines += [f"    {i}: {step}" for i, step in enumerate(chain)]
    return "\n".join(lines)


def _with_sources(text: str, frames: Sequence[Any]) -> str:
    """The backtrace with ``at FILE:LINE:COLUMN`` under each frame that has DWARF lines."""
    from ..debug.sourceframes import source_position

    out = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        out.append(line)
        if i < len(frames) and not line.lstrip().startswith("..."):
            frame = frames[i]
            for where in source_position(frame.module, frame.module_offset):
                out.append(f"                    at {where}")
    return "\n".join(out)
