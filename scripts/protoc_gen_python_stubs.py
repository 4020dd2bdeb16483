"""A local protoc plugin for `buf generate` (buf.gen.yaml) that writes the same Python stubs as
`make protos`: it hands the descriptors buf parsed to the pinned grpcio-tools protoc.

buf has no built-in grpc_python generator and grpcio-tools ships no plugin binary, so this
plugin runs grpc_tools.protoc on a descriptor set with the flags scripts/gen_protos.py uses.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

# Run as `python scripts/protoc_gen_python_stubs.py` (buf.gen.yaml), so its folder is on sys.path.
from gen_protos import add_package_inits, output_flags
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

__all__ = ["generate_response"]


def _default_json_name(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _drop_default_json_names(messages: list[descriptor_pb2.DescriptorProto]) -> None:
    # buf fills json_name on every field; protoc parsing a .proto leaves it unset unless written.
    # The Python stubs embed the descriptor, so leave it as protoc would to get identical bytes.
    for message in messages:
        for field in message.field:
            if field.json_name == _default_json_name(field.name):
                field.ClearField("json_name")
        _drop_default_json_names(list(message.nested_type))


def generate_response(
    request: plugin_pb2.CodeGeneratorRequest,
) -> plugin_pb2.CodeGeneratorResponse:
    """Generates python, pyi and grpc_python stubs for the request's files, plus __init__.py."""
    from grpc_tools import protoc

    descriptors = descriptor_pb2.FileDescriptorSet()
    for proto in request.proto_file:
        copy = descriptors.file.add()
        copy.CopyFrom(proto)
        _drop_default_json_names(list(copy.message_type))
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        descriptor_set, out = root / "descriptors.binpb", root / "out"
        descriptor_set.write_bytes(descriptors.SerializeToString())
        out.mkdir()
        args = ["protoc", f"--descriptor_set_in={descriptor_set}", *output_flags(out),
                *request.file_to_generate]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed"
            return response
        add_package_inits(out)
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    return response


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate_response(request).SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
