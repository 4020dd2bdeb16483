"""Generates the Python stubs in gen/ from protos/ (`make protos`), and the descriptor set with the
protos' comments (source info) that reflection serves; `--check` only reports drift.

Uses the pinned grpcio-tools, so the output is reproducible; tests/test_generated_stubs.py fails
when the committed stubs differ from what the protos produce. This is the canonical generator;
`buf generate` (buf.gen.yaml, through scripts/protoc_gen_python_stubs.py) produces the same files.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
# Imported protos that are not ours (google/api/field_behavior.proto), vendored unchanged under
# protos/google/; their Python modules come from googleapis-common-protos, so no stubs are made.
VENDORED = PROTOS / "google"
GEN = ROOT / "gen"
# The _pb2 modules embed descriptors without comments; this set keeps them (service/reflection.py
# serves it, scripts/gen_api_docs.py writes docs/API.md from it).
DESCRIPTOR_SET = Path("integrations") / "api_descriptors.binpb"


def output_flags(out: Path) -> list[str]:
    """The generators every stub set is made with (shared with the buf plugin in this folder)."""
    return [f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"]


def add_package_inits(out: Path) -> None:
    """Makes every folder holding stubs, and its parents up to `out`, a regular package."""
    for package in {p.parent for p in out.rglob("*_pb2.py")}:
        while package != out:
            (package / "__init__.py").touch()
            package = package.parent


def descriptor_set_flags(out: Path) -> list[str]:
    """Writes the files' descriptors, comments included, to DESCRIPTOR_SET under `out`."""
    return ["--include_source_info", f"--descriptor_set_out={out / DESCRIPTOR_SET}"]


def proto_files() -> list[Path]:
    """Our .proto files under protos/, relative to it (the vendored ones are only imported)."""
    return sorted(p.relative_to(PROTOS) for p in PROTOS.rglob("*.proto") if VENDORED not in p.parents)


def _protoc(flags: list[str]) -> None:
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    files = [str(p) for p in proto_files()]
    if protoc.main(["protoc", f"-I{PROTOS}", f"-I{well_known}", *flags, *files]) != 0:
        raise SystemExit("protoc failed")


def generate(out: Path) -> None:
    """Writes stubs and the descriptor set for every .proto under protos/ into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    _protoc(output_flags(out))
    add_package_inits(out)
    _protoc(descriptor_set_flags(out))


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and
            "__pycache__" not in p.parts}


def differences(expected_root: Path, actual_root: Path) -> list[str]:
    """Relative paths missing, extra or different in `actual_root` compared with `expected_root`."""
    expected = _files(expected_root)
    actual = _files(actual_root) if actual_root.exists() else set()
    drift = sorted(expected ^ actual)
    drift += sorted(
        f for f in expected & actual
        if not filecmp.cmp(expected_root / f, actual_root / f, shallow=False)
    )
    return drift


def stale_files() -> list[str]:
    """Files in gen/ that are missing, extra or different from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        return differences(fresh, GEN)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report stale stubs, write nothing")
    if parser.parse_args().check:
        drift = stale_files()
        for name in drift:
            print(f"stale: gen/{name}")
        return 1 if drift else 0
    shutil.rmtree(GEN, ignore_errors=True)
    generate(GEN)
    print(f"generated stubs in {GEN.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
