"""The README's Python examples run as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


def _first_command() -> str:
    commands = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return commands[0].strip()


def test_readme_first_command_debugs_the_example_as_shown() -> None:
    """The set-up's first command (after the install) prints the transcript the README shows."""
    import shlex
    import subprocess
    import sys

    line = _first_command()
    install, _, debug = line.partition(" && ")
    assert install.startswith("python3 -m pip install")
    words = shlex.split(debug)
    assert words[:4] == ["python3", "-m", "wasmdbg", "debug"]
    proc = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shown = re.search(r"which prints\n\n```text\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert shown is not None
    assert proc.stdout == shown.group(1)
