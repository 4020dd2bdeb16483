"""ExecuteQuery rules and gateway checks with hand-written fake ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from engines.credentials.credential_service import Credential
from engines.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest
from engines.sql_gateway.gateway import (
    BoundQuery,
    Gateway,
    GatewayDraft,
    QueryLimits,
    QueryTarget,
    SqlGatewayEngine,
)
from engines.sql_gateway.parameters import INJECTION_REASON, ParameterSpec, ParameterType
from engines.sql_gateway.results import QueryResult
from engines.sql_gateway.templates import TemplateDraft
from tests.secrets_registry import register_secret
from tests.unit.request_ids import RequestIds

TENANT = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
DSN = register_secret("postgresql://app:s3cret@db.internal/warehouse")


class FakeStore:
    """Templates or gateways in a dict keyed by (tenant, id)."""

    def __init__(self, unique: str) -> None:
        self.rows: dict[tuple[str, str], Any] = {}
        self.request_ids: RequestIds[Any] = RequestIds("resource")
        self._unique = unique

    def _by_id(self) -> dict[str, Any]:
        return {f"{t}/{i}": r for (t, i), r in self.rows.items()}

    async def insert(self, resource: Any, request_key: IdempotencyKey | None) -> Any:
        earlier = self.request_ids.earlier(resource.tenant_id, request_key, self._by_id())
        if earlier is not None:
            return earlier
        key = getattr(resource, self._unique)
        if any(t == resource.tenant_id and getattr(r, self._unique) == key
               for (t, _), r in self.rows.items()):
            raise AlreadyExists("clash")
        self.rows[(resource.tenant_id, resource.id)] = resource
        self.request_ids.remember(
            resource.tenant_id, f"{resource.tenant_id}/{resource.id}", request_key
        )
        return resource

    async def get(self, tenant_id: str, resource_id: str) -> Any:
        return self.rows.get((tenant_id, resource_id))

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[Any] | None:
        return self.request_ids.find(tenant_id, request_id, self._by_id())

    async def list(self, tenant_id: str, filters: None, page: PageRequest) -> tuple[Sequence[Any], int]:
        mine = sorted(
            (r for (t, _), r in self.rows.items() if t == tenant_id),
            key=lambda r: (r.create_time, r.id),
        )
        return mine[: page.size + 1], len(mine)


class FakeCredentials:
    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        self.secrets = secrets

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        assert destination is None  # the connection string names its own destination
        try:
            return Credential(self.secrets[(tenant_id, credential_ref)])
        except KeyError:
            raise NotFound("credential", credential_ref) from None

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        raise NotImplementedError

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        raise NotImplementedError


@dataclass
class FakeRunner:
    calls: list[tuple[QueryTarget, BoundQuery, QueryLimits]] = field(default_factory=list)

    async def run(self, target: QueryTarget, query: BoundQuery, limits: QueryLimits) -> QueryResult:
        self.calls.append((target, query, limits))
        return QueryResult(columns=("one",), rows=({"one": 1},), truncated=False, result_bytes=13)


@dataclass
class World:
    engine: SqlGatewayEngine
    runner: FakeRunner
    gateway: Gateway


async def _world(*, read_only: bool = True, ceiling: int = 64 * 1024 * 1024) -> World:
    runner = FakeRunner()
    engine = SqlGatewayEngine(
        FakeStore("id"),
        FakeStore("name"),
        FakeCredentials({(TENANT, "env://WAREHOUSE"): DSN}),
        runner,
        clock=lambda: NOW,
        result_bytes_ceiling=ceiling,
    )
    await engine.create_template(
        TENANT,
        TemplateDraft(
            id="by-status", name="By status", sql="SELECT * FROM t WHERE s = $1 AND n < $2",
            parameters=[
                ParameterSpec("status", ParameterType.STRING, required=True),
                ParameterSpec("limit", ParameterType.INTEGER, default_value=5),
            ],
            max_rows=50, timeout_seconds=60,
        ),
    )
    await engine.create_template(
        TENANT, TemplateDraft(id="writer", name="W", sql="DELETE FROM t", read_only=False)
    )
    await engine.create_template(TENANT, TemplateDraft(id="unlisted", name="U", sql="SELECT 1"))
    gateway = await engine.create_gateway(
        TENANT,
        GatewayDraft(
            name="warehouse", connection_string_ref="env://WAREHOUSE",
            allowed_template_ids=["by-status", "writer", "by-status"],
            max_rows=20, timeout_seconds=10, read_only=read_only,
        ),
    )
    return World(engine, runner, gateway)


async def test_execute_binds_values_and_uses_the_tighter_caps() -> None:
    world = await _world()
    result = await world.engine.execute(
        TENANT, world.gateway.id, "by-status", {"status": "open", "extra": 1}
    )
    (target, query, limits) = world.runner.calls[0]
    assert target.connection_string == DSN and DSN not in repr(target)
    assert target.source == f"{TENANT}:{world.gateway.id}:ro"  # pools: per tenant, gateway, mode
    assert query.values == ("open", 5) and query.parameter_names == ("status", "limit")
    assert limits == QueryLimits(max_rows=20, max_result_bytes=5 * 1024 * 1024,
                                 timeout_seconds=10, read_only=True)
    assert result.ignored_parameters == ("extra",)
    assert world.gateway.allowed_template_ids == ("by-status", "writer")


async def test_byte_cap_never_exceeds_the_response_ceiling() -> None:
    world = await _world(ceiling=1000)
    await world.engine.execute(TENANT, world.gateway.id, "by-status", {"status": "open"})
    assert world.runner.calls[0][2].max_result_bytes == 1000


async def test_unknown_template_is_not_found_before_the_allow_list() -> None:
    world = await _world()
    with pytest.raises(NotFound):
        await world.engine.execute(TENANT, world.gateway.id, "missing", {})
    with pytest.raises(PermissionDenied) as caught:
        await world.engine.execute(TENANT, world.gateway.id, "unlisted", {})
    assert caught.value.reason == "TEMPLATE_NOT_ALLOWED"
    assert world.runner.calls == []


async def test_write_template_on_read_only_gateway_never_runs() -> None:
    world = await _world(read_only=True)
    with pytest.raises(FailedPrecondition) as caught:
        await world.engine.execute(TENANT, world.gateway.id, "writer", {})
    assert caught.value.reason == "GATEWAY_READ_ONLY"
    assert world.runner.calls == []


async def test_write_gateway_runs_read_only_templates_read_only() -> None:
    world = await _world(read_only=False)
    await world.engine.execute(TENANT, world.gateway.id, "by-status", {"status": "open"})
    await world.engine.execute(TENANT, world.gateway.id, "writer", {})
    assert [call[2].read_only for call in world.runner.calls] == [True, False]


async def test_bad_parameters_never_reach_the_database() -> None:
    world = await _world()
    with pytest.raises(InvalidArgument) as caught:
        await world.engine.execute(TENANT, world.gateway.id, "by-status", {"status": "x' OR 1=1 --"})
    assert caught.value.reason == INJECTION_REASON
    with pytest.raises(InvalidArgument):
        await world.engine.execute(TENANT, world.gateway.id, "by-status", {})
    assert world.runner.calls == []


async def test_other_tenant_sees_nothing() -> None:
    world = await _world()
    with pytest.raises(NotFound) as hidden:
        await world.engine.execute(OTHER, world.gateway.id, "by-status", {"status": "open"})
    missing_id = "33333333-3333-4333-8333-333333333333"
    with pytest.raises(NotFound) as missing:
        await world.engine.execute(OTHER, missing_id, "by-status", {"status": "open"})
    assert hidden.value.message == missing.value.message.replace(missing_id, world.gateway.id)
    with pytest.raises(NotFound):
        await world.engine.get_template(OTHER, "by-status")
    assert (await world.engine.list_gateways(OTHER, 0, "")).items == []
    assert world.runner.calls == []


async def test_unresolvable_credential_is_failed_precondition() -> None:
    world = await _world()
    other_ref = await world.engine.create_gateway(
        TENANT, GatewayDraft(name="lost", connection_string_ref="env://GONE",
                             allowed_template_ids=["by-status"]),
    )
    with pytest.raises(FailedPrecondition) as caught:
        await world.engine.execute(TENANT, other_ref.id, "by-status", {"status": "open"})
    assert caught.value.reason == "GATEWAY_CREDENTIAL_UNRESOLVED"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"connection_string_ref": DSN}, "gateway.connection_string_ref", id="raw-dsn"),
        pytest.param({"name": ""}, "gateway.name", id="no-name"),
        pytest.param({"allowed_template_ids": ["Bad Id"]}, "gateway.allowed_template_ids[0]", id="bad-id"),
        pytest.param({"max_rows": -1}, "gateway.max_rows", id="negative-rows"),
        pytest.param({"max_result_bytes": 65 * 1024 * 1024}, "gateway.max_result_bytes", id="too-many-bytes"),
        pytest.param({"timeout_seconds": 301}, "gateway.timeout_seconds", id="long-timeout"),
    ],
)
async def test_invalid_gateways(fields: dict[str, Any], field: str) -> None:
    world = await _world()
    values: dict[str, Any] = {"name": "g2", "connection_string_ref": "env://X"}
    values.update(fields)
    with pytest.raises(InvalidArgument) as caught:
        await world.engine.create_gateway(TENANT, GatewayDraft(**values))
    assert field in {v.field for v in caught.value.violations}
    assert DSN not in caught.value.message


async def test_gateway_defaults_and_duplicate_names() -> None:
    world = await _world()
    gateway = await world.engine.create_gateway(
        TENANT, GatewayDraft(name="defaults", connection_string_ref="env://X")
    )
    assert (gateway.max_rows, gateway.max_result_bytes, gateway.timeout_seconds, gateway.read_only) == (
        1000, 5 * 1024 * 1024, 30, True,
    )
    with pytest.raises(AlreadyExists):
        await world.engine.create_gateway(
            TENANT, GatewayDraft(name="defaults", connection_string_ref="env://Y")
        )
