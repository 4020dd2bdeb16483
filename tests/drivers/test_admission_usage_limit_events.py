"""SqlAdmissionStore on SQLite and PostgreSQL: usage written by a settle, a batch or RecordUsage
costs no extra statement for limit events when the integration has no budget or token limit;
with one, the same transaction reads the counters and stores the events (and their webhook
outbox rows)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from drivers.admission.store import SqlAdmissionStore
from drivers.integrations.store import SqlIntegrationStore
from drivers.kernel.database import Database
from drivers.tables.admission import admission_limit_webhooks, admission_webhook_outbox
from engines.admission.control import (
    CallOutcome,
    Plan,
    Reading,
    Reservation,
    ReservationState,
    SettledUsage,
    Settlement,
    UsageRecord,
)
from engines.admission.limits import (
    AdmissionPolicy,
    CallEstimate,
    Decision,
    ModelLimits,
    Verdict,
)
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationStatus,
    ProviderType,
    UsageEvent,
)
from tests.support import new_tenant

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _integration(tenant: str, **limits: int) -> Integration:
    return Integration(
        id=str(uuid.uuid4()), tenant_id=tenant, name=f"i-{uuid.uuid4().hex[:8]}",
        provider_type=ProviderType.OPENAI, credential_ref="env://K", config={},
        default_model="m", status=IntegrationStatus.ENABLED, health_state=HealthState.UNKNOWN,
        health_message="", health_checked_at=None, budget_limit_cents=limits.get("budget", 0),
        token_limit_month=limits.get("tokens", 0), rate_limit_rpm=limits.get("rpm", 0),
        created_by="svc", create_time=NOW, update_time=NOW,
    )


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    engines = [engine.sync_engine for engine in database.engines()]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def _reserve(store: SqlAdmissionStore, integration: Integration, call_id: str) -> None:
    estimate = CallEstimate(integration.tenant_id, integration.id, call_id, "m", 1, 1, 1)

    def plan(reading: Reading) -> Plan:
        return Plan(Decision(Verdict.ALLOW, (), ()), Reservation(
            id=str(uuid.uuid4()), tenant_id=integration.tenant_id,
            integration_id=integration.id, call_id=call_id, model="m",
            estimated_input_tokens=1, estimated_output_tokens=1, estimated_cost_cents=1,
            verdict=Verdict.ALLOW, state=ReservationState.OPEN, create_time=NOW,
            expire_time=NOW + timedelta(minutes=5),
        ))

    assert await store.admit(estimate, NOW, plan) is not None


def _usage(cost: int, model: str = "") -> SettledUsage:
    """A settle of `cost` cents (under the reservation's model unless `model` is given)."""
    return SettledUsage(str(uuid.uuid4()), Settlement(
        tenant_id="", call_id="", reservation_id="", input_tokens=0, output_tokens=0,
        cost_cents=cost, model=model,
    ), NOW)


def _reads_counters(seen: list[str]) -> bool:
    return any("admission_usage_buckets" in s for s in seen)


async def test_usage_of_an_integration_without_period_limits_costs_no_statement(
    database: Database,
) -> None:
    tenant = new_tenant()
    store = SqlAdmissionStore(database)
    integrations = SqlIntegrationStore(database, store)
    plain = _integration(tenant, rpm=5)
    await integrations.insert(plain, None)
    # Another integration whose model has a budget: the check must look at this one's only.
    other = _integration(tenant, budget=10)
    await integrations.insert(other, None)
    await store.put_policy(tenant, AdmissionPolicy(
        integration_id=other.id, update_time=NOW,
        model_limits=(ModelLimits("m", budget_limit_cents=10),)))
    await _reserve(store, plain, "c1")
    with statements(database) as seen:
        outcome = await store.settle(tenant, "c1", "", _usage(10**6), NOW)
    assert outcome is not None and outcome.recorded and outcome.events == ()
    # The flip and the usage event: on PostgreSQL one statement, on SQLite two.
    assert len(seen) == (2 if database.is_sqlite else 1) and not _reads_counters(seen)
    batch = UsageRecord(
        id=str(uuid.uuid4()), tenant_id=tenant, integration_id=plain.id, call_id="b1",
        model="m", input_tokens=1, output_tokens=1, cost_cents=10**6,
        outcome=CallOutcome.SUCCESS, occurred_at=NOW, create_time=NOW,
    )
    with statements(database) as seen:
        await store.record_batch([batch])
    assert len(seen) == 2 and not _reads_counters(seen)  # the insert and the read-back
    usage = UsageEvent(str(uuid.uuid4()), tenant, plain.id, 10**6, 10**6, NOW, None, NOW)
    with statements(database) as seen:
        await integrations.append_usage(usage, None, check_limits=False)
    assert len(seen) == 1


async def test_a_settle_within_its_estimate_reads_no_counters(database: Database) -> None:
    """Admission checked the thresholds with the estimate held: a settle of no more (same
    model) cannot reach a new one, so it skips the check; more cost, or another model, does not."""
    tenant = new_tenant()
    store = SqlAdmissionStore(database)
    integrations = SqlIntegrationStore(database, store)
    limited = _integration(tenant, budget=100)
    await integrations.insert(limited, None)
    for call_id, usage, checked in (
        ("within", _usage(1), False),
        ("beyond", _usage(2), True),
        ("other-model", _usage(1, model="n"), True),
    ):
        await _reserve(store, limited, call_id)
        with statements(database) as seen:
            outcome = await store.settle(tenant, call_id, "", usage, NOW)
        assert outcome is not None and outcome.recorded, call_id
        assert _reads_counters(seen) is checked, call_id


async def test_usage_reaching_a_threshold_stores_the_event_and_its_outbox_row(
    database: Database,
) -> None:
    tenant = new_tenant()
    store = SqlAdmissionStore(database)
    integrations = SqlIntegrationStore(database, store)
    limited = _integration(tenant, budget=100)
    await integrations.insert(limited, None)
    async with database.transaction() as conn:
        await conn.execute(admission_limit_webhooks.insert().values(
            tenant_id=tenant, url="https://hooks.example.com/x", secret_ref="cus-vault://x",
            update_time=NOW,
        ))
    await _reserve(store, limited, "c1")
    with statements(database) as seen:
        outcome = await store.settle(tenant, "c1", "", _usage(80), NOW)
    assert outcome is not None and _reads_counters(seen)
    assert [(e.threshold_percent, e.used, e.reserved) for e in outcome.events] == [(80, 80, 0)]
    usage = UsageEvent(str(uuid.uuid4()), tenant, limited.id, 0, 20, NOW, None, NOW)
    await integrations.append_usage(usage, None, check_limits=True)
    usage = replace(usage, id=str(uuid.uuid4()))
    await integrations.append_usage(usage, None, check_limits=True)  # nothing new: 120 of 100
    async with database.read() as conn:
        outbox = (await conn.execute(
            sa.select(admission_webhook_outbox.c.event_id)
            .where(admission_webhook_outbox.c.tenant_id == tenant)
        )).all()
    assert len(outbox) == 2
