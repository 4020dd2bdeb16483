"""Builders for IntegrationsService requests used across the end-to-end tests."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from integrations.v1 import integrations_pb2, integrations_pb2_grpc

__all__ = ["create_integration", "create_probed_integration", "integration_message"]


def integration_message(name: str = "openai-prod", **fields: Any) -> integrations_pb2.Integration:
    config = fields.pop("config", None)
    values: dict[str, Any] = {
        "name": name,
        "provider_type": integrations_pb2.PROVIDER_TYPE_OPENAI,
        "credential_ref": "env://OPENAI_API_KEY",
    }
    values.update(fields)
    message = integrations_pb2.Integration(**values)
    if config is not None:
        struct = struct_pb2.Struct()
        struct.update(config)
        message.config.CopyFrom(struct)
    return message


async def create_integration(
    stub: integrations_pb2_grpc.IntegrationsServiceStub,
    tenant_id: str,
    name: str = "openai-prod",
    request_id: str = "",
    metadata: tuple[tuple[str, str], ...] = (),
    **fields: Any,
) -> integrations_pb2.Integration:
    return await stub.CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=tenant_id,
            integration=integration_message(name, **fields),
            request_id=request_id,
        ),
        metadata=metadata or None,
    )


async def create_probed_integration(
    stub: integrations_pb2_grpc.IntegrationsServiceStub,
    tenant_id: str,
    name: str,
    base_url: str,
    *,
    key_env: str,
    enable: bool,
) -> str:
    """An integration whose health probes go to `base_url` with the key from the server's
    environment variable `key_env`, enabled (so health batches check it) when `enable`."""
    created = await create_integration(
        stub, tenant_id, name, credential_ref=f"env://{key_env}", config={"base_url": base_url}
    )
    if enable:
        await stub.EnableIntegration(
            integrations_pb2.EnableIntegrationRequest(tenant_id=tenant_id, integration_id=created.id)
        )
    return str(created.id)
