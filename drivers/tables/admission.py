"""Tables of admission control: reservations of admitted calls, per-integration policies and
per-model limits.

The usage events reservations turn into are `usage_events` (drivers/tables/integrations.py),
extended with the per-call columns by migration 0013_admission; a trigger (migration
0020_admission_periods) adds every inserted event to its 15-minute bucket in
`admission_usage_buckets`, so admission sums a period's usage from its buckets."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.tables.base import UtcDateTime, metadata

__all__ = [
    "admission_limit_events",
    "admission_limit_webhooks",
    "admission_model_limits",
    "admission_policies",
    "admission_reservations",
    "admission_usage_buckets",
    "admission_webhook_outbox",
]

admission_reservations = sa.Table(
    "admission_reservations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column(
        "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False
    ),
    sa.Column("call_id", sa.String(128), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("estimated_input_tokens", sa.BigInteger, nullable=False),
    sa.Column("estimated_output_tokens", sa.BigInteger, nullable=False),
    sa.Column("estimated_cost_cents", sa.BigInteger, nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Column("expire_time", UtcDateTime, nullable=False),
    sa.Column("settle_time", UtcDateTime, nullable=True),
    sa.Index("uq_admission_reservations_call", "tenant_id", "call_id", unique=True),
    sa.Index("ix_admission_reservations_open", "integration_id", "state", "expire_time"),
    sa.Index("ix_admission_reservations_recent", "integration_id", "create_time"),
    sa.Index("ix_admission_reservations_tenant_open", "tenant_id", "state", "expire_time"),
)

admission_policies = sa.Table(
    "admission_policies",
    metadata,
    sa.Column(
        "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), primary_key=True
    ),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("tokens_per_minute", sa.BigInteger, nullable=False),
    sa.Column("max_parallel_calls", sa.Integer, nullable=False),
    sa.Column("reservation_ttl_ms", sa.BigInteger, nullable=False),
    sa.Column("warn_percent", sa.Integer, nullable=False),
    sa.Column("update_time", UtcDateTime, nullable=False),
    # The period budget and token limits count over (engines/admission/periods.py).
    sa.Column("period_kind", sa.String(8), nullable=False, server_default="month"),
    sa.Column("period_time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("period_anchor", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rolling_window_ms", sa.BigInteger, nullable=False, server_default="0"),
    # Admit unchecked while the database is unavailable (migration 0022; docs/admission.md).
    sa.Column("fail_open", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Limits of one model of an integration, checked beside the integration's own; 0: unlimited.
admission_model_limits = sa.Table(
    "admission_model_limits",
    metadata,
    sa.Column(
        "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), primary_key=True
    ),
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("budget_limit_cents", sa.BigInteger, nullable=False),
    sa.Column("token_limit", sa.BigInteger, nullable=False),
    sa.Column("rate_limit_rpm", sa.Integer, nullable=False),
    sa.Column("tokens_per_minute", sa.BigInteger, nullable=False),
    sa.Column("max_parallel_calls", sa.Integer, nullable=False),
)

# Cost and tokens of an integration's usage events per 15-minute UTC bucket: model '' holds every
# event of the integration, model X (non-empty) only X's. Kept by a trigger on usage_events
# (migration 0020_admission_periods) whichever path inserts the event.
admission_usage_buckets = sa.Table(
    "admission_usage_buckets",
    metadata,
    sa.Column("integration_id", sa.String(36), primary_key=True),
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("bucket_start", UtcDateTime, primary_key=True),
    sa.Column("cost_cents", sa.BigInteger, nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
)

# Soft-threshold crossings (migration 0021). `sequence` orders a tenant's events in commit order
# (inserts take the tenant's event lock) and is the cursor of WatchLimitEvents; the unique key
# makes a crossing exactly once per threshold and period.
admission_limit_events = sa.Table(
    "admission_limit_events",
    metadata,
    sa.Column(
        "sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
        autoincrement=True,
    ),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column(
        "integration_id", sa.String(36), sa.ForeignKey("integrations.id"), nullable=False
    ),
    sa.Column("limit_kind", sa.String(32), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("threshold_percent", sa.Integer, nullable=False),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("period_end", UtcDateTime, nullable=False),
    sa.Column("used", sa.BigInteger, nullable=False),
    sa.Column("reserved", sa.BigInteger, nullable=False),
    sa.Column("limit_value", sa.BigInteger, nullable=False),
    sa.Column("create_time", UtcDateTime, nullable=False),
    sa.Index(
        "uq_admission_limit_events_crossing",
        "tenant_id", "integration_id", "limit_kind", "model", "threshold_percent", "period_start",
        unique=True,
    ),
    sa.Index("ix_admission_limit_events_tenant_order", "tenant_id", "create_time", "id"),
    sa.Index("ix_admission_limit_events_tenant_sequence", "tenant_id", "sequence"),
    sqlite_autoincrement=True,
)

# A tenant's webhook for limit events; the signing secret is a credential (`secret_ref`).
admission_limit_webhooks = sa.Table(
    "admission_limit_webhooks",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret_ref", sa.String(512), nullable=False),
    sa.Column("update_time", UtcDateTime, nullable=False),
)

# The transactional outbox of webhook deliveries: a row per event inserted with the event.
admission_webhook_outbox = sa.Table(
    "admission_webhook_outbox",
    metadata,
    sa.Column(
        "event_id", sa.String(36), sa.ForeignKey("admission_limit_events.id"), primary_key=True
    ),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_time", UtcDateTime, nullable=False),
    sa.Column("delivered_time", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.String(512), nullable=False),
    sa.Index("ix_admission_webhook_outbox_due", "delivered_time", "next_attempt_time"),
)
