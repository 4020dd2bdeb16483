"""Conversions between protobuf well-known types and plain Python values, shared by servicers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from engines.kernel.errors import InvalidArgument

__all__ = [
    "from_duration",
    "from_struct",
    "from_timestamp",
    "set_timestamp",
    "to_struct",
    "to_timestamp",
]


def to_timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A Timestamp for an aware datetime; None stays None (the field is left unset)."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    set_timestamp(ts, value)
    return ts


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def set_timestamp(target: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    """Fills a message's Timestamp field in place (leaves it unset for None). The seconds and
    nanos are computed here: Timestamp.FromDatetime costs five times as much, and list
    responses set several per row."""
    if value is None:
        return
    if value.tzinfo is None:  # a naive datetime is local time, as FromDatetime reads it
        value = value.astimezone(timezone.utc)
    since = value - _EPOCH
    target.seconds = since.days * 86_400 + since.seconds
    target.nanos = since.microseconds * 1_000


def from_timestamp(
    ts: timestamp_pb2.Timestamp, *, present: bool = True, field: str = "timestamp"
) -> datetime | None:
    """An aware UTC datetime, or None when the field was not set.

    A Timestamp outside 0001-01-01..9999-12-31 or with nanos outside 0..999999999 is
    INVALID_ARGUMENT naming `field` (protobuf itself raises ValueError for those)."""
    if not present:
        return None
    try:
        return ts.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument.single(
            field, "must be a valid timestamp between 0001-01-01 and 9999-12-31"
        ) from exc


def renamed_timestamp(
    message: Message, name: str, *, deprecated: str, prefix: str = ""
) -> datetime | None:
    """The Timestamp field `name` of `message`, or its deprecated predecessor `deprecated` when
    only that one is set (old clients); both set to different instants is INVALID_ARGUMENT."""
    value, old = (
        from_timestamp(getattr(message, field), present=message.HasField(field), field=prefix + field)
        for field in (name, deprecated)
    )
    if value is not None and old is not None and value != old:
        raise InvalidArgument.single(
            prefix + name, f"differs from the deprecated {prefix}{deprecated}; set only {name}"
        )
    return value if value is not None else old


def from_duration(
    duration: duration_pb2.Duration, *, present: bool = True, field: str = "duration"
) -> timedelta | None:
    """A timedelta, or None when the field was not set; one too large for Python (protobuf
    raises OverflowError) is INVALID_ARGUMENT naming `field`."""
    if not present:
        return None
    try:
        return duration.ToTimedelta()
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument.single(field, "is out of range") from exc


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def from_struct(struct: struct_pb2.Struct, *, field: str = "struct") -> dict[str, Any]:
    """Plain dict of a Struct (numbers come back as float, as JSON has it).

    NaN and infinities have no JSON form (protobuf raises ValueError): INVALID_ARGUMENT naming
    `field`."""
    try:
        result: dict[str, Any] = json_format.MessageToDict(struct)
    except ValueError as exc:
        raise InvalidArgument.single(
            field, "numbers must be finite: JSON has no NaN or Infinity"
        ) from exc
    return result
