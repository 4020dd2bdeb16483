"""Which statements a template may hold: kinds allowed per mode, denied functions and relations,
and names inside literals and comments not counting."""

from __future__ import annotations

import pytest

from engines.sql_gateway.statements import statement_problems
from engines.sql_gateway.templates import scan_sql


def _problems(sql: str, read_only: bool) -> list[str]:
    return statement_problems(scan_sql(sql).tokens, read_only)


@pytest.mark.parametrize(
    ("sql", "read_only"),
    [
        pytest.param("SELECT * FROM orders", True, id="select"),
        pytest.param("(SELECT 1) UNION (SELECT 2)", True, id="parenthesised"),
        pytest.param("WITH o AS (SELECT 1) SELECT * FROM o", True, id="with"),
        pytest.param("VALUES (1), (2)", True, id="values"),
        pytest.param("TABLE orders", True, id="table"),
        pytest.param("SELECT 'set_config(1)', \"note\" FROM t -- pg_read_file\n", True,
                     id="names-in-literals-and-comments"),
        pytest.param("SELECT $$ SET ROLE x $$", True, id="dollar-quoted-text"),
        pytest.param("SELECT * FROM orders FOR UPDATE", True, id="for-update"),
        pytest.param("SELECT settings FROM t", True, id="word-containing-set"),
        pytest.param("INSERT INTO audit (note) VALUES ($1) RETURNING id", False, id="insert"),
        pytest.param("UPDATE orders SET status = $1", False, id="update"),
        pytest.param("DELETE FROM audit WHERE id = $1", False, id="delete"),
        pytest.param("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", False,
                     id="merge"),
        pytest.param("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO u SELECT * FROM d",
                     False, id="writable-cte-in-write-template"),
    ],
)
def test_allowed(sql: str, read_only: bool) -> None:
    assert _problems(sql, read_only) == []


@pytest.mark.parametrize(
    ("sql", "read_only", "fragment"),
    [
        pytest.param("INSERT INTO t VALUES (1)", True, "must set read_only: false", id="ro-insert"),
        pytest.param("WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", True, "DELETE",
                     id="ro-writable-cte"),
        pytest.param("SELECT * INTO TEMP orders FROM orders", False, "INTO", id="select-into"),
        pytest.param("SET ROLE postgres", False, "not SET", id="set"),
        pytest.param('SELECT "SET_CONFIG"(\'role\', \'x\', false)', True, "set_config",
                     id="quoted-function-name"),
        pytest.param("SELECT pg_catalog.set_config('role', 'x', false)", True, "set_config",
                     id="qualified-function"),
        pytest.param("SELECT 1 -- x\rFROM pg_read_file('/etc/passwd')", True, "pg_read_file",
                     id="cr-ends-comment"),
        pytest.param("UPDATE pg_settings SET setting = 'x' WHERE name = 'role'", False,
                     "pg_settings", id="pg-settings"),
    ],
)
def test_refused(sql: str, read_only: bool, fragment: str) -> None:
    problems = _problems(sql, read_only)
    assert problems and fragment in " ".join(problems)
