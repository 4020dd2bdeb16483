"""Maps protobuf enums to engine enums by name (`PROVIDER_TYPE_OPENAI` <-> `ProviderType.OPENAI`)."""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from engines.kernel.errors import InvalidArgument

__all__ = ["EnumMap"]

E = TypeVar("E", bound=enum.Enum)


class EnumMap(Generic[E]):
    """Two-way map between a proto enum (values `<PREFIX>_<NAME>`) and an engine enum."""

    def __init__(self, proto_enum: EnumTypeWrapper, engine_enum: type[E], prefix: str) -> None:
        self._to_engine: dict[int, E] = {}
        self._to_proto: dict[E, int] = {}
        for member in engine_enum:
            number = proto_enum.Value(f"{prefix}_{member.name}")
            self._to_engine[number] = member
            self._to_proto[member] = number
        self._proto_enum = proto_enum

    def to_engine(self, number: int, field: str, *, required: bool = False) -> E | None:
        """The engine value; None for UNSPECIFIED (INVALID_ARGUMENT when `required`)."""
        if number == 0:
            if required:
                raise InvalidArgument.single(field, "is required")
            return None
        try:
            return self._to_engine[number]
        except KeyError:
            raise InvalidArgument.single(field, f"unknown enum value {number}") from None

    def to_proto(self, value: E) -> int:
        return self._to_proto[value]
