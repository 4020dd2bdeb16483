"""The result builder's caps and its byte count, checked against protobuf's own encoder."""

from __future__ import annotations

from typing import Any

import pytest

from engines.sql_gateway.results import ResultBuilder, TruncationReason, row_wire_size
from integrations.v1 import sql_gateway_pb2 as pb

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "x" * 200, "ok": True, "none": None, "tags": ["a", 2, None, [3.5]]},
    {},
    {"": "", "ünï": "ç" * 70, "f": False, "big": "9007199254740993"},
    {"s": "y" * 20_000},
]


@pytest.mark.parametrize("row", ROWS)
def test_row_wire_size_matches_protobuf(row: dict[str, Any]) -> None:
    message = pb.QueryResult()
    message.rows.add().update(row)
    assert row_wire_size(row) == message.ByteSize()


def _builder(max_rows: int, max_bytes: int) -> ResultBuilder:
    return ResultBuilder(["n"], max_rows=max_rows, max_result_bytes=max_bytes)


def test_row_cap_marks_truncated_only_when_another_row_exists() -> None:
    exact = _builder(3, 10_000)
    assert all(exact.offer([n]) for n in range(3))
    assert exact.build().truncated is False
    assert exact.offer([3]) is False
    result = exact.build()
    assert (result.row_count, result.truncated, result.truncation_reason) == (
        3, True, TruncationReason.MAX_ROWS,
    )
    assert exact.full


def test_byte_cap_stops_before_the_row_that_would_exceed() -> None:
    size = row_wire_size({"n": 1})
    builder = _builder(100, size * 2)
    assert builder.offer([1]) and builder.offer([2])
    assert builder.offer([3]) is False
    result = builder.build()
    assert (result.row_count, result.result_bytes, result.truncation_reason) == (
        2, size * 2, TruncationReason.MAX_RESULT_BYTES,
    )


def test_a_first_row_larger_than_the_cap_gives_an_empty_truncated_result() -> None:
    builder = _builder(10, 5)
    assert builder.offer(["x" * 10]) is False
    assert (builder.build().rows, builder.build().truncated) == ((), True)
