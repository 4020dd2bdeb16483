"""The shape every List response shares: a page of messages, the next page token, the total;
and `Encoded`, which serializes each engine value's message once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from engines.kernel.pagination import Page

__all__ = ["Encoded", "list_response"]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=Message)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Encoded(Generic[T, M]):
    """The serialized message of an engine value, built by `to_proto` once per value object.

    Engine values are frozen, so a message is a function of the object: entries are keyed by
    the object's identity and hold the object itself (its id cannot be reused while its entry
    lives, and a lookup checks it is the same object). A changed resource is a new object (the
    stores hand out the same object only for an unchanged row), so nothing here can go stale.
    At most `max_entries` are kept, the oldest stored dropped first."""

    def __init__(self, to_proto: Callable[[T], M], *, max_entries: int = 4096) -> None:
        self._to_proto = to_proto
        self._message_type: type[M] | None = None
        self._max_entries = max_entries
        self._entries: OrderedDict[int, tuple[T, bytes, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def encoded(self, item: T) -> bytes:
        return self._entry(item)[1]

    def framed(self, item: T) -> bytes:
        """The encoding after its length (a length-delimited field's value, tag left out)."""
        return self._entry(item)[2]

    def _entry(self, item: T) -> tuple[T, bytes, bytes]:
        entry = self._entries.get(id(item))
        if entry is not None and entry[0] is item:
            return entry
        message = self._to_proto(item)
        self._message_type = type(message)
        encoded = message.SerializeToString()
        if len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)  # O(1), unlike a dict's first key
        entry = self._entries[id(item)] = (item, encoded, _varint(len(encoded)) + encoded)
        return entry

    def message(self, item: T) -> M:
        """A new message of `item` (parsed from its encoding: the caller may change it)."""
        encoded = self.encoded(item)
        assert self._message_type is not None
        return self._message_type.FromString(encoded)


_TAGS: dict[tuple[type[Message], str], bytes] = {}


def _tag(response: Message, field: str) -> bytes:
    """The key of a length-delimited `field` of `response`'s type (number, wire type 2)."""
    key = (type(response), field)
    tag = _TAGS.get(key)
    if tag is None:
        tag = _TAGS[key] = _varint(response.DESCRIPTOR.fields_by_name[field].number << 3 | 2)
    return tag


def list_response(
    response_type: Callable[..., R],
    field: str,
    page: Page[T],
    to_proto: Callable[[T], Any] | Encoded[T, Any],
) -> R:
    """`response_type` with `page`'s items converted into its repeated `field`, its
    `next_page_token` and `total_size` (AIP-132). With `Encoded`, the items' encodings are
    merged in as the wire format's repeated field (tag, length, message), not rebuilt."""
    if not isinstance(to_proto, Encoded):
        return response_type(
            **{field: [to_proto(item) for item in page.items]},
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )
    response = response_type(next_page_token=page.next_page_token, total_size=page.total_size)
    assert isinstance(response, Message)
    tag = _tag(response, field)
    if page.items:  # tag, length, message for each: the tag before the first and between
        response.MergeFromString(tag + tag.join([to_proto.framed(item) for item in page.items]))
    return response
