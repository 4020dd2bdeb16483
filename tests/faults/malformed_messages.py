"""Hypothesis strategies that build random, mostly malformed protobuf messages of any type from
its descriptor: wrong and foreign UUIDs, huge strings, negative and extreme numbers, unknown enum
values, out-of-range timestamps, bogus field masks and deeply nested Structs.

Strings that could name a network target (URLs, endpoints, hosts, connection strings, Struct
values) only ever point at 127.0.0.1, so a fuzzed probe or connection test stays on loopback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import message as protobuf_message
from google.protobuf import message_factory, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

__all__ = ["Seeds", "messages"]

HUGE = 20_000  # characters: far above every documented length limit, below the message cap
MAX_DEPTH = 3  # nesting of ordinary messages
STRUCT_DEPTHS = (1, 5, 30, 60)  # 60 nested Structs is ~120 protobuf levels, past the parser's 100

_LOOPBACK_TARGETS = (
    "http://127.0.0.1:9/",
    "https://127.0.0.1:9/v1",
    "127.0.0.1:9",
    "postgresql://u:p@127.0.0.1:9/db",
    "ftp://127.0.0.1/",
    "http://[::1",
    "http://",
    "not a url",
)
_TARGET_WORDS = ("url", "endpoint", "host", "connection_string", "dsn", "address")
_REFS = (
    "env://DEV_FAULT_TEST_PROVIDER_KEY",
    "env://",
    "env://../../etc/passwd",
    "encrypted://v1.garbage",
    "encrypted://",
    "cus-vault://",
    "cus-vault://00000000-0000-0000-0000-000000000000/x",
    "sk-live-raw-key-not-a-ref",
)
_WEIRD_STRINGS = (
    "",
    " ",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "ZZZZZZZZ-0000-0000-0000-000000000000",
    "\x00",
    "\ud7ff\ue000",
    "'; DROP TABLE integrations; --",
    "%s%n{0}",
    "-1",
    "1e400",
    "NaN",
    "2024-13-45T99:99:99Z",
    "a" * 129,
)
_INT_EDGES = (0, 1, -1, 100, 101, 2**31 - 1, -(2**31), 2**53 + 1)
_INT64_EDGES = (*_INT_EDGES, 2**63 - 1, -(2**63))
_INT_BOUNDS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


@dataclass(frozen=True)
class Seeds:
    """Real values to mix in, so fuzzed calls reach past "not found": tenants that own data and
    ids of stored resources."""

    tenants: Sequence[str]
    ids: Sequence[str]
    names: Sequence[str] = field(default_factory=tuple)


def _mostly(plausible: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Plausible values two times in three, so that many examples get past the first check and
    exercise the rules behind it; odd ones the rest of the time."""
    return st.one_of(plausible, plausible, odd)


def _strings(seeds: Seeds, field_name: str) -> st.SearchStrategy[str]:
    name = field_name.lower()
    odd = st.one_of(st.sampled_from(_WEIRD_STRINGS), st.text(max_size=40), st.just("x" * HUGE))
    if any(word in name for word in _TARGET_WORDS):
        return st.sampled_from(_LOOPBACK_TARGETS)
    if name.endswith("tenant_id"):
        return _mostly(st.sampled_from(list(seeds.tenants)), st.one_of(st.uuids().map(str), odd))
    if name.endswith("_id") or name.endswith("_ids") or name == "id":
        return _mostly(st.sampled_from(list(seeds.ids)), st.one_of(st.uuids().map(str), odd))
    if name.endswith("_ref") or name == "credential_ref":
        return _mostly(st.sampled_from(_REFS[:1]), st.one_of(st.sampled_from(_REFS), odd))
    if seeds.names and name == "name":
        return _mostly(st.from_regex(r"\Afz-[a-z0-9]{1,12}\Z"), st.sampled_from(list(seeds.names)))
    return _mostly(st.from_regex(r"\A[a-z][a-z0-9_-]{0,15}\Z"), odd)


def _values(depth: int) -> st.SearchStrategy[struct_pb2.Value]:
    """A Struct Value nested `depth` levels deep, with loopback-only strings."""
    leaf = st.one_of(
        st.none(), st.booleans(), st.floats(),  # NaN and infinities have no JSON form
        st.sampled_from(_LOOPBACK_TARGETS), st.text(max_size=10),
    )
    return leaf.map(lambda value: _nested_value(value, depth))


def _nested_value(value: Any, depth: int) -> struct_pb2.Value:
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    wrapped = struct_pb2.Value()
    _set_value(wrapped, value)
    return wrapped


def _set_value(target: struct_pb2.Value, value: Any) -> None:
    # Built by hand: Struct.update() recurses in Python and is slow for deep values.
    if value is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, float):
        target.number_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, list):
        _set_value(target.list_value.values.add(), value[0])
    else:
        for key, inner in value.items():
            _set_value(target.struct_value.fields[key], inner)


def _structs() -> st.SearchStrategy[struct_pb2.Struct]:
    def build(items: list[tuple[str, struct_pb2.Value]]) -> struct_pb2.Struct:
        struct = struct_pb2.Struct()
        for key, value in items:
            struct.fields[key].CopyFrom(value)
        return struct

    keys = st.sampled_from(("base_url", "model", "", "k", "options", "x" * 300))
    values = st.sampled_from(STRUCT_DEPTHS).flatmap(_values)
    return st.lists(st.tuples(keys, values), max_size=3).map(build)


def _scalar(fd: FieldDescriptor, seeds: Seeds) -> st.SearchStrategy[Any]:
    if fd.type == FieldDescriptor.TYPE_STRING:
        return _strings(seeds, fd.name)
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if fd.type == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if fd.type == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    if fd.type == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in fd.enum_type.values]
        return _mostly(st.sampled_from(known[1:] or known), st.integers(-3, 1000))
    low, high = _INT_BOUNDS[fd.type]
    edges = [e for e in _INT64_EDGES if low <= e <= high]
    return _mostly(st.integers(0, 50), st.one_of(st.sampled_from(edges), st.integers(low, high)))


def _well_known(descriptor: Descriptor, seeds: Seeds) -> st.SearchStrategy[Any] | None:
    cls = message_factory.GetMessageClass(descriptor)
    name = descriptor.full_name
    if name == "google.protobuf.Struct":
        return _structs()
    if name == "google.protobuf.Value":
        return st.sampled_from(STRUCT_DEPTHS).flatmap(_values)
    if name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        seconds = st.one_of(
            st.sampled_from((0, -1, 1, 253402300799, 253402300800, -62135596801, 10**12)),
            st.integers(-(2**63), 2**63 - 1),
        )
        nanos = st.one_of(st.just(0), st.integers(-(2**31), 2**31 - 1))
        return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)
    if name == "google.protobuf.FieldMask":
        paths = st.lists(st.sampled_from(("name", "id", "tenant_id", "status", "config.x", "",
                                          "no_such_field", "etag", "create_time")), max_size=4)
        return paths.map(lambda p: cls(paths=p))
    return None


def messages(
    descriptor: Descriptor, seeds: Seeds, depth: int = 0
) -> st.SearchStrategy[protobuf_message.Message]:
    """Random messages of `descriptor`'s type: any subset of fields set to awkward values."""
    special = _well_known(descriptor, seeds)
    if special is not None:
        return special
    cls = message_factory.GetMessageClass(descriptor)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for fd in descriptor.fields:
        strategy = _field(fd, seeds, depth)
        if strategy is not None:
            fields[fd.name] = strategy

    def build(values: dict[str, Any]) -> protobuf_message.Message:
        message = cls()
        for name, value in values.items():
            _assign(message, descriptor.fields_by_name[name], value)
        return message

    # The tenant is always sent (mostly a seeded one), or nearly every call stops at it.
    required = {name: fields.pop(name) for name in ("tenant_id",) if name in fields}
    return st.fixed_dictionaries(required, optional=fields).map(build)


def _field(fd: FieldDescriptor, seeds: Seeds, depth: int) -> st.SearchStrategy[Any] | None:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        key_fd = fd.message_type.fields_by_name["key"]
        value_fd = fd.message_type.fields_by_name["value"]
        value = _single(value_fd, seeds, depth + 1)
        if value is None:
            return None
        return st.dictionaries(_scalar(key_fd, seeds), value, max_size=3)
    single = _single(fd, seeds, depth)
    if single is None:
        return None
    if fd.is_repeated:
        return st.lists(single, max_size=3)
    return single


def _single(fd: FieldDescriptor, seeds: Seeds, depth: int) -> st.SearchStrategy[Any] | None:
    if fd.message_type is None:
        return _scalar(fd, seeds)
    if depth >= MAX_DEPTH and _well_known(fd.message_type, seeds) is None:
        return None
    return messages(fd.message_type, seeds, depth + 1)


def _assign(message: protobuf_message.Message, fd: FieldDescriptor, value: Any) -> None:
    target = getattr(message, fd.name)
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        value_is_message = fd.message_type.fields_by_name["value"].message_type is not None
        for key, item in value.items():
            if value_is_message:
                target[key].CopyFrom(item)
            else:
                target[key] = item
    elif fd.is_repeated:
        if fd.message_type is not None:
            for item in value:
                target.add().CopyFrom(item)
        else:
            target.extend(value)
    elif fd.message_type is not None:
        target.CopyFrom(value)
    else:
        setattr(message, fd.name, value)
