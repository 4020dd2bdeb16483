"""Tables of the governed SQL gateway: query templates (the latest version of each, and every
version's content), and gateways (refs only, never secrets)."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata, resource_table

__all__ = ["sql_gateways", "sql_query_template_versions", "sql_query_templates"]

def _template_content() -> list[sa.Column[object]]:
    """A template version's content: the columns both template tables hold (new objects each
    call, as a Column belongs to one table)."""
    return [
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("max_rows", sa.Integer, nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
    ]


# One row per template: its latest content, state and `version` (the optimistic-concurrency
# counter behind the etag, bumped by every change); `latest_version` is the content version.
sql_query_templates = resource_table(
    "sql_query_templates",
    *_template_content(),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    unique_name=None,
    id_length=63,
    tenant_in_key=True,
)

# Every version's content, never changed once written: pinned gateways run these.
sql_query_template_versions = sa.Table(
    "sql_query_template_versions",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("template_id", sa.String(63), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_template_content(),
    sa.Column("create_time", UtcDateTime, nullable=False),
)

sql_gateways = resource_table(
    "sql_gateways",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("connection_string_ref", sa.Text, nullable=False),
    sa.Column("allowed_template_ids", sa.JSON, nullable=False),
    sa.Column("template_versions", sa.JSON, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("max_result_bytes", sa.BigInteger, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    unique_name="live",
)
