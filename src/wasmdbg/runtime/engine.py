"""``Engine``: shared settings, the signature registry and the runtime stubs.

An Engine is shared by Modules and Stores.  It owns

* its :class:`~wasmdbg.runtime.config.Config` (copied at creation);
* the canonical signature ids: every distinct function type gets one id,
  the same in every module compiled for this engine, so ``call_indirect``
  compares two integers (``VMFuncRef.sig_id`` against the module's id);
* a reference to the process-wide mapped stubs (entry trampoline, host-call
  stub, breakpoint trampoline);
* the epoch used by ``increment_epoch`` / ``Store.set_epoch_deadline``.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from ..wasm import types as core
from .config import Config
from .stubs import StubCode, get_stub_code

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Engine"]


class Engine:
    """Compilation settings and state shared by Modules and Stores."""

    def __init__(self, config: Config | None = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeError("expected Config")
        self.config = config.copy()
        self._sig_lock = threading.Lock()
        self._sigs: dict[core.FuncType, int] = {}
        self._stub_code: StubCode | None = None
        self._epoch = 0
        self._epoch_stores: weakref.WeakSet[Store] = weakref.WeakSet()

    @property
    def guest_debug(self) -> bool:
        """True when modules are compiled for the guest debugger."""
        return self.config.guest_debug

    def sig_id(self, ft: core.FuncType) -> int:
        """The canonical (non-zero) id of a function type."""
        sid = self._sigs.get(ft)
        if sid is None:
            with self._sig_lock:
                sid = self._sigs.setdefault(ft, len(self._sigs) + 1)
        return sid

    @property
    def stub_code(self) -> StubCode:
        """The mapped runtime stubs (built on first use)."""
        if self._stub_code is None:
            self._stub_code = get_stub_code()
        return self._stub_code

    @property
    def epoch(self) -> int:
        """Runtime-facing: the current epoch (``increment_epoch`` advances it)."""
        return self._epoch

    def watch_epoch(self, store: Store) -> None:
        """Runtime-facing: check ``store``'s epoch deadline at every ``increment_epoch``
        (held weakly)."""
        self._epoch_stores.add(store)

    def increment_epoch(self) -> None:
        """Advance the epoch; Stores whose deadline is reached get interrupted."""
        self._epoch += 1
        for store in list(self._epoch_stores):
            store.check_epoch(self._epoch)

    def is_pulley(self) -> bool:
        """Always False: wasmdbg runs native x86-64 code."""
        return False
