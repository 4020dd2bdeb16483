"""Limit events of admission control: soft-threshold crossings (one per integration, limit,
model, threshold and period), tenants' webhooks for them, and the webhook outbox.

Revision ID: 0021_admission_limit_events
Revises: 0019_credential_rotation (to be rebased onto 0020 when that lands; the tables need
0013_admission's integrations only)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0021_admission_limit_events"
down_revision = "0020_admission_periods"
branch_labels = None


def upgrade() -> None:
    op.create_table(
        "admission_limit_events",
        sa.Column(
            "sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column(
            "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False
        ),
        sa.Column("limit_kind", sa.String(32), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("threshold_percent", sa.Integer, nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("used", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False),
        sa.Column("limit_value", sa.BigInteger, nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_admission_limit_events_crossing",
        "admission_limit_events",
        ["tenant_id", "integration_id", "limit_kind", "model", "threshold_percent", "period_start"],
        unique=True,
    )
    op.create_index(
        "ix_admission_limit_events_tenant_order",
        "admission_limit_events",
        ["tenant_id", "create_time", "id"],
    )
    op.create_index(
        "ix_admission_limit_events_tenant_sequence", "admission_limit_events",
        ["tenant_id", "sequence"],
    )
    op.create_table(
        "admission_limit_webhooks",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret_ref", sa.String(512), nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
    )
    op.create_table(
        "admission_webhook_outbox",
        sa.Column(
            "event_id", sa.String(36), sa.ForeignKey("admission_limit_events.id"),
            primary_key=True,
        ),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_time", UtcDateTime, nullable=False),
        sa.Column("delivered_time", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.String(512), nullable=False),
    )
    op.create_index(
        "ix_admission_webhook_outbox_due", "admission_webhook_outbox",
        ["delivered_time", "next_attempt_time"],
    )


def downgrade() -> None:
    op.drop_table("admission_webhook_outbox")
    op.drop_table("admission_limit_webhooks")
    op.drop_table("admission_limit_events")
