"""End to end with Microsoft's DAP client: ``@vscode/debugadapter-testsupport`` drives ``wasmdbg dap``.

The driver (``node/driver.js``) runs every scenario against a fresh adapter
and prints ``ok``/``FAIL`` lines; the npm packages are installed into
``node/node_modules`` on first use (``.ci/run`` installs Node.js and npm).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"


def _npm_install() -> None:
    if (NODE_DIR / "node_modules" / "@vscode" / "debugadapter-testsupport").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (.ci/run installs nodejs and npm)")
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True, check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_debugadapter_testsupport_scenarios() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (.ci/run installs nodejs and npm)")
    _npm_install()
    env = dict(os.environ, PYTHON=sys.executable)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [node, "driver.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    lines = proc.stdout.splitlines()
    failures = [line for line in lines if line.startswith("FAIL")]
    assert proc.returncode == 0 and not failures, proc.stdout + proc.stderr
    assert lines[-1] == "all passed"
    assert sum(line.startswith("ok ") for line in lines) >= 17
