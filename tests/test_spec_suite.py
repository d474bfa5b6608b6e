"""The official WebAssembly spec suite (../shared/spec/json), every command.

Skipped, with a message, where the suite is absent (a user's machine).  The
folder can be named with ``WASMDBG_SPEC_DIR``.  The only commands allowed to
be skipped are the text-format ``assert_malformed`` ones: wasmdbg decodes
binaries and has no text parser.

Seven modes, as the guest-debug issue demands that debugging never changes
a result:

* ``plain`` -- ``guest_debug`` off, every script (functions compiled lazily,
  on their first call: ``Config.lazy_compilation``, the default);
* ``eager`` -- ``guest_debug`` off and ``lazy_compilation`` off (each module
  compiled whole when created), every script;
* ``slot-locals`` -- ``guest_debug`` off and ``locals_in_registers`` off
  (every local in its frame slot), every script;
* ``debug`` -- ``guest_debug`` on (patch sites compiled in, all disabled;
  functions compiled on demand, ``runtime.debuglayout``), every script;
* ``debug-eager`` -- ``guest_debug`` on and ``lazy_compilation`` off, every
  script;
* ``all-sites`` -- ``guest_debug`` on, single-step on (every patch site of
  every module enabled, each lazily compiled function's as it is mapped) and
  a handler that just continues; every script
  (about 15 s: some run millions of sequence points);
* ``explicit-bounds`` -- ``guest_debug`` off and ``signals_based_traps``
  off: every heap access checked by compare-and-branch (``plain`` relies on
  faults and the SIGSEGV handler), every script.

In the other modes the counts must equal the plain run's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasmdbg.testsuite import FileResult, find_scripts, run_file

SPEC_DIR = Path(
    os.environ.get("WASMDBG_SPEC_DIR", Path(__file__).resolve().parents[2] / "shared" / "spec" / "json")
)
TEXT_SKIP = "text-format module (no text parser)"

scripts = sorted(find_scripts([SPEC_DIR])) if SPEC_DIR.is_dir() else []
cases = [
    pytest.param(script, mode, id=f"{script.stem}-{mode}")
    for mode in ("plain", "eager", "slot-locals", "debug", "debug-eager", "all-sites", "explicit-bounds")
    for script in scripts
]


def _counts(result: FileResult) -> tuple[int, int, int]:
    return result.passed, result.failed, result.skipped


@pytest.mark.skipif(not scripts, reason=f"spec suite not found at {SPEC_DIR} (set WASMDBG_SPEC_DIR)")
@pytest.mark.parametrize(("script", "mode"), cases)
def test_spec_script(script: Path, mode: str) -> None:
    result = run_file(
        script,
        guest_debug=mode in ("debug", "debug-eager", "all-sites"),
        all_sites=mode == "all-sites",
        locals_in_registers=mode != "slot-locals",
        signals_based_traps=mode != "explicit-bounds",
        lazy_compilation=mode not in ("eager", "debug-eager"),
    )
    assert result.failures == [], "\n".join(result.failures[:20])
    other_skips = {k: v for k, v in result.skip_reasons.items() if k != TEXT_SKIP}
    assert other_skips == {}, f"skipped commands: {other_skips}"
    if mode != "plain":
        assert _counts(result) == _counts(run_file(script)), "debugging changed the results"
