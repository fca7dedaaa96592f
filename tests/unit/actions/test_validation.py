"""Presets and custom edits validate against Istio's CRD schema; invalid edits are refused naming the field."""

from typing import Any

import pytest

from observe.actions.destination_rules import PRESETS, PolicyChange, apply_policy_change, rule_ref
from observe.actions.merge import merge_patch, parse_set
from observe.actions.resources import DESTINATION_RULE
from observe.actions.validation import problems, validate
from observe.errors import InvalidEdit

REF = rule_ref("bookinfo", "reviews")
TP = "spec.trafficPolicy"


def built(values: dict[str, Any] | None = None, preset: str | None = "balanced") -> dict[str, Any]:
    return apply_policy_change(None, REF, "reviews", PolicyChange(preset=preset, values=values or {}))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_valid(preset: str) -> None:
    obj = built(preset=preset)
    assert problems(obj, DESTINATION_RULE) == []
    assert obj["spec"]["trafficPolicy"]["outlierDetection"] == PRESETS[preset].outlier_detection.to_wire()


@pytest.mark.parametrize("values", [
    {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
    {"connectionPool": {"tcp": {"connectTimeout": "250ms", "tcpKeepalive": {"time": "7200s", "interval": "75s",
                                                                            "probes": 9}}}},
    {"connectionPool": {"http": {"idleTimeout": "1h", "h2UpgradePolicy": "UPGRADE", "maxRequestsPerConnection": 1}}},
    {"outlierDetection": {"consecutive5xxErrors": 0, "consecutiveGatewayErrors": 3, "interval": "1s",
                          "baseEjectionTime": "1m30s", "maxEjectionPercent": 100, "minHealthPercent": 0}},
    {"connectionPool": {"http": {"maxRetries": 0, "http2MaxRequests": 2147483647}}},
    {"loadBalancer": {"simple": "LEAST_REQUEST"}},
])  # fmt: skip
def test_custom_edits_are_valid(values: dict[str, Any]) -> None:
    validate(built(values, preset=None), DESTINATION_RULE)


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"connectionPool": {"tcp": {"maxConnections": -1}}}, f"{TP}.connectionPool.tcp.maxConnections"),
    ({"connectionPool": {"tcp": {"maxConnections": "many"}}}, f"{TP}.connectionPool.tcp.maxConnections"),
    ({"connectionPool": {"tcp": {"maxConnections": 2**31}}}, f"{TP}.connectionPool.tcp.maxConnections"),
    ({"connectionPool": {"tcp": {"maxConection": 1}}}, f"{TP}.connectionPool.tcp.maxConection"),
    ({"connectionPool": {"tcp": {"connectTimeout": "0s"}}}, f"{TP}.connectionPool.tcp.connectTimeout"),
    ({"connectionPool": {"tcp": {"connectTimeout": "soon"}}}, f"{TP}.connectionPool.tcp.connectTimeout"),
    ({"connectionPool": {"tcp": {"connectTimeout": "1.5ms"}}}, f"{TP}.connectionPool.tcp.connectTimeout"),
    ({"connectionPool": {"tcp": {"tcpKeepalive": {"probes": -2}}}}, f"{TP}.connectionPool.tcp.tcpKeepalive.probes"),
    ({"connectionPool": {"tcp": {"tcpKeepalive": {"interval": "500us"}}}},
     f"{TP}.connectionPool.tcp.tcpKeepalive.interval"),
    ({"connectionPool": {"http": {"http1MaxPendingRequests": -5}}},
     f"{TP}.connectionPool.http.http1MaxPendingRequests"),
    ({"connectionPool": {"http": {"http2MaxRequests": -1}}}, f"{TP}.connectionPool.http.http2MaxRequests"),
    ({"connectionPool": {"http": {"maxRetries": -1}}}, f"{TP}.connectionPool.http.maxRetries"),
    ({"connectionPool": {"http": {"maxRequestsPerConnection": 1.5}}},
     f"{TP}.connectionPool.http.maxRequestsPerConnection"),
    ({"connectionPool": {"http": {"idleTimeout": "-1s"}}}, f"{TP}.connectionPool.http.idleTimeout"),
    ({"connectionPool": {"http": {"h2UpgradePolicy": "ALWAYS"}}}, f"{TP}.connectionPool.http.h2UpgradePolicy"),
    ({"connectionPool": {"http": {"useClientProtocol": True, "h2UpgradePolicy": "UPGRADE"}}},
     f"{TP}.connectionPool.http.h2UpgradePolicy"),
    ({"connectionPool": {}}, f"{TP}.connectionPool"),
    ({"outlierDetection": {"maxEjectionPercent": 101}}, f"{TP}.outlierDetection.maxEjectionPercent"),
    ({"outlierDetection": {"maxEjectionPercent": -1}}, f"{TP}.outlierDetection.maxEjectionPercent"),
    ({"outlierDetection": {"minHealthPercent": 150}}, f"{TP}.outlierDetection.minHealthPercent"),
    ({"outlierDetection": {"consecutive5xxErrors": -3}}, f"{TP}.outlierDetection.consecutive5xxErrors"),
    ({"outlierDetection": {"consecutiveGatewayErrors": 2**32}}, f"{TP}.outlierDetection.consecutiveGatewayErrors"),
    ({"outlierDetection": {"interval": "0ms"}}, f"{TP}.outlierDetection.interval"),
    ({"outlierDetection": {"baseEjectionTime": "30"}}, f"{TP}.outlierDetection.baseEjectionTime"),
    ({"outlierDetection": {"consecutiveLocalOriginFailures": 3}},
     f"{TP}.outlierDetection.consecutiveLocalOriginFailures"),
    ({"outlierDetection": {"ejectAfter": 3}}, f"{TP}.outlierDetection.ejectAfter"),
    ({"circuitBreaker": {"max": 1}}, f"{TP}.circuitBreaker"),
    ({"portLevelSettings": [{"port": {"number": 9080}, "outlierDetection": {"maxEjectionPercent": 200}}]},
     f"{TP}.portLevelSettings[0].outlierDetection.maxEjectionPercent"),
]  # fmt: skip


@pytest.mark.parametrize(("values", "field"), INVALID, ids=[f for _, f in INVALID])
def test_invalid_edit_refused_naming_the_field(values: dict[str, Any], field: str) -> None:
    obj = built(values, preset=None)
    with pytest.raises(InvalidEdit) as info:
        validate(obj, DESTINATION_RULE)
    assert field in {e["field"] for e in info.value.extra["errors"]}
    assert info.value.field is not None and info.value.field.startswith(TP)
    assert field.rsplit(".", 1)[-1].split("[")[0] in str(info.value.extra["errors"])


def test_at_least_twenty_invalid_cases() -> None:
    assert len(INVALID) >= 20


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda o: o["spec"].update(host=""), "spec.host"),
    (lambda o: o["spec"].pop("host"), "spec"),
    (lambda o: o["spec"].update(subsets=[{"name": "v1", "labels": {"version": "v1"}}, {"name": "v1"}]),
     "spec.subsets[1].name"),
    (lambda o: o["spec"].update(subsets=[{"name": "V_1"}]), "spec.subsets[0].name"),
    (lambda o: o["spec"].update(subsets=[{"labels": {"version": "v1"}}]), "spec.subsets[0]"),
    (lambda o: o["metadata"].update(name="Reviews!"), "metadata.name"),
    (lambda o: o.update(kind="VirtualService"), "kind"),
    (lambda o: o.update(extra=1), "extra"),
    (lambda o: o["spec"].update(workloadSelector={"matchLabels": {"app": "a*"}}),
     "spec.workloadSelector.matchLabels.app"),
])  # fmt: skip
def test_envelope_and_webhook_rules(mutate: Any, field: str) -> None:
    obj = built()
    mutate(obj)
    assert field in {e.path for e in problems(obj, DESTINATION_RULE)}


def test_error_message_names_field_and_value() -> None:
    with pytest.raises(InvalidEdit) as info:
        validate(built({"outlierDetection": {"maxEjectionPercent": 101}}), DESTINATION_RULE)
    assert info.value.field == f"{TP}.outlierDetection.maxEjectionPercent"
    assert "maxEjectionPercent" in info.value.message and "101" in info.value.message
    assert info.value.to_wire()["error"]["code"] == "invalid_edit"


def test_parse_set_reads_scalars_by_type() -> None:
    assert parse_set("connectionPool.tcp.maxConnections=1") == {"connectionPool": {"tcp": {"maxConnections": 1}}}
    assert parse_set("trafficPolicy.outlierDetection.interval=10s") == {"outlierDetection": {"interval": "10s"}}
    assert parse_set("connectionPool.http.h2UpgradePolicy=UPGRADE")["connectionPool"]["http"] == {
        "h2UpgradePolicy": "UPGRADE"}
    assert parse_set("outlierDetection=null") == {"outlierDetection": None}
    with pytest.raises(InvalidEdit) as info:
        parse_set("maxConnections")
    assert info.value.field == "set"


def test_merge_patch_null_deletes_and_lists_replace() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]}, {"a": None, "b": {"c": 5}, "l": [3]}) == {
        "b": {"c": 5, "d": 3}, "l": [3]}
