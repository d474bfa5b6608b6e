"""debug/hitcond: hit conditions, log messages, the combined editor condition."""

from __future__ import annotations

import pytest

from wasmdbg.debug.hitcond import EditorCondition, parse_hit_condition, parse_log_message
from wasmdbg.errors import DebugError


@pytest.mark.parametrize(
    ("text", "stops"),
    [
        ("5", [5]),
        ("==5", [5]),
        (" == 5 ", [5]),
        (">5", [6, 7, 8, 9, 10]),
        (">=5", [5, 6, 7, 8, 9, 10]),
        ("<3", [1, 2]),
        ("<=3", [1, 2, 3]),
        ("%3", [3, 6, 9]),
    ],
)
def test_hit_conditions(text: str, stops: list[int]) -> None:
    hit = parse_hit_condition(text)
    assert [n for n in range(1, 11) if hit.holds(n)] == stops


@pytest.mark.parametrize("text", ["", "x", "5x", "=5", "!=5", "%0", "-1", ">= "])
def test_bad_hit_conditions(text: str) -> None:
    with pytest.raises(DebugError):
        parse_hit_condition(text)


def test_log_message_holes_and_braces() -> None:
    msg = parse_log_message("a={a} {{lit}} b={ b + 1 }{a}")
    assert msg.expressions == ("a", "b + 1", "a")
    values = {"a": "1", "b + 1": "3"}
    assert msg.render(values.__getitem__) == "a=1 {lit} b=31"
    assert parse_log_message("{ {1: 2}[1] }").expressions == ("{1: 2}[1]",)


def test_log_message_errors_render_inline() -> None:
    def boom(expr: str) -> str:
        raise DebugError(f"no {expr}")

    assert parse_log_message("x={x}!").render(boom) == "x=<error: no x>!"


@pytest.mark.parametrize("text", ["{", "a}", "{}", "{ }", "{a"])
def test_bad_log_messages(text: str) -> None:
    with pytest.raises(DebugError):
        parse_log_message(text)


def test_editor_condition_counts_hits_after_the_condition() -> None:
    logged: list[str] = []
    cond = EditorCondition(
        condition=lambda frame: frame % 2 == 0,
        hit=parse_hit_condition("%2"),
        message=parse_log_message("f={f}"),
        evaluate=lambda frame, expr: str(frame),
        log=logged.append,
    )
    assert [cond(f) for f in range(10)] == [False] * 10  # a logpoint never stops
    assert cond.hits == 5  # frames 0, 2, 4, 6, 8 passed the condition
    assert logged == ["f=2", "f=6"]  # the 2nd and 4th of them


def test_editor_condition_without_message_stops() -> None:
    cond = EditorCondition(hit=parse_hit_condition(">=2"))
    assert [cond(None) for _ in range(3)] == [False, True, True]


def test_log_message_needs_a_sink() -> None:
    with pytest.raises(DebugError):
        EditorCondition(message=parse_log_message("x"))
