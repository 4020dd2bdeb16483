"""The tenant in the per-RPC log line comes from the request, top-level or nested
(PreventionService's `candidate.tenant_id`)."""

from __future__ import annotations

import json
import logging

import pytest

from integrations.v1 import prevention_pb2 as pb
from integrations.v1 import prevention_pb2_grpc
from service.logs import JsonFormatter
from tests.service.test_prevention_service import candidate
from tests.support import RunningServer


def _rpc_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records
            if r.name == "integrations.rpc"]


async def test_the_log_line_names_the_tenant_of_a_nested_candidate(
    server: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integrations.rpc")
    stub = server.stub(prevention_pb2_grpc.PreventionServiceStub)
    await stub.ValidatePreventionCandidate(
        pb.ValidatePreventionCandidateRequest(candidate=candidate(tenant))
    )
    await stub.CreatePreventionRecord(pb.CreatePreventionRecordRequest(candidate=candidate(tenant)))
    await stub.GetPreventionContract(pb.GetPreventionContractRequest())
    assert [(line["method"], line["tenant_id"]) for line in _rpc_lines(caplog)] == [
        ("/integrations.v1.PreventionService/ValidatePreventionCandidate", tenant),
        ("/integrations.v1.PreventionService/CreatePreventionRecord", tenant),
        ("/integrations.v1.PreventionService/GetPreventionContract", ""),
    ]
