"""Template registration checks: the SQL lexer, placeholders, single statements, parameter specs."""

from __future__ import annotations

from typing import Any

import pytest

from engines.kernel.errors import InvalidArgument
from engines.sql_gateway.parameters import ParameterSpec, ParameterType
from engines.sql_gateway.templates import TemplateDraft, check_template, scan_sql

T = ParameterType
TWO = [ParameterSpec("a", T.STRING), ParameterSpec("b", T.STRING)]


@pytest.mark.parametrize(
    ("sql", "placeholders", "statements"),
    [
        pytest.param("SELECT $1, $2", {1, 2}, 1, id="plain"),
        pytest.param("SELECT 1;", set(), 1, id="trailing-semicolon"),
        pytest.param("SELECT 1;\n -- done\n", set(), 1, id="trailing-comment"),
        pytest.param("SELECT 1; SELECT 2", set(), 2, id="chained"),
        pytest.param("SELECT ';$4', $1", {1}, 1, id="string-literal"),
        pytest.param("SELECT E'\\'; $9', $1", {1}, 1, id="escape-string"),
        pytest.param('SELECT "a;""$3" FROM t', set(), 1, id="quoted-identifier"),
        pytest.param("SELECT $$ ; $1 $$, $2", {2}, 1, id="dollar-quote"),
        pytest.param("SELECT $tag$ $1 ; $tag$", set(), 1, id="tagged-dollar-quote"),
        pytest.param("SELECT 1 -- ; $3\n, $1", {1}, 1, id="line-comment"),
        pytest.param("SELECT 1 -- ; $3\r, $1", {1}, 1, id="line-comment-ends-at-cr"),
        pytest.param("SELECT 1 -- x\r; SELECT 2", set(), 2, id="cr-ends-comment-then-code"),
        pytest.param("SELECT /* ; /* $5 */ */ $1", {1}, 1, id="nested-block-comment"),
        pytest.param("SELECT foo$1 FROM t", set(), 1, id="dollar-inside-identifier"),
    ],
)
def test_scan_sql(sql: str, placeholders: set[int], statements: int) -> None:
    shape = scan_sql(sql)
    assert (set(shape.placeholders), shape.statements, shape.unterminated) == (
        placeholders, statements, None,
    )


@pytest.mark.parametrize(
    "sql", ["SELECT 'abc", 'SELECT "abc', "SELECT /* x", "SELECT $$ x", "SELECT $a$ x $b$"]
)
def test_scan_sql_reports_unterminated(sql: str) -> None:
    assert scan_sql(sql).unterminated is not None


def _draft(**fields: Any) -> TemplateDraft:
    values: dict[str, Any] = {"id": "orders-v1", "name": "Orders", "sql": "SELECT 1"}
    values.update(fields)
    return TemplateDraft(**values)


def _violations(draft: TemplateDraft) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        check_template(draft)
    return {v.field: v.description for v in caught.value.violations}


def test_defaults_are_applied() -> None:
    checked = check_template(_draft(name="  Orders  "))
    assert (checked.name, checked.max_rows, checked.timeout_seconds) == ("Orders", 1000, 30)


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        pytest.param({"id": "Orders"}, "template.id", "lowercase", id="id-uppercase"),
        pytest.param({"id": "a" * 64}, "template.id", "1-63", id="id-too-long"),
        pytest.param({"id": ""}, "template.id", "required", id="id-missing"),
        pytest.param({"name": ""}, "template.name", "required", id="name-missing"),
        pytest.param({"sql": " "}, "template.sql", "required", id="sql-missing"),
        pytest.param({"sql": "SELECT 1; DROP TABLE t"}, "template.sql", "one statement",
                     id="chained-statements"),
        pytest.param({"sql": "SELECT 'x"}, "template.sql", "unterminated", id="unterminated"),
        pytest.param({"sql": "SELECT $1"}, "template.sql", "undeclared $1", id="undeclared-placeholder"),
        pytest.param(
            {"sql": "SELECT $1", "parameters": TWO},
            "template.sql", "unused $2", id="unused-parameter",
        ),
        pytest.param(
            {"sql": "SELECT $1, $3", "parameters": TWO},
            "template.sql", "$1..$2", id="gap",
        ),
        pytest.param({"max_rows": -1}, "template.max_rows", "between 1", id="negative-rows"),
        pytest.param({"max_rows": 100_001}, "template.max_rows", "between 1", id="too-many-rows"),
        pytest.param({"timeout_seconds": -3}, "template.timeout_seconds", "between 1", id="negative-timeout"),
    ],
)
def test_invalid_templates(fields: dict[str, Any], field: str, fragment: str) -> None:
    violations = _violations(_draft(**fields))
    assert fragment in violations[field]


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        pytest.param(ParameterSpec("1abc", T.STRING), "name", "identifier", id="name-not-identifier"),
        pytest.param(ParameterSpec("a b", T.STRING), "name", "identifier", id="name-space"),
        pytest.param(ParameterSpec("n", T.INTEGER, max_length=3), "max_length", "string", id="length-on-int"),
        pytest.param(ParameterSpec("n", T.STRING, max_length=-1), "max_length", ">= 0", id="negative-length"),
        pytest.param(ParameterSpec("n", T.STRING, min_value=1), "min_value", "numeric", id="range-on-string"),
        pytest.param(ParameterSpec("n", T.INTEGER, min_value=5, max_value=1), "min_value", "exceed",
                     id="inverted-range"),
        pytest.param(ParameterSpec("n", T.INTEGER, default_value="x"), "default_value", "integer",
                     id="default-wrong-type"),
        pytest.param(ParameterSpec("n", T.INTEGER, default_value=50.0, max_value=10), "default_value",
                     "<= 10", id="default-out-of-range"),
        pytest.param(ParameterSpec("n", T.INTEGER, required=True, default_value=1.0), "default_value",
                     "required", id="required-with-default"),
    ],
)
def test_invalid_parameter_specs(spec: ParameterSpec, field: str, fragment: str) -> None:
    violations = _violations(_draft(sql="SELECT $1", parameters=[spec]))
    assert fragment in violations[f"template.parameters[0].{field}"]


def test_duplicate_parameter_names() -> None:
    specs = [ParameterSpec("a", T.STRING), ParameterSpec("a", T.INTEGER)]
    violations = _violations(_draft(sql="SELECT $1, $2", parameters=specs))
    assert "twice" in violations["template.parameters[1].name"]


def test_every_violation_is_reported_at_once() -> None:
    violations = _violations(_draft(id="BAD", name="", sql="SELECT $1", max_rows=-1))
    assert set(violations) == {"template.id", "template.name", "template.sql", "template.max_rows"}
