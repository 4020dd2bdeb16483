"""An HTTP client of OpenBao (or HashiCorp Vault, same API) for the service's own use: TLS with a
CA file, authentication by a token file or AppRole, token renewal in the background, and every
failure turned into `engines.kernel.errors.Unavailable` with a reason saying which (unreachable, sealed,
token refused), so callers see UNAVAILABLE quickly and never a stack trace.

OpenBao's own error texts are logged here, never sent to callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from engines.kernel.errors import Unavailable

__all__ = ["OpenBaoClient", "OpenBaoRefused", "OpenBaoSettings", "OpenBaoStartError"]

log = logging.getLogger("integrations.openbao")
_SEALED = "KEY_SERVICE_SEALED"


@dataclass(frozen=True, slots=True)
class OpenBaoSettings:
    """Where OpenBao is and how the service logs in (`--kms openbao` flags)."""

    address: str = ""
    transit_mount: str = "transit"
    key_name: str = "integrations"
    token_file: str | None = None
    approle_role_id: str | None = None
    approle_secret_id_file: str | None = None
    approle_mount: str = "approle"
    ca_file: str | None = None
    timeout_seconds: float = 5.0
    # How long an unwrapped data key stays in memory, and how many at most.
    data_key_ttl_seconds: float = 300.0
    max_data_keys: int = 10_000


class OpenBaoStartError(ValueError):
    """OpenBao is misconfigured or unreachable when the service starts: start refused."""


class OpenBaoRefused(Exception):
    """OpenBao answered a request with a client error (status and OpenBao's error texts)."""

    def __init__(self, status: int, errors: list[str]) -> None:
        super().__init__(f"{status}: {'; '.join(errors)}")
        self.status = status
        self.errors = errors


class OpenBaoClient:
    """One connection pool to OpenBao and the service's token."""

    def __init__(
        self,
        settings: OpenBaoSettings,
        *,
        flag: str = "--kms openbao",
        what: str = "the key service",
    ) -> None:
        """`flag` is the option that asked for OpenBao and `what` the role OpenBao plays, both
        for messages: "the key service" (transit) or "the secret store" (KV)."""
        self._what = what
        if not settings.address:
            raise OpenBaoStartError(f"{flag} needs --openbao-address (or BAO_ADDR)")
        if bool(settings.token_file) == bool(settings.approle_role_id):
            raise OpenBaoStartError(
                f"{flag} needs exactly one login: --openbao-token-file, or "
                "--openbao-role-id with --openbao-secret-id-file"
            )
        if settings.approle_role_id and not settings.approle_secret_id_file:
            raise OpenBaoStartError("--openbao-role-id needs --openbao-secret-id-file")
        self.settings = settings
        verify: ssl.SSLContext | bool = True
        if settings.ca_file:
            try:
                verify = ssl.create_default_context(cafile=settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise OpenBaoStartError(f"cannot load --openbao-ca-file {settings.ca_file}: {exc}") from None
        timeout = httpx.Timeout(settings.timeout_seconds, connect=min(2.0, settings.timeout_seconds))
        self._http = httpx.AsyncClient(
            base_url=settings.address.rstrip("/") + "/v1/", verify=verify, timeout=timeout
        )
        self._token = ""
        self._ttl = 0.0
        self._renewable = False
        self._auth_lock = asyncio.Lock()
        self._renewal: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self.settings.address

    # -- authentication ----------------------------------------------------------------------

    async def login(self) -> None:
        """Reads the token file (and looks the token up) or logs in with AppRole."""
        settings = self.settings
        if settings.token_file:
            self._token = _read_secret_file(settings.token_file, "--openbao-token-file")
            data = (await self._send("GET", "auth/token/lookup-self"))["data"]
            self._ttl, self._renewable = float(data.get("ttl") or 0), bool(data.get("renewable"))
        else:
            secret_id = _read_secret_file(
                settings.approle_secret_id_file or "", "--openbao-secret-id-file"
            )
            auth = (
                await self._send(
                    "POST",
                    f"auth/{settings.approle_mount}/login",
                    {"role_id": settings.approle_role_id, "secret_id": secret_id},
                    authenticated=False,
                )
            )["auth"]
            self._token = auth["client_token"]
            self._ttl, self._renewable = float(auth.get("lease_duration") or 0), bool(auth.get("renewable"))

    async def login_at_start(self) -> None:
        """`login`, for a start-up check: a failure is OpenBaoStartError saying what to fix."""
        try:
            await self.login()
        except Unavailable as exc:
            raise OpenBaoStartError(f"OpenBao at {self.address}: {exc.message}") from None
        except OpenBaoRefused as exc:
            raise OpenBaoStartError(
                f"OpenBao at {self.address} refused the service's login ({exc.status}): check "
                "the token file or the AppRole role_id and secret_id"
            ) from None

    def start_renewal(self) -> None:
        """Keeps the token alive: renews it at half its TTL, and logs in again when it cannot."""
        if self._renewal is None:
            self._renewal = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while self._ttl > 0:
            await asyncio.sleep(max(self._ttl / 2, 0.5))
            try:
                if not self._renewable:
                    raise OpenBaoRefused(403, ["token is not renewable"])
                auth = (await self._send("POST", "auth/token/renew-self", {}))["auth"]
                self._ttl = float(auth.get("lease_duration") or 0)
            except (OpenBaoRefused, Unavailable) as exc:
                log.warning("OpenBao token renewal failed (%s); logging in again", exc)
                try:
                    async with self._auth_lock:
                        await self.login()
                except (OpenBaoRefused, Unavailable, OpenBaoStartError) as again:
                    log.error("OpenBao login failed: %s; retrying in a second", again)
                    self._ttl = 2.0

    async def close(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal
        await self._http.aclose()

    # -- requests --------------------------------------------------------------------------

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, relogin: bool = True
    ) -> dict[str, Any]:
        """One authenticated call. A refused token is replaced (token file read again, or
        AppRole login) and the call retried once; then the refusal is Unavailable. Without
        `relogin`, a refusal is raised as OpenBaoRefused."""
        token = self._token
        try:
            return await self._send(method, path, body)
        except OpenBaoRefused as exc:
            if exc.status != 403 or not relogin:
                raise
        async with self._auth_lock:
            if self._token == token:  # nobody logged in again meanwhile
                try:
                    await self.login()
                except (OpenBaoRefused, OpenBaoStartError) as exc:
                    raise self._token_refused(exc) from None
        try:
            return await self._send(method, path, body)
        except OpenBaoRefused as exc:
            if exc.status == 403:
                raise self._token_refused(exc) from None
            raise

    def _token_refused(self, exc: Exception) -> Unavailable:
        log.error("OpenBao at %s refused the service's token: %s", self.address, exc)
        return Unavailable(
            f"{self._what} (OpenBao) refused this service's token: it expired, was revoked, or "
            "lacks the policy docs/openbao.md lists; renew it or update the token file",
            reason="KEY_SERVICE_PERMISSION_DENIED",
        )

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, authenticated: bool = True
    ) -> dict[str, Any]:
        headers = {"X-Vault-Token": self._token} if authenticated else {}
        try:
            reply = await self._http.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException:
            log.error("OpenBao at %s did not answer %s %s in time", self.address, method, path)
            raise Unavailable(
                f"{self._what} (OpenBao) did not answer in time; retry later",
                reason="KEY_SERVICE_UNAVAILABLE",
            ) from None
        except httpx.TransportError as exc:
            log.error("OpenBao at %s is unreachable: %s", self.address, exc)
            raise Unavailable(
                f"{self._what} (OpenBao) is unreachable; retry later",
                reason="KEY_SERVICE_UNAVAILABLE",
            ) from None
        if reply.status_code < 400:
            return reply.json() if reply.content else {}
        errors = _errors_of(reply)
        if reply.status_code == 503 and any("sealed" in e for e in errors):
            log.error("OpenBao at %s is sealed", self.address)
            raise Unavailable(
                f"{self._what} (OpenBao) is sealed; an operator must unseal it "
                "(bao operator unseal), then calls succeed again",
                reason=_SEALED,
            )
        if reply.status_code >= 500 or reply.status_code == 429:
            log.error("OpenBao at %s failed %s %s: %s", self.address, method, path, errors)
            raise Unavailable(
                f"{self._what} (OpenBao) failed the request; retry later",
                reason="KEY_SERVICE_UNAVAILABLE",
            )
        raise OpenBaoRefused(reply.status_code, errors)


def _errors_of(reply: httpx.Response) -> list[str]:
    try:
        return [str(e) for e in reply.json().get("errors", [])]
    except ValueError:
        return [reply.text[:200]]


def _read_secret_file(path: str, flag: str) -> str:
    try:
        value = Path(path).read_text().strip()
    except OSError as exc:
        raise OpenBaoStartError(f"cannot read {flag} {path}: {exc.strerror}") from None
    if not value:
        raise OpenBaoStartError(f"{flag} {path} is empty")
    return value
