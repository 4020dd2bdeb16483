"""The health engine reports each probe it runs (not cached results) to its ProbeObserver port."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from engines.health.checks import HealthEngine, HealthSettings
from engines.health.probes import ProbeObservation
from engines.integrations.integration import Integration, ProviderType
from tests.unit.test_health_engine import (
    FakeClock,
    FakeCredentials,
    FakeHealthStore,
    FakeProbe,
    World,
)


@dataclass
class RecordingObserver:
    probes: list[tuple[str, str, int]] = field(default_factory=list)

    def probe_finished(self, provider: str, state: str, latency_ms: int) -> None:
        self.probes.append((provider, state, latency_ms))


def _world(observer: RecordingObserver) -> World:
    store, credentials, probe, clock = FakeHealthStore(), FakeCredentials(), FakeProbe(), FakeClock()
    settings = HealthSettings(poll_seconds=0.001, min_interval=timedelta(seconds=60))
    engine = HealthEngine(
        store, store, credentials, probe, settings=settings, clock=clock, observer=observer
    )
    return World(store, credentials, probe, clock, engine, str(uuid.uuid4()))


async def _check(world: World, integration: Integration, force: bool = False) -> None:
    await world.engine.check(world.tenant, integration.id, force=force)


async def test_each_probe_is_reported_with_provider_state_and_latency() -> None:
    observer = RecordingObserver()
    world = _world(observer)
    healthy = world.add("ok", provider=ProviderType.ANTHROPIC)
    await _check(world, healthy)
    world.probe.observation = ProbeObservation(401, 12)
    await _check(world, healthy, force=True)
    assert observer.probes == [("anthropic", "healthy", 30), ("anthropic", "unhealthy", 12)]


async def test_a_cached_result_is_not_a_probe() -> None:
    observer = RecordingObserver()
    world = _world(observer)
    integration = world.add()
    await _check(world, integration)
    await _check(world, integration)  # within min_interval: the stored result comes back
    assert len(world.probe.calls) == 1
    assert observer.probes == [("openai", "healthy", 30)]


async def test_outcomes_decided_without_a_request_are_reported_too() -> None:
    observer = RecordingObserver()
    world = _world(observer)
    await _check(world, world.add("no-key", ref="env://MISSING"))
    await _check(world, world.add("bedrock", provider=ProviderType.BEDROCK))
    assert world.probe.calls == []
    assert observer.probes == [("openai", "unhealthy", 0), ("bedrock", "unknown", 0)]
