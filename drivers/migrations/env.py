"""Alembic environment: runs on the connection `drivers/kernel/migrator.py` hands over."""

from __future__ import annotations

from alembic import context

from drivers.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `integrations-service migrate`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
