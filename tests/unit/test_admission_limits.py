"""The admission decision and its window arithmetic at chosen instants (no store, no clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.admission.limits import (
    AdmissionPolicy,
    CallEstimate,
    Counters,
    LimitKind,
    Reason,
    Verdict,
    decide,
    snapshots,
    window_at,
)
from engines.health.circuit import CircuitState
from engines.integrations.integration import HealthState, Integration, IntegrationStatus, ProviderType

UTC = timezone.utc
NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def integration(**limits: object) -> Integration:
    values: dict[str, object] = {
        "id": "i", "tenant_id": "t", "name": "n", "provider_type": ProviderType.OPENAI,
        "credential_ref": "env://K", "config": {}, "default_model": "m",
        "status": IntegrationStatus.ENABLED, "health_state": HealthState.HEALTHY,
        "health_message": "ok", "health_checked_at": None, "budget_limit_cents": 0,
        "token_limit_month": 0, "rate_limit_rpm": 0, "created_by": "c",
        "create_time": NOW, "update_time": NOW,
    }
    values.update(limits)
    return Integration(**values)  # type: ignore[arg-type]


def estimate(tokens_in: int = 0, tokens_out: int = 0, cost: int = 0) -> CallEstimate:
    return CallEstimate("t", "i", "call", "", tokens_in, tokens_out, cost)


POLICY = AdmissionPolicy(integration_id="i")


def verdict_of(
    counters: Counters, call: CallEstimate, policy: AdmissionPolicy = POLICY, **limits: object
) -> tuple[Verdict, list[Reason]]:
    decision = decide(integration(**limits), policy, counters, call, window_at(NOW))
    return decision.verdict, [r.reason for r in decision.reasons]


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        pytest.param(datetime(2026, 3, 14, 15, 9, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC),
                     datetime(2026, 4, 1, tzinfo=UTC), id="mid-month"),
        pytest.param(datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                     datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                     id="last-instant-of-the-year"),
        pytest.param(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                     datetime(2027, 2, 1, tzinfo=UTC), id="first-instant-of-the-year"),
        pytest.param(datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC),
                     datetime(2028, 3, 1, tzinfo=UTC), id="leap-day"),
    ],
)
def test_budget_period_is_the_utc_calendar_month(
    now: datetime, start: datetime, end: datetime
) -> None:
    window = window_at(now)
    assert (window.period_start, window.period_end) == (start, end)
    assert window.window_start == now - timedelta(seconds=60)


@pytest.mark.parametrize(
    ("counters", "call", "limits", "expected"),
    [
        pytest.param(Counters(cost_used=50, cost_reserved=40), estimate(cost=10),
                     {"budget_limit_cents": 100}, (Verdict.WARN, [Reason.THRESHOLD_CROSSED]),
                     id="budget-exactly-full-is-admitted"),
        pytest.param(Counters(cost_used=50, cost_reserved=40), estimate(cost=11),
                     {"budget_limit_cents": 100}, (Verdict.BLOCK, [Reason.BUDGET_EXCEEDED]),
                     id="budget-one-cent-over"),
        pytest.param(Counters(cost_used=100), estimate(cost=0), {"budget_limit_cents": 100},
                     (Verdict.BLOCK, [Reason.BUDGET_EXCEEDED]), id="free-call-on-a-spent-budget"),
        pytest.param(Counters(cost_used=10), estimate(cost=59), {"budget_limit_cents": 100},
                     (Verdict.ALLOW, []), id="below-the-threshold"),
        pytest.param(Counters(cost_used=10), estimate(cost=70), {"budget_limit_cents": 100},
                     (Verdict.WARN, [Reason.THRESHOLD_CROSSED]), id="exactly-80-percent"),
        pytest.param(Counters(tokens_used=900, tokens_reserved=50), estimate(30, 21),
                     {"token_limit_month": 1000}, (Verdict.BLOCK, [Reason.TOKEN_LIMIT_EXCEEDED]),
                     id="tokens-count-input-plus-max-output"),
        pytest.param(Counters(requests_in_window=4), estimate(), {"rate_limit_rpm": 5},
                     (Verdict.WARN, [Reason.THRESHOLD_CROSSED]), id="last-request-of-the-minute"),
        pytest.param(Counters(requests_in_window=5, oldest_request=NOW), estimate(),
                     {"rate_limit_rpm": 5}, (Verdict.BLOCK, [Reason.RATE_LIMITED]), id="rpm-full"),
        pytest.param(Counters(cost_used=1000), estimate(cost=1),
                     {"budget_limit_cents": 0, "token_limit_month": 0},
                     (Verdict.ALLOW, []), id="zero-means-unlimited"),
        pytest.param(Counters(cost_used=1000, requests_in_window=9), estimate(cost=1),
                     {"budget_limit_cents": 10, "rate_limit_rpm": 5,
                      "status": IntegrationStatus.DISABLED},
                     (Verdict.BLOCK, [Reason.INTEGRATION_DISABLED, Reason.BUDGET_EXCEEDED,
                                      Reason.RATE_LIMITED]),
                     id="every-reason-listed-the-integration-first"),
        pytest.param(Counters(), estimate(), {"health_state": HealthState.UNHEALTHY},
                     (Verdict.BLOCK, [Reason.INTEGRATION_UNHEALTHY]), id="unhealthy"),
        pytest.param(Counters(), estimate(),
                     {"circuit": CircuitState(3, NOW, "3 consecutive failed health probes"),
                      "health_state": HealthState.DEGRADED},
                     (Verdict.BLOCK, [Reason.INTEGRATION_UNHEALTHY]),
                     id="circuit-open-blocks-even-if-the-last-probe-was-better"),
        pytest.param(Counters(), estimate(),
                     {"circuit": CircuitState(3, NOW, "x"), "health_state": HealthState.UNHEALTHY,
                      "status": IntegrationStatus.ERROR},
                     (Verdict.BLOCK, [Reason.INTEGRATION_DISABLED, Reason.INTEGRATION_UNHEALTHY]),
                     id="circuit-open-one-unhealthy-reason"),
        pytest.param(Counters(), estimate(), {"health_state": HealthState.DEGRADED},
                     (Verdict.WARN, [Reason.INTEGRATION_DEGRADED]), id="degraded"),
        pytest.param(Counters(), estimate(), {"status": IntegrationStatus.CREATED},
                     (Verdict.BLOCK, [Reason.INTEGRATION_DISABLED]), id="never-enabled"),
    ],
)
def test_decision_table(
    counters: Counters, call: CallEstimate, limits: dict, expected: tuple
) -> None:
    assert verdict_of(counters, call, **limits) == expected


def test_policy_limits_and_warn_percent() -> None:
    policy = AdmissionPolicy("i", tokens_per_minute=100, max_parallel_calls=3, warn_percent=100)
    assert verdict_of(Counters(tokens_in_window=60, tokens_reserved=30), estimate(10), policy) == (
        Verdict.WARN, [Reason.THRESHOLD_CROSSED]
    )
    assert verdict_of(Counters(tokens_in_window=60, tokens_reserved=30), estimate(11), policy) == (
        Verdict.BLOCK, [Reason.TOKEN_RATE_LIMITED]
    )
    assert verdict_of(Counters(open_reservations=2), estimate(), policy) == (
        Verdict.WARN, [Reason.THRESHOLD_CROSSED]
    )
    assert verdict_of(Counters(open_reservations=3), estimate(), policy) == (
        Verdict.BLOCK, [Reason.PARALLEL_LIMIT]
    )
    assert verdict_of(Counters(open_reservations=1), estimate(), policy) == (Verdict.ALLOW, [])


def test_retry_after_is_when_the_oldest_entry_leaves_the_sliding_minute() -> None:
    oldest = NOW - timedelta(seconds=45, milliseconds=500)
    decision = decide(
        integration(rate_limit_rpm=2), POLICY,
        Counters(requests_in_window=2, oldest_request=oldest), estimate(), window_at(NOW),
    )
    assert decision.reasons[0].retry_after == timedelta(seconds=14, milliseconds=500)
    assert decision.deciding_limit is LimitKind.REQUESTS_PER_MINUTE
    tpm = decide(
        integration(), replace(POLICY, tokens_per_minute=10),
        Counters(tokens_in_window=10, oldest_tokens=NOW - timedelta(seconds=59)),
        estimate(1), window_at(NOW),
    )
    assert tpm.reasons[0].retry_after == timedelta(seconds=1)
    # Reservations alone fill the window: no instant to promise.
    held = decide(
        integration(), replace(POLICY, tokens_per_minute=10), Counters(tokens_reserved=10),
        estimate(1), window_at(NOW),
    )
    assert held.reasons[0].retry_after is None


def test_snapshots_after_the_decision_include_this_call() -> None:
    counters = Counters(cost_used=5, cost_reserved=10, requests_in_window=1, open_reservations=1)
    decision = decide(
        integration(budget_limit_cents=100, rate_limit_rpm=10), POLICY, counters,
        estimate(cost=20), window_at(NOW),
    )
    by_kind = {s.kind: s for s in decision.limits}
    budget = by_kind[LimitKind.BUDGET]
    assert (budget.used, budget.reserved, budget.remaining) == (5, 30, 65)
    assert budget.period_end == datetime(2026, 4, 1, tzinfo=UTC)
    assert (by_kind[LimitKind.REQUESTS_PER_MINUTE].used, by_kind[LimitKind.PARALLEL_CALLS].reserved) == (2, 2)
    assert by_kind[LimitKind.PARALLEL_CALLS].remaining == 0  # unlimited reports 0 remaining
    blocked = decide(
        integration(budget_limit_cents=20), POLICY, counters, estimate(cost=20), window_at(NOW)
    )
    assert {s.kind: s for s in blocked.limits}[LimitKind.BUDGET].reserved == 10  # not added
    standing = {s.kind: s for s in snapshots(integration(), POLICY, counters, window_at(NOW))}
    assert standing[LimitKind.BUDGET].reserved == 10
