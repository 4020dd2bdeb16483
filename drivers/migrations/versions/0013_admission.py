"""Admission control: reservations, admission policies, per-call columns of usage events.

Revision ID: 0013_admission
Revises: 0001_integrations
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0013_admission"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None


def _usage_columns() -> tuple[sa.Column[Any], ...]:  # fresh objects: a Column joins one table only
    return (
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("reservation_id", sa.String(36), nullable=True),
        sa.Column("model", sa.String(256), nullable=False, server_default=""),
        sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.BigInteger, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False, server_default="success"),
        sa.Column("error_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("session_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("agent_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("policy_result", sa.String(8), nullable=True),
        sa.Column("call_metadata", sa.JSON, nullable=True),
    )


# Every inserted usage event is added to its integration's month in admission_usage_totals.
_PG_TRIGGER = (
    """
    CREATE FUNCTION admission_count_usage() RETURNS trigger AS $$
    BEGIN
      INSERT INTO admission_usage_totals (integration_id, period_start, cost_cents, tokens)
      VALUES (NEW.integration_id,
              date_trunc('month', NEW.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
              NEW.cost_cents, NEW.tokens)
      ON CONFLICT (integration_id, period_start) DO UPDATE
        SET cost_cents = LEAST(admission_usage_totals.cost_cents::numeric + EXCLUDED.cost_cents,
                               9223372036854775807)::bigint,
            tokens = LEAST(admission_usage_totals.tokens::numeric + EXCLUDED.tokens,
                           9223372036854775807)::bigint;
      RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER usage_events_admission_totals AFTER INSERT ON usage_events
    FOR EACH ROW EXECUTE FUNCTION admission_count_usage()
    """,
)
# Totals saturate at the int64 maximum (over any limit, so admission blocks) instead of
# overflowing; usage events are bounded to 10^12 each.
_SQLITE_SATURATED = (
    "CASE WHEN {0} > 9223372036854775807 - excluded.{0} THEN 9223372036854775807"
    " ELSE {0} + excluded.{0} END"
)
# UtcDateTime stores 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' on SQLite.
_SQLITE_MONTH = "substr({}, 1, 7) || '-01T00:00:00.000000+00:00'"
_SQLITE_TRIGGER = (
    f"""
    CREATE TRIGGER usage_events_admission_totals AFTER INSERT ON usage_events
    BEGIN
      INSERT INTO admission_usage_totals (integration_id, period_start, cost_cents, tokens)
      VALUES (NEW.integration_id, {_SQLITE_MONTH.format("NEW.occurred_at")}, NEW.cost_cents,
              NEW.tokens)
      ON CONFLICT (integration_id, period_start) DO UPDATE
        SET cost_cents = {_SQLITE_SATURATED.format("cost_cents")},
            tokens = {_SQLITE_SATURATED.format("tokens")};
    END
    """,
)
_MONTH = {
    "postgresql": "date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": _SQLITE_MONTH.format("occurred_at"),
}


def _add_usage_totals() -> None:
    """The totals table, filled from the events stored so far, then kept by the trigger."""
    op.create_table(
        "admission_usage_totals",
        sa.Column("integration_id", sa.String(36), primary_key=True),
        sa.Column("period_start", UtcDateTime, primary_key=True),
        sa.Column("cost_cents", sa.BigInteger, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    month = _MONTH[dialect]
    op.execute(
        "INSERT INTO admission_usage_totals (integration_id, period_start, cost_cents, tokens) "
        f"SELECT integration_id, {month}, SUM(cost_cents), SUM(tokens) FROM usage_events "
        f"GROUP BY integration_id, {month}"
    )
    for statement in _PG_TRIGGER if dialect == "postgresql" else _SQLITE_TRIGGER:
        op.execute(statement)


def upgrade() -> None:
    for column in _usage_columns():
        op.add_column("usage_events", column)
    op.create_index(
        "uq_usage_events_call_id",
        "usage_events",
        ["tenant_id", "call_id"],
        unique=True,
        sqlite_where=sa.text("call_id IS NOT NULL"),
        postgresql_where=sa.text("call_id IS NOT NULL"),
    )
    op.create_index("ix_usage_events_tenant_time", "usage_events", ["tenant_id", "occurred_at"])
    op.create_table(
        "admission_reservations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column(
            "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False
        ),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("estimated_input_tokens", sa.BigInteger, nullable=False),
        sa.Column("estimated_output_tokens", sa.BigInteger, nullable=False),
        sa.Column("estimated_cost_cents", sa.BigInteger, nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sa.Column("expire_time", UtcDateTime, nullable=False),
        sa.Column("settle_time", UtcDateTime, nullable=True),
    )
    op.create_index(
        "uq_admission_reservations_call",
        "admission_reservations",
        ["tenant_id", "call_id"],
        unique=True,
    )
    op.create_index(
        "ix_admission_reservations_open",
        "admission_reservations",
        ["integration_id", "state", "expire_time"],
    )
    op.create_index(
        "ix_admission_reservations_recent",
        "admission_reservations",
        ["integration_id", "create_time"],
    )
    op.create_index(
        "ix_admission_reservations_tenant_open",
        "admission_reservations",
        ["tenant_id", "state", "expire_time"],
    )
    op.create_table(
        "admission_policies",
        sa.Column(
            "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), primary_key=True
        ),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("tokens_per_minute", sa.BigInteger, nullable=False),
        sa.Column("max_parallel_calls", sa.Integer, nullable=False),
        sa.Column("reservation_ttl_ms", sa.BigInteger, nullable=False),
        sa.Column("warn_percent", sa.Integer, nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
    )
    _add_usage_totals()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS usage_events_admission_totals" + (
        " ON usage_events" if op.get_bind().dialect.name == "postgresql" else ""
    ))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS admission_count_usage()")
    op.drop_table("admission_usage_totals")
    op.drop_table("admission_policies")
    op.drop_table("admission_reservations")
    op.drop_index("ix_usage_events_tenant_time", "usage_events")
    op.drop_index("uq_usage_events_call_id", "usage_events")
    with op.batch_alter_table("usage_events") as batch:
        for column in reversed(_usage_columns()):
            batch.drop_column(column.name)
