"""Admission periods and per-model limits: usage totals per 15-minute UTC bucket (integration-wide
and per model) instead of per UTC month, so any local day, week or month sums whole buckets;
the period columns of admission_policies (existing policies stay the UTC month); and
admission_model_limits.

Every real time zone offset is a multiple of 15 minutes, so every local period boundary is a
bucket edge. The buckets are backfilled from the stored events; downgrade restores the month
totals of 0013_admission (and its trigger) from the events again.

Revision ID: 0020_admission_periods
Revises: 0013_admission
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0020_admission_periods"
down_revision = "0013_admission"
branch_labels = None
depends_on = None

_MONTH_TOTALS: Any = importlib.import_module("drivers.migrations.versions.0013_admission")

_BUCKET = {
    "postgresql": "to_timestamp(floor(extract(epoch FROM {0}) / 900) * 900)",
    # UtcDateTime stores 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' on SQLite.
    "sqlite": "substr({0}, 1, 14)"
              " || printf('%02d:00.000000+00:00', CAST(substr({0}, 15, 2) AS INTEGER) / 15 * 15)",
}
# Each event is added to its integration's bucket (model '') and, when it names a model, to that
# model's bucket; '' sorts first, so concurrent writers lock the two rows in the same order.
_MODELS = "(SELECT '' AS m UNION SELECT NEW.model ORDER BY m) AS models"
_COLUMNS = "admission_usage_buckets (integration_id, model, bucket_start, cost_cents, tokens)"
_PG_SATURATED = (
    "LEAST(admission_usage_buckets.{0}::numeric + EXCLUDED.{0}, 9223372036854775807)::bigint"
)
_SQLITE_SATURATED = (
    "CASE WHEN {0} > 9223372036854775807 - excluded.{0} THEN 9223372036854775807"
    " ELSE {0} + excluded.{0} END"
)
_ON_CONFLICT = (
    "ON CONFLICT (integration_id, model, bucket_start) DO UPDATE "
    "SET cost_cents = {cost}, tokens = {tokens}"
)


def _upsert(dialect: str) -> str:
    saturated = _PG_SATURATED if dialect == "postgresql" else _SQLITE_SATURATED
    return (
        f"INSERT INTO {_COLUMNS} SELECT NEW.integration_id, m, {_BUCKET[dialect].format('NEW.occurred_at')}, "
        f"NEW.cost_cents, NEW.tokens FROM {_MODELS} WHERE true "
        + _ON_CONFLICT.format(cost=saturated.format("cost_cents"), tokens=saturated.format("tokens"))
    )


def _triggers(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return (
            "CREATE FUNCTION admission_count_usage() RETURNS trigger AS $$ "
            f"BEGIN {_upsert(dialect)}; RETURN NULL; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER usage_events_admission_totals AFTER INSERT ON usage_events "
            "FOR EACH ROW EXECUTE FUNCTION admission_count_usage()",
        )
    return (
        "CREATE TRIGGER usage_events_admission_totals AFTER INSERT ON usage_events "
        f"BEGIN {_upsert(dialect)}; END",
    )


def _drop_trigger(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS usage_events_admission_totals ON usage_events")
        op.execute("DROP FUNCTION IF EXISTS admission_count_usage()")
    else:
        op.execute("DROP TRIGGER IF EXISTS usage_events_admission_totals")


def _policy_columns() -> tuple[sa.Column[Any], ...]:  # fresh objects: a Column joins one table only
    return (
        sa.Column("period_kind", sa.String(8), nullable=False, server_default="month"),
        sa.Column("period_time_zone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("period_anchor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rolling_window_ms", sa.BigInteger, nullable=False, server_default="0"),
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_trigger(dialect)
    op.drop_table("admission_usage_totals")
    op.create_table(
        "admission_usage_buckets",
        sa.Column("integration_id", sa.String(36), primary_key=True),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("bucket_start", UtcDateTime, primary_key=True),
        sa.Column("cost_cents", sa.BigInteger, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
    )
    bucket = _BUCKET[dialect].format("occurred_at")
    for model, where, group in (("''", "", ""), ("model", "WHERE model <> '' ", "model, ")):
        op.execute(
            f"INSERT INTO {_COLUMNS} SELECT integration_id, {model}, {bucket}, SUM(cost_cents), "
            f"SUM(tokens) FROM usage_events {where}GROUP BY integration_id, {group}{bucket}"
        )
    for statement in _triggers(dialect):
        op.execute(statement)
    for column in _policy_columns():
        op.add_column("admission_policies", column)
    op.create_table(
        "admission_model_limits",
        sa.Column(
            "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), primary_key=True
        ),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("budget_limit_cents", sa.BigInteger, nullable=False),
        sa.Column("token_limit", sa.BigInteger, nullable=False),
        sa.Column("rate_limit_rpm", sa.Integer, nullable=False),
        sa.Column("tokens_per_minute", sa.BigInteger, nullable=False),
        sa.Column("max_parallel_calls", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("admission_model_limits")
    with op.batch_alter_table("admission_policies") as batch:
        for column in reversed(_policy_columns()):
            batch.drop_column(column.name)
    _drop_trigger(op.get_bind().dialect.name)
    op.drop_table("admission_usage_buckets")
    _MONTH_TOTALS._add_usage_totals()
