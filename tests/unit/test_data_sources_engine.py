"""DataSourcesEngine with in-memory ports: secrets split out to the credential service, masked
connection strings, updates that keep or replace secrets, lifecycle, tests and counters."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.connectors.connection_tester import ConnectionOutcome, SslMode
from engines.data_sources.data_source import (
    DataSourceDraft,
    DataSourceFilters,
    DataSourcesEngine,
    DataSourceStatus,
    DataSourceType,
)
from engines.data_sources.settings import ConnectionInput, ConnectionSettings
from engines.kernel.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from tests.secrets_registry import register_secret
from tests.unit.connection_fakes import (
    FakeConnectionTester,
    FakeCredentialService,
    FakeDataSourceStore,
)
from tests.unit.fakes import ManualClock

TENANT = str(uuid.uuid4())
OTHER = str(uuid.uuid4())
SECRET = register_secret("Hunter2-s3cret")


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
def store() -> FakeDataSourceStore:
    return FakeDataSourceStore()


@pytest.fixture
def engine(
    store: FakeDataSourceStore, tester: FakeConnectionTester, credentials: FakeCredentialService,
    clock: ManualClock,
) -> DataSourcesEngine:
    return DataSourcesEngine(store, tester, credentials, clock=clock)


def _database(name: str = "warehouse", password: str = "", **settings: object) -> DataSourceDraft:
    values: dict[str, object] = {"connection_string": f"postgresql://app:{SECRET}@db:5432/x"}
    values.update(settings)
    return DataSourceDraft(
        name=name,
        source_type=DataSourceType.DATABASE,
        config=ConnectionInput(ConnectionSettings(**values), password=password),  # type: ignore[arg-type]
        tags=["prod", "prod", "eu"],
    )


async def test_register_stores_the_password_as_a_tenant_credential(
    engine: DataSourcesEngine, credentials: FakeCredentialService
) -> None:
    created = await engine.register(TENANT, _database())
    config = created.config
    assert config.connection_string == "postgresql://app:***@db:5432/x"
    assert config.password_set and not config.api_key_set
    assert config.password_ref.startswith(f"cus-vault://{TENANT}/")
    assert credentials.secrets[config.password_ref] == (TENANT, SECRET)
    assert created.status is DataSourceStatus.PENDING
    assert created.tags == ("prod", "eu")
    assert SECRET not in repr(created)


async def test_conflicting_passwords_and_bad_settings_are_refused_before_storing(
    engine: DataSourcesEngine, credentials: FakeCredentialService
) -> None:
    draft = _database(password="different", port=70000, pool_size=101)
    draft = replace(draft, metadata={"secret_sauce": SECRET}, tags=["bad tag"])
    with pytest.raises(InvalidArgument) as caught:
        await engine.register(TENANT, draft)
    assert {v.field for v in caught.value.violations} == {
        "data_source.config.password",
        "data_source.config.port",
        "data_source.config.pool_size",
        "data_source.metadata.secret_sauce",
        "data_source.tags[0]",
    }
    assert SECRET not in caught.value.message
    assert credentials.secrets == {}


@pytest.mark.parametrize(
    ("source_type", "settings", "field"),
    [
        pytest.param(DataSourceType.DATABASE, {}, "host", id="database-needs-host"),
        pytest.param(DataSourceType.DATABASE, {"connection_string": "https://h/"},
                     "connection_string", id="database-scheme"),
        pytest.param(DataSourceType.API, {}, "options.url", id="api-needs-url"),
        pytest.param(DataSourceType.API, {"options": {"url": f"https://u:{SECRET}@h/"}},
                     "options.url", id="api-url-password"),
        pytest.param(DataSourceType.FILE, {"connection_string": "key=value password=x"},
                     "connection_string", id="not-a-url"),
        pytest.param(DataSourceType.FILE, {"auth_type": "kerberos"}, "auth_type", id="auth-type"),
    ],
)
async def test_settings_rules(
    engine: DataSourcesEngine, source_type: DataSourceType, settings: dict[str, object],
    field: str,
) -> None:
    draft = DataSourceDraft(
        name="s", source_type=source_type,
        config=ConnectionInput(ConnectionSettings(**settings)),  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidArgument) as caught:
        await engine.register(TENANT, draft)
    assert f"data_source.config.{field}" in {v.field for v in caught.value.violations}
    assert SECRET not in caught.value.message


async def test_a_failed_insert_revokes_the_secrets_it_stored(
    engine: DataSourcesEngine, credentials: FakeCredentialService
) -> None:
    await engine.register(TENANT, _database())
    with pytest.raises(AlreadyExists):
        await engine.register(TENANT, _database())
    assert len(credentials.secrets) == 1 and len(credentials.deleted) == 1


async def test_credential_service_down_stores_nothing(
    engine: DataSourcesEngine, credentials: FakeCredentialService, store: FakeDataSourceStore
) -> None:
    credentials.fail_store = True
    with pytest.raises(Unavailable):
        await engine.register(TENANT, _database())
    assert store.rows == {}


async def test_register_is_idempotent(engine: DataSourcesEngine) -> None:
    first = await engine.register(TENANT, _database(), request_id="r")
    assert await engine.register(TENANT, _database(), request_id="r") == first
    with pytest.raises(FailedPrecondition) as reused:
        await engine.register(TENANT, _database("other"), request_id="r")
    assert reused.value.reason == "REQUEST_ID_REUSED"


async def test_update_keeps_or_replaces_secrets(
    engine: DataSourcesEngine, credentials: FakeCredentialService
) -> None:
    created = await engine.register(TENANT, _database())
    old_ref = created.config.password_ref
    # The masked string sent back keeps the stored password; other settings change.
    echoed = ConnectionInput(
        ConnectionSettings(connection_string=created.config.connection_string, pool_size=5)
    )
    kept = await engine.update(TENANT, created.id, {"config": echoed}, created.etag)
    assert kept.config.password_ref == old_ref and kept.config.pool_size == 5
    renewed = await engine.update(
        TENANT, created.id,
        {"config": ConnectionInput(ConnectionSettings(host="db2"), password="n3w-pass")}, "",
    )
    assert renewed.config.password_ref not in ("", old_ref)
    assert credentials.secrets[renewed.config.password_ref] == (TENANT, "n3w-pass")
    assert credentials.deleted == [old_ref]
    assert renewed.config.connection_string == "" and renewed.config.host == "db2"


async def test_stale_etag_and_bad_update_leave_the_source_and_secrets_alone(
    engine: DataSourcesEngine, credentials: FakeCredentialService
) -> None:
    created = await engine.register(TENANT, _database())
    await engine.update(TENANT, created.id, {"description": "v2"}, "")
    with pytest.raises(Aborted):
        await engine.update(
            TENANT, created.id,
            {"config": ConnectionInput(ConnectionSettings(host="h"), password="x")},
            created.etag,
        )
    with pytest.raises(InvalidArgument):
        await engine.update(TENANT, created.id, {"tags": ["ok", "not ok"]}, "")
    current = await engine.get(TENANT, created.id)
    assert current.description == "v2" and current.tags == ("prod", "eu")
    assert list(credentials.secrets) == [created.config.password_ref]


async def test_database_test_connects_with_the_stored_password(
    engine: DataSourcesEngine, tester: FakeConnectionTester, clock: ManualClock,
    credentials: FakeCredentialService,
) -> None:
    created = await engine.register(
        TENANT,
        DataSourceDraft(
            name="fields", source_type=DataSourceType.DATABASE,
            config=ConnectionInput(
                ConnectionSettings(host="db", username="app", database="x", ssl_enabled=True,
                                   pool_timeout_seconds=3),
                password="p@ss",
            ),
        ),
    )
    outcome, counted = await engine.test_connection(TENANT, created.id)
    method, target, extra = tester.calls[0]
    assert method == "postgres_select_one"
    assert target.dsn == "postgresql://app:p%40ss@db:5432/x"
    assert target.ssl is SslMode.REQUIRE and extra["timeout"] == 3.0
    assert outcome.success and counted.connection_count == 1
    assert counted.last_connected_time == clock.now
    # The password may go only to the database it was given for, and went there.
    assert list(credentials.destinations.values()) == [("db:5432",)]
    assert [d for _, d in credentials.uses] == ["db:5432"]


@pytest.mark.parametrize(
    ("settings", "ssl"),
    [
        pytest.param({}, SslMode.DISABLE, id="plain"),
        pytest.param({"ssl_enabled": True, "ssl_verify": True}, SslMode.VERIFY_FULL, id="verify"),
        pytest.param(
            {"connection_string": "postgresql://db/x?sslmode=verify-ca"}, SslMode.FROM_DSN,
            id="sslmode-in-dsn",
        ),
    ],
)
async def test_ssl_options_are_honoured(
    engine: DataSourcesEngine, tester: FakeConnectionTester, settings: dict[str, object],
    ssl: SslMode,
) -> None:
    values: dict[str, object] = {"host": "db"} | settings
    created = await engine.register(
        TENANT,
        DataSourceDraft(
            name="s", source_type=DataSourceType.DATABASE,
            config=ConnectionInput(ConnectionSettings(**values)),  # type: ignore[arg-type]
        ),
    )
    await engine.test_connection(TENANT, created.id)
    assert tester.calls[0][1].ssl is ssl


async def test_api_test_sends_the_key_as_configured(
    engine: DataSourcesEngine, tester: FakeConnectionTester, credentials: FakeCredentialService
) -> None:
    created = await engine.register(
        TENANT,
        DataSourceDraft(
            name="api", source_type=DataSourceType.API,
            config=ConnectionInput(
                ConnectionSettings(
                    auth_type="header",
                    options={"url": "https://api.example/v1", "auth_header": "X-Key"},
                ),
                api_key="k-123",
            ),
        ),
    )
    assert created.config.api_key_set and "k-123" not in repr(created)
    await engine.test_connection(TENANT, created.id)
    assert tester.calls[0][:2] == ("http_get", "https://api.example/v1")
    assert tester.calls[0][2]["headers"] == {"X-Key": "k-123"}
    assert list(credentials.destinations.values()) == [("api.example:443",)]


async def test_error_needs_a_successful_test_before_activation(
    engine: DataSourcesEngine, tester: FakeConnectionTester, clock: ManualClock
) -> None:
    created = await engine.register(TENANT, _database())
    active, message = await engine.activate(TENANT, created.id)
    assert active.status is DataSourceStatus.ACTIVE and "was pending" in message
    tester.outcome = ConnectionOutcome(False, 1, "connection refused by db:5432", "refused")
    clock.now += timedelta(seconds=1)
    _, failed = await engine.test_connection(TENANT, created.id)
    assert failed.status is DataSourceStatus.ERROR and failed.error_count == 1
    assert failed.last_error == "connection refused by db:5432"
    with pytest.raises(FailedPrecondition) as caught:
        await engine.activate(TENANT, created.id)
    assert caught.value.reason == "DATA_SOURCE_NOT_RETESTED"
    tester.outcome = ConnectionOutcome(True, 1)
    clock.now += timedelta(seconds=1)
    _, retested = await engine.test_connection(TENANT, created.id)
    assert retested.status is DataSourceStatus.ERROR  # a test alone does not reactivate
    reactivated, _ = await engine.activate(TENANT, created.id)
    assert reactivated.status is DataSourceStatus.ACTIVE


async def test_deprecated_is_final_and_delete_revokes_secrets(
    engine: DataSourcesEngine, tester: FakeConnectionTester, credentials: FakeCredentialService
) -> None:
    created = await engine.register(TENANT, _database())
    deprecated, _ = await engine.deprecate(TENANT, created.id)
    assert deprecated.status is DataSourceStatus.DEPRECATED
    with pytest.raises(FailedPrecondition) as caught:
        await engine.activate(TENANT, created.id)
    assert "DEPRECATED" in caught.value.message
    tester.outcome = ConnectionOutcome(False, 1, "refused", "refused")
    _, counted = await engine.test_connection(TENANT, created.id)
    assert counted.status is DataSourceStatus.DEPRECATED and counted.error_count == 1
    await engine.delete(TENANT, created.id)
    assert credentials.secrets == {} and credentials.deleted == [created.config.password_ref]
    with pytest.raises(NotFound):
        await engine.get(TENANT, created.id)


async def test_every_operation_is_tenant_scoped(engine: DataSourcesEngine) -> None:
    created = await engine.register(TENANT, _database())
    calls = [
        engine.get(OTHER, created.id),
        engine.update(OTHER, created.id, {"description": "x"}, ""),
        engine.delete(OTHER, created.id),
        engine.test_connection(OTHER, created.id),
        engine.activate(OTHER, created.id),
        engine.deactivate(OTHER, created.id),
        engine.deprecate(OTHER, created.id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            await call
    assert (await engine.list(OTHER, 0, "", DataSourceFilters())).total_size == 0
    assert (await engine.statistics(OTHER)).total == 0
    assert (await engine.get(TENANT, created.id)).status is DataSourceStatus.PENDING
