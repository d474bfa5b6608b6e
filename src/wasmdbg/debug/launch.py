"""A WASI program loaded for debugging: the Store, the instance, and what a front end reads.

Front ends (the DAP server) do not touch the runtime; they describe the
program with a :class:`LaunchConfig` and get a :class:`Program`: a
``guest_debug`` Engine and Store, the WASI configuration (argv, environment,
preopened directories, and standard output and error sent to callbacks, so
guest output never reaches the front end's own streams), the instance, its
entry point, and I/O-free access to linear memory and globals::

    LaunchConfig ──► Program(config, stdout=cb, stderr=cb)
                        │  engine (guest_debug) · store · module · instance
                        ├─ program.launch() -> source.Launch (store, instance, _start)
                        ├─ read_memory / write_memory   (memory 0, clipped reads)
                        └─ globals() / set_global(i, v)

Relative paths (the program, preopened host directories) are taken from
``cwd`` when one is given.  NB: WASI has no working directory; ``cwd`` is
not preopened unless it is listed in ``dirs``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DebugError, WasmError
from ..jit.frametable import decode_bits, encode_value
from ..runtime.config import Config
from ..runtime.engine import Engine
from ..runtime.func import Func
from ..runtime.linker import Linker
from ..runtime.module import Module
from ..runtime.store import Store
from ..runtime.trap import Trap
from ..runtime.wasi import WasiConfig
from ..wasm.types import ValType
from .source import Launch

__all__ = [
    "EXIT_CODE_LIMIT",
    "EXIT_HOST_ERROR",
    "EXIT_KILLED",
    "EXIT_TRAP",
    "GlobalInfo",
    "LaunchConfig",
    "Program",
    "exit_status",
    "format_value",
    "parse_value",
]

#: exit statuses of a guest call that did not end in proc_exit
EXIT_TRAP = 128 + 6  # a trap, as `wasmdbg run` and `wasmtime run` (128 + SIGABRT)
EXIT_KILLED = 128 + 9  # ended by Session.kill (128 + SIGKILL)
EXIT_HOST_ERROR = 1  # a host function raised, or proc_exit with a code >= EXIT_CODE_LIMIT
EXIT_CODE_LIMIT = 126  # proc_exit codes below this are the exit status

Output = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class LaunchConfig:
    """What to run: the module, its arguments, environment and preopened directories."""

    program: str
    args: tuple[str, ...] = ()
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    #: (host directory, guest path)
    dirs: tuple[tuple[str, str], ...] = ()
    argv0: str | None = None


@dataclass(frozen=True, slots=True)
class GlobalInfo:
    """One global of the instance: index, export name (if any), type, mutability, value."""

    index: int
    name: str | None
    type: ValType
    mutable: bool
    value: int | float


class Program:
    """A WASI command instantiated under a debugging Store (module docstring)."""

    def __init__(self, config: LaunchConfig, *, stdout: Output, stderr: Output) -> None:
        self.config = config
        base = Path(config.cwd) if config.cwd else Path.cwd()
        self.path = _resolve(base, config.program)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise DebugError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        engine_config = Config()
        engine_config.guest_debug = True
        self.engine = Engine(engine_config)
        self.module = Module(self.engine, data)
        self.definition = self.module.definition
        wasi = WasiConfig()
        wasi.argv = [config.argv0 if config.argv0 is not None else config.program, *config.args]
        wasi.env = [list(pair) for pair in config.env]
        for host, guest in config.dirs:
            host_path = _resolve(base, host)
            if not host_path.is_dir():
                raise DebugError(f"preopened directory {host_path} is not a directory")
            wasi.preopen_dir(str(host_path), guest)

        def sink(write: Output) -> Callable[[bytes], None]:
            def out(data: bytes) -> None:
                write(bytes(data))

            return out

        wasi.stdout_custom = sink(stdout)
        wasi.stderr_custom = sink(stderr)
        self.store = Store(self.engine)
        self.store.set_wasi(wasi)
        linker = Linker(self.engine)
        linker.define_wasi()
        self.instance = linker.instantiate(self.store, self.module)
        exports = self.instance.exports(self.store)
        for name in ("_start", ""):
            entry = exports.get(name)
            if isinstance(entry, Func):
                break
        else:
            raise DebugError(f"{self.path.name} has no _start function (not a WASI command)")
        self.entry: Func = entry
        index = next(e.index for e in self.definition.exports if e.name == name and int(e.kind) == 0)
        #: the module offset of the entry function's first instruction
        self.entry_pc: int | None = (
            self.definition.body(index).code_start
            if index >= self.definition.num_imported_funcs
            else None
        )

    def launch(self) -> Launch:
        """The run a :class:`~wasmdbg.debug.source.SourceDebugger` starts."""
        entry, store = self.entry, self.store
        return Launch(store, self.instance, lambda: entry(store))

    # -- linear memory ----------------------------------------------------------

    def _memory(self) -> Any:
        memories = self.instance.memories
        if not memories:
            raise DebugError("the program has no linear memory")
        return memories[0]

    @property
    def memory_size(self) -> int:
        """Bytes of memory 0 (0 when there is none)."""
        memories = self.instance.memories
        return int(memories[0].data_len(self.store)) if memories else 0

    def read_memory(self, address: int, count: int) -> bytes:
        """Up to ``count`` bytes of memory 0 at ``address`` (fewer past its end)."""
        if address < 0 or count < 0:
            raise DebugError(f"bad memory range 0x{address:x} + {count}")
        memory = self._memory()
        return bytes(memory.read(self.store, address, address + count))

    def write_memory(self, address: int, data: bytes) -> int:
        """Write ``data`` at ``address`` of memory 0; all of it fits or nothing is written."""
        memory = self._memory()
        if address < 0 or address + len(data) > memory.data_len(self.store):
            raise DebugError(
                f"0x{address:x} + {len(data)} bytes lies outside linear memory "
                f"(0x{memory.data_len(self.store):x} bytes)"
            )
        return int(memory.write(self.store, data, address))

    # -- globals -----------------------------------------------------------------

    def globals(self) -> list[GlobalInfo]:
        """The instance's globals (imports first), named by their exports."""
        names: dict[int, str] = {}
        for export in self.definition.exports:
            if int(export.kind) == 3:  # ExternKind.GLOBAL
                names.setdefault(export.index, export.name)
        result = []
        for i, (g, ty) in enumerate(zip(self.instance.globals, self.definition.globals, strict=True)):
            value = decode_bits(g.raw_bits, ty.valtype)
            result.append(GlobalInfo(i, names.get(i), ty.valtype, ty.mutable, value))
        return result

    def set_global(self, index: int, value: int | float) -> None:
        """Set global ``index`` (mutable ones only)."""
        globals_ = self.instance.globals
        if not 0 <= index < len(globals_):
            raise DebugError(f"no global {index}")
        ty = self.definition.globals[index]
        if not ty.mutable:
            raise DebugError(f"global {index} is immutable")
        try:
            bits = encode_value(value, ty.valtype)
            globals_[index].set_value(self.store, decode_bits(bits, ty.valtype))
        except (ValueError, WasmError) as exc:
            raise DebugError(f"cannot set global {index} to {value!r}: {exc}") from exc


def _resolve(base: Path, name: str) -> Path:
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else base / path


def format_value(value: int | float, ty: ValType) -> str:
    """A Wasm value as the debugger shows it (integers in decimal)."""
    if ty in (ValType.F32, ValType.F64):
        return repr(float(value))
    if ty in (ValType.FUNCREF, ValType.EXTERNREF):
        return "null" if value == 0 else f"ref 0x{int(value):x}"
    return str(int(value))


def parse_value(text: str, ty: ValType) -> int | float:
    """Parse a value typed by a user for a Wasm ``ty`` (decimal, 0x hex, floats)."""
    text = text.strip()
    try:
        if ty in (ValType.F32, ValType.F64):
            return float(text)
        value = int(text, 0)
    except ValueError:
        raise DebugError(f"{text!r} is not a {ty.text} value") from None
    try:
        encode_value(value, ty)
    except ValueError as exc:
        raise DebugError(str(exc)) from None
    return value



def exit_status(exit_code: int | None, error: BaseException | None, *, killed: bool = False) -> int:
    """The process-style exit status of a finished guest call.

    The ``proc_exit`` code when it is in ``[0, 126)``; 0 when ``_start``
    returned; :data:`EXIT_KILLED`, :data:`EXIT_TRAP` or :data:`EXIT_HOST_ERROR`
    otherwise.  NB: a ``proc_exit`` code outside ``[0, 126)`` gives 1, as
    ``wasmtime run`` does (exit(256) is not success, 128+N would look like a
    signal).
    """
    if exit_code is not None:
        return exit_code if 0 <= exit_code < EXIT_CODE_LIMIT else EXIT_HOST_ERROR
    if killed:
        return EXIT_KILLED
    if error is None:
        return 0
    return EXIT_TRAP if isinstance(error, Trap) else EXIT_HOST_ERROR
