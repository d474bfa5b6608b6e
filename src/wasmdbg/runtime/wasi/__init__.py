"""WASI preview 1 (``wasi_snapshot_preview1``) with a sandboxed filesystem.

``WasiConfig`` has wasmtime-py's shape (``argv``, ``env``, ``inherit_*``,
``*_file``, ``*_custom``, ``preopen_dir``); ``store.set_wasi(config)`` gives
a Store its WASI configuration and ``linker.define_wasi()`` defines every
preview-1 function, Store-independently (each call finds its Store's state
through the Caller).

The package, bottom up::

    abi       numbers and struct layouts of the preview-1 ABI
    errno     host OSError -> WASI errno; WasiErrno (raised to return an errno)
    guest     bounds-checked views of the caller's linear memory
    config    WasiConfig
    fs        the sandbox: paths resolved component by component below a directory fd
    fdtable   guest descriptor numbers -> standard streams, files, directories
    state     WasiCtx: one Store's descriptor table and encoded args/env
    files     the fd_* and path_* functions
    host      the other functions, poll_oneoff, and the dispatcher and table
"""

from .config import WasiConfig
from .host import WASI_MODULE, ExitTrap, wasi_functions

__all__ = ["WASI_MODULE", "ExitTrap", "WasiConfig", "wasi_functions"]
