"""deploy/kubernetes.yaml is valid Kubernetes (strict schema, no unknown fields) and says what
deploy/README.md promises: three replicas, grpc.health.v1 probes, secrets from Secrets, a
headless Service for client-side round robin, a non-root container."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.readiness import LIVENESS_SERVICE

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
# The oldest Kubernetes the manifest targets: gRPC probes are GA since 1.27.
KUBERNETES_VERSION = "1.30.0"
Resource = dict[str, Any]


@pytest.fixture(scope="module")
def resources() -> dict[str, Resource]:
    with MANIFEST.open() as handle:
        return {doc["kind"]: doc for doc in yaml.safe_load_all(handle) if doc}


@pytest.fixture(scope="module")
def container(resources: dict[str, Resource]) -> Resource:
    (only,) = resources["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


def _flag(container: Resource, name: str) -> str:
    values = [a.split("=", 1)[1] for a in container["args"] if a.startswith(f"{name}=")]
    assert len(values) == 1, f"{name}= appears {len(values)} times in args"
    return values[0]


@pytest.mark.parametrize("kind", ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"])
def test_every_resource_matches_the_kubernetes_schema(
    resources: dict[str, Resource], kind: str
) -> None:
    kubernetes_validate.validate(resources[kind], KUBERNETES_VERSION, strict=True)


def test_three_replicas_behind_a_headless_service(resources: dict[str, Resource]) -> None:
    deployment, service = resources["Deployment"], resources["Service"]
    assert deployment["spec"]["replicas"] == 3
    assert service["spec"]["clusterIP"] == "None"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert resources["PodDisruptionBudget"]["spec"]["minAvailable"] < 3


def test_probes_use_grpc_health_on_the_listening_port(container: Resource) -> None:
    port = int(_flag(container, "--listen").rsplit(":", 1)[1])
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["grpc"] == port
    readiness = container["readinessProbe"]["grpc"]
    assert readiness["port"] == port and readiness.get("service", "") == ""
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["grpc"] == {"port": port, "service": LIVENESS_SERVICE}


def test_database_url_and_master_keys_come_from_secrets(container: Resource) -> None:
    env = {e["name"]: e for e in container["env"]}
    for name in ("INTEGRATIONS_DATABASE_URL", "CREDENTIAL_MASTER_KEYS"):
        assert "value" not in env[name], f"{name} is written into the manifest"
        assert env[name]["valueFrom"]["secretKeyRef"]["name"]
    assert "--production" in container["args"]


def test_caller_file_is_mounted_from_a_secret(
    resources: dict[str, Resource], container: Resource
) -> None:
    callers = Path(_flag(container, "--callers"))
    volumes = {v["name"]: v for v in resources["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if callers.parent == Path(m["mountPath"])]
    volume = volumes[mount["name"]]
    assert mount["readOnly"] is True
    assert callers.name in [item["path"] for item in volume["secret"]["items"]]


def test_runs_as_non_root_without_privileges(
    resources: dict[str, Resource], container: Resource
) -> None:
    pod = resources["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    dockerfile = (ROOT / "Dockerfile").read_text()
    image_user = re.search(r"--uid (\d+)", dockerfile)
    image_group = re.search(r"groupadd --system --gid (\d+)", dockerfile)
    assert image_user and pod["securityContext"]["runAsUser"] == int(image_user.group(1))
    assert image_group, "the Dockerfile creates no group with a fixed gid"
    assert pod["securityContext"]["runAsGroup"] == int(image_group.group(1))
    assert pod["securityContext"]["fsGroup"] == int(image_group.group(1))
    image_runs_as = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    assert image_runs_as, "USER is not numeric uid:gid"
    assert image_runs_as.groups() == (image_user.group(1), image_group.group(1))
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"requests", "limits"} <= container["resources"].keys()


def test_termination_grace_outlasts_the_drain(
    resources: dict[str, Resource], container: Resource
) -> None:
    env = {e["name"]: e.get("value") for e in container["env"]}
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = resources["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > pause + float(env["INTEGRATIONS_GRACE_SECONDS"])


def test_metrics_port_is_exposed_and_annotated_for_scraping(
    resources: dict[str, Resource], container: Resource
) -> None:
    port = int(_flag(container, "--metrics-listen").rsplit(":", 1)[1])
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"] == port
    annotations = resources["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port
    assert annotations["prometheus.io/path"] == "/metrics"


def test_network_policy_admits_clients_to_grpc_and_only_monitoring_to_metrics(
    resources: dict[str, Resource],
) -> None:
    policy = resources["NetworkPolicy"]["spec"]
    labels = resources["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    by_port = {port["port"]: rule["from"] for rule in policy["ingress"] for port in rule["ports"]}
    assert set(by_port) == {"grpc", "metrics"}
    (monitoring,) = by_port["metrics"]
    assert monitoring == {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}
    assert all("namespaceSelector" in peer or "podSelector" in peer for peer in by_port["grpc"])
