"""One line telling an operator why the service's database could not be reached at start-up and
what to do about it, instead of the driver's traceback. The password is never part of it."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
from sqlalchemy.engine import URL, make_url

from drivers.kernel.database import normalize_url

__all__ = ["explain_connect_failure"]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _where(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _create_hint(url: URL) -> str:
    user = f" -U {url.username}" if url.username else ""
    return f"createdb -h {url.host or 'localhost'} -p {url.port or 5432}{user} {url.database}"


def _postgres_reason(exc: BaseException, url: URL) -> str | None:
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return (
            f"database {url.database!r} does not exist on the PostgreSQL server at {_where(url)}: "
            f"create it (`{_create_hint(url)}`), then start again"
        )
    if isinstance(exc, (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        return (
            f"the PostgreSQL server at {_where(url)} refused user {url.username!r}: "
            f"{exc.args[0] if exc.args else type(exc).__name__}"
        )
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the database host {url.host!r}: check --database-url"
    if isinstance(exc, (OSError, TimeoutError)):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "timed out"
        return (
            f"cannot reach the PostgreSQL server at {_where(url)} ({reason}): is it running and "
            "does --database-url name the right host and port?"
        )
    return None


def explain_connect_failure(exc: BaseException, database_url: str) -> str | None:
    """A one-line explanation when `exc` (raised while migrating or connecting to
    `database_url`) is a missing database, refused login or unreachable server; else None."""
    try:
        url = make_url(normalize_url(database_url))
    except ValueError:
        return None
    for cause in _chain(exc):
        if url.drivername.startswith("postgresql"):
            reason = _postgres_reason(cause, url)
        elif isinstance(cause, (OSError, sqlite3.OperationalError)):
            reason = f"cannot open the SQLite database {url.database!r}: {cause}"
        else:
            reason = None
        if reason is not None:
            return reason
    return None
