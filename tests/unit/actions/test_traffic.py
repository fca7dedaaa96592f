"""Release strategies: every object validates against the shipped Istio CRD schema, invalid combinations are
refused naming the field, and the two-object edit goes through the pipeline (audit, dry run, revert)."""

import copy
from pathlib import Path
from typing import Any

import pytest
import re2
import yaml

from observe.actions.audit import Actor, AuditLog
from observe.actions.files import RulesDirectory
from observe.actions.resources import DESTINATION_RULE, VIRTUAL_SERVICE
from observe.actions.traffic import PREVIOUS_ANNOTATION, TrafficChange, plan
from observe.actions.traffic_match import RequestMatch, regex_problem
from observe.actions.validation import validate
from observe.errors import InvalidEdit
from observe.services.edits import EditService
from observe.services.traffic import TrafficService

V = ("v1", "v2", "v3")
ALICE = Actor("alice", "token")
LIVE_DR = {
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
    "metadata": {"name": "reviews", "namespace": "bookinfo", "resourceVersion": "4"},
    "spec": {"host": "reviews", "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 10}}},
             "subsets": [{"name": "stable", "labels": {"version": "v1"}}]},
}  # fmt: skip


def build(change: TrafficChange, vs: Any = None, dr: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    rule, service = plan(change, "bookinfo", "reviews", vs, dr)
    validate(rule, DESTINATION_RULE)
    validate(service, VIRTUAL_SERVICE)
    return rule, service


def routes(vs: dict[str, Any], i: int = -1) -> list[tuple[str, int | None]]:
    return [(d["destination"].get("subset"), d.get("weight")) for d in vs["spec"]["http"][i]["route"]]


def weighted() -> tuple[dict[str, Any], dict[str, Any]]:
    return build(TrafficChange("weights", weights={"v1": 80, "v2": 20}, versions=V))


def test_weights_create_one_subset_per_version_and_a_weighted_default_route() -> None:
    rule, vs = weighted()
    assert [s["name"] for s in rule["spec"]["subsets"]] == ["v1", "v2"]
    assert rule["spec"]["subsets"][1]["labels"] == {"version": "v2"}
    assert vs["spec"]["hosts"] == ["reviews"] and routes(vs) == [("v1", 80), ("v2", 20)]


def test_existing_subsets_and_traffic_policy_are_kept() -> None:
    rule, vs = build(TrafficChange("weights", weights={"v1": 50, "v2": 50}, versions=V), dr=LIVE_DR)
    assert rule["spec"]["trafficPolicy"] == LIVE_DR["spec"]["trafficPolicy"]
    assert rule["spec"]["subsets"][0] == {"name": "stable", "labels": {"version": "v1"}}
    assert routes(vs) == [("stable", 50), ("v2", 50)]  # the existing subset of v1 is reused


def test_take_over_and_roll_back_send_everything_to_one_version() -> None:
    rule, vs = weighted()
    rule, vs = build(TrafficChange("match", version="v2", match=RequestMatch("header", "jason", "end-user")), vs, rule)
    rule, vs = build(TrafficChange("mirror", version="v3", mirror_percent=5, versions=V), vs, rule)
    _, took = build(TrafficChange("take-over", version="v2"), vs, rule)
    assert [r["route"] for r in took["spec"]["http"]] == [[{"destination": {"host": "reviews", "subset": "v2"},
                                                             "weight": 100}]]  # fmt: skip
    assert "mirror" not in took["spec"]["http"][0]
    _, back = build(TrafficChange("roll-back"), took, rule)
    assert routes(back) == [("v1", 100)]  # no baseline annotation: the first version


def test_blue_green_switches_in_one_step_and_remembers_the_other() -> None:
    rule, vs = build(TrafficChange("weights", weights={"v1": 100}, versions=V))
    rule, green = build(TrafficChange("blue-green", version="v2", versions=V), vs, rule)
    assert routes(green) == [("v2", 100)]
    assert green["metadata"]["annotations"][PREVIOUS_ANNOTATION] == "v1"
    assert {s["name"] for s in rule["spec"]["subsets"]} == {"v1", "v2"}  # v1 kept for the switch back
    _, blue = build(TrafficChange("blue-green", version="v1"), green, rule)
    assert routes(blue) == [("v1", 100)] and blue["metadata"]["annotations"][PREVIOUS_ANNOTATION] == "v2"


def test_mirror_sets_mirror_and_percentage_and_zero_removes_it() -> None:
    rule, vs = weighted()
    rule, vs = build(TrafficChange("mirror", version="v3", mirror_percent=10, versions=V), vs, rule)
    default = vs["spec"]["http"][-1]
    assert default["mirror"] == {"host": "reviews", "subset": "v3"} and default["mirrorPercentage"] == {"value": 10.0}
    _, off = build(TrafficChange("mirror", version="v3", mirror_percent=0), vs, rule)
    assert "mirror" not in off["spec"]["http"][-1] and "mirrorPercentage" not in off["spec"]["http"][-1]


@pytest.mark.parametrize(("match", "wire"), [
    (RequestMatch("header", "jason", "end-user"), {"headers": {"end-user": {"exact": "jason"}}}),
    (RequestMatch("header", "ja", "end-user", "prefix"), {"headers": {"end-user": {"prefix": "ja"}}}),
    (RequestMatch("header", "^j.*n$", "end-user", "regex"), {"headers": {"end-user": {"regex": "^j.*n$"}}}),
    (RequestMatch("cookie", "jason", "user"), {"headers": {"cookie": {"regex": r"^(.*?;\s*)?(user=jason)(;.*)?$"}}}),
    (RequestMatch("uri", "/api/v2", op="prefix"), {"uri": {"prefix": "/api/v2"}}),
])  # fmt: skip
def test_match_routes_go_first_and_the_rest_keeps_its_weights(match: RequestMatch, wire: dict[str, Any]) -> None:
    rule, vs = weighted()
    _, matched = build(TrafficChange("match", version="v3", match=match, versions=V), vs, rule)
    first, default = matched["spec"]["http"]
    assert first["match"] == [wire] and first["route"] == [{"destination": {"host": "reviews", "subset": "v3"}}]
    assert default == vs["spec"]["http"][0]


def test_match_without_a_virtual_service_keeps_host_wide_balancing() -> None:
    _, vs = build(TrafficChange("match", version="v2", match=RequestMatch("header", "jason", "end-user"), versions=V))
    assert vs["spec"]["http"][-1]["route"] == [{"destination": {"host": "reviews"}}]


def test_a_new_match_of_the_same_name_replaces_the_old_one() -> None:
    rule, vs = weighted()
    rule, vs = build(TrafficChange("match", version="v2", match=RequestMatch("header", "a", "end-user")), vs, rule)
    _, vs = build(TrafficChange("match", version="v2", match=RequestMatch("header", "b", "end-user")), vs, rule)
    assert len(vs["spec"]["http"]) == 2 and vs["spec"]["http"][0]["match"][0]["headers"]["end-user"] == {"exact": "b"}


def refused(field: str, make: Any) -> InvalidEdit:
    with pytest.raises(InvalidEdit) as caught:
        make()
    assert caught.value.field == field, caught.value.message
    return caught.value


def test_invalid_combinations_are_refused_naming_the_field() -> None:
    rule, vs = weighted()
    refused("weights", lambda: TrafficChange("weights", weights={"v1": 80, "v2": 30}))
    refused("weights.v2", lambda: TrafficChange("weights", weights={"v1": 100, "v2": -1}))
    refused("weights.v9", lambda: plan(TrafficChange("weights", weights={"v1": 50, "v9": 50}), "bookinfo", "reviews",
                                       vs, rule))  # fmt: skip
    refused("version", lambda: plan(TrafficChange("take-over", version="v7"), "bookinfo", "reviews", vs, rule))
    error = refused("version", lambda: plan(TrafficChange("mirror", version="v2", mirror_percent=10), "bookinfo",
                                            "reviews", vs, rule))  # fmt: skip
    assert "already receives" in error.message
    refused("mirror_percent", lambda: TrafficChange("mirror", version="v3", mirror_percent=150))
    refused("match.value", lambda: RequestMatch("header", "(a)\\1", "end-user", "regex"))
    refused("match.value", lambda: RequestMatch("header", "(?=x)a", "end-user", "regex"))
    refused("match.value", lambda: RequestMatch("header", "[a-", "end-user", "regex"))
    refused("match.name", lambda: RequestMatch("header", "x", "End-User"))
    refused("match.op", lambda: RequestMatch("uri", "/a", op="regex"))
    refused("match", lambda: TrafficChange("match", version="v2"))
    refused("strategy", lambda: TrafficChange("canary"))
    refused("version", lambda: plan(TrafficChange("take-over", version="v2"), "bookinfo", "reviews", None, None))


def test_mirror_needs_subset_routes_first() -> None:
    _, vs = build(TrafficChange("match", version="v2", match=RequestMatch("header", "x", "end-user"), versions=V))
    refused("version", lambda: plan(TrafficChange("mirror", version="v3", mirror_percent=5, versions=V), "bookinfo",
                                    "reviews", vs, None))  # fmt: skip


def test_hand_written_virtual_service_problems_name_the_spec_path() -> None:
    rule, vs = weighted()
    vs["spec"]["http"][0]["route"][0]["weight"] = 70  # 70 + 20: the next edit must not keep a broken split
    vs["spec"]["http"].insert(0, {"match": [{"headers": {"x": {"regex": "(?<=a)b"}}}],
                                  "route": [{"destination": {"host": "reviews", "subset": "v2"}}]})  # fmt: skip
    error = refused("spec.http[0].match[0].headers.x.regex",
                    lambda: plan(TrafficChange("mirror", version="v3", mirror_percent=1, versions=V), "bookinfo",
                                 "reviews", vs, rule))  # fmt: skip
    assert {e["field"] for e in error.extra["errors"]} >= {"spec.http[1].route"}


def test_regexes_are_checked_with_re2() -> None:
    assert regex_problem(r"^(.*?;\s*)?(user=jason)(;.*)?$") is None
    assert "RE2" in str(regex_problem(r"(\w)\1"))


def test_a_cookie_regex_alternation_stays_inside_the_cookie_value() -> None:
    wire = RequestMatch("cookie", "a|.*", "user", op="regex").to_wire()
    regex = wire["headers"]["cookie"]["regex"]
    assert regex_problem(regex) is None
    assert re2.fullmatch(regex, "session=1; user=b") and re2.fullmatch(regex, "user=a")
    assert not re2.fullmatch(regex, "session=1") and not re2.fullmatch(regex, "")  # no user cookie: not matched


def test_new_subset_names_never_collide_with_existing_ones() -> None:
    canary = {**LIVE_DR, "spec": {"host": "reviews", "subsets": [{"name": "v2", "labels": {"version": "canary"}}]}}
    rule, vs = build(TrafficChange("weights", weights={"v2": 50, "canary": 50}, versions=V), dr=canary)
    assert rule["spec"]["subsets"] == [{"name": "v2", "labels": {"version": "canary"}},
                                       {"name": "v2-2", "labels": {"version": "v2"}}]  # fmt: skip
    assert routes(vs) == [("v2-2", 50), ("v2", 50)]  # version v2 → subset v2-2; version canary → subset v2
    rule, vs = build(TrafficChange("weights", weights={"v1.0": 50, "v1-0": 50}, versions=("v1.0", "v1-0")))
    assert [(s["name"], s["labels"]["version"]) for s in rule["spec"]["subsets"]] == [("v1-0", "v1.0"),
                                                                                      ("v1-0-2", "v1-0")]
    assert routes(vs) == [("v1-0", 50), ("v1-0-2", 50)]


def test_take_over_rewrites_only_routes_forwarding_to_this_host() -> None:
    rule, vs = weighted()
    others = [
        {"name": "old-path", "match": [{"uri": {"prefix": "/old"}}], "redirect": {"uri": "/new"}},
        {"name": "teapot", "match": [{"uri": {"prefix": "/tea"}}], "directResponse": {"status": 418}},
        {"name": "ratings", "match": [{"uri": {"prefix": "/ratings"}}],
         "route": [{"destination": {"host": "ratings", "subset": "v9"}}]},
        {"name": "fqdn", "match": [{"uri": {"prefix": "/fqdn"}}],
         "route": [{"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v1"}}]},
    ]  # fmt: skip
    vs["spec"]["http"][:0] = copy.deepcopy(others)
    for strategy in ("take-over", "blue-green"):
        _, after = build(TrafficChange(strategy, version="v2", versions=V), vs, rule)
        assert after["spec"]["http"][:3] == others[:3]  # a redirect, a direct response, another host: untouched
        assert routes(after, 3) == routes(after, 4) == [("v2", 100)]


def test_hand_edited_routes_that_are_not_objects_are_refused_not_crashed() -> None:
    rule, vs = weighted()
    vs["spec"]["http"].insert(0, "not a route")
    for change in (TrafficChange("take-over", version="v2", versions=V),
                   TrafficChange("match", version="v2", match=RequestMatch("header", "x", "end-user"), versions=V)):
        refused("spec.http[0]", lambda c=change: build(c, vs, rule))  # type: ignore[misc]


# The pipeline, over a real rules directory

@pytest.fixture
def traffic(tmp_path: Path) -> TrafficService:
    return TrafficService(EditService(RulesDirectory(tmp_path / "rules"), AuditLog(tmp_path / "audit.sqlite3")))


def stored(traffic: TrafficService, plural: str) -> Any:
    assert isinstance(traffic.edits.applier, RulesDirectory)
    path = traffic.edits.applier.root / plural / "bookinfo" / "reviews.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else None


async def test_a_new_split_is_two_audit_entries_reverted_newest_first(traffic: TrafficService) -> None:
    preview = await traffic.edit("bookinfo", "reviews", TrafficChange("weights", weights={"v1": 90, "v2": 10},
                                                                      versions=V), ALICE, dry_run=True)  # fmt: skip
    assert preview.to_wire()["audit_ids"] == [] and stored(traffic, "virtualservices") is None
    result = (await traffic.edit("bookinfo", "reviews", TrafficChange("weights", weights={"v1": 90, "v2": 10},
                                                                      versions=V), ALICE, reason="canary")).to_wire()
    assert [e["target"] for e in result["edits"]] == ["DestinationRule/bookinfo/reviews",
                                                      "VirtualService/bookinfo/reviews"]  # fmt: skip
    assert result["revert_order"] == result["audit_ids"][::-1] and "+      weight: 10" in result["diff"]
    assert stored(traffic, "virtualservices")["spec"]["http"][0]["route"][1]["weight"] == 10
    again = (await traffic.edit("bookinfo", "reviews", TrafficChange("take-over", version="v2"), ALICE)).to_wire()
    assert len(again["audit_ids"]) == 1  # subsets exist already: the VirtualService alone
    for audit_id in [*again["revert_order"], *result["revert_order"]]:
        await traffic.edits.revert(audit_id, ALICE)
    assert stored(traffic, "virtualservices") is None and stored(traffic, "destinationrules") is None


async def test_a_refused_virtual_service_writes_nothing(traffic: TrafficService) -> None:
    with pytest.raises(InvalidEdit):
        await traffic.edit("bookinfo", "reviews", TrafficChange("mirror", version="v2", mirror_percent=5, versions=V),
                           ALICE)  # fmt: skip
    assert stored(traffic, "destinationrules") is None and await traffic.edits.history() == []
