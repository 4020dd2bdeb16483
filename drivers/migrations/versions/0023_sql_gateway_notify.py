"""PostgreSQL only: triggers that notify channel `sql_gateway_changed` with `tenant_id/id` of every
inserted, updated or deleted query template and gateway, delivered at commit; replicas drop their
cached ExecuteQuery reads of that tenant when they hear it (drivers/sql_gateway/cached_executions.py).
Template versions are written only with their template's row, so its trigger covers them. SQLite
runs one process: nothing to do.

Revision ID: 0023_sql_gateway_notify
Revises: 0022_admission_fail_open
"""

from __future__ import annotations

from alembic import op

revision = "0023_sql_gateway_notify"
down_revision = "0022_admission_fail_open"
branch_labels = None
depends_on = None

_TABLES = ("sql_query_templates", "sql_gateways")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sql_gateway_notify() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('sql_gateway_changed', OLD.tenant_id || '/' || OLD.id);
            ELSE
                PERFORM pg_notify('sql_gateway_changed', NEW.tenant_id || '/' || NEW.id);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION sql_gateway_notify()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sql_gateway_notify()")
