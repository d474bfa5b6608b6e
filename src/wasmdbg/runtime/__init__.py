"""Running compiled code: code memory, Engine, Store, Module, Instance and friends.

One noun per module; the public names are re-exported by ``wasmdbg``::

    codemem     CodeMemory (W^X), Reservation (linear-memory address ranges)
    vmcontext   ctypes mirrors of the abi structures
    stubs       the mapped runtime stubs (entry, host call, breakpoint)
    code        CodeObject / CodeRegistry: mapped module code, pc lookup
    stackwalk   frame-pointer walking to Wasm frames
    config, engine, store, module, instance, linker
    func, memory, table, globals, value, types, trap
    libcall     memory.grow, table.copy ... called from compiled code
"""
