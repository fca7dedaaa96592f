"""PeerAuthentication: the read-only kind, the namespace-mode resolver (Istio's precedence rules) and the appliers'
`list` read — on a rules directory and on FakeKubeAPI (namespaced, cluster-wide, paged, refused)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from observe.actions.files import RulesDirectory
from observe.actions.kube import KubeApplier
from observe.actions.peer_authentication import resolve
from observe.actions.resources import KINDS, PEER_AUTHENTICATION, ObjectRef
from observe.errors import InvalidEdit, SourceUnavailable
from tests.fakes.kube import FakeKubeAPI


def pa(namespace: str, name: str, mode: str | None = None, *, selector: dict[str, str] | None = None,
       ports: dict[str, str] | None = None, created: str = "") -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if ports:
        spec["portLevelMtls"] = {port: {"mode": m} for port, m in ports.items()}
    meta = {"name": name, "namespace": namespace} | ({"creationTimestamp": created} if created else {})
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": meta, "spec": spec}


def wire(policies: list[dict[str, Any]], *namespaces: str) -> dict[str, dict[str, Any]]:
    return {r.namespace: r.to_wire() for r in resolve(policies, namespaces)}


def test_peer_authentication_is_read_only() -> None:
    assert "PeerAuthentication" not in KINDS  # not editable: ObjectRef.of refuses it, so no applier writes it
    with pytest.raises(InvalidEdit) as refused:
        ObjectRef.of(pa("bookinfo", "default", "STRICT"))
    assert refused.value.field == "kind"
    with pytest.raises(InvalidEdit):
        ObjectRef.parse("PeerAuthentication/bookinfo/default")


def test_without_policies_every_namespace_is_permissive_by_default() -> None:
    found = wire([], "bookinfo", "shop")
    assert found["bookinfo"] == {"namespace": "bookinfo", "mode": "PERMISSIVE", "source": "default", "policy": None,
                                 "exceptions": []}  # fmt: skip
    assert found["shop"]["source"] == "default"


def test_mesh_wide_policy_applies_where_the_namespace_has_none() -> None:
    found = wire([pa("istio-system", "default", "STRICT")], "bookinfo", "istio-system")
    assert (found["bookinfo"]["mode"], found["bookinfo"]["source"]) == ("STRICT", "mesh")
    assert found["bookinfo"]["policy"] == "istio-system/default"
    assert (found["istio-system"]["mode"], found["istio-system"]["source"]) == ("STRICT", "mesh")


def test_namespace_policy_overrides_the_mesh_and_unset_inherits() -> None:
    policies = [pa("istio-system", "default", "STRICT"), pa("legacy", "default", "PERMISSIVE"),
                pa("bookinfo", "default", "UNSET"), pa("shop", "default")]  # fmt: skip
    found = wire(policies, "legacy", "bookinfo", "shop")
    assert (found["legacy"]["mode"], found["legacy"]["source"], found["legacy"]["policy"]) == (
        "PERMISSIVE", "namespace", "legacy/default")  # fmt: skip
    for inherits in ("bookinfo", "shop"):  # UNSET and no mtls at all: the mesh-wide mode
        assert (found[inherits]["mode"], found[inherits]["source"]) == ("STRICT", "mesh")


def test_disable_and_an_unset_mesh_policy_falls_back_to_the_default() -> None:
    found = wire([pa("istio-system", "default", "UNSET"), pa("old", "plain", "DISABLE")], "old", "bookinfo")
    assert (found["old"]["mode"], found["old"]["source"]) == ("DISABLE", "namespace")
    assert (found["bookinfo"]["mode"], found["bookinfo"]["source"]) == ("PERMISSIVE", "default")


def test_selector_and_port_level_policies_are_exceptions_not_resolved() -> None:
    policies = [pa("bookinfo", "default", "STRICT"),
                pa("bookinfo", "ratings", "DISABLE", selector={"app": "ratings"}, ports={"9080": "PERMISSIVE"}),
                pa("shop", "cart", "STRICT", selector={"app": "cart"})]  # fmt: skip
    found = wire(policies, "bookinfo", "shop")
    assert found["bookinfo"]["mode"] == "STRICT"
    assert found["bookinfo"]["exceptions"] == [{"policy": "bookinfo/ratings", "reason": "selector", "mode": "DISABLE",
                                                "selector": {"app": "ratings"}, "ports": {"9080": "PERMISSIVE"}}]
    # a selector policy does not set the namespace's mode: shop inherits the default
    assert (found["shop"]["mode"], found["shop"]["source"]) == ("PERMISSIVE", "default")
    assert [e["reason"] for e in found["shop"]["exceptions"]] == ["selector"]


def test_the_oldest_namespace_wide_policy_wins_the_others_are_listed() -> None:
    policies = [pa("bookinfo", "newer", "DISABLE", created="2026-02-01T00:00:00Z"),
                pa("bookinfo", "older", "STRICT", created="2026-01-01T00:00:00Z", ports={"8080": "DISABLE"})]
    found = wire(policies, "bookinfo")["bookinfo"]
    assert (found["mode"], found["policy"]) == ("STRICT", "bookinfo/older")
    assert {(e["policy"], e["reason"]) for e in found["exceptions"]} == {("bookinfo/newer", "ignored"),
                                                                         ("bookinfo/older", "port_level")}


def test_an_unknown_mode_counts_as_unset() -> None:
    found = wire([pa("istio-system", "default", "STRICT"), pa("bookinfo", "default", "strict")], "bookinfo")
    assert found["bookinfo"]["source"] == "mesh"


# -- the appliers' list ----------------------------------------------------------------------------------------


def write(root: Path, obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    path = root / "peerauthentications" / meta["namespace"] / f"{meta['name']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(obj))


async def test_rules_directory_lists_one_namespace_or_all(tmp_path: Path) -> None:
    for obj in (pa("istio-system", "default", "STRICT"), pa("bookinfo", "b", "DISABLE"), pa("bookinfo", "a")):
        write(tmp_path, obj)
    rules = RulesDirectory(tmp_path)
    names = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in await rules.list(PEER_AUTHENTICATION)]
    assert names == [("bookinfo", "a"), ("bookinfo", "b"), ("istio-system", "default")]
    assert [o["metadata"]["name"] for o in await rules.list(PEER_AUTHENTICATION, "bookinfo")] == ["a", "b"]
    assert await rules.list(PEER_AUTHENTICATION, "empty") == []
    assert rules.list_objects() == []  # the demo's reader loads the edited kinds only


async def test_rules_directory_list_refuses_a_broken_file_and_a_bad_namespace(tmp_path: Path) -> None:
    broken = tmp_path / "peerauthentications" / "bookinfo" / "default.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("spec: [unclosed")
    rules = RulesDirectory(tmp_path)
    with pytest.raises(InvalidEdit) as refused:
        await rules.list(PEER_AUTHENTICATION, "bookinfo")
    assert refused.value.field == "file" and "default.yaml" in refused.value.message
    with pytest.raises(InvalidEdit):
        await rules.list(PEER_AUTHENTICATION, "*")


@pytest.fixture
async def fake() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as api:
        for obj in (pa("istio-system", "default", "STRICT"), pa("bookinfo", "default", "PERMISSIVE"),
                    pa("bookinfo", "ratings", "DISABLE", selector={"app": "ratings"})):  # fmt: skip
            api.put(obj)
        yield api


async def test_kube_applier_lists_namespaced_and_cluster_wide(fake: FakeKubeAPI, applier: KubeApplier) -> None:
    found = await applier.list(PEER_AUTHENTICATION, "bookinfo")
    assert [o["metadata"]["name"] for o in found] == ["default", "ratings"]
    assert all(o["metadata"]["resourceVersion"] for o in found)
    everywhere = await applier.list(PEER_AUTHENTICATION)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everywhere] == [
        ("bookinfo", "default"), ("bookinfo", "ratings"), ("istio-system", "default")]  # fmt: skip
    lists = [path for method, path in fake.requests if method == "GET"]
    assert lists == ["/apis/security.istio.io/v1/namespaces/bookinfo/peerauthentications?limit=250",
                     "/apis/security.istio.io/v1/peerauthentications?limit=250"]  # fmt: skip
    assert {r.namespace: r.mode for r in resolve(everywhere, ["bookinfo", "shop"])} == {"bookinfo": "PERMISSIVE",
                                                                                     "shop": "STRICT"}


async def test_kube_applier_follows_continue_tokens_up_to_a_bound(fake: FakeKubeAPI, applier: KubeApplier,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("observe.actions.kube.LIST_PAGE", 2)
    assert len(await applier.list(PEER_AUTHENTICATION)) == 3  # two pages
    assert fake.requests[-1][1] == "/apis/security.istio.io/v1/peerauthentications?limit=2&continue=2"
    monkeypatch.setattr("observe.actions.kube.MAX_LIST_PAGES", 1)
    with pytest.raises(SourceUnavailable) as partial:
        await applier.list(PEER_AUTHENTICATION)
    assert "more than 2 objects" in partial.value.message


async def test_kube_applier_list_refused_by_rbac_names_the_verb(fake: FakeKubeAPI, applier: KubeApplier) -> None:
    fake.forbidden.add(("list", "peerauthentications"))
    with pytest.raises(SourceUnavailable) as refused:
        await applier.list(PEER_AUTHENTICATION)
    assert refused.value.extra["verb"] == "list" and refused.value.extra["upstream_status"] == 403
    assert "cluster-wide" in refused.value.message
    assert refused.value.extra["resource"] == "peerauthentications.security.istio.io"


async def test_fake_serves_lists_in_the_real_shape(fake: FakeKubeAPI) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.token}"}) as session:
        url = f"{fake.url}/apis/security.istio.io/v1/peerauthentications?limit=2"
        async with session.get(url) as response:
            body = await response.json()
    assert (body["apiVersion"], body["kind"]) == ("security.istio.io/v1", "PeerAuthenticationList")
    assert len(body["items"]) == 2 and body["metadata"]["continue"] and body["metadata"]["resourceVersion"]
