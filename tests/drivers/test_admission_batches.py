"""Group admissions (`SqlAdmissionStore` on PostgreSQL): concurrent AdmitCalls of one process are
decided in one transaction, in queue order, each seeing the reservations of the ones before it;
an item's own error fails it alone, a database error fails the batch (fail_open still applies);
a caller gone while its batch ran gets its reservation given back. SQLite keeps one transaction
per admission. Exactness across processes: tests/service/test_admission_replicas.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from drivers.admission.store import SqlAdmissionStore
from drivers.integrations.store import SqlIntegrationStore
from drivers.kernel.batching import Batcher
from drivers.kernel.database import Database
from drivers.tables.admission import admission_reservations
from engines.admission.control import Admission, AdmissionEngine, ReservationState
from engines.admission.limits import AdmissionPolicy, CallEstimate, Counters, Verdict
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationStatus,
    ProviderType,
)
from engines.kernel.errors import FailedPrecondition, NotFound, Unavailable
from tests.drivers.test_admission_usage_limit_events import statements
from tests.support import new_tenant
from tests.unit.test_admission_engine import FakeCredentials

NOW = datetime.now(timezone.utc).replace(microsecond=0)
R = admission_reservations


def _integration(tenant: str, **limits: int) -> Integration:
    return Integration(
        id=str(uuid.uuid4()), tenant_id=tenant, name=f"i-{uuid.uuid4().hex[:8]}",
        provider_type=ProviderType.OPENAI, credential_ref="env://K",
        config={"base_url": "https://api.openai.com/v1"}, default_model="m",
        status=IntegrationStatus.ENABLED, health_state=HealthState.UNKNOWN, health_message="",
        health_checked_at=None, budget_limit_cents=limits.get("budget", 0),
        token_limit_month=limits.get("tokens", 0), rate_limit_rpm=limits.get("rpm", 0),
        created_by="svc", create_time=NOW, update_time=NOW,
    )


class Recorder:
    """Wraps the store's batch runner: the size of every batch; optionally held at its start."""

    def __init__(self, store: SqlAdmissionStore) -> None:
        self.sizes: list[int] = []
        self.started = asyncio.Event()
        self.proceed = asyncio.Event()
        self.proceed.set()
        original = store._admit_batch

        async def run(items: list[Any]) -> Any:
            self.sizes.append(len(items))
            self.started.set()
            await self.proceed.wait()
            return await original(items)

        assert store._batches is not None
        store._batches._run_batch = run


async def _setup(
    database: Database, *integrations: Integration
) -> tuple[SqlAdmissionStore, AdmissionEngine, Recorder]:
    store = SqlAdmissionStore(database)
    reader = SqlIntegrationStore(database, store)
    for integration in integrations:
        await reader.insert(integration, None)
    engine = AdmissionEngine(store, reader, FakeCredentials(), clock=lambda: NOW)
    return store, engine, Recorder(store)


def _estimate(integration: Integration, call_id: str = "", cost: int = 1) -> CallEstimate:
    return CallEstimate(integration.tenant_id, integration.id, call_id or uuid.uuid4().hex,
                        "", 10, 10, cost)


async def _states(database: Database, tenant: str) -> dict[str, str]:
    async with database.read() as conn:
        rows = await conn.execute(sa.select(R.c.call_id, R.c.state).where(R.c.tenant_id == tenant))
        return {row.call_id: row.state for row in rows}


@pytest.fixture
def pg(database: Database) -> Database:
    if database.is_sqlite:
        pytest.skip("admissions are grouped on PostgreSQL only")
    return database


async def test_two_calls_on_one_integration_in_one_batch_see_each_other(pg: Database) -> None:
    tenant = new_tenant()
    integration = _integration(tenant, budget=4)  # 80% is 3.2: no limit event below
    store, engine, batches = await _setup(pg, integration)
    with statements(pg) as seen:
        first, second = await asyncio.gather(
            engine.admit(_estimate(integration, "a", cost=2)),
            engine.admit(_estimate(integration, "b", cost=3)),
        )
    assert batches.sizes == [2]
    # Lock and read, aggregate, insert: the statements of one admission, for both.
    assert len(seen) == 3, seen
    assert first.decision.verdict is not Verdict.BLOCK and first.reservation is not None
    assert second.decision.verdict is Verdict.BLOCK and second.reservation is None
    budget = second.decision.limits[0]
    assert (budget.used, budget.reserved, budget.limit) == (0, 2, 4)
    assert await _states(pg, tenant) == {"a": ReservationState.OPEN.value}
    # A batch of one costs the same statements.
    with statements(pg) as seen:
        alone = await engine.admit(_estimate(integration, "c", cost=1))
    assert batches.sizes == [2, 1] and len(seen) == 3
    assert alone.reservation is not None and alone.decision.limits[0].reserved == 3


async def test_the_same_call_id_twice_in_a_batch_is_one_reservation(pg: Database) -> None:
    tenant = new_tenant()
    integration = _integration(tenant, rpm=10)
    store, engine, batches = await _setup(pg, integration)
    first, again = await asyncio.gather(
        engine.admit(_estimate(integration, "same")), engine.admit(_estimate(integration, "same")),
    )
    assert batches.sizes == [1 + 1]
    assert first.reservation is not None and not first.replayed
    assert again.replayed and again.reservation == first.reservation
    rpm = again.decision.limits[2]
    assert (rpm.used, rpm.limit) == (1, 10)


async def test_a_batch_across_integrations_admits_exactly_each_limit(pg: Database) -> None:
    tenant = new_tenant()
    limited = [_integration(tenant, rpm=2) for _ in range(3)]
    store, engine, batches = await _setup(pg, *limited)
    order = [integration for _ in range(4) for integration in limited]  # interleaved
    answers = await asyncio.gather(*(engine.admit(_estimate(i)) for i in order))
    assert batches.sizes == [12]
    for integration in limited:
        mine = [a for i, a in zip(order, answers, strict=True) if i is integration]
        # In queue order: the first two take the limit, the next two see them.
        assert [a.reservation is not None for a in mine] == [True, True, False, False]
        assert mine[3].decision.limits[2].used == 2
    assert list((await _states(pg, tenant)).values()) == [ReservationState.OPEN.value] * 6


async def test_an_item_that_fails_fails_alone(pg: Database) -> None:
    tenant = new_tenant()
    one, other = _integration(tenant), _integration(tenant)
    store, engine, batches = await _setup(pg, one, other)
    missing = _integration(tenant)  # never stored
    answers = await asyncio.gather(
        engine.admit(_estimate(one, "shared")),
        engine.admit(_estimate(other, "shared")),  # the call_id of another integration
        engine.admit(_estimate(missing)),
        engine.admit(_estimate(other, "fine")),
        return_exceptions=True,
    )
    assert batches.sizes == [4]
    admitted, reused, not_found, fine = answers
    assert isinstance(admitted, Admission) and admitted.reservation is not None
    assert isinstance(reused, FailedPrecondition) and reused.reason == "CALL_ID_REUSED"
    assert isinstance(not_found, NotFound)
    assert isinstance(fine, Admission) and fine.reservation is not None
    assert await _states(pg, tenant) == {"shared": "open", "fine": "open"}


def _failing_insert(database: Database) -> Callable[[], None]:
    """Makes the reservations' INSERT fail as a lost connection does; returns the undo."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("INSERT INTO admission_reservations"):
            raise ConnectionResetError("connection lost mid-batch")

    engines = [engine.sync_engine for engine in database.engines()]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", fail)

    def undo() -> None:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", fail)

    return undo


async def test_a_database_error_mid_batch_fails_the_batch_and_fail_open_still_applies(
    pg: Database,
) -> None:
    tenant = new_tenant()
    closed, open_ = _integration(tenant), _integration(tenant)
    store, engine, batches = await _setup(pg, closed, open_)
    await store.put_policy(tenant, AdmissionPolicy(
        integration_id=open_.id, fail_open=True, update_time=NOW))
    await engine.admit(_estimate(open_))  # this process has read it: fail_open applies
    undo = _failing_insert(pg)
    try:
        answers = await asyncio.gather(
            engine.admit(_estimate(closed, "x")), engine.admit(_estimate(open_, "y")),
            engine.admit(_estimate(closed, "z")), return_exceptions=True,
        )
    finally:
        undo()
    assert batches.sizes == [1, 3]
    failed, unchecked, failed_too = answers
    assert isinstance(failed, Unavailable) and isinstance(failed_too, Unavailable)
    assert isinstance(unchecked, Admission) and unchecked.unchecked
    assert unchecked.reservation is None
    states = await _states(pg, tenant)
    assert len(states) == 1 and not {"x", "y", "z"} & set(states)  # the batch rolled back
    after = await engine.admit(_estimate(closed, "x"))  # and the next batch works
    assert after.reservation is not None


async def test_a_caller_gone_while_its_batch_ran_gets_its_reservation_given_back(
    pg: Database,
) -> None:
    tenant = new_tenant()
    integration = _integration(tenant, rpm=3)
    store, engine, batches = await _setup(pg, integration)
    batches.proceed.clear()
    gone = asyncio.create_task(engine.admit(_estimate(integration, "gone")))
    stays = asyncio.create_task(engine.admit(_estimate(integration, "stays")))
    await batches.started.wait()  # both are in the running batch
    # Queued behind it: cancelled before its batch starts, it is left out.
    never = asyncio.create_task(engine.admit(_estimate(integration, "never")))
    await asyncio.sleep(0)
    never.cancel()
    gone.cancel()
    batches.proceed.set()
    assert (await stays).reservation is not None
    with pytest.raises(asyncio.CancelledError):
        await gone
    with pytest.raises(asyncio.CancelledError):
        await never
    for _ in range(100):  # given back by the runner right after the batch
        if (await _states(pg, tenant)).get("gone") == ReservationState.RELEASED.value:
            break
        await asyncio.sleep(0.02)
    assert await _states(pg, tenant) == {"gone": "released", "stays": "open"}
    assert batches.sizes == [2]
    # A released reservation is not counted: two of three requests per minute remain.
    answers = [await engine.admit(_estimate(integration)) for _ in range(3)]
    assert [a.reservation is not None for a in answers] == [True, True, False]


async def test_sqlite_admits_one_call_per_transaction(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("SQLite only")
    assert SqlAdmissionStore(database)._batches is None


def test_counters_reserving_adds_one_open_reservation() -> None:
    before = Counters(cost_reserved=1, tokens_reserved=2, requests_in_window=3,
                      oldest_request=NOW, open_reservations=4, cost_used=9)
    later = NOW.replace(year=NOW.year + 1)
    after = before.reserving(5, 6, later)
    assert after == Counters(cost_reserved=6, tokens_reserved=8, requests_in_window=4,
                             oldest_request=NOW, open_reservations=5, cost_used=9)
    assert Counters().reserving(0, 0, later).oldest_request == later


async def test_batcher_leaves_out_callers_gone_before_their_batch() -> None:
    seen: list[list[int]] = []
    abandoned: list[list[tuple[int, int]]] = []
    hold = asyncio.Event()

    async def run(items: list[int]) -> list[int]:
        seen.append(items)
        await hold.wait()
        return [i * 10 for i in items]

    async def gone(results: list[tuple[int, int]]) -> None:
        abandoned.append(results)

    batcher: Batcher[int, int] = Batcher(run, abandoned=gone)
    first = asyncio.create_task(batcher.submit(1))
    dropped = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    later = asyncio.create_task(batcher.submit(3))
    skipped = asyncio.create_task(batcher.submit(4))
    await asyncio.sleep(0)
    dropped.cancel()
    skipped.cancel()
    hold.set()
    assert await first == 10 and await later == 30
    assert seen == [[1, 2], [3]]
    assert abandoned == [[(2, 20)]]
    await _cancelled(dropped)
    await _cancelled(skipped)


async def _cancelled(task: Awaitable[object]) -> None:
    with pytest.raises(asyncio.CancelledError):
        await task
