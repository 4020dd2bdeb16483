"""Server reflection whose file descriptors keep the protos' comments, so `grpcurl describe`
shows them.

The descriptors embedded in the _pb2 modules carry no source info, so the stock servicer serves
them bare. `make protos` also writes gen/integrations/api_descriptors.binpb (the same files with
source info); this servicer adds that source info to the files it serves, by overriding the
three lookups of grpcio-reflection's servicer that answer with files. Only the comments are
taken from the set: everything else stays as the _pb2 modules have it (protoc's set also fills
`json_name`, which would turn grpcurl's output to lowerCamelCase names)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

__all__ = ["SERVICE_NAME", "documented_files", "enable_reflection"]

SERVICE_NAME = reflection.SERVICE_NAME


def documented_files() -> dict[str, descriptor_pb2.SourceCodeInfo]:
    """The source info (comments and their places) of each proto file, by name
    (`integrations/v1/health.proto`)."""
    data = resources.files("integrations").joinpath("api_descriptors.binpb").read_bytes()
    return {f.name: f.source_code_info for f in descriptor_pb2.FileDescriptorSet.FromString(data).file}


class DocumentedReflectionServicer(reflection.aio.ReflectionServicer):  # type: ignore[misc]
    """The grpcio-reflection servicer, answering with the documented copy of each file it has."""

    def __init__(
        self, service_names: Iterable[str], documented: dict[str, descriptor_pb2.SourceCodeInfo]
    ) -> None:
        super().__init__(service_names)
        self._documented = documented

    def _documented_response(
        self, response: reflection_pb2.ServerReflectionResponse
    ) -> reflection_pb2.ServerReflectionResponse:
        if response.HasField("file_descriptor_response"):
            files = response.file_descriptor_response.file_descriptor_proto
            for index, serialized in enumerate(files):
                file = descriptor_pb2.FileDescriptorProto.FromString(serialized)
                source_info = self._documented.get(file.name)
                if source_info is not None:
                    file.source_code_info.CopyFrom(source_info)
                    files[index] = file.SerializeToString()
        return response

    def _file_by_filename(self, request, filename):  # type: ignore[no-untyped-def]
        return self._documented_response(super()._file_by_filename(request, filename))

    def _file_containing_symbol(self, request, fully_qualified_name):  # type: ignore[no-untyped-def]
        return self._documented_response(
            super()._file_containing_symbol(request, _method_owner(fully_qualified_name))
        )

    def _file_containing_extension(  # type: ignore[no-untyped-def]
        self, request, containing_type, extension_number
    ):
        return self._documented_response(
            super()._file_containing_extension(request, containing_type, extension_number)
        )


def _method_owner(symbol: str) -> str:
    """The service of `package.Service.Method`, which the descriptor pool cannot look up itself
    (so `grpcurl describe pkg.Service.Method` would say "Symbol not found"); any other symbol
    as it is (a service has no nested symbols, so nothing else can be shadowed)."""
    parent, _, method = symbol.rpartition(".")
    try:
        service = descriptor_pool.Default().FindServiceByName(parent)
    except KeyError:
        return symbol
    return parent if method in service.methods_by_name else symbol


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Serves reflection for `service_names` (plus reflection itself) on `server`."""
    servicer = DocumentedReflectionServicer([*service_names, SERVICE_NAME], documented_files())
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
