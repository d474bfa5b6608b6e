"""Wasm -> x86-64 machine code: encoder, code buffer, ABI, compiler, frame tables.

Produces bytes and metadata only; never touches executable memory or
runtime state (that is ``wasmdbg.runtime``).
"""
