"""``Func`` (Wasm and host functions) and ``Caller``.

Every function in a Store -- defined by an instance or by the host -- is one
:class:`Func` object with one :class:`~wasmdbg.runtime.vmcontext.VMFuncRef`;
the Store maps the VMFuncRef's address back to the Func (``funcref``
values, tables).  The same function is always the same Func object.

Host -> Wasm (``func(store, *args)``), the hot path: the arguments are
packed by a precompiled ``struct`` into a slot array allocated once per
Func, the entry trampoline runs the code (GIL released), and the results
are unpacked from the same array.  Reusing the array is safe under
re-entrancy: the trampoline copies arguments in when it starts and results
out when it returns, and the caller reads them before anything else runs.

Wasm -> host: a host Func's VMFuncRef points at the JIT's host-call stub
and at a small VMContext holding ``host_id``; the stub calls the Store's
``hostcall`` callback, which lands in :meth:`Func.call_from_wasm`.

``Caller`` is what a host function defined with ``access_caller=True``
receives first: it finds the calling instance's exports (``caller.get
("memory")``) and can stand in for the Store in any API call.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import WasmError
from ..wasm import types as core
from .store import Store, as_store
from .trap import Trap
from .types import FuncType
from .value import SlotCodec, Val, bits_to_py, py_to_bits
from .vmcontext import VMContext, VMFuncRef, peek

if TYPE_CHECKING:
    from .instance import AsExtern, Instance

__all__ = ["Caller", "Func", "codec_for"]

_codecs: dict[core.FuncType, SlotCodec] = {}
_U64 = struct.Struct("<Q")


def codec_for(ft: core.FuncType) -> SlotCodec:
    """The shared :class:`SlotCodec` of a signature."""
    codec = _codecs.get(ft)
    if codec is None:
        codec = _codecs[ft] = SlotCodec(ft)
    return codec


def _arity_error(given: int, expected: int) -> WasmError:
    which = "many" if given > expected else "few"
    return WasmError(f"too {which} parameters provided: given {given}, expected {expected}")


class Func:
    """A function: ``Func(store, FuncType([...], [...]), callable)`` makes a host one."""

    __slots__ = (
        "__weakref__",
        "_access_caller",
        "_buf",
        "_buf_addr",
        "_code",
        "_codec",
        "_ctx",
        "_ft",
        "_host",
        "_index",
        "_instance",
        "_ref",
        "_ref_addr",
        "_store",
        "_vmctx",
    )

    _store: Store
    _ft: core.FuncType
    _codec: SlotCodec
    _ref: VMFuncRef
    _ref_addr: int
    _host: Callable[..., Any] | None
    _access_caller: bool
    _ctx: VMContext | None
    _instance: Instance | None
    _index: int | None
    _code: int
    _vmctx: int
    _buf: ctypes.Array[ctypes.c_uint64] | None
    _buf_addr: int

    def __init__(self, store: Any, ty: FuncType, func: Callable[..., Any], access_caller: bool = False) -> None:
        st = as_store(store)
        if not isinstance(ty, FuncType):
            raise TypeError("expected a FuncType")
        if not callable(func):
            raise TypeError("expected a callable")
        self._init_common(st, ty.wasm_type)
        self._host = func
        self._access_caller = bool(access_caller)
        host_id = st.register_host(self)
        ctx = st.new_host_context(host_id)
        self._ctx = ctx
        self._instance = None
        self._index = None
        self._code = st.stub_code.hostcall_address
        self._vmctx = ctypes.addressof(ctx)
        self._buf = None
        self._buf_addr = 0
        self._finish_ref()

    @classmethod
    def for_instance(
        cls, store: Store, instance: Instance, index: int, ft: core.FuncType, code: int, vmctx: int
    ) -> Func:
        """Runtime-facing: function ``index`` defined by ``instance`` (code at ``code``)."""
        self = object.__new__(cls)
        self._init_common(store, ft)
        self._host = None
        self._access_caller = False
        self._ctx = None
        self._instance = instance
        self._index = index
        self._code = code
        self._vmctx = vmctx
        buf = (ctypes.c_uint64 * self._codec.nslots)()
        self._buf = buf
        self._buf_addr = ctypes.addressof(buf)
        self._finish_ref()
        return self

    def _init_common(self, store: Store, ft: core.FuncType) -> None:
        self._store = store
        self._ft = ft
        self._codec = codec_for(ft)

    def _finish_ref(self) -> None:
        ref = VMFuncRef()
        ref.code = self._code
        ref.sig_id = self._store.engine.sig_id(self._ft)
        ref.vmctx = self._vmctx
        self._ref = ref
        self._ref_addr = ctypes.addressof(ref)
        self._store.register_func(self)

    # -- public API ------------------------------------------------------------------
    def type(self, store: Any) -> FuncType:
        """The function's signature."""
        return FuncType.from_wasm_type(self._ft)

    def __call__(self, store: Any, *params: Any) -> Any:
        """Call with Python values (or :class:`Val`); returns None, a value, or a list."""
        st = store if store.__class__ is Store else as_store(store)
        if st is not self._store:
            raise WasmError("cannot call a function with a different Store")
        codec = self._codec
        if len(params) != codec.nparams:
            raise _arity_error(len(params), codec.nparams)
        buf = self._buf
        if buf is None:
            return codec.shape_results(self._call_host_py(params))
        codec.write_params(st, buf, params)
        st.enter_wasm(self._vmctx, self._code, self._buf_addr, codec.nslots)
        return codec.shape_results(codec.read_results(st, buf))

    def call_vals(self, store: Any, args: Sequence[Val]) -> list[Val]:
        """Call with :class:`Val` arguments; results come back as :class:`Val` with exact bits."""
        st = as_store(store)
        if st is not self._store:
            raise WasmError("cannot call a function with a different Store")
        codec = self._codec
        if len(args) != codec.nparams:
            raise _arity_error(len(args), codec.nparams)
        buf = self._buf
        if buf is None:
            values = self._call_host_py(args)
            return [Val.from_slot(st, k, py_to_bits(st, k, v)) for k, v in zip(codec.results, values, strict=True)]
        for i, kind in enumerate(codec.params):
            buf[i] = py_to_bits(st, kind, args[i])
        st.enter_wasm(self._vmctx, self._code, self._buf_addr, codec.nslots)
        return [Val.from_slot(st, kind, buf[i]) for i, kind in enumerate(codec.results)]

    # -- host functions --------------------------------------------------------------
    def _check_host_results(self, res: Any) -> Sequence[Any]:
        n = self._codec.nresults
        if isinstance(res, Trap):
            raise res
        if n == 0:
            if res is not None:
                raise WasmError("callback produced results when it shouldn't")
            return ()
        if n == 1:
            return (res,)
        if not isinstance(res, Sequence) or len(res) != n:
            raise WasmError("callback produced wrong number of results")
        return res

    def _call_host_py(self, params: Sequence[Any]) -> list[Any]:
        """Call a host function from Python (values normalised as Wasm would)."""
        st = self._store
        codec = self._codec
        host = self._host
        if host is None:
            raise WasmError("not a host function")
        args = [bits_to_py(st, k, py_to_bits(st, k, v)) for k, v in zip(codec.params, params, strict=True)]
        if self._access_caller:
            caller = Caller(st, from_wasm=False)
            try:
                res = host(caller, *args)
            finally:
                caller._valid = False
        else:
            res = host(*args)
        values = self._check_host_results(res)
        return [bits_to_py(st, k, py_to_bits(st, k, v)) for k, v in zip(codec.results, values, strict=True)]

    def call_from_wasm(self, st: Store, slots: int) -> int:
        """Runtime-facing: the body of the ``hostcall`` callback (read params, call, write results)."""
        codec = self._codec
        buf = codec.view.from_address(slots)
        args = codec.read_params(st, buf)
        host = self._host
        if self._access_caller:
            caller = Caller(st, from_wasm=True)
            try:
                res = host(caller, *args)  # type: ignore[misc]
            finally:
                caller._valid = False
        else:
            res = host(*args)  # type: ignore[misc]
        n = codec.nresults
        if n == 1 and not isinstance(res, Trap):
            codec.write_results(st, buf, (res,))
        elif n or res is not None:
            codec.write_results(st, buf, self._check_host_results(res))
        return 0

    # -- identity -----------------------------------------------------------------------
    @property
    def instance(self) -> Instance | None:
        """The defining instance (None for host functions)."""
        return self._instance

    @property
    def func_index(self) -> int | None:
        """Index in the defining module's function space (None for host functions)."""
        return self._index

    @property
    def wasm_type(self) -> core.FuncType:
        """Runtime-facing: the signature as the decoder spells it."""
        return self._ft

    def belongs_to(self, store: Store) -> bool:
        """Runtime-facing: whether this function was created in ``store``."""
        return self._store is store

    @property
    def funcref_address(self) -> int:
        """Address of this function's VMFuncRef (what tables and funcref values hold)."""
        return self._ref_addr

    def __repr__(self) -> str:
        kind = "host" if self._host is not None else f"wasm {self._index}"
        return f"<Func {kind} {FuncType.from_wasm_type(self._ft)}>"


class Caller:
    """The calling instance, as seen from inside a host function.

    Valid only during the host call; afterwards :meth:`get` returns None.
    Anywhere a Store is expected, a Caller may be passed instead.
    """

    __slots__ = ("_from_wasm", "_store", "_valid")

    def __init__(self, store: Store, *, from_wasm: bool) -> None:
        self._store = store
        self._valid = True
        self._from_wasm = from_wasm

    def _instance(self) -> Instance | None:
        if not (self._valid and self._from_wasm):
            return None
        fp = self._store.vm.last_exit_fp
        if not fp:
            return None
        return self._store.instance_of_vmctx(peek(fp - 8))

    def get(self, name: str) -> AsExtern | None:
        """The calling instance's export ``name``, or None."""
        inst = self._instance()
        if inst is None:
            return None
        return inst.exports(self._store).get(name)

    def __getitem__(self, name: str) -> AsExtern:
        item = self.get(name)
        if item is None:
            raise KeyError(f"failed to find export {name}")
        return item

    @property
    def store(self) -> Store:
        """The Store of the call."""
        return self._store

    def data(self) -> Any:
        """The Store's user data."""
        return self._store.data()
