"""Customer health checks of LLM provider integrations: the per-integration rate limit (a claim
held in the database, so it holds across replicas), single and batch checks, probe history and
the tenant summary. What a probe observed becomes a state by the rules in `engines/health/probes.py`.

Keys are revealed through the `CredentialService` port only for the probe and are never put in a
result, a message, a log or the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from engines.credentials.credential_service import DESTINATION_DENIED, CredentialService
from engines.egress.policy import EgressDenied
from engines.health.circuit import (
    CircuitEvent,
    CircuitSettings,
    CircuitState,
    Jitter,
    after_probe,
)
from engines.health.probes import ProbeFailure, ProviderProbe, classify
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationReader,
    ProviderType,
    find_integration,
)
from engines.kernel.clock import Clock, system_clock
from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound, ServiceError
from engines.kernel.jitter import random_fraction
from engines.kernel.observability import NULL_OBSERVER, ProbeObserver
from engines.kernel.pagination import Page, PageRequest, PageTokens, paginate, parse_page
from engines.kernel.validation import require_uuid

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_STALE_THRESHOLD",
    "MAX_STALE_THRESHOLD",
    "MAX_CONCURRENCY",
    "HealthCheckRecord",
    "HealthCheckResult",
    "HealthEngine",
    "HealthHistoryFilters",
    "HealthSettings",
    "HealthStore",
    "HealthSummary",
    "overall_health",
]

RESOURCE = "integration"
DEFAULT_STALE_THRESHOLD = timedelta(minutes=5)
MAX_STALE_THRESHOLD = timedelta(days=36525)
DEFAULT_MAX_CONCURRENCY = 8
MAX_CONCURRENCY = 32
_DESTINATION_DENIED_CODE = "credential_destination_denied"


def _checked_since(result: HealthCheckResult, since: datetime) -> bool:
    """Whether the result is of a check made at or after `since` (fresh within a window)."""
    return result.checked_at is not None and result.checked_at >= since


def _refused_destination(result: HealthCheckResult) -> HealthCheckResult:
    """An explicit check whose key the credential service would not send is refused (the
    result is recorded first, so the owner sees it in the history too)."""
    if result.error_code == _DESTINATION_DENIED_CODE:
        raise FailedPrecondition(DESTINATION_DENIED, result.message)
    return result


# Providers this build cannot probe yet: UNKNOWN without revealing the key.
_UNPROBED = {
    ProviderType.BEDROCK: "Bedrock probes (SigV4-signed ListFoundationModels) are not supported yet",
}


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """Tunables of health checking (flags of `serve`)."""

    min_interval: timedelta = timedelta(seconds=60)
    slow_after_ms: int = 2000
    history_retention: timedelta = timedelta(days=30)
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 10.0
    background_interval: timedelta | None = None
    poll_seconds: float = 0.05
    circuit: CircuitSettings = CircuitSettings()

    @property
    def probe_lease(self) -> timedelta:
        """How long a claim protects a running probe; longer than any probe can take."""
        return timedelta(seconds=2 * (self.connect_timeout_seconds + self.read_timeout_seconds) + 5)


@dataclass(frozen=True, slots=True)
class HealthCheckResult:
    """The outcome of one check; `cached` when a stored result was returned instead of a probe."""

    integration_id: str
    integration_name: str
    health_state: HealthState
    message: str
    latency_ms: int
    checked_at: datetime | None
    error_code: str
    cached: bool = False
    circuit: CircuitState = CircuitState()
    circuit_event: CircuitEvent = CircuitEvent.NONE


@dataclass(frozen=True, slots=True)
class HealthCheckRecord:
    """One entry of the stored probe history."""

    id: str
    integration_id: str
    health_state: HealthState
    error_code: str
    latency_ms: int
    checked_at: datetime
    message: str = ""
    circuit_event: CircuitEvent = CircuitEvent.NONE
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class HealthHistoryFilters:
    """ListHealthChecks filters; None means any. The time range is [start, end)."""

    integration_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    health_state: HealthState | None = None


@dataclass(frozen=True, slots=True)
class HealthSummary:
    """A tenant's enabled, live integrations counted by stored health."""

    counts: Mapping[HealthState, int]
    total: int
    stale_count: int
    overall_health: HealthState
    checked_at: datetime


class HealthStore(Protocol):
    """Health columns of integrations, the probe claim, and the health history."""

    async def claim(
        self,
        tenant_id: str,
        integration_id: str,
        *,
        now: datetime,
        checked_before: datetime | None,
        lease_expired_before: datetime,
    ) -> bool:
        """Atomically marks a probe as running, if no probe runs (or its lease expired) and,
        unless `checked_before` is None, the last check is older than it. True: you probe."""

    async def release(self, tenant_id: str, integration_id: str) -> None:
        """Drops a claim whose probe was abandoned."""

    async def circuit(self, tenant_id: str, integration_id: str) -> CircuitState:
        """The stored circuit of an integration (read under the claim, so it is current)."""

    async def latest(self, tenant_id: str, integration_id: str) -> HealthCheckResult | None:
        """The stored result of the last check of a live integration (None if unknown id)."""

    async def record(self, tenant_id: str, result: HealthCheckResult) -> None:
        """Stores `result` as the latest (its circuit too), appends it to the history and
        releases the claim. An OPENED event moves the integration to ERROR, a CLOSED one from
        ERROR to DISABLED; either changes its version (and so its etag)."""

    async def prune_history(
        self, tenant_id: str, before: datetime, integration_id: str | None = None
    ) -> None:
        """Drops history older than `before`: of one integration, or of the whole tenant."""

    async def stale(
        self, tenant_id: str, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[Integration]:
        """Enabled, live integrations never checked or last checked before `checked_before`.
        With `due_at` (background rounds): also those with an open circuit, and only those
        whose backoff lets them be probed at `due_at`."""

    async def tenants_with_stale(
        self, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[str]:
        """Tenants that have stale integrations (for the background checker)."""

    async def counts(
        self, tenant_id: str, checked_before: datetime
    ) -> tuple[Mapping[HealthState, int], int]:
        """Enabled, live integrations per health state, and how many of them are stale."""

    async def list_checks(
        self, tenant_id: str, filters: HealthHistoryFilters, page: PageRequest
    ) -> tuple[Sequence[HealthCheckRecord], int]:
        """Up to `page.size + 1` history entries after the page's key, newest first
        (checked_at, then id, descending), and how many match in all."""


def overall_health(counts: Mapping[HealthState, int]) -> HealthState:
    """Any unhealthy wins, then any degraded; all unknown (or none) is UNKNOWN; else HEALTHY."""
    if counts.get(HealthState.UNHEALTHY, 0):
        return HealthState.UNHEALTHY
    if counts.get(HealthState.DEGRADED, 0):
        return HealthState.DEGRADED
    if counts.get(HealthState.HEALTHY, 0):
        return HealthState.HEALTHY
    return HealthState.UNKNOWN


def _stale_threshold(value: timedelta | None) -> timedelta:
    if value is None:
        return DEFAULT_STALE_THRESHOLD
    if value < timedelta(0):
        raise InvalidArgument.single("stale_threshold", "must not be negative")
    if value > MAX_STALE_THRESHOLD:  # beyond it, "now - threshold" leaves the calendar
        raise InvalidArgument.single("stale_threshold", "must be at most 100 years")
    return value


def _concurrency(value: int) -> int:
    if value < 0:
        raise InvalidArgument.single("max_concurrency", "must not be negative")
    return DEFAULT_MAX_CONCURRENCY if value == 0 else min(value, MAX_CONCURRENCY)


class HealthEngine:
    """The rules of IntegrationHealthService; also the `HealthTester` of IntegrationsEngine."""

    def __init__(
        self,
        integrations: IntegrationReader,
        store: HealthStore,
        credentials: CredentialService,
        probe: ProviderProbe,
        *,
        settings: HealthSettings = HealthSettings(),
        clock: Clock = system_clock,
        observer: ProbeObserver = NULL_OBSERVER,
        page_tokens: PageTokens | None = None,
        jitter: Jitter = random_fraction,
    ) -> None:
        self._jitter = jitter  # of the backoff (engines/health/circuit.backoff_delay)
        self._page_tokens = page_tokens  # None: a key of this process only
        self._integrations = integrations
        self._store = store
        self._credentials = credentials
        self._probe = probe
        self._settings = settings
        self._clock = clock
        self._observer = observer

    async def check(self, tenant_id: str, integration_id: str, *, force: bool) -> HealthCheckResult:
        """CheckHealth: probes unless (without `force`) a check is younger than the window."""
        integration = await find_integration(self._integrations, tenant_id, integration_id)
        if not force:
            # A fresh result answers without a claim (a write that could only fail: a claim
            # takes only a stale row), so a cached answer costs one read.
            fresh = await self._fresh_result(integration, self._settings.min_interval)
            if fresh is not None:
                return _refused_destination(fresh)
        return _refused_destination(await self._check_and_prune(integration, force=force))

    async def test(self, integration: Integration) -> HealthCheckResult:
        """TestCredentials: a forced probe of an integration the caller already read."""
        return _refused_destination(await self._check_and_prune(integration, force=True))

    async def check_all(
        self,
        tenant_id: str,
        stale_threshold: timedelta | None,
        max_concurrency: int,
        *,
        background: bool = False,
    ) -> AsyncGenerator[HealthCheckResult, None]:
        """Checks each stale enabled integration, at most `max_concurrency` at once, yielding
        results as they finish. Closing the iterator (a cancelled call) cancels the rest.

        A `background` round also probes open circuits, each only once its backoff is over."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        threshold = _stale_threshold(stale_threshold)
        concurrency = _concurrency(max_concurrency)
        now = self._clock()
        targets = await self._store.stale(
            tenant_id, now - threshold, now if background else None
        )
        # A replica that probed one of them meanwhile makes it fresh: no second probe.
        window = max(threshold, self._settings.min_interval)
        async with contextlib.aclosing(self._bounded(targets, concurrency, window)) as results:
            async for result in results:
                yield result
        # History retention once per batch rather than once per probe.
        await self._store.prune_history(tenant_id, self._retain_after())

    async def check_everywhere(self, interval: timedelta, max_concurrency: int) -> int:
        """One background round: checks every tenant's stale integrations; returns the count."""
        checked = 0
        now = self._clock()
        for tenant_id in await self._store.tenants_with_stale(now - interval, now):
            async for _ in self.check_all(tenant_id, interval, max_concurrency, background=True):
                checked += 1
        return checked

    async def summary(self, tenant_id: str, stale_threshold: timedelta | None) -> HealthSummary:
        """GetHealthSummary from stored results; probes nothing."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        now = self._clock()
        counts, stale = await self._store.counts(tenant_id, now - _stale_threshold(stale_threshold))
        full = {state: counts.get(state, 0) for state in HealthState}
        return HealthSummary(
            counts=full,
            total=sum(full.values()),
            stale_count=stale,
            overall_health=overall_health(full),
            checked_at=now,
        )

    async def list_checks(
        self, tenant_id: str, filters: HealthHistoryFilters, page_size: int, page_token: str
    ) -> Page[HealthCheckRecord]:
        """ListHealthChecks: the stored history, newest first. Naming another tenant's
        integration is NOT_FOUND, as a missing one is."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        if filters.integration_id is not None:
            integration = await find_integration(
                self._integrations, tenant_id, filters.integration_id
            )
            filters = replace(filters, integration_id=integration.id)
        start, end = filters.start_time, filters.end_time
        if start is not None and end is not None and start > end:
            raise InvalidArgument.single("start_time", "must not be after end_time")
        page = parse_page(
            page_size,
            page_token,
            {
                "tenant": tenant_id,
                "integration": filters.integration_id,
                "start": start,
                "end": end,
                "state": filters.health_state,
            },
            tokens=self._page_tokens,
        )
        rows, total = await self._store.list_checks(tenant_id, filters, page)
        return paginate(page, rows, total, key=lambda r: (r.checked_at, r.id))

    async def _bounded(
        self, targets: Sequence[Integration], concurrency: int, window: timedelta
    ) -> AsyncGenerator[HealthCheckResult, None]:
        gate = asyncio.Semaphore(concurrency)

        async def one(integration: Integration) -> HealthCheckResult | None:
            try:
                return await self._check(integration, force=False, window=window, gate=gate)
            except NotFound:  # deleted since the batch listed it: nothing to report
                return None
            except EgressDenied as exc:  # one refused target must not end the whole batch
                return HealthCheckResult(
                    integration_id=integration.id,
                    integration_name=integration.name,
                    health_state=HealthState.UNHEALTHY,
                    message=exc.message,
                    latency_ms=0,
                    checked_at=self._clock(),
                    error_code="egress_denied",
                )

        tasks = [asyncio.create_task(one(i)) for i in targets]
        try:
            for finished in asyncio.as_completed(tasks):
                result = await finished
                if result is not None:
                    yield result
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _retain_after(self) -> datetime:
        return self._clock() - self._settings.history_retention

    async def _fresh_result(
        self, integration: Integration, window: timedelta
    ) -> HealthCheckResult | None:
        """The stored result, marked cached, when it is younger than `window`."""
        latest = await self._store.latest(integration.tenant_id, integration.id)
        if latest is None or not _checked_since(latest, self._clock() - window):
            return None
        return replace(latest, cached=True)

    async def _check_and_prune(self, integration: Integration, *, force: bool) -> HealthCheckResult:
        result = await self._check(integration, force=force, window=self._settings.min_interval)
        if not result.cached:
            await self._store.prune_history(
                integration.tenant_id, self._retain_after(), integration.id
            )
        return result

    async def _check(
        self,
        integration: Integration,
        *,
        force: bool,
        window: timedelta,
        gate: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> HealthCheckResult:
        """Probes once the database claim is ours; otherwise waits for the replica (or call)
        that holds it and returns its result as cached.

        `gate` bounds a batch's concurrency: it is held for the claim and the provider request,
        not while waiting for another's probe or while storing the result."""
        tenant_id, integration_id = integration.tenant_id, integration.id
        give_up = time.monotonic() + self._settings.probe_lease.total_seconds()
        while True:
            async with gate or contextlib.nullcontext():
                now = self._clock()
                claimed = await self._store.claim(
                    tenant_id,
                    integration_id,
                    now=now,
                    checked_before=None if force else now - window,
                    lease_expired_before=now - self._settings.probe_lease,
                )
                if claimed:
                    result = await self._probe_claimed(integration)
            if claimed:
                result = await self._with_circuit(integration, result, force=force)
                await self._store.record(tenant_id, result)
                return result
            latest = await self._store.latest(tenant_id, integration_id)
            if latest is None:
                raise NotFound(RESOURCE, integration_id)
            if not force and _checked_since(latest, now - window):
                return replace(latest, cached=True)
            if time.monotonic() > give_up:  # a claim that never ends: the lease ran out
                return replace(latest, cached=True)
            await asyncio.sleep(self._settings.poll_seconds)

    async def _with_circuit(
        self, integration: Integration, result: HealthCheckResult, *, force: bool
    ) -> HealthCheckResult:
        """The result with the circuit after it; the claim is still ours, so the stored
        circuit cannot change under us."""
        try:
            current = await self._store.circuit(integration.tenant_id, integration.id)
        except BaseException:
            await asyncio.shield(self._release_quietly(integration))
            raise
        circuit, event = after_probe(
            current,
            result.health_state is HealthState.UNHEALTHY,
            result.message,
            forced=force,
            now=self._clock(),
            settings=self._settings.circuit,
            jitter=self._jitter,
        )
        return replace(result, circuit=circuit, circuit_event=event)

    async def _probe_claimed(self, integration: Integration) -> HealthCheckResult:
        """Probes an integration whose claim is ours; the caller records the result."""
        try:
            state, error_code, message, latency = await self._probe_now(integration)
        except BaseException:
            # Cancelled mid-probe: let the next caller probe instead of waiting for the lease.
            await asyncio.shield(self._release_quietly(integration))
            raise
        self._observer.probe_finished(integration.provider_type.value, state.value, latency)
        return HealthCheckResult(
            integration_id=integration.id,
            integration_name=integration.name,
            health_state=state,
            message=message,
            latency_ms=latency,
            checked_at=self._clock(),
            error_code=error_code,
        )

    async def _probe_now(self, integration: Integration) -> tuple[HealthState, str, str, int]:
        unprobed = _UNPROBED.get(integration.provider_type)
        if unprobed is not None:
            return HealthState.UNKNOWN, ProbeFailure.UNSUPPORTED.value, unprobed, 0
        destination = self._probe.destination(integration)
        if destination is None:  # unprobeable: the probe says why without needing the key
            observation = await self._probe.probe(integration, "")
            state, error_code, message = classify(observation, self._settings.slow_after_ms)
            return state, error_code, message, observation.latency_ms
        try:
            credential = await self._credentials.use(
                integration.credential_ref, integration.tenant_id, destination
            )
        except ServiceError as exc:
            if exc.reason == DESTINATION_DENIED:
                return HealthState.UNHEALTHY, _DESTINATION_DENIED_CODE, exc.message, 0
            # The error's message may quote the ref; say only what kind of failure it was.
            return (
                HealthState.UNHEALTHY,
                "credential_unavailable",
                f"the credential could not be resolved ({exc.reason or type(exc).__name__})",
                0,
            )
        observation = await self._probe.probe(integration, credential.value)
        state, error_code, message = classify(observation, self._settings.slow_after_ms)
        return state, error_code, message, observation.latency_ms

    async def _release_quietly(self, integration: Integration) -> None:
        try:
            await self._store.release(integration.tenant_id, integration.id)
        except ServiceError:
            pass  # the lease expires on its own
