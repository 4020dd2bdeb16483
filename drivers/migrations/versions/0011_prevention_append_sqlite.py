"""Prevention records stay append-only on SQLite against REPLACE, INSERT OR REPLACE and UPSERT:
REPLACE deletes the conflicting row without firing DELETE triggers (unless recursive_triggers is
on), so a BEFORE INSERT trigger refuses any insert whose id or (tenant_id, request_id) exists.
PostgreSQL has no REPLACE, and its UPSERT fires the UPDATE trigger of 0006: nothing to do there.

Revision ID: 0011_prevention_append_sqlite
Revises: 0006_prevention
"""

from __future__ import annotations

from alembic import op

revision = "0011_prevention_append_sqlite"
down_revision = "0006_prevention"
branch_labels = None
depends_on = None

_UP = """
CREATE TRIGGER prevention_records_no_replace
BEFORE INSERT ON prevention_records
WHEN EXISTS (SELECT 1 FROM prevention_records WHERE id = NEW.id)
    OR (NEW.request_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM prevention_records
        WHERE tenant_id = NEW.tenant_id AND request_id = NEW.request_id))
BEGIN
    SELECT RAISE(ABORT, 'prevention_records is append-only: INSERT over an existing record refused');
END
"""
_DOWN = "DROP TRIGGER IF EXISTS prevention_records_no_replace"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_DOWN)
