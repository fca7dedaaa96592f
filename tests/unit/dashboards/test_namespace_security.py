"""Namespace boxes labelled with their PeerAuthentication mode (figures/namespace_security.py), the Backend call
and the topology page asking for it."""

from typing import Any

from dashboards.backend import Answer, Backend
from dashboards.config import UiConfig
from dashboards.figures.elements import NAMESPACE_PREFIX
from dashboards.figures.namespace_security import boxed_namespaces, label_namespaces, namespace_label
from dashboards.pages.topology import _render
from tests.unit.dashboards.wire import load

ANSWER = {"root_namespace": "istio-system", "namespaces": [
    {"namespace": "bookinfo", "mode": "STRICT", "source": "namespace", "policy": "bookinfo/default",
     "exceptions": []},
    {"namespace": "shop", "mode": "PERMISSIVE", "source": "default", "policy": None,
     "exceptions": [{"policy": "shop/a", "reason": "selector"}, {"policy": "shop/b", "reason": "selector"}]},
    {"namespace": "legacy", "mode": "DISABLE", "source": "namespace", "policy": "legacy/default",
     "exceptions": [{"policy": "legacy/db", "reason": "port_level"}]},
    {"namespace": "odd", "mode": "UNSET"},
    "not an entry",
]}  # fmt: skip


def box(namespace: str) -> dict[str, Any]:
    return {"data": {"id": NAMESPACE_PREFIX + namespace, "label": namespace}, "classes": "namespace"}


def test_labels_say_the_mode_and_count_exceptions() -> None:
    entries = {e["namespace"]: e for e in ANSWER["namespaces"] if isinstance(e, dict)}
    assert namespace_label("bookinfo", entries["bookinfo"]) == "bookinfo · mTLS STRICT"
    assert namespace_label("shop", entries["shop"]) == "shop · mTLS PERMISSIVE (2 exceptions)"
    assert namespace_label("legacy", entries["legacy"]) == "legacy · mTLS DISABLE (1 exception)"
    assert namespace_label("odd", entries["odd"]) == "odd"  # never a guessed or unresolved mode
    assert namespace_label("none", None) == "none"


def test_only_namespace_boxes_the_answer_lists_are_relabelled() -> None:
    node = {"data": {"id": "bookinfo/reviews/v1", "label": "reviews v1", "parent": NAMESPACE_PREFIX + "bookinfo"}}
    elements = [box("bookinfo"), box("shop"), box("other"), node]
    assert boxed_namespaces(elements) == ("bookinfo", "other", "shop")
    labelled = label_namespaces(elements, ANSWER)
    assert [e["data"]["label"] for e in labelled] == ["bookinfo · mTLS STRICT", "shop · mTLS PERMISSIVE (2 exceptions)",
                                                      "other", "reviews v1"]  # fmt: skip
    assert elements[0]["data"]["label"] == "bookinfo" and labelled[3] is node  # the input is not changed


def test_no_answer_leaves_the_labels_alone() -> None:
    elements = [box("bookinfo")]
    for answer in (None, {}, {"namespaces": "nope"}):
        assert label_namespaces(elements, answer) == elements


def test_backend_asks_for_the_boxed_namespaces() -> None:
    asked: list[tuple[str, dict[str, str]]] = []

    class Recording(Backend):
        def get(self, path: str, params: Any) -> Any:
            asked.append((path, dict(params)))
            return None

    Recording("http://127.0.0.1:1").mesh_security(("bookinfo", "shop"))
    assert asked == [("/api/v1/mesh/security", {"namespace": "bookinfo,shop"})]


class StubBackend(Backend):
    """The topology of the bookinfo wire fixture, and a mesh-security answer; records what was asked."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1")
        self.security_asked: list[tuple[str, ...]] = []

    def topology(self, **_: Any) -> Answer:
        return Answer(load("topology_bookinfo.json"), status=200)

    def mesh_security(self, namespaces: tuple[str, ...]) -> Answer:
        self.security_asked.append(namespaces)
        return Answer(ANSWER, status=200)


def test_the_topology_page_labels_boxes_now_but_not_at_a_past_instant() -> None:
    backend = StubBackend()
    elements = _render(backend, UiConfig(api_url="http://127.0.0.1:1"), {})[0]
    assert backend.security_asked == [("bookinfo",)]
    assert {e["data"]["label"] for e in elements if e.get("classes") == "namespace"} == {"bookinfo · mTLS STRICT"}
    past = _render(backend, UiConfig(api_url="http://127.0.0.1:1"), {"at": "2026-11-01T00:00:00Z"})[0]
    assert backend.security_asked == [("bookinfo",)]  # the modes in force now would mislabel the past
    assert {e["data"]["label"] for e in past if e.get("classes") == "namespace"} == {"bookinfo"}
