"""The real `engines.connectors.connection_tester.ConnectionTester`: an httpx GET, an asyncpg `SELECT 1` and
an asyncio TCP connect, each under one overall timeout, with failures turned into actionable,
secret-free messages (refused, timed out, auth failed, DNS, TLS, HTTP status).

Every attempt goes through the egress guard first: a refused destination raises
`EgressDenied` (FAILED_PRECONDITION) before any packet is sent, instead of an outcome."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from drivers.egress.guard import EgressGuard, guarded_http_client, postgres_connect_arguments
from engines.connectors.connection_tester import ConnectionOutcome, PostgresTarget, SslMode
from engines.data_sources.discovery import DiscoveredColumn, DiscoveredTable
from engines.egress.policy import Destination, EgressDenied, TargetKind

__all__ = ["NetworkConnectionTester"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432}
# What the login may see of user tables and views, system schemas left out, in a stable order.
# Tables come first (limited), then their columns, so one wide table cannot starve the rest.
_CATALOG_TABLES = """
SELECT c.oid, n.nspname, c.relname, c.relkind::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
LIMIT $1
"""
_CATALOG_COLUMNS = """
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
LIMIT $2
"""
_KINDS = {"r": "table", "v": "view", "m": "materialized_view", "f": "foreign", "p": "partitioned"}


def _target_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return "the target"
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _classify(exc: BaseException, target: str, timeout: float) -> tuple[str, str]:
    """(error_code, message) for a failed attempt. Exception texts that could echo a secret
    (a DSN, a URL) are never copied into the message."""
    chain = _causes(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return "timed_out", (
            f"no answer from {target} within {timeout:g} s: check that the host is reachable "
            "and not firewalled, or raise timeout_seconds"
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text:
        return "dns", (
            f"the host name of {target} could not be resolved (DNS): check the spelling and "
            "that the name exists"
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "refused", (
            f"connection refused by {target}: is the service running and listening on that "
            "port?"
        )
    if any(
        isinstance(e, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError)
        for e in chain
    ):
        return "auth_failed", (
            f"PostgreSQL at {target} rejected the user or password: check the stored credential"
        )
    if any(isinstance(e, asyncpg.InvalidCatalogNameError) for e in chain):
        return "database_error", (
            f"PostgreSQL at {target} has no such database: check the database name"
        )
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text:
        return "tls", (
            f"TLS with {target} failed (server without TLS, or certificate not trusted for "
            "this host name): check ssl_enabled / ssl_verify"
        )
    if any(isinstance(e, httpx.ProtocolError) for e in chain):
        return "protocol_error", (
            f"{target} accepted the connection but did not answer in HTTP/1.1: is the endpoint "
            "an HTTP server, and is the scheme (http/https) right?"
        )
    for error in chain:
        if isinstance(error, asyncpg.PostgresError):
            return "database_error", (
                f"PostgreSQL at {target} refused the session ({type(error).__name__}, SQLSTATE "
                f"{getattr(error, 'sqlstate', '?')})"
            )
    for error in chain:
        if isinstance(error, OSError) and error.strerror:
            return "unreachable", f"could not connect to {target}: {error.strerror}"
    return "unreachable", f"could not connect to {target} ({type(exc).__name__})"


def _failure(
    method: str, target: str, started: float, exc: BaseException, timeout: float
) -> ConnectionOutcome:
    code, message = _classify(exc, target, timeout)
    return ConnectionOutcome(
        success=False,
        latency_ms=_elapsed_ms(started),
        error=message,
        error_code=code,
        details={"method": method, "target": target, "error_code": code},
    )


def _elapsed_ms(started: float) -> int:
    return int(round((time.perf_counter() - started) * 1000))


def _ssl_argument(mode: SslMode) -> Any:
    if mode is SslMode.DISABLE:
        return False
    if mode is SslMode.REQUIRE:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode is SslMode.VERIFY_FULL:
        return ssl.create_default_context()
    return None  # asyncpg reads sslmode from the DSN


class NetworkConnectionTester:
    """Reaches targets over the network for real, where `egress` allows; never raises for a
    failed attempt, only for a refused destination (EgressDenied)."""

    def __init__(self, *, egress: EgressGuard) -> None:
        self._egress = egress

    @contextlib.asynccontextmanager
    async def _postgres(
        self, target: PostgresTarget, timeout: float
    ) -> AsyncIterator[asyncpg.Connection]:
        """A connection to `target` through the egress guard's pinned address, closed after."""
        pinned = await postgres_connect_arguments(self._egress, target.dsn, _ssl_argument(target.ssl))
        conn = await asyncpg.connect(dsn=target.dsn, timeout=timeout, **pinned)
        try:
            yield conn
        finally:
            await conn.close(timeout=timeout)

    async def http_get(
        self,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> ConnectionOutcome:
        target, started = _target_of(url), time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                async with guarded_http_client(
                    self._egress, timeout=timeout, verify=verify_tls
                ) as client:
                    response = await client.get(url, headers=dict(headers or {}))
        except EgressDenied:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return _failure("http_get", target, started, exc, timeout)
        status = response.status_code
        details = {"method": "http_get", "target": target, "http_status": status}
        if 200 <= status < 400:
            return ConnectionOutcome(True, _elapsed_ms(started), details=details)
        if status in (401, 403):
            code = "auth_failed"
            message = (
                f"HTTP {status} from {target}: the endpoint rejected the credentials; check the "
                "stored token or API key"
            )
        else:
            code = "http_status"
            message = f"HTTP {status} from {target}: the endpoint answered with an error status"
        return ConnectionOutcome(
            False, _elapsed_ms(started), message, code, details | {"error_code": code}
        )

    async def postgres_select_one(
        self, target: PostgresTarget, *, timeout: float
    ) -> ConnectionOutcome:
        where, started = _target_of(target.dsn), time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                async with self._postgres(target, timeout) as conn:
                    answer = await conn.fetchval("SELECT 1")
        except EgressDenied:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return _failure("postgres_select_one", where, started, exc, timeout)
        details = {"method": "postgres_select_one", "target": where, "result": answer}
        return ConnectionOutcome(answer == 1, _elapsed_ms(started), details=details)

    async def postgres_catalog(
        self, target: PostgresTarget, *, timeout: float, max_tables: int, max_columns: int
    ) -> tuple[ConnectionOutcome, list[DiscoveredTable], bool]:
        where, started = _target_of(target.dsn), time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                async with self._postgres(target, timeout) as conn, conn.transaction(readonly=True):
                    relations = await conn.fetch(_CATALOG_TABLES, max_tables + 1)
                    oids = [r[0] for r in relations[:max_tables]]
                    columns = await conn.fetch(_CATALOG_COLUMNS, oids, max_columns + 1)
        except EgressDenied:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return _failure("postgres_catalog", where, started, exc, timeout), [], False
        by_table: dict[int, list[DiscoveredColumn]] = {oid: [] for oid in oids}
        for oid, name, data_type, nullable in columns[:max_columns]:
            by_table[oid].append(DiscoveredColumn(name, data_type, bool(nullable)))
        tables = [
            DiscoveredTable(r[1], r[2], _KINDS.get(r[3], "table"), tuple(by_table[r[0]]))
            for r in relations[:max_tables]
        ]
        truncated = len(relations) > max_tables or len(columns) > max_columns
        details = {"method": "postgres_catalog", "target": where, "tables": len(tables)}
        return ConnectionOutcome(True, _elapsed_ms(started), details=details), tables, truncated

    async def http_describe(
        self,
        url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> tuple[ConnectionOutcome, dict[str, str]]:
        target, started = _target_of(url), time.perf_counter()
        found: dict[str, str] = {}
        try:
            async with asyncio.timeout(timeout):
                async with guarded_http_client(
                    self._egress, timeout=timeout, verify=verify_tls
                ) as client:
                    for method in ("HEAD", "OPTIONS"):
                        # stream: the headers arrive, the body is never read
                        async with client.stream(method, url, headers=dict(headers or {})) as answer:
                            prefix = method.lower()
                            found[f"{prefix}_status"] = str(answer.status_code)
                            for header in ("content-type", "allow", "server"):
                                if header in answer.headers:
                                    found[f"{prefix}_{header.replace('-', '_')}"] = (
                                        answer.headers[header][:256]
                                    )
        except EgressDenied:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return _failure("http_describe", target, started, exc, timeout), found
        details = {"method": "http_describe", "target": target}
        return ConnectionOutcome(True, _elapsed_ms(started), details=details), found

    async def tcp_connect(self, host: str, port: int, *, timeout: float) -> ConnectionOutcome:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                _, writer = await self._egress.open_tcp(Destination(host, port, TargetKind.TCP))
                writer.close()
                await writer.wait_closed()
        except EgressDenied:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return _failure("tcp_connect", where, started, exc, timeout)
        return ConnectionOutcome(
            True, _elapsed_ms(started), details={"method": "tcp_connect", "target": where}
        )
