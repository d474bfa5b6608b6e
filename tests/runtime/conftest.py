"""Shared fixtures for the runtime tests."""

from __future__ import annotations

import pytest

import wasmdbg


@pytest.fixture
def store() -> wasmdbg.Store:
    return wasmdbg.Store(wasmdbg.Engine())


@pytest.fixture(params=[False, True], ids=["shared-code", "guest-debug"])
def any_store(request: pytest.FixtureRequest) -> wasmdbg.Store:
    """A Store without and with guest debugging (private code copies)."""
    return wasmdbg.Store(wasmdbg.Engine(wasmdbg.Config(guest_debug=request.param)))
