"""Every RPC the service defines, found from the descriptors of the generated modules (so an RPC
added later is covered without touching the tests), and a way to call any of them with raw
serialized bytes over a plain channel."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import message as protobuf_message
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor

__all__ = ["Rpc", "all_rpcs"]

GENERATED_PACKAGES = ("integrations.v1", "credentials.v1")


@dataclass(frozen=True)
class Rpc:
    """One method of one service: its path, request type, and whether it streams answers."""

    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def request_descriptor(self) -> Descriptor:
        return self.method.input_type

    @property
    def response_class(self) -> type[protobuf_message.Message]:
        return message_factory.GetMessageClass(self.method.output_type)

    def request_class(self) -> type[protobuf_message.Message]:
        return message_factory.GetMessageClass(self.method.input_type)

    def callable(
        self, channel: grpc.Channel, serializer: Callable[[Any], bytes] | None = None
    ) -> Callable[..., Any]:
        """A blocking callable for this RPC; a streaming one returns the list of answers."""
        serialize = serializer or (lambda m: m.SerializeToString())
        if self.method.server_streaming:
            stream = channel.unary_stream(
                self.path, request_serializer=serialize,
                response_deserializer=self.response_class.FromString,
            )
            return lambda request, **kw: list(stream(request, **kw))
        return channel.unary_unary(
            self.path, request_serializer=serialize,
            response_deserializer=self.response_class.FromString,
        )


def _generated_modules() -> Iterator[Any]:
    for package_name in GENERATED_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.endswith("_pb2"):
                yield importlib.import_module(f"{package_name}.{info.name}")


def all_rpcs() -> list[Rpc]:
    """Every unary and server-streaming RPC of every service in the generated modules."""
    rpcs = []
    for module in _generated_modules():
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                assert not method.client_streaming, f"{method.full_name}: add client streaming"
                rpcs.append(Rpc(method))
    return sorted(rpcs, key=lambda r: r.path)
