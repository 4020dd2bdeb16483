"""The limit event rules: which thresholds a decision's snapshots reached, and cursors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engines.admission.events import crossings, parse_cursor, thresholds
from engines.admission.limits import AdmissionPolicy, LimitKind, LimitSnapshot
from engines.kernel.errors import InvalidArgument

NOW = datetime(2026, 3, 14, 12, tzinfo=timezone.utc)
MONTH = (datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))


def snapshot(kind: LimitKind, limit: int, used: int, reserved: int = 0) -> LimitSnapshot:
    return LimitSnapshot(kind, limit, used, reserved, *MONTH)


def reached(policy: AdmissionPolicy, *limits: LimitSnapshot) -> list[tuple[LimitKind, int]]:
    return [(e.kind, e.threshold_percent) for e in crossings("t", "i", policy, limits, NOW)]


def test_thresholds_are_warn_percent_and_100() -> None:
    assert thresholds(AdmissionPolicy("i")) == (80, 100)
    assert thresholds(AdmissionPolicy("i", warn_percent=100)) == (100,)


def test_used_plus_reserved_at_or_above_a_threshold_reaches_it() -> None:
    policy = AdmissionPolicy("i")
    assert reached(policy, snapshot(LimitKind.BUDGET, 100, 40, 39)) == []
    assert reached(policy, snapshot(LimitKind.BUDGET, 100, 40, 40)) == [(LimitKind.BUDGET, 80)]
    assert reached(policy, snapshot(LimitKind.TOKENS, 10, 10)) == [
        (LimitKind.TOKENS, 80), (LimitKind.TOKENS, 100)
    ]


def test_unlimited_and_sliding_window_limits_raise_no_event() -> None:
    policy = AdmissionPolicy("i")
    assert reached(
        policy,
        snapshot(LimitKind.BUDGET, 0, 10**6),
        snapshot(LimitKind.REQUESTS_PER_MINUTE, 1, 1),
        snapshot(LimitKind.PARALLEL_CALLS, 1, 0, 1),
    ) == []


def test_an_event_carries_the_period_and_the_counts() -> None:
    [event] = crossings("t", "i", AdmissionPolicy("i"), [snapshot(LimitKind.BUDGET, 10, 3, 5)], NOW)
    assert (event.period_start, event.period_end, event.used, event.reserved, event.limit) == (
        *MONTH, 3, 5, 10
    )
    assert (event.model, event.create_time) == ("", NOW)


def test_a_model_limit_raises_its_own_event_beside_the_integrations() -> None:
    model_budget = LimitSnapshot(LimitKind.BUDGET, 10, 9, 0, *MONTH, model="gpt-4o")
    events = crossings(
        "t", "i", AdmissionPolicy("i"), [snapshot(LimitKind.BUDGET, 100, 90), model_budget], NOW
    )
    assert sorted((e.model, e.threshold_percent) for e in events) == [
        ("", 80), ("gpt-4o", 80)
    ]


@pytest.mark.parametrize("cursor", ["x", "-1", "1.5", "١٢", "9" * 20])
def test_a_cursor_not_issued_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_cursor(cursor)
    assert caught.value.violations[0].field == "resume_cursor"


def test_cursors() -> None:
    assert (parse_cursor(""), parse_cursor("42")) == (0, 42)
