"""Typed parameters of SQL query templates: their declaration, and the checking, coercion and
injection screening of the values a caller supplies before they are bound to `$n` placeholders.

Values arrive as JSON-like Python values (None, bool, float, str, list, dict). Each is checked
against its declared type and coerced to the Python type the database driver binds; values are
never spliced into SQL text.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import re2

from engines.kernel.errors import FieldViolation, InvalidArgument

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "INJECTION_REASON",
    "MAX_LIST_LENGTH",
    "MAX_ALLOWED_VALUES",
    "MAX_PATTERN_LENGTH",
    "BoundParameters",
    "CallerIdentity",
    "IdentityBinding",
    "ParameterSpec",
    "ParameterType",
    "bind_parameters",
    "check_restrictions",
    "coerce_value",
    "compile_pattern",
    "element_type",
    "suspicious_pattern",
]

DEFAULT_MAX_LENGTH = 10_000
MAX_LIST_LENGTH = 1_000
MAX_ALLOWED_VALUES = 1_000
MAX_PATTERN_LENGTH = 1_000
INJECTION_REASON = "SQL_INJECTION_SUSPECTED"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# From the API contract. Symbols match anywhere; keywords only as whole words, so "selection",
# "updated_at" or "Dropbox" pass while "drop table" does not.
_INJECTION_SYMBOLS = ("';", '";', "--", "/*", "*/")
_INJECTION_KEYWORDS = (
    "UNION", "SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "TRUNCATE", "CREATE", "ALTER",
    "EXEC", "EXECUTE",
)
_KEYWORD_RE = re.compile(r"\b(" + "|".join(_INJECTION_KEYWORDS) + r")\b", re.IGNORECASE)
_INTEGER_RE = re.compile(r"[+-]?\d+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE_WORDS = frozenset({"true", "1", "yes"})
_FALSE_WORDS = frozenset({"false", "0", "no"})


class ParameterType(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    UUID = "uuid"
    LIST_STRING = "list_string"
    LIST_INT = "list_int"


class IdentityBinding(enum.StrEnum):
    """Who fills an identity-bound parameter: the service, from the call, never the caller."""

    TENANT_ID = "tenant_id"
    CALLER_NAME = "caller_name"


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """What identity-bound parameters are filled from: the gateway's tenant and the caller."""

    tenant_id: str
    caller_name: str

    def value_of(self, binding: IdentityBinding) -> str:
        return self.tenant_id if binding is IdentityBinding.TENANT_ID else self.caller_name


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One declared parameter; its position in the template's list is its placeholder number.

    `allowed_values` (coerced to the type; for lists, per element) and `pattern` (an RE2
    expression a STRING value or LIST_STRING element must match in full) are checked before
    binding. A parameter with `bound_to` is filled by the service from the caller's identity."""

    name: str
    type: ParameterType
    required: bool = False
    default_value: Any = None
    description: str = ""
    max_length: int = 0
    min_value: float | None = None
    max_value: float | None = None
    allowed_values: tuple[Any, ...] = ()
    pattern: str = ""
    bound_to: IdentityBinding | None = None

    @property
    def length_limit(self) -> int:
        return self.max_length or DEFAULT_MAX_LENGTH


@dataclass(frozen=True, slots=True)
class BoundParameters:
    """Coerced values in placeholder order, and the supplied names the template does not declare."""

    names: tuple[str, ...]
    values: tuple[Any, ...]
    ignored: tuple[str, ...]


def suspicious_pattern(text: str) -> str | None:
    """The first injection pattern of the contract found in `text`, or None."""
    for symbol in _INJECTION_SYMBOLS:
        if symbol in text:
            return symbol
    match = _KEYWORD_RE.search(text)
    return match.group(1).upper() if match else None


def _fail(field: str, description: str) -> InvalidArgument:
    return InvalidArgument.single(field, description)


def _string(spec: ParameterSpec, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(field, "must be a string")
    if len(value) > spec.length_limit:
        raise _fail(field, f"must be at most {spec.length_limit} characters")
    return value


def _in_range(spec: ParameterSpec, number: float, field: str) -> None:
    if spec.min_value is not None and number < spec.min_value:
        raise _fail(field, f"must be >= {spec.min_value:g}")
    if spec.max_value is not None and number > spec.max_value:
        raise _fail(field, f"must be <= {spec.max_value:g}")


def _integer(spec: ParameterSpec, value: Any, field: str) -> int:
    # Numbers arrive as doubles; integers beyond 2^53 must be sent as decimal strings.
    if isinstance(value, bool):
        raise _fail(field, "must be an integer")
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise _fail(field, "must be an integer")
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise _fail(field, "must fit in 64 bits")
    _in_range(spec, number, field)
    return number


def _float(spec: ParameterSpec, value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise _fail(field, "must be a number")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise _fail(field, "must be a number") from None
    if not math.isfinite(number):
        raise _fail(field, "must be a finite number")
    _in_range(spec, number, field)
    return number


def _boolean(spec: ParameterSpec, value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise _fail(field, 'must be a boolean or one of "true", "1", "yes", "false", "0", "no"')


def _date(spec: ParameterSpec, value: Any, field: str) -> date:
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(field, "must be a date written YYYY-MM-DD")


def _timestamp(spec: ParameterSpec, value: Any, field: str) -> datetime:
    if isinstance(value, str) and len(value) >= 10 and _DATE_RE.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    raise _fail(field, "must be an ISO 8601 timestamp, e.g. 2024-05-01T12:00:00Z")


def _uuid(spec: ParameterSpec, value: Any, field: str) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _fail(field, "must be a UUID")


def _list(spec: ParameterSpec, value: Any, field: str, element: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(field, "must be a list")
    if len(value) > MAX_LIST_LENGTH:
        raise _fail(field, f"must have at most {MAX_LIST_LENGTH} elements")
    return [element(spec, item, f"{field}[{i}]") for i, item in enumerate(value)]


_Coercer = Callable[[ParameterSpec, Any, str], Any]
_COERCERS: dict[ParameterType, _Coercer] = {
    ParameterType.STRING: _string,
    ParameterType.INTEGER: _integer,
    ParameterType.FLOAT: _float,
    ParameterType.BOOLEAN: _boolean,
    ParameterType.DATE: _date,
    ParameterType.TIMESTAMP: _timestamp,
    ParameterType.UUID: _uuid,
    ParameterType.LIST_STRING: lambda s, v, f: _list(s, v, f, _string),
    ParameterType.LIST_INT: lambda s, v, f: _list(s, v, f, _integer),
}


_LIST_ELEMENT = {
    ParameterType.LIST_STRING: ParameterType.STRING,
    ParameterType.LIST_INT: ParameterType.INTEGER,
}


def element_type(spec_type: ParameterType) -> ParameterType:
    """The type allowed values and patterns are checked against: a list's element type."""
    return _LIST_ELEMENT.get(spec_type, spec_type)


def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 expression (linear-time: no catastrophic backtracking); raises
    `re2.error` when it is not one."""
    return _compiled(pattern)


_PATTERNS: dict[str, Any] = {}


def _compiled(pattern: str) -> Any:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        options = re2.Options()
        options.log_errors = False
        compiled = re2.compile(pattern, options)
        if len(_PATTERNS) > 1024:
            _PATTERNS.clear()
        _PATTERNS[pattern] = compiled
    return compiled


_ALLOWED_SETS: dict[tuple[ParameterType, tuple[Any, ...]], frozenset[Any]] = {}


def _allowed_set(spec: ParameterSpec) -> frozenset[Any]:
    """The allowed values coerced like a supplied value, so "2024-01-01" equals a date and 3.0
    equals 3; they were checked when the template was registered."""
    key = (spec.type, spec.allowed_values)
    allowed = _ALLOWED_SETS.get(key)
    if allowed is None:
        kind = element_type(spec.type)
        plain = ParameterSpec(spec.name, kind, max_length=spec.max_length)
        allowed = frozenset(_COERCERS[kind](plain, v, "allowed_values") for v in spec.allowed_values)
        if len(_ALLOWED_SETS) > 1024:
            _ALLOWED_SETS.clear()
        _ALLOWED_SETS[key] = allowed
    return allowed


def _restricted(spec: ParameterSpec, value: Any, field: str) -> None:
    """The allowed-values and pattern checks of one coerced scalar (or list element)."""
    if spec.allowed_values and value not in _allowed_set(spec):
        # Name the choices, not the value: it may be an attack or personal data.
        shown = ", ".join(repr(v) for v in spec.allowed_values[:20])
        more = ", ..." if len(spec.allowed_values) > 20 else ""
        raise _fail(field, f"must be one of the allowed values ({shown}{more})")
    if spec.pattern and isinstance(value, str) and not _compiled(spec.pattern).fullmatch(value):
        raise _fail(field, f"must match the pattern {spec.pattern!r}")


def check_restrictions(spec: ParameterSpec, prefix: str) -> list[FieldViolation]:
    """Violations of a declaration's allowed values, pattern and identity binding."""
    violations: list[FieldViolation] = []
    kind = element_type(spec.type)
    if spec.pattern:
        if kind is not ParameterType.STRING:
            violations.append(FieldViolation(f"{prefix}.pattern", "applies to string types only"))
        elif len(spec.pattern) > MAX_PATTERN_LENGTH:
            violations.append(
                FieldViolation(f"{prefix}.pattern", f"must be at most {MAX_PATTERN_LENGTH} characters")
            )
        else:
            try:
                compile_pattern(spec.pattern)
            except re2.error as exc:
                reason = exc.args[0] if exc.args else ""
                if isinstance(reason, bytes):
                    reason = reason.decode("utf-8", "replace")
                violations.append(
                    FieldViolation(
                        f"{prefix}.pattern", f"is not a valid RE2 regular expression: {reason}"
                    )
                )
    if len(spec.allowed_values) > MAX_ALLOWED_VALUES:
        violations.append(
            FieldViolation(f"{prefix}.allowed_values", f"must list at most {MAX_ALLOWED_VALUES}")
        )
    elif spec.allowed_values and not violations:
        for i, value in enumerate(spec.allowed_values):
            field = f"{prefix}.allowed_values[{i}]"
            if value is None or isinstance(value, (list, dict)):
                violations.append(FieldViolation(field, "must be a single value, not null or a list"))
                continue
            try:
                coerced = _COERCERS[kind](spec, value, field)
                if spec.pattern and isinstance(coerced, str):
                    _restricted(ParameterSpec(spec.name, kind, pattern=spec.pattern), coerced, field)
            except InvalidArgument as exc:
                violations.extend(exc.violations)
    if spec.bound_to is not None:
        if spec.type not in (ParameterType.STRING, ParameterType.UUID) or (
            spec.bound_to is IdentityBinding.CALLER_NAME and spec.type is not ParameterType.STRING
        ):
            violations.append(
                FieldViolation(
                    f"{prefix}.bound_to",
                    "a tenant id binds to a STRING or UUID parameter, a caller name to a STRING one",
                )
            )
        for name, given in (
            ("required", spec.required),
            ("default_value", spec.default_value is not None),
            ("allowed_values", bool(spec.allowed_values)),
            ("pattern", bool(spec.pattern)),
        ):
            if given:
                violations.append(
                    FieldViolation(
                        f"{prefix}.{name}",
                        "must be unset on an identity-bound parameter: the service fills it",
                    )
                )
    return violations


def coerce_value(spec: ParameterSpec, value: Any, field: str) -> Any:
    """The value as the driver binds it; raises InvalidArgument naming `field` otherwise.

    Allowed values and the pattern are checked on the coerced value (each element of a list)."""
    coerced = _COERCERS[spec.type](spec, value, field)
    if spec.allowed_values or spec.pattern:
        if isinstance(coerced, list):
            for i, item in enumerate(coerced):
                _restricted(spec, item, f"{field}[{i}]")
        else:
            _restricted(spec, coerced, field)
    return coerced


def _screen(spec: ParameterSpec, value: Any, field: str) -> FieldViolation | None:
    texts: Sequence[Any] = ()
    if spec.type is ParameterType.STRING:
        texts = [value]
    elif spec.type is ParameterType.LIST_STRING:
        texts = value
    for text in texts:
        pattern = suspicious_pattern(text)
        if pattern is not None:
            # Name the pattern, not the value: the value may be an attack or personal data.
            return FieldViolation(field, f"contains the suspicious SQL pattern {pattern!r}")
    return None


def bind_parameters(
    specs: Sequence[ParameterSpec],
    given: Mapping[str, Any],
    identity: CallerIdentity | None = None,
) -> BoundParameters:
    """Checks every supplied value against its spec, in placeholder order.

    Identity-bound parameters are filled from `identity`; a request that names one (even with
    null) is refused. Raises InvalidArgument listing every bad parameter; when any value
    contains an injection pattern the error carries reason SQL_INJECTION_SUSPECTED."""
    values: list[Any] = []
    violations: list[FieldViolation] = []
    suspicious: list[FieldViolation] = []
    for spec in specs:
        field = f"parameters.{spec.name}"
        if spec.bound_to is not None:
            if spec.name in given:
                violations.append(
                    FieldViolation(
                        field,
                        f"is bound to the caller's {spec.bound_to.value.replace('_', ' ')}; "
                        "the service fills it, a request must not set it",
                    )
                )
                continue
            if identity is None:
                violations.append(FieldViolation(field, "has no caller identity to bind"))
                continue
            bound_value = identity.value_of(spec.bound_to)
            try:
                values.append(_COERCERS[spec.type](spec, bound_value, field))
            except InvalidArgument as exc:
                violations.extend(exc.violations)
            continue
        value = given.get(spec.name)
        if value is None:
            if spec.required:
                violations.append(FieldViolation(field, "is required"))
                continue
            value = spec.default_value
            if value is None:
                values.append(None)
                continue
        try:
            coerced = coerce_value(spec, value, field)
        except InvalidArgument as exc:
            violations.extend(exc.violations)
            continue
        flagged = _screen(spec, coerced, field)
        if flagged is not None:
            suspicious.append(flagged)
        values.append(coerced)
    if suspicious:
        raise InvalidArgument(
            [*suspicious, *violations],
            reason=INJECTION_REASON,
            metadata={"parameters": ",".join(v.field.removeprefix("parameters.") for v in suspicious)},
        )
    if violations:
        raise InvalidArgument(violations)
    declared = {spec.name for spec in specs}
    return BoundParameters(
        names=tuple(spec.name for spec in specs),
        values=tuple(values),
        ignored=tuple(sorted(set(given) - declared)),
    )
