"""credentials.v1.CredentialService on top of `engines.credentials.vault.CredentialVault`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from engines.credentials.vault import (
    AccessEvent,
    AccessKind,
    AccessOutcome,
    Actor,
    CredentialVault,
    Revealed,
    StoredCredential,
    UseTarget,
)
from service.call_info import Context, current_call
from service.convert import from_duration, from_timestamp, set_timestamp
from service.enums import EnumMap
from service.servicers.listing import list_response

__all__ = ["CredentialsServicer", "credential_to_proto"]

OUTCOMES = EnumMap(credentials_pb2.AccessOutcome, AccessOutcome, "ACCESS_OUTCOME")
def _actor(access_reason: str) -> Actor:
    """The caller of the RPC being served, for the access-log row its change writes."""
    call = current_call()
    return Actor(caller=call.caller, access_reason=access_reason, rpc=call.method)


KINDS = EnumMap(credentials_pb2.AccessKind, AccessKind, "ACCESS_KIND")



def credential_to_proto(credential: StoredCredential) -> credentials_pb2.Credential:
    message = credentials_pb2.Credential(
        id=credential.id,
        tenant_id=credential.tenant_id,
        name=credential.name,
        credential_ref=credential.ref,
        version=credential.version,
        metadata=dict(credential.metadata),
        etag=credential.etag,
        key_version=credential.key_version,
        created_by=credential.created_by,
        allowed_destinations=list(credential.allowed_destinations),
    )
    set_timestamp(message.expire_time, credential.expire_time)
    set_timestamp(message.create_time, credential.create_time)
    set_timestamp(message.update_time, credential.update_time)
    set_timestamp(message.rotation_due_time, credential.rotation_due_time)
    if credential.rotation_interval is not None:
        message.rotation_interval.FromTimedelta(credential.rotation_interval)
    return message


def _rotation_interval(request: Any) -> timedelta | None:
    return from_duration(
        request.rotation_interval,
        present=request.HasField("rotation_interval"),
        field="rotation_interval",
    )


def _event_to_proto(event: AccessEvent) -> credentials_pb2.CredentialAccessEvent:
    message = credentials_pb2.CredentialAccessEvent(
        id=event.id,
        tenant_id=event.tenant_id,
        credential_ref=event.credential_ref,
        credential_id=event.credential_id,
        caller=event.caller,
        allowed=event.allowed,
        access_reason=event.access_reason,
        outcome=OUTCOMES.to_proto(event.outcome),
        detail=event.detail,
        requester_tenant_id=event.requester_tenant_id,
        kind=KINDS.to_proto(event.kind),
        destination=event.destination,
        rpc=event.rpc,
    )
    set_timestamp(message.time, event.create_time)
    return message


def _revealed_to_proto(revealed: Revealed) -> credentials_pb2.GetCredentialResponse:
    response = credentials_pb2.GetCredentialResponse(value=revealed.value, version=revealed.version)
    set_timestamp(response.expire_time, revealed.expire_time)
    return response


class CredentialsServicer(credentials_pb2_grpc.CredentialServiceServicer):
    """Translates CredentialService calls to the vault; errors are mapped by the interceptor."""

    def __init__(self, vault: CredentialVault) -> None:
        self._vault = vault

    async def EncryptCredential(
        self, request: credentials_pb2.EncryptCredentialRequest, context: Context
    ) -> credentials_pb2.EncryptCredentialResponse:
        ref, key_version = await self._vault.encrypt(
            request.tenant_id,
            request.plaintext,
            dict(request.context),
            list(request.allowed_destinations),
        )
        return credentials_pb2.EncryptCredentialResponse(
            credential_ref=ref, key_version=key_version
        )

    async def CreateCredential(
        self, request: credentials_pb2.CreateCredentialRequest, context: Context
    ) -> credentials_pb2.Credential:
        created = await self._vault.create(
            request.tenant_id,
            request.name,
            request.secret,
            expire_time=from_timestamp(
                request.expire_time, present=request.HasField("expire_time"), field="expire_time"
            ),
            metadata=dict(request.metadata),
            request_id=request.request_id,
            actor=_actor(request.access_reason),
            allowed_destinations=list(request.allowed_destinations),
            provider=request.provider,
            rotation_interval=_rotation_interval(request),
        )
        return credential_to_proto(created)

    async def GetCredential(
        self, request: credentials_pb2.GetCredentialRequest, context: Context
    ) -> credentials_pb2.GetCredentialResponse:
        revealed = await self._vault.reveal(
            request.tenant_id,
            request.credential_ref,
            context=dict(request.context),
            access_reason=request.access_reason,
            caller=current_call().caller,
        )
        return _revealed_to_proto(revealed)

    async def UseCredential(
        self, request: credentials_pb2.UseCredentialRequest, context: Context
    ) -> credentials_pb2.GetCredentialResponse:
        revealed = await self._vault.use(
            request.tenant_id,
            request.credential_ref,
            UseTarget(request.destination, request.destination_in_secret),
            rpc=request.rpc,
            context=dict(request.context),
            access_reason=request.access_reason,
            caller=current_call().caller,
        )
        return _revealed_to_proto(revealed)

    async def UpdateCredentialDestinations(
        self, request: credentials_pb2.UpdateCredentialDestinationsRequest, context: Context
    ) -> credentials_pb2.Credential:
        updated = await self._vault.update_destinations(
            request.tenant_id,
            request.credential_id,
            list(request.allowed_destinations),
            actor=_actor(request.access_reason),
        )
        return credential_to_proto(updated)

    async def LookupCredential(
        self, request: credentials_pb2.LookupCredentialRequest, context: Context
    ) -> credentials_pb2.Credential:
        return credential_to_proto(
            await self._vault.lookup(request.tenant_id, request.credential_ref)
        )

    async def ListCredentials(
        self, request: credentials_pb2.ListCredentialsRequest, context: Context
    ) -> credentials_pb2.ListCredentialsResponse:
        page = await self._vault.list(
            request.tenant_id,
            request.page_size,
            request.page_token,
            expires_within=from_duration(
                request.expires_within,
                present=request.HasField("expires_within"),
                field="expires_within",
            ),
            rotation_due=request.rotation_due,
        )
        return list_response(
            credentials_pb2.ListCredentialsResponse, "credentials", page, credential_to_proto
        )

    async def GetExpiringCredentials(
        self, request: credentials_pb2.GetExpiringCredentialsRequest, context: Context
    ) -> credentials_pb2.GetExpiringCredentialsResponse:
        summary = await self._vault.expiring(
            request.tenant_id,
            from_duration(request.within, present=request.HasField("within"), field="within"),
        )
        response = credentials_pb2.GetExpiringCredentialsResponse(
            expired_count=summary.expired,
            expiring_count=summary.expiring,
            rotation_due_count=summary.rotation_due,
        )
        set_timestamp(response.next_expire_time, summary.next_expire_time)
        set_timestamp(response.next_rotation_due_time, summary.next_rotation_due_time)
        set_timestamp(response.check_time, summary.now)
        response.within.FromTimedelta(summary.horizon)
        return response

    async def RewrapCredentials(
        self, request: credentials_pb2.RewrapCredentialsRequest, context: Context
    ) -> AsyncIterator[credentials_pb2.RewrapCredentialsProgress]:
        async for progress in self._vault.rewrap_progress(request.batch_size or 100):
            yield credentials_pb2.RewrapCredentialsProgress(
                rewrapped=progress.rewrapped,
                failed=progress.failed,
                key_version=progress.key_version,
            )

    async def RewrapCredentialRef(
        self, request: credentials_pb2.RewrapCredentialRefRequest, context: Context
    ) -> credentials_pb2.RewrapCredentialRefResponse:
        ref, key_version = await self._vault.rewrap_ref(
            request.tenant_id, request.credential_ref, dict(request.context)
        )
        return credentials_pb2.RewrapCredentialRefResponse(
            credential_ref=ref, key_version=key_version
        )

    async def RotateCredential(
        self, request: credentials_pb2.RotateCredentialRequest, context: Context
    ) -> credentials_pb2.Credential:
        rotated = await self._vault.rotate(
            request.tenant_id,
            request.credential_id,
            request.secret,
            expire_time=from_timestamp(
                request.expire_time, present=request.HasField("expire_time"), field="expire_time"
            ),
            etag=request.etag,
            actor=_actor(request.access_reason),
            rotation_interval=_rotation_interval(request),
        )
        return credential_to_proto(rotated)

    async def DeleteCredential(
        self, request: credentials_pb2.DeleteCredentialRequest, context: Context
    ) -> credentials_pb2.DeleteCredentialResponse:
        deleted = await self._vault.delete(
            request.tenant_id, request.credential_id, actor=_actor(request.access_reason)
        )
        return credentials_pb2.DeleteCredentialResponse(deleted=True, credential_id=deleted.id)

    async def ListCredentialAccessEvents(
        self, request: credentials_pb2.ListCredentialAccessEventsRequest, context: Context
    ) -> credentials_pb2.ListCredentialAccessEventsResponse:
        page = await self._vault.access_events(
            request.tenant_id, request.credential_id, request.page_size, request.page_token
        )
        return list_response(
            credentials_pb2.ListCredentialAccessEventsResponse, "events", page, _event_to_proto
        )
