"""No module of ``src/wasmdbg`` reaches into another module's objects through a private attribute.

The rule, checked on the syntax tree of every module: an attribute access
``x._name`` (one leading underscore, not a dunder) is allowed only when the
same module defines ``_name`` -- assigns it as an attribute
(``self._name = ...``, ``obj._name = ...``), names a function, method or
class ``_name``, binds ``_name`` at module or class level (an annotation
counts), or lists it in a ``__slots__``.  Anything else reads or writes a
private detail of an object some other module owns: that module should
offer a public method or property instead.

Library internals (``argparse``'s ``parser._actions`` ...) would be caught the
same way; an unavoidable one goes in :data:`ALLOWED` with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "wasmdbg"

#: (module path relative to ``src/wasmdbg``, ``ast.unparse`` of the access) -> why it stays.
ALLOWED: dict[tuple[str, str], str] = {
    # the ctypes documentation names ``_Pointer`` as the base class of every
    # ``POINTER(T)`` type, and typeshed types pointers with it: wasmtime-py's
    # ``Memory.data_ptr`` has no public spelling for its return type
    ("runtime/memory.py", "ctypes._Pointer"): "ctypes' documented pointer base class, used as a type",
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _slot_names(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not any(isinstance(t, ast.Name) and t.id == "__slots__" for t in targets) or node.value is None:
        return set()
    return {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}


def defined_names(tree: ast.AST) -> set[str]:
    """Every name the module defines as an attribute, def, class, binding or slot."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            names |= _slot_names(node)
    return names


def reach_ins(source: str) -> list[tuple[int, str]]:
    """(line, expression) of each private attribute access the module does not define."""
    tree = ast.parse(source)
    own = defined_names(tree)
    hits = [
        (node.lineno, ast.unparse(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own
    ]
    return sorted(hits)


def _all_reach_ins() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for line, expr in reach_ins(path.read_text(encoding="utf-8")):
            found.append((rel, line, expr))
    return found


def test_no_module_reaches_into_private_attributes() -> None:
    bad = [f"src/wasmdbg/{rel}:{line} {expr}" for rel, line, expr in _all_reach_ins() if (rel, expr) not in ALLOWED]
    assert not bad, "private attributes of other modules' objects:\n" + "\n".join(bad)


def test_every_allowed_reach_in_still_exists() -> None:
    present = {(rel, expr) for rel, _line, expr in _all_reach_ins()}
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"allow-list entries that no longer occur: {stale}"


def test_the_check_tells_own_names_from_reach_ins() -> None:
    source = '''
class Box:
    __slots__ = ("_slot",)
    _declared: int

    def __init__(self, other):
        self._value = 1
        other._assigned = 2
        self.__dunder = 3

    def _helper(self):
        return self._value + self._slot + self._declared + self._helper() + self.__dunder

_TABLE = {}

def use(obj, mod):
    return obj._assigned, mod._TABLE, obj._foreign, mod._private_func(), obj.__class__
'''
    assert reach_ins(source) == [(17, "mod._private_func"), (17, "obj._foreign")]
