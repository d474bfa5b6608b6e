"""``Config``: engine settings, with wasmtime-py's attribute names.

Only a few settings change what wasmdbg does:

* ``guest_debug`` (alias ``debug``) compiles with patch sites and frame
  tables and gives every Store its own copy of each module's code;
* ``max_wasm_stack`` bounds how deep compiled code may go (bytes);
* ``epoch_interruption`` enables ``Store.set_epoch_deadline``;
* ``locals_in_registers`` (wasmdbg's own, default on) keeps the hottest
  locals of each function in registers, with or without ``guest_debug``
  (the debugger reads and writes them where the trampoline saved them, or in
  their slots while a call runs);
* ``signals_based_traps`` (default on) drops most explicit bounds checks
  from code compiled without ``guest_debug``: every linear memory reserves
  8 GiB of address space and an out-of-bounds access faults; a SIGSEGV
  handler turns the fault into the same trap (``runtime.sigsegv``).
  Guest-debug code keeps its explicit checks, but its twins (below) drop
  them too: a fault in a twin resumes at the debug version's check, which
  then traps with the frames live for the debugger.
* ``lazy_compilation`` (wasmdbg's own, default on) compiles each function
  on its first call instead of when the Module is created (see
  ``runtime.lazy``); with ``guest_debug`` also when the debugger first asks
  about one of its pcs (see ``runtime.debuglayout``).
* ``debug_twins`` (wasmdbg's own, default on) compiles guest-debug code with
  a NOP-free twin of every function, run while nothing arms the function (see
  ``jit.compiler`` and ``runtime.debug.twins``).

The other wasmtime-py settings are accepted and remembered (so existing
code runs) but have no effect; settings asking for features wasmdbg does
not have (fuel, memory64, threads ...) raise :class:`WasmError` when
turned on.
"""

from __future__ import annotations

from typing import Any

from ..errors import WasmError

__all__ = ["Config"]

_ACCEPTED_BOOLS = frozenset(
    {
        "debug_info",
        "wasm_reference_types",
        "wasm_bulk_memory",
        "wasm_multi_value",
        "wasm_simd",
        "wasm_relaxed_simd",
        "wasm_relaxed_simd_deterministic",
        "wasm_tail_call",
        "wasm_extended_const",
        "parallel_compilation",
        "cranelift_debug_verifier",
        "cranelift_nan_canonicalization",
        "native_unwind_info",
        "macos_use_mach_ports",
        "memory_init_cow",
        "memory_may_move",
        "gc_support",
    }
)
_UNSUPPORTED_BOOLS = frozenset(
    {
        "consume_fuel",
        "wasm_threads",
        "wasm_multi_memory",
        "wasm_memory64",
        "wasm_component_model",
        "wasm_exceptions",
        "wasm_function_references",
        "wasm_gc",
        "wasm_wide_arithmetic",
        "wasm_custom_page_sizes",
        "wasm_stack_switching",
        "shared_memory",
    }
)
_ACCEPTED_OTHER = frozenset(
    {
        "strategy",
        "cranelift_opt_level",
        "profiler",
        "cache",
        "memory_reservation",
        "memory_guard_size",
        "memory_reservation_for_growth",
        "target",
    }
)


class Config:
    """Engine settings; pass to ``Engine(config)``.

    ``Config(guest_debug=True)`` and ``config.guest_debug = True`` are the same.
    """

    guest_debug: bool
    max_wasm_stack: int
    epoch_interruption: bool
    locals_in_registers: bool
    signals_based_traps: bool
    debug_twins: bool
    lazy_compilation: bool

    def __init__(self, **settings: Any) -> None:
        object.__setattr__(self, "guest_debug", False)
        object.__setattr__(self, "max_wasm_stack", 2 * 1024 * 1024)
        object.__setattr__(self, "epoch_interruption", False)
        object.__setattr__(self, "locals_in_registers", True)
        object.__setattr__(self, "signals_based_traps", True)
        object.__setattr__(self, "debug_twins", True)
        object.__setattr__(self, "lazy_compilation", True)
        object.__setattr__(self, "_other", {})
        for key, value in settings.items():
            setattr(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("guest_debug", "debug"):
            if not isinstance(value, bool):
                raise TypeError("expected a bool")
            object.__setattr__(self, "guest_debug", value)
        elif name == "max_wasm_stack":
            if not isinstance(value, int) or value <= 0:
                raise TypeError("expected a positive int")
            object.__setattr__(self, name, value)
        elif name == "epoch_interruption":
            object.__setattr__(self, name, bool(value))
        elif name in ("locals_in_registers", "signals_based_traps", "debug_twins", "lazy_compilation"):
            if not isinstance(value, bool):
                raise TypeError("expected a bool")
            object.__setattr__(self, name, value)
        elif name in _ACCEPTED_BOOLS:
            if not isinstance(value, bool):
                raise TypeError("expected a bool")
            self._other[name] = value
        elif name in _UNSUPPORTED_BOOLS:
            if not isinstance(value, bool):
                raise TypeError("expected a bool")
            if value:
                raise WasmError(f"wasmdbg does not support {name}")
            self._other[name] = value
        elif name in _ACCEPTED_OTHER:
            self._other[name] = value
        else:
            raise AttributeError(f"Config has no setting {name!r}")

    def __getattr__(self, name: str) -> Any:
        other: dict[str, Any] = object.__getattribute__(self, "_other")
        if name in other:
            return other[name]
        if name == "debug":
            return self.guest_debug
        raise AttributeError(name)

    def cranelift_flag_enable(self, flag: str) -> None:
        """Accepted for compatibility; no effect."""

    def cranelift_flag_set(self, key: str, value: str) -> None:
        """Accepted for compatibility; no effect."""

    def copy(self) -> Config:
        """Runtime-facing: an independent copy (what an Engine keeps)."""
        dup = Config()
        object.__setattr__(dup, "guest_debug", self.guest_debug)
        object.__setattr__(dup, "max_wasm_stack", self.max_wasm_stack)
        object.__setattr__(dup, "epoch_interruption", self.epoch_interruption)
        object.__setattr__(dup, "locals_in_registers", self.locals_in_registers)
        object.__setattr__(dup, "signals_based_traps", self.signals_based_traps)
        object.__setattr__(dup, "debug_twins", self.debug_twins)
        object.__setattr__(dup, "lazy_compilation", self.lazy_compilation)
        object.__setattr__(dup, "_other", dict(self._other))
        return dup

    @property
    def uses_signal_bounds(self) -> bool:
        """Runtime-facing: whether compiled code relies on faulting accesses (plain code or twins, with signals)."""
        return self.signals_based_traps and (not self.guest_debug or self.debug_twins)

    @property
    def uses_lazy_compilation(self) -> bool:
        """Runtime-facing: whether modules compile each function on its first call (plain builds)."""
        return self.lazy_compilation and not self.guest_debug

    @property
    def uses_debug_layout(self) -> bool:
        """Runtime-facing: whether guest-debug modules compile each function on demand."""
        return self.lazy_compilation and self.guest_debug

    _other: dict[str, Any]
