"""HealthEngine with hand-written fakes: probe rules, the rate limit, batch checks, summary."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.credentials.credential_service import DESTINATION_DENIED, Credential
from engines.egress.policy import EgressDenied
from engines.health.checks import HealthCheckResult, HealthEngine, HealthSettings, overall_health
from engines.health.circuit import CircuitEvent, CircuitState, is_due
from engines.health.probes import ProbeFailure, ProbeObservation, classify
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationsEngine,
    IntegrationStatus,
    ProviderType,
)
from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound, Unimplemented
from tests.secrets_registry import register_secret

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEY = register_secret("sk-unit-secret")
H, D, U, K = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Row:
    integration: Integration
    latest: HealthCheckResult
    claimed_at: datetime | None = None


@dataclass
class FakeHealthStore:
    """In-memory store with the same claim semantics as the SQL one (single event loop =
    atomic)."""

    rows: dict[str, Row] = field(default_factory=dict)
    history: list[HealthCheckResult] = field(default_factory=list)
    prunes: list[tuple[str, datetime, str | None]] = field(default_factory=list)
    claims: int = 0  # claim attempts (each a write transaction in the SQL store)

    def add(self, integration: Integration) -> None:
        self.rows[integration.id] = Row(
            integration,
            HealthCheckResult(integration.id, integration.name, K, "not checked yet", 0, None, ""),
        )

    def _row(self, tenant_id: str, integration_id: str) -> Row | None:
        row = self.rows.get(integration_id)
        return row if row and row.integration.tenant_id == tenant_id else None

    async def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        row = self._row(tenant_id, integration_id)
        return row.integration if row else None

    async def claim(
        self, tenant_id: str, integration_id: str, *, now: datetime,
        checked_before: datetime | None, lease_expired_before: datetime,
    ) -> bool:
        self.claims += 1
        row = self._row(tenant_id, integration_id)
        if row is None or (row.claimed_at and row.claimed_at >= lease_expired_before):
            return False
        checked = row.latest.checked_at
        if checked_before is not None and checked is not None and checked >= checked_before:
            return False
        row.claimed_at = now
        return True

    async def release(self, tenant_id: str, integration_id: str) -> None:
        row = self._row(tenant_id, integration_id)
        if row:
            row.claimed_at = None

    async def latest(self, tenant_id: str, integration_id: str) -> HealthCheckResult | None:
        row = self._row(tenant_id, integration_id)
        return row.latest if row else None

    async def circuit(self, tenant_id: str, integration_id: str) -> CircuitState:
        row = self._row(tenant_id, integration_id)
        return row.latest.circuit if row else CircuitState()

    async def record(self, tenant_id: str, result: HealthCheckResult) -> None:
        row = self._row(tenant_id, result.integration_id)
        assert row is not None
        row.latest, row.claimed_at = result, None
        status = row.integration.status
        if result.circuit_event is CircuitEvent.OPENED:
            status = IntegrationStatus.ERROR
        elif result.circuit_event is CircuitEvent.CLOSED and status is IntegrationStatus.ERROR:
            status = IntegrationStatus.DISABLED
        row.integration = replace(row.integration, status=status, circuit=result.circuit)
        self.history.append(result)

    async def prune_history(
        self, tenant_id: str, before: datetime, integration_id: str | None = None
    ) -> None:
        self.prunes.append((tenant_id, before, integration_id))

    def _stale(
        self, tenant_id: str | None, before: datetime, due_at: datetime | None = None
    ) -> list[Row]:
        def eligible(r: Row) -> bool:
            if r.integration.status is IntegrationStatus.ENABLED:
                return due_at is None or is_due(r.latest.circuit, due_at)
            return due_at is not None and r.latest.circuit.is_open and is_due(
                r.latest.circuit, due_at
            )

        return [
            r for r in self.rows.values()
            if (tenant_id is None or r.integration.tenant_id == tenant_id)
            and eligible(r)
            and (r.latest.checked_at is None or r.latest.checked_at < before)
        ]

    async def stale(
        self, tenant_id: str, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[Integration]:
        return [r.integration for r in self._stale(tenant_id, checked_before, due_at)]

    async def tenants_with_stale(
        self, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[str]:
        rows = self._stale(None, checked_before, due_at)
        return sorted({r.integration.tenant_id for r in rows})

    async def counts(
        self, tenant_id: str, checked_before: datetime
    ) -> tuple[Mapping[HealthState, int], int]:
        enabled = [
            r for r in self.rows.values()
            if r.integration.tenant_id == tenant_id
            and r.integration.status is IntegrationStatus.ENABLED
        ]
        counts: dict[HealthState, int] = {}
        for r in enabled:
            counts[r.latest.health_state] = counts.get(r.latest.health_state, 0) + 1
        return counts, len(self._stale(tenant_id, checked_before))


class FakeCredentials:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.destinations: list[str | None] = []

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        self.asked.append(credential_ref)
        self.destinations.append(destination)
        if credential_ref == "env://ELSEWHERE":
            raise FailedPrecondition(DESTINATION_DENIED, f"{destination} is not allowed")
        if credential_ref != "env://GOOD":
            raise NotFound("credential", credential_ref)
        return Credential(KEY)

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        raise NotImplementedError

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        raise NotImplementedError


class FakeProbe:
    """Answers each integration (by name) with a scripted observation after an optional wait."""

    def __init__(self) -> None:
        self.observation = ProbeObservation(200, 30)
        self.keys: list[str] = []
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.delays: dict[str, float] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0
        self.refused: set[str] = set()  # names whose target the egress policy refuses

    def destination(self, integration: Integration) -> str | None:
        return "provider.example:443"

    async def probe(self, integration: Integration, key: str) -> ProbeObservation:
        if integration.name in self.refused:
            raise EgressDenied("egress refused", rule="default deny: loopback", target="x:1")
        self.calls.append(integration.name)
        self.keys.append(key)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delays.get(integration.name, 0))
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        return self.observation


@dataclass
class World:
    store: FakeHealthStore
    credentials: FakeCredentials
    probe: FakeProbe
    clock: FakeClock
    engine: HealthEngine
    tenant: str

    def add(
        self, name: str = "i", *, tenant: str | None = None,
        provider: ProviderType = ProviderType.OPENAI, ref: str = "env://GOOD",
        status: IntegrationStatus = IntegrationStatus.ENABLED,
    ) -> Integration:
        integration = Integration(
            id=str(uuid.uuid4()), tenant_id=tenant or self.tenant, name=name,
            provider_type=provider, credential_ref=ref, config={}, default_model="",
            status=status, health_state=K, health_message="", health_checked_at=None,
            budget_limit_cents=0, token_limit_month=0, rate_limit_rpm=0, created_by="t",
            create_time=T0, update_time=T0,
        )
        self.store.add(integration)
        return integration


@pytest.fixture
def world() -> World:
    store, credentials, probe, clock = FakeHealthStore(), FakeCredentials(), FakeProbe(), FakeClock()
    settings = HealthSettings(poll_seconds=0.001, history_retention=timedelta(days=7))
    engine = HealthEngine(store, store, credentials, probe, settings=settings, clock=clock)
    return World(store, credentials, probe, clock, engine, str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("observation", "state", "code"),
    [
        pytest.param(ProbeObservation(200, 2000), H, "", id="200-fast"),
        pytest.param(ProbeObservation(200, 2001), D, "slow", id="200-slow"),
        pytest.param(ProbeObservation(401, 5), U, "auth_failed", id="401"),
        pytest.param(ProbeObservation(403, 5), U, "access_denied", id="403"),
        pytest.param(ProbeObservation(429, 5), D, "rate_limited", id="429"),
        pytest.param(ProbeObservation(400, 5), U, "http_400", id="400-never-healthy"),
        pytest.param(ProbeObservation(404, 5), U, "http_404", id="404"),
        pytest.param(ProbeObservation(204, 5), U, "http_204", id="204-not-200"),
        pytest.param(ProbeObservation(500, 5), U, "http_500", id="500"),
        pytest.param(
            ProbeObservation(None, 3, ProbeFailure.CONNECT_FAILED), U, "connect_failed",
            id="refused",
        ),
        pytest.param(ProbeObservation(None, 3, ProbeFailure.TIMEOUT), U, "timeout", id="timeout"),
        pytest.param(
            ProbeObservation(None, 0, ProbeFailure.UNSUPPORTED), K, "unsupported", id="unsupported"
        ),
        pytest.param(
            ProbeObservation(None, 0, ProbeFailure.MISCONFIGURED), K, "misconfigured",
            id="misconfigured",
        ),
    ],
)
def test_probe_rules(observation: ProbeObservation, state: HealthState, code: str) -> None:
    got_state, got_code, message = classify(observation, slow_after_ms=2000)
    assert (got_state, got_code) == (state, code)
    assert message


@pytest.mark.parametrize(
    ("counts", "overall"),
    [
        pytest.param({}, K, id="none"),
        pytest.param({K: 3}, K, id="all-unknown"),
        pytest.param({H: 2, K: 1}, H, id="healthy-and-unknown"),
        pytest.param({H: 2, D: 1}, D, id="any-degraded"),
        pytest.param({H: 2, D: 1, U: 1}, U, id="any-unhealthy"),
    ],
)
def test_overall_health(counts: dict[HealthState, int], overall: HealthState) -> None:
    assert overall_health(counts) is overall


async def test_check_probes_with_key_and_records_result(world: World) -> None:
    integration = world.add()
    result = await world.engine.check(world.tenant, integration.id, force=False)
    assert (result.health_state, result.cached, result.latency_ms) == (H, False, 30)
    assert result.checked_at == T0 and result.integration_name == "i"
    assert world.probe.keys == [KEY]
    assert KEY not in repr(result)
    assert world.store.history == [result]
    assert world.store.prunes == [(world.tenant, T0 - timedelta(days=7), integration.id)]


async def test_rate_limit_window(world: World) -> None:
    integration = world.add()
    first = await world.engine.check(world.tenant, integration.id, force=False)
    world.clock.now = T0 + timedelta(seconds=59)
    again = await world.engine.check(world.tenant, integration.id, force=False)
    assert again == replace(first, cached=True)
    assert len(world.probe.calls) == 1
    forced = await world.engine.check(world.tenant, integration.id, force=True)
    assert not forced.cached and len(world.probe.calls) == 2
    world.clock.now = T0 + timedelta(seconds=59 + 61)
    later = await world.engine.check(world.tenant, integration.id, force=False)
    assert not later.cached and len(world.probe.calls) == 3


async def test_a_fresh_result_answers_without_a_claim(world: World) -> None:
    integration = world.add()
    await world.engine.check(world.tenant, integration.id, force=False)
    assert world.store.claims == 1
    world.clock.now = T0 + timedelta(seconds=59)
    for _ in range(3):
        assert (await world.engine.check(world.tenant, integration.id, force=False)).cached
    assert world.store.claims == 1  # the cached answers only read
    world.clock.now = T0 + timedelta(seconds=61)
    assert not (await world.engine.check(world.tenant, integration.id, force=False)).cached
    assert world.store.claims == 2


async def test_concurrent_checks_probe_once(world: World) -> None:
    integration = world.add()
    world.probe.gate = asyncio.Event()
    calls = [
        asyncio.create_task(world.engine.check(world.tenant, integration.id, force=False))
        for _ in range(20)
    ]
    await asyncio.sleep(0.05)
    world.probe.gate.set()
    results = await asyncio.gather(*calls)
    assert world.probe.calls == ["i"]
    assert sorted(r.cached for r in results) == [False] + [True] * 19
    assert {r.health_state for r in results} == {H}


async def test_credential_failure_is_unhealthy_without_probe(world: World) -> None:
    integration = world.add(ref="env://MISSING_REF_NAME")
    result = await world.engine.check(world.tenant, integration.id, force=True)
    assert (result.health_state, result.error_code) == (U, "credential_unavailable")
    assert "MISSING_REF_NAME" not in result.message
    assert world.probe.calls == []


async def test_a_refused_destination_is_recorded_and_refuses_the_explicit_check(
    world: World,
) -> None:
    integration = world.add(ref="env://ELSEWHERE")
    with pytest.raises(FailedPrecondition) as caught:
        await world.engine.check(world.tenant, integration.id, force=True)
    assert caught.value.reason == DESTINATION_DENIED
    assert "provider.example:443" in caught.value.message
    assert world.credentials.destinations == ["provider.example:443"]
    assert world.probe.calls == []
    recorded = world.store.rows[integration.id].latest
    assert (recorded.health_state, recorded.error_code) == (U, "credential_destination_denied")


async def test_bedrock_is_unknown_without_revealing_key(world: World) -> None:
    integration = world.add(provider=ProviderType.BEDROCK)
    result = await world.engine.check(world.tenant, integration.id, force=True)
    assert (result.health_state, result.error_code) == (K, "unsupported")
    assert "not supported yet" in result.message
    assert world.credentials.asked == [] and world.probe.calls == []


async def test_other_tenant_and_missing_id_are_the_same_not_found(world: World) -> None:
    integration = world.add(tenant=str(uuid.uuid4()))
    missing = str(uuid.uuid4())
    with pytest.raises(NotFound) as theirs:
        await world.engine.check(world.tenant, integration.id, force=True)
    with pytest.raises(NotFound) as absent:
        await world.engine.check(world.tenant, missing, force=True)
    assert theirs.value.message == absent.value.message.replace(missing, integration.id)
    assert world.probe.calls == []


@pytest.mark.parametrize(
    ("threshold", "concurrency", "bad_field"),
    [
        pytest.param(timedelta(seconds=-1), 0, "stale_threshold", id="negative-threshold"),
        # "now - threshold" must stay inside the calendar.
        pytest.param(timedelta(days=365_000), 0, "stale_threshold", id="huge-threshold"),
        pytest.param(None, -1, "max_concurrency", id="negative-concurrency"),
    ],
)
async def test_check_all_rejects_bad_input(
    world: World, threshold: timedelta | None, concurrency: int, bad_field: str
) -> None:
    world.add()
    with pytest.raises(InvalidArgument) as caught:
        async for _ in world.engine.check_all(world.tenant, threshold, concurrency):
            pass
    assert [v.field for v in caught.value.violations] == [bad_field]
    assert world.probe.calls == []


async def test_check_all_bounded_and_in_finishing_order(world: World) -> None:
    for n in range(10):
        world.add(f"i{n}")
    world.add("disabled", status=IntegrationStatus.DISABLED)
    world.add("other-tenant", tenant=str(uuid.uuid4()))
    world.probe.delays = {"i0": 0.2, "i1": 0.1}
    names = [r.integration_name async for r in world.engine.check_all(world.tenant, None, 3)]
    assert sorted(names) == [f"i{n}" for n in range(10)]
    assert names[-1] == "i0" and names.index("i1") > names.index("i2")
    assert world.probe.max_in_flight == 3
    assert world.store.prunes == [(world.tenant, T0 - timedelta(days=7), None)]


async def test_check_all_skips_integrations_deleted_meanwhile(world: World) -> None:
    kept, gone = world.add("kept"), world.add("gone")
    listed = await world.store.stale(world.tenant, T0)
    del world.store.rows[gone.id]
    world.store.stale = lambda *_: _listed(listed)  # type: ignore[method-assign]
    names = [r.integration_name async for r in world.engine.check_all(world.tenant, None, 0)]
    assert names == [kept.name] and world.probe.calls == ["kept"]


async def test_a_refused_target_fails_its_check_but_not_the_batch(world: World) -> None:
    refused = world.add("refused")
    world.add("kept")
    world.probe.refused = {"refused"}
    results = {r.integration_name: r async for r in world.engine.check_all(world.tenant, None, 0)}
    assert results["refused"].error_code == "egress_denied"
    assert results["refused"].health_state is HealthState.UNHEALTHY
    assert results["kept"].health_state is HealthState.HEALTHY
    with pytest.raises(EgressDenied):  # a single check is refused outright
        await world.engine.check(world.tenant, refused.id, force=True)
    assert world.probe.calls == ["kept"]


async def _listed(integrations: Sequence[Integration]) -> Sequence[Integration]:
    return integrations


async def test_check_all_lowers_concurrency_to_32(world: World) -> None:
    for n in range(40):
        world.add(f"i{n}")
    world.probe.gate = asyncio.Event()
    stream = world.engine.check_all(world.tenant, None, 1000)
    first = asyncio.create_task(anext(stream))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert world.probe.max_in_flight == 32
    world.probe.gate.set()
    await first
    await stream.aclose()  # type: ignore[attr-defined]


async def test_check_all_skips_fresh_and_closing_cancels_the_rest(world: World) -> None:
    fresh = world.add("fresh")
    await world.engine.check(world.tenant, fresh.id, force=True)
    for n in range(6):
        world.add(f"i{n}")
    world.probe.delays = {f"i{n}": 30 for n in range(1, 6)}
    stream = world.engine.check_all(world.tenant, None, 2)
    first = await anext(stream)  # type: ignore[call-overload]
    assert first.integration_name == "i0"
    await stream.aclose()  # type: ignore[attr-defined]
    assert world.probe.calls.count("fresh") == 1
    assert world.probe.in_flight == 0 and world.probe.cancelled == 2
    # Claims of cancelled probes were released, so a new check probes at once.
    assert all(r.claimed_at is None for r in world.store.rows.values())


async def test_summary(world: World) -> None:
    healthy, unhealthy, _ = world.add("a"), world.add("b", ref="env://NOPE"), world.add("c")
    world.add("disabled", status=IntegrationStatus.DISABLED)
    await world.engine.check(world.tenant, healthy.id, force=True)
    await world.engine.check(world.tenant, unhealthy.id, force=True)
    world.clock.now = T0 + timedelta(minutes=6)
    summary = await world.engine.summary(world.tenant, None)
    assert dict(summary.counts) == {H: 1, U: 1, K: 1, D: 0}
    assert (summary.total, summary.stale_count, summary.overall_health) == (3, 3, U)
    recent = await world.engine.summary(world.tenant, timedelta(minutes=10))
    assert recent.stale_count == 1  # only the never-checked one
    empty = await world.engine.summary(str(uuid.uuid4()), None)
    assert (empty.total, empty.overall_health) == (0, K)


async def test_background_round_covers_every_tenant(world: World) -> None:
    world.add("a")
    world.add("b", tenant=str(uuid.uuid4()))
    assert await world.engine.check_everywhere(timedelta(minutes=1), 8) == 2
    assert await world.engine.check_everywhere(timedelta(minutes=1), 8) == 0
    assert sorted(world.probe.calls) == ["a", "b"]


async def test_integrations_engine_test_credentials_is_a_forced_probe(world: World) -> None:
    integration = world.add()
    integrations = IntegrationsEngine(world.store, health_tester=world.engine)  # type: ignore[arg-type]
    await world.engine.check(world.tenant, integration.id, force=False)
    result = await integrations.test_credentials(world.tenant, integration.id)
    assert not result.cached and len(world.probe.calls) == 2
    without = IntegrationsEngine(world.store)  # type: ignore[arg-type]
    with pytest.raises(Unimplemented):
        await without.test_credentials(world.tenant, integration.id)
