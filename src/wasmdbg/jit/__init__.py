"""Wasm -> x86-64 machine code: encoder, code buffer, ABI, compiler, frame tables.

Layers, top down (each module's docstring says what it owns)::

    compiler    the visitor: one visit_<op> per Wasm instruction
    codegen     operand forms, fixed registers, control-flow merges, calls
    seqpoints   debug builds: patch sites and frame-table rows (frametable)
    stack       where each operand-stack value lives; register allocation
    masm        semantic operations -> instructions (ops, emitter, outofline,
                masm_float, masm_heap)
    x64         the encoder: one method per instruction form (codebuf below it)
    abi, stubs  the contract with the runtime; the runtime's trampolines

Produces bytes and metadata only; never touches executable memory or
runtime state (that is ``wasmdbg.runtime``).
"""
