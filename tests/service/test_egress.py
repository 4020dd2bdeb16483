"""The egress policy end to end (SSRF suite): every outbound kind the service makes for a tenant
(provider probes and custom health_url, connector and data-source tests, SQL gateway pools)
aimed at local targets the test starts (an HTTP server, a TCP listener, the local PostgreSQL,
the service's own port and database), once on a server that allows loopback explicitly
(reached) and once on one with the default policy (refused with EGRESS_DENIED before any
packet, the same answer for open and closed ports, and the listener saw no connection)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from sqlalchemy.engine import make_url

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import connectors_pb2, connectors_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from integrations.v1 import data_sources_pb2 as ds_pb
from integrations.v1 import data_sources_pb2_grpc as ds_grpc
from integrations.v1 import sql_gateway_pb2 as sql_pb
from integrations.v1 import sql_gateway_pb2_grpc as sql_grpc
from tests.conftest import serve_config
from tests.customer_database import CustomerDatabase, customer_database
from tests.loopback_targets import closed_port, counting_target, http_target
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import struct
from tests.service.integrations_helpers import create_integration
from tests.service.servers import started
from tests.support import RichError, RunningServer, rich_error

SECRET = register_secret("egress-suite-secret-6f1e0c")
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION

# Spellings of loopback (and neighbours) an attacker writes instead of 127.0.0.1.
LOOPBACK_LITERALS = [
    pytest.param("127.0.0.1", id="dotted"),
    pytest.param("0x7f000001", id="hex"),
    pytest.param("2130706433", id="decimal"),
    pytest.param("0177.0.0.1", id="octal"),
    pytest.param("127.1", id="short"),
    pytest.param("[::1]", id="ipv6"),
    pytest.param("[::ffff:127.0.0.1]", id="ipv4-mapped"),
    pytest.param("127.0.0.1.", id="trailing-dot"),
]
# Literals refused whatever loopback rules say: metadata, link-local, private, unspecified.
ALWAYS_REFUSED_LITERALS = [
    pytest.param("169.254.169.254", "cloud metadata", id="metadata"),
    pytest.param("[fd00:ec2::254]", "cloud metadata", id="metadata-v6"),
    pytest.param("[::ffff:169.254.169.254]", "cloud metadata", id="metadata-mapped"),
    pytest.param("169.254.1.1", "link-local", id="link-local"),
    pytest.param("[fe80::1]", "link-local", id="link-local-v6"),
    pytest.param("10.0.0.1", "private", id="rfc1918-10"),
    pytest.param("172.16.5.4", "private", id="rfc1918-172"),
    pytest.param("192.168.1.1", "private", id="rfc1918-192"),
    pytest.param("100.64.0.1", "shared address space", id="cgnat"),
    pytest.param("[fd12::1]", "private", id="ula"),
    pytest.param("0.0.0.0", "unspecified", id="unspecified"),
    pytest.param("[::]", "unspecified", id="unspecified-v6"),
    pytest.param("224.0.0.1", "multicast", id="multicast"),
    pytest.param("255.255.255.255", "broadcast", id="broadcast"),
]


@pytest.fixture
async def strict(database_url: str, backend: str) -> AsyncIterator[RunningServer]:
    """A server with the default egress policy (loopback NOT allowed)."""
    async with started(serve_config(database_url, egress_allow=()), backend) as server:
        yield server


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


async def _fails(call: object) -> RichError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return rich_error(caught.value)


def _denied(error: RichError, rule: str = "") -> None:
    assert error.code == FAILED_PRECONDITION, error
    assert error.reason == "EGRESS_DENIED", error
    assert rule in error.metadata["rule"], error
    assert rule in error.message


# Credential destinations (a separate rule) are opened wide for every target the suite uses, so
# that what refuses is the egress policy.
DESTINATIONS = ["localhost", "127.0.0.1", "127.1", "0x7f000001", "[::1]"]


async def _credential(server: RunningServer, tenant: str, secret: str) -> str:
    stub = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    created = await stub.CreateCredential(
        credentials_pb2.CreateCredentialRequest(
            tenant_id=tenant, name=f"k-{uuid.uuid4().hex[:8]}", secret=secret,
            allowed_destinations=DESTINATIONS,
        )
    )
    return str(created.credential_ref)


# -- connectors: HTTP, TCP and SQL tests ------------------------------------------------------


async def _connector(server: RunningServer, tenant: str, kind: int, endpoint: str,
                     credential_ref: str = "") -> connectors_pb2.Connector:
    stub = server.stub(connectors_pb2_grpc.ConnectorsServiceStub)
    return await stub.RegisterConnector(
        connectors_pb2.RegisterConnectorRequest(
            tenant_id=tenant,
            connector=connectors_pb2.Connector(
                name=f"target-{uuid.uuid4().hex[:8]}", connector_type=kind, endpoint=endpoint,
                credential_ref=credential_ref,
            ),
        )
    )


async def _test_connector(server: RunningServer, tenant: str, connector_id: str) -> object:
    stub = server.stub(connectors_pb2_grpc.ConnectorsServiceStub)
    return await stub.TestConnector(
        connectors_pb2.TestConnectorRequest(tenant_id=tenant, connector_id=connector_id)
    )


HTTP, TCP, SQL = (
    connectors_pb2.CONNECTOR_TYPE_HTTP,
    connectors_pb2.CONNECTOR_TYPE_CUSTOM,
    connectors_pb2.CONNECTOR_TYPE_SQL,
)


@pytest.mark.parametrize("spelling", LOOPBACK_LITERALS)
async def test_loopback_literals_are_refused_at_registration(
    strict: RunningServer, tenant: str, spelling: str
) -> None:
    password = await _credential(strict, tenant, SECRET)
    for kind, endpoint, ref in (
        (HTTP, f"http://{spelling}:8080/health", ""),
        (TCP, f"{spelling}:6379", ""),
        (SQL, f"postgresql://postgres@{spelling}:5432/postgres", password),
    ):
        _denied(await _fails(_connector(strict, tenant, kind, endpoint, ref)), "loopback")


@pytest.mark.parametrize("spelling", LOOPBACK_LITERALS)
async def test_loopback_literals_are_reached_when_loopback_is_allowed(
    server: RunningServer, tenant: str, spelling: str
) -> None:
    async with http_target(200) as target:
        connector = await _connector(
            server, tenant, HTTP, f"http://{spelling}:{target.port}/health"
        )
        result = await _test_connector(server, tenant, connector.id)
        # The target listens on IPv4 only, and httpx itself refuses octal hosts in URLs: for
        # those, allowed means attempted (an outcome, not EGRESS_DENIED).
        if spelling == "[::1]" or spelling.startswith("0177"):
            assert "EGRESS" not in str(result) and target.requests == []
            return
        assert result.success, result  # type: ignore[attr-defined]
        assert len(target.requests) == 1


@pytest.mark.parametrize(("literal", "rule"), ALWAYS_REFUSED_LITERALS)
async def test_metadata_private_and_special_literals_are_refused_even_with_loopback_allowed(
    server: RunningServer, tenant: str, literal: str, rule: str
) -> None:
    _denied(await _fails(_connector(server, tenant, HTTP, f"http://{literal}/latest/")), rule)
    _denied(await _fails(_connector(server, tenant, TCP, f"{literal}:22")), rule)


async def test_a_name_resolving_to_loopback_is_refused_at_connect_the_same_for_open_and_closed(
    strict: RunningServer, tenant: str
) -> None:
    async with counting_target() as listener, http_target(200) as target:
        answers = []
        for port in (listener.port, closed_port()):
            connector = await _connector(strict, tenant, TCP, f"localhost:{port}")
            error = await _fails(_test_connector(strict, tenant, connector.id))
            _denied(error, "loopback")
            answers.append((error.code, error.reason, re.sub(r":\d+", ":PORT", error.message)))
        http = await _connector(
            strict, tenant, HTTP, f"http://localhost:{target.port}/",
            await _credential(strict, tenant, SECRET),
        )
        _denied(await _fails(_test_connector(strict, tenant, http.id)), "loopback")
        assert answers[0] == answers[1]
        assert listener.connections == 0 and target.requests == []


async def test_a_name_resolving_to_loopback_is_reached_when_loopback_is_allowed(
    server: RunningServer, tenant: str
) -> None:
    async with counting_target() as listener:
        connector = await _connector(server, tenant, TCP, f"localhost:{listener.port}")
        result = await _test_connector(server, tenant, connector.id)
        assert result.success, result  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
        assert listener.connections == 1


async def test_the_services_own_listener_is_refused_even_with_loopback_allowed(
    server: RunningServer, tenant: str
) -> None:
    own = server.app.port
    for kind, endpoint in (
        (TCP, f"127.0.0.1:{own}"),
        (HTTP, f"http://127.0.0.1:{own}/"),
        (HTTP, f"http://[::1]:{own}/"),
        (TCP, f"0x7f000001:{own}"),
    ):
        _denied(await _fails(_connector(server, tenant, kind, endpoint)), "the service's own listener")


async def test_the_services_own_listener_by_name_is_refused_at_connect(
    server: RunningServer, tenant: str
) -> None:
    connector = await _connector(server, tenant, TCP, f"localhost:{server.app.port}")
    _denied(
        await _fails(_test_connector(server, tenant, connector.id)), "the service's own listener"
    )


# -- integrations: base_url, health_url and probes --------------------------------------------


@pytest.mark.parametrize("key", ["base_url", "health_url"])
@pytest.mark.parametrize("literal", ["169.254.169.254", "[::1]", "0x7f000001", "2130706433"])
async def test_integration_urls_with_refused_literals_are_refused_at_creation(
    strict: RunningServer, tenant: str, key: str, literal: str
) -> None:
    stub = strict.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    provider = integrations_pb2.PROVIDER_TYPE_CUSTOM if key == "health_url" else (
        integrations_pb2.PROVIDER_TYPE_OPENAI
    )
    error = await _fails(create_integration(
        stub, tenant, "probe", provider_type=provider, config={key: f"http://{literal}/v1"}
    ))
    _denied(error)


async def test_custom_health_url_probe_by_name_is_refused_and_sends_no_key(
    strict: RunningServer, server: RunningServer, tenant: str
) -> None:
    async with http_target(200) as target:
        for running, reached in ((strict, False), (server, True)):
            stub = running.stub(integrations_pb2_grpc.IntegrationsServiceStub)
            created = await create_integration(
                stub, tenant, f"custom-{reached}",
                provider_type=integrations_pb2.PROVIDER_TYPE_CUSTOM,
                credential_ref=await _credential(running, tenant, SECRET),
                config={"health_url": f"http://localhost:{target.port}/health"},
            )
            call = stub.TestCredentials(
                integrations_pb2.TestCredentialsRequest(
                    tenant_id=tenant, integration_id=created.id
                )
            )
            if reached:
                await call
                assert target.requests and SECRET in str(target.requests[-1])
            else:
                _denied(await _fails(call), "loopback")
                assert target.requests == []


# -- data sources ------------------------------------------------------------------------------


async def _data_source(server: RunningServer, tenant: str, kind: int, **config: object) -> str:
    options = config.pop("options", None)
    message = ds_pb.DataSource(
        name=f"src-{uuid.uuid4().hex[:8]}", source_type=kind, config=ds_pb.DataSourceConfig(**config)
    )
    if options is not None:
        message.config.options.CopyFrom(struct(options))  # type: ignore[arg-type]
    stub = server.stub(ds_grpc.DataSourcesServiceStub)
    created = await stub.RegisterDataSource(
        ds_pb.RegisterDataSourceRequest(tenant_id=tenant, data_source=message)
    )
    return str(created.id)


async def _test_data_source(server: RunningServer, tenant: str, data_source_id: str) -> object:
    stub = server.stub(ds_grpc.DataSourcesServiceStub)
    return await stub.TestDataSourceConnection(
        ds_pb.TestDataSourceConnectionRequest(tenant_id=tenant, data_source_id=data_source_id)
    )


async def test_data_source_literals_are_refused_at_registration(
    strict: RunningServer, tenant: str
) -> None:
    database, api = ds_pb.DATA_SOURCE_TYPE_DATABASE, ds_pb.DATA_SOURCE_TYPE_API
    for kind, config in (
        (database, {"host": "127.0.0.1", "port": 5432, "database": "d"}),
        (database, {"connection_string": "postgresql://u@[::1]:5432/d"}),
        (api, {"options": {"url": "http://169.254.169.254/latest/meta-data"}}),
        (api, {"connection_string": "http://0x7f000001:8080/"}),
    ):
        _denied(await _fails(_data_source(strict, tenant, kind, **config)))


async def test_data_source_database_by_name_refused_strict_reached_allowed(
    strict: RunningServer, server: RunningServer, tenant: str, customer: CustomerDatabase
) -> None:
    dsn = make_url(customer.dsn).set(host="localhost").render_as_string(hide_password=False)
    kind = ds_pb.DATA_SOURCE_TYPE_DATABASE
    strict_id = await _data_source(strict, tenant, kind, connection_string=dsn)
    _denied(await _fails(_test_data_source(strict, tenant, strict_id)), "loopback")
    allowed_id = await _data_source(server, tenant, kind, connection_string=dsn)
    result = await _test_data_source(server, tenant, allowed_id)
    assert "success: true" in str(result) or getattr(result, "success", False), result


# -- SQL gateway pools -------------------------------------------------------------------------


async def _gateway_query(server: RunningServer, tenant: str, dsn: str) -> object:
    stub = server.stub(sql_grpc.SqlGatewayServiceStub)
    ref = await _credential(server, tenant, register_secret(dsn))
    template = f"t{uuid.uuid4().hex[:8]}"
    await stub.CreateQueryTemplate(
        sql_pb.CreateQueryTemplateRequest(
            tenant_id=tenant,
            template=sql_pb.QueryTemplate(
                id=template, name=template,
                sql="SELECT tenant_id, name, credential_ref FROM integrations",
                read_only=True,
            ),
        )
    )
    gateway = await stub.CreateGateway(
        sql_pb.CreateGatewayRequest(
            tenant_id=tenant,
            gateway=sql_pb.Gateway(
                name=template, connection_string_ref=ref, allowed_template_ids=[template]
            ),
        )
    )
    return await stub.ExecuteQuery(
        sql_pb.ExecuteQueryRequest(tenant_id=tenant, gateway_id=gateway.id, template_id=template)
    )


def _own_database_dsns(database_url: str) -> list[str]:
    url = make_url(database_url)
    name, user = url.database, url.username or "postgres"
    return [
        f"postgresql://{user}@127.0.0.1:{url.port or 5432}/{name}",
        f"postgresql://{user}@localhost:{url.port or 5432}/{name}",
        f"postgresql://{user}@[::1]:{url.port or 5432}/{name}",
        f"postgresql://{user}@0x7f000001:{url.port or 5432}/{name}",
        f"postgresql://{user}@127.0.0.1:{url.port or 5432}/?dbname={name}",
        f"postgres://{user}@127.1/{name}",
    ]


async def test_the_services_own_database_is_refused_even_with_loopback_allowed(
    server: RunningServer, tenant: str
) -> None:
    if server.backend != "postgresql":
        pytest.skip("the service's own database is PostgreSQL only on that backend")
    for dsn in _own_database_dsns(server.database_url):
        _denied(await _fails(_gateway_query(server, tenant, dsn)), "the service's own database")
    # A TCP test of its port is refused too (no port scan of the service's database).
    port = make_url(server.database_url).port or 5432
    _denied(await _fails(_connector(server, tenant, TCP, f"127.0.0.1:{port}")),
            "the service's own database")


async def test_unix_sockets_and_host_lists_are_refused(
    server: RunningServer, tenant: str
) -> None:
    for dsn in (
        "postgresql:///postgres?host=/var/run/postgresql",
        "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/postgres",
        "postgresql://postgres@example.invalid:5432,127.0.0.1:5432/postgres",
    ):
        # Refused before any connection: by the egress guard, or already when the credential
        # service cannot read (or does not allow) the secret's destination.
        error = await _fails(_gateway_query(server, tenant, dsn))
        assert error.reason in (
            "EGRESS_DENIED", "CONNECTION_STRING_INVALID", "CREDENTIAL_DESTINATION_DENIED"
        ), error


async def test_gateway_to_a_customer_database_by_name_refused_strict_reached_allowed(
    strict: RunningServer, server: RunningServer, tenant: str, customer: CustomerDatabase
) -> None:
    dsn = make_url(customer.dsn).set(host="localhost").render_as_string(hide_password=False)
    _denied(await _fails(_gateway_query(strict, tenant, dsn)), "loopback")
    # Allowed: the query reaches the customer database (which has no integrations table).
    error = await _fails(_gateway_query(server, tenant, dsn))
    assert error.reason == "TARGET_QUERY_FAILED", error
