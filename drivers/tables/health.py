"""History of health probes of integrations, kept for a bounded period for trends."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata

__all__ = ["health_checks"]

health_checks = sa.Table(
    "health_checks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False),
    sa.Column("health_state", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(64), nullable=False),
    sa.Column("latency_ms", sa.BigInteger, nullable=False),
    sa.Column("checked_at", UtcDateTime, nullable=False),
    # Migration 0015_health_circuit: the probe's message and the circuit after it.
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("circuit_event", sa.String(16), nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=True),
    sa.Index("ix_health_checks_integration_time", "tenant_id", "integration_id", "checked_at"),
    sa.Index("ix_health_checks_tenant_time", "tenant_id", "checked_at"),
)
