"""Migration 0022 on a database with an admission policy: the policy stays fail closed, and
downgrade drops the column again."""

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


async def test_existing_policies_stay_fail_closed(fresh: Database) -> None:
    await _upgrade_to(fresh, "0021_admission_limit_events")
    integration, tenant = str(uuid.uuid4()), str(uuid.uuid4())
    async with fresh.transaction() as conn:
        await conn.execute(sa.text(
            "INSERT INTO integrations (id, tenant_id, name, provider_type, credential_ref, config, "
            "default_model, status, health_state, health_message, budget_limit_cents, "
            "token_limit_month, rate_limit_rpm, created_by, create_time, update_time, version) "
            "VALUES (:i, :t, 'n', 'openai', 'env://K', '{}', 'm', 'enabled', 'unknown', '', 0, 0, "
            "0, 'c', :at, :at, 1)"
        ), {"i": integration, "t": tenant, "at": NOW})
        await conn.execute(sa.text(
            "INSERT INTO admission_policies (integration_id, tenant_id, tokens_per_minute, "
            "max_parallel_calls, reservation_ttl_ms, warn_percent, update_time) "
            "VALUES (:i, :t, 0, 0, 300000, 80, :at)"
        ), {"i": integration, "t": tenant, "at": NOW})
    await migrator.upgrade(fresh)
    async with fresh.read() as conn:
        stored = (await conn.execute(sa.text(
            "SELECT fail_open FROM admission_policies WHERE integration_id = :i"
        ), {"i": integration})).scalar_one()
    assert stored in (False, 0)
    async with fresh.transaction() as conn:
        await conn.run_sync(
            lambda sync: command.downgrade(migrator._config(sync), "0021_admission_limit_events")
        )
    async with fresh.read() as conn:
        columns = await conn.run_sync(
            lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("admission_policies")}
        )
    assert "fail_open" not in columns and "warn_percent" in columns
