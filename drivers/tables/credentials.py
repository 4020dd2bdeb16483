"""Tables of the credential service: stored credentials, their sealed secret versions, and the
access log of reveal attempts. No column ever holds a secret in plaintext."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata, resource_table

__all__ = ["credential_access_events", "credential_secrets", "credentials"]

credentials = resource_table(
    "credentials",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("expire_time", UtcDateTime, nullable=True),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    # Normalised destinations (engines/egress/destinations.py) the service may send the secret to.
    sa.Column("allowed_destinations", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    # How often the secret should be rotated (None: no schedule) and when it is next due.
    sa.Column("rotation_interval_seconds", sa.BigInteger, nullable=True),
    sa.Column("rotation_due_time", UtcDateTime, nullable=True),
    sa.Index("ix_credentials_tenant_rotation_due", "tenant_id", "rotation_due_time"),
    sa.Index("ix_credentials_tenant_expire", "tenant_id", "expire_time"),
)

# One row per secret version; `sealed` is nonce | AES-256-GCM ciphertext | tag under the
# tenant key derived from master key `key_version`.
credential_secrets = sa.Table(
    "credential_secrets",
    metadata,
    sa.Column("credential_id", sa.String(36), sa.ForeignKey("credentials.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("key_version", sa.Integer, nullable=False),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Index("ix_credential_secrets_key_version", "key_version"),
)

credential_access_events = sa.Table(
    "credential_access_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("credential_id", sa.String(36), nullable=True),
    sa.Column("credential_ref", sa.Text, nullable=False),
    sa.Column("caller", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("access_reason", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("requester_tenant_id", sa.String(36), nullable=False),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, server_default="reveal"),
    sa.Column("destination", sa.Text, nullable=False, server_default=""),
    sa.Column("rpc", sa.String(256), nullable=False, server_default=""),
    sa.Index("ix_credential_access_events_tenant_order", "tenant_id", "create_time", "id"),
    sa.Index(
        "ix_credential_access_events_credential",
        "tenant_id",
        "credential_id",
        "create_time",
        "id",
    ),
)
