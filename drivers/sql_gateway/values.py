"""How values cross between the SQL gateway and PostgreSQL: result values as JSON-like values,
and parameters bound exactly.

Types JSON can hold (booleans, numbers, text, json, uuid, bytea, arrays of them) come back as
such. Every other type (dates and times, intervals, ranges, records and composites, geometric
types, bit strings, money, network types, ...) is read in PostgreSQL's own text form, so values
Python cannot hold (`infinity`, BC dates, years past 9999, `24:00`) still render, and no Python
object's repr ever reaches a caller. Timestamps keep the ISO 8601 `T` and `+hh:mm` offset.
Date and time parameters are sent as text too: asyncpg's binary encoding turns `0001-01-01`
and `9999-12-31` into `-infinity`/`infinity`.
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import asyncpg

__all__ = [
    "SESSION_SETTINGS",
    "GatewayConnection",
    "UnrenderableValue",
    "install_text_codecs",
    "to_json_value",
]

# Pinned per connection (startup parameters, so RESET ALL returns to them): the text forms
# below are parsed and documented in these styles.
SESSION_SETTINGS = {"DateStyle": "ISO, YMD", "IntervalStyle": "iso_8601", "TimeZone": "UTC"}

_MAX_SAFE_INTEGER = 2**53
_MAX_EXACT_DIGITS = 15  # every decimal of at most 15 significant digits survives a double
_TIMESTAMP_RE = re.compile(r"(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d){0,2})?")
_TIMETZ_RE = re.compile(r"(\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d){0,2})")
# Built-in types read as text (names as asyncpg knows them). Ranges, multiranges and composite
# types are not built in for asyncpg: GatewayConnection switches them to text when it meets them.
_TEXT_TYPES = (
    "date", "time", "interval", "money", "point", "line", "lseg", "box", "path", "polygon",
    "circle", "bit", "varbit", "inet", "cidr", "macaddr", "macaddr8", "tsvector", "tsquery",
    "pg_lsn", "txid_snapshot", "pg_snapshot", "tid", "record", "jsonpath", "xml",
)
_TEXT_KINDS = (b"c", b"r", b"m")  # composite, range, multirange
_CHAR_OID = 18  # the one-byte "char" (asyncpg would return bytes); not in asyncpg's name map


class UnrenderableValue(Exception):
    """A result value of a type this module has no rendering for (a bug to fix here)."""


def _offset(offset: str | None) -> str:
    """`+02` as `+02:00`; an offset with minutes (or seconds) stays as it is."""
    if offset is None:
        return ""
    return offset + ":00" if len(offset) == 3 else offset


def _timestamp_text(text: str) -> str:
    """PostgreSQL's ISO text of a timestamp, with `T` and `+hh:mm`; `infinity` and BC as is."""
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None:
        return text
    day, clock, offset = match.groups()
    return f"{day}T{clock}{_offset(offset)}"


def _timetz_text(text: str) -> str:
    match = _TIMETZ_RE.fullmatch(text)
    return text if match is None else match.group(1) + _offset(match.group(2))


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _as_utc_wall_time(value: Any) -> str:
    # TIMESTAMP parameters are aware instants; a `timestamp without time zone` placeholder
    # receives the UTC wall time (PostgreSQL would silently drop the offset).
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return _as_text(value)


def _same(text: str) -> str:
    return text


def _text_codec(
    conn: asyncpg.Connection, oid: int, name: str, schema: str, decoder: Any = _same,
    encoder: Any = _as_text,
) -> None:
    # add_python_codec is what Connection.set_type_codec ends in, minus its catalog look-up:
    # it needs no round trip, and it accepts the range and composite types set_type_codec refuses.
    conn._protocol.get_settings().add_python_codec(
        oid, name, schema, [], "scalar", encoder, decoder, "text"
    )


def install_text_codecs(conn: asyncpg.Connection) -> None:
    """Switches the built-in types JSON cannot hold to text, on a new connection."""
    oids = asyncpg.protocol.BUILTIN_TYPE_NAME_MAP
    for name in _TEXT_TYPES:
        _text_codec(conn, oids[name], name, "pg_catalog")
    _text_codec(conn, _CHAR_OID, "char", "pg_catalog")
    _text_codec(conn, oids["timestamp"], "timestamp", "pg_catalog", _timestamp_text,
                _as_utc_wall_time)
    _text_codec(conn, oids["timestamptz"], "timestamptz", "pg_catalog", _timestamp_text)
    _text_codec(conn, oids["timetz"], "timetz", "pg_catalog", _timetz_text)


class GatewayConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that reads ranges, multiranges and composite types (records of
    a table, user-defined types) as text, however deeply they are nested in arrays."""

    async def _introspect_types(self, typeoids: Any, timeout: Any) -> Any:
        types, statement = await super()._introspect_types(typeoids, timeout)
        for info in types:
            if info["kind"] in _TEXT_KINDS and not info["elemtype"]:
                _text_codec(self, info["oid"], info["name"], info["ns"])
        return types, statement


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
        # Positional, as PostgreSQL writes it (str() would give 1E+30); NaN and Infinity as is.
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    raise UnrenderableValue(type(value).__name__)
