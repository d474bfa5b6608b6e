"""``Module``: decoded, validated and compiled Wasm, ready to instantiate.

``Module(engine, data)`` accepts binary bytes or WebAssembly text (a ``str``
or bytes not starting with ``\\0``; converted with ``wasmtime.wat2wasm``,
since wasmdbg has no text parser of its own).  It decodes and validates at
once (errors: :class:`~wasmdbg.errors.DecodeError`,
:class:`~wasmdbg.errors.ValidationError`).  With ``Config.lazy_compilation``
(the default) that is all: each function is compiled on its first call
(``runtime.lazy``; with guest debugging ``runtime.debuglayout``, which also
compiles a function the debugger asks about).  Otherwise the whole module
is compiled at once for the engine's configuration.

Code memory: without guest debugging the module maps its code once,
published read+execute, and every Store shares it; with ``guest_debug``
each Store maps a private copy (see :class:`~wasmdbg.runtime.code.CodeObject`;
lazily compiled, of the module's ``DebugLayout``).  A lazily compiled plain
module's code (entry stubs, code table, one blob per compiled function) is
shared by every Store.

:meth:`Module.serialize` always holds the whole module compiled; a
deserialized module runs that code (it is not lazy).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
from typing import Any

from ..errors import DecodeError, WasmError
from ..jit.abi import CompiledModule
from ..wasm.decoder import decode_module
from ..wasm.module import ModuleDef
from ..wasm.validator import validate as validate_module
from .codemem import CodeMemory
from .debuglayout import DebugLayout
from .engine import Engine
from .lazy import LazyCode
from .types import ExportType, ImportType

__all__ = ["Module", "to_wasm"]


def to_wasm(data: str | bytes | bytearray | memoryview) -> bytes:
    """Binary bytes for ``data``; WebAssembly text is converted.

    A ``str`` is text unless it starts with ``\\0``.  Bytes are text only when
    they are UTF-8 whose first non-blank character opens a form or a comment
    (``(`` or ``;``); anything else is handed to the decoder as a binary, so
    a malformed binary gets a :class:`~wasmdbg.errors.DecodeError` rather than
    a text-parser complaint.
    """
    if isinstance(data, str):
        if data and data[0] != "\0":
            return _wat2wasm(data)
        try:
            return data.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise DecodeError(f"character {data[exc.start]!r} in a binary str is not a byte", exc.start) from None
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if _looks_like_text(raw):
            return _wat2wasm(raw.decode("utf-8"))
        return raw
    raise TypeError("expected wasm bytes or text")


def _looks_like_text(raw: bytes) -> bool:
    head = raw.lstrip()
    if not head or head[0] not in b"(;":
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _wat2wasm(text: str) -> bytes:
    try:
        import wasmtime
    except ImportError as exc:  # pragma: no cover - wasmtime is a dependency
        raise WasmError("converting WebAssembly text needs the wasmtime package") from exc
    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as exc:
        raise WasmError(str(exc)) from None


# Serialized form: a pickle of (magic, codegen key, sig ids, ModuleDef, CompiledModule).
_SERIAL_MAGIC = "wasmdbg-module/1"
_PICKLE_PREFIX = b"\x80"


class Module:
    """A compiled module: ``Module(engine, wasm_bytes_or_text)``."""

    def __init__(self, engine: Engine, wasm: str | bytes | bytearray) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        self.engine = engine
        binary = to_wasm(wasm)
        self._def: ModuleDef = decode_module(binary)
        validate_module(self._def)
        self._compiled: CompiledModule | None = None
        self._shared: CodeMemory | None = None
        self._lock = threading.Lock()
        self._lazy: LazyCode | None = None
        self._layout: DebugLayout | None = None
        config = engine.config
        self.runs_lazily = config.uses_lazy_compilation or config.uses_debug_layout
        if config.uses_debug_layout:
            self._layout = DebugLayout(self, self._sig_ids(), config)
            return
        if self.runs_lazily:
            self._lazy_code()  # the code table and entry stubs (nothing is compiled)
            return
        # NB: before the compiler exists, fail at instantiation rather than here
        with contextlib.suppress(ModuleNotFoundError):
            self._compiled_module()

    @classmethod
    def from_file(cls, engine: Engine, path: str | bytes | os.PathLike[str]) -> Module:
        """Read and compile the file at ``path`` (binary or text)."""
        with open(path, "rb") as f:
            return cls(engine, f.read())

    @classmethod
    def validate(cls, engine: Engine, wasm: str | bytes | bytearray) -> None:
        """Raise unless ``wasm`` is a valid module (nothing is compiled)."""
        validate_module(decode_module(to_wasm(wasm)))

    # -- compilation ------------------------------------------------------------------
    def _compiled_module(self) -> CompiledModule:
        """The machine code for this module (compiled once)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    from ..jit.compiler import compile_module

                    config = self.engine.config
                    self._compiled = compile_module(
                        self._def,
                        guest_debug=config.guest_debug,
                        sig_ids=self._sig_ids(),
                        locals_in_registers=config.locals_in_registers,
                        signals_based_traps=config.signals_based_traps,
                        twins=config.debug_twins,
                    )
        return self._compiled

    def _lazy_code(self) -> LazyCode:
        """The code table, entry stubs and compiled pieces (lazily compiled modules)."""
        if self._lazy is None:
            with self._lock:
                if self._lazy is None:
                    self._lazy = LazyCode(self, self._sig_ids(), self.engine.config)
        return self._lazy

    def shared_code(self) -> CodeMemory:
        """Runtime-facing: the published code all Stores share (no guest debugging)."""
        if self._shared is None:
            with self._lock:
                if self._shared is None:
                    compiled = self._compiled_module()
                    self._shared = CodeMemory.from_bytes(compiled.code)
        return self._shared

    @property
    def compiled(self) -> CompiledModule:
        """The whole module compiled at once, and its site tables.

        NB: a lazily compiled module (:attr:`runs_lazily`) compiles this on
        first use for inspection and serialization; it does not run it.
        """
        return self._compiled_module()

    @property
    def lazy_code(self) -> LazyCode | None:
        """What a lazily compiled plain module runs (None otherwise)."""
        return self._lazy_code() if self.runs_lazily and self._layout is None else None

    @property
    def debug_layout(self) -> DebugLayout | None:
        """What each Store copies of a lazily compiled guest-debug module (None otherwise)."""
        return self._layout

    # -- wasmtime-py API ---------------------------------------------------------------
    @property
    def definition(self) -> ModuleDef:
        """The decoded module (types, imports, bodies, custom sections ...)."""
        return self._def

    @property
    def raw(self) -> bytes:
        """The original Wasm bytes (never patched)."""
        return self._def.raw

    @property
    def name(self) -> str | None:
        """The module name from the ``name`` section, if any."""
        return self._def.names.module

    @property
    def imports(self) -> list[ImportType]:
        """The imports, in order."""
        return [ImportType.from_import(self._def, imp) for imp in self._def.imports]

    @property
    def exports(self) -> list[ExportType]:
        """The exports, in order."""
        return [ExportType.from_export(self._def, exp) for exp in self._def.exports]

    @property
    def custom_sections(self) -> list[tuple[str, bytes]]:
        """Every custom section as ``(name, payload)``, in binary order."""
        return [(c.name, c.data) for c in self._def.customs]

    def serialize(self) -> bytearray:
        """The decoded module and its machine code as bytes for :meth:`deserialize`.

        The bytes are tied to this wasmdbg version and to the code-shaping
        ``Config`` settings; like wasmtime-py's, they must come from a trusted
        source (loading them runs no validation).
        """
        compiled = self._compiled_module()
        payload = (_SERIAL_MAGIC, self._codegen_key(), self._sig_ids(), self._def, compiled)
        return bytearray(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def deserialize(cls, engine: Engine, encoded: Any) -> Module:
        """A module from :meth:`serialize`'s bytes, without compiling.

        Raises :class:`~wasmdbg.errors.WasmError` when the bytes were not made
        by this wasmdbg version or were made under other code-shaping settings.
        If only the engine's signature numbering differs, the code is compiled
        again from the embedded Wasm (the result is the same module).
        """
        if not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        data = bytes(encoded)
        if not data.startswith(_PICKLE_PREFIX):
            raise WasmError("not a serialized wasmdbg module")
        try:
            payload = pickle.loads(data)
        except Exception as exc:  # NB: a corrupt pickle raises almost anything
            raise WasmError(f"not a serialized wasmdbg module: {exc}") from exc
        if not (isinstance(payload, tuple) and len(payload) == 5 and payload[0] == _SERIAL_MAGIC):
            raise WasmError("not a serialized wasmdbg module (or another wasmdbg version)")
        _, key, sig_ids, mdef, compiled = payload
        module = cls.__new__(cls)
        module.engine = engine
        module._def = mdef
        module._compiled = None
        module._shared = None
        module._lock = threading.Lock()
        module._lazy = None
        module._layout = None
        module.runs_lazily = False
        if key != module._codegen_key():
            raise WasmError("serialized module was compiled under other Config settings")
        # NB: signature ids are numbered per engine and baked into call_indirect
        # checks; only reuse the code when this engine numbers them the same.
        if sig_ids == module._sig_ids():
            module._compiled = compiled
        else:
            module._compiled_module()
        return module

    @classmethod
    def deserialize_file(cls, engine: Engine, path: str | bytes | os.PathLike[str]) -> Module:
        """:meth:`deserialize` the bytes stored in the file at ``path``."""
        with open(path, "rb") as f:
            return cls.deserialize(engine, f.read())

    def _sig_ids(self) -> list[int]:
        return [self.engine.sig_id(t) for t in self._def.types]

    def _codegen_key(self) -> tuple[object, ...]:
        config = self.engine.config
        return (config.guest_debug, config.locals_in_registers, config.signals_based_traps, config.debug_twins)

    def __repr__(self) -> str:
        return f"<Module {self.name or '<unnamed>'}>"
