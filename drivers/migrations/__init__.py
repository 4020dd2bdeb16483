"""Alembic migrations of the service's own database, applied by `serve` and `migrate`."""
