"""Results of governed SQL queries, and the row and byte caps applied while they are built.

Row values are JSON-like (None, bool, int, float, str, list). `result_bytes` is the exact size
the rows take in the protobuf response (`repeated google.protobuf.Struct rows`), computed here
without protobuf, so the byte cap is measured on the result as each row is added.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["QueryResult", "ResultBuilder", "TruncationReason", "row_wire_size", "value_wire_size"]


class TruncationReason(enum.StrEnum):
    MAX_ROWS = "max_rows"
    MAX_RESULT_BYTES = "max_result_bytes"


@dataclass(frozen=True, slots=True)
class QueryResult:
    """What ExecuteQuery returns: rows keyed by column, in column order."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    truncated: bool
    result_bytes: int
    truncation_reason: TruncationReason | None = None
    ignored_parameters: tuple[str, ...] = field(default=())
    template_version: int = 0  # which version of the template ran (set by the engine)

    @property
    def row_count(self) -> int:
        return len(self.rows)


def _varint_size(n: int) -> int:
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def _framed(payload: int) -> int:
    """Tag byte + length varint + payload, for a length-delimited field numbered below 16."""
    return 1 + _varint_size(payload) + payload


def value_wire_size(value: Any) -> int:
    """Bytes of a google.protobuf.Value holding `value` (its payload, without its own framing)."""
    if value is None or isinstance(value, bool):
        return 2  # null_value / bool_value: tag + one-byte varint, present even when zero
    if isinstance(value, (int, float)):
        return 9  # number_value: tag + 8-byte double
    if isinstance(value, str):
        return _framed(len(value.encode()))
    if isinstance(value, (list, tuple)):
        return _framed(sum(_framed(value_wire_size(v)) for v in value))
    raise TypeError(f"not a JSON-like value: {type(value).__name__}")


def row_wire_size(row: dict[str, Any]) -> int:
    """Bytes one row adds to the response's `rows` field, framing included."""
    struct = 0
    for key, value in row.items():
        entry = _framed(len(key.encode())) + _framed(value_wire_size(value))
        struct += _framed(entry)
    return _framed(struct)


class ResultBuilder:
    """Accumulates rows until the row cap or the byte cap would be passed.

    The caller offers rows until `offer` returns False; a row that does not fit marks the result
    truncated, so `truncated` is exact: True only when the query had more rows than returned."""

    def __init__(self, columns: Sequence[str], *, max_rows: int, max_result_bytes: int) -> None:
        self.columns = tuple(columns)
        self._max_rows = max_rows
        self._max_bytes = max_result_bytes
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0
        self._largest = 0
        self._reason: TruncationReason | None = None

    @property
    def full(self) -> bool:
        return self._reason is not None

    @property
    def remaining_bytes(self) -> int:
        return self._max_bytes - self._bytes

    @property
    def remaining_rows(self) -> int:
        return self._max_rows - len(self._rows)

    @property
    def largest_row_bytes(self) -> int:
        """The size of the largest row added so far (0 before the first)."""
        return self._largest

    def offer(self, values: Sequence[Any]) -> bool:
        """Adds a row (values in column order); False once the result is full."""
        if self.full:
            return False
        if len(self._rows) >= self._max_rows:
            self._reason = TruncationReason.MAX_ROWS
            return False
        row = dict(zip(self.columns, values, strict=True))
        size = row_wire_size(row)
        if self._bytes + size > self._max_bytes:
            self._reason = TruncationReason.MAX_RESULT_BYTES
            return False
        self._rows.append(row)
        self._bytes += size
        self._largest = max(self._largest, size)
        return True

    def stop(self, reason: TruncationReason) -> None:
        """Marks the result truncated: more rows exist, and they are not read."""
        self._reason = reason

    def build(self) -> QueryResult:
        return QueryResult(
            columns=self.columns,
            rows=tuple(self._rows),
            truncated=self._reason is not None,
            result_bytes=self._bytes,
            truncation_reason=self._reason,
        )
