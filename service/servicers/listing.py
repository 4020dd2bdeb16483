"""The shape every List response shares: a page of messages, the next page token, the total."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engines.kernel.pagination import Page

__all__ = ["list_response"]

T = TypeVar("T")
R = TypeVar("R")


def list_response(
    response_type: Callable[..., R], field: str, page: Page[T], to_proto: Callable[[T], Any]
) -> R:
    """`response_type` with `page`'s items converted into its repeated `field`, its
    `next_page_token` and `total_size` (AIP-132)."""
    return response_type(
        **{field: [to_proto(item) for item in page.items]},
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )
