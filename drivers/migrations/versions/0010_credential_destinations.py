"""Credential destinations: where the service may send each stored secret, and the kind,
destination and RPC of every access-log event.

Revision ID: 0010_credential_destinations
Revises: 0002_credentials
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_credential_destinations"
down_revision = "0002_credentials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: a SQLite batch rebuild would drop `credentials`, which
    # credential_secrets references. Existing credentials get no destinations: the service sends
    # them nowhere until their owner names where they may go (UpdateCredentialDestinations).
    op.add_column(
        "credentials",
        sa.Column("allowed_destinations", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        "credential_access_events",
        sa.Column("kind", sa.String(16), nullable=False, server_default="reveal"),
    )
    op.add_column(
        "credential_access_events",
        sa.Column("destination", sa.Text, nullable=False, server_default=""),
    )
    op.add_column(
        "credential_access_events",
        sa.Column("rpc", sa.String(256), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for column in ("rpc", "destination", "kind"):
        op.drop_column("credential_access_events", column)
    op.drop_column("credentials", "allowed_destinations")
