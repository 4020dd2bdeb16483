"""Health checks: latest probe details and the probe claim on integrations, and probe history.

Revision ID: 0003_health
Revises: 0001_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0003_health"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("health_latency_ms", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("health_error_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("health_claimed_at", UtcDateTime, nullable=True))
    op.create_table(
        "health_checks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column(
            "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False
        ),
        sa.Column("health_state", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("latency_ms", sa.BigInteger, nullable=False),
        sa.Column("checked_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_health_checks_integration_time",
        "health_checks",
        ["tenant_id", "integration_id", "checked_at"],
    )
    op.create_index("ix_health_checks_tenant_time", "health_checks", ["tenant_id", "checked_at"])


def downgrade() -> None:
    op.drop_table("health_checks")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("health_claimed_at")
        batch.drop_column("health_error_code")
        batch.drop_column("health_latency_ms")
