"""The ``wasmdbg`` command line: run, validate, spec, debug."""
