"""PostgreSQL only: a trigger that notifies channel `integrations_changed` with `tenant_id/id` of
every inserted, updated or deleted integration, delivered at commit; replicas drop their cached
copy when they hear it (drivers/kernel/pg_listener.py). SQLite runs one process: nothing to do.

Revision ID: 0017_integrations_notify
Revises: 0001_integrations
"""

from __future__ import annotations

from alembic import op

revision = "0017_integrations_notify"
down_revision = "0001_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION integrations_notify() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('integrations_changed', OLD.tenant_id || '/' || OLD.id);
            ELSE
                PERFORM pg_notify('integrations_changed', NEW.tenant_id || '/' || NEW.id);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER integrations_notify AFTER INSERT OR UPDATE OR DELETE ON integrations "
        "FOR EACH ROW EXECUTE FUNCTION integrations_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS integrations_notify ON integrations")
    op.execute("DROP FUNCTION IF EXISTS integrations_notify()")
