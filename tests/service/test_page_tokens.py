"""Page tokens over the wire, on SQLite and PostgreSQL: every List RPC (found from the
descriptors) answers INVALID_ARGUMENT naming page_token for any token it did not issue for that
very request (random, forged, tampered, another tenant's, other filters or page size, another
deployment's key), and replicas sharing the master keys accept each other's tokens."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.v1 import credentials_pb2 as cred_pb
from credentials.v1 import credentials_pb2_grpc
from integrations.v1 import prevention_pb2 as pb
from integrations.v1 import prevention_pb2_grpc
from tests.conftest import serve_config
from tests.faults.rpcs import Rpc, all_rpcs
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.service.test_prevention_service import candidate
from tests.support import RunningServer, new_tenant, rich_error

LIST_RPCS = [
    pytest.param(rpc, id=rpc.method.name)
    for rpc in all_rpcs()
    if "page_token" in rpc.request_descriptor.fields_by_name
]
EXAMPLES_PER_RPC = 25


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_times = st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()) | st.sampled_from(
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999Z"]
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | _times,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_payloads = st.fixed_dictionaries(
    {"t": _times | _json, "i": _json},
    optional={"f": st.text(max_size=20) | _json, "s": st.integers() | _json},
)
_macs = st.binary(min_size=0, max_size=40).map(_b64)
PAGE_TOKENS = st.one_of(
    st.text(min_size=1, max_size=600),
    _payloads.map(lambda p: _b64(json.dumps(p).encode())),  # unsigned, the old format
    st.tuples(_payloads, _macs).map(lambda pm: f"{_b64(json.dumps(pm[0]).encode())}.{pm[1]}"),
    st.integers(1, 200_000).map(lambda n: f"{_b64(b'[' * n + b']' * n)}.{_b64(b'0' * 16)}"),
    st.integers(min_value=10**30).map(lambda n: _b64(str(n).encode()) + "." + _b64(b"1" * 16)),
)


def _request(rpc: Rpc, tenant: str, token: str) -> Any:
    request = rpc.request_class()()
    request.tenant_id = tenant
    request.page_token = token
    return request


def _assert_names_page_token(error: grpc.RpcError, rpc: Rpc, token: str) -> None:
    details = rich_error(error)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT, (rpc.path, token[:200], details)
    assert "page_token" in details.field_violations, (rpc.path, details)


@pytest.mark.parametrize("rpc", LIST_RPCS)
async def test_random_page_tokens_are_invalid_argument(server: RunningServer, rpc: Rpc) -> None:
    tenant = new_tenant()

    @settings(
        max_examples=EXAMPLES_PER_RPC,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(token=PAGE_TOKENS)
    def check(token: str) -> None:
        with pytest.raises(grpc.RpcError) as caught:
            call(_request(rpc, tenant, token), timeout=10)
        _assert_names_page_token(caught.value, rpc, token)

    # Blocking calls from a thread, while this loop keeps serving them.
    with grpc.insecure_channel(server.address) as channel:
        call = rpc.callable(channel)
        await asyncio.to_thread(check)


async def _records(stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, n: int) -> None:
    for _ in range(n):
        await stub.CreatePreventionRecord(
            pb.CreatePreventionRecordRequest(candidate=candidate(tenant))
        )


async def _refusal(call: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    details = rich_error(caught.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in details.field_violations


async def test_an_issued_token_is_bound_to_its_request(server: RunningServer) -> None:
    stub = server.stub(prevention_pb2_grpc.PreventionServiceStub)
    tenant, other = new_tenant(), new_tenant()
    await _records(stub, tenant, 3)
    await _records(stub, other, 3)
    first = await stub.ListPreventionRecords(
        pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2)
    )
    token = first.next_page_token
    second = await stub.ListPreventionRecords(
        pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2, page_token=token)
    )
    assert len(second.prevention_records) == 1 and not second.next_page_token
    payload, mac = token.split(".")
    tampered = [f"{payload}.{mac[::-1]}", f"{payload[:-2]}{payload[-1]}{payload[-2]}.{mac}",
                token + "A", token + "\n", " " + token]
    mismatched = [
        pb.ListPreventionRecordsRequest(tenant_id=other, page_size=2, page_token=token),
        pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=3, page_token=token),
        pb.ListPreventionRecordsRequest(
            tenant_id=tenant, page_size=2, page_token=token, policy_id="policy-1"
        ),
        *(pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2, page_token=t)
          for t in tampered if t != token),
    ]
    for request in mismatched:
        await _refusal(stub.ListPreventionRecords(request))
    # A token of one List RPC is not one of another.
    credentials = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    await _refusal(
        credentials.ListCredentials(
            cred_pb.ListCredentialsRequest(tenant_id=tenant, page_size=2, page_token=token)
        )
    )


async def test_replicas_sharing_master_keys_accept_each_others_tokens(
    server: RunningServer, database_url: str
) -> None:
    stub = server.stub(prevention_pb2_grpc.PreventionServiceStub)
    tenant = new_tenant()
    await _records(stub, tenant, 3)
    token = (
        await stub.ListPreventionRecords(
            pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2)
        )
    ).next_page_token
    request = pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2, page_token=token)
    async with started(serve_config(database_url)) as replica:
        replica_stub = replica.stub(prevention_pb2_grpc.PreventionServiceStub)
        assert len((await replica_stub.ListPreventionRecords(request)).prevention_records) == 1
    other_key = "1:" + register_secret(base64.b64encode(os.urandom(32)).decode())
    async with started(serve_config(database_url, master_keys=other_key)) as elsewhere:
        await _refusal(
            elsewhere.stub(prevention_pb2_grpc.PreventionServiceStub).ListPreventionRecords(
                request
            )
        )
