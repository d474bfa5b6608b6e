"""The Wasm binary format: types, the opcode table, decoder and validator.

Bytes in, an immutable :class:`~wasmdbg.wasm.module.ModuleDef` out.  This
package imports nothing from wasmdbg but ``errors``.
"""
