"""Maps protobuf enums to engine enums by name (`PROVIDER_TYPE_OPENAI` <-> `ProviderType.OPENAI`)."""

from __future__ import annotations

import enum
from typing import Generic, Literal, TypeVar, cast, overload

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from engines.kernel.errors import InvalidArgument

__all__ = ["EnumMap"]

P = TypeVar("P", bound=int)
E = TypeVar("E", bound=enum.Enum)


class EnumMap(Generic[P, E]):
    """Two-way map between a proto enum `P` (values `<PREFIX>_<NAME>`) and an engine enum `E`;
    `to_proto` returns the generated enum type, so message constructors type-check."""

    def __init__(self, proto_enum: type[P], engine_enum: type[E], prefix: str) -> None:
        wrapper = cast(EnumTypeWrapper, proto_enum)  # the generated class's metaclass
        self._to_engine: dict[int, E] = {}
        self._to_proto: dict[E, P] = {}
        for member in engine_enum:
            number = wrapper.Value(f"{prefix}_{member.name}")
            self._to_engine[number] = member
            self._to_proto[member] = cast(P, number)

    @overload
    def to_engine(self, number: int, field: str, *, required: Literal[True]) -> E: ...

    @overload
    def to_engine(self, number: int, field: str, *, required: bool = False) -> E | None: ...

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

    def to_proto(self, value: E) -> P:
        """The proto enum value of an engine value."""
        return self._to_proto[value]
