"""Envelope encryption: per-tenant data keys wrapped by the key service (OpenBao transit).

Revision ID: 0014_tenant_data_keys
Revises: 0002_credentials
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0014_tenant_data_keys"
down_revision = "0002_credentials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_data_keys",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("kms_key", sa.String(256), nullable=False),
        sa.Column("kms_version", sa.Integer, nullable=False),
        sa.Column("wrapped", sa.Text, nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
    )
    op.create_index("ix_tenant_data_keys_kms", "tenant_data_keys", ["kms_key", "kms_version"])


def downgrade() -> None:
    op.drop_table("tenant_data_keys")
