"""SQL gateway: query templates and gateways.

Revision ID: 0005_sql_gateway
Revises: 0001_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0005_sql_gateway"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None


def _request_id_index(table: str) -> None:
    op.create_index(
        f"uq_{table}_request_id",
        table,
        ["tenant_id", "request_id"],
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )


def upgrade() -> None:
    op.create_table(
        "sql_query_templates",
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
    )
    op.create_index(
        "ix_sql_query_templates_tenant_order",
        "sql_query_templates",
        ["tenant_id", "create_time", "id"],
    )
    _request_id_index("sql_query_templates")
    op.create_table(
        "sql_gateways",
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
    )
    op.create_index(
        "ix_sql_gateways_tenant_order", "sql_gateways", ["tenant_id", "create_time", "id"]
    )
    op.create_index("uq_sql_gateways_name", "sql_gateways", ["tenant_id", "name"], unique=True)
    _request_id_index("sql_gateways")


def downgrade() -> None:
    op.drop_table("sql_gateways")
    op.drop_table("sql_query_templates")
