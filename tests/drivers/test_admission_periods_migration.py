"""Migration 0020 on a database with usage events: buckets are backfilled per integration and
model; downgrade restores the month totals of 0013 from the same events."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command

from drivers.kernel import migrator
from drivers.kernel.database import Database
from tests.drivers.test_credential_destinations_migration import _upgrade_to, fresh

__all__ = ["fresh"]

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


async def _rows(database: Database, query: str) -> list[tuple]:
    async with database.read() as conn:
        return [tuple(r) for r in (await conn.execute(sa.text(query))).all()]


async def test_buckets_are_backfilled_and_downgrade_restores_month_totals(fresh: Database) -> None:
    await _upgrade_to(fresh, "0013_admission")
    integration = str(uuid.uuid4())
    async with fresh.transaction() as conn:
        await conn.execute(sa.text(
            "INSERT INTO integrations (id, tenant_id, name, provider_type, credential_ref, config, "
            "default_model, status, health_state, health_message, budget_limit_cents, "
            "token_limit_month, rate_limit_rpm, created_by, create_time, update_time, version) "
            "VALUES (:i, :t, 'n', 'openai', 'env://K', '{}', 'm', 'enabled', 'unknown', '', 0, 0, "
            "0, 'c', :at, :at, 1)"
        ), {"i": integration, "t": str(uuid.uuid4()), "at": NOW})
        for minute, model, cost in ((1, "a", 3), (14, "", 4), (16, "a", 5)):
            await conn.execute(sa.text(
                "INSERT INTO usage_events (id, tenant_id, integration_id, tokens, cost_cents, "
                "occurred_at, create_time, model) VALUES (:id, :t, :i, 1, :c, :at, :at, :m)"
            ), {"id": str(uuid.uuid4()), "t": str(uuid.uuid4()), "i": integration, "c": cost,
                "at": NOW.replace(minute=minute), "m": model})
    await migrator.upgrade(fresh)
    buckets = await _rows(fresh, "SELECT model, cost_cents FROM admission_usage_buckets "
                                 "ORDER BY model, bucket_start")
    assert buckets == [("", 7), ("", 5), ("a", 3), ("a", 5)]
    async with fresh.transaction() as conn:
        await conn.run_sync(lambda sync: command.downgrade(migrator._config(sync), "0013_admission"))
    assert await _rows(fresh, "SELECT cost_cents, tokens FROM admission_usage_totals") == [(12, 3)]
