"""Tables of the connector registry and of customer data sources with their tags.

No column holds a secret: connectors and data sources keep credential refs, and data source
connection strings are stored with the password masked."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata, resource_table

__all__ = ["connectors", "data_source_roles", "data_source_tags", "data_sources"]

connectors = resource_table(
    "connectors",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("connector_type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("credential_ref", sa.Text, nullable=False),
    sa.Column("last_used_time", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=False),
)

data_sources = resource_table(
    "data_sources",
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
    # Covers GetDataSourceStatistics: grouped counts read from the index alone on PostgreSQL.
    sa.Index(
        "ix_data_sources_tenant_stats",
        "tenant_id",
        "status",
        "source_type",
        "connection_count",
        "error_count",
        sqlite_where=sa.text("delete_time IS NULL"),
        postgresql_where=sa.text("delete_time IS NULL"),
    ),
)

def _data_source_values(name: str, column: sa.Column[str]) -> sa.Table:
    """One row per (data source, value) with the tenant beside it, so a filter on a value is an
    indexed lookup on both backends; rows go with their data source."""
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "data_source_id",
            sa.String(36),
            sa.ForeignKey("data_sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        column,
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Index(f"ix_{name}_tenant_{column.name}", "tenant_id", column.name),
    )


# The tag filter of ListDataSources.
data_source_tags = _data_source_values("data_source_tags", sa.Column("tag", sa.String(64), primary_key=True))

# Lists show a source with roles only to callers holding one of them, filtered in SQL.
data_source_roles = _data_source_values(
    "data_source_roles", sa.Column("role", sa.String(128), primary_key=True)
)
