"""OpenBao's KV v2 engine as the vault's `SecretPayloadStore` (`--secret-store openbao`): the value
of each stored credential at `<mount>/data/tenants/<tenant_id>/credentials/<credential_id>`, one KV
version per secret version, written with check-and-set, read by version, and destroyed (metadata
deleted) on revoke. Names, destinations, versions and the access log stay in the database.

OpenBao's own error texts are logged, never sent to callers; no message carries a secret value.
"""

from __future__ import annotations

import logging
from typing import Any

from drivers.credentials.openbao_client import OpenBaoClient, OpenBaoRefused, OpenBaoStartError
from engines.kernel.errors import Aborted, Unavailable

__all__ = ["KvSecretStore", "secret_path"]

log = logging.getLogger("integrations.openbao")
_CAS_MISMATCH = "check-and-set"


def secret_path(tenant_id: str, credential_id: str) -> str:
    """A credential's path under the mount (tenant and credential ids are validated UUIDs)."""
    return f"tenants/{tenant_id}/credentials/{credential_id}"


class KvSecretStore:
    """Credential values in one KV v2 mount (`<mount>/data/tenants/...`)."""

    def __init__(self, client: OpenBaoClient, mount: str = "secret") -> None:
        self._client = client
        self._mount = mount.strip("/")

    @property
    def mount(self) -> str:
        return self._mount

    async def start(self) -> None:
        """Begins renewing the service's token in the background."""
        self._client.start_renewal()

    async def close(self) -> None:
        await self._client.close()

    async def check(self) -> None:
        """Logs in and checks the mount is KV version 2: start is refused, with a message saying
        what to fix, when OpenBao is unreachable or sealed, refuses the login, or the mount is
        missing or not KV v2."""
        where = f"OpenBao at {self._client.address}"
        await self._client.login_at_start()
        hint = (
            f"enable it: bao secrets enable -path={self._mount} -version=2 kv; policy: "
            "docs/openbao.md, \"Secrets in OpenBao KV\""
        )
        try:
            # Answers any token with a capability under the mount: the CLI's own KV check.
            reply = await self._client.request(
                "GET", f"sys/internal/ui/mounts/{self._mount}", relogin=False
            )
        except Unavailable as exc:
            raise OpenBaoStartError(f"{where}: {exc.message}") from None
        except OpenBaoRefused:
            raise OpenBaoStartError(
                f"{where}: --secret-store-mount {self._mount!r} does not exist, or the token's "
                f"policy allows nothing under it ({hint})"
            ) from None
        data = reply.get("data") or {}
        version = str((data.get("options") or {}).get("version") or "1")
        if data.get("type") not in ("kv", "generic") or version != "2":
            raise OpenBaoStartError(
                f"{where}: --secret-store-mount {self._mount!r} is a {data.get('type')!r} engine "
                f"(version {version}), not KV version 2 ({hint})"
            )

    async def current_version(self, tenant_id: str, credential_id: str) -> int:
        reply = await self._call("GET", "metadata", tenant_id, credential_id, missing={})
        return int((reply.get("data") or {}).get("current_version") or 0)

    async def write(self, tenant_id: str, credential_id: str, value: str, *, cas: int) -> int:
        body = {"data": {"value": value}, "options": {"cas": cas}}
        reply = await self._call("POST", "data", tenant_id, credential_id, body)
        return int(reply["data"]["version"])

    async def read(self, tenant_id: str, credential_id: str, version: int) -> str | None:
        reply = await self._call(
            "GET", "data", tenant_id, credential_id, query=f"?version={version}", missing=None
        )
        if reply is None:
            return None
        data = (reply.get("data") or {}).get("data") or {}
        value = data.get("value")
        return value if isinstance(value, str) else None

    async def destroy(self, tenant_id: str, credential_id: str) -> None:
        await self._call("DELETE", "metadata", tenant_id, credential_id, missing={})

    async def _call(
        self,
        method: str,
        kind: str,
        tenant_id: str,
        credential_id: str,
        body: dict[str, Any] | None = None,
        *,
        query: str = "",
        missing: Any = ...,
    ) -> Any:
        """One KV call; a 404 answers `missing` (when given), a CAS mismatch is Aborted, and
        any other refusal Unavailable."""
        path = f"{self._mount}/{kind}/{secret_path(tenant_id, credential_id)}"
        try:
            return await self._client.request(method, path + query, body)
        except OpenBaoRefused as exc:
            if exc.status == 404 and missing is not ...:
                return missing
            if exc.status == 400 and any(_CAS_MISMATCH in e for e in exc.errors):
                raise Aborted(
                    "the credential was rotated concurrently; read it again and retry"
                ) from None
            log.error("OpenBao refused %s %s: %s", method, path, exc)
            raise Unavailable(
                f"the secret store (OpenBao) refused to {_verb(method)} the secret on mount "
                f"{self._mount!r}; see the service log",
                reason="SECRET_STORE_REFUSED",
            ) from None


def _verb(method: str) -> str:
    return {"GET": "read", "POST": "write", "DELETE": "delete"}.get(method, method)
