"""Table of envelope encryption (`--kms openbao`): each tenant's data key, wrapped by the key
service. The unwrapped key is never stored."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata

__all__ = ["tenant_data_keys"]

tenant_data_keys = sa.Table(
    "tenant_data_keys",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    # The wrapping key (`<mount>/<key name>`), its version, and the key service's ciphertext.
    sa.Column("kms_key", sa.String(256), nullable=False),
    sa.Column("kms_version", sa.Integer, nullable=False),
    sa.Column("wrapped", sa.Text, nullable=False),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Column("update_time", UtcDateTime, nullable=False),
    sa.Index("ix_tenant_data_keys_kms", "kms_key", "kms_version"),
)
