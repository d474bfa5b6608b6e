"""The Debug Adapter Protocol server (``wasmdbg dap``).

``framing``  Content-Length framing of JSON messages (no policy)
``adapter``  the requests, mapped onto the debug layer's source debugger and Program
``server``   stdio and 127.0.0.1 socket transports
"""
