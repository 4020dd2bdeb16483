"""Credential rotation intervals: how often a stored secret should be rotated, and when it is
next due (kept as a column, so "rotation due" is an index range on both backends).

Existing credentials have no interval and are never due.

Revision ID: 0019_credential_rotation
Revises: 0010_credential_destinations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0019_credential_rotation"
down_revision = "0010_credential_destinations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("rotation_interval_seconds", sa.BigInteger, nullable=True))
    op.add_column("credentials", sa.Column("rotation_due_time", UtcDateTime, nullable=True))
    op.create_index("ix_credentials_tenant_rotation_due", "credentials", ["tenant_id", "rotation_due_time"])
    op.create_index("ix_credentials_tenant_expire", "credentials", ["tenant_id", "expire_time"])


def downgrade() -> None:
    op.drop_index("ix_credentials_tenant_expire", table_name="credentials")
    op.drop_index("ix_credentials_tenant_rotation_due", table_name="credentials")
    op.drop_column("credentials", "rotation_due_time")
    op.drop_column("credentials", "rotation_interval_seconds")
