"""Scope derivation, tenant extraction, token checks and the caller file format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from credentials.v1 import credentials_pb2
from engines.kernel.errors import PermissionDenied, Unauthenticated
from service.auth import CallerRegistry, load_callers, request_tenant, required_scopes


@pytest.mark.parametrize(
    "method, scopes",
    [
        pytest.param("/integrations.v1.IntegrationsService/GetIntegration", ("integrations.read",), id="get"),
        pytest.param("/integrations.v1.IntegrationsService/RecordUsage", ("integrations.write",), id="write"),
        pytest.param("/integrations.v1.IntegrationHealthService/CheckAllIntegrations",
                     ("integrations.read",), id="health"),
        pytest.param("/integrations.v1.ConnectorsService/TestConnector", ("connectors.write",), id="test"),
        pytest.param("/integrations.v1.DataSourcesService/ListDataSources", ("datasources.read",), id="ds"),
        pytest.param("/integrations.v1.SqlGatewayService/ExecuteQuery", ("sql.execute",), id="execute"),
        pytest.param("/integrations.v1.PreventionService/ValidatePreventionCandidate",
                     ("prevention.read",), id="validate"),
        pytest.param("/credentials.v1.CredentialService/GetCredential", ("credentials.reveal",), id="reveal"),
        pytest.param("/credentials.v1.CredentialService/EncryptCredential",
                     ("credentials.encrypt",), id="encrypt"),
        pytest.param("/credentials.v1.CredentialService/RotateCredential",
                     ("credentials.manage", "credentials.write"), id="rotate"),
        pytest.param("/credentials.v1.CredentialService/UseCredential",
                     ("credentials.use",), id="use"),
        pytest.param("/credentials.v1.CredentialService/RewrapCredentials",
                     ("credentials.admin",), id="rewrap-all"),
        pytest.param("/credentials.v1.CredentialService/RewrapCredentialRef",
                     ("credentials.encrypt",), id="rewrap-ref"),
        pytest.param("/credentials.v1.CredentialService/GetExpiringCredentials",
                     ("credentials.read", "credentials.manage", "credentials.write"), id="expiring"),
        pytest.param("/other.v1.Unknown/Get", (), id="unknown-needs-star"),
    ],
)
def test_required_scopes(method: str, scopes: tuple[str, ...]) -> None:
    assert required_scopes(method) == scopes


def _nested_request_class() -> type:
    """A message shaped like CreatePreventionRecordRequest: tenant_id only inside `candidate`."""
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(name="t.proto", package="t", syntax="proto3")
    inner = proto.message_type.add(name="Candidate")
    inner.field.add(name="tenant_id", number=1, type=9, label=1)
    outer = proto.message_type.add(name="CreateRequest")
    outer.field.add(name="candidate", number=1, type=11, label=1, type_name=".t.Candidate")
    outer.field.add(name="request_id", number=2, type=9, label=1)
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("t.CreateRequest"))


def test_request_tenant_top_level_nested_and_absent() -> None:
    top = credentials_pb2.ListCredentialsRequest(tenant_id="t-1")
    assert request_tenant(top) == "t-1"
    nested_class = _nested_request_class()
    nested = nested_class()
    nested.candidate.tenant_id = "t-2"
    assert request_tenant(nested) == "t-2"
    assert request_tenant(nested_class()) == ""
    assert request_tenant(object()) == ""


def _registry(tmp_path: Path, body: str) -> CallerRegistry:
    path = tmp_path / "callers.yaml"
    path.write_text(body)
    return CallerRegistry(load_callers(path), open_access=False)


def test_tokens_scopes_and_tenants(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"t0k").hexdigest()
    tenant = "6a1f2c3d-0000-4000-8000-000000000001"
    registry = _registry(
        tmp_path,
        f"callers:\n  - name: svc\n    token_sha256: {digest.upper()}\n"
        f"    scopes: [credentials.read]\n    tenants: ['{tenant.upper()}']\n",
    )
    caller = registry.authenticate("Bearer t0k")
    assert caller.name == "svc" and "t0k" not in repr(caller)
    registry.authorize(caller, "/credentials.v1.CredentialService/ListCredentials", tenant)
    with pytest.raises(PermissionDenied):
        registry.authorize(caller, "/credentials.v1.CredentialService/GetCredential", tenant)
    with pytest.raises(PermissionDenied):
        registry.authorize(
            caller, "/credentials.v1.CredentialService/ListCredentials", tenant[:-1] + "2"
        )
    for bad in (None, "", "t0k", "Basic t0k", "Bearer t0k2"):
        with pytest.raises(Unauthenticated):
            registry.authenticate(bad)


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param("nope: []", "top-level list 'callers'", id="no-callers"),
        pytest.param("callers: [{name: a, token_sha256: abc, scopes: [], tenants: '*'}]",
                     "64 hex digits", id="bad-digest"),
        pytest.param(f"callers: [{{name: a, token_sha256: '{'0' * 64}', scopes: x, tenants: '*'}}]",
                     "scopes", id="bad-scopes"),
        pytest.param("callers: [", "not valid YAML", id="syntax"),
        pytest.param(f"callers: [{{name: a, token_sha256: '{'0' * 64}', scopes: [], tenants: '*',"
                     " roles: admin}]", "roles must be", id="bad-roles"),
    ],
)
def test_caller_file_errors_are_clear(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _registry(tmp_path, body)


def test_roles_default_to_none_held_and_star_means_every_role(tmp_path: Path) -> None:
    def entry(name: str, token: bytes, roles: str) -> str:
        return (f"  - name: {name}\n    token_sha256: {hashlib.sha256(token).hexdigest()}\n"
                f"    scopes: ['*']\n    tenants: '*'\n{roles}")

    registry = _registry(tmp_path, "callers:\n" + entry("plain", b"a", "")
                         + entry("finance", b"b", "    roles: [finance, ' audit ']\n")
                         + entry("all", b"c", "    roles: '*'\n"))
    assert registry.authenticate("Bearer a").roles == frozenset()
    assert registry.authenticate("Bearer b").roles == {"finance", "audit"}
    assert registry.authenticate("Bearer c").roles is None
