"""Edit sessions: refcounts, slip-forward redirects, single-step, W^X, faults."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from debug_fakes import FakeError, FakeModule, FakeStore, Guest

from wasmdbg.errors import DebugError


def f0(g: Guest, a: int) -> int:
    a = g.at(0x10, a)
    g.at(0x14, a)
    return int(g.at(0x18, a))


def f1(g: Guest, a: int) -> int:
    a = g.at(0x30, a)
    return int(g.at(0x31, a))


def _setup(*names: str) -> tuple[FakeStore, list[FakeModule]]:
    store = FakeStore()
    mods = [
        store.instantiate(FakeModule(n, {0: (f0, [0x10, 0x14, 0x18]), 1: (f1, [0x30, 0x31])}))
        for n in names
    ]
    return store, mods


def test_add_patches_once_and_republishes_once() -> None:
    store, (m,) = _setup("m")
    code = store.debug_code(m)
    with store.edit_breakpoints() as edit:
        assert edit.add_breakpoint(m, 0x14) == 0x14
        assert edit.add_breakpoint(m, 0x30) == 0x30
        assert not code.published
        assert edit.dirty_modules == [m]
    assert code.published
    assert (code.unpublishes, code.publishes) == (1, 1)
    assert code.enabled_pcs() == [0x14, 0x30]
    assert sorted(pc for _, pc in store.state.breakpoints()) == [0x14, 0x30]


def test_refcounts() -> None:
    store, (m,) = _setup("m")
    code = store.debug_code(m)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x14)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x14)  # second reference: no flip, no mprotect
    assert code.unpublishes == 1 and store.state.refcount(m, 0x14) == 2
    with store.edit_breakpoints() as edit:
        edit.remove_breakpoint(m, 0x14)
    assert code.is_enabled(0x14) and code.unpublishes == 1
    with store.edit_breakpoints() as edit:
        edit.remove_breakpoint(m, 0x14)
    assert not code.is_enabled(0x14) and code.unpublishes == 2
    assert store.state.breakpoints() == []
    with store.edit_breakpoints() as edit, pytest.raises(DebugError):
        edit.remove_breakpoint(m, 0x14)


def test_slip_forward_redirect() -> None:
    store, (m,) = _setup("m")
    code = store.debug_code(m)
    with store.edit_breakpoints() as edit:
        assert edit.add_breakpoint(m, 0x11) == 0x14
        assert edit.add_breakpoint(m, 0x14) == 0x14
        assert edit.add_breakpoint(m, 0x19) == 0x30  # slips into the next function
    assert store.state.refcount(m, 0x14) == 2
    with store.edit_breakpoints() as edit:
        assert edit.remove_breakpoint(m, 0x11) == 0x14
        assert edit.remove_breakpoint(m, 0x19) == 0x30
        with pytest.raises(DebugError):
            edit.remove_breakpoint(m, 0x11)  # the redirect is gone with its reference
    assert code.enabled_pcs() == [0x14]
    with store.edit_breakpoints() as edit, pytest.raises(DebugError):
        edit.add_breakpoint(m, 0x32)  # nothing at or after


def test_unknown_module() -> None:
    store, _ = _setup("m")
    other = FakeModule("other", {0: (f0, [0x10])})
    with store.edit_breakpoints() as edit, pytest.raises(DebugError):
        edit.add_breakpoint(other, 0x10)


def test_single_step_enables_everything_and_restores_breakpoints() -> None:
    store, (a, b) = _setup("a", "b")
    ca, cb = store.debug_code(a), store.debug_code(b)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(b, 0x31)
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
        edit.add_breakpoint(a, 0x10)  # no flip while stepping
    assert store.is_single_step
    assert ca.enabled_pcs() == cb.enabled_pcs() == [0x10, 0x14, 0x18, 0x30, 0x31]
    # a module instantiated while single-stepping is covered too
    c = store.instantiate(FakeModule("c", {0: (f0, [0x10, 0x14])}))
    cc = store.debug_code(c)
    assert cc.enabled_pcs() == [0x10, 0x14] and cc.published
    with store.edit_breakpoints() as edit:
        edit.single_step(False)
    assert ca.enabled_pcs() == [0x10]
    assert cb.enabled_pcs() == [0x31]
    assert cc.enabled_pcs() == []
    for code in (ca, cb, cc):
        assert code.published


def test_module_added_without_stepping_touches_nothing() -> None:
    store, _ = _setup("a")
    c = store.instantiate(FakeModule("c", {0: (f0, [0x10])}))
    assert store.debug_code(c).unpublishes == 0


def test_session_misuse() -> None:
    store, (m,) = _setup("m")
    edit = store.edit_breakpoints()
    with pytest.raises(DebugError):
        edit.add_breakpoint(m, 0x10)  # type: ignore[attr-defined]
    with edit, pytest.raises(DebugError), store.edit_breakpoints():
        pass
    with pytest.raises(DebugError):
        edit.add_breakpoint(m, 0x10)  # type: ignore[attr-defined]
    with pytest.raises(DebugError), edit:
        pass


def test_error_inside_session_still_republishes() -> None:
    store, (m,) = _setup("m")
    code = store.debug_code(m)
    with pytest.raises(KeyError), store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x10)
        raise KeyError("boom")
    assert code.published and code.is_enabled(0x10)


# -- fault injection -----------------------------------------------------------


def _snapshot(store: FakeStore) -> Any:
    s = store.state
    return (dict(s._counts), {k: list(v) for k, v in s._redirects.items()}, s.is_single_step)


def test_unpublish_failure_changes_nothing_and_guest_still_runs() -> None:
    store, (m,) = _setup("m")
    code = store.debug_code(m)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x10)
    before = _snapshot(store)
    code.fail_unpublish = True
    with store.edit_breakpoints() as edit:
        with pytest.raises(FakeError):
            edit.add_breakpoint(m, 0x13)  # slips to 0x14: would need a patch
        assert edit.dirty_modules == []
        with pytest.raises(FakeError):
            edit.remove_breakpoint(m, 0x10)
        with pytest.raises(FakeError):
            edit.single_step(True)
        edit.add_breakpoint(m, 0x10)  # no flip needed: fine without mprotect
        edit.remove_breakpoint(m, 0x10)
    assert _snapshot(store) == before
    assert code.published and code.enabled_pcs() == [0x10]
    assert (code.unpublishes, code.publishes) == (1, 1)
    # the guest still runs, and the old breakpoint still fires
    seen: list[int] = []
    store.set_debug_handler(lambda _store, ev: seen.append(ev.pc or 0))
    assert store.call(m, f0, 7) == 7
    assert seen == [0x10]


def test_unpublish_failure_midway_through_single_step_rolls_back() -> None:
    store, (a, b) = _setup("a", "b")
    ca, cb = store.debug_code(a), store.debug_code(b)
    cb.fail_unpublish = True
    with store.edit_breakpoints() as edit:
        with pytest.raises(FakeError):
            edit.single_step(True)
        assert edit.dirty_modules == []
        assert ca.published  # republished at once by the rollback
    assert not store.is_single_step
    assert ca.enabled_pcs() == [] and ca.publishes == 1 and ca.unpublishes == 1
    assert cb.published and cb.unpublishes == 0


def test_unpublish_failure_keeps_modules_already_dirty() -> None:
    store, (a, b) = _setup("a", "b")
    ca = store.debug_code(a)
    store.debug_code(b).fail_unpublish = True
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(a, 0x10)
        with pytest.raises(FakeError):
            edit.single_step(True)
        assert edit.dirty_modules == [a]
    assert ca.published and ca.publishes == 1 and ca.enabled_pcs() == [0x10]


ABORT_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from debug_fakes import FakeModule, FakeStore
    from test_edit import f0, f1
    store = FakeStore()
    m = store.instantiate(FakeModule("m", {{0: (f0, [0x10])}}))
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x10)
        store.debug_code(m).fail_publish = True
        print("leaving the session", flush=True)
    print("NOT REACHED", flush=True)
    """
)


def test_republish_failure_aborts_the_process() -> None:
    root = str(Path(__file__).resolve().parent)
    proc = subprocess.run(
        [sys.executable, "-c", ABORT_SCRIPT.format(root=root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode < 0, proc  # killed by SIGABRT
    assert "leaving the session" in proc.stdout
    assert "NOT REACHED" not in proc.stdout
    assert "wasmdbg: fatal: cannot make the machine code of <module m> executable" in proc.stderr
    assert "mprotect(RX) refused" in proc.stderr


def test_shared_site_stays_on_while_any_of_its_pcs_wants_it() -> None:
    store = FakeStore()
    # 0x14 shares 0x10's patch site (no code between the two opcodes)
    m = store.instantiate(FakeModule("m", {0: (f0, [0x10, 0x14, 0x18])}, shared=[0x14]))
    code = store.debug_code(m)
    table = code.frame_table
    assert [s.pc for s in table.sites_at_native(table.sites_at(0x10)[0].native_offset)] == [0x10, 0x14]
    assert [[s.pc for s in rows] for rows in table.native_sites()] == [[0x10, 0x14], [0x18]]
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x10)
    with store.edit_breakpoints() as edit:
        edit.add_breakpoint(m, 0x14)  # the site is on already: no flip, no mprotect
    assert code.unpublishes == 1 and code.is_enabled(0x10) and code.is_enabled(0x14)
    with store.edit_breakpoints() as edit:
        edit.remove_breakpoint(m, 0x10)  # 0x14 still wants the shared site
    assert code.unpublishes == 1 and code.is_enabled(0x14)
    with store.edit_breakpoints() as edit:
        edit.single_step(True)
    with store.edit_breakpoints() as edit:
        edit.single_step(False)  # restores exactly the breakpoints: the shared site stays on
    assert code.is_enabled(0x14) and not code.is_enabled(0x18)
    with store.edit_breakpoints() as edit:
        edit.remove_breakpoint(m, 0x14)
    assert code.enabled == set()
