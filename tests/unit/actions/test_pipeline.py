"""The edit pipeline over a real rules directory: merge, diff, dry run, conflicts, audit, revert."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.actions.audit import Actor, AuditLog, Result
from observe.actions.destination_rules import PolicyChange
from observe.actions.files import RulesDirectory
from observe.errors import Conflict, InvalidEdit, NotFound
from observe.services.edits import EditService

ALICE = Actor("alice", "token")
LIVE = {
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
    "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"team": "books"}, "resourceVersion": "7"},
    "spec": {"host": "reviews", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
             "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]},
}  # fmt: skip
POOL = {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}


@pytest.fixture
def rules(tmp_path: Path) -> RulesDirectory:
    path = tmp_path / "rules" / "destinationrules" / "bookinfo" / "reviews.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(LIVE))
    return RulesDirectory(tmp_path / "rules")


@pytest.fixture
def service(rules: RulesDirectory, tmp_path: Path) -> EditService:
    return EditService(rules, AuditLog(tmp_path / "audit.sqlite3"), clock=lambda: 1000.0)


def stored(rules: RulesDirectory) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((rules.root / "destinationrules/bookinfo/reviews.yaml").read_text())
    return loaded


async def test_edit_merges_keeping_subsets_and_unrelated_fields(service: EditService, rules: RulesDirectory) -> None:
    result = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE,
                                                 reason="load test")  # fmt: skip
    obj = stored(rules)
    assert result.applied and result.audit_id is not None
    assert obj["spec"]["subsets"] == LIVE["spec"]["subsets"]
    assert obj["spec"]["trafficPolicy"]["loadBalancer"] == {"simple": "ROUND_ROBIN"}
    assert obj["spec"]["trafficPolicy"]["connectionPool"]["tcp"] == {"maxConnections": 1}
    assert obj["metadata"]["labels"] == {"team": "books"} and obj["metadata"]["resourceVersion"] == "8"
    assert "+    connectionPool:" in result.diff and "+        maxConnections: 1" in result.diff


async def test_subset_edit_changes_only_that_subset(service: EditService, rules: RulesDirectory) -> None:
    await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="aggressive", subset="v2"), ALICE)
    subsets = stored(rules)["spec"]["subsets"]
    assert "trafficPolicy" not in subsets[0]
    assert subsets[1]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 3
    with pytest.raises(InvalidEdit) as info:
        await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="balanced", subset="v9"), ALICE)
    assert info.value.field == "subset"


async def test_dry_run_writes_nothing_and_is_not_audited(service: EditService, rules: RulesDirectory) -> None:
    before = (rules.root / "destinationrules/bookinfo/reviews.yaml").read_bytes()
    result = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="balanced"), ALICE,
                                                 dry_run=True)  # fmt: skip
    assert result.dry_run and not result.applied and result.audit_id is None
    assert result.object is not None and result.object["spec"]["trafficPolicy"]["connectionPool"]["tcp"]
    assert (rules.root / "destinationrules/bookinfo/reviews.yaml").read_bytes() == before
    assert await service.history() == []


async def test_invalid_edit_writes_nothing(service: EditService, rules: RulesDirectory) -> None:
    with pytest.raises(InvalidEdit) as info:
        await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(
            values={"outlierDetection": {"maxEjectionPercent": 300}}), ALICE)  # fmt: skip
    assert info.value.field == "spec.trafficPolicy.outlierDetection.maxEjectionPercent"
    assert stored(rules) == LIVE


async def test_stale_write_conflicts_with_the_fresh_object(rules: RulesDirectory) -> None:
    stale = dict(LIVE, metadata={**LIVE["metadata"], "resourceVersion": "6"})
    with pytest.raises(Conflict) as info:
        await rules.apply(stale, stale)
    assert info.value.status == 409 and info.value.extra["object"]["metadata"]["resourceVersion"] == "7"
    with pytest.raises(Conflict):
        await rules.apply(LIVE, None)  # creating what exists


async def test_concurrent_edits_one_wins_the_other_conflicts(service: EditService) -> None:
    live = await service.get_destination_rule("bookinfo", "reviews")
    first = dict(live, spec={**live["spec"], "host": "reviews"})
    await service.applier.apply(first, live)
    with pytest.raises(Conflict):
        await service.applier.apply(first, live)


async def test_create_new_rule_and_atomic_file(service: EditService, rules: RulesDirectory) -> None:
    with pytest.raises(NotFound):
        await service.get_destination_rule("bookinfo", "ratings")
    await service.edit_destination_rule("bookinfo", "ratings", PolicyChange(preset="conservative"), ALICE)
    path = rules.root / "destinationrules/bookinfo/ratings.yaml"
    assert yaml.safe_load(path.read_text())["metadata"]["resourceVersion"] == "1"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


async def test_audit_and_revert_restore_and_are_audited(service: EditService, rules: RulesDirectory) -> None:
    edit = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE, reason="x")
    assert edit.audit_id is not None
    entry = (await service.history(target="DestinationRule/bookinfo/reviews"))[0]
    assert (entry.actor, entry.result, entry.reason, entry.ts) == ("alice", Result.APPLIED, "x", 1000.0)
    assert entry.before == LIVE and entry.after is not None
    revert = await service.revert(edit.audit_id, Actor("bob", "header"))
    restored = stored(rules)
    assert restored["spec"] == LIVE["spec"] and restored["metadata"]["resourceVersion"] == "9"
    latest = (await service.history())[0]
    assert latest.id == revert.audit_id and latest.action == "revert" and latest.reverts == edit.audit_id
    assert latest.actor == "bob"


async def test_revert_refuses_when_changed_since_unless_forced(service: EditService, rules: RulesDirectory) -> None:
    first = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE)
    await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="balanced"), ALICE)
    assert first.audit_id is not None
    with pytest.raises(Conflict) as info:
        await service.revert(first.audit_id, ALICE)
    assert info.value.extra["object"]["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 100
    await service.revert(first.audit_id, ALICE, force=True)
    assert stored(rules)["spec"] == LIVE["spec"]


async def test_revert_of_a_creation_deletes(service: EditService, rules: RulesDirectory) -> None:
    created = await service.edit_destination_rule("bookinfo", "ratings", PolicyChange(preset="balanced"), ALICE)
    assert created.audit_id is not None
    await service.revert(created.audit_id, ALICE)
    assert not (rules.root / "destinationrules/bookinfo/ratings.yaml").exists()


async def test_audit_log_is_safe_under_concurrent_writers(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.sqlite3")
    service = EditService(RulesDirectory(tmp_path / "r"), log)
    ids = await asyncio.gather(*(service.record_denial(ALICE, "POST", f"t{i}", "no") for i in range(20)))
    assert sorted(ids) == list(range(1, 21))
    assert len(await log.entries(limit=100)) == 20
