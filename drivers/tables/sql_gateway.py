"""Tables of the governed SQL gateway: query templates and gateways (refs only, never secrets)."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata

__all__ = ["sql_gateways", "sql_query_templates"]

sql_query_templates = sa.Table(
    "sql_query_templates",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("id", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("sql", sa.Text, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Index("ix_sql_query_templates_tenant_order", "tenant_id", "create_time", "id"),
    sa.Index(
        "uq_sql_query_templates_request_id",
        "tenant_id",
        "request_id",
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    ),
)

sql_gateways = sa.Table(
    "sql_gateways",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("connection_string_ref", sa.Text, nullable=False),
    sa.Column("allowed_template_ids", sa.JSON, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("max_result_bytes", sa.BigInteger, nullable=False),
    sa.Column("timeout_seconds", sa.Integer, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Index("ix_sql_gateways_tenant_order", "tenant_id", "create_time", "id"),
    sa.Index("uq_sql_gateways_name", "tenant_id", "name", unique=True),
    sa.Index(
        "uq_sql_gateways_request_id",
        "tenant_id",
        "request_id",
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    ),
)
