"""List paging shared by every List RPC: page-size rules, signed keyset page tokens, pages.

Order is (create_time, id). A token carries the last key of its page, a digest of the filters
it was issued for (tenant included) and the page size, signed with HMAC-SHA256 under a server key
(`PageTokens`); anything the server did not issue for this very request is INVALID_ARGUMENT
naming `page_token`. The signature is checked before the payload is parsed, so a forged token
never reaches the JSON parser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from engines.kernel.errors import InvalidArgument

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_PAGE_TOKEN_CHARS",
    "Page",
    "PageRequest",
    "PageTokens",
    "paginate",
    "parse_page",
    "read_page",
]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE_TOKEN_CHARS = 512  # issued tokens are about 170 characters
_MAC_BYTES = 16
_MAC_CONTEXT = b"integrations page token v1\x00"
_NOT_ISSUED = "is not a token this service issued"

T = TypeVar("T")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    """Strict unpadded base64url: any other character or a non-canonical spelling is refused,
    so exactly one spelling of a token is accepted."""
    raw = base64.b64decode((text + "=" * (-len(text) % 4)).encode(), altchars=b"-_", validate=True)
    if _b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


class PageTokens:
    """Signs and verifies page tokens: HMAC-SHA256 under `keys`, the first of which signs and
    any of which verifies (so tokens outlive a key rotation). Replicas that share the keys
    accept each other's tokens."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) < 16 for key in keys):
            raise ValueError("page tokens need at least one key of 16 bytes or more")
        self._keys = tuple(keys)

    @classmethod
    def ephemeral(cls) -> PageTokens:
        """A random key of this process only: its tokens die with it."""
        return cls([os.urandom(32)])

    def __repr__(self) -> str:  # never print key material
        return f"PageTokens(keys={len(self._keys)})"

    def _mac(self, key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, _MAC_CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, payload: Mapping[str, Any]) -> str:
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return f"{_b64encode(raw)}.{_b64encode(self._mac(self._keys[0], raw))}"

    def verify(self, token: str) -> dict[str, Any]:
        """The payload of a token these keys signed; InvalidArgument for anything else."""
        if len(token) > MAX_PAGE_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidArgument.single("page_token", _NOT_ISSUED)
        encoded, _, signature = token.partition(".")
        try:
            raw, mac = _b64decode(encoded), _b64decode(signature)
        except (ValueError, binascii.Error):
            raise InvalidArgument.single("page_token", _NOT_ISSUED) from None
        # No early exit: the time taken does not tell which key (if any) matched.
        matched = [hmac.compare_digest(mac, self._mac(key, raw)) for key in self._keys]
        if not any(matched):
            raise InvalidArgument.single("page_token", _NOT_ISSUED)
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidArgument.single("page_token", _NOT_ISSUED) from None
        if not isinstance(payload, dict):
            raise InvalidArgument.single("page_token", _NOT_ISSUED)
        return payload


_PROCESS_TOKENS = PageTokens.ephemeral()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a store needs to read one page: how many rows, and the key to continue after."""

    size: int
    after: tuple[datetime, str] | None
    filters_digest: str
    tokens: PageTokens = field(default=_PROCESS_TOKENS, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results plus the token for the next one (empty on the last page)."""

    items: Sequence[T]
    next_page_token: str
    total_size: int


def _digest(filters: Mapping[str, object]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _position(payload: Mapping[str, Any]) -> tuple[datetime, str]:
    """The (create_time, id) a verified token continues after."""
    last_time, last_id = payload.get("t"), payload.get("i")
    if not isinstance(last_time, str) or not isinstance(last_id, str):
        raise InvalidArgument.single("page_token", _NOT_ISSUED)
    try:
        when = datetime.fromisoformat(last_time)
    except (ValueError, OverflowError):
        raise InvalidArgument.single("page_token", _NOT_ISSUED) from None
    if when.tzinfo is None:
        raise InvalidArgument.single("page_token", _NOT_ISSUED)
    return when, last_id


def parse_page(
    page_size: int,
    page_token: str,
    filters: Mapping[str, object],
    *,
    tokens: PageTokens | None = None,
) -> PageRequest:
    """Validates `page_size`/`page_token` against the request's filters (tenant included);
    `tokens` verifies the token and signs the next one (default: a key of this process only)."""
    if page_size < 0:
        raise InvalidArgument.single("page_size", "must not be negative")
    tokens = tokens or _PROCESS_TOKENS
    size = DEFAULT_PAGE_SIZE if page_size == 0 else min(page_size, MAX_PAGE_SIZE)
    digest = _digest(filters)
    if not page_token:
        return PageRequest(size=size, after=None, filters_digest=digest, tokens=tokens)
    payload = tokens.verify(page_token)
    if payload.get("f") != digest or payload.get("s") != size:
        raise InvalidArgument.single(
            "page_token",
            "was issued for different filters or another page_size; start again without a token",
        )
    return PageRequest(size=size, after=_position(payload), filters_digest=digest, tokens=tokens)


def paginate(
    request: PageRequest,
    rows: Sequence[T],
    total_size: int,
    key: Callable[[T], tuple[datetime, str]],
) -> Page[T]:
    """Builds a page from up to `size + 1` rows a store read after `request.after`."""
    items = rows[: request.size]
    token = ""
    if len(rows) > request.size and items:
        last_time, last_id = key(items[-1])
        token = request.tokens.sign(
            {"t": last_time.isoformat(), "i": last_id, "f": request.filters_digest,
             "s": request.size}
        )
    return Page(items=items, next_page_token=token, total_size=total_size)


class Created(Protocol):
    """What the default page order reads of a listed resource."""

    @property
    def create_time(self) -> datetime: ...

    @property
    def id(self) -> str: ...


C = TypeVar("C", bound=Created)


def _created(resource: Created) -> tuple[datetime, str]:
    return resource.create_time, resource.id


async def read_page(
    page_size: int,
    page_token: str,
    filters: Mapping[str, object],
    read: Callable[[PageRequest], Awaitable[tuple[Sequence[C], int]]],
    *,
    tokens: PageTokens | None = None,
) -> Page[C]:
    """The body of every List method: `parse_page`, then `read` (a store's rows after the
    request's key and the total count), then `paginate` by (create_time, id)."""
    request = parse_page(page_size, page_token, filters, tokens=tokens)
    rows, total = await read(request)
    return paginate(request, rows, total, key=_created)
