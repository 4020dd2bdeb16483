"""Prevention records, append-only: triggers make every UPDATE and DELETE (and TRUNCATE on
PostgreSQL) fail, whoever issues it.

Revision ID: 0006_prevention
Revises: 0001_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drivers.tables.base import UtcDateTime

revision = "0006_prevention"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "prevention_records is append-only"

_POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION prevention_records_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER prevention_records_append_only
    BEFORE UPDATE OR DELETE ON prevention_records
    FOR EACH ROW EXECUTE FUNCTION prevention_records_refuse_change()
    """,
    """
    CREATE TRIGGER prevention_records_no_truncate
    BEFORE TRUNCATE ON prevention_records
    FOR EACH STATEMENT EXECUTE FUNCTION prevention_records_refuse_change()
    """,
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS prevention_records_no_truncate ON prevention_records",
    "DROP TRIGGER IF EXISTS prevention_records_append_only ON prevention_records",
    "DROP FUNCTION IF EXISTS prevention_records_refuse_change()",
]
# SQLite has no TRUNCATE; DELETE without WHERE still fires the row trigger.
_SQLITE_UP = [
    f"""
    CREATE TRIGGER prevention_records_no_{verb.lower()}
    BEFORE {verb} ON prevention_records
    BEGIN
        SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: {verb} refused');
    END
    """
    for verb in ("UPDATE", "DELETE")
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS prevention_records_no_update",
    "DROP TRIGGER IF EXISTS prevention_records_no_delete",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "prevention_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("pattern_id", sa.String(128), nullable=False),
        sa.Column("blocked_incident_id", sa.String(128), nullable=False),
        sa.Column("original_incident_id", sa.String(128), nullable=False),
        sa.Column("signature_match_confidence", sa.Double, nullable=False),
        sa.Column("policy_mode", sa.String(64), nullable=False),
        sa.Column("pattern_signature", sa.JSON, nullable=False),
        sa.Column("request_signature", sa.JSON, nullable=False),
        sa.Column("incident_created", sa.Boolean, nullable=False),
        sa.Column("is_simulated", sa.Boolean, nullable=False),
        sa.Column("contract_version", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("create_time", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_prevention_records_tenant_order",
        "prevention_records",
        ["tenant_id", "create_time", "id"],
    )
    op.create_index(
        "ix_prevention_records_policy",
        "prevention_records",
        ["tenant_id", "policy_id", "create_time", "id"],
    )
    op.create_index(
        "ix_prevention_records_pattern",
        "prevention_records",
        ["tenant_id", "pattern_id", "create_time", "id"],
    )
    op.create_index(
        "uq_prevention_records_request_id",
        "prevention_records",
        ["tenant_id", "request_id"],
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )
    _run(_SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_UP)


def downgrade() -> None:
    _run(_SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_DOWN)
    op.drop_table("prevention_records")
