"""The newest revision of every migration branch. `drivers/kernel/migrator.upgrade` compares a
database's `alembic_version` rows with these and, when they are exactly these, starts without
importing Alembic at all (most of a restart's import time). A new migration must replace its
parent here; tests/drivers/test_migrations.py fails, naming the heads, when this is stale."""

from __future__ import annotations

HEADS = frozenset({
    "0011_prevention_append_sqlite",
    "0012_request_digests",
    "0014_tenant_data_keys",
    "0015_health_circuit",
    "0016_template_versions",
    "0017_integrations_notify",
    "0018_data_source_roles",
    "0019_credential_rotation",
    "0023_sql_gateway_notify",
})
