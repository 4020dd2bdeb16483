"""List paging shared by every List RPC: page-size rules, opaque keyset page tokens, pages.

Order is (create_time, id); a token remembers the last key of its page and a digest of the
filters it was issued for, so reusing it with other filters is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from engines.errors import InvalidArgument

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "PageRequest", "paginate", "parse_page"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a store needs to read one page: how many rows, and the key to continue after."""

    size: int
    after: tuple[datetime, str] | None
    filters_digest: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results plus the token for the next one (empty on the last page)."""

    items: Sequence[T]
    next_page_token: str
    total_size: int


def _digest(filters: Mapping[str, object]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_page(page_size: int, page_token: str, filters: Mapping[str, object]) -> PageRequest:
    """Validates `page_size`/`page_token` against the request's filters (tenant included)."""
    if page_size < 0:
        raise InvalidArgument.single("page_size", "must not be negative")
    size = DEFAULT_PAGE_SIZE if page_size == 0 else min(page_size, MAX_PAGE_SIZE)
    digest = _digest(filters)
    if not page_token:
        return PageRequest(size=size, after=None, filters_digest=digest)
    try:
        padded = page_token + "=" * (-len(page_token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = (datetime.fromisoformat(payload["t"]), str(payload["i"]))
        token_digest = payload["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument.single("page_token", "is not a token this service issued") from None
    if token_digest != digest:
        raise InvalidArgument.single(
            "page_token", "was issued for different filters; start again without a token"
        )
    return PageRequest(size=size, after=after, filters_digest=digest)


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
        raw = json.dumps(
            {"t": last_time.isoformat(), "i": last_id, "f": request.filters_digest},
            separators=(",", ":"),
        ).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return Page(items=items, next_page_token=token, total_size=total_size)
