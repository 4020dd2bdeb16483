"""Generates the Python stubs in gen/ from protos/ (`make protos`); `--check` only reports drift.

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
GEN = ROOT / "gen"


def output_flags(out: Path) -> list[str]:
    """The generators every stub set is made with (shared with the buf plugin in this folder)."""
    return [f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"]


def add_package_inits(out: Path) -> None:
    """Makes every folder holding stubs, and its parents up to `out`, a regular package."""
    for package in {p.parent for p in out.rglob("*_pb2.py")}:
        while package != out:
            (package / "__init__.py").touch()
            package = package.parent


def generate(out: Path) -> None:
    """Writes stubs for every .proto under protos/ into `out`."""
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    args = ["protoc", f"-I{PROTOS}", f"-I{well_known}", *output_flags(out), *files]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    add_package_inits(out)


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
