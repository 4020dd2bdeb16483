"""Typed parameter coercion and injection screening, without a database."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from engines.kernel.errors import InvalidArgument
from engines.sql_gateway.parameters import (
    INJECTION_REASON,
    MAX_LIST_LENGTH,
    ParameterSpec,
    ParameterType,
    bind_parameters,
    coerce_value,
    suspicious_pattern,
)

T = ParameterType


def _coerce(kind: ParameterType, value: Any, **spec: Any) -> Any:
    return coerce_value(ParameterSpec(name="p", type=kind, **spec), value, "parameters.p")


@pytest.mark.parametrize(
    ("kind", "value", "spec", "expected"),
    [
        pytest.param(T.STRING, "O'Brien", {}, "O'Brien", id="string"),
        pytest.param(T.STRING, "abc", {"max_length": 3}, "abc", id="string-at-max-length"),
        pytest.param(T.INTEGER, 42.0, {}, 42, id="integer-from-number"),
        pytest.param(T.INTEGER, "9007199254740993", {}, 9007199254740993, id="integer-from-string"),
        pytest.param(T.INTEGER, -5, {"min_value": -5, "max_value": 5}, -5, id="integer-at-min"),
        pytest.param(T.FLOAT, 2.5, {}, 2.5, id="float"),
        pytest.param(T.FLOAT, "1e3", {"max_value": 1000}, 1000.0, id="float-from-string"),
        pytest.param(T.BOOLEAN, True, {}, True, id="bool"),
        pytest.param(T.BOOLEAN, "YES", {}, True, id="bool-yes"),
        pytest.param(T.BOOLEAN, "1", {}, True, id="bool-1"),
        pytest.param(T.BOOLEAN, "false", {}, False, id="bool-false"),
        pytest.param(T.DATE, "2024-02-29", {}, date(2024, 2, 29), id="date"),
        pytest.param(
            T.TIMESTAMP, "2024-05-01T12:00:00Z", {},
            datetime(2024, 5, 1, 12, tzinfo=timezone.utc), id="timestamp-z",
        ),
        pytest.param(
            T.TIMESTAMP, "2024-05-01T12:00:00+02:00", {},
            datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))), id="timestamp-offset",
        ),
        pytest.param(
            T.TIMESTAMP, "2024-05-01 12:00", {},
            datetime(2024, 5, 1, 12, tzinfo=timezone.utc), id="timestamp-naive-is-utc",
        ),
        pytest.param(
            T.UUID, "6F1B0A3E-0000-4000-8000-000000000001", {},
            uuid.UUID("6f1b0a3e-0000-4000-8000-000000000001"), id="uuid",
        ),
        pytest.param(T.LIST_STRING, ["a", "b"], {}, ["a", "b"], id="list-string"),
        pytest.param(T.LIST_INT, [1.0, "2", 3], {"min_value": 1}, [1, 2, 3], id="list-int"),
        pytest.param(T.LIST_INT, [], {}, [], id="list-empty"),
    ],
)
def test_valid_values_are_coerced(
    kind: ParameterType, value: Any, spec: dict[str, Any], expected: Any
) -> None:
    result = _coerce(kind, value, **spec)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("kind", "value", "spec", "fragment"),
    [
        pytest.param(T.STRING, 5.0, {}, "string", id="string-from-number"),
        pytest.param(T.STRING, "abcd", {"max_length": 3}, "at most 3", id="string-too-long"),
        pytest.param(T.STRING, "x" * 10_001, {}, "at most 10000", id="string-default-limit"),
        pytest.param(T.INTEGER, 1.5, {}, "integer", id="integer-fraction"),
        pytest.param(T.INTEGER, True, {}, "integer", id="integer-from-bool"),
        pytest.param(T.INTEGER, "12abc", {}, "integer", id="integer-garbage"),
        pytest.param(T.INTEGER, str(2**63), {}, "64 bits", id="integer-overflow"),
        pytest.param(T.INTEGER, 11.0, {"max_value": 10}, "<= 10", id="integer-above-max"),
        pytest.param(T.INTEGER, 0.0, {"min_value": 1}, ">= 1", id="integer-below-min"),
        pytest.param(T.FLOAT, "nan", {}, "finite", id="float-nan"),
        pytest.param(T.FLOAT, "one", {}, "number", id="float-garbage"),
        pytest.param(T.FLOAT, 0.5, {"min_value": 1}, ">= 1", id="float-below-min"),
        pytest.param(T.BOOLEAN, "maybe", {}, "boolean", id="bool-garbage"),
        pytest.param(T.BOOLEAN, 1.0, {}, "boolean", id="bool-from-number"),
        pytest.param(T.DATE, "2024-02-30", {}, "YYYY-MM-DD", id="date-impossible"),
        pytest.param(T.DATE, "01/02/2024", {}, "YYYY-MM-DD", id="date-format"),
        pytest.param(T.DATE, "2024-01-01T00:00", {}, "YYYY-MM-DD", id="date-with-time"),
        pytest.param(T.TIMESTAMP, "yesterday", {}, "ISO 8601", id="timestamp-garbage"),
        pytest.param(T.TIMESTAMP, 1700000000.0, {}, "ISO 8601", id="timestamp-epoch"),
        pytest.param(T.UUID, "not-a-uuid", {}, "UUID", id="uuid-garbage"),
        pytest.param(T.LIST_STRING, "a,b", {}, "list", id="list-from-string"),
        pytest.param(T.LIST_STRING, ["a", 1.0], {}, "string", id="list-string-element"),
        pytest.param(T.LIST_INT, [1.0, "x"], {}, "integer", id="list-int-element"),
        pytest.param(T.LIST_INT, [0.0] * (MAX_LIST_LENGTH + 1), {}, "at most", id="list-too-long"),
    ],
)
def test_invalid_values_name_the_parameter(
    kind: ParameterType, value: Any, spec: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        _coerce(kind, value, **spec)
    (violation,) = caught.value.violations
    assert violation.field.startswith("parameters.p")
    assert fragment in violation.description


def test_list_element_violation_names_the_index() -> None:
    with pytest.raises(InvalidArgument) as caught:
        _coerce(T.LIST_INT, [1, 2, "x"])
    assert caught.value.violations[0].field == "parameters.p[2]"


@pytest.mark.parametrize(
    "text",
    [
        "x'; DROP TABLE users", 'a"; b', "admin'--", "/* hi", "bye */", "1 UNION SELECT 2",
        "select", "Insert", "update", "DELETE", "drop", "truncate", "create", "alter", "exec",
        "EXECUTE", "please drop it", "drop-off",
    ],
)
def test_injection_patterns_are_found(text: str) -> None:
    assert suspicious_pattern(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "O'Brien", "semi;colon", "a-b", "Dropbox", "selection", "updated_at", "executive",
        "creator", "alternative", "user@example.com", "50% off", "", "naïve café",
    ],
)
def test_legitimate_strings_pass(text: str) -> None:
    assert suspicious_pattern(text) is None


def test_bind_orders_values_applies_defaults_and_lists_ignored_names() -> None:
    specs = [
        ParameterSpec(name="status", type=T.STRING, required=True),
        ParameterSpec(name="limit", type=T.INTEGER, default_value=10),
        ParameterSpec(name="since", type=T.DATE),
    ]
    bound = bind_parameters(specs, {"limit": "5", "status": "open", "zzz": 1, "aaa": None})
    assert bound.names == ("status", "limit", "since")
    assert bound.values == ("open", 5, None)
    assert bound.ignored == ("aaa", "zzz")
    assert bind_parameters(specs, {"status": "open"}).values == ("open", 10, None)


def test_bind_reports_every_bad_parameter_at_once() -> None:
    specs = [
        ParameterSpec(name="a", type=T.STRING, required=True),
        ParameterSpec(name="b", type=T.INTEGER),
    ]
    with pytest.raises(InvalidArgument) as caught:
        bind_parameters(specs, {"b": "x"})
    assert {v.field for v in caught.value.violations} == {"parameters.a", "parameters.b"}
    assert caught.value.reason is None


def test_injection_in_a_list_element_carries_the_reason_and_not_the_value() -> None:
    specs = [ParameterSpec(name="tags", type=T.LIST_STRING)]
    with pytest.raises(InvalidArgument) as caught:
        bind_parameters(specs, {"tags": ["fine", "x'; DROP TABLE t"]})
    assert caught.value.reason == INJECTION_REASON
    assert caught.value.metadata == {"parameters": "tags"}
    assert "DROP TABLE t" not in caught.value.message
