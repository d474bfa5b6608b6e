"""One Store's live WASI state, built from its :class:`WasiConfig` on first use.

The config says what the guest may see; :class:`WasiCtx` is what it has
open: the descriptor table (standard streams, one host directory
descriptor per preopen, then whatever the guest opens), and the argument
and environment strings already encoded.  A ctx is keyed by its Store
and rebuilt if ``store.set_wasi`` installs another config; its host
descriptors are closed when the Store goes away.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING

from ...errors import WasmError
from .config import WasiConfig, as_bytes
from .fdtable import Dir, FdTable, Stdin, Stdout

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["WasiCtx", "wasi_ctx"]


class WasiCtx:
    """Descriptor table and encoded strings of one Store's guest."""

    def __init__(self, config: WasiConfig) -> None:
        self.config = config
        self.argv = [as_bytes(a) for a in config.argv]
        self.environ = [as_bytes(k) + b"=" + as_bytes(v) for k, v in config.env]
        stdin, stdout, stderr = config.streams()
        table = self.table = FdTable()
        weakref.finalize(self, table.close_all)
        table.insert(Stdin(stdin))
        table.insert(Stdout(stdout, 1))
        table.insert(Stdout(stderr, 2))
        for pre in config.preopens:
            try:
                fd = os.open(pre.host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                table.close_all()
                raise WasmError(
                    f"failed to open directory {os.fsdecode(pre.host_path)!r}: {exc.strerror}"
                ) from None
            table.insert(Dir(fd, pre.guest_path, pre.mutable))


_CTXS: weakref.WeakKeyDictionary[Store, WasiCtx] = weakref.WeakKeyDictionary()


def wasi_ctx(store: Store) -> WasiCtx:
    """The WASI state of ``store`` (``WasmError`` if it was given no config)."""
    config = store.wasi_config
    if config is None:
        raise WasmError("this Store has no WASI configuration (call store.set_wasi(WasiConfig()))")
    ctx = _CTXS.get(store)
    if ctx is None or ctx.config is not config:
        if ctx is not None:
            ctx.table.close_all()
        ctx = _CTXS[store] = WasiCtx(config)
    return ctx
