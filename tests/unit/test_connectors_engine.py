"""ConnectorsEngine with in-memory ports: capabilities, validation, idempotency, etags, tenant
scoping, and what a connection test reaches and records."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from engines.connectors.connection_tester import ConnectionOutcome, SslMode
from engines.connectors.connector import (
    ConnectorCapability,
    ConnectorDraft,
    ConnectorFilters,
    ConnectorsEngine,
    ConnectorStatus,
    ConnectorType,
)
from engines.kernel.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.connection_fakes import (
    FakeConnectionTester,
    FakeConnectorStore,
    FakeCredentialService,
)
from tests.unit.fakes import ManualClock

TENANT = str(uuid.uuid4())
OTHER = str(uuid.uuid4())
C = ConnectorCapability


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, tzinfo=timezone.utc))


@pytest.fixture
def tester() -> FakeConnectionTester:
    return FakeConnectionTester()


@pytest.fixture
def credentials() -> FakeCredentialService:
    return FakeCredentialService()


@pytest.fixture
def engine(
    tester: FakeConnectionTester, credentials: FakeCredentialService, clock: ManualClock
) -> ConnectorsEngine:
    return ConnectorsEngine(FakeConnectorStore(), tester, credentials, clock=clock)


def _http(name: str = "crm", **fields: object) -> ConnectorDraft:
    values: dict[str, object] = {
        "name": name, "connector_type": ConnectorType.HTTP, "endpoint": "https://crm.example/api"
    }
    values.update(fields)
    return ConnectorDraft(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "endpoint", "ref", "capabilities"),
    [
        pytest.param(ConnectorType.HTTP, "http://h/", "", (C.READ, C.WRITE, C.QUERY), id="http"),
        pytest.param(ConnectorType.MCP, "http://h/", "", (C.READ, C.WRITE, C.QUERY), id="mcp"),
        pytest.param(ConnectorType.SQL, "", "env://DSN", (C.READ, C.WRITE, C.QUERY,
                     C.TRANSACTION), id="sql"),
        pytest.param(ConnectorType.VECTOR, "", "", (C.READ, C.WRITE, C.VECTOR_SEARCH), id="vector"),
        pytest.param(ConnectorType.FILE, "", "", (C.READ, C.WRITE), id="file"),
        pytest.param(ConnectorType.SERVERLESS, "", "", (C.QUERY,), id="serverless"),
        pytest.param(ConnectorType.STREAM, "kafka:9092", "", (C.READ, C.STREAM), id="stream"),
        pytest.param(ConnectorType.CUSTOM, "", "", (C.READ,), id="custom"),
    ],
)
async def test_capabilities_follow_the_type(
    engine: ConnectorsEngine,
    kind: ConnectorType,
    endpoint: str,
    ref: str,
    capabilities: tuple[ConnectorCapability, ...],
) -> None:
    created = await engine.register(
        TENANT, ConnectorDraft(name="x", connector_type=kind, endpoint=endpoint, credential_ref=ref)
    )
    assert created.capabilities == capabilities
    assert created.status is ConnectorStatus.REGISTERED


async def test_every_bad_field_is_named_at_once_without_echoing_secrets(
    engine: ConnectorsEngine,
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await engine.register(
            TENANT,
            ConnectorDraft(
                name="",
                connector_type=ConnectorType.SQL,
                endpoint="postgresql://app:Hunter2@db/x",
                config={"db_password": "Hunter2", "timeout_seconds": 0},
                metadata={"nested": {"api_token": "Hunter2"}},
                credential_ref="Hunter2-raw-key",
            ),
        )
    fields = {v.field for v in caught.value.violations}
    assert fields == {
        "connector.name",
        "connector.endpoint",
        "connector.credential_ref",
        "connector.config.db_password",
        "connector.config.timeout_seconds",
        "connector.metadata.nested.api_token",
    }
    assert "Hunter2" not in caught.value.message


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        pytest.param(_http(endpoint=""), "connector.endpoint", id="http-needs-endpoint"),
        pytest.param(_http(endpoint="ftp://h/"), "connector.endpoint", id="http-scheme"),
        pytest.param(
            ConnectorDraft(name="m", connector_type=ConnectorType.MCP, endpoint="h:1"),
            "connector.endpoint",
            id="mcp-needs-url",
        ),
        pytest.param(
            ConnectorDraft(name="s", connector_type=ConnectorType.SQL),
            "connector.credential_ref",
            id="sql-needs-ref",
        ),
        pytest.param(
            ConnectorDraft(name="s", connector_type=ConnectorType.STREAM, endpoint="no port"),
            "connector.endpoint",
            id="other-host-port-or-url",
        ),
        pytest.param(_http(connector_type=None), "connector.connector_type", id="type-required"),
    ],
)
async def test_type_rules(engine: ConnectorsEngine, draft: ConnectorDraft, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await engine.register(TENANT, draft)
    assert field in {v.field for v in caught.value.violations}


async def test_register_is_idempotent_and_tenant_scoped(engine: ConnectorsEngine) -> None:
    first = await engine.register(TENANT, _http(), request_id="r1")
    again = await engine.register(TENANT, _http(), request_id="r1")
    assert again == first
    with pytest.raises(FailedPrecondition) as reused:
        await engine.register(TENANT, _http("other-name"), request_id="r1")
    assert reused.value.reason == "REQUEST_ID_REUSED"
    listed = await engine.list(TENANT, 0, "", ConnectorFilters())
    assert [c.id for c in listed.items] == [first.id]
    with pytest.raises(NotFound) as theirs:
        await engine.get(OTHER, first.id)
    missing_id = str(uuid.uuid4())
    with pytest.raises(NotFound) as missing:
        await engine.get(TENANT, missing_id)
    assert theirs.value.message == missing.value.message.replace(missing_id, first.id)


async def test_update_validates_the_merged_connector_and_checks_the_etag(
    engine: ConnectorsEngine, clock: ManualClock
) -> None:
    created = await engine.register(TENANT, _http())
    with pytest.raises(InvalidArgument):
        await engine.update(TENANT, created.id, {"endpoint": ""}, "")
    clock.now += timedelta(seconds=1)
    renamed = await engine.update(TENANT, created.id, {"name": "crm-2"}, created.etag)
    assert renamed.name == "crm-2" and renamed.endpoint == created.endpoint
    assert renamed.etag != created.etag and renamed.update_time > created.update_time
    with pytest.raises(Aborted):
        await engine.update(TENANT, created.id, {"name": "crm-3"}, created.etag)
    assert (await engine.get(TENANT, created.id)).name == "crm-2"


async def test_http_test_sends_the_token_and_records_success(
    engine: ConnectorsEngine, tester: FakeConnectionTester, credentials: FakeCredentialService,
    clock: ManualClock,
) -> None:
    ref = await credentials.store(TENANT, "crm token", "tok-123", ())
    created = await engine.register(
        TENANT, _http(credential_ref=ref, config={"timeout_seconds": 2.5})
    )
    clock.now += timedelta(minutes=1)
    outcome, recorded = await engine.test(TENANT, created.id)
    assert outcome.success
    assert tester.calls == [
        ("http_get", "https://crm.example/api",
         {"timeout": 2.5, "headers": {"Authorization": "Bearer tok-123"}, "verify_tls": True})
    ]
    assert recorded.status is ConnectorStatus.CONNECTED
    assert recorded.last_used_time == clock.now and recorded.last_error == ""
    assert credentials.uses == [(ref, "crm.example:443")]


async def test_failure_records_the_error_and_keeps_the_last_use(
    engine: ConnectorsEngine, tester: FakeConnectionTester
) -> None:
    created = await engine.register(TENANT, _http())
    _, connected = await engine.test(TENANT, created.id)
    tester.outcome = ConnectionOutcome(False, 5, "connection refused by h:1", "refused")
    outcome, recorded = await engine.test(TENANT, created.id)
    assert not outcome.success
    assert recorded.status is ConnectorStatus.ERROR
    assert recorded.last_error == "connection refused by h:1"
    assert recorded.last_used_time == connected.last_used_time
    assert tester.calls[0][2]["timeout"] == 10.0  # the default


@pytest.mark.parametrize(
    ("endpoint", "secret", "dsn"),
    [
        pytest.param("", "postgresql://u:pw@db:5432/x", "postgresql://u:pw@db:5432/x",
                     id="ref-holds-dsn"),
        pytest.param("postgresql://u@db:5432/x", "p@ss", "postgresql://u:p%40ss@db:5432/x",
                     id="ref-holds-password"),
    ],
)

async def test_sql_test_builds_the_dsn_from_the_credential(
    engine: ConnectorsEngine, tester: FakeConnectionTester, credentials: FakeCredentialService,
    endpoint: str, secret: str, dsn: str,
) -> None:
    ref = await credentials.store(TENANT, "db", secret, ())
    created = await engine.register(
        TENANT,
        ConnectorDraft(name="db", connector_type=ConnectorType.SQL, endpoint=endpoint,
                       credential_ref=ref),
    )
    await engine.test(TENANT, created.id)
    method, target, _ = tester.calls[0]
    assert method == "postgres_select_one"
    assert (target.dsn, target.ssl) == (dsn, SslMode.FROM_DSN)
    assert secret not in repr(target)
    assert credentials.uses == [(ref, "db:5432" if endpoint else None)]


@pytest.mark.parametrize(
    ("draft", "error_code"),
    [
        pytest.param(
            ConnectorDraft(name="s", connector_type=ConnectorType.SQL,
                           credential_ref="cus-vault://nobody/x"),
            "credential_unavailable",
            id="credential-missing",
        ),
        pytest.param(
            ConnectorDraft(name="v", connector_type=ConnectorType.VECTOR),
            "no_endpoint",
            id="nothing-to-reach",
        ),
    ],
)
async def test_tests_that_cannot_start_fail_with_a_reason(
    engine: ConnectorsEngine, tester: FakeConnectionTester, draft: ConnectorDraft,
    error_code: str,
) -> None:
    created = await engine.register(TENANT, draft)
    outcome, recorded = await engine.test(TENANT, created.id)
    assert (outcome.success, outcome.error_code) == (False, error_code)
    assert recorded.status is ConnectorStatus.ERROR and recorded.last_error == outcome.error
    assert tester.calls == []


async def test_host_port_endpoints_get_a_tcp_connect(
    engine: ConnectorsEngine, tester: FakeConnectionTester
) -> None:
    created = await engine.register(
        TENANT, ConnectorDraft(name="k", connector_type=ConnectorType.STREAM,
                               endpoint="kafka.internal:9092")
    )
    await engine.test(TENANT, created.id)
    assert tester.calls[0][:2] == ("tcp_connect", ("kafka.internal", 9092))


async def test_cus_vault_refs_must_name_a_live_credential_of_the_tenant(
    tester: FakeConnectionTester, credentials: FakeCredentialService
) -> None:
    engine = ConnectorsEngine(
        FakeConnectorStore(), tester, credentials, credential_ref_check=credentials.exists
    )
    mine = await credentials.store(TENANT, "mine", "s", ())
    theirs = await credentials.store(OTHER, "theirs", "s", ())
    created = await engine.register(TENANT, _http(credential_ref=mine))
    for ref in (theirs, f"cus-vault://{TENANT}/{uuid.uuid4()}"):
        with pytest.raises(InvalidArgument) as caught:
            await engine.register(TENANT, _http("other", credential_ref=ref))
        assert [v.field for v in caught.value.violations] == ["connector.credential_ref"]
        with pytest.raises(InvalidArgument):
            await engine.update(TENANT, created.id, {"credential_ref": ref}, "")
    assert (await engine.get(TENANT, created.id)).credential_ref == mine
    # env:// and encrypted:// refs cannot be checked before use; they are accepted.
    await engine.register(TENANT, _http("env", credential_ref="env://CRM_TOKEN"))
