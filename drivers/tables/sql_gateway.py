"""Tables of the governed SQL gateway: query templates and gateways (refs only, never secrets)."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import resource_table

__all__ = ["sql_gateways", "sql_query_templates"]

sql_query_templates = resource_table(
    "sql_query_templates",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    unique_name=None,
    mutable=False,
    id_length=63,
    tenant_in_key=True,
)

sql_gateways = resource_table(
    "sql_gateways",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("connection_string_ref", sa.Text, nullable=False),
    sa.Column("allowed_template_ids", sa.JSON, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("max_result_bytes", sa.BigInteger, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    unique_name="always",
    mutable=False,
)
