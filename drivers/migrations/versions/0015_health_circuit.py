"""Circuit breaking of health: consecutive failures, the open circuit and the next background
probe on integrations; the probe's message and the circuit transition in the history.

Revision ID: 0015_health_circuit
Revises: 0003_health
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0015_health_circuit"
down_revision = "0003_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(
            sa.Column("health_failures", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("circuit_opened_at", UtcDateTime, nullable=True))
        batch.add_column(sa.Column("circuit_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("health_next_probe_at", UtcDateTime, nullable=True))
    with op.batch_alter_table("health_checks") as batch:
        batch.add_column(sa.Column("message", sa.Text, nullable=True))
        batch.add_column(sa.Column("circuit_event", sa.String(16), nullable=True))
        batch.add_column(sa.Column("consecutive_failures", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_checks") as batch:
        batch.drop_column("consecutive_failures")
        batch.drop_column("circuit_event")
        batch.drop_column("message")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("health_next_probe_at")
        batch.drop_column("circuit_reason")
        batch.drop_column("circuit_opened_at")
        batch.drop_column("health_failures")
