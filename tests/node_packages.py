"""Installs the npm packages a test needs (tools/buf, tests/node) from their lockfile, the way
the Makefile does, so the tests also work from a fresh clone without `make lint` first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["ROOT", "buf_binary", "npm_ci"]

ROOT = Path(__file__).resolve().parent.parent


def npm_ci(folder: Path) -> None:
    """Runs `npm ci` in `folder` unless its node_modules is newer than its lockfile."""
    modules, lockfile = folder / "node_modules", folder / "package-lock.json"
    if modules.exists() and modules.stat().st_mtime >= lockfile.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: Node.js 20 and npm are needed for this test")
    result = subprocess.run(
        [npm, "ci", "--silent", "--no-audit", "--no-fund"],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci in {folder} failed:\n{result.stdout}\n{result.stderr}")
    modules.touch()


def buf_binary() -> Path:
    """The pinned buf CLI from tools/buf, installed if missing."""
    npm_ci(ROOT / "tools" / "buf")
    return ROOT / "tools" / "buf" / "node_modules" / ".bin" / "buf"
