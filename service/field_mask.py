"""Update-mask handling shared by every Update RPC: which fields of a resource message to write."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from engines.kernel.errors import FieldViolation, InvalidArgument

__all__ = ["masked_fields", "requested_changes"]


def _populated(message: Message, name: str) -> bool:
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None and not field.is_repeated:
        return message.HasField(name)
    if field.is_repeated:
        return len(getattr(message, name)) > 0
    return bool(getattr(message, name))


def masked_fields(
    resource: Message,
    mask: field_mask_pb2.FieldMask | None,
    *,
    writable: Collection[str],
    resource_field: str,
) -> list[str]:
    """The fields of `resource` to write.

    With a mask: its paths, each of which must be writable (output-only or unknown paths are
    INVALID_ARGUMENT). Without one: the writable fields that are populated; output-only fields
    a client echoes back are ignored."""
    if mask is not None and mask.paths:
        known = set(resource.DESCRIPTOR.fields_by_name)
        violations = []
        for path in mask.paths:
            if path not in known:
                violations.append(FieldViolation(f"update_mask.{path}", "unknown field"))
            elif path not in writable:
                violations.append(
                    FieldViolation(f"update_mask.{path}", "is output only or immutable")
                )
        if violations:
            raise InvalidArgument(violations)
        return list(dict.fromkeys(mask.paths))
    fields = [name for name in sorted(writable) if _populated(resource, name)]
    if not fields:
        raise InvalidArgument.single(
            f"{resource_field}", "sets no writable field; name the fields in update_mask"
        )
    return fields


class UpdateRequest(Protocol):
    """What every Update request message has: an optional `update_mask`."""

    @property
    def update_mask(self) -> field_mask_pb2.FieldMask: ...

    def HasField(self, field_name: str) -> bool: ...  # noqa: N802 (protobuf's name)


def requested_changes(
    request: UpdateRequest,
    resource_field: str,
    *,
    writable: Collection[str],
    value_of: Callable[[Any, str], Any],
) -> dict[str, Any]:
    """The `{field: engine value}` an Update request asks for: its resource message is
    `request.<resource_field>`, the fields are chosen by `masked_fields` (its optional
    `update_mask` or else the populated writable fields), and `value_of` reads each one."""
    given = getattr(request, resource_field)
    mask = request.update_mask if request.HasField("update_mask") else None
    fields = masked_fields(given, mask, writable=writable, resource_field=resource_field)
    return {name: value_of(given, name) for name in fields}
