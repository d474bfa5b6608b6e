"""Imports point down the layers (DESIGN.md section 2), never up.

::

    errors  <-  wasm  <-  jit  <-  runtime  <-  debug  <-  front ends  <-  cli
                  ^                               |
                  +----------  dwarf  <-----------+

``dwarf`` imports only ``wasm`` and ``errors``; ``cli`` (and the package's
own ``__init__``/``__main__``) may import anything, and nothing imports
``cli``; a subpackage or module not listed here counts as a front end
(gdbstub, dap, testsuite ...): it may import every layer below and the
package root, and no layer below may import it.  Imports under ``TYPE_CHECKING``
count too: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "wasmdbg"

RANK = {"errors": 0, "wasm": 1, "jit": 2, "runtime": 3, "dwarf": 2, "debug": 4}
FRONT_END = 5
ROOT = 4.5  # the package root re-exports runtime and debug: front ends may use it
ANYTHING = {"cli", "__init__", "__main__"}
ONLY = {"dwarf": {"dwarf", "wasm", "errors"}}


def _layer(module: str) -> str:
    """``wasmdbg.runtime.store`` -> ``runtime``; ``wasmdbg`` itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(layer: str) -> float:
    if layer == "__init__":
        return ROOT
    return RANK.get(layer, FRONT_END)


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every wasmdbg import in ``path``."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "wasmdbg"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: x may be a subpackage
                    out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
                    continue
            else:
                target = node.module or ""
            if target.split(".")[0] == "wasmdbg":
                out.append((node.lineno, target))
    return out


def violations(root: Path = SRC) -> list[str]:
    """Every import of a module under ``root`` (a ``wasmdbg`` tree) that points up the layers."""
    bad: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if path.parent == root and path.name in ("__init__.py", "__main__.py"):
            continue  # the package root and ``python -m wasmdbg`` may import anything
        layer = _layer(_module_name(path, root))
        if layer in ANYTHING:
            continue
        for line, target in _imports(path, root):
            there = _layer(target)
            if there == layer:
                continue
            allowed = ONLY.get(layer)
            if allowed is not None:
                ok = there in allowed
            elif there in ANYTHING - {"__init__"}:
                ok = False  # nothing imports cli
            else:
                ok = _rank(there) < _rank(layer)
            if not ok:
                bad.append(f"{path.relative_to(root.parent)}:{line}: {layer} imports {target}")
    return bad


def test_no_import_points_up_the_layers() -> None:
    assert violations() == []


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    pkg = tmp_path / "wasmdbg"
    for sub, text in {
        "runtime/store.py": "from ..debug import debugger\n",
        "jit/x64.py": "from wasmdbg.runtime import store\n",
        "dwarf/lines.py": "from ..jit import abi\n",
        "wasm/reader.py": "from ..errors import DecodeError\n",
        "debug/debugger.py": "from ..runtime.store import Store\nfrom ..gdbstub import server\n",
        "gdbstub/server.py": "from ..debug import Debugger\nfrom ..cli import main\n",
        "cli/main.py": "from ..gdbstub import server\n",
        "runtime/func.py": "import wasmdbg\n",
    }.items():
        path = pkg / sub
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = violations(pkg)
    assert found == [
        "wasmdbg/debug/debugger.py:2: debug imports wasmdbg.gdbstub",
        "wasmdbg/dwarf/lines.py:1: dwarf imports wasmdbg.jit",
        "wasmdbg/gdbstub/server.py:2: gdbstub imports wasmdbg.cli",
        "wasmdbg/jit/x64.py:1: jit imports wasmdbg.runtime",
        "wasmdbg/runtime/func.py:1: runtime imports wasmdbg",
        "wasmdbg/runtime/store.py:1: runtime imports wasmdbg.debug",
    ]


@pytest.mark.parametrize("layer", sorted(RANK))
def test_every_ranked_layer_exists_or_is_future(layer: str) -> None:
    # the table names real packages (a rename must update it)
    assert (SRC / layer).exists() or (SRC / f"{layer}.py").exists()
