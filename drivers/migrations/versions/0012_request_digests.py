"""Idempotency per AIP-155: every table of created things keeps the digest of the request that
created a row, so a request_id replayed with a different request can be refused.

Revision ID: 0012_request_digests
Revises: 0002_credentials, 0004_connectors_data_sources, 0005_sql_gateway, 0006_prevention
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_request_digests"
# A merge: the tables come from these branches (and from 0001, their common root).
down_revision = (
    "0002_credentials",
    "0004_connectors_data_sources",
    "0005_sql_gateway",
    "0006_prevention",
)
branch_labels = None
depends_on = None

_TABLES = (
    "integrations",
    "usage_events",
    "credentials",
    "connectors",
    "data_sources",
    "sql_query_templates",
    "sql_gateways",
    "prevention_records",
)


def upgrade() -> None:
    # Nullable: rows stored before this revision have no digest and match any replay.
    for table in _TABLES:
        op.add_column(table, sa.Column("request_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would lose prevention_records' triggers.
    for table in _TABLES:
        op.drop_column(table, "request_digest")
