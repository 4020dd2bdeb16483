"""CredentialService end to end through the real server, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import duration_pb2, timestamp_pb2

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from drivers.tables.credentials import credential_secrets, credentials
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.secret_scan import secrets_in_database
from tests.service.servers import started
from tests.support import RunningServer, rich_error

SECRET = register_secret("sk-test-PLAINTEXT-9f8e7d6c5b4a")
ROTATED = register_secret("sk-test-ROTATED-1a2b3c4d5e6f")


@pytest.fixture(scope="module", autouse=True)
def _no_plaintext_left_behind(database_urls: dict[str, str | None]) -> Iterator[None]:
    """After every test of this module: no secret it stored is in either database."""
    yield
    for url in filter(None, database_urls.values()):
        assert asyncio.run(secrets_in_database(url, [SECRET, ROTATED])) == []


def _stub(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
    return server.stub(credentials_pb2_grpc.CredentialServiceStub)


async def _fails(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def _create(stub, tenant: str, name: str = "openai", secret: str = SECRET, **kw) -> pb.Credential:
    return await stub.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name=name, secret=secret, **kw)
    )


async def _events(stub, tenant: str, credential_id: str = "") -> list[pb.CredentialAccessEvent]:
    reply = await stub.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(
            tenant_id=tenant, credential_id=credential_id, page_size=100
        )
    )
    return list(reply.events)


async def test_encrypt_round_trip_binds_tenant_and_context(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    sealed = await stub.EncryptCredential(
        pb.EncryptCredentialRequest(tenant_id=tenant, plaintext=SECRET, context={"app": "a"})
    )
    assert sealed.credential_ref.startswith("encrypted://v1/1/")
    assert SECRET not in sealed.credential_ref
    revealed = await stub.GetCredential(
        pb.GetCredentialRequest(
            tenant_id=tenant, credential_ref=sealed.credential_ref, context={"app": "a"},
            access_reason="test",
        )
    )
    assert revealed.value == SECRET
    assert not revealed.HasField("expire_time")

    flipped = list(sealed.credential_ref)
    flipped[-5] = "A" if flipped[-5] != "A" else "B"
    attempts = {
        "tampered": (tenant, "".join(flipped), {"app": "a"}),
        "other tenant": (other_tenant, sealed.credential_ref, {"app": "a"}),
        "wrong context": (tenant, sealed.credential_ref, {"app": "b"}),
        "no context": (tenant, sealed.credential_ref, {}),
    }
    messages = set()
    for name, (who, ref, context) in attempts.items():
        err = rich_error(
            await _fails(
                stub.GetCredential(
                    pb.GetCredentialRequest(tenant_id=who, credential_ref=ref, context=context)
                )
            )
        )
        assert err.code == grpc.StatusCode.NOT_FOUND, name
        assert "Traceback" not in err.message and SECRET not in err.message
        messages.add(err.message)
    assert len(messages) == 1  # all fail the same way

    events = await _events(stub, tenant)
    outcomes = [(e.outcome, e.allowed) for e in events]
    assert outcomes[0] == (pb.ACCESS_OUTCOME_ALLOWED, True)
    assert outcomes[1:] == [(pb.ACCESS_OUTCOME_FAILED, False)] * 3
    assert all(SECRET not in str(e) and "encrypted://v1/1/sha256:" in e.credential_ref for e in events)


async def test_stored_credential_lifecycle(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    created = await _create(stub, tenant, metadata={"team": "ml"})
    assert created.credential_ref == f"cus-vault://{tenant}/{created.id}"
    assert created.version == 1 and created.metadata["team"] == "ml"
    assert SECRET not in str(created)

    get = pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
    assert (await stub.GetCredential(get)).value == SECRET

    rotated = await stub.RotateCredential(
        pb.RotateCredentialRequest(tenant_id=tenant, credential_id=created.id, secret=ROTATED)
    )
    assert rotated.version == 2 and rotated.credential_ref == created.credential_ref
    assert rotated.etag != created.etag
    revealed = await stub.GetCredential(get)
    assert (revealed.value, revealed.version) == (ROTATED, 2)

    stale = rich_error(
        await _fails(
            stub.RotateCredential(
                pb.RotateCredentialRequest(
                    tenant_id=tenant, credential_id=created.id, secret="x", etag=created.etag
                )
            )
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    assert (await stub.GetCredential(get)).value == ROTATED  # nothing changed

    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert [c.id for c in listed.credentials] == [created.id] and listed.total_size == 1

    await stub.DeleteCredential(pb.DeleteCredentialRequest(tenant_id=tenant, credential_id=created.id))
    err = rich_error(await _fails(stub.GetCredential(get)))
    assert err.code == grpc.StatusCode.NOT_FOUND
    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert listed.total_size == 0
    logged = [(e.kind, e.outcome) for e in await _events(stub, tenant, created.id)]
    allowed = pb.ACCESS_OUTCOME_ALLOWED
    assert logged == [
        (pb.ACCESS_KIND_CREATE, allowed), (pb.ACCESS_KIND_REVEAL, allowed),
        (pb.ACCESS_KIND_ROTATE, allowed), (pb.ACCESS_KIND_REVEAL, allowed),
        (pb.ACCESS_KIND_REVEAL, allowed), (pb.ACCESS_KIND_DELETE, allowed),
        (pb.ACCESS_KIND_REVEAL, pb.ACCESS_OUTCOME_FAILED),
    ]


async def test_lifecycle_changes_are_logged_with_caller_reason_and_rpc(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    created = await _create(stub, tenant, access_reason="onboarding")
    await stub.RotateCredential(pb.RotateCredentialRequest(
        tenant_id=tenant, credential_id=created.id, secret=ROTATED, access_reason="INC-7"))
    await stub.UpdateCredentialDestinations(pb.UpdateCredentialDestinationsRequest(
        tenant_id=tenant, credential_id=created.id, allowed_destinations=["api.openai.com"],
        access_reason="moved to OpenAI"))
    too_long = "x" * 513
    for call in (
        stub.RotateCredential(pb.RotateCredentialRequest(
            tenant_id=tenant, credential_id=created.id, secret="y", access_reason=too_long)),
        stub.DeleteCredential(pb.DeleteCredentialRequest(
            tenant_id=tenant, credential_id=created.id, access_reason=too_long)),
    ):
        err = rich_error(await _fails(call))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "access_reason" in err.field_violations
    other = rich_error(await _fails(stub.DeleteCredential(pb.DeleteCredentialRequest(
        tenant_id=other_tenant, credential_id=created.id, access_reason="hostile"))))
    assert other.code == grpc.StatusCode.NOT_FOUND
    await stub.DeleteCredential(pb.DeleteCredentialRequest(
        tenant_id=tenant, credential_id=created.id, access_reason="offboarding"))

    events = await _events(stub, tenant, created.id)
    service = "/credentials.v1.CredentialService/"
    assert [(e.kind, e.access_reason, e.rpc) for e in events] == [
        (pb.ACCESS_KIND_CREATE, "onboarding", service + "CreateCredential"),
        (pb.ACCESS_KIND_ROTATE, "INC-7", service + "RotateCredential"),
        (pb.ACCESS_KIND_UPDATE, "moved to OpenAI", service + "UpdateCredentialDestinations"),
        (pb.ACCESS_KIND_DELETE, "offboarding", service + "DeleteCredential"),
    ]
    assert {e.outcome for e in events} == {pb.ACCESS_OUTCOME_ALLOWED}
    assert all(e.caller and e.credential_ref == created.credential_ref for e in events)
    assert not [e for e in events if SECRET in str(e) or ROTATED in str(e)]
    assert await _events(stub, other_tenant) == []  # the refused delete is not in their log


async def test_create_is_idempotent_and_names_are_unique(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    first = await _create(stub, tenant, request_id="r-1")
    again = await _create(stub, tenant, request_id="r-1")
    assert again.id == first.id
    err = rich_error(await _fails(_create(stub, tenant)))
    assert err.code == grpc.StatusCode.ALREADY_EXISTS
    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert listed.total_size == 1


async def test_bad_input_names_fields_and_stores_nothing(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    past = timestamp_pb2.Timestamp()
    past.FromDatetime(datetime.now(timezone.utc) - timedelta(days=1))
    err = rich_error(
        await _fails(
            stub.CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="", secret="", expire_time=past)
            )
        )
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {"name", "secret", "expire_time"} <= set(err.field_violations)
    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert listed.total_size == 0
    err = rich_error(
        await _fails(stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant, page_size=-1)))
    )
    assert "page_size" in err.field_violations


async def test_expired_credential_is_failed_precondition(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    soon = timestamp_pb2.Timestamp()
    soon.FromDatetime(datetime.now(timezone.utc) + timedelta(seconds=1))
    created = await _create(stub, tenant, expire_time=soon)
    # Move the expiry into the past the way no RPC can: straight in the database.
    async with server.app.database.transaction() as conn:
        await conn.execute(
            credentials.update()
            .where(credentials.c.id == created.id, credentials.c.tenant_id == tenant)
            .values(expire_time=datetime.now(timezone.utc) - timedelta(minutes=1))
        )
    err = rich_error(
        await _fails(
            stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
            )
        )
    )
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "CREDENTIAL_EXPIRED"
    events = await _events(stub, tenant, created.id)
    assert [(e.outcome, e.detail) for e in events] == [
        (pb.ACCESS_OUTCOME_ALLOWED, "version 1"), (pb.ACCESS_OUTCOME_DENIED, "expired")
    ]


@pytest.mark.parametrize(
    "ref, code, reason",
    [
        pytest.param("vault://secret/openai", grpc.StatusCode.FAILED_PRECONDITION,
                     "CREDENTIAL_SCHEME_UNSUPPORTED", id="legacy-vault"),
        pytest.param("sk-raw-key-123", grpc.StatusCode.INVALID_ARGUMENT, "", id="raw-key"),
    ],
)
async def test_unsupported_refs(
    server: RunningServer, tenant: str, ref: str, code: grpc.StatusCode, reason: str
) -> None:
    stub = _stub(server)
    err = rich_error(
        await _fails(stub.GetCredential(pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)))
    )
    assert err.code == code
    assert err.reason == reason or reason == ""
    assert "sk-raw-key-123" not in err.message
    if reason:
        assert "encrypted://" in err.message and "cus-vault://" in err.message
    events = await _events(stub, tenant)
    assert len(events) == 1 and "sk-raw-key" not in events[0].credential_ref


async def test_other_tenant_gets_not_found_in_every_rpc(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    created = await _create(stub, tenant)
    missing = "00000000-0000-4000-8000-000000000000"
    calls = {
        "GetCredential": lambda cid, who: stub.GetCredential(
            pb.GetCredentialRequest(tenant_id=who, credential_ref=f"cus-vault://{tenant}/{cid}")
        ),
        "LookupCredential": lambda cid, who: stub.LookupCredential(
            pb.LookupCredentialRequest(tenant_id=who, credential_ref=cid)
        ),
        "LookupCredential by ref": lambda cid, who: stub.LookupCredential(
            pb.LookupCredentialRequest(tenant_id=who, credential_ref=f"cus-vault://{tenant}/{cid}")
        ),
        "RotateCredential": lambda cid, who: stub.RotateCredential(
            pb.RotateCredentialRequest(tenant_id=who, credential_id=cid, secret="evil")
        ),
        "DeleteCredential": lambda cid, who: stub.DeleteCredential(
            pb.DeleteCredentialRequest(tenant_id=who, credential_id=cid)
        ),
    }
    for name, call in calls.items():
        theirs = rich_error(await _fails(call(created.id, other_tenant)))
        absent = rich_error(await _fails(call(missing, tenant)))
        assert theirs.code == absent.code == grpc.StatusCode.NOT_FOUND, name
        assert theirs.message == absent.message.replace(missing, created.id), name
    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=other_tenant))
    assert listed.total_size == 0
    # The other tenant's own log reads as it would for an id that does not exist.
    tried = await _events(stub, other_tenant, created.id)
    assert {(e.outcome, e.detail) for e in tried} == {
        (pb.ACCESS_OUTCOME_FAILED, "names a credential of another tenant or none")
    }
    # Nothing the other tenant tried changed the credential.
    revealed = await stub.GetCredential(
        pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
    )
    assert (revealed.value, revealed.version) == (SECRET, 1)
    # The owner's log shows the cross-tenant reveal as denied, naming who tried.
    denied = [e for e in await _events(stub, tenant, created.id) if not e.allowed]
    assert [(e.outcome, e.requester_tenant_id) for e in denied] == [
        (pb.ACCESS_OUTCOME_DENIED, other_tenant)
    ]


async def test_env_refs_resolve_only_when_enabled(
    server: RunningServer, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_ISSUE3_TEST_KEY", SECRET)
    request = pb.GetCredentialRequest(tenant_id=tenant, credential_ref="env://DEV_ISSUE3_TEST_KEY")
    assert (await _stub(server).GetCredential(request)).value == SECRET

    config = serve_config(server.database_url, allow_env_credentials=False)
    async with started(config) as production_like:
        err = rich_error(await _fails(_stub(production_like).GetCredential(request)))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "CREDENTIAL_SCHEME_DISABLED"
    assert "--allow-env-credentials" in err.message


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("CREDENTIAL_MASTER_KEYS", id="master-keys"),
        pytest.param("PATH", id="path"),
        pytest.param("HOME", id="home"),
        pytest.param("INTEGRATIONS_DATABASE_URL", id="service-config"),
    ],
)
async def test_env_refs_outside_the_allowed_prefixes_are_refused(
    server: RunningServer, tenant: str, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, register_secret(f"not-for-tenants-{name}"))
    request = pb.GetCredentialRequest(tenant_id=tenant, credential_ref=f"env://{name}")
    err = rich_error(await _fails(_stub(server).GetCredential(request)))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "ENV_CREDENTIAL_NAME_REFUSED"
    assert "CUS_CRED_" in err.message and "not-for-tenants" not in err.message


async def test_the_services_own_variables_stay_refused_whatever_the_prefixes(
    server: RunningServer, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDENTIAL_MASTER_KEYS", register_secret("keyring-not-for-tenants"))
    monkeypatch.setenv("OPS_TOKEN", SECRET)
    config = serve_config(
        server.database_url, env_credential_prefixes=("CREDENTIAL_", "INTEGRATIONS_", "OPS_")
    )
    async with started(config) as widened:
        stub = _stub(widened)
        allowed = pb.GetCredentialRequest(tenant_id=tenant, credential_ref="env://OPS_TOKEN")
        assert (await stub.GetCredential(allowed)).value == SECRET
        for name in ("CREDENTIAL_MASTER_KEYS", "INTEGRATIONS_LISTEN"):
            request = pb.GetCredentialRequest(tenant_id=tenant, credential_ref=f"env://{name}")
            err = rich_error(await _fails(stub.GetCredential(request)))
            assert err.reason == "ENV_CREDENTIAL_NAME_REFUSED"


async def test_integrations_accept_cus_vault_refs_of_the_tenant_only(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    from integrations.v1 import integrations_pb2, integrations_pb2_grpc

    credentials_stub = _stub(server)
    integrations = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    mine = await _create(credentials_stub, tenant)
    theirs = await _create(credentials_stub, other_tenant)

    def create(ref: str) -> object:
        return integrations.CreateIntegration(
            integrations_pb2.CreateIntegrationRequest(
                tenant_id=tenant,
                integration=integrations_pb2.Integration(
                    name=f"i-{ref[-6:]}",
                    provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                    credential_ref=ref,
                ),
            )
        )

    created = await create(mine.credential_ref)
    assert created.credential_ref == mine.credential_ref
    for bad in (theirs.credential_ref, f"cus-vault://{tenant}/{theirs.id}"):
        err = rich_error(await _fails(create(bad)))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "integration.credential_ref" in err.field_violations
    err = rich_error(
        await _fails(
            integrations.UpdateIntegration(
                integrations_pb2.UpdateIntegrationRequest(
                    tenant_id=tenant,
                    integration=integrations_pb2.Integration(
                        id=created.id, credential_ref=theirs.credential_ref
                    ),
                )
            )
        )
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    stored = await integrations.GetIntegration(
        integrations_pb2.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert stored.credential_ref == mine.credential_ref
    await credentials_stub.DeleteCredential(
        pb.DeleteCredentialRequest(tenant_id=tenant, credential_id=mine.id)
    )
    err = rich_error(await _fails(create(mine.credential_ref)))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT  # revoked: no longer accepted


async def test_a_byte_changed_at_rest_is_detected(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    created = await _create(stub, tenant)
    async with server.app.database.transaction() as conn:
        sealed = (
            await conn.execute(
                sa.select(credential_secrets.c.sealed).where(
                    credential_secrets.c.credential_id == created.id,
                    credential_secrets.c.tenant_id == tenant,
                )
            )
        ).scalar_one()
        flipped = bytearray(sealed)
        flipped[20] ^= 0x01
        await conn.execute(
            credential_secrets.update()
            .where(
                credential_secrets.c.credential_id == created.id,
                credential_secrets.c.tenant_id == tenant,
            )
            .values(sealed=bytes(flipped))
        )
    err = rich_error(
        await _fails(
            stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
            )
        )
    )
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "CREDENTIAL_CORRUPTED" and SECRET not in err.message
    events = await _events(stub, tenant, created.id)
    assert [(e.kind, e.outcome) for e in events] == [
        (pb.ACCESS_KIND_CREATE, pb.ACCESS_OUTCOME_ALLOWED),
        (pb.ACCESS_KIND_REVEAL, pb.ACCESS_OUTCOME_FAILED),
    ]


async def test_lists_page_in_creation_order(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    made = [await _create(stub, tenant, name=f"k{i}") for i in range(3)]
    first = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant, page_size=2))
    assert [c.id for c in first.credentials] == [c.id for c in made[:2]]
    assert first.total_size == 3 and first.next_page_token
    rest = await stub.ListCredentials(
        pb.ListCredentialsRequest(tenant_id=tenant, page_size=2, page_token=first.next_page_token)
    )
    assert [c.id for c in rest.credentials] == [made[2].id] and not rest.next_page_token
    err = rich_error(
        await _fails(
            stub.ListCredentials(
                pb.ListCredentialsRequest(tenant_id=other_tenant, page_token=first.next_page_token)
            )
        )
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in err.field_violations

    for credential in made:
        await stub.GetCredential(
            pb.GetCredentialRequest(tenant_id=tenant, credential_ref=credential.credential_ref)
        )
    page = await stub.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=tenant, page_size=4)
    )
    more = await stub.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(
            tenant_id=tenant, page_size=4, page_token=page.next_page_token
        )
    )
    events = [*page.events, *more.events]
    ids = [c.id for c in made]
    assert [(e.kind, e.credential_id) for e in events] == [
        *((pb.ACCESS_KIND_CREATE, i) for i in ids), *((pb.ACCESS_KIND_REVEAL, i) for i in ids)
    ]
    assert page.total_size == 6 and not more.next_page_token


def _duration(**kw: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromTimedelta(timedelta(**kw))
    return value


def _at(delta: timedelta) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(datetime.now(timezone.utc) + delta)
    return value


async def test_rotation_schedules_expiry_filters_and_the_summary(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    scheduled = await _create(stub, tenant, name="scheduled", rotation_interval=_duration(days=30))
    assert scheduled.rotation_interval.ToTimedelta() == timedelta(days=30)
    due_in = scheduled.rotation_due_time.ToDatetime(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(days=29) < due_in <= timedelta(days=30)
    soon = await _create(stub, tenant, name="soon", expire_time=_at(timedelta(days=2)))
    await _create(stub, tenant, name="later", expire_time=_at(timedelta(days=60)))
    plain = await _create(stub, tenant, name="plain")
    assert not plain.HasField("rotation_interval") and not plain.HasField("rotation_due_time")
    await _create(stub, other_tenant, name="theirs", expire_time=_at(timedelta(hours=1)),
                  rotation_interval=_duration(hours=1))
    # Make `scheduled` overdue and another credential expired, the way no RPC can.
    expired = await _create(stub, tenant, name="expired", expire_time=_at(timedelta(seconds=5)))
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    async with server.app.database.transaction() as conn:
        for credential_id, values in ((scheduled.id, {"rotation_due_time": past}),
                                      (expired.id, {"expire_time": past})):
            await conn.execute(credentials.update().where(credentials.c.id == credential_id)
                               .values(**values))

    async def listed(**filters: object) -> list[str]:
        reply = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant, **filters))
        assert reply.total_size == len(reply.credentials)
        return sorted(c.name for c in reply.credentials)

    assert await listed(expires_within=_duration(days=7)) == ["expired", "soon"]
    assert await listed(expires_within=_duration(days=90)) == ["expired", "later", "soon"]
    assert await listed(rotation_due=True) == ["scheduled"]
    summary = await stub.GetExpiringCredentials(pb.GetExpiringCredentialsRequest(tenant_id=tenant))
    assert (summary.expired_count, summary.expiring_count, summary.rotation_due_count) == (1, 1, 1)
    assert summary.within.ToTimedelta() == timedelta(days=7)
    assert summary.next_expire_time == soon.expire_time
    assert not summary.HasField("next_rotation_due_time")  # the only schedule is overdue

    rotated = await stub.RotateCredential(pb.RotateCredentialRequest(
        tenant_id=tenant, credential_id=scheduled.id, secret=ROTATED))
    assert rotated.rotation_interval.ToTimedelta() == timedelta(days=30)
    assert rotated.rotation_due_time.ToDatetime(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    assert await listed(rotation_due=True) == []
    theirs = await stub.GetExpiringCredentials(
        pb.GetExpiringCredentialsRequest(tenant_id=other_tenant, within=_duration(days=1)))
    assert (theirs.expired_count, theirs.expiring_count, theirs.rotation_due_count) == (0, 1, 0)


async def test_bad_rotation_and_expiry_input_names_the_field(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    for call, field in (
        (_create(stub, tenant, name="fast", rotation_interval=_duration(minutes=5)), "rotation_interval"),
        (stub.ListCredentials(pb.ListCredentialsRequest(
            tenant_id=tenant, expires_within=_duration(days=-1))), "expires_within"),
        (stub.GetExpiringCredentials(pb.GetExpiringCredentialsRequest(
            tenant_id=tenant, within=_duration(days=4000))), "within"),
        (stub.GetExpiringCredentials(pb.GetExpiringCredentialsRequest(tenant_id="nope")), "tenant_id"),
    ):
        err = rich_error(await _fails(call))
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT and field in err.field_violations
    listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert "fast" not in {c.name for c in listed.credentials}  # nothing stored
