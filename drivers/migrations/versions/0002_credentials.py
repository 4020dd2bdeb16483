"""Credential service: stored credentials, sealed secret versions, access log.

Revision ID: 0002_credentials
Revises: 0001_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0002_credentials"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("expire_time", UtcDateTime, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
        sa.Column("delete_time", UtcDateTime, nullable=True),
    )
    op.create_index(
        "ix_credentials_tenant_order", "credentials", ["tenant_id", "create_time", "id"]
    )
    op.create_index(
        "uq_credentials_live_name",
        "credentials",
        ["tenant_id", "name"],
        unique=True,
        sqlite_where=sa.text("delete_time IS NULL"),
        postgresql_where=sa.text("delete_time IS NULL"),
    )
    op.create_index(
        "uq_credentials_request_id",
        "credentials",
        ["tenant_id", "request_id"],
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )
    op.create_table(
        "credential_secrets",
        sa.Column(
            "credential_id", sa.String(36), sa.ForeignKey("credentials.id"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_credential_secrets_key_version", "credential_secrets", ["key_version"]
    )
    op.create_table(
        "credential_access_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("credential_id", sa.String(36), nullable=True),
        sa.Column("credential_ref", sa.Text, nullable=False),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("access_reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("requester_tenant_id", sa.String(36), nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_credential_access_events_tenant_order",
        "credential_access_events",
        ["tenant_id", "create_time", "id"],
    )
    op.create_index(
        "ix_credential_access_events_credential",
        "credential_access_events",
        ["tenant_id", "credential_id", "create_time", "id"],
    )


def downgrade() -> None:
    op.drop_table("credential_access_events")
    op.drop_table("credential_secrets")
    op.drop_table("credentials")
