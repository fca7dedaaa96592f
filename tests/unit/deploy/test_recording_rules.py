"""deploy/prometheus: the recording rules are valid, compute what they claim, and match observe's contract."""

from __future__ import annotations

import re
from pathlib import Path

from observe.model.ids import GraphType
from observe.sources.istio_queries import EDGE_LABELS, IDENTITY_LABELS, RESPONSE_LABELS, RULE_BUCKETS, RULE_REQUESTS
from tests.unit.deploy.helpers import (
    COMPOSE_FILE,
    PROMETHEUS_RULE_FILE,
    RULES_FILE,
    RULES_TEST_FILE,
    Obj,
    load_yaml,
    require_binary,
    run,
)

EDGE = (
    "source_workload_namespace, source_workload, source_canonical_service, source_canonical_revision, "
    "destination_workload_namespace, destination_workload, destination_canonical_service, "
    "destination_canonical_revision, destination_service, request_protocol"
)
IDENTITY = (
    "source_workload_namespace, source_canonical_service, source_canonical_revision, "
    "destination_workload_namespace, destination_canonical_service, destination_canonical_revision"
)
BUCKETS = "observe:istio_request_duration_milliseconds_bucket:rate1m"
# The contract with observe's backend (names and expressions are not to change without changing observe).
QUANTILE = f"histogram_quantile({{q}}, sum by (le, {IDENTITY}) ({BUCKETS}))"
EXPECTED = {
    "observe:istio_requests:rate1m": (
        f"sum by (reporter, {EDGE}, response_code, response_flags, connection_security_policy) "
        "(rate(istio_requests_total[1m]))"
    ),
    BUCKETS: (
        f"sum by (le, reporter, {EDGE}) "
        '(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[1m]))'
    ),
    **{
        f"observe:istio_request_duration_milliseconds:{name}:rate1m": QUANTILE.format(q=q)
        for name, q in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))
    },
}


def _rules(groups: list[Obj]) -> dict[str, str]:
    return {rule["record"]: " ".join(rule["expr"].split()) for group in groups for rule in group["rules"]}


def test_promtool_check_rules_passes() -> None:
    done = run([require_binary("promtool"), "check", "rules", str(RULES_FILE)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(EXPECTED)} rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    """Two pods' counters are summed into one edge series, per-pod labels vanish, reporter=source buckets are
    left out, and P50/P95/P99 of the merged buckets are 25/75/95 ms (observe-rules.test.yaml)."""
    done = run([require_binary("promtool"), "test", "rules", RULES_TEST_FILE.name], cwd=RULES_TEST_FILE.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_tests_catch_a_wrong_rule(tmp_path: Path) -> None:
    """A control: the unit tests fail when a rule keeps a per-pod label, so they do test the aggregation."""
    broken = RULES_FILE.read_text().replace("sum by (reporter,", "sum by (pod, reporter,", 1)
    (tmp_path / RULES_FILE.name).write_text(broken)
    (tmp_path / RULES_TEST_FILE.name).write_text(RULES_TEST_FILE.read_text())
    done = run([require_binary("promtool"), "test", "rules", RULES_TEST_FILE.name], cwd=tmp_path)
    assert done.returncode != 0


def test_rules_are_exactly_the_contract() -> None:
    assert _rules(load_yaml(RULES_FILE)["groups"]) == EXPECTED


def test_rule_names_and_labels_are_the_ones_observe_reads() -> None:
    rules = _rules(load_yaml(RULES_FILE)["groups"])
    assert {RULE_REQUESTS, RULE_BUCKETS} <= set(rules)

    def by_labels(expr: str) -> set[str]:
        match = re.search(r"by \(([^)]*)\)", expr)
        assert match is not None
        return {label.strip() for label in match.group(1).split(",")}

    # Every graph type observe can draw from the rules must find its labels in them.
    needed = {label for labels in EDGE_LABELS.values() for label in labels} | set(RESPONSE_LABELS)
    assert needed <= by_labels(rules[RULE_REQUESTS])
    response_only = {"response_code", "response_flags", "connection_security_policy"}
    assert needed - response_only <= by_labels(rules[RULE_BUCKETS])
    quantile = rules["observe:istio_request_duration_milliseconds:p99:rate1m"]
    assert by_labels(quantile) == {"le", *IDENTITY_LABELS[GraphType.VERSIONED_APP]}


def test_prometheus_rule_holds_the_same_rules_as_the_plain_file() -> None:
    resource = load_yaml(PROMETHEUS_RULE_FILE)
    assert (resource["apiVersion"], resource["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    plain = load_yaml(RULES_FILE)["groups"]
    assert resource["spec"]["groups"] == plain  # same groups, order, names and expressions, byte for byte


def test_compose_prometheus_loads_these_rules() -> None:
    prometheus = load_yaml(COMPOSE_FILE)["services"]["prometheus"]
    mounts = [v.split(":") for v in prometheus["volumes"]]
    assert ["./deploy/prometheus/observe-rules.yaml", "/etc/prometheus/rules/observe-rules.yaml", "ro"] in mounts
