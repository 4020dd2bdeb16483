"""Shared column types, the metadata every table module registers on, and `resource_table`: the
standard columns and indexes of a tenant-owned resource."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["UtcDateTime", "metadata", "request_columns", "resource_table", "utcnow"]

metadata = sa.MetaData()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends.

    PostgreSQL stores `timestamptz`; SQLite stores a fixed-width ISO string, so ordering and
    range comparisons agree with PostgreSQL.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """The value as it comes when it is already an aware UTC datetime (asyncpg's
        timestamptz, every value on PostgreSQL), skipping two calls per value; anything else
        goes through `process_result_value`."""
        processor = super().result_processor(dialect, coltype)
        if dialect.name == "sqlite" or processor is None:
            return processor
        utc = timezone.utc

        def process(value: Any) -> Any:
            if value is None or (type(value) is datetime and value.tzinfo is utc):
                return value
            return processor(value)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


def request_columns() -> list[sa.Column[Any]]:
    """The idempotency columns of a table of created things: the caller's request_id and the
    digest of the request it came with (AIP-155)."""
    return [
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("request_digest", sa.String(64), nullable=True),
    ]


def _partial_unique(name: str, *columns: str, where: str) -> sa.Index:
    return sa.Index(
        name,
        *columns,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def resource_table(
    name: str,
    *items: sa.Column[Any] | sa.Index,
    unique_name: Literal["live", "always"] | None = "live",
    mutable: bool = True,
    id_length: int = 36,
    tenant_in_key: bool = False,
) -> sa.Table:
    """A tenant-owned resource table: `items` plus the standard columns and indexes.

    Standard columns: id, tenant_id, request_id and request_digest, create_time; `mutable` resources also have
    update_time, delete_time (soft delete) and version (optimistic concurrency). Indexes: the
    keyset order (tenant_id, create_time, id), the unique (tenant_id, request_id) of idempotent
    creates, and a unique (tenant_id, name) among live rows (`"live"`) or all rows
    (`"always"`). `tenant_in_key` makes (tenant_id, id) the primary key (ids chosen by callers)."""
    standard: list[sa.Column[Any] | sa.Index] = [
        sa.Column("tenant_id", sa.String(36), primary_key=tenant_in_key, nullable=False),
        sa.Column("id", sa.String(id_length), primary_key=True),
        *(item for item in items if isinstance(item, sa.Column)),
        *request_columns(),
        sa.Column("create_time", UtcDateTime, nullable=False),
    ]
    if mutable:
        standard += [
            sa.Column("update_time", UtcDateTime, nullable=False),
            sa.Column("delete_time", UtcDateTime, nullable=True),
            sa.Column("version", sa.Integer, nullable=False),
        ]
    standard += [item for item in items if isinstance(item, sa.Index)]
    standard.append(sa.Index(f"ix_{name}_tenant_order", "tenant_id", "create_time", "id"))
    if unique_name == "live":
        standard.append(
            _partial_unique(f"uq_{name}_live_name", "tenant_id", "name", where="delete_time IS NULL")
        )
    elif unique_name == "always":
        standard.append(sa.Index(f"uq_{name}_name", "tenant_id", "name", unique=True))
    standard.append(
        _partial_unique(
            f"uq_{name}_request_id", "tenant_id", "request_id", where="request_id IS NOT NULL"
        )
    )
    return sa.Table(name, metadata, *standard)
