"""The embedding API's type objects, with wasmtime-py's names and shapes.

``ValType``, ``FuncType``, ``Limits``, ``GlobalType``, ``TableType``,
``MemoryType``, ``ImportType`` and ``ExportType`` wrap the plain frozen
dataclasses of :mod:`wasmdbg.wasm.types` (which the decoder, validator and
compiler use).  Each wrapper keeps its core value in ``_core``; the runtime
converts with ``from_wasm_type`` / :func:`to_api_type` and reads the core
value back through ``wasm_type``, so nothing below the runtime ever sees
these classes.

``ValType`` instances are interned: ``ValType.i32() is ValType.i32()``.
"""

from __future__ import annotations

from typing import Union

from ..errors import WasmError
from ..wasm import types as core
from ..wasm.module import Export, Import, ModuleDef
from ..wasm.types import ExternKind

__all__ = [
    "AsExternType",
    "ExportType",
    "FuncType",
    "GlobalType",
    "ImportType",
    "Limits",
    "MemoryType",
    "TableType",
    "ValType",
    "to_api_type",
]


class ValType:
    """A value type: ``ValType.i32()``, ``.i64()``, ``.f32()``, ``.f64()``,
    ``.funcref()``, ``.externref()``."""

    __slots__ = ("_core",)
    _core: core.ValType
    _interned: dict[core.ValType, ValType] = {}  # noqa: RUF012 - class-level cache

    def __init__(self) -> None:
        raise WasmError("cannot construct directly")

    @classmethod
    def from_wasm_type(cls, kind: core.ValType) -> ValType:
        """Runtime-facing: wrap the decoder's type (no checks)."""
        ty = cls._interned.get(kind)
        if ty is None:
            ty = object.__new__(cls)
            ty._core = kind
            cls._interned[kind] = ty
        return ty

    @property
    def wasm_type(self) -> core.ValType:
        """Runtime-facing: the decoder's type this object wraps."""
        return self._core

    @classmethod
    def i32(cls) -> ValType:
        """32-bit integer."""
        return cls.from_wasm_type(core.ValType.I32)

    @classmethod
    def i64(cls) -> ValType:
        """64-bit integer."""
        return cls.from_wasm_type(core.ValType.I64)

    @classmethod
    def f32(cls) -> ValType:
        """32-bit float."""
        return cls.from_wasm_type(core.ValType.F32)

    @classmethod
    def f64(cls) -> ValType:
        """64-bit float."""
        return cls.from_wasm_type(core.ValType.F64)

    @classmethod
    def funcref(cls) -> ValType:
        """A nullable function reference."""
        return cls.from_wasm_type(core.ValType.FUNCREF)

    @classmethod
    def externref(cls) -> ValType:
        """A nullable reference to a host (Python) object."""
        return cls.from_wasm_type(core.ValType.EXTERNREF)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValType) and other._core is self._core

    def __hash__(self) -> int:
        return hash(self._core)

    def __str__(self) -> str:
        return self._core.text

    def __repr__(self) -> str:
        return str(self)


def _vt(ty: ValType) -> core.ValType:
    if not isinstance(ty, ValType):
        raise TypeError("expected ValType")
    return ty._core


class FuncType:
    """A function signature: ``FuncType([ValType.i32()], [ValType.i64()])``."""

    __slots__ = ("_core",)
    _core: core.FuncType

    def __init__(self, params: list[ValType], results: list[ValType]) -> None:
        self._core = core.FuncType(tuple(_vt(p) for p in params), tuple(_vt(r) for r in results))

    @classmethod
    def from_wasm_type(cls, ft: core.FuncType) -> FuncType:
        """Runtime-facing: wrap the decoder's type (no checks)."""
        ty = object.__new__(cls)
        ty._core = ft
        return ty

    @property
    def wasm_type(self) -> core.FuncType:
        """Runtime-facing: the decoder's type this object wraps."""
        return self._core

    @property
    def params(self) -> list[ValType]:
        """The parameter types."""
        return [ValType.from_wasm_type(t) for t in self._core.params]

    @property
    def results(self) -> list[ValType]:
        """The result types."""
        return [ValType.from_wasm_type(t) for t in self._core.results]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FuncType) and other._core == self._core

    def __hash__(self) -> int:
        return hash(self._core)

    def __str__(self) -> str:
        parts = ["func"]
        if self._core.params:
            parts.append("(param " + " ".join(t.text for t in self._core.params) + ")")
        if self._core.results:
            parts.append("(result " + " ".join(t.text for t in self._core.results) + ")")
        return "(" + " ".join(parts) + ")"

    def __repr__(self) -> str:
        return f"FuncType({self})"


def _check_limit(value: object) -> None:
    if not isinstance(value, int):
        raise TypeError(f"limits must be integers, not {value!r}")
    if not 0 <= value <= 0xFFFF_FFFF:
        raise WasmError(f"limit {value} out of range (0 to 2**32-1)")


class Limits:
    """Minimum and optional maximum size (pages or elements)."""

    __slots__ = ("max", "min")

    def __init__(self, min: int, max: int | None) -> None:
        self.min = min
        self.max = max

    @classmethod
    def _of(cls, limits: core.Limits) -> Limits:
        return cls(limits.min, limits.max)

    def _to_core(self) -> core.Limits:
        # NB: checked here, not in __init__: ``min``/``max`` are plain attributes
        # a user may reassign, and a negative size would reach compiled code as
        # a huge unsigned bound
        _check_limit(self.min)
        if self.max is not None:
            _check_limit(self.max)
        return core.Limits(self.min, self.max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and (self.min, self.max) == (other.min, other.max)

    def __hash__(self) -> int:
        return hash((self.min, self.max))

    def __repr__(self) -> str:
        return f"Limits({self.min}, {self.max})"


class GlobalType:
    """A global's content type and mutability."""

    __slots__ = ("_core",)
    _core: core.GlobalType

    def __init__(self, valtype: ValType, mutable: bool) -> None:
        self._core = core.GlobalType(_vt(valtype), bool(mutable))

    @classmethod
    def from_wasm_type(cls, gt: core.GlobalType) -> GlobalType:
        """Runtime-facing: wrap the decoder's type (no checks)."""
        ty = object.__new__(cls)
        ty._core = gt
        return ty

    @property
    def wasm_type(self) -> core.GlobalType:
        """Runtime-facing: the decoder's type this object wraps."""
        return self._core

    @property
    def content(self) -> ValType:
        """The value type held."""
        return ValType.from_wasm_type(self._core.valtype)

    @property
    def mutable(self) -> bool:
        """Whether ``set_value`` / ``global.set`` are allowed."""
        return self._core.mutable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlobalType) and other._core == self._core

    def __hash__(self) -> int:
        return hash(self._core)

    def __str__(self) -> str:
        t = self._core.valtype.text
        return f"(global (mut {t}))" if self._core.mutable else f"(global {t})"


class TableType:
    """A table's element type and limits."""

    __slots__ = ("_core",)
    _core: core.TableType

    def __init__(self, valtype: ValType, limits: Limits) -> None:
        if not isinstance(limits, Limits):
            raise TypeError("expected Limits")
        elem = _vt(valtype)
        if not elem.is_ref:
            raise WasmError("table element type must be a reference type")
        self._core = core.TableType(elem, limits._to_core())

    @classmethod
    def from_wasm_type(cls, tt: core.TableType) -> TableType:
        """Runtime-facing: wrap the decoder's type (no checks)."""
        ty = object.__new__(cls)
        ty._core = tt
        return ty

    @property
    def wasm_type(self) -> core.TableType:
        """Runtime-facing: the decoder's type this object wraps."""
        return self._core

    @property
    def element(self) -> ValType:
        """The element type."""
        return ValType.from_wasm_type(self._core.elem)

    @property
    def limits(self) -> Limits:
        """Size limits in elements."""
        return Limits._of(self._core.limits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableType) and other._core == self._core

    def __hash__(self) -> int:
        return hash(self._core)

    def __str__(self) -> str:
        lim = self._core.limits
        mx = "" if lim.max is None else f" {lim.max}"
        return f"(table {lim.min}{mx} {self._core.elem.text})"


class MemoryType:
    """A memory's limits in 64 KiB pages (32-bit, unshared memories only)."""

    __slots__ = ("_core",)
    _core: core.MemoryType

    def __init__(
        self, limits: Limits, is_64: bool = False, shared: bool = False, page_size_log2: int = 16
    ) -> None:
        if not isinstance(limits, Limits):
            raise TypeError("expected Limits")
        if is_64 or shared or page_size_log2 != 16:
            raise WasmError("only 32-bit unshared memories with 64 KiB pages are supported")
        lim = limits._to_core()
        if lim.min > core.MAX_PAGES:
            raise WasmError("minimum size too large")
        if lim.max is not None and lim.max > core.MAX_PAGES:
            raise WasmError("maximum size too large")
        self._core = core.MemoryType(lim)

    @classmethod
    def from_wasm_type(cls, mt: core.MemoryType) -> MemoryType:
        """Runtime-facing: wrap the decoder's type (no checks)."""
        ty = object.__new__(cls)
        ty._core = mt
        return ty

    @property
    def wasm_type(self) -> core.MemoryType:
        """Runtime-facing: the decoder's type this object wraps."""
        return self._core

    @property
    def limits(self) -> Limits:
        """Size limits in pages."""
        return Limits._of(self._core.limits)

    @property
    def is_64(self) -> bool:
        """Always False (memory64 is not supported)."""
        return False

    @property
    def is_shared(self) -> bool:
        """Always False (threads are not supported)."""
        return False

    @property
    def page_size(self) -> int:
        """Bytes per page (64 KiB)."""
        return core.PAGE_SIZE

    @property
    def page_size_log2(self) -> int:
        """log2 of :attr:`page_size`."""
        return 16

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryType) and other._core == self._core

    def __hash__(self) -> int:
        return hash(self._core)

    def __str__(self) -> str:
        lim = self._core.limits
        mx = "" if lim.max is None else f" {lim.max}"
        return f"(memory {lim.min}{mx})"


AsExternType = Union[FuncType, TableType, MemoryType, GlobalType]  # noqa: UP007


def to_api_type(
    desc: core.FuncType | core.TableType | core.MemoryType | core.GlobalType,
) -> AsExternType:
    """Wrap a core extern type in its API class."""
    if isinstance(desc, core.FuncType):
        return FuncType.from_wasm_type(desc)
    if isinstance(desc, core.TableType):
        return TableType.from_wasm_type(desc)
    if isinstance(desc, core.MemoryType):
        return MemoryType.from_wasm_type(desc)
    return GlobalType.from_wasm_type(desc)


def _extern_desc(
    module: ModuleDef, kind: ExternKind, index: int
) -> core.FuncType | core.TableType | core.MemoryType | core.GlobalType:
    if kind is ExternKind.FUNC:
        return module.func_type(index)
    if kind is ExternKind.TABLE:
        return module.tables[index]
    if kind is ExternKind.MEMORY:
        return module.memories[index]
    return module.globals[index]


class ImportType:
    """One import of a module: ``module``, ``name`` and ``type``."""

    __slots__ = ("_imp", "_type")

    def __init__(self, imp: Import, ty: AsExternType) -> None:
        self._imp = imp
        self._type = ty

    @classmethod
    def from_import(cls, module: ModuleDef, imp: Import) -> ImportType:
        """Runtime-facing: the API view of import ``imp`` of ``module``."""
        desc = imp.desc
        if isinstance(desc, int):
            return cls(imp, FuncType.from_wasm_type(module.types[desc]))
        return cls(imp, to_api_type(desc))

    @property
    def module(self) -> str:
        """The module name the import is looked up under."""
        return self._imp.module

    @property
    def name(self) -> str:
        """The field name within :attr:`module`."""
        return self._imp.name

    @property
    def type(self) -> AsExternType:
        """The expected type of the item."""
        return self._type

    def __repr__(self) -> str:
        return f"ImportType({self.module!r}, {self.name!r}, {self._type})"


class ExportType:
    """One export of a module: ``name`` and ``type``."""

    __slots__ = ("_exp", "_type")

    def __init__(self, exp: Export, ty: AsExternType) -> None:
        self._exp = exp
        self._type = ty

    @classmethod
    def from_export(cls, module: ModuleDef, exp: Export) -> ExportType:
        """Runtime-facing: the API view of export ``exp`` of ``module``."""
        return cls(exp, to_api_type(_extern_desc(module, exp.kind, exp.index)))

    @property
    def name(self) -> str:
        """The export's name."""
        return self._exp.name

    @property
    def type(self) -> AsExternType:
        """The exported item's type."""
        return self._type

    def __repr__(self) -> str:
        return f"ExportType({self.name!r}, {self._type})"
