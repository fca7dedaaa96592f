"""The incident-review endpoints over fake Prometheus answers: diff, snapshots, report, annotations."""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from observe.actions.audit import AuditEntry, AuditLog, Result
from observe.api.app import create_app
from observe.errors import QueryRejected
from observe.model.samples import RangeSeries, VectorSample
from observe.services import snapshots
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import bookinfo_rates

NOW = 1_800_000_000.0
BEFORE, SPIKE = NOW - 7200, NOW - 3600
ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
V2 = ("bookinfo/productpage/v1", "bookinfo/reviews/v2")


def spiked() -> list[VectorSample]:
    """Bookinfo with reviews-v2 answering 500 to 2.5 of its 3 rps."""
    out = []
    for s in bookinfo_rates():
        if s.labels.get("destination_workload") == "reviews-v2":
            s = VectorSample(s.labels, 0.5 if s.labels["response_code"] == "200" else 2.5)
        out.append(s)
    return out


@dataclass
class FakeHistory(FakeMetricsSource):
    """FakeMetricsSource whose instant answers depend on the instant: `spike_at` answers with the spike,
    `reject_at` refuses the query (as Prometheus does past its sample limit)."""

    spike_at: float = SPIKE
    reject_at: set[float] = field(default_factory=set)

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        if at in self.reject_at:
            raise QueryRejected(self.name, "query processing would load too many samples")
        answer = await super().query(promql, at, timeout_s)
        return spiked() if at == self.spike_at and "histogram_quantile" not in promql else answer


@pytest.fixture
def source() -> FakeHistory:
    series = [RangeSeries(s.labels, ((SPIKE - 60, s.value), (SPIKE, s.value))) for s in spiked()]
    return FakeHistory(rates=bookinfo_rates(), range_rates=series)


async def make(aiohttp_client: ClientFactory, settings: Settings, source: FakeHistory) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(settings, metrics_source=source, clock=lambda: NOW))


@pytest.fixture
async def client(aiohttp_client: ClientFactory, source: FakeHistory, tmp_path: Path) -> TestClient:  # type: ignore[type-arg]
    settings = Settings(data_dir=str(tmp_path / "state"), audit_db=str(tmp_path / "audit.sqlite3"))
    return await make(aiohttp_client, settings, source)


async def test_diff_ranks_the_spiking_edge_first(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/diff", params={"a_at": str(BEFORE), "b_at": str(SPIKE), "window": "5m"})
    assert response.status == 200
    body = await response.json()
    top = body["edges"][0]
    assert (top["source"], top["target"], top["status"]) == (*V2, "both")
    assert top["lost_rps"] == pytest.approx(1.9) and top["delta"]["success_rate"] == pytest.approx(-0.63333, abs=1e-4)
    assert body["missing"] == [] and body["a"]["complete"] and body["b"]["complete"]
    assert (body["a"]["at"], body["b"]["at"], body["window_s"]) == (BEFORE, SPIKE, 300)


@pytest.mark.parametrize(("query", "field", "words"), [
    ("b_at=1799990000", "a_at", "required"),
    ("a_at=yesterday", "a_at", "RFC 3339"),
    (f"a_at={BEFORE}&b_at=soon", "b_at", "RFC 3339"),
    (f"a_at={BEFORE}&b_at={NOW + 3600}", "b_at", "in the future"),
    (f"a_at={BEFORE}&b_at={BEFORE}", "b_at", "same instant"),
    (f"a_at={BEFORE}&window=1s", "window", "between 5s and 30d"),
    (f"a_at={BEFORE}&at={BEFORE}", "at", "unknown parameter"),
])  # fmt: skip
async def test_diff_validation_names_the_field(
    client: TestClient, query: str, field: str, words: str  # type: ignore[type-arg]
) -> None:
    response = await client.get(f"/api/v1/diff?{query}")
    error = (await response.json())["error"]
    assert response.status == 400 and error["field"] == field and words in error["message"]


async def test_diff_is_partial_when_one_side_fails(client: TestClient, source: FakeHistory) -> None:  # type: ignore[type-arg]
    source.reject_at = {BEFORE}
    body = await (await client.get("/api/v1/diff", params={"a_at": str(BEFORE), "b_at": str(SPIKE)})).json()
    assert {m["side"] for m in body["missing"]} == {"a"} and "too many samples" in body["missing"][0]["error"]
    assert not body["a"]["complete"] and body["b"]["complete"]
    assert {e["status"] for e in body["edges"]} == {"unknown"} and body["nodes"]["added"] == []


async def test_snapshot_roundtrip_and_listing(client: TestClient) -> None:  # type: ignore[type-arg]
    created = await client.post("/api/v1/snapshots", json={"title": "reviews-v2 outage", "window": "5m",
                                                            "at": SPIKE, "notes": "paged at 14:03"})  # fmt: skip
    assert created.status == 201
    summary = await created.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", summary["id"]) and created.headers["Location"] == summary["links"]["self"]
    got = await client.get(summary["links"]["self"])
    doc = await got.json()
    assert (doc["title"], doc["at"], doc["window_s"]) == ("reviews-v2 outage", SPIKE, 300)
    assert doc["notes"] == "paged at 14:03"
    edge = next(e for e in doc["topology"]["edges"] if (e["source"], e["target"]) == V2)
    assert edge["health"] == "failing"
    assert any((s["source"], s["target"]) == V2 for s in doc["series"])
    assert doc["audit"] is None and doc["compare"] == []  # no audit log configured or present
    again = await client.get(summary["links"]["self"])
    assert await again.read() == await got.read()  # served byte for byte as stored
    listed = await (await client.get("/api/v1/snapshots")).json()
    assert [s["id"] for s in listed["snapshots"]] == [summary["id"]]


async def test_snapshot_keeps_the_comparisons_asked_for(client: TestClient) -> None:  # type: ignore[type-arg]
    body = {"title": "canary", "at": SPIKE, "namespace": "bookinfo",
            "compare": [{"service": "reviews", "baseline": "v1", "canary": "v2"}]}  # fmt: skip
    summary = await (await client.post("/api/v1/snapshots", json=body)).json()
    doc = await (await client.get(summary["links"]["self"])).json()
    [result] = doc["compare"]
    assert (result["baseline"], result["canary"], result["as_of"]) == ("v1", "v2", SPIKE) and result["verdict"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"title": "t", "window": "3x"}, "window"),
    ({"title": "t", "at": NOW + 7200}, "at"),
    ({"title": "t", "namespace": "Bad_NS"}, "namespace"),
    ({"title": "t", "colour": "red"}, "colour"),
    ({"title": "t", "compare": [{"service": "reviews", "baseline": "v1", "canary": "v1"}], "namespace": "bookinfo"},
     "canary"),
])  # fmt: skip
async def test_snapshot_validation(client: TestClient, body: dict[str, Any], field: str) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/snapshots", json=body)
    assert response.status == 400 and (await response.json())["error"]["field"] == field


async def test_snapshot_needs_json_and_unknown_ids_are_404(client: TestClient) -> None:  # type: ignore[type-arg]
    form = await client.post("/api/v1/snapshots", data="title=x", headers={"Content-Type": "text/plain"})
    assert form.status == 415
    for tail in ("AAAAAAAAAAAAAAAA", "..%2F..%2Fetc", "x/report.html"):
        path = f"/api/v1/snapshots/{tail}"
        assert (await client.get(path)).status == 404


async def test_snapshots_are_off_without_a_data_dir(aiohttp_client: ClientFactory, source: FakeHistory) -> None:
    client = await make(aiohttp_client, Settings(), source)
    response = await client.post("/api/v1/snapshots", json={"title": "t"})
    error = (await response.json())["error"]
    assert response.status == 501 and error["code"] == "not_enabled" and "--data-dir" in error["message"]
    annotations = await (await client.get("/api/v1/annotations")).json()
    assert annotations["sources"] == {"audit": False, "snapshots": False} and annotations["annotations"] == []


async def test_report_is_self_contained_and_escapes_the_title(client: TestClient) -> None:  # type: ignore[type-arg]
    title = "<script>alert(1)</script> & outage"
    summary = await (await client.post("/api/v1/snapshots", json={"title": title, "at": SPIKE})).json()
    response = await client.get(summary["links"]["report"])
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; outage" in page
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # the markup, without inlined plotly.js
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", markup) and "http" not in markup.replace("http-equiv", "")
    assert "<td>bookinfo/productpage/v1</td><td>bookinfo/reviews/v2</td>" in page
    assert "Plotly.newPlot" in page


async def test_annotations_list_edits_and_snapshots_in_range(
    aiohttp_client: ClientFactory, source: FakeHistory, tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite3")
    entry = AuditEntry(None, SPIKE - 30, "alice", "token", None, "edit", "DestinationRule/bookinfo/reviews",
                       Result.APPLIED, "cap connections")  # fmt: skip
    await audit.record(entry)
    await audit.record(replace(entry, ts=SPIKE - 20, result=Result.DENIED))  # not an annotation: nothing changed
    await audit.record(replace(entry, ts=SPIKE - 10, target="DestinationRule/shop/cart"))
    settings = Settings(data_dir=str(tmp_path / "state"), audit_db=str(tmp_path / "audit.sqlite3"))
    client = await make(aiohttp_client, settings, source)
    snap = await (await client.post("/api/v1/snapshots", json={"title": "incident", "at": SPIKE, "window": "5m",
                                                               "namespace": "bookinfo"})).json()  # fmt: skip
    doc = json.loads(await (await client.get(snap["links"]["self"])).text())
    assert [a["target"] for a in doc["audit"]] == ["DestinationRule/bookinfo/reviews"] * 2  # the window's entries
    response = await client.get("/api/v1/annotations",
                                params={"from": str(SPIKE - 600), "to": str(SPIKE), "namespace": "bookinfo"})
    body = await response.json()
    assert [(a["time"], a["kind"], a["target"]) for a in body["annotations"]] == [
        (SPIKE - 30, "edit", "DestinationRule/bookinfo/reviews"), (SPIKE, "snapshot", "bookinfo")]
    assert body["annotations"][1]["link"] == snap["links"]["self"]
    bad = await client.get("/api/v1/annotations", params={"from": str(SPIKE), "to": str(SPIKE - 60)})
    assert bad.status == 400 and (await bad.json())["error"]["field"] == "from"


async def in_pieces(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
        await asyncio.sleep(0.02)  # separate writes, as a slow network delivers a body


async def test_snapshot_body_arriving_in_pieces_is_read_whole(client: TestClient) -> None:  # type: ignore[type-arg]
    raw = json.dumps({"title": "sent slowly", "at": SPIKE, "notes": "n" * 3000}).encode()
    response = await client.post("/api/v1/snapshots", data=in_pieces(raw[:7], raw[7:2000], raw[2000:]),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status == 201, await response.text()
    doc = await (await client.get((await response.json())["links"]["self"])).json()
    assert doc["notes"] == "n" * 3000


async def test_deeply_nested_snapshot_body_is_400(client: TestClient) -> None:  # type: ignore[type-arg]
    deep = '{"title": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = await client.post("/api/v1/snapshots", data=deep, headers={"Content-Type": "application/json"})
    error = (await response.json())["error"]
    assert response.status == 400 and error["field"] == "body" and "nested" in error["message"]


async def test_snapshot_creations_are_rate_limited(client: TestClient) -> None:  # type: ignore[type-arg]
    statuses = [(await client.post("/api/v1/snapshots", json={"title": f"s{i}", "at": SPIKE})).status
                for i in range(snapshots.MAX_CREATIONS_PER_MINUTE)]  # fmt: skip
    refused = await client.post("/api/v1/snapshots", json={"title": "one more", "at": SPIKE})
    error = (await refused.json())["error"]
    assert statuses == [201] * snapshots.MAX_CREATIONS_PER_MINUTE
    assert refused.status == 429 and refused.headers["Retry-After"] == "60" and error["retry_after_s"] == 60
    assert len((await (await client.get("/api/v1/snapshots")).json())["snapshots"]) == len(statuses)


async def test_report_sends_its_csp_as_a_header(client: TestClient) -> None:  # type: ignore[type-arg]
    summary = await (await client.post("/api/v1/snapshots", json={"title": "t", "at": SPIKE})).json()
    response = await client.get(summary["links"]["report"])
    page = await response.text()
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and f'content="{csp}"' in page


async def test_snapshot_audit_is_read_by_time_not_from_the_newest_entries(
    aiohttp_client: ClientFactory, source: FakeHistory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "MAX_AUDIT_ENTRIES", 2)
    audit = AuditLog(tmp_path / "audit.sqlite3")
    entry = AuditEntry(None, SPIKE - 30, "alice", "token", None, "edit", "DestinationRule/bookinfo/reviews",
                       Result.APPLIED, "cap connections")  # fmt: skip
    await audit.record(entry)
    for i in range(3):  # newer than the window: the old code read only the newest MAX entries
        await audit.record(replace(entry, ts=NOW - i, reason=f"later {i}"))
    client = await make(aiohttp_client, Settings(data_dir=str(tmp_path / "state"),
                                                 audit_db=str(tmp_path / "audit.sqlite3")), source)  # fmt: skip
    snap = await (await client.post("/api/v1/snapshots", json={"title": "t", "at": SPIKE, "window": "5m"})).json()
    doc = await (await client.get(snap["links"]["self"])).json()
    assert [a["reason"] for a in doc["audit"]] == ["cap connections"]
    notes = await (await client.get("/api/v1/annotations", params={"from": str(SPIKE - 600), "to": str(SPIKE)})).json()
    assert [n["kind"] for n in notes["annotations"]] == ["edit", "snapshot"]
