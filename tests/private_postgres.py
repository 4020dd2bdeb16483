"""A private PostgreSQL cluster that a test may stop and start at will: its own data directory
and loopback port, trust authentication, removed afterwards. The machine's shared PostgreSQL on
port 5432 is never touched.

As root the cluster runs as the `postgres` user (initdb and pg_ctl refuse root). Without initdb
the fixture skips, unless REQUIRE_POSTGRES=1 makes that a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bench.harness import free_port

__all__ = ["PrivatePostgres", "find_postgres_bin", "private_postgres", "private_postgres_cluster"]

_RUN_AS = "postgres"


def find_postgres_bin() -> Path | None:
    """The newest installed PostgreSQL bin directory holding initdb and pg_ctl, if any."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit()
        else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PrivatePostgres:
    """A running private cluster: `url(db)` for clients, `stop()`/`start()` for outages."""

    bin_dir: Path
    data_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _RUN_AS, "--", *command]
        subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
            "-o", f"-p {self.port} -k {self.data_dir} -h 127.0.0.1", "-w", *extra, action,
        )

    def start(self) -> None:
        """Starts the cluster and waits until it accepts connections."""
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stops the cluster. `fast` terminates open sessions cleanly (a restart or a failover);
        `immediate` kills the server without a checkpoint, as a crash would."""
        self._pg_ctl("stop", "-m", mode)

    def initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8",
        )
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            # Small and quick: no durability needed, and stop/start should be fast.
            conf.write("\nfsync = off\nfull_page_writes = off\nmax_connections = 100\n")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Initialises and starts a throwaway cluster; stops it and deletes its files afterwards."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("initdb not found (install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="private-pg-"))
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam(_RUN_AS)
        for path in (root, data_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
        root.chmod(0o755)
    data_dir.chmod(0o700)
    cluster = PrivatePostgres(bin_dir=bin_dir, data_dir=data_dir, port=free_port())
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_postgres_cluster() -> Iterator[PrivatePostgres]:
    """A private cluster the test may stop and restart (skips without initdb)."""
    if find_postgres_bin() is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but initdb is not installed")
        pytest.skip("initdb is not installed: no private PostgreSQL cluster")
    with private_postgres() as cluster:
        yield cluster
