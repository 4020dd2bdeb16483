"""SQL query templates: the immutable resource and the checks made when one is registered.

A template is one SQL statement whose `$1..$N` placeholders are exactly its N declared
parameters. The SQL is scanned with a small lexer that knows PostgreSQL's quoting (`'...'`,
`E'...'`, `"..."`, `$tag$...$tag$`) and comments, so a `;` or `$2` inside a literal is not
mistaken for code; engines/sql_gateway/statements.py decides from its code tokens whether the statement
is of an allowed kind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from engines.kernel.errors import FieldViolation, InvalidArgument
from engines.kernel.optimistic import version_etag
from engines.kernel.validation import require_name
from engines.sql_gateway.parameters import ParameterSpec, ParameterType, check_restrictions, coerce_value
from engines.sql_gateway.statements import statement_problems

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_ROWS_LIMIT",
    "MAX_SQL_LENGTH",
    "MAX_TIMEOUT_SECONDS",
    "QueryTemplate",
    "SqlShape",
    "TemplateDraft",
    "check_limit",
    "check_template",
    "require_template_id",
    "scan_sql",
]

DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT_SECONDS = 30
MAX_ROWS_LIMIT = 100_000
MAX_TIMEOUT_SECONDS = 300
MAX_SQL_LENGTH = 100_000
MAX_PARAMETERS = 100
_TEMPLATE_ID_RE = re.compile(r"[a-z0-9-]{1,63}")
_PARAMETER_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PLACEHOLDER_RE = re.compile(r"\$(\d+)")
_DOLLAR_QUOTE_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_LINE_END_RE = re.compile(r"[\r\n]")
_WORD_RE = re.compile(r"[^\W\d][\w$]*")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_NUMERIC_TYPES = (ParameterType.INTEGER, ParameterType.FLOAT, ParameterType.LIST_INT)
_TEXT_TYPES = (ParameterType.STRING, ParameterType.LIST_STRING)


@dataclass(frozen=True, slots=True)
class TemplateDraft:
    """What a caller supplies to register a template; 0 limits mean the defaults."""

    id: str
    name: str
    sql: str
    parameters: Sequence[ParameterSpec] = ()
    description: str = ""
    read_only: bool = True
    max_rows: int = 0
    timeout_seconds: int = 0


@dataclass(frozen=True, slots=True)
class QueryTemplate:
    """A registered template at one version. UpdateQueryTemplate writes version + 1 and keeps
    the older ones readable. `revision` counts every change of the template (new versions,
    disable, enable) and makes the etag; a snapshot of an older version has revision 0, so its
    etag never matches the current one."""

    id: str
    tenant_id: str
    name: str
    description: str
    sql: str
    parameters: tuple[ParameterSpec, ...]
    read_only: bool
    max_rows: int
    timeout_seconds: int
    create_time: datetime
    version: int = 1
    revision: int = 1
    update_time: datetime | None = None  # None: create_time
    disabled: bool = False

    @property
    def etag(self) -> str:
        return version_etag(f"{self.tenant_id}:{self.id}", self.revision)

    @property
    def updated(self) -> datetime:
        return self.update_time or self.create_time


@dataclass(frozen=True, slots=True)
class SqlShape:
    """What the lexer learned: placeholder numbers, how many statements, and the code tokens.

    `tokens` are the words outside literals and comments, lowercased, in order; a quoted
    identifier keeps a leading `"` (`"Orders` for `"Orders"`), and each `(` is a token too."""

    placeholders: frozenset[int]
    statements: int
    unterminated: str | None = None
    tokens: tuple[str, ...] = ()


def _skip_quoted(sql: str, start: int, quote: str, backslash_escapes: bool) -> int:
    """Index just past the literal opened at `start`, or -1 when it never closes."""
    i = start + 1
    while i < len(sql):
        c = sql[i]
        if backslash_escapes and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:  # doubled quote is an escaped quote
                i += 2
                continue
            return i + 1
        i += 1
    return -1


def _skip_block_comment(sql: str, start: int) -> int:
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return -1


def scan_sql(sql: str) -> SqlShape:
    """Finds `$n` placeholders and counts statements outside literals and comments."""
    placeholders: set[int] = set()
    tokens: list[str] = []
    statements, pending_code = 0, False
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        prev = sql[i - 1] if i else " "
        end = i + 1
        unterminated = None
        if c == "'":
            escapes = prev in "eE" and (i < 2 or sql[i - 2] not in _IDENTIFIER_CHARS)
            end, unterminated = _skip_quoted(sql, i, "'", escapes), "string literal"
        elif c == '"':
            end, unterminated = _skip_quoted(sql, i, '"', False), "quoted identifier"
            if end >= 0:
                tokens.append('"' + sql[i + 1 : end - 1].replace('""', '"').lower())
        elif sql.startswith("--", i):
            # PostgreSQL ends a line comment at either line break character.
            line_end = _LINE_END_RE.search(sql, i)
            i = n if line_end is None else line_end.end()
            continue
        elif sql.startswith("/*", i):
            end, unterminated = _skip_block_comment(sql, i), "comment"
            if end >= 0:
                i = end
                continue
        elif c == "$" and prev not in _IDENTIFIER_CHARS:
            placeholder = _PLACEHOLDER_RE.match(sql, i)
            quote = _DOLLAR_QUOTE_RE.match(sql, i)
            if placeholder:
                placeholders.add(int(placeholder.group(1)))
                end = placeholder.end()
            elif quote:
                close = sql.find(quote.group(0), quote.end())
                end = -1 if close < 0 else close + len(quote.group(0))
                unterminated = "dollar-quoted string"
        elif c in _WORD_START and prev not in _IDENTIFIER_CHARS:
            word = _WORD_RE.match(sql, i)
            assert word is not None
            tokens.append(word.group(0).lower())
            end = word.end()
        elif c == "(":
            tokens.append("(")
        elif c == ";":
            if pending_code:
                statements += 1
            pending_code = False
            i += 1
            continue
        if end < 0:
            return SqlShape(frozenset(placeholders), statements, unterminated, tuple(tokens))
        if not c.isspace():
            pending_code = True
        i = end
    if pending_code:
        statements += 1
    return SqlShape(frozenset(placeholders), statements, tokens=tuple(tokens))


def require_template_id(field: str, value: str) -> str:
    """A caller-chosen template id: 1-63 lowercase letters, digits and '-'."""
    if not value:
        raise InvalidArgument.single(field, "is required")
    if not _TEMPLATE_ID_RE.fullmatch(value):
        raise InvalidArgument.single(
            field, "must be 1-63 lowercase letters, digits and '-'"
        )
    return value


def check_limit(field: str, value: int, default: int, maximum: int) -> tuple[int, list[FieldViolation]]:
    """A positive limit where 0 means `default`; returns it and any violation."""
    if value == 0:
        return default, []
    if value < 0 or value > maximum:
        return value, [FieldViolation(field, f"must be between 1 and {maximum} (0 for {default})")]
    return value, []


def _check_sql(sql: str, parameter_count: int, read_only: bool) -> list[FieldViolation]:
    field = "template.sql"
    if not sql.strip():
        return [FieldViolation(field, "is required")]
    if len(sql) > MAX_SQL_LENGTH:
        return [FieldViolation(field, f"must be at most {MAX_SQL_LENGTH} characters")]
    shape = scan_sql(sql)
    if shape.unterminated:
        return [FieldViolation(field, f"has an unterminated {shape.unterminated}")]
    violations = []
    if shape.statements != 1:
        # Values are bound through a prepared statement, which holds exactly one statement.
        violations.append(
            FieldViolation(field, f"must be exactly one statement, found {shape.statements}")
        )
    else:
        violations.extend(
            FieldViolation(field, problem) for problem in statement_problems(shape.tokens, read_only)
        )
    expected = set(range(1, parameter_count + 1))
    if shape.placeholders != expected:
        missing = sorted(expected - shape.placeholders)
        extra = sorted(shape.placeholders - expected)
        detail = []
        if missing:
            detail.append("unused " + ", ".join(f"${k}" for k in missing))
        if extra:
            detail.append("undeclared " + ", ".join(f"${k}" for k in extra))
        violations.append(
            FieldViolation(
                field,
                f"placeholders must be exactly $1..${parameter_count} for the "
                f"{parameter_count} declared parameters ({'; '.join(detail)})",
            )
        )
    return violations


def _check_parameter(index: int, spec: ParameterSpec, seen: set[str]) -> list[FieldViolation]:
    prefix = f"template.parameters[{index}]"
    if not _PARAMETER_NAME_RE.fullmatch(spec.name):
        return [
            FieldViolation(
                f"{prefix}.name", "must be an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)"
            )
        ]
    violations = []
    if spec.name in seen:
        violations.append(FieldViolation(f"{prefix}.name", f"{spec.name!r} is declared twice"))
    seen.add(spec.name)
    if spec.max_length < 0:
        violations.append(FieldViolation(f"{prefix}.max_length", "must be >= 0 (0 for 10000)"))
    elif spec.max_length and spec.type not in _TEXT_TYPES:
        violations.append(FieldViolation(f"{prefix}.max_length", "applies to string types only"))
    bounds = [b for b in (spec.min_value, spec.max_value) if b is not None]
    if bounds and spec.type not in _NUMERIC_TYPES:
        violations.append(FieldViolation(f"{prefix}.min_value", "applies to numeric types only"))
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        violations.append(FieldViolation(f"{prefix}.min_value", "must not exceed max_value"))
    violations.extend(check_restrictions(spec, prefix))
    if spec.default_value is not None and spec.bound_to is None:
        if spec.required:
            violations.append(
                FieldViolation(f"{prefix}.default_value", "a required parameter takes no default")
            )
        elif not violations:
            try:
                coerce_value(spec, spec.default_value, f"{prefix}.default_value")
            except InvalidArgument as exc:
                violations.extend(exc.violations)
    return violations


def check_template(draft: TemplateDraft) -> TemplateDraft:
    """Validates a draft, collecting every violation; returns it with defaults applied."""
    violations: list[FieldViolation] = []
    try:
        require_template_id("template.id", draft.id)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    name = draft.name
    try:
        name = require_name("template.name", draft.name)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    if len(draft.description) > 2000:
        violations.append(FieldViolation("template.description", "must be at most 2000 characters"))
    if len(draft.parameters) > MAX_PARAMETERS:
        violations.append(
            FieldViolation("template.parameters", f"must declare at most {MAX_PARAMETERS}")
        )
    seen: set[str] = set()
    for index, spec in enumerate(draft.parameters):
        violations.extend(_check_parameter(index, spec, seen))
    violations.extend(_check_sql(draft.sql, len(draft.parameters), draft.read_only))
    max_rows, bad = check_limit("template.max_rows", draft.max_rows, DEFAULT_MAX_ROWS, MAX_ROWS_LIMIT)
    violations.extend(bad)
    timeout, bad = check_limit(
        "template.timeout_seconds", draft.timeout_seconds, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS
    )
    violations.extend(bad)
    if violations:
        raise InvalidArgument(violations)
    return replace(draft, name=name, max_rows=max_rows, timeout_seconds=timeout)
