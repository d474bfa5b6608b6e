"""WASI preview 1 (``wasi_snapshot_preview1``) with a sandboxed filesystem.

``WasiConfig`` has wasmtime-py's shape (``argv``, ``env``, ``inherit_*``,
``*_file``, ``*_custom``, ``preopen_dir``); ``store.set_wasi(config)`` gives
a Store its WASI configuration and ``linker.define_wasi()`` defines every
preview-1 function, Store-independently (each call finds its Store's state
through the Caller).  Arguments, environment values and file names may be
any bytes.

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

Every function is implemented; their answers were checked side by side with
Wasmtime's (rights, errno choices and their order, trailing slashes,
descriptor numbering, ``fd_readdir`` cookies, ``poll_oneoff`` events, one
iovec per transfer), and random sequences of path and descriptor calls
are compared with wasmtime-py in the tests.  Where wasmdbg deliberately
differs:

* a pointer outside memory is ``EFAULT`` and an invalid enum or flag value
  ``EINVAL`` (Wasmtime traps); a misaligned structure pointer is accepted
  (Wasmtime traps);
* more than 1024 iovecs, more than 4096 subscriptions or a path longer than
  64 KiB is refused (``EINVAL``, ``EINVAL``, ``ENAMETOOLONG``) before
  anything is copied (Wasmtime allocates for them);
* a path or directory entry that is not UTF-8 works as bytes (Wasmtime:
  ``EILSEQ``);
* ``ino``/``dev`` and ``d_ino`` are the host's numbers (Wasmtime: a hash),
  and the monotonic clock counts from the host's origin (Wasmtime: from
  the engine's start);
* a failure inside a WASI function itself (a bug, or an output callback
  raising) is a :class:`~wasmdbg.runtime.trap.Trap` naming the function.
"""

from .config import WasiConfig
from .host import WASI_MODULE, ExitTrap, wasi_functions

__all__ = ["WASI_MODULE", "ExitTrap", "WasiConfig", "wasi_functions"]
