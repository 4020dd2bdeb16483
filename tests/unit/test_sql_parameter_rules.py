"""Allowed values, patterns and identity-bound parameters: declaration checks, binding, and the
JSON Schema of a template."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from engines.kernel.errors import InvalidArgument
from engines.sql_gateway.parameters import (
    CallerIdentity,
    IdentityBinding,
    ParameterSpec,
    ParameterType,
    bind_parameters,
)
from engines.sql_gateway.template_schema import template_input_schema
from engines.sql_gateway.templates import QueryTemplate, TemplateDraft, check_template

T = ParameterType
TENANT = "7b0c7a4e-3d4e-4d7a-9a53-7f3c1b8a2d11"
WHO = CallerIdentity(TENANT, "reporting-agent")


def _fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.description for v in exc.value.violations}


def _bind(spec: ParameterSpec, **given: Any) -> tuple[Any, ...]:
    return bind_parameters([spec], given, WHO).values


def _draft(*specs: ParameterSpec) -> TemplateDraft:
    sql = "SELECT " + ", ".join(f"${i + 1}" for i in range(len(specs))) if specs else "SELECT 1"
    return TemplateDraft(id="t", name="t", sql=sql, parameters=specs)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=("open", "paid")), "paid", "paid",
                     id="string-allowed"),
        pytest.param(ParameterSpec("p", T.INTEGER, allowed_values=(1.0, 2.0)), "2", 2,
                     id="integer-compared-after-coercion"),
        pytest.param(ParameterSpec("p", T.DATE, allowed_values=("2024-01-01",)), "2024-01-01",
                     date(2024, 1, 1), id="date"),
        pytest.param(ParameterSpec("p", T.LIST_STRING, allowed_values=("a", "b")), ["b", "a"],
                     ["b", "a"], id="list-per-element"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="[A-Z]{2}-[0-9]+"), "EU-12", "EU-12",
                     id="pattern-full-match"),
    ],
)
def test_accepted_values(spec: ParameterSpec, value: Any, expected: Any) -> None:
    assert _bind(spec, p=value) == (expected,)


@pytest.mark.parametrize(
    ("spec", "value", "field", "words"),
    [
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=("open", "paid")), "void",
                     "parameters.p", "allowed values ('open', 'paid')", id="not-allowed"),
        pytest.param(ParameterSpec("p", T.LIST_INT, allowed_values=(1.0, 2.0)), [1, 3],
                     "parameters.p[1]", "allowed values", id="list-element-not-allowed"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="[A-Z]{2}-[0-9]+"), "EU-12x",
                     "parameters.p", "must match the pattern", id="pattern-is-anchored"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="(a+)+$"), "a" * 5000 + "b",
                     "parameters.p", "must match the pattern", id="no-catastrophic-backtracking"),
    ],
)
def test_refused_values_name_the_parameter(
    spec: ParameterSpec, value: Any, field: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        _bind(spec, p=value)
    assert words in _fields(caught)[field]
    assert repr(value) not in str(caught.value)  # the value itself is never echoed


def test_default_must_be_allowed_and_match() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_template(_draft(
            ParameterSpec("a", T.STRING, default_value="x", allowed_values=("y",)),
            ParameterSpec("b", T.STRING, default_value="x", pattern="[0-9]+"),
        ))
    assert set(_fields(caught)) == {
        "template.parameters[0].default_value", "template.parameters[1].default_value",
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param(ParameterSpec("p", T.INTEGER, pattern="[0-9]+"), "pattern", id="pattern-on-integer"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="(unclosed"), "pattern", id="bad-regex"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="(a)\\1"), "pattern", id="backreference-not-re2"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="x" * 1001), "pattern", id="pattern-too-long"),
        pytest.param(ParameterSpec("p", T.INTEGER, allowed_values=("seven",)), "allowed_values[0]",
                     id="allowed-value-of-wrong-type"),
        pytest.param(ParameterSpec("p", T.INTEGER, allowed_values=(5.0,), max_value=3),
                     "allowed_values[0]", id="allowed-value-out-of-bounds"),
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=(["a"],)), "allowed_values[0]",
                     id="allowed-value-list"),
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=(None,)), "allowed_values[0]",
                     id="allowed-value-null"),
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=("ab",), pattern="a"),
                     "allowed_values[0]", id="allowed-value-not-matching-pattern"),
        pytest.param(ParameterSpec("p", T.STRING, allowed_values=tuple(str(i) for i in range(1001))),
                     "allowed_values", id="too-many-allowed-values"),
        pytest.param(ParameterSpec("p", T.INTEGER, bound_to=IdentityBinding.TENANT_ID), "bound_to",
                     id="tenant-bound-integer"),
        pytest.param(ParameterSpec("p", T.UUID, bound_to=IdentityBinding.CALLER_NAME), "bound_to",
                     id="caller-bound-uuid"),
        pytest.param(ParameterSpec("p", T.STRING, required=True, bound_to=IdentityBinding.CALLER_NAME),
                     "required", id="bound-and-required"),
        pytest.param(ParameterSpec("p", T.STRING, default_value="x",
                                   bound_to=IdentityBinding.CALLER_NAME),
                     "default_value", id="bound-with-default"),
        pytest.param(ParameterSpec("p", T.STRING, pattern="x", bound_to=IdentityBinding.CALLER_NAME),
                     "pattern", id="bound-with-pattern"),
    ],
)
def test_bad_declarations_name_the_field(spec: ParameterSpec, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_template(_draft(spec))
    assert f"template.parameters[0].{field}" in _fields(caught)


def test_identity_bound_parameters_are_filled_by_the_service() -> None:
    specs = [
        ParameterSpec("tenant", T.UUID, bound_to=IdentityBinding.TENANT_ID),
        ParameterSpec("who", T.STRING, bound_to=IdentityBinding.CALLER_NAME),
        ParameterSpec("status", T.STRING, required=True),
    ]
    check_template(_draft(*specs))
    bound = bind_parameters(specs, {"status": "open"}, WHO)
    assert [str(v) for v in bound.values] == [TENANT, "reporting-agent", "open"]
    for name in ("tenant", "who"):
        with pytest.raises(InvalidArgument) as caught:
            bind_parameters(specs, {"status": "open", name: None}, WHO)
        assert "the service fills it" in _fields(caught)[f"parameters.{name}"]


def test_input_schema() -> None:
    template = QueryTemplate(
        id="orders", tenant_id=TENANT, name="Orders", description="Orders of a status",
        sql="-", read_only=True, max_rows=10, timeout_seconds=5,
        create_time=datetime(2024, 1, 1, tzinfo=UTC),
        parameters=(
            ParameterSpec("status", T.STRING, required=True, description="Order status",
                          allowed_values=("open", "paid"), max_length=16),
            ParameterSpec("max_id", T.INTEGER, default_value=10.0, min_value=1, max_value=1000),
            ParameterSpec("refs", T.LIST_STRING, pattern="[a-z]+"),
            ParameterSpec("tenant", T.UUID, bound_to=IdentityBinding.TENANT_ID),
        ),
    )
    schema = template_input_schema(template)
    assert schema["required"] == ["status"]
    assert schema["properties"] == {
        "status": {"type": "string", "maxLength": 16, "enum": ["open", "paid"],
                   "description": "Order status"},
        "max_id": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10.0},
        "refs": {"type": "array", "maxItems": 1000,
                 "items": {"type": "string", "maxLength": 10000, "pattern": "^(?:[a-z]+)$"}},
        "tenant": {"type": "string", "format": "uuid", "readOnly": True, "x-bound-to": "tenant_id",
                   "description": "Filled by the service with the caller's tenant id; do not send it."},
    }
    assert (schema["type"], schema["title"], "sql" in str(schema)) == ("object", "Orders", False)


def test_create_digests_are_unchanged_for_requests_without_the_new_fields() -> None:
    # Digests stored before allowed values, patterns, bindings and pins existed must still
    # match a retried create (the values were computed by the code before those fields).
    from engines.kernel.idempotency import request_digest
    from engines.sql_gateway.gateway import GatewayDraft, _digested

    template = TemplateDraft(id="a", name="a", sql="SELECT $1",
                             parameters=[ParameterSpec("x", T.STRING, default_value="q")])
    gateway = GatewayDraft(name="g", connection_string_ref="env://X", allowed_template_ids=["a"])
    assert request_digest(_digested(template)) == (
        "7b968e9e5a08a5e3e376bdc2347b5a84faa71433efa3acbbeb0c5ac6a192f0db")
    assert request_digest(_digested(gateway)) == (
        "5f1baf70155656411e54e1c8081e2fcb27e389bce7f61799fca8cdb23ad5cf89")
    pinned = GatewayDraft(name="g", connection_string_ref="env://X", allowed_template_ids=["a"],
                          template_versions={"a": 1})
    assert request_digest(_digested(pinned)) != request_digest(_digested(gateway))
