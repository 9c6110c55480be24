"""The kustomizations: they build, validate offline against Kubernetes' schemas, and agree
with each other and with the gateway (ports, probes, selectors, config path, shutdown budget).

kubernetes-validate has no schema for custom resources: the ServiceMonitor
(monitoring.coreos.com/v1) is skipped by name in ``CRD_KINDS`` and checked by hand below.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from gateway.app import create_app
from gateway.cli import build_parser, cmd_serve
from gateway.config_redis import parse_redis_url
from gateway.settings import parse_settings
from tests.deploy.conftest import K8S, KUSTOMIZATIONS, gateway_container, kustomize, mounted_config, only

CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}  # no schema offline; checked below
K8S_VERSIONS = ("1.30.0", "1.37.0")  # 1.30: the oldest with the preStop `sleep` action on by default
WORKLOADS = ("Deployment", "StatefulSet")

Manifests = list[dict[str, Any]]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_manifests_validate_strictly(path: str, version: str) -> None:
    import kubernetes_validate

    skipped = []
    for manifest in kustomize(K8S / path):
        if (manifest["apiVersion"], manifest["kind"]) in CRD_KINDS:
            skipped.append(manifest["kind"])
            continue
        kubernetes_validate.validate(manifest, version, strict=True)
    assert skipped in ([], ["ServiceMonitor"])


def _pod_labels(manifests: Manifests) -> list[dict[str, str]]:
    return [m["spec"]["template"]["metadata"]["labels"] for m in manifests if m["kind"] in WORKLOADS]


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_selectors_select_pods(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    pods = _pod_labels(manifests)
    for m in manifests:
        if m["kind"] in WORKLOADS:
            assert _selects(m["spec"]["selector"]["matchLabels"], m["spec"]["template"]["metadata"]["labels"])
        elif m["kind"] == "Service":
            assert any(_selects(m["spec"]["selector"], labels) for labels in pods), m["metadata"]["name"]
        elif m["kind"] in ("PodDisruptionBudget", "NetworkPolicy"):
            key = "selector" if m["kind"] == "PodDisruptionBudget" else "podSelector"
            assert any(_selects(m["spec"][key]["matchLabels"], labels) for labels in pods), m["kind"]


def test_service_ports_reach_container_ports(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    for service in (m for m in manifests if m["kind"] == "Service"):
        pods = [
            w["spec"]["template"]["spec"]
            for w in manifests
            if w["kind"] in WORKLOADS
            and _selects(service["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])
        ]
        names = {p["name"] for pod in pods for c in pod["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in names, f"{service['metadata']['name']}: no container port {port['targetPort']}"


def _config(manifests: Manifests, container: dict[str, Any]) -> dict[str, Any]:
    args = build_parser().parse_args(container["args"])
    _, text = mounted_config(manifests, args.config)
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


async def test_gateway_container_runs_a_real_serve_command(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    container = gateway_container(manifests)
    args = build_parser().parse_args(container["args"])
    assert args.func is cmd_serve
    settings = parse_settings(_config(manifests, container))  # the mounted ConfigMap holds the --config file
    assert settings.listen.host == "0.0.0.0"
    assert container["ports"][0] == {"name": "http", "containerPort": settings.listen.port, "protocol": "TCP"}
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: the routes exist, nothing is loaded
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}
            assert (await client.get(path)).status_code != 404, path


def test_shutdown_fits_the_grace_period(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    pod = only(manifests, "Deployment", "triage")["spec"]["template"]["spec"]
    container = gateway_container(manifests)
    args = build_parser().parse_args(container["args"])
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    settings = parse_settings(_config(manifests, container))
    assert args.grace_s >= settings.limits.request_deadline_s, "a drain would cut the longest request short"
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + args.drain_delay_s + args.grace_s + 5


def test_pods_are_locked_down(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    for workload in (m for m in manifests if m["kind"] in WORKLOADS):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert set(container["resources"]) == {"requests", "limits"}
    container = gateway_container(manifests)
    assert "/tmp" in {v["mountPath"] for v in container["volumeMounts"]}
    assert {"secretRef": {"name": "triage-provider-keys", "optional": True}} in container["envFrom"]


def test_everything_lives_in_the_overlay_namespace(overlay: tuple[str, Manifests]) -> None:
    _, manifests = overlay
    namespace = only(manifests, "Namespace")["metadata"]["name"]
    assert namespace.startswith("triage")
    for m in manifests:
        if m["kind"] != "Namespace":
            assert m["metadata"]["namespace"] == namespace, m["kind"]


def test_service_monitor_scrapes_the_gateway_service() -> None:
    manifests = kustomize(K8S / "overlays" / "prod")
    monitor = only(manifests, "ServiceMonitor")
    service = only(manifests, "Service", "triage")
    assert _selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= {p["name"] for p in service["spec"]["ports"]}


def test_dev_is_one_replica_with_an_in_cluster_redis() -> None:
    manifests = kustomize(K8S / "overlays" / "dev")
    assert only(manifests, "Deployment", "triage")["spec"]["replicas"] == 1
    assert not [m for m in manifests if m["kind"] in ("HorizontalPodAutoscaler", "ServiceMonitor")]
    settings = parse_settings(_config(manifests, gateway_container(manifests)))
    assert settings.redis.url == "redis://triage-redis:6379/0"
    redis = only(manifests, "Service", "triage-redis")
    assert 6379 in {p["port"] for p in redis["spec"]["ports"]}
    assert only(manifests, "StatefulSet", "triage-redis")["spec"]["serviceName"] == "triage-redis"
    services = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Service"}
    for tier in settings.tiers.values():  # the simulated upstreams are in the overlay too
        host, port = (tier.api_base or "").removeprefix("http://").split("/")[0].split(":")
        assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}


def test_prod_scales_out_on_a_shared_external_redis() -> None:
    manifests = kustomize(K8S / "overlays" / "prod")
    assert "replicas" not in only(manifests, "Deployment", "triage")["spec"], "the HPA owns the replica count"
    hpa = only(manifests, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 3
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "triage"}
    settings = parse_settings(_config(manifests, gateway_container(manifests)))
    assert settings.redis.url is not None and "127.0.0.1" not in settings.redis.url
    assert not [m for m in manifests if m["kind"] == "StatefulSet"]


def _quantity_cores(value: str | int) -> float:
    text = str(value)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def test_prod_redis_url_comes_from_a_secret() -> None:
    """Prod ships the whole config, Redis URL and password included, as a Secret."""
    manifests = kustomize(K8S / "overlays" / "prod")
    container = gateway_container(manifests)
    holder, _ = mounted_config(manifests, build_parser().parse_args(container["args"]).config)
    assert holder["kind"] == "Secret" and holder["type"] == "Opaque"
    assert not [m for m in manifests if m["kind"] == "ConfigMap"], "no copy of the config in a ConfigMap"
    settings = parse_settings(_config(manifests, container))
    assert settings.redis.url is not None
    topology = parse_redis_url(settings.redis.url, settings.redis.cluster)
    assert topology.kind in ("sentinel", "cluster") and topology.password, topology.kind
    policy = only(manifests, "NetworkPolicy", "triage")
    egress = {p["port"] for rule in policy["spec"]["egress"] if "to" not in rule for p in rule["ports"]}
    assert {port for _, port in topology.nodes} <= egress, "the NetworkPolicy must let the gateway reach every node"


def test_prod_keeps_capacity_across_zones_and_rollouts() -> None:
    manifests = kustomize(K8S / "overlays" / "prod")
    deployment = only(manifests, "Deployment", "triage")
    pod = deployment["spec"]["template"]
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0 and rolling["maxSurge"] not in (0, "0%"), "a rollout adds before it removes"
    pdb = only(manifests, "PodDisruptionBudget", "triage")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert only(manifests, "HorizontalPodAutoscaler")["spec"]["minReplicas"] > pdb["spec"]["maxUnavailable"] + 1
    spread = {c["topologyKey"]: c for c in pod["spec"]["topologySpreadConstraints"]}
    zone = spread["topology.kubernetes.io/zone"]
    assert zone["whenUnsatisfiable"] == "DoNotSchedule" and zone["maxSkew"] == 1
    assert zone["nodeTaintsPolicy"] == "Honor", "a failed zone's tainted nodes must not block scheduling"
    assert "kubernetes.io/hostname" in spread
    for constraint in spread.values():
        assert _selects(constraint["labelSelector"]["matchLabels"], pod["metadata"]["labels"])


def test_prod_replica_runs_one_worker_per_core_of_its_cpu_limit() -> None:
    manifests = kustomize(K8S / "overlays" / "prod")
    container = gateway_container(manifests)
    args = build_parser().parse_args(container["args"])  # the container's arguments are ones `triage` takes
    resources = container["resources"]
    cores = _quantity_cores(resources["limits"]["cpu"])
    assert cores == _quantity_cores(resources["requests"]["cpu"]) == args.workers == 2
    assert resources["limits"]["memory"] == "2Gi" and resources["requests"]["memory"] == "1Gi"
    hpa = only(manifests, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["resource"] == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 70},
    }
    names = {e["name"] for e in container["env"]}
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in names, "the gateway reads its collector from the config, not OTEL_*"


def test_prod_exports_traces_to_a_collector_it_may_reach() -> None:
    manifests = kustomize(K8S / "overlays" / "prod")
    container = gateway_container(manifests)
    settings = parse_settings(_config(manifests, container))
    assert settings.tracing is not None, "prod sends one trace per request to the collector"
    endpoint = urlsplit(settings.tracing.otlp_endpoint)
    assert endpoint.path == "/v1/traces" and endpoint.port is not None
    policy = only(manifests, "NetworkPolicy", "triage")
    egress = {p["port"] for rule in policy["spec"]["egress"] if "to" not in rule for p in rule["ports"]}
    assert endpoint.port in egress, "the NetworkPolicy must let the gateway reach the collector"
    assert 0 < settings.tracing.sample_ratio <= 1
