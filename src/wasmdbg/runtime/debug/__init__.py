"""The guest-debug mechanism of the runtime (the policy lives in ``wasmdbg.debug``)."""
