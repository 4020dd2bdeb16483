"""docs/API.md, the API reference, is exactly what `make docs` produces from the protos'
comments and docs/api_conventions.md, and it documents every RPC."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generator():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_api_docs

        yield gen_api_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def test_api_doc_is_up_to_date(generator) -> None:  # type: ignore[no-untyped-def]
    assert generator.render_fresh() == generator.API_DOC.read_text(), (
        "docs/API.md is stale: run `make docs` and commit it"
    )


def test_every_rpc_is_documented_with_its_comment() -> None:
    page = (ROOT / "docs" / "API.md").read_text()
    rpcs = re.findall(r"^\s*rpc (\w+)\(", "\n".join(
        p.read_text() for p in (ROOT / "protos").rglob("*.proto")), re.M)
    assert len(rpcs) > 20
    undocumented = [rpc for rpc in rpcs if not re.search(rf"^\| `{rpc}` \|.+\| \w.+ \|$", page, re.M)]
    assert undocumented == []
    assert "Probes one integration's provider" in page  # health.proto, CheckHealth's comment


def test_no_markdown_links_outside_the_repository() -> None:
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "deploy").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)", doc.read_text()):
            if "://" not in target:
                resolved = (doc.parent / target).resolve()
                assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name}: {target}"
