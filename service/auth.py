"""Who may call what: the caller file (`--callers`), bearer-token checks in constant time, the
scope each RPC needs, and the tenant a request acts for.

Scopes are derived from the service and the method's verb, so services added later are covered
without editing a table: `<family>.read` for Get/List/Check/Validate/Evaluate methods,
`<family>.write` for everything else; a few methods have their own scope (see `_EXPLICIT`).
Unknown services need `*`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.kernel.errors import PermissionDenied, Unauthenticated
from service.call_info import ANONYMOUS
from service.config import ServeConfig

__all__ = [
    "INTERNAL_CALLER",
    "OPEN_METHOD_PREFIXES",
    "Caller",
    "CallerRegistry",
    "caller_registry",
    "is_open_method",
    "load_callers",
    "request_tenant",
    "required_scopes",
]

log = logging.getLogger("integrations.server")

INTERNAL_CALLER = "integrations-service (internal)"
OPEN_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
_FAMILIES = {
    "integrations.v1.IntegrationsService": "integrations",
    "integrations.v1.IntegrationHealthService": "integrations",
    "integrations.v1.ConnectorsService": "connectors",
    "integrations.v1.DataSourcesService": "datasources",
    "integrations.v1.SqlGatewayService": "sql",
    "integrations.v1.PreventionService": "prevention",
    "integrations.v1.AdmissionService": "admission",
}
_READ_VERBS = ("Get", "List", "Check", "Validate", "Evaluate")
_CREDENTIALS = "/credentials.v1.CredentialService/"
_CREDENTIALS_READ = ("credentials.read", "credentials.manage", "credentials.write")
# credentials.write is the same grant as credentials.manage under the usual verb name.
_CREDENTIALS_WRITE = ("credentials.manage", "credentials.write")
_ADMISSION = "/integrations.v1.AdmissionService/"
_EXPLICIT: dict[str, tuple[str, ...]] = {
    f"{_ADMISSION}AdmitCall": ("admission.admit",),
    f"{_ADMISSION}SettleCall": ("admission.admit",),
    f"{_ADMISSION}WatchLimitEvents": ("admission.read",),
    "/integrations.v1.SqlGatewayService/ExecuteQuery": ("sql.execute",),
    # A tool's input schema: readers, and the agents that execute the tool.
    "/integrations.v1.SqlGatewayService/DescribeTemplate": ("sql.read", "sql.execute"),
    f"{_CREDENTIALS}EncryptCredential": ("credentials.encrypt",),
    f"{_CREDENTIALS}GetCredential": ("credentials.reveal",),
    # Only the service itself attaches secrets to its outbound requests.
    f"{_CREDENTIALS}UseCredential": ("credentials.use",),
    f"{_CREDENTIALS}CreateCredential": _CREDENTIALS_WRITE,
    f"{_CREDENTIALS}RotateCredential": _CREDENTIALS_WRITE,
    f"{_CREDENTIALS}DeleteCredential": _CREDENTIALS_WRITE,
    f"{_CREDENTIALS}UpdateCredentialDestinations": _CREDENTIALS_WRITE,
    f"{_CREDENTIALS}LookupCredential": _CREDENTIALS_READ,
    f"{_CREDENTIALS}ListCredentials": _CREDENTIALS_READ,
    f"{_CREDENTIALS}GetExpiringCredentials": _CREDENTIALS_READ,
    f"{_CREDENTIALS}RewrapCredentials": ("credentials.admin",),
    f"{_CREDENTIALS}RewrapCredentialRef": ("credentials.encrypt",),
    f"{_CREDENTIALS}ListCredentialAccessEvents": _CREDENTIALS_READ,
}
_UNAUTHENTICATED = (
    "missing or invalid bearer token: send metadata 'authorization: Bearer <token>' "
    "with a token listed in the service's caller file"
)


def is_open_method(method: str) -> bool:
    """Health and reflection need no token."""
    return method.startswith(OPEN_METHOD_PREFIXES)


def required_scopes(method: str) -> tuple[str, ...]:
    """The scopes of which a caller needs one for `method` (`/pkg.Service/Method`); an empty
    tuple means only `*` will do."""
    if method in _EXPLICIT:
        return _EXPLICIT[method]
    service, _, verb = method.lstrip("/").partition("/")
    family = _FAMILIES.get(service)
    if family is None:
        return ()
    return (f"{family}.read",) if verb.startswith(_READ_VERBS) else (f"{family}.write",)


def request_tenant(request: Any) -> str:
    """The tenant a request acts for: its top-level `tenant_id`, else the `tenant_id` of a
    direct message field (PreventionService's `candidate.tenant_id`); empty when it has none."""
    descriptor = getattr(request, "DESCRIPTOR", None)
    if descriptor is None:
        return ""
    if "tenant_id" in descriptor.fields_by_name:
        return str(request.tenant_id)
    for field in descriptor.fields:
        nested = field.message_type
        if (
            nested is not None
            and not field.is_repeated
            and "tenant_id" in nested.fields_by_name
            and request.HasField(field.name)
        ):
            return str(getattr(request, field.name).tenant_id)
    return ""


def _canonical_tenant(tenant_id: str) -> str:
    try:
        return str(uuid.UUID(tenant_id))
    except ValueError:
        return tenant_id


@dataclass(frozen=True, slots=True)
class Caller:
    """One calling service: its name, the SHA-256 of its token, its scopes, its tenants (None:
    every tenant) and its roles, which data sources' access_roles are checked against (None:
    every role)."""

    name: str
    token_sha256: bytes
    scopes: frozenset[str]
    tenants: frozenset[str] | None
    roles: frozenset[str] | None = frozenset()

    def __repr__(self) -> str:
        return f"Caller(name={self.name!r}, scopes={sorted(self.scopes)})"

    def grants(self, required: Sequence[str]) -> bool:
        return "*" in self.scopes or any(scope in self.scopes for scope in required)

    def serves(self, tenant_id: str) -> bool:
        return self.tenants is None or _canonical_tenant(tenant_id) in self.tenants


_ANONYMOUS = Caller(ANONYMOUS, b"", frozenset({"*"}), None, roles=None)


def _caller_from(entry: Any, position: int, source: str) -> Caller:
    where = f"{source}: callers[{position}]"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a mapping with name, token_sha256, scopes, tenants")
    name = entry.get("name")
    digest = str(entry.get("token_sha256", "")).lower()
    scopes = entry.get("scopes", [])
    tenants = entry.get("tenants", [])
    roles_given = entry.get("roles", [])
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name is required")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{where}.token_sha256 must be 64 hex digits (sha256 of the token)")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError(f"{where}.scopes must be a list of strings")
    if tenants == "*" or tenants == ["*"]:
        allowed = None
    elif isinstance(tenants, list) and all(isinstance(t, str) for t in tenants):
        allowed = frozenset(_canonical_tenant(t) for t in tenants)
    else:
        raise ValueError(f"{where}.tenants must be '*' or a list of tenant ids")
    if roles_given == "*" or roles_given == ["*"]:
        roles = None
    elif isinstance(roles_given, list) and all(isinstance(r, str) for r in roles_given):
        roles = frozenset(r.strip() for r in roles_given)
    else:
        raise ValueError(f"{where}.roles must be '*' or a list of role names")
    return Caller(name.strip(), bytes.fromhex(digest), frozenset(scopes), allowed, roles)


def load_callers(path: Path) -> list[Caller]:
    """Reads a caller file (YAML or JSON):
    `callers: [{name, token_sha256, scopes, tenants, roles?}]`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read caller file {path}: {exc.strerror}") from None
    import yaml  # here, not at the top: it costs a tenth of the service's start when unused

    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        raise ValueError(f"caller file {path} is not valid YAML or JSON") from None
    entries = document.get("callers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"caller file {path} must have a top-level list 'callers'")
    callers = [_caller_from(e, i, str(path)) for i, e in enumerate(entries)]
    names = [c.name for c in callers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"caller file {path} names {', '.join(duplicates)} more than once")
    return callers


class CallerRegistry:
    """Checks bearer tokens against known callers. With `open_access` (no caller file, loopback
    only) a call without a token is the anonymous caller with every scope."""

    def __init__(self, callers: Iterable[Caller], *, open_access: bool) -> None:
        self._callers = tuple(callers)
        self.open_access = open_access

    @classmethod
    def internal_only(cls) -> tuple[CallerRegistry, str]:
        """A registry that knows only a fresh random internal token (the in-process client of
        the credential service, on its private door); the token is returned, never logged."""
        token = secrets.token_urlsafe(32)
        internal = Caller(
            INTERNAL_CALLER,
            hashlib.sha256(token.encode()).digest(),
            frozenset({"credentials.use", "credentials.manage", "credentials.read"}),
            None,
        )
        return cls([internal], open_access=False), token

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller presenting `authorization` ("Bearer <token>"), or Unauthenticated."""
        if not authorization:
            if self.open_access:
                return _ANONYMOUS
            raise Unauthenticated(_UNAUTHENTICATED)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(_UNAUTHENTICATED)
        digest = hashlib.sha256(token.strip().encode()).digest()
        found: Caller | None = None
        for caller in self._callers:  # no early exit: the time taken does not depend on a match
            if hmac.compare_digest(digest, caller.token_sha256):
                found = caller
        if found is None:
            raise Unauthenticated(_UNAUTHENTICATED)
        return found

    def authorize(self, caller: Caller, method: str, tenant_id: str) -> None:
        """PermissionDenied unless `caller` has a scope for `method` and serves `tenant_id`."""
        required = required_scopes(method)
        if not caller.grants(required):
            needed = " or ".join(required) if required else "*"
            raise PermissionDenied(
                f"caller {caller.name!r} lacks scope {needed} for {method}",
                metadata={"required_scope": needed},
            )
        if tenant_id and not caller.serves(tenant_id):
            raise PermissionDenied(f"caller {caller.name!r} may not act for this tenant")


def _is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def caller_registry(config: ServeConfig) -> CallerRegistry:
    """The callers of `serve`: the caller file, or (only on a loopback address) open access."""
    if config.callers_file:
        callers = load_callers(Path(config.callers_file))
        log.info("caller authentication on: %d callers from %s", len(callers), config.callers_file)
        return CallerRegistry(callers, open_access=False)
    if not _is_loopback(config.listen):
        raise ValueError(
            f"refusing to listen on {config.listen} without a caller file: pass --callers PATH "
            "(unauthenticated calls are accepted only on a loopback address)"
        )
    log.warning(
        "no caller file: accepting unauthenticated calls, because %s is a loopback address",
        config.listen,
    )
    return CallerRegistry([], open_access=True)
