"""Limit-event webhooks survive a crash of the service: a server process is SIGKILLed after the
admission transaction committed the events (and their outbox rows) but before any delivery
succeeded, and a second process on the same database delivers every event at least once,
signed, with the same event id on every attempt (receivers deduplicate by it).

Two cases, each on SQLite (a file, which outlives the process) and PostgreSQL:
- the receiver answers 503 while the first process runs (it tried and failed), 200 afterwards;
- the receiver holds the first process's POSTs when it is killed (delivery in flight): the
  second redelivers once the claim's lease (webhook timeout * 3 + 5 s) has expired.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.bench.harness import ServerProcess, postgres_database
from tests.fake_provider import FakeProvider, SeenRequest, fake_provider
from tests.secrets_registry import register_secret
from tests.service.admission_helpers import (
    OutboxRow,
    admit,
    enabled_integration,
    signed_by,
    webhook_outbox,
)
from tests.support import new_tenant

ROUTE = "hook"
POLL = ("--limit-event-poll-seconds", "0.2")
IN_FLIGHT_TIMEOUT = 6.0  # the POST timeout of the in-flight case (the kill must come sooner): lease 23 s
WAIT_SECONDS = 60.0  # generous bound of every wait; nothing is asserted about speed


@pytest.fixture
async def process_database_url(
    backend: str, tmp_path: Path, database_urls: dict[str, str | None], postgres_admin_url: str
) -> AsyncIterator[str]:
    """A fresh database of its own for the server processes (no other test's outbox rows)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/service.db"
        return
    if database_urls["postgresql"] is None:
        pytest.skip("PostgreSQL is not reachable (set REQUIRE_POSTGRES=1 to fail instead)")
    async with postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
async def receiver() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as provider:
        yield provider


async def until(check: Callable[[], object], what: str) -> None:
    """Polls `check` (sync or async) until truthy; fails after WAIT_SECONDS."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"not within {WAIT_SECONDS:.0f} s: {what}")


async def crossing_events(
    server: ServerProcess, tenant: str, webhook_url: str, costs: tuple[int, ...]
) -> tuple[str, set[str]]:
    """On a running server: the tenant's webhook to `webhook_url` (a generated secret), a budget
    of 100 cents, and admissions of `costs` that reach its 80% and 100% thresholds. Returns
    the secret and the ids of the events ListLimitEvents shows (committed)."""
    async with grpc.aio.insecure_channel(server.address) as channel:
        admission = admission_pb2_grpc.AdmissionServiceStub(channel)
        created = await admission.UpdateLimitWebhook(
            pb.UpdateLimitWebhookRequest(tenant_id=tenant, url=webhook_url)
        )
        secret = register_secret(created.generated_secret)
        integration = await enabled_integration(
            integrations_pb2_grpc.IntegrationsServiceStub(channel), tenant,
            budget_limit_cents=100,
        )
        for cost in costs:
            admitted = await admit(admission, tenant, integration, estimated_cost_cents=cost)
            assert admitted.verdict != pb.ADMISSION_VERDICT_BLOCK
        listed = await admission.ListLimitEvents(pb.ListLimitEventsRequest(tenant_id=tenant))
    assert sorted(e.threshold_percent for e in listed.limit_events) == [80, 100]
    return secret, {e.id for e in listed.limit_events}


def event_ids(requests: list[SeenRequest]) -> set[str]:
    return {r.headers["x-integrations-event-id"] for r in requests}


def check_deliveries(requests: list[SeenRequest], events: set[str], secret: str) -> None:
    """Every POST is of one of the events, signed, its body's id its header's id, and every
    POST of one event (a duplicate) carries the same body."""
    bodies: dict[str, bytes] = {}
    for request in requests:
        event_id = request.headers["x-integrations-event-id"]
        assert event_id in events, event_id
        assert request.method == "POST" and signed_by(request, secret)
        assert json.loads(request.body)["id"] == event_id
        assert bodies.setdefault(event_id, request.body) == request.body, event_id


async def all_delivered(url: str, tenant: str, events: set[str]) -> list[OutboxRow] | None:
    rows = await webhook_outbox(url, tenant)
    done = {r.event_id for r in rows} == events and all(r.delivered_time for r in rows)
    return rows if done else None


def logs_hold(paths: list[Path], secret: str) -> bool:
    return any(secret in path.read_text(errors="replace") for path in paths if path.exists())


async def test_events_committed_before_a_kill_are_delivered_by_the_next_process(
    process_database_url: str, receiver: FakeProvider, tmp_path: Path
) -> None:
    url, tenant = process_database_url, new_tenant()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    fast_retries = ("--webhook-backoff-seconds", "0.2", *POLL)
    webhook_url = receiver.route(ROUTE, status=503)
    async with ServerProcess(url, *fast_retries, log_path=logs[0]) as first:
        secret, events = await crossing_events(first, tenant, webhook_url, (85, 15))
        # The first process tried each event and was refused: committed, not delivered.
        await until(lambda: event_ids(receiver.requests) == events, "an attempt of each event")
        first.kill()
    refused = list(receiver.requests)
    rows = await webhook_outbox(url, tenant)
    assert {r.event_id for r in rows} == events
    assert all(r.delivered_time is None and r.attempts >= 1 for r in rows), rows

    receiver.routes[ROUTE].status = 200
    async with ServerProcess(url, *fast_retries, log_path=logs[1]) as second:
        await until(lambda: all_delivered(url, tenant, events), "every event delivered")
        async with grpc.aio.insecure_channel(second.address) as channel:
            listed = await admission_pb2_grpc.AdmissionServiceStub(channel).ListLimitEvents(
                pb.ListLimitEventsRequest(tenant_id=tenant)
            )
    accepted = receiver.requests[len(refused):]  # the first process was dead by then
    assert {e.id for e in listed.limit_events} == events
    assert event_ids(accepted) == events
    check_deliveries(receiver.requests, events, secret)
    assert not logs_hold(logs, secret)


async def test_a_delivery_in_flight_at_the_kill_is_sent_again_after_its_lease(
    process_database_url: str, receiver: FakeProvider, tmp_path: Path
) -> None:
    url, tenant = process_database_url, new_tenant()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    args = ("--webhook-timeout-seconds", str(IN_FLIGHT_TIMEOUT), *POLL)
    webhook_url = receiver.route(ROUTE, delay=WAIT_SECONDS * 2)  # holds every POST
    async with ServerProcess(url, *args, log_path=logs[0]) as first:
        # One admission reaches both thresholds: both events are claimed in one round.
        secret, events = await crossing_events(first, tenant, webhook_url, (100,))
        await until(lambda: event_ids(receiver.requests) == events, "both POSTs held")
        first.kill()
    held = list(receiver.requests)
    rows = await webhook_outbox(url, tenant)
    # Claimed once, and the attempt never finished (no error recorded): killed in flight. Were
    # this to fail, the kill came later than the POST timeout of IN_FLIGHT_TIMEOUT seconds.
    assert {r.event_id for r in rows} == events
    assert all((r.attempts, r.delivered_time, r.last_error) == (1, None, "") for r in rows), rows
    assert [r.headers["x-integrations-delivery-attempt"] for r in held] == ["1", "1"]
    await until(lambda: receiver.disconnects == len(held), "the held connections dropped")

    receiver.routes[ROUTE].delay = 0.0
    async with ServerProcess(url, *args, log_path=logs[1]):
        await until(lambda: all_delivered(url, tenant, events), "every event redelivered")
    sent_again = receiver.requests[len(held):]
    assert event_ids(sent_again) == events
    # The second process claimed each row again once the first one's lease had expired.
    assert {r.headers["x-integrations-delivery-attempt"] for r in sent_again} == {"2"}
    check_deliveries(receiver.requests, events, secret)
    assert not logs_hold(logs, secret)
