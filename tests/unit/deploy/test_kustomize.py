"""deploy/ renders with kustomize, every object is valid Kubernetes, and the security/RBAC/probe choices hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from observe.cli.serve import settings_from_args
from observe.settings import from_file
from tests.unit.deploy.helpers import KUSTOMIZATIONS, Obj, only, parse_observe, render

KUBERNETES_VERSION = "1.30.0"  # the schemas bundled with kubernetes-validate; Istio 1.30 supports 1.30-1.34
OPERATOR_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
RBAC_GROUP = "rbac.authorization.k8s.io"
READ_VERBS = {"get", "list", "watch"}
EDITOR_VERBS = {"get", "list", "watch", "create", "update", "patch", "delete"}


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Obj]]:
    return request.param, render(request.param)


def deployments(objects: list[Obj]) -> Iterator[Obj]:
    return (o for o in objects if o["kind"] == "Deployment")


def test_every_object_validates_against_the_kubernetes_schemas(rendered: tuple[str, list[Obj]]) -> None:
    name, objects = rendered
    assert objects, f"deploy/{name} rendered nothing"
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in OPERATOR_KINDS:
            continue  # Prometheus Operator CRDs: no bundled schema; checked in the tests below
        # strict: unknown fields are errors too (a misspelt field would otherwise be dropped silently)
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_base_needs_no_custom_resource_definitions() -> None:
    api_versions = {o["apiVersion"] for o in render("base")}
    assert api_versions <= {"v1", "apps/v1", "rbac.authorization.k8s.io/v1"}


def test_the_validator_rejects_what_the_api_server_would() -> None:
    """A control: the schemas are really applied (a string containerPort is the classic mistake)."""
    deployment = only(render("base"), "Deployment", "observe")
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_pods_run_as_non_root_with_a_read_only_root_filesystem(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    found = 0
    for deployment in deployments(objects):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            found += 1
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            for mount in container.get("volumeMounts", []):  # writable mounts are scratch space only
                if not mount.get("readOnly"):
                    assert "emptyDir" in volumes[mount["name"]], f"{mount['mountPath']} is writable but not an emptyDir"
    assert found == 2


def _container(objects: list[Obj], deployment: str) -> Obj:
    containers: list[Obj] = only(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _port_number(container: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    assert numbers, f"no container port named {port!r}"
    return int(numbers[0])


def test_api_probes_use_healthz_and_readyz_on_the_api_port(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    api = _container(objects, "observe")
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert _port_number(api, api[probe]["httpGet"]["port"]) == 8080
    ui = _container(objects, "observe-ui")
    assert _port_number(ui, ui["readinessProbe"]["httpGet"]["port"]) == 8050


def _pod_labels(deployment: Obj) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def test_services_reach_named_container_ports(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    for service in (o for o in objects if o["kind"] == "Service"):
        selector = service["spec"]["selector"]
        targets = [
            d for d in deployments(objects) if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, f"Service {service['metadata']['name']} selects {len(targets)} Deployments"
        container = targets[0]["spec"]["template"]["spec"]["containers"][0]
        for port in service["spec"]["ports"]:
            _port_number(container, port["targetPort"])


def _config_file(objects: list[Obj], tmp_path: Path) -> Path:
    configmaps = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("observe-config")]
    assert len(configmaps) == 1
    path = tmp_path / "config.yaml"
    path.write_text(configmaps[0]["data"]["config.yaml"])
    return path


def test_containers_args_and_the_mounted_config_make_valid_settings(
    rendered: tuple[str, list[Obj]], tmp_path: Path
) -> None:
    """The args parse with observe's CLI, --config names the mounted ConfigMap key, and every key is a setting."""
    _, objects = rendered
    config = _config_file(objects, tmp_path)
    from_file(str(config))  # unknown keys are errors
    for deployment in ("observe", "observe-ui"):
        container = _container(objects, deployment)
        args = parse_observe(container["args"])
        mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
        assert args.config == f"{mount['mountPath']}/config.yaml"
        args.config = str(config)
        if deployment == "observe":
            settings = settings_from_args(args)
            assert settings.host == "0.0.0.0"
            assert settings.port == _port_number(container, "http")
            assert settings.otlp_port == _port_number(container, "http-otlp")
            assert settings.audit_db.startswith("/data/")
            assert settings.allow_writes is False  # writes only through components/editor
        else:
            assert args.api_url == "http://observe.observe:8080"
            assert (args.host, args.port) == ("0.0.0.0", _port_number(container, "http"))


def test_istio_addons_overlay_points_at_the_sample_addons(tmp_path: Path) -> None:
    data = yaml.safe_load(_config_file(render("overlays/istio-addons"), tmp_path).read_text())
    assert data["prometheus_url"] == "http://prometheus.istio-system:9090"
    assert data["jaeger_url"] == "http://tracing.istio-system/jaeger"


def _rules(objects: list[Obj], name: str) -> list[Obj]:
    rules: list[Obj] = only(objects, "ClusterRole", name)["rules"]
    return rules


def test_editor_role_has_exactly_the_edit_verbs_on_exactly_drs_and_vss(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    rules = _rules(objects, "observe-editor")
    assert len(rules) == 1
    assert rules[0]["apiGroups"] == ["networking.istio.io"]
    assert sorted(rules[0]["resources"]) == ["destinationrules", "virtualservices"]
    assert set(rules[0]["verbs"]) == EDITOR_VERBS and len(rules[0]["verbs"]) == len(EDITOR_VERBS)
    assert set(rules[0]) == {"apiGroups", "resources", "verbs"}  # no resourceNames/nonResourceURLs surprises


def test_viewer_role_cannot_write(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    rules = _rules(objects, "observe-viewer")
    for rule in rules:
        assert set(rule["verbs"]) <= READ_VERBS, rule
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]
    readable = {(group, r) for rule in rules for group in rule["apiGroups"] for r in rule["resources"]}
    assert {("networking.istio.io", "destinationrules"), ("networking.istio.io", "virtualservices"),
            ("security.istio.io", "peerauthentications")} <= readable  # fmt: skip
    binding = only(objects, "ClusterRoleBinding", "observe-viewer")
    assert binding["roleRef"]["name"] == "observe-viewer"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "observe", "namespace": "observe"}]


def test_editor_role_is_never_bound_cluster_wide(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    for binding in (o for o in objects if o["kind"] == "ClusterRoleBinding"):
        assert binding["roleRef"]["name"] != "observe-editor"


def _env(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}


def test_writes_are_off_in_the_base_and_the_token_comes_from_a_secret() -> None:
    objects = render("base")
    assert not [o for o in objects if o["kind"] in ("RoleBinding", "Secret")]
    env = _env(_container(objects, "observe"))
    assert "OBSERVE_ALLOW_WRITES" not in env
    token = env["OBSERVE_WRITE_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": "observe-write-token", "key": "token", "optional": True}


def test_editor_overlay_binds_the_editor_role_per_namespace_and_requires_the_token() -> None:
    objects = render("overlays/istio-addons-editor")
    binding = only(objects, "RoleBinding", "observe-editor")
    assert binding["metadata"]["namespace"] == "bookinfo"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "observe-editor",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "observe", "namespace": "observe"}]
    env = _env(_container(objects, "observe"))
    assert env["OBSERVE_ALLOW_WRITES"]["value"] == "true" and env["OBSERVE_KUBE"]["value"] == "true"
    assert env["OBSERVE_WRITE_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is False
    assert not [o for o in objects if o["kind"] == "Secret"]  # the token is never in the repository


def test_service_monitor_scrapes_the_api_metrics() -> None:
    objects = render("overlays/prometheus-operator")
    monitor = only(objects, "ServiceMonitor", "observe")
    service = only(objects, "Service", "observe")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert only(objects, "PrometheusRule", "observe-recording-rules")["spec"]["groups"]
