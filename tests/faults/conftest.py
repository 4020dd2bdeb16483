"""Fixtures of the fault tests: a private PostgreSQL cluster they may stop and start."""

from __future__ import annotations

from tests.private_postgres import private_postgres_cluster

__all__ = ["private_postgres_cluster"]
