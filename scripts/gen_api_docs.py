"""Writes docs/API.md, the API reference, from the comments in protos/ (`make docs`, also run by
`make protos`); `--check` only reports whether it is stale.

The page is docs/api_conventions.md (the rules every service follows, written by hand) followed
by one section per proto file: its services and RPCs, messages and fields, enums and values, each
with the `//` comment above it. tests/test_api_docs.py fails when the committed page differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gen_protos import DESCRIPTOR_SET, GEN, ROOT, generate
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

__all__ = ["API_DOC", "render", "render_fresh"]

API_DOC = ROOT / "docs" / "API.md"
CONVENTIONS = ROOT / "docs" / "api_conventions.md"

# Field numbers in descriptor.proto, the steps of a SourceCodeInfo.Location path.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE, _SERVICE_METHOD = 2, 2

_SCALARS = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in descriptor_pb2.FieldDescriptorProto.Type.items()
}

Comments = dict[tuple[int, ...], str]


def _behaviors(field: descriptor_pb2.FieldDescriptorProto) -> str:
    """The field's google.api.field_behavior annotations as words: "Required. Immutable. "."""
    names = [field_behavior_pb2.FieldBehavior.Name(b).replace("_", " ").capitalize()
             for b in field.options.Extensions[field_behavior_pb2.field_behavior]]
    return "".join(f"*{name}.* " for name in names)


def _escape(text: str) -> str:
    # `<tenant_id>` outside a code span would be read as an HTML tag.
    parts = text.split("`")
    parts[::2] = [p.replace("<", "&lt;").replace(">", "&gt;") for p in parts[::2]]
    return "`".join(parts)


def _comments(file: descriptor_pb2.FileDescriptorProto) -> Comments:
    return {
        tuple(loc.path): _escape("\n".join(line.strip() for line in loc.leading_comments.splitlines()
                                           ).strip())
        for loc in file.source_code_info.location
        if loc.leading_comments
    }


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _link(type_name: str, package: str) -> str:
    name = type_name.lstrip(".")
    if name.startswith("google."):
        return f"`{name}`"
    return f"[`{name.removeprefix(package + '.')}`](#{name})"


class _File:
    """Renders one proto file: services first, then messages and enums in declaration order."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self.file = file
        self.comments = _comments(file)
        self.package = file.package
        self.maps: dict[str, descriptor_pb2.DescriptorProto] = {}

    def lines(self) -> Iterator[str]:
        yield f"## `{self.file.name}`"
        yield ""
        for index, service in enumerate(self.file.service):
            yield from self._service(service, (_FILE_SERVICE, index))
        for index, message in enumerate(self.file.message_type):
            yield from self._message(message, (_FILE_MESSAGE, index), self.package)
        for index, enum in enumerate(self.file.enum_type):
            yield from self._enum(enum, (_FILE_ENUM, index), self.package)

    def _heading(self, kind: str, full_name: str, path: tuple[int, ...]) -> Iterator[str]:
        yield f'<a id="{full_name}"></a>'
        yield f"### {kind} `{full_name}`"
        yield ""
        if path in self.comments:
            yield self.comments[path]
            yield ""

    def _service(self, service: descriptor_pb2.ServiceDescriptorProto, path: tuple[int, ...]
                 ) -> Iterator[str]:
        yield from self._heading("service", f"{self.package}.{service.name}", path)
        yield "| RPC | request | response | description |"
        yield "| --- | --- | --- | --- |"
        for index, method in enumerate(service.method):
            stream_in = "stream " if method.client_streaming else ""
            stream_out = "stream " if method.server_streaming else ""
            yield (
                f"| `{method.name}` | {stream_in}{_link(method.input_type, self.package)} "
                f"| {stream_out}{_link(method.output_type, self.package)} "
                f"| {_cell(self.comments.get((*path, _SERVICE_METHOD, index), ''))} |"
            )
        yield ""

    def _field_type(self, field: descriptor_pb2.FieldDescriptorProto) -> str:
        if field.type_name:
            entry = self.maps.get(field.type_name.lstrip("."))
            if entry is not None:
                key, value = (self._field_type(f) for f in entry.field)
                return f"map<{key}, {value}>"
            base = _link(field.type_name, self.package)
        else:
            base = f"`{_SCALARS[field.type]}`"
        if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
            return f"repeated {base}"
        return f"optional {base}" if field.proto3_optional else base

    def _message(self, message: descriptor_pb2.DescriptorProto, path: tuple[int, ...],
                 scope: str) -> Iterator[str]:
        full_name = f"{scope}.{message.name}"
        for nested in message.nested_type:
            if nested.options.map_entry:
                self.maps[f"{full_name}.{nested.name}"] = nested
        yield from self._heading("message", full_name, path)
        if message.field:
            yield "| field | type | number | description |"
            yield "| --- | --- | --- | --- |"
        for index, field in enumerate(message.field):
            comment = _behaviors(field) + self.comments.get((*path, _MESSAGE_FIELD, index), "")
            if field.HasField("oneof_index") and not field.proto3_optional:
                comment = f"(one of `{message.oneof_decl[field.oneof_index].name}`) {comment}"
            yield (f"| `{field.name}` | {self._field_type(field)} | {field.number} "
                   f"| {_cell(comment)} |")
        yield ""
        for index, nested in enumerate(message.nested_type):
            if not nested.options.map_entry:
                yield from self._message(nested, (*path, _MESSAGE_NESTED, index), full_name)
        for index, enum in enumerate(message.enum_type):
            yield from self._enum(enum, (*path, _MESSAGE_ENUM, index), full_name)

    def _enum(self, enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...],
              scope: str) -> Iterator[str]:
        yield from self._heading("enum", f"{scope}.{enum.name}", path)
        yield "| value | number | description |"
        yield "| --- | --- | --- |"
        for index, value in enumerate(enum.value):
            comment = self.comments.get((*path, _ENUM_VALUE, index), "")
            yield f"| `{value.name}` | {value.number} | {_cell(comment)} |"
        yield ""


def render(descriptor_set: bytes, conventions: str) -> str:
    """docs/API.md for a serialized FileDescriptorSet (with source info) and the conventions."""
    files = sorted(descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file,
                   key=lambda f: f.name)
    out = [
        "<!-- Generated by `make docs` (scripts/gen_api_docs.py) from docs/api_conventions.md and",
        "     the comments in protos/. Do not edit: change those, then run `make docs`. -->",
        "",
        conventions.rstrip(),
        "",
        "# Reference",
        "",
        "Every service, RPC, message and enum of the protos, with their comments.",
        "",
    ]
    for file in files:
        services = ", ".join(
            f"[`{file.package}.{s.name}`](#{file.package}.{s.name})" for s in file.service
        )
        out.append(f"- `{file.name}`" + (f": {services}" if services else ""))
    out.append("")
    for file in files:
        out.extend(_File(file).lines())
    return "\n".join(out).rstrip() + "\n"


def render_fresh() -> str:
    """The page as protos/ and docs/api_conventions.md produce it now (generates into a temp dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        return render((Path(tmp) / DESCRIPTOR_SET).read_bytes(), CONVENTIONS.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report a stale page, write nothing")
    if parser.parse_args().check:
        if render_fresh() != API_DOC.read_text():
            print("stale: docs/API.md (run `make docs`)")
            return 1
        return 0
    API_DOC.write_text(render((GEN / DESCRIPTOR_SET).read_bytes(), CONVENTIONS.read_text()))
    print(f"wrote {API_DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
