"""Every shell block of README.md and docs/*.md runs as written against a server the test starts.

The guides address the server as `127.0.0.1:50051`; the runner points that at the server it
started for the guide (one per guide, on an empty SQLite database), runs the guide's blocks in
one bash process from the repository root, and fails on a non-zero exit or on output that does
not match a block's `# expect:` marker (see tests/docs/doc_blocks.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.bench.harness import ROOT, ServerProcess, free_port, wait_serving
from tests.docs.doc_blocks import script, shell_blocks

DOCUMENTED_ADDRESS = "127.0.0.1:50051"
DOCUMENTED_METRICS_ADDRESS = "127.0.0.1:9464"


@dataclass(frozen=True, slots=True)
class Serve:
    """How a guide tells its reader to start the server: extra `serve` flags and environment."""

    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # A caller file with one all-scopes caller; its bearer token reaches the guide as $TOKEN.
    callers: bool = False
    # Metrics on a free port, which the guide's 127.0.0.1:9464 is pointed at.
    metrics: bool = False


# The development server most guides start:
# `LLM_API_KEY_OPENAI=... make serve ARGS="--allow-env-credentials"`.
ENV_KEY_SERVER = Serve(("--allow-env-credentials",), {"LLM_API_KEY_OPENAI": "sk-docs-test-key"})

# Guides whose blocks the runner executes, each with the server its text says to start.
RUNNABLE: dict[str, Serve] = {
    "README.md": ENV_KEY_SERVER,
    "docs/grpcurl.md": ENV_KEY_SERVER,
    "docs/health.md": ENV_KEY_SERVER,
    "docs/admission.md": ENV_KEY_SERVER,
    "docs/clients.md": ENV_KEY_SERVER,
    "docs/connectors_and_data_sources.md": Serve(),
    "docs/credentials.md": Serve(callers=True),
    "docs/faults.md": Serve(),
    "docs/metrics.md": Serve(metrics=True),
    "docs/prevention.md": Serve(),
    "docs/sql_gateway.md": Serve(
        ("--allow-env-credentials", "--egress-allow", "127.0.0.1:5432"),
        {"CUS_CRED_WAREHOUSE_DSN": "postgresql://reader:secret@127.0.0.1:5432/warehouse"},
    ),
}

def _guides_with_runnable_blocks() -> set[str]:
    """Guides with a shell block not marked skip (a skipped block must give its reason)."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy/README.md"]
    return {
        str(path.relative_to(ROOT))
        for path in paths
        if any(block.skip_reason is None for block in shell_blocks(path))
    }


def test_every_guide_with_shell_blocks_is_run() -> None:
    guides = _guides_with_runnable_blocks()
    assert guides - RUNNABLE.keys() == set(), "add the guide to RUNNABLE (or mark a block skip)"
    assert RUNNABLE.keys() - guides == set(), "stale entries"


@pytest.mark.parametrize("guide", sorted(RUNNABLE))
def test_guide_runs_as_written(guide: str, tmp_path: Path) -> None:
    blocks = shell_blocks(ROOT / guide)
    marker = f"@@docs-test-{uuid.uuid4().hex}@@"
    segments = [s for b in blocks if b.skip_reason is None for s in b.segments]
    assert segments, f"{guide} has no block to run"
    serve = RUNNABLE[guide]
    shell_env = dict(os.environ)
    args = list(serve.args)
    if serve.callers:
        shell_env["TOKEN"] = secrets.token_urlsafe(24)
        digest = hashlib.sha256(shell_env["TOKEN"].encode()).hexdigest()
        (tmp_path / "callers.yaml").write_text(
            f"callers:\n  - name: ops\n    token_sha256: {digest}\n"
            '    scopes: ["*"]\n    tenants: "*"\n'
        )
        args += ["--callers", str(tmp_path / "callers.yaml")]
    addresses = {DOCUMENTED_ADDRESS: ""}  # the server's own address, once it has one
    if serve.metrics:
        addresses[DOCUMENTED_METRICS_ADDRESS] = f"127.0.0.1:{free_port()}"
        args += ["--metrics-listen", addresses[DOCUMENTED_METRICS_ADDRESS]]
    server = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'docs.db'}",
        *args,
        env=serve.env,
        log_path=tmp_path / "server.log",
    )
    server.start()
    try:
        asyncio.run(wait_serving(server.address))
        addresses[DOCUMENTED_ADDRESS] = server.address
        text = script(blocks, marker)
        for documented, actual in addresses.items():
            text = text.replace(documented, actual)
        run = subprocess.run(
            ["bash", "-c", text], cwd=ROOT, env=shell_env, capture_output=True, text=True,
            timeout=300,
        )
    finally:
        server.stop()
    outputs = run.stdout.split(marker)
    completed = len(outputs) - 1
    if run.returncode != 0:
        failed = segments[completed] if completed < len(segments) else None
        pytest.fail(
            f"{guide}: exit {run.returncode} in\n"
            + ("\n".join(failed.lines) if failed else "(after the last block)")
            + f"\n--- stdout ---\n{outputs[-1][-3000:]}\n--- stderr ---\n{run.stderr[-3000:]}"
        )
    for number, segment in enumerate(segments):
        output = outputs[number].split("\n", 1)[-1] if number else outputs[0]
        for expect in segment.expects:
            assert re.search(expect, output, re.MULTILINE), (
                f"{guide}: output of\n" + "\n".join(segment.lines)
                + f"\ndoes not match {expect!r}:\n{output[-3000:]}"
            )
