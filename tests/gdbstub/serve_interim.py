"""Run a WASI program under the gdbstub with the interim session (test helper).

    python serve_interim.py PORT prog.wasm [args...]   (PORT 0: any free port)

Prints ``listening on HOST:PORT`` to stderr once it accepts connections and
exits with the guest's status.
"""

from __future__ import annotations

import sys
from pathlib import Path

import wasmdbg
from wasmdbg.gdbstub.server import GdbServer, ModuleTarget

sys.path.insert(0, str(Path(__file__).parent))
from interim_session import InterimSession


def main() -> int:
    port, path, *args = sys.argv[1:]
    config = wasmdbg.Config()
    config.guest_debug = True
    engine = wasmdbg.Engine(config)
    store = wasmdbg.Store(engine)
    module = wasmdbg.Module.from_file(engine, path)
    wasi = wasmdbg.WasiConfig()
    wasi.argv = [path, *args]
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    linker = wasmdbg.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    session = InterimSession(store)
    session.start(lambda: start(store))
    server = GdbServer(
        session,
        [ModuleTarget(Path(path).name, module, instance)],
        on_listen=lambda h, p: print(f"listening on {h}:{p}", file=sys.stderr, flush=True),
    )
    return server.serve("127.0.0.1", int(port))


if __name__ == "__main__":
    sys.exit(main())
