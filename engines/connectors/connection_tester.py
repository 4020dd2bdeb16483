"""The port both connectors and data sources use to really reach a target: an HTTP GET, a
PostgreSQL `SELECT 1`, or a TCP connect, each bounded by a timeout, and the outcome they report.

Outcomes carry an actionable, secret-free `error` and a short `error_code` (refused, timed_out,
auth_failed, dns, http_status, tls, database_error, ...)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engines.data_sources.discovery import DiscoveredTable
from engines.kernel.errors import InvalidArgument

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_TIMEOUT_SECONDS",
    "ConnectionOutcome",
    "ConnectionTester",
    "PostgresTarget",
    "SslMode",
    "failed_before_trying",
    "timeout_of",
]

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 300.0


class SslMode(enum.StrEnum):
    """TLS towards a PostgreSQL server."""

    DISABLE = "disable"
    REQUIRE = "require"  # encrypted, certificate not verified
    VERIFY_FULL = "verify-full"  # encrypted, certificate and host name verified
    FROM_DSN = "from-dsn"  # whatever the connection string's sslmode says


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A PostgreSQL server to connect to. `dsn` may hold a password: never print it."""

    dsn: str
    ssl: SslMode = SslMode.DISABLE

    def __repr__(self) -> str:
        return f"PostgresTarget(dsn='***', ssl={self.ssl.value!r})"


@dataclass(frozen=True, slots=True)
class ConnectionOutcome:
    """What one attempt found. `error` is empty on success and never contains a secret."""

    success: bool
    latency_ms: int
    error: str = ""
    error_code: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


def failed_before_trying(error_code: str, error: str, **details: Any) -> ConnectionOutcome:
    """An outcome for a test that could not even start (nothing to reach, no usable secret)."""
    return ConnectionOutcome(
        success=False, latency_ms=0, error=error, error_code=error_code,
        details={"error_code": error_code, **details},
    )


def timeout_of(field_name: str, value: Any) -> float | None:
    """A `timeout_seconds` option: a number in (0, MAX_TIMEOUT_SECONDS]; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument.single(field_name, "must be a number of seconds")
    if not 0 < value <= MAX_TIMEOUT_SECONDS:
        raise InvalidArgument.single(
            field_name, f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds"
        )
    return float(value)


class ConnectionTester(Protocol):
    """Reaches targets for real. Implementations never raise for a failed attempt: they report
    it in the outcome."""

    async def http_get(
        self,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> ConnectionOutcome:
        """GETs `url`; 2xx and 3xx are success (redirects are not followed)."""
        ...

    async def postgres_select_one(self, target: PostgresTarget, *, timeout: float) -> ConnectionOutcome:
        """Connects to PostgreSQL and runs `SELECT 1`."""
        ...

    async def tcp_connect(self, host: str, port: int, *, timeout: float) -> ConnectionOutcome:
        """Opens (and closes) a TCP connection."""
        ...

    async def postgres_catalog(
        self, target: PostgresTarget, *, timeout: float, max_tables: int, max_columns: int
    ) -> tuple[ConnectionOutcome, list[DiscoveredTable], bool]:
        """Connects read-only and lists the tables and views the login may see (system schemas
        left out) with their columns: (outcome, `DiscoveredTable`s, truncated)."""
        ...

    async def http_describe(
        self,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> tuple[ConnectionOutcome, dict[str, str]]:
        """A HEAD and an OPTIONS of `url` (bodies never read): the outcome and what the
        headers say (status, content_type, allow)."""
        ...
