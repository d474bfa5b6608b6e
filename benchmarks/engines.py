"""Shared helpers for the benchmark scripts: load the engines under test.

Both engines are driven through the same wasmtime-py API (``Engine``, ``Config``,
``Store``, ``Module``, ``Linker``, ``Func``, ``FuncType``, ``ValType``): the
``wasmtime`` package is the reference, and ``wasmdbg`` is imported as a second
module with the same names (``import wasmdbg as wasmtime`` must work).

``load_engine`` never raises: when an engine (typically wasmdbg while its runtime is
still being written) cannot be imported or lacks the API, it returns an ``EngineApi``
whose ``error`` says why, so that the scripts can print a clear message and carry on
with the other engine.
"""

from __future__ import annotations

import importlib
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

# The minimum to compile and run an import-free program; Linker, Func, FuncType and
# ValType are used where a script needs them (a missing one is reported there).
REQUIRED_NAMES = ("Engine", "Store", "Module", "Instance")


@dataclass
class EngineApi:
    """One engine's module (``wasmtime`` or ``wasmdbg``), or why it is unusable."""

    label: str
    mod: ModuleType | None
    error: str | None = None
    guest_debug: bool = False
    # further Config settings for new engines (wasmdbg's own, e.g. lazy_compilation)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.mod is not None and self.error is None

    def new_engine(self) -> Any:
        """A fresh Engine; with ``guest_debug`` its Config has ``guest_debug = True``."""
        assert self.mod is not None
        if not self.guest_debug and not self.settings:
            return self.mod.Engine()
        config = self.mod.Config()
        for key, value in self.settings.items():
            setattr(config, key, value)
        if not self.guest_debug:
            return self.mod.Engine(config)
        # A plain Python object would silently accept any attribute: insist that
        # Config declares guest_debug (a property, or an attribute set by __init__).
        if not (hasattr(type(config), "guest_debug") or hasattr(config, "guest_debug")):
            raise RuntimeError(f"{self.label}: Config has no guest_debug setting")
        config.guest_debug = True
        return self.mod.Engine(config)


def load_engine(name: str, *, guest_debug: bool = False) -> EngineApi:
    """Import ``name`` and check that it exposes the wasmtime-py names we use."""
    label = name + (" +debug" if guest_debug else "")
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # any import-time failure means "not usable yet"
        return EngineApi(label, None, f"cannot import {name}: {type(exc).__name__}: {exc}")
    missing = [n for n in REQUIRED_NAMES if not hasattr(mod, n)]
    if missing:
        return EngineApi(
            label, None, f"{name} does not provide {', '.join(missing)} yet (runtime not landed?)"
        )
    api = EngineApi(label, mod, guest_debug=guest_debug)
    if guest_debug:
        try:
            api.new_engine()
        except Exception as exc:
            return EngineApi(label, None, f"{name}: guest_debug engine: {type(exc).__name__}: {exc}")
    return api


def zero_of(valtype: Any) -> Any:
    """The zero value of a ValType, for stub host functions."""
    text = str(valtype)
    if text in ("i32", "i64"):
        return 0
    if text in ("f32", "f64"):
        return 0.0
    return None  # funcref / externref


def define_stub_imports(api: EngineApi, linker: Any, store: Any, module: Any) -> None:
    """Define every function import of ``module`` as a host function returning zeros.

    ``proc_exit`` raises instead, so a guest that exits is reported rather than ignored.
    The benchmark programs are built without imports; this only matters for programs
    that pull in WASI.
    """
    assert api.mod is not None
    imports = list(module.imports)
    if not imports:
        return
    for imp in imports:
        ty = imp.type
        if not isinstance(ty, api.mod.FuncType):
            raise RuntimeError(f"unsupported non-function import {imp.module}.{imp.name}")
        results = list(ty.results)
        name = imp.name

        def stub(*args: Any, _results: list[Any] = results, _name: str | None = name) -> Any:
            if _name == "proc_exit":
                raise RuntimeError(f"guest called proc_exit({args[0] if args else ''})")
            values = [zero_of(r) for r in _results]
            if not values:
                return None
            return values[0] if len(values) == 1 else values

        linker.define(store, imp.module, imp.name, api.mod.Func(store, ty, stub))


def instantiate(api: EngineApi, engine: Any, store: Any, module: Any) -> Any:
    """Instantiate ``module``: through a Linker with stub imports when the engine has
    one, else (no imports needed) with ``Instance(store, module, [])``."""
    assert api.mod is not None
    linker_cls = getattr(api.mod, "Linker", None)
    if linker_cls is None:
        return api.mod.Instance(store, module, [])
    linker = linker_cls(engine)
    define_stub_imports(api, linker, store, module)
    return linker.instantiate(store, module)


def geomean(values: Sequence[float]) -> float:
    """Geometric mean of positive values (nan for an empty sequence)."""
    if not values:
        return math.nan
    return math.exp(statistics.fmean(math.log(v) for v in values))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The shortest wall time (seconds) of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])
