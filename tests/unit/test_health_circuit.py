"""Circuit breaking of health (engines/health/circuit.py) alone and through HealthEngine with the
hand-written fakes and a fake clock: the threshold, the backoff, EnableIntegration refused while
open, a forced probe closing it, and the probe count over ten simulated minutes."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from engines.health.checks import HealthEngine, HealthSettings
from engines.health.circuit import (
    CIRCUIT_OPEN,
    CircuitEvent,
    CircuitSettings,
    CircuitState,
    after_probe,
    backoff_delay,
)
from engines.health.probes import ProbeObservation
from engines.integrations.integration import IntegrationsEngine, IntegrationStatus
from engines.kernel.errors import FailedPrecondition
from tests.unit.fakes import FakeIntegrationStore
from tests.unit.test_health_engine import (
    T0,
    FakeClock,
    FakeCredentials,
    FakeHealthStore,
    FakeProbe,
    World,
)

SETTINGS = CircuitSettings(failure_threshold=3, jitter_fraction=0.2)
NO_JITTER: Callable[[], float] = lambda: 0.0  # noqa: E731
FULL_JITTER: Callable[[], float] = lambda: 0.999999  # noqa: E731


def test_backoff_doubles_from_the_base_up_to_the_maximum() -> None:
    delays = [backoff_delay(n, SETTINGS, NO_JITTER) for n in range(0, 9)]
    assert delays[0] == timedelta(0)
    assert [d.total_seconds() for d in delays[1:]] == [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert backoff_delay(10**6, SETTINGS, NO_JITTER) == timedelta(minutes=30)
    # Jitter only shortens, by at most the fraction.
    assert backoff_delay(3, SETTINGS, FULL_JITTER) > timedelta(seconds=120 * 0.8 - 0.001)
    assert backoff_delay(3, SETTINGS, FULL_JITTER) < timedelta(seconds=120)


def test_threshold_opens_and_only_a_forced_success_closes() -> None:
    state, events = CircuitState(), []
    for n in range(4):
        state, event = after_probe(
            state, True, f"http 500 #{n}", forced=False, now=T0, settings=SETTINGS,
            jitter=NO_JITTER,
        )
        events.append(event)
    assert events == [CircuitEvent.NONE, CircuitEvent.NONE, CircuitEvent.OPENED, CircuitEvent.NONE]
    assert state.is_open and state.consecutive_failures == 4
    assert state.reason == "3 consecutive failed health probes; last: http 500 #2"
    assert state.next_probe_at == T0 + timedelta(seconds=240)
    background, event = after_probe(
        state, False, "ok", forced=False, now=T0, settings=SETTINGS
    )
    assert (background.is_open, background.consecutive_failures, event) == (
        True, 0, CircuitEvent.NONE
    )
    closed, event = after_probe(background, False, "ok", forced=True, now=T0, settings=SETTINGS)
    assert (closed, event) == (CircuitState(), CircuitEvent.CLOSED)
    # A success before the threshold resets the count.
    one, _ = after_probe(CircuitState(), True, "x", forced=False, now=T0, settings=SETTINGS)
    assert after_probe(one, False, "ok", forced=False, now=T0, settings=SETTINGS) == (
        CircuitState(), CircuitEvent.NONE
    )


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"failure_threshold": 0}, id="threshold"),
        pytest.param({"backoff_max": timedelta(seconds=1)}, id="max-below-base"),
        pytest.param({"backoff_base": timedelta(0)}, id="base"),
        pytest.param({"jitter_fraction": 1.0}, id="jitter"),
    ],
)
def test_settings_out_of_range(values: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CircuitSettings(**values)  # type: ignore[arg-type]


def _world(circuit: CircuitSettings, jitter: Callable[[], float] = NO_JITTER) -> World:
    store, credentials, probe, clock = FakeHealthStore(), FakeCredentials(), FakeProbe(), FakeClock()
    settings = HealthSettings(
        poll_seconds=0.001, min_interval=timedelta(0), circuit=circuit
    )
    engine = HealthEngine(
        store, store, credentials, probe, settings=settings, clock=clock, jitter=jitter
    )
    return World(store, credentials, probe, clock, engine, str(uuid.uuid4()))


async def test_open_circuit_moves_to_error_refuses_enable_and_test_credentials_closes_it() -> None:
    world = _world(SETTINGS)
    integration = world.add("i")
    integrations = IntegrationsEngine(
        _Reader(world.store), clock=world.clock, health_tester=world.engine
    )
    world.probe.observation = ProbeObservation(500, 5)
    results = [await world.engine.check(world.tenant, integration.id, force=True) for _ in range(3)]
    assert [r.circuit_event for r in results] == [
        CircuitEvent.NONE, CircuitEvent.NONE, CircuitEvent.OPENED
    ]
    stored = await world.store.get(world.tenant, integration.id)
    assert stored is not None and stored.status is IntegrationStatus.ERROR
    assert stored.circuit.is_open and "http_500" not in stored.circuit.reason
    assert "500" in stored.circuit.reason
    with pytest.raises(FailedPrecondition) as refused:
        await integrations.enable(world.tenant, integration.id)
    assert refused.value.reason == CIRCUIT_OPEN

    world.probe.observation = ProbeObservation(200, 5)
    result = await integrations.test_credentials(world.tenant, integration.id)
    assert result.circuit_event is CircuitEvent.CLOSED and not result.circuit.is_open
    stored = await world.store.get(world.tenant, integration.id)
    assert stored is not None and stored.status is IntegrationStatus.DISABLED
    enabled, _ = await integrations.enable(world.tenant, integration.id)
    assert enabled.status is IntegrationStatus.ENABLED
    assert [r.circuit_event for r in world.store.history] == [
        CircuitEvent.NONE, CircuitEvent.NONE, CircuitEvent.OPENED, CircuitEvent.CLOSED
    ]


class _Reader(FakeIntegrationStore):
    """IntegrationsEngine's store over the health fake's rows (status writes included)."""

    def __init__(self, health: FakeHealthStore) -> None:
        super().__init__()
        self._health = health

    async def get(self, tenant_id: str, integration_id: str):  # type: ignore[no-untyped-def]
        return await self._health.get(tenant_id, integration_id)

    async def replace(self, integration, expected_version):  # type: ignore[no-untyped-def]
        row = self._health.rows[integration.id]
        if row.integration.version != expected_version:
            return False
        row.integration = integration
        return True


TICK = timedelta(seconds=30, milliseconds=1)  # a round, then the loop sleeps the interval
TEN_MINUTES = timedelta(minutes=10)


async def _probes_in_ten_minutes(
    circuit: CircuitSettings | None, jitter: Callable[[], float] = NO_JITTER
) -> int:
    """Background rounds every 30 s for ten simulated minutes against an integration whose
    provider always answers 500; None: no backoff (every round probes)."""
    no_backoff = CircuitSettings(
        backoff_base=timedelta(milliseconds=1), backoff_max=timedelta(milliseconds=1)
    )
    world = _world(circuit or no_backoff, jitter)
    integration = world.add("failing")
    world.probe.observation = ProbeObservation(500, 5)
    probes = 0
    while world.clock.now - T0 < TEN_MINUTES:
        probes += await world.engine.check_everywhere(timedelta(seconds=30), 8)
        world.clock.now += TICK
    assert probes == len(world.probe.calls)
    assert (await world.store.circuit(world.tenant, integration.id)).is_open
    return probes


async def test_figure_probe_count_over_ten_minutes_with_and_without_backoff(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fixed = await _probes_in_ten_minutes(None)
    cap_30 = await _probes_in_ten_minutes(CircuitSettings())
    cap_2 = await _probes_in_ten_minutes(CircuitSettings(backoff_max=timedelta(minutes=2)))
    seeded = random.Random(13).random
    cap_30_jitter = await _probes_in_ten_minutes(
        CircuitSettings(jitter_fraction=0.2), jitter=seeded
    )
    cap_2_jitter = await _probes_in_ten_minutes(
        CircuitSettings(backoff_max=timedelta(minutes=2), jitter_fraction=0.2), jitter=seeded
    )
    with capsys.disabled():
        print(
            "\nprobes of an always-failing integration in 10 simulated minutes (rounds every 30 s):"
            f" fixed {fixed}; backoff cap 30 min {cap_30} (jitter {cap_30_jitter});"
            f" cap 2 min {cap_2} (jitter {cap_2_jitter})"
        )
    assert fixed == 20
    assert cap_30 < cap_2 < fixed and cap_30_jitter <= cap_2_jitter < fixed
