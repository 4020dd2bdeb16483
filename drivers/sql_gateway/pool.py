"""`engines.sql_gateway.gateway.QueryRunner` on asyncpg: pooled connections to tenant PostgreSQL databases.

- One pool per gateway and mode (`QueryTarget.source`): connections are never shared between
  tenants, gateways, or read-only and read-write use. Pools are bounded in size and number,
  closed when idle, and replaced when the gateway's credential resolves to a different
  connection string (rotation).
- A new connection is refused when its role is a superuser or may read or write the server's
  files or run programs there (`pg_read_server_files`, `pg_write_server_files`,
  `pg_execute_server_program`): READ ONLY cannot hold such a role.
- Every query runs in its own transaction, READ ONLY when asked, with `statement_timeout` set
  for the transaction; the client enforces the same limit plus a grace period, and cancelling a
  running query (timeout or a caller hanging up) cancels it on the server.
- The connection goes back to its pool only after a full session reset (what `DISCARD ALL`
  does, which cannot run in the same round trip as the COMMIT), or is closed. The driver keeps
  no prepared statements across queries (`statement_cache_size=0`), so none can be read,
  replaced or reused by the next query.
- Rows are read through a portal (a protocol-level cursor) in batches sized by the rows seen so
  far and the bytes left under the cap, and reading stops as soon as the row or byte cap is
  reached, so a query producing millions of rows, or a few huge ones, costs about the cap.
- Values are bound as parameters; the SQL text is the template's only. drivers/sql_gateway/values.py
  says how values are encoded and rendered.
- A pool is opened only to a destination the egress guard allows, and its connections go to
  the address that was checked (pinned for the pool's life).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from drivers.egress.guard import EgressGuard, postgres_connect_arguments
from drivers.kernel.receive_limit import ReceiveLimit
from drivers.sql_gateway.values import (
    SESSION_SETTINGS,
    GatewayConnection,
    UnrenderableValue,
    install_text_codecs,
    to_json_value,
)
from engines.egress.policy import EgressDenied
from engines.kernel.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ServiceError,
    Unavailable,
)
from engines.sql_gateway.gateway import BoundQuery, QueryLimits, QueryTarget
from engines.sql_gateway.results import QueryResult, ResultBuilder, TruncationReason

__all__ = ["PostgresQueryRunner"]

log = logging.getLogger("integrations.sql_gateway")

_FIRST_BATCH = 2  # one round trip for the common zero- or one-row result, little memory if huge
_MAX_BATCH = 100
_RECEIVE_MARGIN = 256 * 1024  # protocol framing; a row's wire size is about its response size
_ARGUMENT_RE = re.compile(r"query argument \$(\d+)")
_APPLICATION_NAME = "integrations-sql-gateway"
# DISCARD ALL, spelled out: DISCARD ALL itself cannot run in a multi-statement round trip.
_SESSION_RESET = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD SEQUENCES; DISCARD TEMP"
)
_POWERFUL_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
_ROLE_CHECK = (
    "SELECT r.rolsuper, ARRAY(SELECT b.rolname FROM pg_roles b WHERE b.rolname = ANY($1::text[])"
    " AND pg_has_role(session_user, b.oid, 'MEMBER') ORDER BY b.rolname)"
    " FROM pg_roles r WHERE r.rolname = session_user"
)


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


class _ResultTooLarge(Exception):
    """The rows arriving passed the receive limit; the connection was aborted."""


async def _fetch_capped(
    conn: asyncpg.Connection, query: BoundQuery, limits: QueryLimits, limit: ReceiveLimit
) -> QueryResult:
    """Reads rows until a cap is reached. Each batch asks for as many rows as could still fit
    if they were as large as the largest row so far (plus one, to tell whether more exist), and
    the connection receives at most the byte cap plus a margin, so a few huge rows cost about
    the cap, not their size."""
    # A named statement: asyncpg re-sends an unnamed one's Parse with the Bind when it keeps no
    # statement cache; a named one is parsed once. It lives until the session reset that ends
    # this query (DEALLOCATE ALL), like every statement of the query.
    statement = await conn.prepare(query.sql, name=conn._get_unique_id("stmt"))
    builder = _builder([attribute.name for attribute in statement.get_attributes()], limits)
    # The portal is bound and its first batch read in one round trip (Bind, Execute, Sync),
    # as asyncpg's cursor iterator does; later batches are one Execute each. The portal lives
    # until the transaction ends.
    protocol, state = conn._protocol, statement._state
    portal = conn._get_unique_id("portal")
    batch = min(limits.max_rows + 1, _FIRST_BATCH)
    limit.arm(limits.max_result_bytes + _RECEIVE_MARGIN)
    try:
        records, _, exhausted = await protocol.bind_execute(
            state, query.values, portal, batch, True, None
        )
        while True:
            for record in records:
                if not builder.offer([to_json_value(v) for v in record.values()]):
                    return builder.build()
            if exhausted or len(records) < batch:
                return builder.build()
            fitting = builder.remaining_bytes // max(1, builder.largest_row_bytes)
            batch = max(1, min(_MAX_BATCH, builder.remaining_rows + 1, fitting + 1))
            records, _, exhausted = await protocol.execute(state, portal, batch, True, None)
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
        if not limit.exceeded:
            raise
        if not limits.read_only:
            raise _ResultTooLarge() from None
        builder.stop(TruncationReason.MAX_RESULT_BYTES)
        return builder.build()
    finally:
        limit.disarm()


def _builder(names: Sequence[str], limits: QueryLimits) -> ResultBuilder:
    return ResultBuilder(
        _unique_columns(names), max_rows=limits.max_rows, max_result_bytes=limits.max_result_bytes
    )


async def _run_in_transaction(
    conn: asyncpg.Connection, query: BoundQuery, limits: QueryLimits
) -> QueryResult:
    """Runs the query in its own transaction and leaves the session as a fresh connection's.

    Round trips are what an ExecuteQuery costs, so the transaction's start is one simple query,
    and its end is one more that also resets the session (instead of the pool's own reset)."""
    mode = "READ ONLY" if limits.read_only else "READ WRITE"
    timeout_ms = max(1, int(limits.timeout_seconds * 1000))
    # SET takes no bind parameters; both values are ours (a mode and an int), never caller input.
    await conn.execute(f"BEGIN {mode}; SET LOCAL statement_timeout = {timeout_ms}")
    limit: ReceiveLimit = conn.receive_limit
    try:
        result = await _fetch_capped(conn, query, limits, limit)
        if limit.exceeded:  # aborted below asyncpg, which has let go of it: nothing to end
            return result
        # A read-only query ends in ROLLBACK, which also undoes any session setting it changed.
        await conn.execute(f"{'ROLLBACK' if limits.read_only else 'COMMIT'}; {_SESSION_RESET}")
        _forget_statements(conn)
    except BaseException:
        if not limit.exceeded:
            await _abandon(conn)
        raise
    return result


async def _abandon(conn: asyncpg.Connection) -> None:
    """Rolls back after an error or a cancellation; asyncpg first waits until the server has
    cancelled the running statement. A connection that cannot be cleaned is dropped."""
    try:
        await asyncio.shield(conn.execute(f"ROLLBACK; {_SESSION_RESET}"))
    except (Exception, asyncio.CancelledError):
        conn.terminate()
    else:
        _forget_statements(conn)


def _forget_statements(conn: asyncpg.Connection) -> None:
    """The session reset's DEALLOCATE ALL closed the query's statement on the server: asyncpg
    need not send a Close for it (one more round trip) before the next query's prepare."""
    conn._stmts_to_close.clear()


async def _session_already_reset(conn: asyncpg.Connection) -> None:
    """Pool reset hook: `_run_in_transaction` reset the session in its last round trip."""


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    """Pool init hook, once per new connection: refuses powerful roles, installs the codecs."""
    row = await conn.fetchrow(_ROLE_CHECK, list(_POWERFUL_ROLES))
    if row is not None and (row[0] or row[1]):
        what = "a superuser" if row[0] else "a member of " + " and ".join(row[1])
        raise FailedPrecondition(
            "GATEWAY_ROLE_TOO_POWERFUL",
            f"the gateway's database role is {what}, so it can reach the server's files or "
            "programs whatever READ ONLY says; connect as a role with only the privileges the "
            "templates need (docs/sql_gateway.md, 'A least-privilege role')",
            metadata={"role_attribute": "superuser" if row[0] else ",".join(row[1])},
        )
    install_text_codecs(conn)
    conn.receive_limit = ReceiveLimit(conn._transport)


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


def _blamed_field(query: BoundQuery) -> str:
    # A data error may come from a value or from the template's own arithmetic (`1/0`); only a
    # template with parameters can have been given a bad one.
    return "parameters" if query.parameter_names else "template_id"


def _query_error(exc: Exception, query: BoundQuery, connection_string: str) -> ServiceError:
    """The engine error for a failure while the statement ran."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        return DeadlineExceeded(
            "the query ran past its time limit and was cancelled on the database server",
            reason="QUERY_TIMEOUT",
        )
    match = _ARGUMENT_RE.search(str(exc)) if isinstance(exc, asyncpg.DataError) else None
    if match is not None:
        # Raised by the driver before sending: a value does not fit the placeholder's type.
        # (The database's own class 22 errors are asyncpg.DataError too; they follow below.)
        index = int(match.group(1)) - 1
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
    # run() passes only the InterfaceError of a wrong argument count (e.g. a `$2` the template's
    # declaration does not know about); 42P18 is a placeholder whose type cannot be inferred.
    if isinstance(exc, asyncpg.InterfaceError) or sqlstate in ("42P18", "08P01"):
        return InvalidArgument.single(
            "template_id",
            f"the template's SQL does not fit its declared parameters: {message}",
            reason="TEMPLATE_PARAMETERS_MISMATCH", metadata=metadata,
        )
    if sqlstate.startswith("22"):
        return InvalidArgument.single(
            _blamed_field(query), f"the database rejected a value: {message}",
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
    if isinstance(exc, OverflowError):
        return _bad_port()
    if isinstance(exc, (asyncpg.ClientConfigurationError, ValueError)):
        return FailedPrecondition(
            "GATEWAY_TARGET_INVALID", "the gateway's connection string is not usable"
        )
    return Unavailable("the gateway's target database is unreachable; retry later")


def _bad_port() -> InvalidArgument:
    return InvalidArgument.single(
        "gateway_id",
        "the gateway's connection string names a port outside 1-65535; store a corrected one",
        reason="GATEWAY_TARGET_INVALID",
    )


def _check_connection_string(connection_string: str) -> None:
    if not connection_string.startswith(("postgresql://", "postgres://")):
        raise FailedPrecondition(
            "GATEWAY_TARGET_UNSUPPORTED",
            "the gateway's connection string must be a postgresql:// URL",
        )
    try:
        for host in urlsplit(connection_string).netloc.rpartition("@")[2].split(","):
            port = host.rpartition("]")[2].rpartition(":")[2] if ":" in host else ""
            if port and not (port.isdigit() and 0 < int(port) <= 65535):
                raise _bad_port()
    except ValueError:
        raise FailedPrecondition(
            "GATEWAY_TARGET_INVALID", "the gateway's connection string is not usable"
        ) from None


async def _acquire(pool: asyncpg.Pool) -> asyncpg.Connection:
    try:
        return await pool.acquire()
    except (
        OSError, OverflowError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError,
        TimeoutError,
    ) as exc:
        # TimeoutError here is asyncpg's connect timeout, not the caller's deadline.
        raise _connect_error(exc) from None


@dataclass(eq=False)
class _PoolEntry:
    pool: asyncpg.Pool
    digest: str
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
        self._pools: dict[str, _PoolEntry] = {}  # by QueryTarget.source
        self._lock = asyncio.Lock()

    @property
    def pool_count(self) -> int:
        """Open pools (for metrics and tests)."""
        return len(self._pools)

    def pool_sizes(self) -> list[int]:
        """Open connections of each pool (for metrics and tests)."""
        return [entry.pool.get_size() for entry in self._pools.values()]

    async def run(self, target: QueryTarget, query: BoundQuery, limits: QueryLimits) -> QueryResult:
        _check_connection_string(target.connection_string)
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
        except _ResultTooLarge:
            raise FailedPrecondition(
                "RESULT_TOO_LARGE",
                "the query's rows are larger than the gateway's max_result_bytes allows, so "
                "reading stopped and nothing was committed",
            ) from None
        except UnrenderableValue as exc:
            raise FailedPrecondition(
                "RESULT_TYPE_UNSUPPORTED",
                f"the query returned a value of a type the gateway cannot render ({exc})",
            ) from None
        except asyncpg.InterfaceError as exc:
            if "argument" in str(exc) and "passed" in str(exc):
                raise _query_error(exc, query, target.connection_string) from None
            log.warning("sql gateway connection lost: %s", type(exc).__name__)
            raise Unavailable("the connection to the target database was lost; retry") from None
        except (asyncpg.PostgresError, asyncpg.DataError) as exc:
            raise _query_error(exc, query, target.connection_string) from None
        except OSError as exc:
            log.warning("sql gateway connection lost: %s", type(exc).__name__)
            raise Unavailable("the connection to the target database was lost; retry") from None
        finally:
            await self._checkin(entry)

    async def close(self) -> None:
        """Closes every pool (at shutdown)."""
        async with self._lock:
            entries = list(self._pools.values())
            self._pools.clear()
        await asyncio.gather(*(entry.pool.close() for entry in entries))

    async def _checkout(self, target: QueryTarget) -> _PoolEntry:
        digest = hashlib.sha256(target.connection_string.encode()).hexdigest()
        entry = self._pools.get(target.source)
        if entry is None or entry.digest != digest:
            return await self._checkout_slow(target, digest)
        # No await since the lookup: nothing can retire the entry in between.
        entry.in_use += 1
        entry.last_used = self._now()
        return entry

    async def _checkout_slow(self, target: QueryTarget, digest: str) -> _PoolEntry:
        """First use of a gateway, or a rotated credential: the only path that opens pools."""
        pinned = await self._checked_destination(target.connection_string)
        to_close: list[_PoolEntry] = []
        async with self._lock:
            entry = self._pools.get(target.source)
            if entry is not None and entry.digest != digest:
                # The credential rotated: the old pool goes once its last query ends.
                to_close.extend(self._retire(target.source))
                entry = None
            if entry is None:
                to_close.extend(self._make_room(self._now()))
                pool = await self._new_pool(target.connection_string, pinned)
                entry = _PoolEntry(pool=pool, digest=digest)
                self._pools[target.source] = entry
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
            statement_cache_size=0,
            connection_class=GatewayConnection,
            server_settings={"application_name": _APPLICATION_NAME, **SESSION_SETTINGS},
            reset=_session_already_reset,
            init=_prepare_connection,
        )

    def _retire(self, source: str) -> list[_PoolEntry]:
        """Takes a pool out of use; it is closed now if idle, else by its last query."""
        entry = self._pools.pop(source)
        entry.retired = True
        return [entry] if entry.in_use == 0 else []

    def _make_room(self, now: float) -> list[_PoolEntry]:
        """Retires idle pools, and the least recently used one when the pool count is at its cap."""
        idle = sorted(
            (source for source, e in self._pools.items() if e.in_use == 0),
            key=lambda source: self._pools[source].last_used,
        )
        stale = [s for s in idle if now - self._pools[s].last_used >= self._idle_seconds]
        if len(self._pools) - len(stale) >= self._max_pools:
            if len(idle) == len(stale):
                raise Unavailable("too many gateways are in use at once; retry later")
            stale.append(idle[len(stale)])
        return [entry for source in stale for entry in self._retire(source)]

    @staticmethod
    async def _close_all(entries: Sequence[_PoolEntry]) -> None:
        await asyncio.gather(*(entry.pool.close() for entry in entries))
