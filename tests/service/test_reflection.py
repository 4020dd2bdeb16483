"""Server reflection serves the protos with their comments: the real grpcurl's `describe` shows
them, for messages, RPCs and fields, and for a service listed by name only."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support import RunningServer

GRPCURL = Path(sys.executable).parent / "grpcurl"


async def _grpcurl(server: RunningServer, *args: str, flags: tuple[str, ...] = ()) -> str:
    process = await asyncio.create_subprocess_exec(
        str(GRPCURL), "-plaintext", *flags, f"127.0.0.1:{server.app.port}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize(
    ("symbol", "comment"),
    [
        pytest.param("integrations.v1.IntegrationHealthService",
                     "// Probes one integration's provider; without force", id="service-and-rpc"),
        pytest.param("integrations.v1.HealthCheckResult",
                     "// True when this is a stored result returned instead of a new probe",
                     id="message-field"),
        pytest.param("credentials.v1.GetCredentialRequest",
                     "// Request of GetCredential.", id="other-package-message"),
        pytest.param("integrations.v1.AdmissionService.AdmitCall",
                     "rpc AdmitCall", id="one-rpc"),
    ],
)
async def test_grpcurl_describe_shows_the_proto_comments(
    server: RunningServer, symbol: str, comment: str
) -> None:
    assert comment in await _grpcurl(server, "describe", symbol)


async def test_dependencies_still_resolve(server: RunningServer) -> None:
    described = await _grpcurl(server, "describe", "google.protobuf.Timestamp")
    assert "message Timestamp" in described
    listed = (await _grpcurl(server, "list")).split()
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
            "integrations.v1.IntegrationsService"} <= set(listed)


async def test_json_output_keeps_the_proto_field_names(server: RunningServer) -> None:
    # The served descriptors are the _pb2 ones plus comments: no json_name, so grpcurl prints
    # `tenant_id`, as the guides show, not `tenantId`.
    template = await _grpcurl(server, "describe", "integrations.v1.Integration",
                              flags=("-msg-template",))
    assert '"tenant_id"' in template and "tenantId" not in template
