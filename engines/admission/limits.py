"""The admission decision: an integration's limits, the counters a store aggregated under its
lock, and a call's estimate in; a verdict, its reasons and a snapshot of every limit out.

Pure arithmetic on values, so it is tested with a fake clock and no store. Budget and token
limits run over the policy's period (`engines/admission/periods.py`; the UTC calendar month by
default); per-minute limits over the sliding last 60 seconds. A call's model may have limits of
its own (`ModelLimits`), checked beside the integration's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engines.admission.periods import UTC_MONTH, LimitPeriod, PeriodKind, bounds
from engines.integrations.integration import HealthState, Integration, IntegrationStatus

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
    "ModelCounters",
    "ModelLimits",
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
    ADMITTED_UNCHECKED = "admitted_unchecked"  # ALLOW without checking: storage was unavailable


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


# Events reported ahead of time (up to 5 minutes) count in a rolling window at once.
_ROLLING_AHEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """Limits of one model of an integration, checked beside the integration's; 0: unlimited."""

    model: str
    budget_limit_cents: int = 0
    token_limit: int = 0
    rate_limit_rpm: int = 0
    tokens_per_minute: int = 0
    max_parallel_calls: int = 0


@dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    """Admission settings of an integration beyond its own budget, token and rate limits: the
    period those are counted over, limits per model, and whether AdmitCall admits unchecked
    while storage is unavailable (`fail_open`; a risk: no limit is enforced then)."""

    integration_id: str
    tokens_per_minute: int = 0
    max_parallel_calls: int = 0
    reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL
    warn_percent: int = DEFAULT_WARN_PERCENT
    update_time: datetime | None = None
    period: LimitPeriod = UTC_MONTH
    model_limits: tuple[ModelLimits, ...] = ()
    fail_open: bool = False

    def limits_of(self, model: str) -> ModelLimits | None:
        return next((m for m in self.model_limits if m.model == model), None)


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
    """The instants one decision is made at: the period (as reported, and the range counted:
    a rolling window reports [now - duration, now) and counts events reported ahead too) and the
    sliding minute."""

    now: datetime
    period_start: datetime
    period_end: datetime
    window_start: datetime
    count_end: datetime


def window_at(now: datetime, period: LimitPeriod = UTC_MONTH) -> AdmissionWindow:
    """The period containing `now` and the 60 seconds ending at it."""
    start, end = bounds(period, now)
    count_end = now + _ROLLING_AHEAD if period.kind is PeriodKind.ROLLING else end
    return AdmissionWindow(now, start, end, now - RATE_WINDOW, count_end)


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

    def reserving(self, cost_cents: int, tokens: int, at: datetime) -> Counters:
        """These counters with one more open reservation of `cost_cents` and `tokens` made
        `at`, as the store's aggregate would count it (a store deciding several admissions of
        one integration in one transaction adds each reservation before the next decision)."""
        oldest = self.oldest_request
        return replace(
            self,
            cost_reserved=self.cost_reserved + cost_cents,
            tokens_reserved=self.tokens_reserved + tokens,
            requests_in_window=self.requests_in_window + 1,
            oldest_request=at if oldest is None else min(oldest, at),
            open_reservations=self.open_reservations + 1,
        )


@dataclass(frozen=True, slots=True)
class LimitSnapshot:
    """One limit as the decision saw it; `limit` 0 means unlimited; `model` empty for the
    integration's own limits."""

    kind: LimitKind
    limit: int
    used: int
    reserved: int
    period_start: datetime
    period_end: datetime
    model: str = ""

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
    counters: Counters


@dataclass(frozen=True, slots=True)
class ModelCounters:
    """The limits of the call's model and the counters of that model's usage alone."""

    limits: ModelLimits
    counters: Counters


def _rows(
    limits: tuple[int, int, int, int, int],
    counters: Counters,
    estimate: CallEstimate | None,
    window: AdmissionWindow,
    model: str,
) -> list[_Need]:
    """The five limits (budget, tokens, rpm, tpm, parallel) against one set of counters."""
    budget, tokens_limit, rpm, tpm, parallel = limits
    period = (window.period_start, window.period_end)
    minute = (window.window_start, window.now)
    cost = estimate.cost_cents if estimate else 0
    tokens = estimate.tokens if estimate else 0
    one = 1 if estimate else 0
    rows = [
        (LimitKind.BUDGET, budget, counters.cost_used, counters.cost_reserved, cost, False, period),
        (LimitKind.TOKENS, tokens_limit, counters.tokens_used, counters.tokens_reserved, tokens,
         False, period),
        (LimitKind.REQUESTS_PER_MINUTE, rpm, counters.requests_in_window, 0, one, True, minute),
        (LimitKind.TOKENS_PER_MINUTE, tpm, counters.tokens_in_window, counters.tokens_reserved,
         tokens, False, minute),
        (LimitKind.PARALLEL_CALLS, parallel, 0, counters.open_reservations, one, False, minute),
    ]
    return [
        _Need(LimitSnapshot(kind, limit, used, reserved, *span, model=model), need, as_used,
              counters)
        for kind, limit, used, reserved, need, as_used, span in rows
    ]


def _needs(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    estimate: CallEstimate | None,
    window: AdmissionWindow,
    model: ModelCounters | None,
) -> list[_Need]:
    needs = _rows(
        (integration.budget_limit_cents, integration.token_limit_month, integration.rate_limit_rpm,
         policy.tokens_per_minute, policy.max_parallel_calls),
        counters, estimate, window, "",
    )
    if model is not None:
        m = model.limits
        needs += _rows(
            (m.budget_limit_cents, m.token_limit, m.rate_limit_rpm, m.tokens_per_minute,
             m.max_parallel_calls),
            model.counters, estimate, window, m.model,
        )
    return needs


def _after(need: _Need) -> LimitSnapshot:
    s = need.snapshot
    if need.counts_as_used:
        return replace(s, used=s.used + need.need)
    return replace(s, reserved=s.reserved + need.need)


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


def _label(snapshot: LimitSnapshot) -> str:
    return f"{snapshot.kind.value} of model {snapshot.model!r}" if snapshot.model else (
        snapshot.kind.value
    )


def _exceeded(need: _Need, window: AdmissionWindow) -> ReasonDetail:
    s = need.snapshot
    return ReasonDetail(
        _EXCEEDED[s.kind],
        s.kind,
        f"{_label(s)}: {s.used} used and {s.reserved} reserved of {s.limit}; "
        f"this call needs {need.need}",
        _retry_after(s.kind, need.counters, window),
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
    model: ModelCounters | None = None,
) -> Decision:
    """BLOCK when the integration is off or unhealthy or any limit would be exceeded (every
    reason listed, the integration's first, then its limits in LimitKind order, then the
    model's); WARN when admitted with the provider degraded or a limit at or above
    `warn_percent`; ALLOW otherwise."""
    needs = _needs(integration, policy, counters, estimate, window, model)
    blocking, warning = _integration_reasons(integration)
    blocking += [_exceeded(n, window) for n in needs if _exceeds(n)]
    if blocking:
        return Decision(Verdict.BLOCK, tuple(blocking), tuple(n.snapshot for n in needs))
    after = [_after(n) for n in needs]
    for snapshot in after:
        if snapshot.limit > 0 and 100 * (snapshot.used + snapshot.reserved) >= (
            policy.warn_percent * snapshot.limit
        ):
            warning.append(ReasonDetail(
                Reason.THRESHOLD_CROSSED, snapshot.kind,
                f"{_label(snapshot)}: {snapshot.used + snapshot.reserved} of "
                f"{snapshot.limit} counted, at or above {policy.warn_percent}%",
            ))
    verdict = Verdict.WARN if warning else Verdict.ALLOW
    return Decision(verdict, tuple(warning), tuple(after))


def snapshots(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    window: AdmissionWindow,
    model: ModelCounters | None = None,
) -> tuple[LimitSnapshot, ...]:
    """Every limit as the counters stand (a replayed admission reports these)."""
    return tuple(n.snapshot for n in _needs(integration, policy, counters, None, window, model))
