"""The service's own database: async engine for SQLite (default) or PostgreSQL, transactions that
turn connection failures into `Unavailable`, and readiness checks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from engines.kernel.errors import Unavailable

__all__ = ["DEFAULT_DATABASE_URL", "Database", "normalize_url"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./integrations.db"


def normalize_url(url: str) -> str:
    """Accepts `postgresql://` and `sqlite://` shorthands and picks the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
        )
    return parsed.render_as_string(hide_password=False)


# sqlite3 raises OperationalError for schema mistakes and value errors (an integer overflow in
# sum()) too; those are bugs or bad values, not outages. An outage is one of these primary result
# codes: BUSY, LOCKED, NOMEM, READONLY, INTERRUPT, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL.
_SQLITE_OUTAGE_CODES = frozenset({5, 6, 7, 8, 9, 10, 11, 13, 14, 15})


# SQLSTATEs of a server that is down, going down or coming up: class 08 (connection exception),
# 57P01-57P03 (admin/crash shutdown, "cannot connect now" while starting or stopping) and 53300
# (too many connections). asyncpg raises these as plain DBAPIErrors, not OperationalErrors.
_DISPOSE_SETTLE_SECONDS = 2.0
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")


def _is_unavailable_sqlstate(exc: DBAPIError) -> bool:
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and _is_unavailable_sqlstate(exc):
        return True
    sqlite_code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return (sqlite_code & 0xFF) in _SQLITE_OUTAGE_CODES
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OSError, ConnectionError))


@contextlib.contextmanager
def _unavailable_on_connection_failure() -> Iterator[None]:
    """Re-raises connection failures as `Unavailable`; everything else passes through."""
    try:
        yield
    except Exception as exc:
        if _is_connection_failure(exc):
            raise Unavailable("the service's database is unavailable; retry later") from exc
        raise


class Database:
    """One async engine and its pool; the only way drivers reach the service's own tables."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._autocommit_engine: AsyncEngine | None = None
        # Told the seconds each checkout waited for a connection (a free one, or a new one
        # opened), and which pool: "transaction" or "read". Set by the metrics.
        self.on_pool_wait: Callable[[str, float], None] | None = None
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # One writer at a time in SQLite; wait for the lock instead of failing at once.
            self.engine: AsyncEngine = create_async_engine(
                self.url, echo=echo, connect_args={"timeout": 30}
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_on_connect)
        else:
            options: dict[str, Any] = {
                "echo": echo,
                "pool_size": pool_size,
                "max_overflow": pool_size,
                # No pre-ping: it costs a round trip per call. A dropped connection surfaces
                # as Unavailable once, and SQLAlchemy then invalidates the pool.
                "pool_timeout": 5,
                "connect_args": {"timeout": 5, "command_timeout": 30},
            }
            self.engine = create_async_engine(self.url, **options)
            # Reads get connections that stay in autocommit: no BEGIN/COMMIT round trips and no
            # isolation-level switch on every checkout.
            # They never hold a transaction, so nothing to roll back when one is returned.
            self._autocommit_engine = create_async_engine(
                self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        with _unavailable_on_connection_failure():
            started = time.perf_counter()
            async with self.engine.connect() as conn:
                self._waited("transaction", started)
                async with conn.begin():
                    yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in autocommit mode, for reads that need no transaction (saves the
        BEGIN/COMMIT round trips)."""
        with _unavailable_on_connection_failure():
            started = time.perf_counter()
            if self._autocommit_engine is not None:
                async with self._autocommit_engine.connect() as conn:
                    self._waited("read", started)
                    yield conn
            else:
                async with self.engine.connect() as conn:
                    self._waited("read", started)
                    yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    def _waited(self, pool: str, started: float) -> None:
        if self.on_pool_wait is not None:
            self.on_pool_wait(pool, time.perf_counter() - started)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.transaction() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Unavailable:
            return False

    async def pool_in_use(self) -> int:
        """Connections currently checked out of the pools (for metrics and leak tests)."""
        in_use = 0
        for engine in self.engines():
            checked_out = getattr(engine.sync_engine.pool, "checkedout", None)
            in_use += int(checked_out()) if callable(checked_out) else 0
        return in_use

    async def dispose(self, settle_seconds: float = _DISPOSE_SETTLE_SECONDS) -> None:
        """Closes the pools, after waiting up to `settle_seconds` for borrowed connections to
        come back: a connection returned after its pool was disposed is never closed, and only
        garbage collection drops its socket (a cancelled call or background round may still
        be giving its connection back while the service stops)."""
        deadline = time.monotonic() + settle_seconds
        while await self.pool_in_use() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for engine in self.engines():
            await engine.dispose()

    def engines(self) -> list[AsyncEngine]:
        """The pools' engines: transactions', and on PostgreSQL the autocommit one's."""
        return [e for e in (self.engine, self._autocommit_engine) if e is not None]


def _sqlite_on_connect(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # REPLACE then fires DELETE triggers for the rows it removes (append-only tables refuse it).
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
