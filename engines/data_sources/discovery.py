"""What DiscoverDataSource reports: for a database source, the schemas, tables and columns its
own credential may see; for an API source, what a HEAD and an OPTIONS reveal (never a body).
Reached through the same port, egress policy and credential checks as a connection test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engines.kernel.errors import InvalidArgument

if TYPE_CHECKING:  # connection_test's port returns these tables
    from engines.connectors.connection_tester import ConnectionOutcome

__all__ = [
    "DEFAULT_MAX_TABLES",
    "MAX_COLUMNS",
    "MAX_TABLES",
    "DiscoveredColumn",
    "DiscoveredTable",
    "Discovery",
    "check_max_tables",
]

DEFAULT_MAX_TABLES = 100
MAX_TABLES = 1000
MAX_COLUMNS = 20_000  # over every table of one answer


@dataclass(frozen=True, slots=True)
class DiscoveredColumn:
    """One column: its name, the database's type name, and whether it may be NULL."""

    name: str
    data_type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class DiscoveredTable:
    """A table or view (`kind` "table", "view", "foreign", "partitioned") and its columns."""

    schema: str
    name: str
    kind: str
    columns: tuple[DiscoveredColumn, ...]


@dataclass(frozen=True, slots=True)
class Discovery:
    """The attempt's outcome, what it found, and whether `max_tables` (or the column cap) cut
    it short. `http` holds an API source's status, content type and allowed methods."""

    outcome: ConnectionOutcome
    tables: tuple[DiscoveredTable, ...] = ()
    truncated: bool = False
    http: Mapping[str, str] = field(default_factory=dict)


def check_max_tables(value: int) -> int:
    """0 means DEFAULT_MAX_TABLES; otherwise 1 to MAX_TABLES."""
    if value == 0:
        return DEFAULT_MAX_TABLES
    if not 1 <= value <= MAX_TABLES:
        raise InvalidArgument.single("max_tables", f"must be between 0 and {MAX_TABLES}")
    return value
