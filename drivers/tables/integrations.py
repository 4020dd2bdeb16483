"""Tables of LLM provider integrations and the usage events their limits are measured against."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata, request_columns, resource_table

__all__ = ["integrations", "usage_events"]

integrations = resource_table(
    "integrations",
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("provider_type", sa.String(32), nullable=False),
    sa.Column("credential_ref", sa.Text, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("default_model", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("health_state", sa.String(16), nullable=False),
    sa.Column("health_message", sa.Text, nullable=False),
    sa.Column("health_checked_at", UtcDateTime, nullable=True),
    sa.Column("budget_limit_cents", sa.BigInteger, nullable=False),
    sa.Column("token_limit_month", sa.BigInteger, nullable=False),
    sa.Column("rate_limit_rpm", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    # Health (migration 0003_health): latest probe details and the probe claim.
    sa.Column("health_latency_ms", sa.BigInteger, nullable=True),
    sa.Column("health_error_code", sa.String(64), nullable=True),
    sa.Column("health_claimed_at", UtcDateTime, nullable=True),
    # Circuit breaking (migration 0015_health_circuit).
    sa.Column("health_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("circuit_opened_at", UtcDateTime, nullable=True),
    sa.Column("circuit_reason", sa.Text, nullable=True),
    sa.Column("health_next_probe_at", UtcDateTime, nullable=True),
)

usage_events = sa.Table(
    "usage_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_cents", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    *request_columns(),
    sa.Column("create_time", UtcDateTime, nullable=False),
    # Admission (migration 0013_admission): the per-call fields of the original engines' usage
    # schema; events written by RecordUsage leave them at their defaults.
    sa.Column("call_id", sa.String(128), nullable=True),
    sa.Column("reservation_id", sa.String(36), nullable=True),
    sa.Column("model", sa.String(256), nullable=False, server_default=""),
    sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("latency_ms", sa.BigInteger, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False, server_default="success"),
    sa.Column("error_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("session_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("agent_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("policy_result", sa.String(8), nullable=True),
    sa.Column("call_metadata", sa.JSON, nullable=True),
    sa.Index("ix_usage_events_integration_time", "integration_id", "occurred_at"),
    sa.Index(
        "uq_usage_events_call_id",
        "tenant_id",
        "call_id",
        unique=True,
        sqlite_where=sa.text("call_id IS NOT NULL"),
        postgresql_where=sa.text("call_id IS NOT NULL"),
    ),
    sa.Index("ix_usage_events_tenant_time", "tenant_id", "occurred_at"),
    sa.Index(
        "uq_usage_events_request_id",
        "tenant_id",
        "request_id",
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    ),
)
