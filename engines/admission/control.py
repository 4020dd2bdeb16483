"""Admission control on the per-call path: AdmitCall reserves a call's estimate against the
integration's limits, SettleCall swaps it for what the call used; usage reported afterwards in
batches, and summaries of it. The decision itself is `engines/admission/limits.decide`.

Exactness is the store's job: `AdmissionStore.admit` aggregates and inserts the reservation in
one transaction that holds a per-integration lock shared by every replica. A reservation not
settled by its expire_time is released by the store and its estimate counted as used (an
EXPIRED usage event); a settle that comes later is FAILED_PRECONDITION.

When the store is unavailable (the database is down), an integration whose policy is
`fail_open` is admitted unchecked from what this process last read of it
(`engines/admission/fail_open.py`); every other one fails closed with UNAVAILABLE.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from engines.admission.events import LimitEvent, crossings
from engines.admission.fail_open import (
    DEFAULT_LAST_READS,
    LastRead,
    LastReads,
    may_fail_open,
    unchecked_decision,
)
from engines.admission.limits import (
    AdmissionPolicy,
    AdmissionWindow,
    CallEstimate,
    Counters,
    Decision,
    ModelCounters,
    ModelLimits,
    Verdict,
    decide,
    snapshots,
)
from engines.admission.periods import period_violations
from engines.credentials.credential_service import DESTINATION_DENIED, Credential, CredentialService
from engines.egress.destinations import provider_destinations, url_destinations
from engines.integrations.integration import (
    Integration,
    IntegrationReader,
    ProviderType,
    find_integration,
    month_bounds,
)
from engines.kernel.clock import Clock, system_clock
from engines.kernel.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from engines.kernel.observability import NULL_OBSERVER, AdmissionObserver
from engines.kernel.validation import require_uuid

__all__ = [
    "MAX_BATCH_EVENTS",
    "MAX_MODEL_LIMITS",
    "Admission",
    "AdmissionEngine",
    "AdmissionStore",
    "AdmitOutcome",
    "BatchStatus",
    "CallOutcome",
    "CallTarget",
    "GroupBy",
    "Plan",
    "Planner",
    "Reading",
    "SettledUsage",
    "Reservation",
    "ReservationState",
    "SettleOutcome",
    "Settlement",
    "SummaryRow",
    "UsageRecord",
    "UsageReport",
]

MAX_BATCH_EVENTS = 1000
MAX_MODEL_LIMITS = 100
_MAX_ID = 128
_MAX_ERROR_CODE = 64
_MAX_FUTURE_USAGE = timedelta(minutes=5)
_MAX_TTL = timedelta(hours=24)
_MAX_SUMMARY_RANGE = timedelta(days=366)


class CallOutcome(enum.StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # written by the store only, for a reservation that expired unsettled


class ReservationState(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    EXPIRED = "expired"
    RELEASED = "released"  # given back without use (the key could not be revealed)


class BatchStatus(enum.StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


class GroupBy(enum.StrEnum):
    DAY = "day"
    MODEL = "model"
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class Reservation:
    """A hold on a call's estimate until it is settled or expires."""

    id: str
    tenant_id: str
    integration_id: str
    call_id: str
    model: str
    estimated_input_tokens: int
    estimated_output_tokens: int
    estimated_cost_cents: int
    verdict: Verdict
    state: ReservationState
    create_time: datetime
    expire_time: datetime

    @property
    def estimated_tokens(self) -> int:
        return self.estimated_input_tokens + self.estimated_output_tokens

    def covers(self, usage: UsageRecord) -> bool:
        """Whether settling `usage` adds nothing to what admission counted: the same model, no
        more tokens and cost than the estimate. Admission checked the thresholds with the
        estimate held, so such a settle cannot reach one it did not see, and skips the check."""
        return (
            usage.model == self.model
            and usage.tokens <= self.estimated_tokens
            and usage.cost_cents <= self.estimated_cost_cents
        )


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One usage event with the fields of the original engines' usage schema."""

    id: str
    tenant_id: str
    integration_id: str
    call_id: str | None
    model: str
    input_tokens: int
    output_tokens: int
    cost_cents: int
    outcome: CallOutcome
    occurred_at: datetime
    create_time: datetime
    reservation_id: str | None = None
    latency_ms: int | None = None
    error_code: str = ""
    session_id: str = ""
    agent_id: str = ""
    policy_result: Verdict | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def same_numbers(self, other: UsageRecord) -> bool:
        """Whether `other` reports the same call the same way (a repeat, not a conflict)."""
        keys = ("integration_id", "model", "input_tokens", "output_tokens", "cost_cents",
                "outcome", "latency_ms", "error_code")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@dataclass(frozen=True, slots=True)
class Reading:
    """What `AdmissionStore.admit` read under the lock: the integration, its policy (with only
    the call model's limits), the window of the policy's period at now, the counters (the
    model's when it has limits) and an earlier reservation of the same call_id."""

    integration: Integration
    policy: AdmissionPolicy
    window: AdmissionWindow
    counters: Counters
    model: ModelCounters | None
    earlier: Reservation | None


@dataclass(frozen=True, slots=True)
class AdmitOutcome:
    """What `AdmissionStore.admit` read, decided and did; `reservation` None when nothing was
    reserved."""

    reading: Reading
    decision: Decision
    reservation: Reservation | None
    replayed: bool = False
    events: tuple[LimitEvent, ...] = ()  # limit events stored by this admission


@dataclass(frozen=True, slots=True)
class CallTarget:
    """What a caller needs to make the admitted call; `credential` only when asked for."""

    integration_id: str
    provider_type: ProviderType
    base_url: str
    model: str
    credential_ref: str
    credential: Credential | None = None


@dataclass(frozen=True, slots=True)
class Admission:
    """AdmitCall's answer; `unchecked` when admitted without the store (fail_open)."""

    decision: Decision
    reservation: Reservation | None
    target: CallTarget | None
    replayed: bool
    unchecked: bool = False


@dataclass(frozen=True, slots=True)
class Settlement:
    """What SettleCall reports about a finished call."""

    tenant_id: str
    call_id: str
    reservation_id: str
    input_tokens: int
    output_tokens: int
    cost_cents: int
    latency_ms: int | None = None
    outcome: CallOutcome = CallOutcome.SUCCESS
    error_code: str = ""
    model: str = ""
    session_id: str = ""
    agent_id: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SettleOutcome:
    """The settled reservation, the usage event of the call, whether it was stored now, and
    the limit events that usage reached (stored with it)."""

    reservation: Reservation
    record: UsageRecord
    recorded: bool
    events: tuple[LimitEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class SettledUsage:
    """A settlement's usage event before the store has found its reservation, which supplies
    the integration, the call id, the verdict and, unless the settlement names one, the model
    (`record_for`; a store that completes it in SQL follows the same rule)."""

    id: str
    settlement: Settlement
    at: datetime

    def record_for(self, reservation: Reservation) -> UsageRecord:
        s = self.settlement
        return UsageRecord(
            id=self.id,
            tenant_id=reservation.tenant_id,
            integration_id=reservation.integration_id,
            call_id=reservation.call_id,
            reservation_id=reservation.id,
            model=s.model or reservation.model,
            input_tokens=s.input_tokens,
            output_tokens=s.output_tokens,
            cost_cents=s.cost_cents,
            latency_ms=s.latency_ms,
            outcome=s.outcome,
            error_code=s.error_code,
            session_id=s.session_id,
            agent_id=s.agent_id,
            policy_result=reservation.verdict,
            metadata=dict(s.metadata),
            occurred_at=self.at,
            create_time=self.at,
        )


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """Sums of one group of usage events; grouping fields empty when not grouped by."""

    day: str = ""
    model: str = ""
    integration_id: str = ""
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tokens: int = 0
    cost_cents: int = 0
    errors: int = 0


# An event of a batch refused on its own.
ServiceErrorLike = InvalidArgument | NotFound


@dataclass(frozen=True, slots=True)
class UsageReport:
    """One usage event as a caller reports it to RecordUsageBatch (no id, tenant or times yet)."""

    integration_id: str
    call_id: str
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_cents: int = 0
    outcome: CallOutcome = CallOutcome.SUCCESS
    occurred_at: datetime | None = None
    latency_ms: int | None = None
    error_code: str = ""
    session_id: str = ""
    agent_id: str = ""
    policy_result: Verdict | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    """What an admission stores: the reservation (None: nothing; the earlier one: a replay,
    nothing new) and the limit events the decision reached (kept unless stored before)."""

    decision: Decision
    reservation: Reservation | None
    events: Sequence[LimitEvent] = ()


# From what the store read under the lock: what to store.
Planner = Callable[[Reading], Plan]


def _replay(earlier: Reservation, estimate: CallEstimate, now: datetime) -> Decision:
    """A repeated AdmitCall gets its open reservation back; anything else about it is refused."""
    metadata = {"call_id": earlier.call_id}
    if earlier.integration_id != estimate.integration_id:
        raise FailedPrecondition(
            "CALL_ID_REUSED", "call_id was admitted before for another integration", metadata=metadata
        )
    if earlier.state is ReservationState.SETTLED:
        raise FailedPrecondition(
            "CALL_ALREADY_SETTLED", "call_id was admitted and settled before; use a new call_id",
            metadata=metadata,
        )
    if earlier.state is not ReservationState.OPEN or earlier.expire_time <= now:
        raise FailedPrecondition(
            "RESERVATION_EXPIRED",
            "call_id was admitted before and its reservation expired or was released; use a new "
            "call_id", metadata=metadata,
        )
    return Decision(earlier.verdict, (), ())


class AdmissionStore(Protocol):
    """Reservations, the usage events they become, and admission policies."""

    async def admit(
        self, estimate: CallEstimate, now: datetime, plan: Planner
    ) -> AdmitOutcome | None:
        """In one transaction holding the integration's admission lock (exclusive across
        replicas): reads the live integration of the tenant (None when there is none), its
        policy and the limits of the call's model (`estimate.model`, else the integration's
        default), the counters over `window_at(now, policy.period)` (and the model's when it
        has limits) and any earlier reservation of `estimate.call_id`, calls `plan` and stores
        the reservation it returns unless that is the earlier one (replayed), and those of its
        limit events not stored before (returned in `AdmitOutcome.events`)."""

    async def release(self, reservation: Reservation) -> None:
        """Gives an open reservation back unused."""

    async def settle(
        self,
        tenant_id: str,
        call_id: str,
        reservation_id: str,
        usage: SettledUsage,
        now: datetime,
    ) -> SettleOutcome | None:
        """Marks the tenant's open reservation (by `reservation_id`, else `call_id`) settled
        and stores `usage.record_for(reservation)` and the limit events the integration's counters reach
        with it (`engines.admission.events.reached`), atomically. When it was settled before, returns that
        event with recorded=False (the engine compares); when it expired or was released,
        FailedPrecondition RESERVATION_EXPIRED; None when there is no such reservation."""

    async def expire_due(self, tenant_id: str, now: datetime) -> int:
        """Turns the tenant's reservations past expire_time into EXPIRED usage events."""

    async def owned_integrations(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that are live integrations of the tenant."""

    async def record_batch(
        self, records: Sequence[UsageRecord]
    ) -> list[tuple[BatchStatus, UsageRecord]]:
        """Stores each record unless its (tenant, call_id) is stored already, and in the same
        transaction the limit events each integration's counters reach with the records stored
        (`engines.admission.events.reached`); per record the status and the stored one (the
        earlier one for DUPLICATE and CONFLICT)."""

    async def summary(
        self,
        tenant_id: str,
        integration_id: str | None,
        start: datetime,
        end: datetime,
        group_by: Sequence[GroupBy],
    ) -> list[SummaryRow]: ...

    async def get_policy(self, tenant_id: str, integration_id: str) -> AdmissionPolicy | None: ...

    async def put_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy: ...


def _require_call_id(field_name: str, value: str) -> str:
    if not value:
        raise InvalidArgument.single(field_name, "is required")
    if len(value) > _MAX_ID or any(ord(c) < 32 for c in value):
        raise InvalidArgument.single(
            field_name, f"must be 1-{_MAX_ID} characters without control characters"
        )
    return value


def _non_negative(values: Mapping[str, int | None]) -> list[FieldViolation]:
    return [FieldViolation(k, "must be >= 0") for k, v in values.items() if v is not None and v < 0]


def _bounded_text(values: Mapping[str, str], limit: int) -> list[FieldViolation]:
    return [
        FieldViolation(k, f"must be at most {limit} characters")
        for k, v in values.items()
        if len(v) > limit
    ]


def _model_limits_violations(limits: Sequence[ModelLimits]) -> list[FieldViolation]:
    violations = []
    if len(limits) > MAX_MODEL_LIMITS:
        violations.append(FieldViolation(
            "policy.model_limits", f"at most {MAX_MODEL_LIMITS} models, got {len(limits)}"
        ))
    seen: set[str] = set()
    for index, limit in enumerate(limits):
        prefix = f"policy.model_limits[{index}]."
        if not limit.model:
            violations.append(FieldViolation(f"{prefix}model", "is required"))
        elif limit.model in seen:
            violations.append(FieldViolation(f"{prefix}model", "names a model listed before"))
        seen.add(limit.model)
        violations += _bounded_text({f"{prefix}model": limit.model}, 256)
        violations += _non_negative({
            f"{prefix}{name}": getattr(limit, name)
            for name in ("budget_limit_cents", "token_limit", "rate_limit_rpm",
                         "tokens_per_minute", "max_parallel_calls")
        })
    return violations


def _base_url(integration: Integration) -> str:
    config = integration.config
    return str(config.get("base_url") or config.get("azure_endpoint") or "")


def _target(integration: Integration, model: str, credential: Credential | None) -> CallTarget:
    return CallTarget(
        integration_id=integration.id,
        provider_type=integration.provider_type,
        base_url=_base_url(integration),
        model=model,
        credential_ref=integration.credential_ref,
        credential=credential,
    )


def _destination(integration: Integration) -> str | None:
    """Where the caller will send the key: the configured base URL's host:port, else the
    provider's first official API host."""
    base_url = _base_url(integration)
    if base_url:
        return url_destinations(base_url)
    try:
        return provider_destinations("provider_type", integration.provider_type.name)[0]
    except InvalidArgument:
        return None


class AdmissionEngine:
    """The rules of AdmissionService."""

    def __init__(
        self,
        store: AdmissionStore,
        integrations: IntegrationReader,
        credentials: CredentialService,
        *,
        clock: Clock = system_clock,
        observer: AdmissionObserver = NULL_OBSERVER,
        last_reads: int = DEFAULT_LAST_READS,
    ) -> None:
        self._store = store
        self._integrations = integrations
        self._credentials = credentials
        self._clock = clock
        self._observer = observer
        # What fail_open admissions go on while the store is unavailable.
        self._last_reads = LastReads(last_reads)

    async def admit(
        self, estimate: CallEstimate, *, include_credential: bool = False, may_reveal: bool = False
    ) -> Admission:
        """Decides and reserves; with `include_credential` (needs `may_reveal`) also reveals the
        key, giving the reservation back if that fails. When the store is unavailable, admits a
        fail_open integration unchecked (`_admit_unchecked`); otherwise that UNAVAILABLE."""
        estimate = self._checked_estimate(estimate)
        if include_credential and not may_reveal:
            raise PermissionDenied(
                "include_credential needs scope credentials.reveal",
                metadata={"required_scope": "credentials.reveal"},
            )
        now = self._clock()

        def plan(reading: Reading) -> Plan:
            integration, policy, window = reading.integration, reading.policy, reading.window
            if reading.earlier is not None:
                return Plan(_replay(reading.earlier, estimate, now), reading.earlier)
            decision = decide(
                integration, policy, reading.counters, estimate, window, reading.model
            )
            events = crossings(
                estimate.tenant_id, integration.id, policy, decision.limits, now
            )
            if not decision.admitted:
                return Plan(decision, None, events)
            return Plan(decision, Reservation(
                id=str(uuid.uuid4()),
                tenant_id=estimate.tenant_id,
                integration_id=estimate.integration_id,
                call_id=estimate.call_id,
                model=estimate.model or integration.default_model,
                estimated_input_tokens=estimate.input_tokens,
                estimated_output_tokens=estimate.max_output_tokens,
                estimated_cost_cents=estimate.cost_cents,
                verdict=decision.verdict,
                state=ReservationState.OPEN,
                create_time=now,
                expire_time=now + policy.reservation_ttl,
            ), events)

        try:
            outcome = await self._store.admit(estimate, now, plan)
        except Unavailable:
            last = self._last_reads.get(estimate.tenant_id, estimate.integration_id)
            if not may_fail_open(last):
                raise
            assert last is not None
            return await self._admit_unchecked(estimate, last, include_credential)
        if outcome is None:
            self._last_reads.drop(estimate.tenant_id, estimate.integration_id)
            raise NotFound("integration", estimate.integration_id)
        self._last_reads.put(outcome.reading.integration, outcome.reading.policy, now)
        if outcome.replayed:
            # The limits as they stand now, this call's reservation included.
            r = outcome.reading
            outcome = replace(outcome, decision=replace(outcome.decision, limits=snapshots(
                r.integration, r.policy, r.counters, r.window, r.model)))
        if outcome.reservation is None:
            return Admission(outcome.decision, None, None, False)
        integration, reservation = outcome.reading.integration, outcome.reservation
        credential = None
        if include_credential:
            try:
                credential = await self._reveal(integration)
            except BaseException:
                if not outcome.replayed:
                    await self._store.release(reservation)
                raise
        return Admission(
            outcome.decision, reservation, _target(integration, reservation.model, credential),
            outcome.replayed,
        )

    async def _admit_unchecked(
        self, estimate: CallEstimate, last: LastRead, include_credential: bool
    ) -> Admission:
        """ALLOW without the store: no limit checked, nothing reserved or counted; the target
        from the last read. A key is revealed as usual; when that fails too (the credential
        service may share the outage), its error is the answer."""
        integration = last.integration
        credential = await self._reveal(integration) if include_credential else None
        self._observer.admitted_unchecked(integration.provider_type.value)
        return Admission(
            unchecked_decision(last), None,
            _target(integration, estimate.model or integration.default_model, credential),
            replayed=False, unchecked=True,
        )

    async def _reveal(self, integration: Integration) -> Credential:
        # The caller sends the key to the provider: a use towards the provider's host, checked
        # against the credential's allowed destinations and audited as such.
        destination = _destination(integration)
        if destination is None:
            raise FailedPrecondition(
                DESTINATION_DENIED,
                "the integration names no host its key could be sent to; set base_url",
            )
        return await self._credentials.use(
            integration.credential_ref, integration.tenant_id, destination
        )

    async def settle(self, settlement: Settlement) -> SettleOutcome:
        """Records the call's usage and releases its reservation; a repeat with the same
        numbers answers the same, with other numbers FAILED_PRECONDITION."""
        tenant_id = require_uuid("tenant_id", settlement.tenant_id)
        if not settlement.call_id and not settlement.reservation_id:
            raise InvalidArgument.single("call_id", "call_id or reservation_id is required")
        if settlement.reservation_id:
            require_uuid("reservation_id", settlement.reservation_id)
        violations = _non_negative({
            "input_tokens": settlement.input_tokens,
            "output_tokens": settlement.output_tokens,
            "cost_cents": settlement.cost_cents,
            "latency": settlement.latency_ms,
        }) + self._text_violations(settlement.model, settlement.session_id,
                                   settlement.agent_id, settlement.error_code)
        if settlement.outcome is CallOutcome.EXPIRED:
            violations.append(FieldViolation("outcome", "EXPIRED is set by the service only"))
        if violations:
            raise InvalidArgument(violations)
        now = self._clock()

        usage = SettledUsage(str(uuid.uuid4()), replace(settlement, tenant_id=tenant_id), now)
        outcome = await self._store.settle(
            tenant_id, settlement.call_id, settlement.reservation_id, usage, now
        )
        if outcome is None:
            raise NotFound(
                "reservation", settlement.call_id or settlement.reservation_id,
                detail="not found (a call admitted unchecked, fail_open, has none: report its "
                "usage with RecordUsageBatch)",
            )
        if not outcome.recorded and not outcome.record.same_numbers(
            usage.record_for(outcome.reservation)
        ):
            raise FailedPrecondition(
                "SETTLEMENT_MISMATCH",
                f"call {outcome.reservation.call_id!r} was settled before with other numbers",
                metadata={"call_id": outcome.reservation.call_id},
            )
        return outcome

    async def record_batch(
        self, tenant_id: str, events: Sequence[UsageReport | ServiceErrorLike]
    ) -> list[tuple[BatchStatus | ServiceErrorLike, UsageRecord | None]]:
        """Each event stored, a duplicate (same numbers), a conflict (other numbers under the
        same call_id) or refused on its own: bad input comes back as the InvalidArgument or
        NotFound naming the problem, and the rest of the batch still lands. An event the caller
        could not even decode arrives as its error and is reported in its place."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        if not events:
            raise InvalidArgument.single("events", "at least one event is required")
        if len(events) > MAX_BATCH_EVENTS:
            raise InvalidArgument.single(
                "events", f"at most {MAX_BATCH_EVENTS} events per batch, got {len(events)}"
            )
        now = self._clock()
        checked: list[UsageRecord | ServiceErrorLike] = [
            event if not isinstance(event, UsageReport)
            else self._checked_event(index, tenant_id, event, now)
            for index, event in enumerate(events)
        ]
        wanted = {r.integration_id for r in checked if isinstance(r, UsageRecord)}
        owned = await self._store.owned_integrations(tenant_id, sorted(wanted))
        for index, item in enumerate(checked):
            if isinstance(item, UsageRecord) and item.integration_id not in owned:
                checked[index] = NotFound("integration", item.integration_id)
        valid = [r for r in checked if isinstance(r, UsageRecord)]
        stored = iter(await self._store.record_batch(valid) if valid else [])
        results: list[tuple[BatchStatus | ServiceErrorLike, UsageRecord | None]] = []
        for item in checked:
            if not isinstance(item, UsageRecord):
                results.append((item, None))
                continue
            status, record = next(stored)
            if status is not BatchStatus.RECORDED and not record.same_numbers(item):
                status = BatchStatus.CONFLICT
            results.append((status, record))
        return results

    async def summary(
        self,
        tenant_id: str,
        integration_id: str,
        start: datetime | None,
        end: datetime | None,
        group_by: Sequence[GroupBy],
    ) -> tuple[list[SummaryRow], datetime, datetime]:
        """Sums over [start, end) (defaults: this UTC month until now), after turning expired
        reservations into usage, so the sums equal what admission counts."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        now = self._clock()
        if integration_id:
            await find_integration(self._integrations, tenant_id, integration_id)
        start = start or month_bounds(now)[0]
        end = end or now
        violations = []
        if end <= start:
            violations.append(FieldViolation("end_time", "must be after start_time"))
        elif end - start > _MAX_SUMMARY_RANGE:
            violations.append(FieldViolation("end_time", "the range spans at most 366 days"))
        if len(set(group_by)) != len(group_by):
            violations.append(FieldViolation("group_by", "names a dimension more than once"))
        if violations:
            raise InvalidArgument(violations)
        await self._store.expire_due(tenant_id, now)
        rows = await self._store.summary(
            tenant_id, require_uuid("integration_id", integration_id) if integration_id else None,
            start, end, group_by,
        )
        return rows, start, end

    async def get_policy(self, tenant_id: str, integration_id: str) -> AdmissionPolicy:
        integration = await find_integration(self._integrations, tenant_id, integration_id)
        stored = await self._store.get_policy(integration.tenant_id, integration.id)
        return stored or AdmissionPolicy(integration_id=integration.id)

    async def update_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy:
        violations = _non_negative({
            "policy.tokens_per_minute": policy.tokens_per_minute,
            "policy.max_parallel_calls": policy.max_parallel_calls,
        })
        if not timedelta(seconds=1) <= policy.reservation_ttl <= _MAX_TTL:
            violations.append(
                FieldViolation("policy.reservation_ttl", "must be between 1 second and 24 hours")
            )
        if not 1 <= policy.warn_percent <= 100:
            violations.append(FieldViolation("policy.warn_percent", "must be 1-100 (0: 80)"))
        violations += period_violations(policy.period, "policy.")
        violations += _model_limits_violations(policy.model_limits)
        if violations:
            raise InvalidArgument(violations)
        integration = await find_integration(
            self._integrations, tenant_id, policy.integration_id
        )
        stored = await self._store.put_policy(
            integration.tenant_id,
            replace(policy, integration_id=integration.id, update_time=self._clock()),
        )
        self._last_reads.put(integration, stored, stored.update_time or self._clock())
        return stored

    def _checked_estimate(self, estimate: CallEstimate) -> CallEstimate:
        tenant_id = require_uuid("tenant_id", estimate.tenant_id)
        integration_id = require_uuid("integration_id", estimate.integration_id)
        _require_call_id("call_id", estimate.call_id)
        violations = _non_negative({
            "estimated_input_tokens": estimate.input_tokens,
            "estimated_max_output_tokens": estimate.max_output_tokens,
            "estimated_cost_cents": estimate.cost_cents,
        }) + _bounded_text({"model": estimate.model}, 256)
        if violations:
            raise InvalidArgument(violations)
        return replace(estimate, tenant_id=tenant_id, integration_id=integration_id)

    @staticmethod
    def _text_violations(
        model: str, session_id: str, agent_id: str, error_code: str, prefix: str = ""
    ) -> list[FieldViolation]:
        return (
            _bounded_text({f"{prefix}model": model}, 256)
            + _bounded_text({f"{prefix}session_id": session_id, f"{prefix}agent_id": agent_id},
                            _MAX_ID)
            + _bounded_text({f"{prefix}error_code": error_code}, _MAX_ERROR_CODE)
        )

    def _checked_event(
        self, index: int, tenant_id: str, event: UsageReport, now: datetime
    ) -> UsageRecord | ServiceErrorLike:
        prefix = f"events[{index}]."
        try:
            integration_id = require_uuid(f"{prefix}integration_id", event.integration_id)
            _require_call_id(f"{prefix}call_id", event.call_id or "")
        except InvalidArgument as exc:
            return exc
        violations = _non_negative({
            f"{prefix}input_tokens": event.input_tokens,
            f"{prefix}output_tokens": event.output_tokens,
            f"{prefix}cost_cents": event.cost_cents,
            f"{prefix}latency": event.latency_ms,
        }) + self._text_violations(
            event.model, event.session_id, event.agent_id, event.error_code, prefix
        )
        if event.outcome is CallOutcome.EXPIRED:
            violations.append(FieldViolation(f"{prefix}outcome", "EXPIRED is set by the service only"))
        if event.occurred_at is not None and event.occurred_at > now + _MAX_FUTURE_USAGE:
            violations.append(
                FieldViolation(f"{prefix}occurred_at", "must not be more than 5 minutes in the future")
            )
        if violations:
            return InvalidArgument(violations)
        return UsageRecord(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            integration_id=integration_id,
            call_id=event.call_id,
            model=event.model,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_cents=event.cost_cents,
            outcome=event.outcome,
            occurred_at=event.occurred_at or now,
            create_time=now,
            latency_ms=event.latency_ms,
            error_code=event.error_code,
            session_id=event.session_id,
            agent_id=event.agent_id,
            policy_result=event.policy_result,
            metadata=dict(event.metadata),
        )

