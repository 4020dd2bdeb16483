"""Bad input at scale: random and malformed requests to every RPC of every service (found from the
generated descriptors) get a well-formed status that is never INTERNAL or UNKNOWN, and a refused
call leaves every stored row as it was. SQLite only, bounded to stay well under a minute."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import text_format
from grpc_status import rpc_status
from hypothesis import HealthCheck, event, given, settings

from tests.faults.fuzz_target import MAX_MESSAGE_BYTES, FuzzTarget, fuzz_target
from tests.faults.malformed_messages import messages
from tests.faults.rpcs import Rpc, all_rpcs
from tests.secrets_registry import known_secrets

# FAULTS_FUZZ_EXAMPLES=200 for a longer hunt than the suite can afford.
EXAMPLES_PER_RPC = int(os.environ.get("FAULTS_FUZZ_EXAMPLES", "15"))
# CI (CI=true) replays the same examples every run, so a landing is never decided by chance;
# developers' runs draw new ones and keep hunting.
DERANDOMIZE = os.environ.get("CI") == "true"
CALL_TIMEOUT = 10.0
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
RPCS = [pytest.param(rpc, id=rpc.path.strip("/")) for rpc in all_rpcs()]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with fuzz_target(Path(tmp_path_factory.mktemp("fuzz"))) as running:
        yield running


def _shown(request: object) -> str:
    text = text_format.MessageToString(request, as_one_line=True)  # type: ignore[arg-type]
    return text if len(text) < 600 else text[:600] + "..."


def _assert_well_formed_refusal(target: FuzzTarget, rpc: Rpc, request: object,
                                error: grpc.RpcError) -> None:
    code = error.code()  # type: ignore[attr-defined]
    assert code not in NEVER, (
        f"{rpc.path} answered {code.name}: {error.details()}\n"  # type: ignore[attr-defined]
        f"request: {_shown(request)}\nserver log: {target.log_path}"
    )
    assert error.details(), f"{rpc.path}: {code.name} without a message"  # type: ignore[attr-defined]
    rpc_status.from_call(error)  # type: ignore[arg-type]  # raises if details and code disagree


def test_every_rpc_is_found_from_the_descriptors() -> None:
    paths = {rpc.path for rpc in all_rpcs()}
    assert "/integrations.v1.IntegrationsService/CreateIntegration" in paths
    assert "/credentials.v1.CredentialService/GetCredential" in paths
    assert "/integrations.v1.SqlGatewayService/ExecuteQuery" in paths
    assert len(paths) >= 40


# A failing example can be a 20 kB string; hypothesis warns before printing it, and the failure
# itself is what matters.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.parametrize("rpc", RPCS)
def test_random_and_malformed_requests(target: FuzzTarget, rpc: Rpc) -> None:
    call = rpc.callable(target.channel)

    @settings(
        max_examples=EXAMPLES_PER_RPC,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=messages(rpc.request_descriptor, target.seeds))
    def check(request: object) -> None:
        before = target.snapshot()
        try:
            call(request, timeout=CALL_TIMEOUT)
            event("OK")  # --hypothesis-show-statistics shows how deep the examples reach
        except grpc.RpcError as error:
            event(error.code().name)  # type: ignore[attr-defined]
            _assert_well_formed_refusal(target, rpc, request, error)
            assert target.snapshot() == before, f"{rpc.path} refused but changed stored data"

    check()


def _oversized(message: object) -> bytes:
    # An unknown length-delimited field 4095 (tag 0xFFBF 0x01...) pads any request past the cap.
    padding = b"x" * (MAX_MESSAGE_BYTES + 1)
    tag = (4095 << 3) | 2
    return message.SerializeToString() + _varint(tag) + _varint(len(padding)) + padding  # type: ignore[attr-defined]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@pytest.mark.parametrize("rpc", RPCS)
def test_request_over_the_message_cap_is_refused(target: FuzzTarget, rpc: Rpc) -> None:
    request = rpc.request_class()()
    tenant_field = rpc.request_descriptor.fields_by_name.get("tenant_id")
    if tenant_field is not None:
        request.tenant_id = target.seeds.tenants[0]  # type: ignore[attr-defined]
    before = target.snapshot()
    with pytest.raises(grpc.RpcError) as caught:
        rpc.callable(target.channel, serializer=_oversized)(request, timeout=CALL_TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert target.snapshot() == before


def test_server_log_holds_no_secret(target: FuzzTarget) -> None:
    """Runs after the fuzzing above (same module, same server): none of the secrets the server
    was given or sent appears in anything it logged."""
    log = target.log_path.read_text(errors="replace")
    assert [secret for secret in known_secrets() if secret in log] == []
