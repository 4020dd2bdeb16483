"""Table of prevention records: append-only (migration 0006 installs triggers refusing UPDATE and
DELETE on both backends, 0011 one refusing REPLACE on SQLite)."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import resource_table

__all__ = ["prevention_records"]

prevention_records = resource_table(
    "prevention_records",
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
    # Serves the policy filter and EvaluateGraduation's counts.
    sa.Index("ix_prevention_records_policy", "tenant_id", "policy_id", "create_time", "id"),
    sa.Index("ix_prevention_records_pattern", "tenant_id", "pattern_id", "create_time", "id"),
    unique_name=None,
    mutable=False,
)
