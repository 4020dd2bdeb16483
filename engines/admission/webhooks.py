"""Webhooks for limit events: a tenant's URL, its signing secret (a credential: only the ref is
kept here), and the deliverer that POSTs every new event from the transactional outbox.

Delivery is at least once. The admission transaction that stores an event also inserts its
outbox row when the tenant has a webhook (drivers/admission/limit_events.py), so a committed
event is never lost. The deliverer claims due rows (on PostgreSQL with FOR UPDATE SKIP LOCKED,
pushing the row's next attempt a lease ahead, so replicas do not send one row at once), POSTs
the event signed with HMAC-SHA256 over "<timestamp>.<body>", and marks it delivered on a 2xx;
otherwise it retries with exponential backoff and jitter until `max_attempts`. A process that
dies between the POST and the mark sends the event again after the lease: receivers
deduplicate by the event id, which is the same on every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from engines.admission.events import LimitEvent
from engines.credentials.credential_service import CredentialService
from engines.egress.destinations import url_destinations
from engines.egress.endpoints import require_http_url
from engines.egress.policy import EgressCheck, ip_literal
from engines.kernel.clock import Clock, system_clock
from engines.kernel.errors import InvalidArgument, NotFound, ServiceError
from engines.kernel.jitter import Jitter, random_fraction
from engines.kernel.validation import require_uuid

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Claimed",
    "DeliverySettings",
    "LimitWebhook",
    "LimitWebhookStore",
    "LimitWebhooksEngine",
    "SendResult",
    "WebhookDeliverer",
    "WebhookOutbox",
    "WebhookSender",
    "WebhookUpdate",
    "backoff",
    "event_body",
    "sign",
]

log = logging.getLogger("integrations.webhooks")

RESOURCE = "limit webhook"
EVENT_ID_HEADER = "X-Integrations-Event-Id"
TIMESTAMP_HEADER = "X-Integrations-Timestamp"
SIGNATURE_HEADER = "X-Integrations-Signature"
ATTEMPT_HEADER = "X-Integrations-Delivery-Attempt"
EVENT_TYPE = "admission.limit_event"
MAX_URL_CHARS = 2048
MIN_SECRET_CHARS, MAX_SECRET_CHARS = 16, 256
MAX_ERROR_CHARS = 512
_SECRET_PREFIX = "whsec_"


@dataclass(frozen=True, slots=True)
class LimitWebhook:
    """A tenant's webhook; `secret_ref` names the signing secret in the credential service."""

    tenant_id: str
    url: str
    secret_ref: str
    update_time: datetime


@dataclass(frozen=True, slots=True)
class WebhookUpdate:
    """What UpdateLimitWebhook stored, and the generated secret when it made one (shown once)."""

    webhook: LimitWebhook
    generated_secret: str = ""

    def __repr__(self) -> str:
        return f"WebhookUpdate(webhook={self.webhook!r}, generated_secret='***')"


class LimitWebhookStore(Protocol):
    """Tenants' webhooks (one per tenant)."""

    async def get(self, tenant_id: str) -> LimitWebhook | None: ...

    async def put(self, webhook: LimitWebhook) -> str:
        """Creates or replaces the tenant's webhook; returns the secret ref it replaced ("")."""
        ...

    async def delete(self, tenant_id: str) -> str:
        """Removes the tenant's webhook; returns its secret ref ("" when there was none)."""
        ...


def _destination(url: str) -> str:
    return url_destinations(url) or ""


def _is_loopback(host: str) -> bool:
    address = ip_literal(host)
    return address is not None and address.is_loopback


def check_webhook_url(field: str, value: str, egress: EgressCheck) -> str:
    """An https URL (http only to a loopback IP address that the egress policy explicitly
    allows, which only tests do), whose literal address the egress policy allows."""
    url = require_http_url(field, value)
    if len(url) > MAX_URL_CHARS:
        raise InvalidArgument.single(field, f"must be at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" and not _is_loopback(parts.hostname or ""):
        raise InvalidArgument.single(field, "must use https")
    if parts.fragment:
        raise InvalidArgument.single(field, "must not have a fragment")
    egress.check_url(url)  # a refused literal (loopback without an allow rule) is refused here
    return url


def _check_secret(secret: str) -> str:
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS or secret.strip() != secret:
        raise InvalidArgument.single(
            "secret",
            f"must be {MIN_SECRET_CHARS}-{MAX_SECRET_CHARS} characters without surrounding spaces",
        )
    return secret


class LimitWebhooksEngine:
    """GetLimitWebhook, UpdateLimitWebhook and DeleteLimitWebhook."""

    def __init__(
        self,
        store: LimitWebhookStore,
        credentials: CredentialService,
        egress: EgressCheck,
        *,
        clock: Clock = system_clock,
        new_secret: Callable[[], str] = lambda: _SECRET_PREFIX + secrets.token_urlsafe(32),
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._egress = egress
        self._clock = clock
        self._new_secret = new_secret

    async def get(self, tenant_id: str) -> LimitWebhook:
        tenant_id = require_uuid("tenant_id", tenant_id)
        webhook = await self._store.get(tenant_id)
        if webhook is None:
            raise NotFound(RESOURCE, tenant_id)
        return webhook

    async def update(
        self, tenant_id: str, url: str, secret: str, *, rotate_secret: bool
    ) -> WebhookUpdate:
        """Creates or replaces the webhook. The secret is sealed as a credential allowed to go
        only to the URL's host:port; a URL moved elsewhere without a new secret re-seals the
        current secret for the new destination (one audited use of it)."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        url = check_webhook_url("url", url, self._egress)
        if secret and rotate_secret:
            raise InvalidArgument.single("rotate_secret", "excludes secret")
        if secret:
            _check_secret(secret)
        current = await self._store.get(tenant_id)
        destination = _destination(url)
        generated = ""
        if not secret and (current is None or rotate_secret):
            secret = generated = self._new_secret()
        if not secret and current is not None and _destination(current.url) != destination:
            secret = (await self._credentials.use(
                current.secret_ref, tenant_id, _destination(current.url)
            )).value
        secret_ref = current.secret_ref if current is not None else ""
        created = ""
        if secret:
            secret_ref = created = await self._credentials.store(
                tenant_id, f"limit-webhook-secret-{uuid.uuid4()}", secret, [destination]
            )
        webhook = LimitWebhook(tenant_id, url, secret_ref, self._clock())
        try:
            replaced = await self._store.put(webhook)
        except BaseException:
            await self._revoke(tenant_id, created)
            raise
        if replaced and replaced != secret_ref:
            await self._revoke(tenant_id, replaced)
        return WebhookUpdate(webhook, generated)

    async def delete(self, tenant_id: str) -> None:
        tenant_id = require_uuid("tenant_id", tenant_id)
        secret_ref = await self._store.delete(tenant_id)
        if not secret_ref:
            raise NotFound(RESOURCE, tenant_id)
        await self._revoke(tenant_id, secret_ref)

    async def _revoke(self, tenant_id: str, secret_ref: str) -> None:
        """Best effort: a ref no webhook names is never used again."""
        if secret_ref:
            with contextlib.suppress(ServiceError):
                await self._credentials.delete(tenant_id, secret_ref)


# -- delivery ----------------------------------------------------------------------------


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def event_body(event: LimitEvent) -> bytes:
    """The JSON body POSTed for an event (compact, keys sorted)."""
    document = {
        "type": EVENT_TYPE,
        "id": event.id,
        "cursor": event.cursor,
        "tenant_id": event.tenant_id,
        "integration_id": event.integration_id,
        "kind": f"LIMIT_KIND_{event.kind.name}",
        "model": event.model,
        "threshold_percent": event.threshold_percent,
        "period_start": _time(event.period_start),
        "period_end": _time(event.period_end),
        "used": event.used,
        "reserved": event.reserved,
        "limit": event.limit,
        "create_time": _time(event.create_time),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: "v1=" and hex HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def backoff(
    attempts: int, base: timedelta, cap: timedelta, rand: Jitter = random_fraction
) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base * 2^(attempts-1), at most `cap`,
    of which a random half is taken off (jitter), so retries of many events spread out."""
    full: timedelta = min(base * (2 ** max(attempts - 1, 0)), cap)
    half = full / 2
    return half + half * rand()


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row claimed for one attempt: the event, where it goes and how it is signed
    (url and secret_ref empty when the tenant's webhook was removed)."""

    event: LimitEvent
    attempt: int
    url: str
    secret_ref: str


class WebhookOutbox(Protocol):
    """The outbox rows of undelivered events."""

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, max_attempts: int
    ) -> list[Claimed]:
        """Up to `limit` rows due at `now` with fewer than `max_attempts` attempts, each with
        its attempt counted and its next attempt moved `lease` ahead (rows another replica has
        claimed at the same moment are skipped)."""
        ...

    async def delivered(self, event_id: str, now: datetime) -> None: ...

    async def failed(self, event_id: str, next_attempt: datetime, error: str) -> None:
        """Records a failed attempt and when to try again."""
        ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """The receiver's HTTP status, or 0 with `error` when no answer came."""

    status: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class WebhookSender(Protocol):
    """POSTs through the egress policy."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult: ...


class WakeUps(Protocol):
    def subscribe(self, tenant_id: str) -> AsyncGenerator[None, None]: ...


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    max_attempts: int = 12
    backoff_base: timedelta = timedelta(seconds=10)
    backoff_cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)  # longer than a POST may take
    batch: int = 20


class WebhookDeliverer:
    """Delivers due outbox rows whenever woken (a new event) and at least every poll."""

    def __init__(
        self,
        outbox: WebhookOutbox,
        credentials: CredentialService,
        sender: WebhookSender,
        wakeups: WakeUps,
        settings: DeliverySettings = DeliverySettings(),
        *,
        clock: Clock = system_clock,
        rand: Jitter = random_fraction,
    ) -> None:
        self._outbox = outbox
        self._credentials = credentials
        self._sender = sender
        self._wakeups = wakeups
        self._settings = settings
        self._clock = clock
        self._rand = rand

    async def run(self) -> None:
        """Until cancelled."""
        async with contextlib.aclosing(self._wakeups.subscribe("")) as wakeups:
            async for _ in wakeups:
                try:
                    while await self.deliver_due() == self._settings.batch:
                        pass
                except ServiceError as exc:  # the database is down: try again when woken
                    log.warning("webhook delivery paused: %s", exc.message)
                except Exception:  # noqa: BLE001 - a bug must not stop every later round
                    log.exception("webhook delivery failed unexpectedly")

    async def deliver_due(self) -> int:
        """One round: claims due rows and attempts each once; returns how many it claimed."""
        settings = self._settings
        claimed = await self._outbox.claim(
            self._clock(), settings.lease, settings.batch, settings.max_attempts
        )
        await asyncio.gather(*(self._attempt(c) for c in claimed))
        return len(claimed)

    async def _attempt(self, claimed: Claimed) -> None:
        event = claimed.event
        if not claimed.url:
            await self._outbox.failed(
                event.id, self._clock() + timedelta(days=36500),
                "the tenant's webhook was removed; not sent",
            )
            return
        try:
            secret = (await self._credentials.use(
                claimed.secret_ref, event.tenant_id, _destination(claimed.url)
            )).value
        except ServiceError as exc:
            await self._retry(claimed, f"signing secret unavailable: {exc.message}")
            return
        body = event_body(event)
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "integrations-service-webhooks/1",
            EVENT_ID_HEADER: event.id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            ATTEMPT_HEADER: str(claimed.attempt),
        }
        del secret
        result = await self._sender.post(claimed.url, body, headers)
        if result.ok:
            await self._outbox.delivered(event.id, self._clock())
            return
        error = result.error or f"HTTP {result.status}"
        await self._retry(claimed, error)

    async def _retry(self, claimed: Claimed, error: str) -> None:
        settings = self._settings
        wait = backoff(claimed.attempt, settings.backoff_base, settings.backoff_cap, self._rand)
        final = claimed.attempt >= settings.max_attempts
        log.warning(
            "webhook delivery of limit event %s (tenant %s) attempt %d failed: %s%s",
            claimed.event.id, claimed.event.tenant_id, claimed.attempt, error,
            "; giving up" if final else f"; next in {wait.total_seconds():.0f} s",
        )
        text = (f"attempt {claimed.attempt}: {error}")[:MAX_ERROR_CHARS]
        await self._outbox.failed(claimed.event.id, self._clock() + wait, text)
