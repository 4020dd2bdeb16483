"""A query template's parameters as a JSON Schema (draft 2020-12), the input schema of a tool.

Agents and UIs call templates as tools from this schema alone; the SQL is not in it. Each
caller-supplied parameter is a property with its type, bounds, allowed values, pattern, default
and description. Identity-bound parameters are listed as read-only (the service fills them) and
are never required.
"""

from __future__ import annotations

from typing import Any

from engines.sql_gateway.parameters import MAX_LIST_LENGTH, ParameterSpec, ParameterType, element_type
from engines.sql_gateway.templates import QueryTemplate

__all__ = ["JSON_SCHEMA_DIALECT", "parameter_schema", "template_input_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SCALAR: dict[ParameterType, dict[str, Any]] = {
    ParameterType.STRING: {"type": "string"},
    # Integers beyond 2^53 may be sent as decimal strings; the schema states the usual form.
    ParameterType.INTEGER: {"type": "integer"},
    ParameterType.FLOAT: {"type": "number"},
    ParameterType.BOOLEAN: {"type": "boolean"},
    ParameterType.DATE: {"type": "string", "format": "date"},
    ParameterType.TIMESTAMP: {"type": "string", "format": "date-time"},
    ParameterType.UUID: {"type": "string", "format": "uuid"},
}


def _element_schema(spec: ParameterSpec) -> dict[str, Any]:
    kind = element_type(spec.type)
    schema = dict(_SCALAR[kind])
    if kind is ParameterType.STRING:
        schema["maxLength"] = spec.length_limit
        if spec.pattern:
            # RE2 full match: anchored, as JSON Schema's (unanchored) pattern needs to say.
            schema["pattern"] = f"^(?:{spec.pattern})$"
    if kind in (ParameterType.INTEGER, ParameterType.FLOAT):
        if spec.min_value is not None:
            schema["minimum"] = _number(spec.min_value, kind)
        if spec.max_value is not None:
            schema["maximum"] = _number(spec.max_value, kind)
    if spec.allowed_values:
        schema["enum"] = list(spec.allowed_values)
    return schema


def _number(value: float, kind: ParameterType) -> float | int:
    return int(value) if kind is ParameterType.INTEGER and float(value).is_integer() else value


def parameter_schema(spec: ParameterSpec) -> dict[str, Any]:
    """The JSON Schema of one parameter."""
    if spec.type in (ParameterType.LIST_STRING, ParameterType.LIST_INT):
        schema: dict[str, Any] = {
            "type": "array",
            "items": _element_schema(spec),
            "maxItems": MAX_LIST_LENGTH,
        }
    else:
        schema = _element_schema(spec)
    if spec.description:
        schema["description"] = spec.description
    if spec.default_value is not None:
        schema["default"] = spec.default_value
    if spec.bound_to is not None:
        schema["readOnly"] = True
        schema["x-bound-to"] = spec.bound_to.value
        who = spec.bound_to.value.replace("_", " ")
        note = f"Filled by the service with the caller's {who}; do not send it."
        schema["description"] = f"{spec.description} {note}".strip()
        schema.pop("maxLength", None)
    return schema


def template_input_schema(template: QueryTemplate) -> dict[str, Any]:
    """The template's parameters as one JSON Schema object."""
    properties = {spec.name: parameter_schema(spec) for spec in template.parameters}
    required = [s.name for s in template.parameters if s.required and s.bound_to is None]
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": template.name,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": True,
    }
    if template.description:
        schema["description"] = template.description
    return schema
