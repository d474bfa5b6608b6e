"""User breakpoints follow ``bdb.effective`` exactly: checked against CPython's own.

Each scenario puts a few breakpoints on one location (enabled or not,
temporary or not, ignore counts, conditions that are true, false, depend on
the hit, or raise), then hits the location several times.  The same
scenario runs through ``bdb.effective`` (with a real frame whose local ``x``
is the hit number) and through ours (with ``x`` in the namespace); after
every hit the chosen breakpoint, the delete flag, and every breakpoint's
hits and ignore count must agree.  Temporary breakpoints are deleted the
way ``bdb.Bdb.break_here`` deletes them.
"""

from __future__ import annotations

import bdb
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from wasmdbg.debug.breakpoints import Breakpoint, effective
from wasmdbg.errors import DebugError

CONDS = [None, "", "True", "False", "x % 2 == 0", "x > 2", "undefined_name", "1 / (x - 3)"]


@dataclass
class Spec:
    enabled: bool
    temporary: bool
    cond: str | None
    ignore: int


def _scenarios(n: int) -> Iterator[list[Spec]]:
    rnd = random.Random(1234)
    for _ in range(n):
        yield [
            Spec(
                enabled=rnd.random() < 0.8,
                temporary=rnd.random() < 0.3,
                cond=rnd.choice(CONDS),
                ignore=rnd.choice([0, 0, 1, 2, 3]),
            )
            for _ in range(rnd.randint(1, 4))
        ]


def _bdb_hit(x: int) -> tuple[int | None, bool | None, list[tuple[int, int]], list[bdb.Breakpoint]]:
    frame = sys._getframe()
    bp, flag = bdb.effective("<scenario>", 1, frame)
    if bp is not None and flag and bp.temporary:
        bp.deleteMe()
    live = list(bdb.Breakpoint.bplist.get(("<scenario>", 1), []))
    return (bp.number if bp else None), flag, [(b.hits, b.ignore) for b in live], live


@pytest.mark.parametrize("scenario", list(_scenarios(400)))
def test_effective_matches_bdb(scenario: list[Spec], monkeypatch: pytest.MonkeyPatch) -> None:
    # NB: bdb's checkfuncname also matches the frame's current line; the
    # location match is our caller's job (a lookup by (module, pc)), so it
    # is neutralised here and only the hit/condition/ignore logic compared.
    monkeypatch.setattr(bdb, "checkfuncname", lambda b, frame: True)
    bdb.Breakpoint.clearBreakpoints()
    try:
        theirs: list[bdb.Breakpoint] = []
        ours: list[Breakpoint] = []
        for i, spec in enumerate(scenario, start=1):
            tb = bdb.Breakpoint("<scenario>", 1, temporary=spec.temporary, cond=spec.cond)
            tb.enabled = spec.enabled
            tb.ignore = spec.ignore
            theirs.append(tb)
            ob = Breakpoint(
                i, "m", 1, 1, temporary=spec.temporary, cond=spec.cond, ignore=spec.ignore
            )
            ob.enabled = spec.enabled
            ours.append(ob)
        numbers = {id(t): i for i, t in enumerate(theirs, start=1)}
        for x in range(8):
            if not ours:  # bdb.break_here stops looking when no breakpoint is left
                assert ("<scenario>", 1) not in bdb.Breakpoint.bplist
                break
            their_bp_number, their_flag, their_counts, live = _bdb_hit(x)
            their_choice = None
            if their_bp_number is not None:
                their_choice = next(numbers[id(t)] for t in theirs if t.number == their_bp_number)
            bp, flag = effective(ours, None, lambda x=x: {"x": x})  # type: ignore[misc]
            if bp is not None and flag and bp.temporary:
                ours.remove(bp)
            our_choice = bp.number if bp is not None else None
            assert our_choice == their_choice, (x, scenario)
            if their_choice is not None:
                assert flag == their_flag, (x, scenario)
            assert [(b.hits, b.ignore) for b in ours] == their_counts, (x, scenario)
            assert len(live) == len(ours)
    finally:
        bdb.Breakpoint.clearBreakpoints()


def test_first_effective_wins_and_later_ones_are_not_counted() -> None:
    a = Breakpoint(1, "m", 5, 5)
    b = Breakpoint(2, "m", 5, 5)
    assert effective([a, b], None, dict) == (a, True)
    assert (a.hits, b.hits) == (1, 0)


def test_callable_condition_gets_the_frame() -> None:
    seen: list[object] = []

    def cond(frame: object) -> bool:
        seen.append(frame)
        return frame == "yes"

    bp = Breakpoint(1, "m", 5, 5, cond=cond)
    assert effective([bp], "no", dict) == (None, False)
    assert effective([bp], "yes", dict) == (bp, True)
    assert seen == ["no", "yes"] and bp.hits == 2


def test_namespace_built_lazily_once() -> None:
    calls = []

    def ns() -> dict[str, object]:
        calls.append(1)
        return {"x": 1}

    plain = Breakpoint(1, "m", 5, 5, ignore=1)
    c1 = Breakpoint(2, "m", 5, 5, cond="x == 0")
    c2 = Breakpoint(3, "m", 5, 5, cond="x == 1")
    assert effective([plain], None, ns) == (None, False)
    assert calls == []
    assert effective([c1, c2], None, ns) == (c2, True)
    assert calls == [1]


def test_bad_condition_rejected_at_set_time() -> None:
    with pytest.raises(DebugError):
        Breakpoint(1, "m", 5, 5, cond="x ==")
    with pytest.raises(DebugError):
        Breakpoint(1, "m", 5, 5, cond=42)  # type: ignore[arg-type]


def test_bpformat_and_where() -> None:
    bp = Breakpoint(
        3, "m", 0x21, 0x22, func_index=1, funcname="fact", temporary=True, cond="n == 1"
    )
    bp.hits = 2
    bp.ignore = 1
    text = bp.bpformat()
    assert text.splitlines()[0].startswith(
        "3   breakpoint   del  yes   at fact pc 0x22 (requested 0x21)"
    )
    assert "stop only if n == 1" in text
    assert "will ignore next 1 hits" in text
    assert "already hit 2 times" in text
    assert str(Breakpoint(4, "m", 8, 8, func_index=2)) == "Breakpoint 4 at func 2 pc 0x8"
