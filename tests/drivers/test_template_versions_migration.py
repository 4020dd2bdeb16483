"""Migration 0016 on a database that already holds SQL templates and gateways: each template
becomes version 1 (its content copied to the versions table), both keep their etags, and
update_time is their create_time."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from drivers.kernel import migrator
from drivers.kernel.database import Database
from drivers.sql_gateway.store import SqlGatewayStore, SqlTemplateStore
from drivers.tables.base import UtcDateTime
from engines.kernel.optimistic import version_etag
from engines.kernel.pagination import parse_page
from engines.sql_gateway.gateway import GatewayFilters, TemplateFilters
from engines.sql_gateway.parameters import ParameterType
from tests.drivers.test_credential_destinations_migration import NOW, _upgrade_to, fresh

__all__ = ["fresh"]  # the fixture, shared


def _text(sql: str) -> sa.TextClause:
    return sa.text(sql).bindparams(sa.bindparam("now", type_=UtcDateTime))


async def test_existing_templates_become_version_one(fresh: Database) -> None:
    tenant, gateway_id = str(uuid.uuid4()), str(uuid.uuid4())
    await _upgrade_to(fresh, "0005_sql_gateway")
    spec = {"name": "s", "type": "string", "required": True, "default_value": None,
            "description": "", "max_length": 0, "min_value": None, "max_value": None}
    async with fresh.transaction() as conn:
        await conn.execute(
            _text(
                "INSERT INTO sql_query_templates (tenant_id, id, name, description, sql, "
                "parameters, read_only, max_rows, timeout_seconds, create_time) VALUES "
                "(:t, 'old', 'Old', 'd', 'SELECT $1::text', :p, true, 10, 5, :now)"
            ),
            {"t": tenant, "p": json.dumps([spec]), "now": NOW},
        )
        await conn.execute(
            _text(
                "INSERT INTO sql_gateways (id, tenant_id, name, connection_string_ref, "
                "allowed_template_ids, max_rows, max_result_bytes, timeout_seconds, read_only, "
                "create_time) VALUES (:g, :t, 'main', 'env://DB', :a, 10, 1000, 5, true, :now)"
            ),
            {"g": gateway_id, "t": tenant, "a": json.dumps(["old"]), "now": NOW},
        )
    await migrator.upgrade(fresh)

    templates, gateways = SqlTemplateStore(fresh), SqlGatewayStore(fresh)
    template = await templates.get(tenant, "old")
    assert template is not None
    assert (template.version, template.revision, template.disabled) == (1, 1, False)
    assert template.update_time == template.create_time == NOW
    assert template.etag == version_etag(f"{tenant}:old", 1)  # as before the migration
    assert template.parameters[0].type is ParameterType.STRING
    assert (template.parameters[0].allowed_values, template.parameters[0].bound_to) == ((), None)
    first = await templates.get_version(tenant, "old", 1)
    assert first is not None and (first.sql, first.parameters) == (template.sql, template.parameters)
    rows, total = await templates.list(tenant, TemplateFilters(disabled=False), parse_page(0, "", {}))
    assert [t.id for t in rows] == ["old"] and total == 1

    gateway = await gateways.get(tenant, gateway_id)
    assert gateway is not None
    assert (gateway.version, dict(gateway.template_versions)) == (1, {})
    assert gateway.etag == version_etag(gateway_id, 1)
    assert gateway.update_time == NOW
    rows, _ = await gateways.list(tenant, GatewayFilters(template_id="old"), parse_page(0, "", {}))
    assert [g.id for g in rows] == [gateway_id]
