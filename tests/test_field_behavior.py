"""The protos say to generators what their comments used to say to people: which fields a request
must set (REQUIRED) and which the server alone writes (OUTPUT_ONLY, IDENTIFIER), through
google.api.field_behavior. These rules keep the annotations complete as messages are added."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTORS = ROOT / "gen" / "integrations" / "api_descriptors.binpb"
FieldBehavior = field_behavior_pb2.FieldBehavior
# Frozen contracts do not change at all within their package (CHANGELOG.md), annotations included.
FROZEN = {"integrations/v1/prevention.proto"}


def _messages() -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file
    for file in files:
        if file.name in FROZEN:
            continue
        for message in file.message_type:
            yield f"{file.package}.{message.name}", message


def _behaviors(field: descriptor_pb2.FieldDescriptorProto) -> set[int]:
    return set(field.options.Extensions[field_behavior_pb2.field_behavior])


def _fields(name: str) -> Iterator[tuple[str, descriptor_pb2.FieldDescriptorProto]]:
    for full_name, message in _messages():
        for field in message.field:
            if field.name == name:
                yield f"{full_name}.{field.name}", field


def test_the_descriptor_set_carries_the_annotations() -> None:
    annotated = [f for _, m in _messages() for f in m.field if _behaviors(f)]
    assert len(annotated) > 50


@pytest.mark.parametrize("name", ["create_time", "update_time"])
def test_server_kept_times_are_output_only(name: str) -> None:
    found = dict(_fields(name))
    assert found
    missing = [path for path, field in found.items()
               if FieldBehavior.OUTPUT_ONLY not in _behaviors(field)]
    assert missing == []


def test_every_request_tenant_is_required() -> None:
    requests = {path: field for path, field in _fields("tenant_id")
                if path.split(".")[-2].endswith("Request")}
    assert requests
    missing = [path for path, field in requests.items()
               if FieldBehavior.REQUIRED not in _behaviors(field)]
    assert missing == []


def test_a_field_is_never_both_required_and_output_only() -> None:
    both = [f"{name}.{field.name}" for name, message in _messages() for field in message.field
            if {FieldBehavior.REQUIRED, FieldBehavior.OUTPUT_ONLY} <= _behaviors(field)]
    assert both == []
