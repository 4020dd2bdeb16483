"""The committed stubs in gen/ are exactly what `make protos` produces from protos/, and what
`buf generate` (buf.gen.yaml) produces."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from tests.node_packages import buf_binary

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_stubs_are_up_to_date() -> None:
    stale = _load_generator().stale_files()
    assert stale == [], f"run `make protos` and commit gen/: stale {stale}"


def test_every_proto_has_stubs() -> None:
    protos = {p.with_suffix("") for p in _load_generator().proto_files()}
    generated = {
        Path(str(p.relative_to(ROOT / "gen")).removesuffix("_pb2.py"))
        for p in (ROOT / "gen").rglob("*_pb2.py")
    }
    assert protos == generated


def test_buf_generate_matches_make_protos(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(buf_binary()), "generate", "--template", "buf.gen.yaml", "--output", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "gen"
    assert any(generated.rglob("*_pb2_grpc.py")), "buf generate wrote no gRPC stubs"
    # A plugin answers in text (CodeGeneratorResponse.File.content is a string), so the binary
    # descriptor set comes from `make protos` only.
    generator = _load_generator()
    assert generator.differences(generated, ROOT / "gen") == [str(generator.DESCRIPTOR_SET)]
