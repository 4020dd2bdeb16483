"""Table of prevention records: append-only (migration 0006 installs triggers refusing UPDATE and
DELETE on both backends, 0011 one refusing REPLACE on SQLite)."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata

__all__ = ["prevention_records"]

prevention_records = sa.Table(
    "prevention_records",
    metadata,
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
    sa.Index("ix_prevention_records_tenant_order", "tenant_id", "create_time", "id"),
    # Serves the policy filter and EvaluateGraduation's counts.
    sa.Index("ix_prevention_records_policy", "tenant_id", "policy_id", "create_time", "id"),
    sa.Index("ix_prevention_records_pattern", "tenant_id", "pattern_id", "create_time", "id"),
    sa.Index(
        "uq_prevention_records_request_id",
        "tenant_id",
        "request_id",
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    ),
)
