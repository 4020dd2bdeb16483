"""Credential values in a real OpenBao's KV v2 engine (`--secret-store openbao`): per-tenant paths,
check-and-set, reads by version, destroy, the least-privilege policy, and the start checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from drivers.credentials.openbao_client import OpenBaoClient, OpenBaoStartError
from drivers.credentials.openbao_kv import KvSecretStore
from engines.kernel.errors import Aborted, Unavailable
from tests.openbao import OpenBaoServer, kv_settings
from tests.secrets_registry import register_secret
from tests.support import new_tenant

SECRET = register_secret("sk-kv-driver-PLAINTEXT-0b5e55ed")


@contextlib.asynccontextmanager
async def kv_store(
    server: OpenBaoServer, tmp_path: Path, mount: str = "secret", **overrides: Any
) -> AsyncIterator[KvSecretStore]:
    client = OpenBaoClient(kv_settings(server, tmp_path, mount, **overrides), what="the secret store")
    try:
        store = KvSecretStore(client, mount)
        await store.check()
        yield store
    finally:
        await client.close()


async def test_versions_are_written_with_check_and_set_and_read_by_version(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    tenant, credential = new_tenant(), new_tenant()
    async with kv_store(openbao, tmp_path) as store:
        assert await store.current_version(tenant, credential) == 0
        assert await store.write(tenant, credential, SECRET, cas=0) == 1
        assert await store.write(tenant, credential, SECRET + "-2", cas=1) == 2
        with pytest.raises(Aborted):  # a second "first" write
            await store.write(tenant, credential, "other", cas=0)
        with pytest.raises(Aborted):  # a rotation that read version 1
            await store.write(tenant, credential, "other", cas=1)
        assert await store.current_version(tenant, credential) == 2
        assert await store.read(tenant, credential, 1) == SECRET
        assert await store.read(tenant, credential, 2) == SECRET + "-2"
        assert await store.read(tenant, credential, 3) is None
        # The value is at the tenant's path, readable by root.
        stored = openbao.api("GET", f"secret/data/tenants/{tenant}/credentials/{credential}")
        assert stored["data"]["data"] == {"value": SECRET + "-2"}
        await store.destroy(tenant, credential)
        assert await store.read(tenant, credential, 1) is None
        assert await store.current_version(tenant, credential) == 0
        await store.destroy(tenant, credential)  # nothing left: no error


async def test_the_policy_allows_the_tenants_tree_only(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    openbao.api("POST", "secret/data/elsewhere", {"data": {"value": "not-for-the-service"}})
    settings = kv_settings(openbao, tmp_path)
    client = OpenBaoClient(settings)
    try:
        await client.login()
        with pytest.raises(Unavailable):  # 403: refused (after one re-login)
            await client.request("GET", "secret/data/elsewhere")
    finally:
        await client.close()


async def test_start_is_refused_unless_the_mount_is_kv_version_2(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    openbao.api("POST", "sys/mounts/kv-one", {"type": "kv", "options": {"version": "1"}})
    with pytest.raises(OpenBaoStartError, match=r"'kv-one' is a 'kv' engine \(version 1\)"):
        async with kv_store(openbao, tmp_path, "kv-one"):
            pass
    with pytest.raises(OpenBaoStartError, match="'missing' does not exist"):
        async with kv_store(openbao, tmp_path, "missing"):
            pass
    async with kv_store(openbao, tmp_path, "kv"):  # the second KV v2 mount of the test server
        pass


async def test_start_is_refused_when_openbao_is_unreachable(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    settings = kv_settings(openbao, tmp_path, address="http://127.0.0.1:9", timeout_seconds=1.0)
    client = OpenBaoClient(settings, flag="--secret-store openbao", what="the secret store")
    try:
        with pytest.raises(OpenBaoStartError, match=r"the secret store \(OpenBao\) is unreachable"):
            await KvSecretStore(client).check()
    finally:
        await client.close()


def test_missing_settings_name_the_secret_store_flag() -> None:
    from drivers.credentials.openbao_client import OpenBaoSettings

    with pytest.raises(OpenBaoStartError, match="--secret-store openbao needs --openbao-address"):
        OpenBaoClient(OpenBaoSettings(), flag="--secret-store openbao")
