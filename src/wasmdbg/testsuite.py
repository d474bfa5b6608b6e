"""The spec-suite runner: WABT ``wast2json`` scripts run through the public API.

A script is a JSON file of commands (``module``, ``register``, ``action``,
``assert_return``, ``assert_trap``, ``assert_exhaustion``,
``assert_malformed``, ``assert_invalid``, ``assert_unlinkable``,
``assert_uninstantiable``) next to the ``.wasm`` files it names.  Each
command is counted once as passed, failed or skipped:

* text-format ``assert_malformed`` commands are skipped: wasmdbg decodes
  binaries and has no text parser of its own;
* commands that need execution are skipped (never passed) when the runtime
  cannot execute code.

Values cross as bit patterns: arguments are built with ``Val.from_bits`` and
results read back with ``Val.bits``, so NaN payloads are compared exactly;
``nan:canonical`` and ``nan:arithmetic`` are checked on the bits.

The ``spectest`` host module the scripts import is built here from public
API objects (print functions, globals, a table and a memory).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DecodeError, LinkError, ValidationError, WasmError

__all__ = ["FileResult", "find_scripts", "run_file", "summarize"]

_F32_CANON = 0x7FC00000
_F64_CANON = 0x7FF8000000000000


@dataclass
class FileResult:
    """Counts for one script, with a line per failure."""

    path: Path
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one skipped command under ``reason``."""
        self.skipped += 1
        self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1

    def fail(self, line: int, message: str) -> None:
        """Count one failed command, recording ``message`` with its script line."""
        self.failed += 1
        self.failures.append(f"{self.path.name}:{line}: {message}")


class _Mismatch(Exception):
    """An assertion about a command did not hold."""


def find_scripts(paths: list[Path]) -> Iterator[Path]:
    """The ``.json`` scripts in ``paths`` (files, or folders searched recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.json"))
        else:
            yield path


def _api() -> Any:
    """The public API package (imported late: it sits above this module's deps)."""
    import wasmdbg

    return wasmdbg


def _can_execute() -> bool:
    return hasattr(_api(), "Store")


def run_file(
    path: Path,
    *,
    guest_debug: bool = False,
    all_sites: bool = False,
    locals_in_registers: bool = True,
    signals_based_traps: bool = True,
    lazy_compilation: bool = True,
) -> FileResult:
    """Run one script; never raises for anything the script does."""
    result = FileResult(path)
    try:
        script = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        result.fail(0, f"cannot read script: {exc}")
        return result
    session = _Session(
        path.parent,
        guest_debug=guest_debug,
        all_sites=all_sites,
        locals_in_registers=locals_in_registers,
        signals_based_traps=signals_based_traps,
        lazy_compilation=lazy_compilation,
    )
    for command in script.get("commands", []):
        line = int(command.get("line", 0))
        kind = command.get("type", "?")
        try:
            outcome = session.run(command)
        except _Mismatch as exc:
            result.fail(line, f"{kind}: {exc}")
            continue
        except Exception as exc:
            result.fail(line, f"{kind}: unexpected {type(exc).__name__}: {exc}")
            continue
        if outcome is None:
            result.passed += 1
        else:
            result.skip(outcome)
    return result


class _Session:
    """The state of one script: current module, named instances, registrations."""

    def __init__(
        self,
        folder: Path,
        *,
        guest_debug: bool,
        all_sites: bool,
        locals_in_registers: bool,
        signals_based_traps: bool = True,
        lazy_compilation: bool = True,
    ) -> None:
        self.folder = folder
        self.lazy_compilation = lazy_compilation
        self.locals_in_registers = locals_in_registers
        self.signals_based_traps = signals_based_traps
        self.exec = _can_execute()
        self.guest_debug = guest_debug
        self.all_sites = all_sites
        self.current: Any = None
        self.named: dict[str, Any] = {}
        self.store: Any = None
        self.linker: Any = None
        if self.exec:
            self._start_store()

    # -- helpers ----------------------------------------------------------
    def _start_store(self) -> None:
        api = _api()
        config = api.Config()
        config.guest_debug = self.guest_debug
        config.locals_in_registers = self.locals_in_registers
        config.signals_based_traps = self.signals_based_traps
        config.lazy_compilation = self.lazy_compilation
        self.engine = api.Engine(config)
        self.store = api.Store(self.engine)
        if self.all_sites:
            with self.store.edit_breakpoints() as edit:
                edit.single_step(True)
            self.store.set_debug_handler(lambda store, event: None)
        self.linker = api.Linker(self.engine)
        self.linker.allow_shadowing = True
        for name, item in _spectest_items(self.store).items():
            self.linker.define(self.store, "spectest", name, item)

    def _read(self, command: dict[str, Any]) -> bytes:
        return (self.folder / str(command["filename"])).read_bytes()

    def _decode_and_validate(self, data: bytes) -> Any:
        if self.exec:
            api = _api()
            return api.Module(self.engine, data)
        from .wasm.decoder import decode_module
        from .wasm.validator import validate

        module = decode_module(data)
        validate(module)
        return module

    def _instance(self, command: dict[str, Any]) -> Any:
        name = command.get("action", {}).get("module") or command.get("module")
        instance = self.named.get(name) if name else self.current
        if instance is None:
            raise _Mismatch(f"no module instance {name or '(current)'}")
        return instance

    # -- commands ---------------------------------------------------------
    def run(self, command: dict[str, Any]) -> str | None:
        """Run one command; returns a skip reason, or None when it passed."""
        kind = command["type"]
        handler: Callable[[dict[str, Any]], str | None] = getattr(self, "_" + kind)
        return handler(command)

    def _module(self, command: dict[str, Any]) -> str | None:
        module = self._validated(command)
        if not self.exec:
            self.current = None
            return None
        try:
            self.current = self.linker.instantiate(self.store, module)
        except WasmError as exc:
            self.current = None
            raise _Mismatch(f"instantiation failed: {exc}") from exc
        if command.get("name"):
            self.named[command["name"]] = self.current
        return None

    def _register(self, command: dict[str, Any]) -> str | None:
        if not self.exec:
            return "needs execution"
        instance = self.named.get(command.get("name", "")) or self.current
        if instance is None:
            raise _Mismatch("nothing to register")
        self.linker.define_instance(self.store, command["as"], instance)
        return None

    def _assert_malformed(self, command: dict[str, Any]) -> str | None:
        if command.get("module_type") == "text":
            return "text-format module (no text parser)"
        self._expect_rejection(command, DecodeError, "malformed")
        return None

    def _assert_invalid(self, command: dict[str, Any]) -> str | None:
        self._expect_rejection(command, ValidationError, "invalid")
        return None

    def _expect_rejection(self, command: dict[str, Any], error: type[WasmError], what: str) -> None:
        try:
            self._decode_and_validate(self._read(command))
        except error:
            return
        except WasmError as exc:
            raise _Mismatch(f"expected {what} ({command['text']}), got {type(exc).__name__}: {exc}") from exc
        raise _Mismatch(f"{what} module accepted (expected {command['text']})")

    def _assert_unlinkable(self, command: dict[str, Any]) -> str | None:
        return self._expect_instantiation_failure(command, LinkError)

    def _assert_uninstantiable(self, command: dict[str, Any]) -> str | None:
        return self._expect_instantiation_failure(command, _api().Trap if self.exec else WasmError)

    def _expect_instantiation_failure(self, command: dict[str, Any], error: type[Exception]) -> str | None:
        """The module validates, and instantiating it raises ``error``."""
        module = self._validated(command)
        if not self.exec:
            return "needs execution"
        try:
            self.linker.instantiate(self.store, module)
        except error:
            return None
        except WasmError as exc:
            raise _Mismatch(f"expected {error.__name__} ({command['text']}), got {type(exc).__name__}: {exc}") from exc
        raise _Mismatch(f"module instantiated (expected {command['text']})")

    def _validated(self, command: dict[str, Any]) -> Any:
        try:
            return self._decode_and_validate(self._read(command))
        except WasmError as exc:
            raise _Mismatch(f"module rejected by decoder/validator: {exc}") from exc

    def _action(self, command: dict[str, Any]) -> str | None:
        if not self.exec:
            return "needs execution"
        self._perform(command["action"])
        return None

    def _assert_return(self, command: dict[str, Any]) -> str | None:
        if not self.exec:
            return "needs execution"
        api = _api()
        try:
            results = self._perform(command["action"])
        except api.Trap as exc:
            raise _Mismatch(f"unexpected trap: {exc}") from exc
        expected = command["expected"]
        if len(results) != len(expected):
            raise _Mismatch(f"expected {len(expected)} results, got {len(results)}")
        for i, (got, want) in enumerate(zip(results, expected, strict=True)):
            if not _matches(got, want):
                raise _Mismatch(f"result {i}: expected {want['type']} {want.get('value')}, got {_show(got)}")
        return None

    def _assert_trap(self, command: dict[str, Any]) -> str | None:
        if not self.exec:
            return "needs execution"
        api = _api()
        try:
            results = self._perform(command["action"])
        except api.Trap as exc:
            want = command["text"]
            if not _trap_text_matches(str(exc), want):
                raise _Mismatch(f"trapped with '{exc.message}', expected '{want}'") from exc
            return None
        raise _Mismatch(f"returned {[_show(r) for r in results]}, expected trap {command['text']}")

    _assert_exhaustion = _assert_trap

    def _perform(self, action: dict[str, Any]) -> list[Any]:
        api = _api()
        instance = self._instance({"action": action})
        export = instance.exports(self.store).get(action["field"])
        if export is None:
            raise _Mismatch(f"no export {action['field']}")
        if action["type"] == "get":
            return [export.value_val(self.store)]
        args = [_to_val(api, a) for a in action.get("args", [])]
        return list(export.call_vals(self.store, args))


# -- values ---------------------------------------------------------------


def _to_val(api: Any, arg: dict[str, Any]) -> Any:
    ty = arg["type"]
    value = arg.get("value")
    if ty in ("externref", "funcref"):
        if value == "null" or value is None:
            return api.Val.ref_null(getattr(api.ValType, ty)())
        return api.Val.externref(_ExternTag(int(value)))
    return api.Val.from_bits(getattr(api.ValType, ty)(), int(str(value)))


@dataclass(frozen=True)
class _ExternTag:
    """The host value behind ``(ref.extern N)`` in a script."""

    n: int


def _matches(got: Any, want: dict[str, Any]) -> bool:
    ty = want["type"]
    value = want.get("value")
    if ty == "externref":
        ref = got.value
        if value is None:
            return ref is not None
        if value == "null":
            return ref is None
        return isinstance(ref, _ExternTag) and ref.n == int(value)
    if ty == "funcref":
        if value == "null":
            return got.value is None
        return got.value is not None
    if str(got.type) != ty:
        return False
    bits: int = got.bits
    if value is None:
        return True
    if value == "nan:canonical":
        canon = _F32_CANON if ty == "f32" else _F64_CANON
        sign = 1 << (31 if ty == "f32" else 63)
        return bits & ~sign == canon
    if value == "nan:arithmetic":
        quiet = _F32_CANON if ty == "f32" else _F64_CANON
        return bits & quiet == quiet
    return bits == int(value)


def _show(val: Any) -> str:
    try:
        ty = str(val.type)
        if ty in ("f32", "f64"):
            return f"{ty} 0x{val.bits:x} ({val.value})"
        return f"{ty} {val.value}"
    except Exception:
        return repr(val)


def _trap_text_matches(message: str, want: str) -> bool:
    """True when a trap message names the same failure as the script's text."""
    aliases = {
        "call stack exhausted": ("call stack exhausted", "stack overflow"),
        "undefined element": ("undefined element", "table out of bounds", "out of bounds table"),
        "uninitialized element": ("uninitialized element",),
        "out of bounds table access": ("out of bounds table access", "table out of bounds", "undefined element"),
        "out of bounds memory access": ("out of bounds memory access",),
    }
    message = message.lower()
    candidates = aliases.get(want, (want,))
    return any(c in message for c in candidates) or want.split(" ")[0] in message


# -- the spectest host module --------------------------------------------------


def _spectest_items(store: Any) -> dict[str, Any]:
    """The ``spectest`` module every script may import, as a host instance."""
    api = _api()
    i32, i64, f32, f64 = (api.ValType.i32(), api.ValType.i64(), api.ValType.f32(), api.ValType.f64())

    def printer(*params: Any) -> Any:
        return api.Func(store, api.FuncType(list(params), []), lambda *args: None)

    items: dict[str, Any] = {
        "print": printer(),
        "print_i32": printer(i32),
        "print_i64": printer(i64),
        "print_f32": printer(f32),
        "print_f64": printer(f64),
        "print_i32_f32": printer(i32, f32),
        "print_f64_f64": printer(f64, f64),
        "global_i32": api.Global(store, api.GlobalType(i32, False), 666),
        "global_i64": api.Global(store, api.GlobalType(i64, False), 666),
        "global_f32": api.Global(store, api.GlobalType(f32, False), _round_f32(666.6)),
        "global_f64": api.Global(store, api.GlobalType(f64, False), 666.6),
        "table": api.Table(store, api.TableType(api.ValType.funcref(), api.Limits(10, 20)), None),
        "memory": api.Memory(store, api.MemoryType(api.Limits(1, 2))),
    }
    return items


def _round_f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def summarize(results: list[FileResult]) -> tuple[int, int, int]:
    """Totals (passed, failed, skipped) over several scripts."""
    return (
        sum(r.passed for r in results),
        sum(r.failed for r in results),
        sum(r.skipped for r in results),
    )

