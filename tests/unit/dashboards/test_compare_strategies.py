"""The compare page's release strategies: the strategy line, the mirror mode, the strategy forms' bodies and
where an API refusal is shown (beside the field it names)."""

from __future__ import annotations

import io
import urllib.error
from email.message import Message
from typing import Any

from dash import dcc

from dashboards.backend import Backend
from dashboards.components import compare_view as view
from dashboards.figures import compare
from dashboards.pages.compare import field_messages, strategy_body
from tests.unit.dashboards.wire import load

NAMES = ["blue-green.version", "mirror.version", "mirror.mirror_percent", "match.kind", "match.name", "match.op",
         "match.value", "match.version"]  # fmt: skip


def test_strategy_and_mirror_mode_are_said_in_words() -> None:
    answer = load("compare_mirror.json")
    lines = compare.strategy_lines(answer)
    assert lines[0] == "Strategy: mirroring — 100% to v1; 10% mirrored to v2"
    assert lines[1].startswith("Mirror mode: the canary gets only mirrored copies")
    rows = {name: (a, b) for name, a, b in compare.column_rows(answer)}
    assert rows["RPS"][1].endswith("(mirrored copies)") and rows["Weight / observed share"][0].startswith("100%")
    plain = load("compare_reviews.json")  # an API without the fields: nothing said, nothing broken
    assert compare.strategy_lines(plain) == [] and view.strategy([]) == []
    weights = {**plain, "strategy": {"kind": "match", "detail": "header end-user exact jason → v2"}}
    assert compare.strategy_lines(weights) == [
        "Strategy: by request content (header / cookie / URI) — header end-user exact jason → v2"]


def test_strategy_forms_have_a_field_and_an_error_slot_for_every_request_field() -> None:
    forms = view.strategy_forms("v1", "v2", ["v1", "v2", "v3"])
    found: dict[str, Any] = {}

    def walk(component: Any) -> None:
        if isinstance(component, list | tuple):
            for child in component:
                walk(child)
            return
        ident = getattr(component, "id", None)
        if isinstance(ident, dict):
            found[f"{ident['type']}:{ident.get('name') or ident.get('strategy') + '/' + ident['action']}"] = component
        walk(getattr(component, "children", None) or [])

    walk(forms)
    for name in NAMES:
        assert f"{view.STRATEGY_FIELD}:{name}" in found and f"{view.STRATEGY_ERROR}:{name}" in found
    for strategy in ("blue-green", "mirror", "match"):
        assert {f"{view.STRATEGY_ACTION}:{strategy}/preview", f"{view.STRATEGY_ACTION}:{strategy}/apply"} <= set(found)
    target = found[f"{view.STRATEGY_FIELD}:blue-green.version"]
    assert isinstance(target, dcc.Dropdown) and target.value == "v2" and len(target.options) == 3
    assert [o["value"] for o in found[f"{view.STRATEGY_FIELD}:match.op"].options] == ["exact", "prefix", "regex"]


def test_strategy_bodies_follow_the_traffic_api() -> None:
    values = {"blue-green.version": "v2", "mirror.version": "v3", "mirror.mirror_percent": 10,
              "match.kind": "header", "match.name": " end-user ", "match.op": "regex", "match.value": "^j.*",
              "match.version": "v2"}  # fmt: skip
    assert strategy_body("blue-green", "apply", values, " switch ", ["v1", "v2"]) == {
        "strategy": "blue-green", "dry_run": False, "versions": ["v1", "v2"], "version": "v2", "reason": "switch"}
    assert strategy_body("mirror", "preview", values, "", ["v1", "v3"]) == {
        "strategy": "mirror", "dry_run": True, "versions": ["v1", "v3"], "version": "v3", "mirror_percent": 10}
    assert strategy_body("match", "preview", values, "", ["v1", "v2"])["match"] == {
        "kind": "header", "name": "end-user", "op": "regex", "value": "^j.*"}
    empty = strategy_body("mirror", "preview", {"mirror.version": "v3", "mirror.mirror_percent": None}, "", [])
    assert "mirror_percent" not in empty  # the API names what is missing
    assert strategy_body("mirror", "preview", {"mirror.mirror_percent": 0}, "", [])["mirror_percent"] == 0


def test_a_refusal_naming_a_field_goes_beside_it() -> None:
    beside, rest = field_messages("match", NAMES, "match.value", "match.value: bad regex (HTTP 422)")
    assert beside[NAMES.index("match.value")] == "match.value: bad regex (HTTP 422)" and rest == ""
    assert sum(bool(b) for b in beside) == 1
    beside, rest = field_messages("mirror", NAMES, "version", "version: mirror to the same version (HTTP 422)")
    assert beside[NAMES.index("mirror.version")] and not beside[NAMES.index("blue-green.version")] and rest == ""
    assert field_messages("mirror", NAMES, "weights", "weights: x (HTTP 422)") == (["" for _ in NAMES],
                                                                                   "weights: x (HTTP 422)")
    assert field_messages("mirror", NAMES, None, "the API is down") == (["" for _ in NAMES], "the API is down")
    assert field_messages("mirror", NAMES, None, None) == (["" for _ in NAMES], "")


def test_backend_keeps_the_field_an_api_refusal_names() -> None:
    body = b'{"error": {"code": "invalid_edit", "message": "match.value: bad regex", "field": "match.value"}}'
    refusal = urllib.error.HTTPError("http://127.0.0.1/api", 422, "Unprocessable", Message(), io.BytesIO(body))
    answer = Backend("http://127.0.0.1:9")._http_error(refusal)
    assert (answer.status, answer.field, answer.error) == (422, "match.value", "match.value: bad regex (HTTP 422)")
