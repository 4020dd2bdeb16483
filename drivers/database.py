"""The service's own database: async engine for SQLite (default) or PostgreSQL, transactions that
turn connection failures into `Unavailable`, and readiness checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from engines.errors import Unavailable

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


# sqlite3 raises OperationalError for schema mistakes too; those are bugs, not outages.
_SQLITE_SCHEMA_ERRORS = ("no such table", "no such column", "syntax error")


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return not any(text in str(exc.orig) for text in _SQLITE_SCHEMA_ERRORS)
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OSError, ConnectionError))


class Database:
    """One async engine and its pool; the only way drivers reach the service's own tables."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
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
            self.engine = create_async_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=pool_size,
                # No pre-ping: it costs a round trip per call. A dropped connection surfaces
                # as Unavailable once, and SQLAlchemy then invalidates the pool.
                pool_timeout=5,
                connect_args={"timeout": 5, "command_timeout": 30},
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except Exception as exc:
            if _is_connection_failure(exc):
                raise Unavailable("the service's database is unavailable; retry later") from exc
            raise

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in autocommit mode, for reads that need no transaction (saves the
        BEGIN/COMMIT round trips)."""
        try:
            async with self.engine.connect() as conn:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            if _is_connection_failure(exc):
                raise Unavailable("the service's database is unavailable; retry later") from exc
            raise

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.transaction() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Unavailable:
            return False

    async def pool_in_use(self) -> int:
        """Connections currently checked out of the pool (for metrics and leak tests)."""
        pool = self.engine.sync_engine.pool
        checked_out = getattr(pool, "checkedout", None)
        return int(checked_out()) if callable(checked_out) else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
