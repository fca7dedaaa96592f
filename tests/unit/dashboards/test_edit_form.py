"""Circuit-breaker form builders, write credentials and the edit section, on wire fixtures."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from dashboards.components import edit_form
from dashboards.figures import circuit_breaker as cb
from dashboards.pages.edits import selected_target
from dashboards.writes import WriteAccess, edits_enabled, writes_enabled
from observe.cli import ui
from observe.errors import BadQuery
from tests.unit.dashboards.wire import load

# GET /api/v1/capabilities of a server with a rules directory and writes on (presets as the API sends them)
CAPABILITIES = {"edits": {"enabled": True, "writes": True}, "presets": {"balanced": {
    "connectionPool": {"tcp": {"maxConnections": 100, "connectTimeout": "5s"},
                       "http": {"http1MaxPendingRequests": 100, "http2MaxRequests": 100, "maxRetries": 3}},
    "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s",
                         "maxEjectionPercent": 50}}}}  # fmt: skip


def test_preset_values_fill_the_fields_and_round_trip_to_the_same_policy() -> None:
    values = cb.preset_values(CAPABILITIES, "balanced")
    assert (values["maxConnections"], values["interval"], values["consecutiveGatewayErrors"]) == (100, "10s", None)
    body = cb.edit_body("balanced", values, reason=" load test ", dry_run=True)
    assert body["spec"] == CAPABILITIES["presets"]["balanced"]  # the fields say what the preset says
    assert body["preset"] == "balanced" and body["reason"] == "load test" and body["dry_run"] is True


def test_live_rule_values_come_from_the_dry_run_answer() -> None:
    rule = load("destination_rule_dry_run.json")["object"]
    assert cb.policy_values(rule["spec"]["trafficPolicy"])["maxEjectionPercent"] == 50
    assert cb.policy_values(None)["maxConnections"] is None


def test_body_leaves_out_empty_fields_and_unknown_presets() -> None:
    body = cb.edit_body("nonsense", {"maxConnections": 1.0, "connectTimeout": "", "interval": None}, reason="",
                        dry_run=False)  # fmt: skip
    assert body == {"dry_run": False, "spec": {"connectionPool": {"tcp": {"maxConnections": 1}}}}


@pytest.mark.parametrize(("name", "value", "error"), [
    ("maxConnections", -1, "outside 0–2147483647"), ("maxConnections", 2**31, "outside"),
    ("maxConnections", 1.5, "not a whole number"), ("maxEjectionPercent", 101, "outside 0–100"),
    ("interval", "10", "not a duration"), ("connectTimeout", "soon", "not a duration"),
])  # fmt: skip
def test_field_limits_follow_the_schema(name: str, value: object, error: str) -> None:
    message = cb.field_error(name, value)
    assert message is not None and message.startswith(name) and error in message


def test_valid_fields_pass() -> None:
    assert [cb.field_error(n, v) for n, v in (("maxConnections", 0), ("interval", "1m30s"), ("baseEjectionTime", ""),
                                               ("connectTimeout", "500ms"))] == [None] * 4  # fmt: skip


def test_target_is_the_selected_node_or_the_edge_target() -> None:
    topology = load("topology_bookinfo.json")
    edge = next(e for e in topology["edges"] if e["target"].startswith("bookinfo/reviews"))
    target = selected_target(topology, "", f"{edge['source']}->{edge['target']}")
    assert target == cb.Target("bookinfo", "reviews") and target.audit_target == "DestinationRule/bookinfo/reviews"
    assert selected_target(topology, "bookinfo/nowhere/v1", "") is None
    assert cb.target_of({"kind": "workload", "namespace": "a", "workload": "w"}) is None


def test_history_rows_and_revert_buttons_only_for_writers() -> None:
    rows = cb.history_rows(load("audit_reviews.json"))
    assert [(r.id, r.action, r.result, r.reason, r.revertible) for r in rows] == [
        (1, "edit", "applied", "fixture", True)]
    assert rows[0].when.endswith("UTC")
    writer = str(edit_form.history(rows, can_revert=True))
    viewer = str(edit_form.history(rows, can_revert=False))
    assert edit_form.REVERT in writer and edit_form.REVERT not in viewer


def test_result_shows_the_diff_and_the_yaml() -> None:
    shown = str(edit_form.result(load("destination_rule_dry_run.json"), None))
    assert "+        maxConnections: 100" in shown and "kind: DestinationRule" in shown
    assert "refused" in str(edit_form.result(None, "maxConnections: refused"))


def test_credentials_never_without_a_token_or_a_forwarded_user() -> None:
    assert WriteAccess().headers({"X-Forwarded-User": "ann"}) is None  # a header the UI was not told to trust
    assert WriteAccess(token="t").headers({}) == {"X-Requested-By": "observe", "Authorization": "Bearer t"}
    forwarded = WriteAccess(token="t", forward_user_header="X-Forwarded-User").headers({"X-Forwarded-User": "ann"})
    assert forwarded == {"X-Requested-By": "observe", "X-Forwarded-User": "ann"}
    assert "token" not in repr(WriteAccess(token="secret")) and "secret" not in repr(WriteAccess(token="secret"))


def test_capabilities_gate_the_controls() -> None:
    assert writes_enabled(CAPABILITIES) and edits_enabled(CAPABILITIES)
    assert not writes_enabled({"edits": {"enabled": True, "writes": False}})
    assert not writes_enabled(None) and not edits_enabled({})


def test_ui_reads_the_write_token_from_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    secret = tmp_path / "token"
    secret.write_text("file-token\n")
    assert ui.write_token(str(secret), {"OBSERVE_WRITE_TOKEN": "env-token"}) == "file-token"
    assert ui.write_token(None, {"OBSERVE_WRITE_TOKEN": " env-token "}) == "env-token"
    assert ui.write_token(None, {}) == ""
    with pytest.raises(BadQuery, match="write token file"):
        ui.write_token(str(tmp_path / "missing"))
    parser = argparse.ArgumentParser()
    ui.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ui", "--write-token", str(secret), "--forward-user-header", "X-Forwarded-User"])
    served: dict[str, Any] = {}
    monkeypatch.setattr(ui, "configure_logging", lambda fmt: None)
    monkeypatch.setattr(ui, "_serve", lambda app, host, port, threads: served.update(app=app))
    with caplog.at_level(logging.INFO, logger="observe.ui"):
        assert args.run(args) == 0
    layout = json.dumps(served["app"].layout.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "file-token" not in layout and "file-token" not in caplog.text
    assert "writes with: user header X-Forwarded-User, token" in caplog.text
