"""Limit events: a soft threshold of a period limit (budget, monthly tokens) reached in a period.

Each threshold of each period is one event, whatever the number of admissions or replicas that
see it reached: the store keeps a unique key (tenant, integration, limit, model, threshold,
period start) and inserts with ON CONFLICT DO NOTHING. A threshold counts as reached when used
plus reserved is at or above it. AdmitCall checks the limits with its reservation added; SettleCall,
RecordUsage and RecordUsageBatch check them (`reached`) from the counters as they stand after
the usage they wrote, in the same transaction. Sliding-window limits (per minute, parallel
calls) have no period to count once in and raise no events.

An event's cursor is its `sequence`: per tenant it grows in commit order, so a watcher that
resumes after the last cursor it saw misses nothing and sees nothing twice.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engines.admission.limits import (
    AdmissionPolicy,
    AdmissionWindow,
    Counters,
    LimitKind,
    LimitSnapshot,
    ModelCounters,
    snapshots,
)
from engines.integrations.integration import Integration
from engines.kernel.errors import InvalidArgument
from engines.kernel.pagination import Page, PageRequest, PageTokens, read_page
from engines.kernel.validation import require_uuid

__all__ = [
    "PERIOD_LIMITS",
    "EventSignal",
    "LimitEvent",
    "LimitEventFilter",
    "LimitEventStore",
    "LimitEventsEngine",
    "crossings",
    "has_period_limits",
    "parse_cursor",
    "reached",
    "thresholds",
]

PERIOD_LIMITS = frozenset({LimitKind.BUDGET, LimitKind.TOKENS})
_MAX_CURSOR_DIGITS = 19
_WATCH_BATCH = 100


@dataclass(frozen=True, slots=True)
class LimitEvent:
    """A threshold of a limit reached in a period; `used`/`reserved` as counted at the time."""

    id: str
    tenant_id: str
    integration_id: str
    kind: LimitKind
    threshold_percent: int
    period_start: datetime
    period_end: datetime
    used: int
    reserved: int
    limit: int
    create_time: datetime
    model: str = ""
    sequence: int = 0  # assigned by the store when the event is stored

    @property
    def cursor(self) -> str:
        return str(self.sequence)


@dataclass(frozen=True, slots=True)
class LimitEventFilter:
    """Which of a tenant's events a list or watch wants; empty integration: all of them."""

    tenant_id: str
    integration_id: str = ""


class EventSignal(Protocol):
    """Wakes watchers when a tenant's events may have been committed (here or elsewhere)."""

    def subscribe(self, tenant_id: str) -> AsyncGenerator[None, None]:
        """Yields once now and then whenever new events of the tenant may exist (at the latest
        after the poll interval); subscribe before reading so no commit is missed."""
        ...


def thresholds(policy: AdmissionPolicy) -> tuple[int, ...]:
    """The soft thresholds of a policy, in percent: its warn_percent and 100."""
    return tuple(sorted({policy.warn_percent, 100}))


def crossings(
    tenant_id: str,
    integration_id: str,
    policy: AdmissionPolicy,
    limits: Sequence[LimitSnapshot],
    now: datetime,
) -> list[LimitEvent]:
    """An event for every threshold of every period limit that used + reserved has reached;
    the store keeps only those not stored before."""
    events = []
    for snapshot in limits:
        if snapshot.kind not in PERIOD_LIMITS or snapshot.limit <= 0:
            continue
        counted = snapshot.used + snapshot.reserved
        for percent in thresholds(policy):
            if 100 * counted >= percent * snapshot.limit:
                events.append(LimitEvent(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant_id,
                    integration_id=integration_id,
                    kind=snapshot.kind,
                    model=snapshot.model,
                    threshold_percent=percent,
                    period_start=snapshot.period_start,
                    period_end=snapshot.period_end,
                    used=snapshot.used,
                    reserved=snapshot.reserved,
                    limit=snapshot.limit,
                    create_time=now,
                ))
    return events


def has_period_limits(integration: Integration, policy: AdmissionPolicy) -> bool:
    """Whether any limit events can be raised for `integration`: a budget or token limit of its
    own or of one of the models in `policy.model_limits`."""
    if integration.budget_limit_cents > 0 or integration.token_limit_month > 0:
        return True
    return any(m.budget_limit_cents > 0 or m.token_limit > 0 for m in policy.model_limits)


def reached(
    integration: Integration,
    policy: AdmissionPolicy,
    counters: Counters,
    window: AdmissionWindow,
    models: Sequence[ModelCounters],
    now: datetime,
) -> list[LimitEvent]:
    """The events of every threshold the counters have reached as they stand (after usage was
    recorded): the integration's own limits, and each of `models`' own."""
    limits = list(snapshots(integration, policy, counters, window))
    for model in models:
        limits += (s for s in snapshots(integration, policy, counters, window, model) if s.model)
    return crossings(integration.tenant_id, integration.id, policy, limits, now)


def parse_cursor(cursor: str, field: str = "resume_cursor") -> int:
    """The sequence a cursor stands for; empty means before the first event."""
    if not cursor:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > _MAX_CURSOR_DIGITS:
        raise InvalidArgument.single(field, "is not a cursor this service issued")
    return int(cursor)


class LimitEventStore(Protocol):
    """Stored limit events of a tenant."""

    async def page(
        self, which: LimitEventFilter, page: PageRequest
    ) -> tuple[list[LimitEvent], int]:
        """A page newest first (create_time, id descending) and the matching total."""
        ...

    async def after(
        self, which: LimitEventFilter, sequence: int, limit: int
    ) -> list[LimitEvent]:
        """Up to `limit` events with a sequence above `sequence`, in sequence order."""
        ...


class LimitEventsEngine:
    """ListLimitEvents and WatchLimitEvents."""

    def __init__(
        self,
        store: LimitEventStore,
        signal: EventSignal,
        *,
        page_tokens: PageTokens | None = None,
    ) -> None:
        self._store = store
        self._signal = signal
        self._page_tokens = page_tokens

    @staticmethod
    def _filter(tenant_id: str, integration_id: str) -> LimitEventFilter:
        return LimitEventFilter(
            require_uuid("tenant_id", tenant_id),
            require_uuid("integration_id", integration_id) if integration_id else "",
        )

    async def list(
        self, tenant_id: str, integration_id: str, page_size: int, page_token: str
    ) -> Page[LimitEvent]:
        """The tenant's events newest first, optionally of one integration."""
        which = self._filter(tenant_id, integration_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": which.tenant_id, "integration": which.integration_id},
            lambda page: self._store.page(which, page),
            tokens=self._page_tokens,
        )

    async def watch(
        self, tenant_id: str, integration_id: str, resume_cursor: str
    ) -> AsyncGenerator[LimitEvent, None]:
        """Every stored event after `resume_cursor` in cursor order, then each new one as it
        is committed, until the caller stops iterating. Arguments are checked here, before
        anything is streamed."""
        which = self._filter(tenant_id, integration_id)
        return self._follow(which, parse_cursor(resume_cursor))

    async def _follow(
        self, which: LimitEventFilter, after: int
    ) -> AsyncGenerator[LimitEvent, None]:
        async with contextlib.aclosing(self._signal.subscribe(which.tenant_id)) as wakeups:
            async for _ in wakeups:
                while True:
                    batch = await self._store.after(which, after, _WATCH_BATCH)
                    for event in batch:
                        yield event
                        after = event.sequence
                    if len(batch) < _WATCH_BATCH:
                        break
