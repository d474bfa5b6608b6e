"""``Linker``: names for imports, and instantiation by name.

Definitions are keyed by ``(module, name)``.  An item is either bound to a
Store (``define``, ``define_instance``, ``define_module``) or, for
``define_func``, Store-independent: the host function is materialised once
per Store on first use, so one Linker can instantiate into many Stores.
Defining a name twice is a :class:`~wasmdbg.errors.LinkError` unless
``allow_shadowing`` is set.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import LinkError, WasmError
from ..wasm.types import ExternKind
from .engine import Engine
from .func import Func
from .instance import AsExtern, Instance
from .module import Module
from .store import Store, as_store
from .trap import Trap
from .types import FuncType
from .value import bits_to_py
from .wasi import WASI_MODULE, wasi_functions

__all__ = ["Linker"]


@dataclass(eq=False)
class _HostFuncDef:
    """A ``define_func`` definition, materialised per Store."""

    ty: FuncType
    func: Callable[..., Any]
    access_caller: bool
    per_store: weakref.WeakKeyDictionary[Store, Func] = field(default_factory=weakref.WeakKeyDictionary)

    def get(self, store: Store) -> Func:
        f = self.per_store.get(store)
        if f is None:
            f = Func(store, self.ty, self.func, self.access_caller)
            self.per_store[store] = f
        return f


_Item = AsExtern | _HostFuncDef


class Linker:
    """Resolves imports by name: ``Linker(engine)``."""

    def __init__(self, engine: Engine) -> None:
        if not isinstance(engine, Engine):
            raise TypeError("expected an Engine")
        self.engine = engine
        self._defs: dict[tuple[str, str], _Item] = {}
        self._allow_shadowing = False

    @property
    def allow_shadowing(self) -> bool:
        """Whether a later definition may replace an earlier one."""
        return self._allow_shadowing

    @allow_shadowing.setter
    def allow_shadowing(self, allow: bool) -> None:
        self._allow_shadowing = bool(allow)

    def _insert(self, module: str, name: str, item: _Item) -> None:
        key = (module, name)
        if key in self._defs and not self._allow_shadowing:
            raise LinkError(f"import of `{module}::{name}` defined twice")
        self._defs[key] = item

    def define(self, store: Any, module: str, name: str, item: AsExtern) -> None:
        """Name ``item`` (a Func, Memory, Table or Global of ``store``)."""
        from .globals import Global
        from .memory import Memory
        from .table import Table

        if not isinstance(item, Func | Memory | Table | Global):
            raise TypeError("expected a Func, Global, Memory, or Table")
        if not item.belongs_to(as_store(store)):
            raise WasmError("cannot define an item from a different Store")
        self._insert(module, name, item)

    def define_func(
        self, module: str, name: str, ty: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> None:
        """Name a host function usable from any Store."""
        if not isinstance(ty, FuncType):
            raise TypeError("expected a FuncType")
        self._insert(module, name, _HostFuncDef(ty, func, access_caller))

    def define_instance(self, store: Any, name: str, instance: Instance) -> None:
        """Name every export of ``instance`` under module ``name``."""
        if not isinstance(instance, Instance):
            raise TypeError("expected an `Instance`")
        st = as_store(store)
        for export_name, item in instance.exports(st).items():
            self.define(st, name, export_name, item)

    def define_module(self, store: Any, name: str, module: Module) -> None:
        """Instantiate ``module`` with this linker and name its exports.

        Reactor semantics: the instance is created once and its
        ``_initialize`` export (if any) is run.
        """
        if not isinstance(module, Module):
            raise TypeError("expected a `Module`")
        st = as_store(store)
        instance = self.instantiate(st, module)
        init = instance.exports(st).get("_initialize")
        if isinstance(init, Func):
            init(st)
        self.define_instance(st, name, instance)

    def define_wasi(self) -> None:
        """Define the ``wasi_snapshot_preview1`` functions (see :mod:`.wasi`).

        They work in any Store that was given a ``WasiConfig`` with
        ``store.set_wasi``.
        """
        for name, (ft, fn) in wasi_functions().items():
            self._insert(WASI_MODULE, name, _HostFuncDef(FuncType.from_wasm_type(ft), fn, True))

    def _resolve(self, store: Store, module: str, name: str) -> AsExtern | None:
        item = self._defs.get((module, name))
        if isinstance(item, _HostFuncDef):
            return item.get(store)
        return item

    def instantiate(self, store: Any, module: Module) -> Instance:
        """Instantiate ``module`` with imports looked up by name."""
        if not isinstance(module, Module):
            raise TypeError("expected a `Module`")
        st = as_store(store)
        imports: list[AsExtern] = []
        for imp in module.definition.imports:
            item = self._resolve(st, imp.module, imp.name)
            if item is None:
                raise LinkError(f"unknown import: `{imp.module}::{imp.name}` has not been defined")
            imports.append(item)
        return Instance(st, module, imports)

    def get(self, store: Any, module: str, name: str) -> AsExtern:
        """The item named ``module::name``."""
        item = self._resolve(as_store(store), module, name)
        if item is None:
            raise WasmError("item not defined in linker")
        return item

    def get_default(self, store: Any, name: str) -> Func:
        """The default export (``""`` or ``_start``) of module ``name``."""
        for field_name in ("", "_start"):
            item = self._resolve(as_store(store), name, field_name)
            if isinstance(item, Func):
                return item
        raise WasmError(f"no default export for module `{name}`")

    def define_unknown_imports_as_traps(self, module: Module) -> None:
        """Define every undefined function import as a function that traps."""
        mod = module.definition
        for imp in mod.imports:
            if imp.kind is ExternKind.FUNC and (imp.module, imp.name) not in self._defs:
                label = f"{imp.module}::{imp.name}"

                def trap(*args: Any, _label: str = label) -> Any:
                    raise Trap(f"unknown import: `{_label}` has not been defined")

                ft = FuncType.from_wasm_type(mod.types[imp.desc])  # type: ignore[index]
                self._insert(imp.module, imp.name, _HostFuncDef(ft, trap, False))

    def define_unknown_imports_as_default_values(self, store: Any, module: Module) -> None:
        """Define every undefined function import as returning zeros / nulls."""
        st = as_store(store)
        mod = module.definition
        for imp in mod.imports:
            if imp.kind is ExternKind.FUNC and (imp.module, imp.name) not in self._defs:
                core_ft = mod.types[imp.desc]  # type: ignore[index]
                zeros = [bits_to_py(st, t, 0) for t in core_ft.results]
                shaped: Any = None if not zeros else zeros[0] if len(zeros) == 1 else zeros

                def default(*args: Any, _v: Any = shaped) -> Any:
                    return _v

                self._insert(imp.module, imp.name, Func(st, FuncType.from_wasm_type(core_ft), default))
