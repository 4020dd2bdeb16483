"""The JSON Schemas GetConnectorSpec serves say what registration checks: what a schema
requires the validators require, and what it marks secret is stored in the credential service."""

from __future__ import annotations

import pytest

from engines.connectors.connector import ConnectorType, validated
from engines.connectors.specs import connector_spec, data_source_spec, secret_fields
from engines.data_sources.settings import (
    ConnectionInput,
    ConnectionSettings,
    DataSourceType,
    plan_settings,
)
from engines.kernel.errors import InvalidArgument

_EMPTY = {"name": "c", "endpoint": "", "credential_ref": "", "config": {}, "metadata": {}}


@pytest.mark.parametrize("connector_type", list(ConnectorType))
def test_a_connector_missing_a_required_field_is_refused(connector_type: ConnectorType) -> None:
    schema = connector_spec(connector_type)
    assert schema["required"][0] == "name"
    for field in schema["required"]:
        with pytest.raises(InvalidArgument) as caught:
            validated("connector", connector_type, _EMPTY | {field: ""})
        assert f"connector.{field}" in {v.field for v in caught.value.violations}
    if schema["required"] == ["name"]:
        assert validated("connector", connector_type, dict(_EMPTY))["name"] == "c"


def test_connector_config_bounds_match_the_validator() -> None:
    config = connector_spec(ConnectorType.HTTP)["properties"]["config"]
    most = config["properties"]["timeout_seconds"]["maximum"]
    values = _EMPTY | {"endpoint": "https://api.example"}
    validated("connector", ConnectorType.HTTP, values | {"config": {"timeout_seconds": most}})
    with pytest.raises(InvalidArgument):
        validated("connector", ConnectorType.HTTP, values | {"config": {"timeout_seconds": most + 1}})
    with pytest.raises(InvalidArgument):
        validated("connector", ConnectorType.HTTP, values | {"config": {"password": "x"}})


@pytest.mark.parametrize("source_type", list(DataSourceType))
def test_data_source_alternatives_are_what_the_planner_needs(source_type: DataSourceType) -> None:
    schema = data_source_spec(source_type)
    examples = {"connection_string": "postgresql://db/x" if source_type is DataSourceType.DATABASE
                else "https://api.example/v1", "host": "db.example"}
    alternatives = schema.get("anyOf")
    if alternatives is None:
        plan_settings("d", source_type, ConnectionInput())  # nothing is required
        return
    with pytest.raises(InvalidArgument):
        plan_settings("d", source_type, ConnectionInput())
    for alternative in alternatives:
        (field,) = alternative["required"]
        settings = (ConnectionSettings(options={"url": "https://api.example"}) if field == "options"
                    else ConnectionSettings(**{field: examples[field]}))
        plan_settings("d", source_type, ConnectionInput(settings=settings))


def test_secrets_are_marked_and_bounds_match() -> None:
    schema = data_source_spec(DataSourceType.DATABASE)
    assert set(secret_fields(schema)) == {"connection_string", "password", "api_key"}
    assert schema["properties"]["password"]["writeOnly"] is True
    pool = schema["properties"]["pool_size"]
    with pytest.raises(InvalidArgument):
        plan_settings("d", DataSourceType.DATABASE, ConnectionInput(
            settings=ConnectionSettings(host="h", pool_size=pool["maximum"] + 1)))
    assert "options.url" not in secret_fields(data_source_spec(DataSourceType.API))
