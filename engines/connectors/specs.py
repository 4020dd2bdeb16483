"""The configuration each connector type and data source type accepts, as JSON Schema (draft
2020-12), with secret fields marked the way Airbyte's connector specs do (`airbyte_secret`, here
`x-secret`, plus `writeOnly`), so UIs and agents can build a form without reading the rules.

The schemas describe exactly what `engines.connectors.connector.validated` and
`engines.data_sources.settings.plan_settings` check; tests/unit/test_connector_specs.py holds the
two together."""

from __future__ import annotations

from typing import Any

from engines.connectors.connection_tester import MAX_TIMEOUT_SECONDS
from engines.connectors.connector import ConnectorType
from engines.data_sources.settings import AUTH_TYPES, DataSourceType

__all__ = ["connector_spec", "data_source_spec", "secret_fields"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NAME = {"type": "string", "minLength": 1, "maxLength": 128, "description": "Display name."}
_TIMEOUT = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": MAX_TIMEOUT_SECONDS,
    "description": "Seconds a connection test may take (default 10).",
}
_SECRET_KEYS = (
    "Keys that name a secret (password, token, api_key, secret, ...) are refused: secrets go "
    "through a credential ref."
)


def _secret(description: str) -> dict[str, Any]:
    return {"type": "string", "writeOnly": True, "x-secret": True, "description": description}


def _endpoint(connector_type: ConnectorType) -> dict[str, Any]:
    if connector_type in (ConnectorType.HTTP, ConnectorType.MCP):
        return {"type": "string", "format": "uri", "pattern": "^https?://",
                "description": "The http(s) URL the connector reaches."}
    if connector_type is ConnectorType.SQL:
        return {"type": "string", "format": "uri", "pattern": "^postgres(ql)?://",
                "description": "A postgresql:// URL without a password (the password or the "
                "whole connection string is behind credential_ref); empty when credential_ref "
                "holds the connection string."}
    return {"type": "string", "description": "host:port or an http(s) URL; may be empty."}


def connector_spec(connector_type: ConnectorType) -> dict[str, Any]:
    """The JSON Schema of a connector of `connector_type` as RegisterConnector takes it."""
    required = ["name"]
    if connector_type in (ConnectorType.HTTP, ConnectorType.MCP):
        required.append("endpoint")
    if connector_type is ConnectorType.SQL:
        required.append("credential_ref")
    return {
        "$schema": _DRAFT,
        "title": f"{connector_type.name} connector",
        "type": "object",
        "required": required,
        "properties": {
            "name": _NAME,
            "endpoint": _endpoint(connector_type),
            "credential_ref": {
                "type": "string",
                "x-credential-ref": True,
                "description": "A credential ref (encrypted://, cus-vault://) of the tenant, "
                "never the secret itself.",
            },
            "config": {
                "type": "object",
                "properties": {"timeout_seconds": _TIMEOUT},
                "additionalProperties": True,
                "description": f"Free-form options. {_SECRET_KEYS}",
            },
            "metadata": {"type": "object", "description": f"Free-form labels. {_SECRET_KEYS}"},
        },
    }


def data_source_spec(source_type: DataSourceType) -> dict[str, Any]:
    """The JSON Schema of a data source's `config` for `source_type` as RegisterDataSource
    takes it."""
    def bounded(low: int, high: int, text: str) -> dict[str, Any]:
        return {"type": "integer", "minimum": low, "maximum": high, "description": text}

    properties: dict[str, Any] = {
        "connection_string": {
            "type": "string", "format": "uri", "x-secret": True,
            "description": "A URL; a password inside it is stored in the credential service "
            "and returned masked as ***.",
        },
        "host": {"type": "string", "maxLength": 255, "description": "Host name or address."},
        "port": bounded(0, 65535, "TCP port; 0 means the type's default."),
        "username": {"type": "string", "maxLength": 128},
        "password": _secret("Stored in the credential service; never returned."),
        "database": {"type": "string", "maxLength": 128},
        "auth_type": {"type": "string", "enum": [a for a in AUTH_TYPES if a]},
        "api_key": _secret("Stored in the credential service; never returned."),
        "ssl_enabled": {"type": "boolean"},
        "ssl_verify": {"type": "boolean"},
        "pool_size": bounded(0, 100, "Connections a client should pool."),
        "pool_timeout_seconds": bounded(0, 300, "Seconds a connection test may take; 0: 10."),
        "max_retries": bounded(0, 10, "Retries a client should make."),
        "options": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "auth_header": {"type": "string", "description": "Header the API key is sent in."},
                "timeout_seconds": _TIMEOUT,
            },
            "additionalProperties": True,
            "description": f"Other options. {_SECRET_KEYS}",
        },
    }
    schema: dict[str, Any] = {
        "$schema": _DRAFT,
        "title": f"{source_type.name} data source configuration",
        "type": "object",
        "properties": properties,
    }
    if source_type is DataSourceType.DATABASE:
        properties["connection_string"]["pattern"] = "^postgres(ql)?://"
        schema["anyOf"] = [{"required": ["connection_string"]}, {"required": ["host"]}]
    if source_type is DataSourceType.API:
        properties["connection_string"]["pattern"] = "^https?://"
        schema["anyOf"] = [{"required": ["connection_string"]},
                           {"required": ["options"], "properties": {"options": {"required": ["url"]}}}]
    return schema


def secret_fields(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the fields a schema marks secret."""
    found: list[str] = []
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if field.get("x-secret"):
            found.append(path)
        found.extend(secret_fields(field, f"{path}."))
    return found
