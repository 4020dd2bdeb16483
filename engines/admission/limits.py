"""The admission decision: an integration's limits, the counters a store aggregated under its
lock, and a call's estimate in; a verdict, its reasons and a snapshot of every limit out.

Pure arithmetic on values, so it is tested with a fake clock and no store. Budget and token
limits run over the UTC calendar month; per-minute limits over the sliding last 60 seconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from engines.integrations.integration import HealthState, Integration, IntegrationStatus, month_bounds

__all__ = [
    "DEFAULT_RESERVATION_TTL",
    "DEFAULT_WARN_PERCENT",
    "RATE_WINDOW",
    "AdmissionPolicy",
    "AdmissionWindow",
    "CallEstimate",
    "Counters",
    "Decision",
    "LimitKind",
    "LimitSnapshot",
    "Reason",
    "ReasonDetail",
    "Verdict",
    "decide",
    "snapshots",
    "window_at",
]

RATE_WINDOW = timedelta(seconds=60)
DEFAULT_RESERVATION_TTL = timedelta(minutes=5)
DEFAULT_WARN_PERCENT = 80


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


class Reason(enum.StrEnum):
    BUDGET_EXCEEDED = "budget_exceeded"
    TOKEN_LIMIT_EXCEEDED = "token_limit_exceeded"
    RATE_LIMITED = "rate_limited"
    TOKEN_RATE_LIMITED = "token_rate_limited"
    PARALLEL_LIMIT = "parallel_limit"
    INTEGRATION_DISABLED = "integration_disabled"
    INTEGRATION_UNHEALTHY = "integration_unhealthy"
    INTEGRATION_DEGRADED = "integration_degraded"
    THRESHOLD_CROSSED = "threshold_crossed"


class LimitKind(enum.StrEnum):
    BUDGET = "budget"
    TOKENS = "tokens"
    REQUESTS_PER_MINUTE = "requests_per_minute"
    TOKENS_PER_MINUTE = "tokens_per_minute"
    PARALLEL_CALLS = "parallel_calls"


_EXCEEDED = {
    LimitKind.BUDGET: Reason.BUDGET_EXCEEDED,
    LimitKind.TOKENS: Reason.TOKEN_LIMIT_EXCEEDED,
    LimitKind.REQUESTS_PER_MINUTE: Reason.RATE_LIMITED,
    LimitKind.TOKENS_PER_MINUTE: Reason.TOKEN_RATE_LIMITED,
    LimitKind.PARALLEL_CALLS: Reason.PARALLEL_LIMIT,
}


@dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    """Admission settings of an integration beyond its own budget, token and rate limits."""

    integration_id: str
    tokens_per_minute: int = 0
    max_parallel_calls: int = 0
    reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL
    warn_percent: int = DEFAULT_WARN_PERCENT
    update_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallEstimate:
    """What AdmitCall is asked to let through."""

    tenant_id: str
    integration_id: str
    call_id: str
    model: str
    input_tokens: int
    max_output_tokens: int
    cost_cents: int

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.max_output_tokens


@dataclass(frozen=True, slots=True)
class AdmissionWindow:
    """The instants one decision is made at: the month period and the sliding minute."""

    now: datetime
    period_start: datetime
    period_end: datetime
    window_start: datetime


def window_at(now: datetime) -> AdmissionWindow:
    """The UTC calendar month and the 60 seconds ending at `now`."""
    start, end = month_bounds(now)
    return AdmissionWindow(now, start, end, now - RATE_WINDOW)


@dataclass(frozen=True, slots=True)
class Counters:
    """Sums a store takes in one snapshot while it holds the integration's admission lock.

    `*_used` include reservations that expired unsettled (their estimate counts as used);
    `*_reserved` are open, unexpired reservations. The `oldest_*` instants are the earliest
    entries of the sliding minute, from which retry_after is computed."""

    cost_used: int = 0
    cost_reserved: int = 0
    tokens_used: int = 0
    tokens_reserved: int = 0
    requests_in_window: int = 0
    oldest_request: datetime | None = None
    tokens_in_window: int = 0
    oldest_tokens: datetime | None = None
    open_reservations: int = 0


@dataclass(frozen=True, slots=True)
class LimitSnapshot:
    """One limit as the decision saw it; `limit` 0 means unlimited."""

    kind: LimitKind
    limit: int
    used: int
    reserved: int
    period_start: datetime
    period_end: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used - self.reserved)


@dataclass(frozen=True, slots=True)
class ReasonDetail:
    """One reason of a WARN or BLOCK verdict."""

    reason: Reason
    limit: LimitKind | None
    message: str
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict, its reasons (the deciding one first) and every limit after the decision."""

    verdict: Verdict
    reasons: tuple[ReasonDetail, ...]
    limits: tuple[LimitSnapshot, ...]

    @property
    def admitted(self) -> bool:
        return self.verdict is not Verdict.BLOCK

    @property
    def deciding_limit(self) -> LimitKind | None:
        if self.verdict is Verdict.BLOCK and self.reasons:
            return self.reasons[0].limit
        return None


@dataclass(frozen=True, slots=True)
class _Need:
    """A limit, what is counted against it, and what this call adds."""

    snapshot: LimitSnapshot
    need: int
    counts_as_used: bool  # requests per minute: an admission is a use, not a reservation


def _needs(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    estimate: CallEstimate | None,
    window: AdmissionWindow,
) -> list[_Need]:
    month = (window.period_start, window.period_end)
    minute = (window.window_start, window.now)
    cost = estimate.cost_cents if estimate else 0
    tokens = estimate.tokens if estimate else 0
    one = 1 if estimate else 0
    rows = [
        (LimitKind.BUDGET, integration.budget_limit_cents, counters.cost_used,
         counters.cost_reserved, cost, False, month),
        (LimitKind.TOKENS, integration.token_limit_month, counters.tokens_used,
         counters.tokens_reserved, tokens, False, month),
        (LimitKind.REQUESTS_PER_MINUTE, integration.rate_limit_rpm, counters.requests_in_window,
         0, one, True, minute),
        (LimitKind.TOKENS_PER_MINUTE, policy.tokens_per_minute, counters.tokens_in_window,
         counters.tokens_reserved, tokens, False, minute),
        (LimitKind.PARALLEL_CALLS, policy.max_parallel_calls, 0, counters.open_reservations,
         one, False, minute),
    ]
    return [
        _Need(LimitSnapshot(kind, limit, used, reserved, *span), need, as_used)
        for kind, limit, used, reserved, need, as_used, span in rows
    ]


def _after(need: _Need) -> LimitSnapshot:
    s = need.snapshot
    if need.counts_as_used:
        return LimitSnapshot(s.kind, s.limit, s.used + need.need, s.reserved, s.period_start,
                             s.period_end)
    return LimitSnapshot(s.kind, s.limit, s.used, s.reserved + need.need, s.period_start,
                         s.period_end)


def _exceeds(need: _Need) -> bool:
    """Over the limit with this call; a call that adds nothing is refused once nothing is left."""
    s = need.snapshot
    if s.limit <= 0:
        return False
    counted = s.used + s.reserved
    return counted + need.need > s.limit or counted >= s.limit


def _retry_after(
    kind: LimitKind, counters: Counters, window: AdmissionWindow
) -> timedelta | None:
    """When the oldest entry leaves the sliding minute: the earliest a retry can succeed."""
    oldest = {
        LimitKind.REQUESTS_PER_MINUTE: counters.oldest_request,
        LimitKind.TOKENS_PER_MINUTE: counters.oldest_tokens,
    }.get(kind)
    if oldest is None:
        return None
    return max(timedelta(milliseconds=1), oldest + RATE_WINDOW - window.now)


def _exceeded(need: _Need, counters: Counters, window: AdmissionWindow) -> ReasonDetail:
    s = need.snapshot
    return ReasonDetail(
        _EXCEEDED[s.kind],
        s.kind,
        f"{s.kind.value}: {s.used} used and {s.reserved} reserved of {s.limit}; "
        f"this call needs {need.need}",
        _retry_after(s.kind, counters, window),
    )


def _integration_reasons(integration: Integration) -> tuple[list[ReasonDetail], list[ReasonDetail]]:
    """(blocking, warning) reasons that come from the integration itself, not a limit."""
    blocking, warning = [], []
    if integration.status is not IntegrationStatus.ENABLED:
        blocking.append(ReasonDetail(
            Reason.INTEGRATION_DISABLED, None,
            f"the integration is {integration.status.value}, not enabled",
        ))
    if integration.circuit.is_open:
        blocking.append(ReasonDetail(
            Reason.INTEGRATION_UNHEALTHY, None,
            f"the integration's health circuit is open: {integration.circuit.reason}",
        ))
    elif integration.health_state is HealthState.UNHEALTHY:
        blocking.append(ReasonDetail(
            Reason.INTEGRATION_UNHEALTHY, None,
            f"the last health probe found the provider unhealthy: {integration.health_message}",
        ))
    elif integration.health_state is HealthState.DEGRADED:
        warning.append(ReasonDetail(
            Reason.INTEGRATION_DEGRADED, None,
            f"the last health probe found the provider degraded: {integration.health_message}",
        ))
    return blocking, warning


def decide(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    estimate: CallEstimate,
    window: AdmissionWindow,
) -> Decision:
    """BLOCK when the integration is off or unhealthy or any limit would be exceeded (every
    reason listed, the integration's first, then limits in LimitKind order); WARN when admitted
    with the provider degraded or a limit at or above `warn_percent`; ALLOW otherwise."""
    needs = _needs(integration, policy, counters, estimate, window)
    blocking, warning = _integration_reasons(integration)
    blocking += [_exceeded(n, counters, window) for n in needs if _exceeds(n)]
    if blocking:
        return Decision(Verdict.BLOCK, tuple(blocking), tuple(n.snapshot for n in needs))
    after = [_after(n) for n in needs]
    for snapshot in after:
        if snapshot.limit > 0 and 100 * (snapshot.used + snapshot.reserved) >= (
            policy.warn_percent * snapshot.limit
        ):
            warning.append(ReasonDetail(
                Reason.THRESHOLD_CROSSED, snapshot.kind,
                f"{snapshot.kind.value}: {snapshot.used + snapshot.reserved} of "
                f"{snapshot.limit} counted, at or above {policy.warn_percent}%",
            ))
    verdict = Verdict.WARN if warning else Verdict.ALLOW
    return Decision(verdict, tuple(warning), tuple(after))


def snapshots(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    window: AdmissionWindow,
) -> tuple[LimitSnapshot, ...]:
    """Every limit as the counters stand (a replayed admission reports these)."""
    return tuple(n.snapshot for n in _needs(integration, policy, counters, None, window))
