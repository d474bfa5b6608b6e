"""The official WebAssembly spec suite (../shared/spec/json), every command.

Skipped, with a message, where the suite is absent (a user's machine).  The
folder can be named with ``WASMDBG_SPEC_DIR``.  The only commands allowed to
be skipped are the text-format ``assert_malformed`` ones: wasmdbg decodes
binaries and has no text parser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasmdbg.testsuite import find_scripts, run_file

SPEC_DIR = Path(
    os.environ.get("WASMDBG_SPEC_DIR", Path(__file__).resolve().parents[2] / "shared" / "spec" / "json")
)
TEXT_SKIP = "text-format module (no text parser)"

scripts = sorted(find_scripts([SPEC_DIR])) if SPEC_DIR.is_dir() else []


@pytest.mark.skipif(not scripts, reason=f"spec suite not found at {SPEC_DIR} (set WASMDBG_SPEC_DIR)")
@pytest.mark.parametrize("script", scripts, ids=[s.stem for s in scripts])
def test_spec_script(script: Path) -> None:
    result = run_file(script)
    assert result.failures == [], "\n".join(result.failures[:20])
    other_skips = {k: v for k, v in result.skip_reasons.items() if k != TEXT_SKIP}
    assert other_skips == {}, f"skipped commands: {other_skips}"
