"""scripts/buf_breaking.sh (run by .ci/run): refuses a change to protos/ that breaks generated
clients, accepts a compatible one, and skips when there is nothing shipped to compare with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node_packages import ROOT, buf_binary

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
    "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com",
}
PROTO = """syntax = "proto3";

package integrations.v1;

// A service.
service PingService {
  // A call.
  rpc Ping(PingRequest) returns (PingResponse);
}

// Request of Ping.
message PingRequest {
  // Who asks.
  string tenant_id = 1;%s
}

// Response of Ping.
message PingResponse {
  // The answer.
  string message = 1;
}
"""


class Repo:
    """A throwaway git repository holding the script, buf.yaml and a protos/ tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scripts").mkdir(parents=True)
        shutil.copy(ROOT / "scripts" / "buf_breaking.sh", root / "scripts")
        shutil.copy(ROOT / "buf.yaml", root)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True,
                       env={**os.environ, **GIT_IDENTITY})

    def commit(self, extra_field: str | None) -> None:
        if extra_field is not None:
            folder = self.root / "protos" / "integrations" / "v1"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "ping.proto").write_text(PROTO % extra_field)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "change")

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "scripts/buf_breaking.sh"], cwd=self.root, capture_output=True, text=True,
            env={**os.environ, "BUF": str(buf_binary())}, timeout=120,
        )


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_removed_field_is_refused(repo: Repo) -> None:
    repo.commit("\n  // Page size.\n  int32 page_size = 2;")
    repo.commit("")
    result = repo.check()
    assert result.returncode != 0, result.stdout
    assert "page_size" in result.stdout + result.stderr


def test_an_added_field_passes(repo: Repo) -> None:
    repo.commit("")
    repo.commit("\n  // Page size.\n  int32 page_size = 2;")
    result = repo.check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "against HEAD~1" in result.stdout


@pytest.mark.parametrize(
    "history",
    [pytest.param([""], id="first-commit"), pytest.param([None, ""], id="api-not-shipped")],
)
def test_nothing_to_compare_with_is_skipped(repo: Repo, history: list[str | None]) -> None:
    for extra_field in history:
        repo.commit(extra_field)
    result = repo.check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" in result.stdout
