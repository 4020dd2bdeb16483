"""Conversions between protobuf well-known types and plain Python values, shared by servicers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from google.protobuf import json_format, struct_pb2, timestamp_pb2

__all__ = [
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
    ts.FromDatetime(value.astimezone(timezone.utc))
    return ts


def set_timestamp(target: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    """Fills a message's Timestamp field in place (leaves it unset for None)."""
    if value is not None:
        target.FromDatetime(value.astimezone(timezone.utc))


def from_timestamp(ts: timestamp_pb2.Timestamp, *, present: bool = True) -> datetime | None:
    """An aware UTC datetime, or None when the field was not set."""
    if not present:
        return None
    return ts.ToDatetime(tzinfo=timezone.utc)


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Plain dict of a Struct (numbers come back as float, as JSON has it)."""
    result: dict[str, Any] = json_format.MessageToDict(struct)
    return result
