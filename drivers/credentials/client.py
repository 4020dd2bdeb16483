"""`engines.credentials.credential_service.CredentialService` implemented by a gRPC client of
credentials.v1.CredentialService, so the credential service can run in this process (the client
talks to the same server) or in its own.

Remote failures come back as the engine errors the credential service raised (decoded through
the one table in `drivers/kernel/grpc_status_codes.py`: class, message, reason, metadata, field
violations), so engines never see gRPC.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timezone
from typing import Any

import grpc
from grpc_status import rpc_status

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from drivers.kernel.grpc_status_codes import error_from_call
from engines.credentials.credential_service import Credential
from engines.kernel.errors import (
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    ServiceError,
    Unavailable,
)

__all__ = ["GrpcCredentialService"]

_TIMEOUT_SECONDS = 10.0


def _engine_error(call: grpc.aio.AioRpcError) -> ServiceError:
    """The engine error the credential service raised, decoded through the one status table.

    What the remote service cannot have meant for the caller becomes Unavailable: a refused
    token is this service's configuration, and codes no engine error has are its failures."""
    code = call.code()
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unavailable("the credential service does not accept this service's token")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and not rpc_status.from_call(call):
        return DeadlineExceeded("the credential service did not answer in time")
    error = error_from_call(call)
    if error is None:
        return Unavailable(f"the credential service is unavailable ({code.name})")
    return error


def _credential(reply: credentials_pb2.GetCredentialResponse) -> Credential:
    expires_at = reply.expire_time.ToDatetime(tzinfo=timezone.utc) if reply.HasField("expire_time") else None
    return Credential(value=reply.value, expires_at=expires_at)


class GrpcCredentialService:
    """The credential port over gRPC; `token` is this service's bearer token (if any).

    `access_reason` is called on every reveal and use and says what the secret is needed for
    (bootstrap passes the RPC being served and its caller); `rpc` names the RPC being served
    (empty outside of one, for example a background health check)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        token: str | None = None,
        access_reason: Callable[[], str] = lambda: "internal use",
        rpc: Callable[[], str] = lambda: "",
        timeout_seconds: float = _TIMEOUT_SECONDS,
    ) -> None:
        self._stub = credentials_pb2_grpc.CredentialServiceStub(channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._access_reason = access_reason
        self._rpc = rpc
        self._timeout = timeout_seconds

    async def _call(self, rpc: Callable[..., Awaitable[Any]], request: Any) -> Any:
        """One RPC with this service's token and deadline; failures become engine errors."""
        try:
            return await rpc(request, metadata=self._metadata, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _engine_error(exc) from None

    async def get(self, credential_ref: str, tenant_id: str) -> Credential:
        request = credentials_pb2.GetCredentialRequest(
            tenant_id=tenant_id, credential_ref=credential_ref, access_reason=self._access_reason()
        )
        return _credential(await self._call(self._stub.GetCredential, request))

    async def use(self, credential_ref: str, tenant_id: str, destination: str | None) -> Credential:
        request = credentials_pb2.UseCredentialRequest(
            tenant_id=tenant_id,
            credential_ref=credential_ref,
            destination=destination or "",
            destination_in_secret=destination is None,
            rpc=self._rpc() or "(background)",
            access_reason=self._access_reason(),
        )
        return _credential(await self._call(self._stub.UseCredential, request))

    async def store(self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]) -> str:
        request = credentials_pb2.CreateCredentialRequest(
            tenant_id=tenant_id, name=name, secret=secret, allowed_destinations=destinations
        )
        reply = await self._call(self._stub.CreateCredential, request)
        return str(reply.credential_ref)

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        credential = await self._lookup(tenant_id, credential_ref)
        request = credentials_pb2.DeleteCredentialRequest(tenant_id=tenant_id, credential_id=credential.id)
        await self._call(self._stub.DeleteCredential, request)

    async def exists(self, tenant_id: str, credential_ref: str) -> bool:
        """Whether a `cus-vault://` ref names a live credential of the tenant (no reveal)."""
        try:
            await self._lookup(tenant_id, credential_ref)
        except (NotFound, InvalidArgument):
            return False
        return True

    async def _lookup(self, tenant_id: str, credential_ref: str) -> credentials_pb2.Credential:
        request = credentials_pb2.LookupCredentialRequest(tenant_id=tenant_id, credential_ref=credential_ref)
        found: credentials_pb2.Credential = await self._call(self._stub.LookupCredential, request)
        return found
