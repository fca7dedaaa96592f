"""GET /api/v1/mesh/security: 501 without an applier; with a rules directory, the resolved modes per namespace."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource

ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
URL = "/api/v1/mesh/security"


def policy(root: Path, namespace: str, name: str, spec: dict[str, Any]) -> None:
    path = root / "peerauthentications" / namespace / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                                    "metadata": {"name": name, "namespace": namespace}, "spec": spec}))  # fmt: skip


async def client_for(aiohttp_client: ClientFactory, settings: Settings) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(settings, metrics_source=FakeMetricsSource()))


async def test_not_enabled_without_an_applier(aiohttp_client: ClientFactory) -> None:
    client = await client_for(aiohttp_client, Settings())
    response = await client.get(URL, params={"namespace": "bookinfo"})
    body = await response.json()
    assert response.status == 501 and body["error"]["code"] == "not_enabled"
    assert "--rules-dir" in body["error"]["message"] and "--kube" in body["error"]["message"]


async def test_modes_per_namespace_from_a_rules_directory(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    policy(rules, "istio-system", "default", {"mtls": {"mode": "STRICT"}})
    policy(rules, "legacy", "default", {"mtls": {"mode": "DISABLE"}})
    policy(rules, "bookinfo", "ratings", {"selector": {"matchLabels": {"app": "ratings"}},
                                          "mtls": {"mode": "PERMISSIVE"}})  # fmt: skip
    settings = Settings(rules_dir=str(rules), audit_db=str(tmp_path / "audit.sqlite3"))
    client = await client_for(aiohttp_client, settings)
    response = await client.get(URL, params={"namespace": "bookinfo,legacy"})
    assert response.status == 200
    body = await response.json()
    assert body["root_namespace"] == "istio-system"
    found = {e["namespace"]: e for e in body["namespaces"]}
    assert list(found) == ["bookinfo", "legacy"]
    assert (found["bookinfo"]["mode"], found["bookinfo"]["source"], found["bookinfo"]["policy"]) == (
        "STRICT", "mesh", "istio-system/default")  # fmt: skip
    assert found["bookinfo"]["exceptions"] == [{"policy": "bookinfo/ratings", "reason": "selector",
                                                "mode": "PERMISSIVE", "selector": {"app": "ratings"}, "ports": {}}]
    assert (found["legacy"]["mode"], found["legacy"]["source"], found["legacy"]["exceptions"]) == (
        "DISABLE", "namespace", [])  # fmt: skip

    # without namespace: every namespace holding a policy, and the root
    everywhere = await (await client.get(URL)).json()
    assert [e["namespace"] for e in everywhere["namespaces"]] == ["bookinfo", "istio-system", "legacy"]


async def test_bad_queries_name_the_field(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await client_for(aiohttp_client, Settings(rules_dir=str(tmp_path / "rules"),
                                                       audit_db=str(tmp_path / "audit.sqlite3")))  # fmt: skip
    for params, field in (({"namespace": "Not_A_Label"}, "namespace"), ({"ns": "bookinfo"}, "ns"),
                          ({"namespace": ",".join(f"n{i}" for i in range(51))}, "namespace")):  # fmt: skip
        response = await client.get(URL, params=params)
        assert response.status == 400 and (await response.json())["error"]["field"] == field
    empty = await (await client.get(URL, params={"namespace": "bookinfo"})).json()
    assert empty["namespaces"] == [{"namespace": "bookinfo", "mode": "PERMISSIVE", "source": "default",
                                    "policy": None, "exceptions": []}]  # fmt: skip
