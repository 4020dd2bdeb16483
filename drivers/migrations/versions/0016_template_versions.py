"""SQL gateway lifecycles: template versions (every version's content kept), template state and
soft delete, mutable gateways with version pins and soft delete (names unique among live ones).

Revision ID: 0016_template_versions
Revises: 0005_sql_gateway
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0016_template_versions"
down_revision = "0005_sql_gateway"
branch_labels = None
depends_on = None

_EPOCH = sa.text("'1970-01-01T00:00:00.000000+00:00'")
_MUTABLE = ("sql_query_templates", "sql_gateways")


def upgrade() -> None:
    # Plain ADD COLUMN with constant defaults on both backends (SQLite refuses a non-constant
    # default); update_time then takes each row's create_time.
    for table in _MUTABLE:
        op.add_column(table, sa.Column("update_time", UtcDateTime, nullable=False, server_default=_EPOCH))
        op.add_column(table, sa.Column("delete_time", UtcDateTime, nullable=True))
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        op.execute(f"UPDATE {table} SET update_time = create_time")
    op.add_column(
        "sql_query_templates",
        sa.Column("latest_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.add_column(
        "sql_query_templates",
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
    )
    op.add_column(
        "sql_gateways",
        sa.Column("template_versions", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_table(
        "sql_query_template_versions",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("template_id", sa.String(63), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("max_rows", sa.Integer, nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("create_time", UtcDateTime, nullable=False),
    )
    # Templates registered before versions are version 1.
    op.execute(
        "INSERT INTO sql_query_template_versions (tenant_id, template_id, version, name, "
        "description, sql, parameters, read_only, max_rows, timeout_seconds, create_time) "
        "SELECT tenant_id, id, 1, name, description, sql, parameters, read_only, max_rows, "
        "timeout_seconds, create_time FROM sql_query_templates"
    )
    # A deleted gateway frees its name.
    op.drop_index("uq_sql_gateways_name", "sql_gateways")
    op.create_index(
        "uq_sql_gateways_live_name",
        "sql_gateways",
        ["tenant_id", "name"],
        unique=True,
        sqlite_where=sa.text("delete_time IS NULL"),
        postgresql_where=sa.text("delete_time IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in _MUTABLE:
            op.alter_column(table, "update_time", server_default=None)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35). Deleted gateways are dropped so names are unique again.
    op.drop_index("uq_sql_gateways_live_name", "sql_gateways")
    op.execute("DELETE FROM sql_gateways WHERE delete_time IS NOT NULL")
    op.execute("DELETE FROM sql_query_templates WHERE delete_time IS NOT NULL")
    op.create_index("uq_sql_gateways_name", "sql_gateways", ["tenant_id", "name"], unique=True)
    op.drop_table("sql_query_template_versions")
    op.drop_column("sql_gateways", "template_versions")
    op.drop_column("sql_query_templates", "state")
    op.drop_column("sql_query_templates", "latest_version")
    for table in _MUTABLE:
        for column in ("version", "delete_time", "update_time"):
            op.drop_column(table, column)
