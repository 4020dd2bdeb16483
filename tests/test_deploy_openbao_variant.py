"""deploy/openbao (a kustomize overlay of deploy/kubernetes.yaml) gives valid Kubernetes whose
service keeps its credential keys in OpenBao: no master key Secret, an AppRole login from a
Secret mounted read-only, OpenBao's CA, and the address."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from tests.test_deploy_manifest import KUBERNETES_VERSION, MANIFEST

OVERLAY = Path(__file__).resolve().parent.parent / "deploy" / "openbao"


def _apply(document: Any, operations: list[dict[str, Any]]) -> Any:
    """The JSON 6902 `add` and `replace` operations the overlay uses."""
    result = copy.deepcopy(document)
    for operation in operations:
        *parents, last = operation["path"].strip("/").split("/")
        target = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            if operation["op"] == "add" and last == "-":
                target.append(operation["value"])
            else:
                assert operation["op"] == "replace"
                target[int(last)] = operation["value"]
        else:
            target[last] = operation["value"]
    return result


def _deployment() -> Any:
    kustomization = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert (OVERLAY / kustomization["resources"][0]).resolve() == MANIFEST
    (patch,) = kustomization["patches"]
    assert patch["target"]["kind"] == "Deployment"
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    return _apply(deployment, yaml.safe_load((OVERLAY / patch["path"]).read_text()))


def test_the_overlay_is_valid_kubernetes() -> None:
    kubernetes_validate.validate(_deployment(), KUBERNETES_VERSION, strict=True)


def test_no_master_key_and_an_approle_login_from_a_mounted_secret() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "CREDENTIAL_MASTER_KEYS" not in env
    assert env["INTEGRATIONS_KMS"]["value"] == "openbao"
    assert env["INTEGRATIONS_OPENBAO_ADDRESS"]["value"].startswith("https://")
    assert env["INTEGRATIONS_OPENBAO_ROLE_ID"]["valueFrom"]["secretKeyRef"]["name"]
    secret_id = Path(env["INTEGRATIONS_OPENBAO_SECRET_ID_FILE"]["value"])
    ca_file = Path(env["INTEGRATIONS_OPENBAO_CA_FILE"]["value"])
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == secret_id.parent]
    assert mount["readOnly"] is True and ca_file.parent == secret_id.parent
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    paths = [i["path"] for s in volume["projected"]["sources"] for i in next(iter(s.values()))["items"]]
    assert sorted(paths) == sorted([secret_id.name, ca_file.name])
    assert "--production" in container["args"]
