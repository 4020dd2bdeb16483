"""`set_timestamp` computes seconds and nanos itself; it must agree with protobuf's own
`Timestamp.FromDatetime` for every datetime a Timestamp can hold, in any zone, and round-trip
through `from_timestamp`."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from service.convert import from_timestamp, set_timestamp, to_timestamp

_AWARE = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
)


@given(_AWARE)
def test_set_timestamp_agrees_with_protobuf(value: datetime) -> None:
    ours, theirs = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    set_timestamp(ours, value)
    theirs.FromDatetime(value.astimezone(timezone.utc))
    assert (ours.seconds, ours.nanos) == (theirs.seconds, theirs.nanos)
    assert from_timestamp(ours) == value.astimezone(timezone.utc)


def test_none_leaves_the_field_unset() -> None:
    target = timestamp_pb2.Timestamp(seconds=5)
    set_timestamp(target, None)
    assert target.seconds == 5
    assert to_timestamp(None) is None


def test_a_naive_datetime_is_read_as_local_time() -> None:
    naive = datetime(2026, 3, 29, 1, 30)
    ours, theirs = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    set_timestamp(ours, naive)
    theirs.FromDatetime(naive.astimezone(timezone.utc))
    assert (ours.seconds, ours.nanos) == (theirs.seconds, theirs.nanos)
