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
    # Existing credentials get no destinations: the service sends them nowhere until their
    # owner names where they may go (UpdateCredentialDestinations).
    with op.batch_alter_table("credentials") as table:
        table.add_column(
            sa.Column(
                "allowed_destinations", sa.JSON, nullable=False, server_default=sa.text("'[]'")
            )
        )
    with op.batch_alter_table("credential_access_events") as table:
        table.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="reveal")
        )
        table.add_column(sa.Column("destination", sa.Text, nullable=False, server_default=""))
        table.add_column(sa.Column("rpc", sa.String(256), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("credential_access_events") as table:
        table.drop_column("rpc")
        table.drop_column("destination")
        table.drop_column("kind")
    with op.batch_alter_table("credentials") as table:
        table.drop_column("allowed_destinations")
