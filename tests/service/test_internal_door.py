"""One door: with TLS and a client CA, the public mutual-TLS listener is the only TCP listener the
server opens, and the in-process credential client talks to the credential service over a private
Unix socket that serves credentials.v1 and health only, to the internal caller only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from service.bootstrap import create_server
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.certificates import pem_files, server_tls_options
from tests.support import new_tenant

SECRET = register_secret("sk-one-door-0b1c2d3e4f")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def _socket_inodes() -> set[str]:
    """The inodes of the sockets this process holds open."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def _tcp_listeners(inodes: set[str]) -> set[int]:
    """The ports of the listening TCP sockets (IPv4 and IPv6) among `inodes`."""
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == _LISTEN and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _integration(tenant: str, ref: str) -> integrations_pb2.CreateIntegrationRequest:
    return integrations_pb2.CreateIntegrationRequest(
        tenant_id=tenant,
        integration=integrations_pb2.Integration(
            name="door", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI, credential_ref=ref
        ),
    )


async def _refused(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_only_the_public_mtls_listener_serves_integrations(
    database_url: str, tmp_path: Path
) -> None:
    pem = pem_files(tmp_path)
    before = _socket_inodes()
    app = await create_server(
        serve_config(database_url, **server_tls_options(tmp_path, client_ca=True))
    )
    await app.start()
    tenant = new_tenant()
    assert app.door is not None
    socket_path = app.door.socket_path
    try:
        assert _tcp_listeners(_socket_inodes() - before) == {app.port}
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
        assert socket_path.parent.stat().st_uid == os.getuid()

        mtls = grpc.ssl_channel_credentials(pem["ca.pem"], pem["client.key"], pem["client.pem"])
        async with grpc.aio.secure_channel(f"127.0.0.1:{app.port}", mtls) as public:
            created = await credentials_pb2_grpc.CredentialServiceStub(public).CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=SECRET)
            )
            # The in-process client checks the ref through the private door.
            made = await integrations_pb2_grpc.IntegrationsServiceStub(public).CreateIntegration(
                _integration(tenant, created.credential_ref)
            )
            assert made.credential_ref == created.credential_ref

        async with grpc.aio.insecure_channel(f"unix:{socket_path}") as door:
            integrations = integrations_pb2_grpc.IntegrationsServiceStub(door)
            assert await _refused(
                integrations.ListIntegrations(
                    integrations_pb2.ListIntegrationsRequest(tenant_id=tenant), timeout=5
                )
            ) == grpc.StatusCode.UNIMPLEMENTED
            # Credentials only for the internal caller: no token, or a made-up one, is refused.
            credentials = credentials_pb2_grpc.CredentialServiceStub(door)
            for metadata in ((), (("authorization", "Bearer not-the-internal-token"),)):
                assert await _refused(
                    credentials.GetCredential(
                        pb.GetCredentialRequest(
                            tenant_id=tenant, credential_ref=created.credential_ref
                        ),
                        metadata=metadata,
                        timeout=5,
                    )
                ) == grpc.StatusCode.UNAUTHENTICATED
            health = await health_pb2_grpc.HealthStub(door).Check(
                health_pb2.HealthCheckRequest(service="credentials.v1.CredentialService"),
                timeout=5,
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await app.stop(0)
    assert not socket_path.parent.exists()


async def test_server_without_a_credential_service_opens_no_door(
    database_url: str, tmp_path: Path
) -> None:
    vault = await create_server(serve_config(database_url, only="credentials"))
    try:
        assert vault.door is None
    finally:
        await vault.stop(0)
