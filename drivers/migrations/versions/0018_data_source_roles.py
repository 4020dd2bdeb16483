"""Data source access roles as rows, so lists filter on the caller's roles in SQL: one row per
(data source, role), filled from the `access_roles` JSON every data source already carries.

Revision ID: 0018_data_source_roles
Revises: 0004_connectors_data_sources
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0018_data_source_roles"
down_revision = "0004_connectors_data_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    roles = op.create_table(
        "data_source_roles",
        sa.Column(
            "data_source_id",
            sa.String(36),
            sa.ForeignKey("data_sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(128), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_data_source_roles_tenant_role", "data_source_roles", ["tenant_id", "role"])
    sources = sa.table(
        "data_sources",
        sa.column("id", sa.String),
        sa.column("tenant_id", sa.String),
        sa.column("access_roles", sa.JSON),
    )
    connection = op.get_bind()
    rows = []
    for source in connection.execute(sa.select(sources.c.id, sources.c.tenant_id, sources.c.access_roles)):
        given = source.access_roles
        values = json.loads(given) if isinstance(given, str) else given or []
        rows += [
            {"data_source_id": source.id, "tenant_id": source.tenant_id, "role": role}
            for role in dict.fromkeys(values)
        ]
    if rows:
        op.bulk_insert(roles, rows)


def downgrade() -> None:
    op.drop_index("ix_data_source_roles_tenant_role", table_name="data_source_roles")
    op.drop_table("data_source_roles")
