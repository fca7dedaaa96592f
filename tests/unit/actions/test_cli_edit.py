"""`observe edit circuit-breaker`, `observe audit`, `observe revert` against a rules directory."""

import argparse
from pathlib import Path

import pytest
import yaml

from observe.cli import edit
from observe.errors import ObserveError


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    edit.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_dry_run_yaml_prints_the_rule_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules, db = tmp_path / "rules", str(tmp_path / "a.db")
    code = run(["edit", "circuit-breaker", "bookinfo/reviews", "--set", "connectionPool.tcp.maxConnections=1",
                "--set", "connectionPool.http.http1MaxPendingRequests=1", "--dry-run", "-o", "yaml",
                "--rules-dir", str(rules), "--audit-db", db])  # fmt: skip
    printed = yaml.safe_load(capsys.readouterr().out)
    assert code == 0 and printed["kind"] == "DestinationRule"
    assert printed["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 1
    assert not (rules / "destinationrules").exists()


def test_apply_audit_revert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--rules-dir", str(tmp_path / "rules"), "--audit-db", str(tmp_path / "a.db")]
    assert run(["edit", "circuit-breaker", "bookinfo/reviews", "--preset", "balanced", "--reason", "cli", *where]) == 0
    assert "maxConnections: 100" in capsys.readouterr().out
    assert (tmp_path / "rules/destinationrules/bookinfo/reviews.yaml").exists()
    run(["audit", "--audit-db", str(tmp_path / "a.db")])
    assert "DestinationRule/bookinfo/reviews\tapplied\tcli" in capsys.readouterr().out
    assert run(["revert", "1", *where]) == 0
    assert not (tmp_path / "rules/destinationrules/bookinfo/reviews.yaml").exists()


def test_refused_value_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ObserveError) as info:
        run(["edit", "circuit-breaker", "bookinfo/reviews", "--set", "outlierDetection.maxEjectionPercent=250",
             "--rules-dir", str(tmp_path), "--audit-db", str(tmp_path / "a.db")])  # fmt: skip
    assert info.value.field == "spec.trafficPolicy.outlierDetection.maxEjectionPercent"
    assert "maxEjectionPercent" in info.value.message
