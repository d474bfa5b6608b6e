"""Transports for the adapter: standard input/output, or one TCP client on 127.0.0.1.

:func:`serve` is the request loop over any pair of binary streams: read a
message, hand it to the :class:`~wasmdbg.dap.adapter.Adapter`, until the
client disconnects or the input ends::

    reader.read() ──► adapter.handle(msg) ──► writer.send(response/events)
       │ ProtocolError, recoverable  ──► error response, read on
       │ ProtocolError, fatal / EOF  ──► end (the guest is killed)
       └ disconnect answered         ──► end

:func:`serve_stdio` keeps the protocol stream to itself: it takes a private
duplicate of descriptor 1 for the messages and points descriptor 1 (and
``sys.stdout``) at standard error, so nothing printed by accident, by
Python or by native code, can corrupt the stream.  Guest output never
goes there anyway: the adapter turns it into ``output`` events.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import BinaryIO

from ..errors import ProtocolError
from .adapter import Adapter, ConsoleRunner
from .framing import MessageReader, MessageWriter

__all__ = ["serve", "serve_socket", "serve_stdio"]


def serve(reader_stream: BinaryIO, writer_stream: BinaryIO, *, console: ConsoleRunner | None = None) -> int:
    """Serve one client over the two streams; returns 0 (1 if the stream broke).

    ``console`` runs gdb commands typed in the debug console (``-exec ...``).
    """
    reader = MessageReader(reader_stream)
    writer = MessageWriter(writer_stream)
    adapter = Adapter(writer.send, console=console)
    status = 0
    try:
        while not adapter.finished.is_set():
            try:
                message = reader.read()
            except ProtocolError as exc:
                if exc.fatal:
                    print(f"wasmdbg dap: {exc}", file=sys.stderr)
                    status = 1
                    break
                adapter.error_response(str(exc))
                continue
            if message is None:
                break
            adapter.handle(message)
    finally:
        adapter.close()
    return status


def serve_stdio(*, console: ConsoleRunner | None = None) -> int:
    """Serve one client over standard input and output."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # NB: stray writes to fd 1 now land on stderr, not in the protocol
    sys.stdout = sys.stderr
    with out:
        return serve(sys.stdin.buffer, out, console=console)


def serve_socket(port: int, host: str = "127.0.0.1", *, console: ConsoleRunner | None = None) -> int:
    """Listen on ``host:port`` (127.0.0.1 only), serve one client, then return.

    Port 0 picks a free port; the address is printed on stderr as
    ``wasmdbg dap: listening on 127.0.0.1:PORT``.
    """
    if host not in ("127.0.0.1", "localhost"):
        raise ProtocolError("the DAP server listens on 127.0.0.1 only")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        print(f"wasmdbg dap: listening on 127.0.0.1:{listener.getsockname()[1]}", file=sys.stderr, flush=True)
        conn, _ = listener.accept()
    with conn, conn.makefile("rb") as rfile, conn.makefile("wb") as wfile:
        return serve(rfile, wfile, console=console)
