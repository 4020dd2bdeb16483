"""Settings of `integrations-service serve`, each settable by flag or environment variable."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.database import DEFAULT_DATABASE_URL
from engines.health import HealthSettings

__all__ = ["ServeConfig"]


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything the composition root needs to build and run the server."""

    listen: str = "127.0.0.1:50051"
    database_url: str = DEFAULT_DATABASE_URL
    apply_migrations: bool = True
    grace_seconds: float = 10.0
    max_message_bytes: int = 4 * 1024 * 1024
    readiness_interval_seconds: float = 2.0
    # SQL gateway (issue 6): connection pools to tenant databases.
    sql_pool_size: int = 10
    sql_max_pools: int = 32
    sql_pool_idle_seconds: float = 300.0
    # Health checks (issue 4).
    health: HealthSettings = HealthSettings()
