"""`engines.sql_gateway.QueryRunner` on asyncpg: pooled connections to tenant PostgreSQL databases.

- One pool per target database, keyed by a digest of the resolved connection string; pools are
  bounded in size and number, closed when idle, and closed when the credential behind a gateway
  resolves to a different connection string (rotation).
- Every query runs in its own transaction, READ ONLY when asked, with `statement_timeout` set
  for the transaction; the client enforces the same limit plus a grace period, and cancelling a
  running query (timeout or a caller hanging up) cancels it on the server.
- Rows are read through a portal (a protocol-level cursor) in batches of at most 100, and reading
  stops as soon as the row or byte cap is reached, so a query producing millions of rows costs
  the cap.
- Values are bound as parameters of a prepared statement; the SQL text is the template's only.
- A pool is opened only to a destination the egress guard allows, and its connections go to
  the address that was checked (pinned for the pool's life).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from drivers.egress import EgressGuard, postgres_connect_arguments
from engines.egress import EgressDenied
from engines.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ServiceError,
    Unavailable,
)
from engines.sql_gateway import BoundQuery, QueryLimits, QueryTarget
from engines.sql_results import QueryResult, ResultBuilder

__all__ = ["PostgresQueryRunner", "to_json_value"]

log = logging.getLogger("integrations.sql_gateway")

_MAX_SAFE_INTEGER = 2**53
_MAX_EXACT_DIGITS = 15  # every decimal of at most 15 significant digits survives a double
_BATCH = 100  # rows per round trip; bounds what is held beyond the caps
_ARGUMENT_RE = re.compile(r"query argument \$(\d+)")
_APPLICATION_NAME = "integrations-sql-gateway"


def to_json_value(value: Any) -> Any:
    """Maps a value asyncpg returned to a JSON-like value (docs/sql_gateway.md has the table).

    Integers beyond +-2^53 and NUMERICs of more than 15 significant digits become strings, so
    no client silently loses precision."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Decimal):
        if value.is_finite() and len(value.as_tuple().digits) <= _MAX_EXACT_DIGITS:
            return float(value)
        return "NaN" if value.is_nan() else str(value)
    if isinstance(value, (datetime, date, clock_time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    return str(value)


def _unique_columns(names: Sequence[str]) -> list[str]:
    """Column names as row keys: a repeated name gets a suffix (id, id_2), keeping order."""
    taken: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        result.append(candidate)
    return result


async def _fetch_capped(
    conn: asyncpg.Connection, query: BoundQuery, limits: QueryLimits
) -> QueryResult:
    # The first batch is bound and executed in one round trip; later ones follow as needed.
    batch = max(1, min(limits.max_rows + 1, _BATCH))
    builder: ResultBuilder | None = None
    async for record in conn.cursor(query.sql, *query.values, prefetch=batch):
        if builder is None:
            builder = _builder(list(record.keys()), limits)
        if not builder.offer([to_json_value(v) for v in record.values()]):
            break
    if builder is None:
        builder = _builder(await _statement_columns(conn, query), limits)
    return builder.build()


def _builder(names: Sequence[str], limits: QueryLimits) -> ResultBuilder:
    return ResultBuilder(
        _unique_columns(names), max_rows=limits.max_rows, max_result_bytes=limits.max_result_bytes
    )


async def _statement_columns(conn: asyncpg.Connection, query: BoundQuery) -> list[str]:
    # Only for empty results (no record to read the names from).
    statement = await conn.prepare(query.sql)
    return [attribute.name for attribute in statement.get_attributes()]


async def _run_in_transaction(
    conn: asyncpg.Connection, query: BoundQuery, limits: QueryLimits
) -> QueryResult:
    """Runs the query in its own transaction and leaves the session as a fresh connection's.

    Round trips are what an ExecuteQuery costs, so the transaction's start is one simple query,
    and its end is one more that also resets the session (instead of the pool's own reset)."""
    mode = "READ ONLY" if limits.read_only else "READ WRITE"
    timeout_ms = max(1, int(limits.timeout_seconds * 1000))
    reset = conn.get_reset_query()
    # SET takes no bind parameters; both values are ours (a mode and an int), never caller input.
    await conn.execute(f"BEGIN {mode}; SET LOCAL statement_timeout = {timeout_ms}")
    try:
        result = await _fetch_capped(conn, query, limits)
        # A read-only query ends in ROLLBACK, which also undoes any session setting it changed.
        await conn.execute(f"{'ROLLBACK' if limits.read_only else 'COMMIT'}; {reset}")
    except BaseException:
        await _abandon(conn, reset)
        raise
    return result


async def _abandon(conn: asyncpg.Connection, reset: str) -> None:
    """Rolls back after an error or a cancellation; asyncpg first waits until the server has
    cancelled the running statement. A connection that cannot be cleaned is dropped."""
    try:
        await asyncio.shield(conn.execute(f"ROLLBACK; {reset}"))
    except (Exception, asyncio.CancelledError):
        conn.terminate()


async def _session_already_reset(conn: asyncpg.Connection) -> None:
    """Pool reset hook: `_run_in_transaction` reset the session in its last round trip."""


_PG_EPOCH = datetime(2000, 1, 1)
_PG_INFINITY = 2**63 - 1


def _encode_timestamp(value: datetime) -> tuple[int]:
    # TIMESTAMP parameters are aware instants; a `timestamp without time zone` placeholder
    # receives the UTC wall time instead of asyncpg refusing the aware value.
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    delta = value - _PG_EPOCH
    return ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds,)


def _decode_timestamp(value: tuple[int]) -> datetime:
    micros = value[0]
    if abs(micros) >= _PG_INFINITY:
        return datetime.max if micros > 0 else datetime.min
    return _PG_EPOCH + timedelta(microseconds=micros)


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    """Pool init hook, once per new connection."""
    await conn.set_type_codec(
        "timestamp",
        schema="pg_catalog",
        encoder=_encode_timestamp,
        decoder=_decode_timestamp,
        format="tuple",
    )


def _scrub(message: str, connection_string: str) -> str:
    """Removes the connection string and its password from a database message."""
    secrets = [connection_string]
    try:
        password = urlsplit(connection_string).password
    except ValueError:
        password = None
    if password:
        secrets.append(password)
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _query_error(exc: Exception, query: BoundQuery, connection_string: str) -> ServiceError:
    """The engine error for a failure while the statement ran."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        return DeadlineExceeded(
            "the query ran past its time limit and was cancelled on the database server",
            reason="QUERY_TIMEOUT",
        )
    if isinstance(exc, asyncpg.DataError):
        # Raised before sending: a value does not fit the type the database expects.
        match = _ARGUMENT_RE.search(str(exc))
        index = int(match.group(1)) - 1 if match else -1
        name = query.parameter_names[index] if 0 <= index < len(query.parameter_names) else ""
        return InvalidArgument.single(
            f"parameters.{name}" if name else "parameters",
            "does not match the type the database expects for its placeholder",
            reason="TARGET_REJECTED_VALUE",
        )
    message = _scrub(getattr(exc, "message", "") or str(exc), connection_string)
    sqlstate = getattr(exc, "sqlstate", "") or ""
    metadata = {"sqlstate": sqlstate}
    if sqlstate == "25006":
        return FailedPrecondition(
            "READ_ONLY_TRANSACTION",
            f"the database refused to write in a read-only transaction: {message}",
            metadata=metadata,
        )
    if sqlstate.startswith("22"):
        return InvalidArgument.single(
            "parameters", f"the database rejected a value: {message}",
            reason="TARGET_REJECTED_VALUE", metadata=metadata,
        )
    return FailedPrecondition(
        "TARGET_QUERY_FAILED", f"the target database refused the query: {message}", metadata=metadata
    )


def _connect_error(exc: BaseException) -> ServiceError:
    """The engine error for a failure to open a connection; never the connection string."""
    if isinstance(exc, (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError)):
        return FailedPrecondition(
            "TARGET_AUTH_FAILED", "the target database refused the gateway's credentials"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return FailedPrecondition(
            "TARGET_DATABASE_MISSING", "the gateway's target database does not exist"
        )
    if isinstance(exc, (asyncpg.ClientConfigurationError, ValueError)):
        return FailedPrecondition(
            "GATEWAY_TARGET_INVALID", "the gateway's connection string is not usable"
        )
    return Unavailable("the gateway's target database is unreachable; retry later")


async def _acquire(pool: asyncpg.Pool) -> asyncpg.Connection:
    try:
        return await pool.acquire()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError, TimeoutError) as exc:
        # TimeoutError here is asyncpg's connect timeout, not the caller's deadline.
        raise _connect_error(exc) from None


@dataclass(eq=False)
class _PoolEntry:
    pool: asyncpg.Pool
    sources: set[str] = field(default_factory=set)
    in_use: int = 0
    last_used: float = 0.0
    retired: bool = False


class PostgresQueryRunner:
    """Runs bound template queries on tenant PostgreSQL databases through bounded pools."""

    def __init__(
        self,
        *,
        egress: EgressGuard,
        pool_size: int = 10,
        max_pools: int = 32,
        idle_seconds: float = 300.0,
        connect_timeout: float = 5.0,
        client_grace_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._egress = egress
        self._pool_size = pool_size
        self._max_pools = max_pools
        self._idle_seconds = idle_seconds
        self._connect_timeout = connect_timeout
        self._grace = client_grace_seconds
        self._now = monotonic
        self._pools: dict[str, _PoolEntry] = {}
        self._source_digest: dict[str, str] = {}
        self._lock = asyncio.Lock()

    @property
    def pool_count(self) -> int:
        """Open pools (for metrics and tests)."""
        return len(self._pools)

    def pool_sizes(self) -> list[int]:
        """Open connections of each pool (for metrics and tests)."""
        return [entry.pool.get_size() for entry in self._pools.values()]

    async def run(self, target: QueryTarget, query: BoundQuery, limits: QueryLimits) -> QueryResult:
        if not target.connection_string.startswith(("postgresql://", "postgres://")):
            raise FailedPrecondition(
                "GATEWAY_TARGET_UNSUPPORTED",
                "the gateway's connection string must be a postgresql:// URL",
            )
        entry = await self._checkout(target)
        try:
            # One budget for waiting on a connection and running: the statement's own timeout
            # fires first on the server; this one covers a database that stopped answering.
            async with asyncio.timeout(limits.timeout_seconds + self._grace):
                conn = await _acquire(entry.pool)
                try:
                    return await _run_in_transaction(conn, query, limits)
                finally:
                    await entry.pool.release(conn)
        except TimeoutError:
            raise DeadlineExceeded(
                "the query ran past its time limit and was cancelled", reason="QUERY_TIMEOUT"
            ) from None
        except (asyncpg.PostgresError, asyncpg.DataError) as exc:
            raise _query_error(exc, query, target.connection_string) from None
        except (OSError, asyncpg.InterfaceError) as exc:
            log.warning("sql gateway connection lost: %s", type(exc).__name__)
            raise Unavailable("the connection to the target database was lost; retry") from None
        finally:
            await self._checkin(entry)

    async def close(self) -> None:
        """Closes every pool (at shutdown)."""
        async with self._lock:
            entries = list(self._pools.values())
            self._pools.clear()
            self._source_digest.clear()
        await asyncio.gather(*(entry.pool.close() for entry in entries))

    async def _checkout(self, target: QueryTarget) -> _PoolEntry:
        digest = hashlib.sha256(target.connection_string.encode()).hexdigest()
        entry = self._pools.get(digest)
        if entry is None or self._source_digest.get(target.source) != digest:
            return await self._checkout_slow(target, digest)
        # No await since the lookup: nothing can retire the entry in between.
        entry.in_use += 1
        entry.last_used = self._now()
        return entry

    async def _checkout_slow(self, target: QueryTarget, digest: str) -> _PoolEntry:
        """First use of a target, or a rotated credential: the only path that opens pools."""
        pinned = await self._checked_destination(target.connection_string)
        to_close: list[_PoolEntry] = []
        async with self._lock:
            previous = self._source_digest.get(target.source)
            if previous is not None and previous != digest:
                to_close.extend(self._detach(target.source, previous))
            entry = self._pools.get(digest)
            if entry is None:
                to_close.extend(self._make_room(self._now()))
                entry = _PoolEntry(pool=await self._new_pool(target.connection_string, pinned))
                self._pools[digest] = entry
            entry.sources.add(target.source)
            self._source_digest[target.source] = digest
            entry.in_use += 1  # before any await, so no other call can retire it as idle
            entry.last_used = self._now()
        await self._close_all(to_close)
        return entry

    async def _checkin(self, entry: _PoolEntry) -> None:
        entry.in_use -= 1
        entry.last_used = self._now()
        if entry.retired and entry.in_use == 0:
            await entry.pool.close()

    async def _checked_destination(self, connection_string: str) -> dict[str, Any]:
        """asyncpg arguments pinning the egress-checked address; raises EgressDenied."""
        try:
            return await postgres_connect_arguments(self._egress, connection_string)
        except EgressDenied:
            raise
        except (OSError, ValueError) as exc:  # an unresolvable name, a bad port
            raise _connect_error(exc) from None

    def _new_pool(self, connection_string: str, pinned: dict[str, Any]) -> asyncpg.Pool:
        # min_size=0: no connection is opened here; the first acquire connects.
        return asyncpg.create_pool(
            connection_string,
            **pinned,
            min_size=0,
            max_size=self._pool_size,
            max_inactive_connection_lifetime=self._idle_seconds,
            timeout=self._connect_timeout,
            command_timeout=None,
            server_settings={"application_name": _APPLICATION_NAME},
            reset=_session_already_reset,
            init=_prepare_connection,
        )

    def _detach(self, source: str, digest: str) -> list[_PoolEntry]:
        """The credential behind `source` rotated: its old pool goes once nothing else uses it."""
        entry = self._pools.get(digest)
        if entry is None:
            return []
        entry.sources.discard(source)
        if entry.sources:
            return []
        del self._pools[digest]
        entry.retired = True
        return [entry] if entry.in_use == 0 else []

    def _make_room(self, now: float) -> list[_PoolEntry]:
        """Retires idle pools, and the least recently used one when the pool count is at its cap."""
        idle = sorted(
            (e for e in self._pools.values() if e.in_use == 0), key=lambda e: e.last_used
        )
        stale = [e for e in idle if now - e.last_used >= self._idle_seconds]
        if len(self._pools) - len(stale) >= self._max_pools:
            if len(idle) == len(stale):
                raise Unavailable("too many target databases are in use at once; retry later")
            stale.append(idle[len(stale)])
        for entry in stale:
            self._forget(entry)
        return stale

    def _forget(self, entry: _PoolEntry) -> None:
        for digest, candidate in list(self._pools.items()):
            if candidate is entry:
                del self._pools[digest]
        for source in entry.sources:
            self._source_digest.pop(source, None)
        entry.retired = True

    @staticmethod
    async def _close_all(entries: Sequence[_PoolEntry]) -> None:
        await asyncio.gather(*(entry.pool.close() for entry in entries))
