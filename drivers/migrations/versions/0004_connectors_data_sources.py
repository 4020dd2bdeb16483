"""Connectors, data sources and data source tags.

Revision ID: 0004_connectors_data_sources
Revises: 0001_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0004_connectors_data_sources"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None

_LIVE = sa.text("delete_time IS NULL")
_WITH_REQUEST_ID = sa.text("request_id IS NOT NULL")


def _tenant_indexes(table: str) -> None:
    op.create_index(f"ix_{table}_tenant_order", table, ["tenant_id", "create_time", "id"])
    op.create_index(
        f"uq_{table}_live_name", table, ["tenant_id", "name"], unique=True,
        sqlite_where=_LIVE, postgresql_where=_LIVE,
    )
    op.create_index(
        f"uq_{table}_request_id", table, ["tenant_id", "request_id"], unique=True,
        sqlite_where=_WITH_REQUEST_ID, postgresql_where=_WITH_REQUEST_ID,
    )


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("connector_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("credential_ref", sa.Text, nullable=False),
        sa.Column("last_used_time", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
        sa.Column("delete_time", UtcDateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    _tenant_indexes("connectors")
    op.create_table(
        "data_sources",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("password_ref", sa.Text, nullable=False),
        sa.Column("api_key_ref", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("access_roles", sa.JSON, nullable=False),
        sa.Column("last_connected_time", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("last_error_time", UtcDateTime, nullable=True),
        sa.Column("connection_count", sa.BigInteger, nullable=False),
        sa.Column("error_count", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("create_time", UtcDateTime, nullable=False),
        sa.Column("update_time", UtcDateTime, nullable=False),
        sa.Column("delete_time", UtcDateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    _tenant_indexes("data_sources")
    op.create_index(
        "ix_data_sources_tenant_stats",
        "data_sources",
        ["tenant_id", "status", "source_type", "connection_count", "error_count"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.create_table(
        "data_source_tags",
        sa.Column(
            "data_source_id",
            sa.String(36),
            sa.ForeignKey("data_sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
    )
    op.create_index(
        "ix_data_source_tags_tenant_tag", "data_source_tags", ["tenant_id", "tag"]
    )


def downgrade() -> None:
    op.drop_table("data_source_tags")
    op.drop_table("data_sources")
    op.drop_table("connectors")
