"""Incident review in the UI, pure parts: URL keys, replay frames and stable positions, the review bar's logic,
the diff graph and table, annotation marks, and the snapshots list — on the wire fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dash import html

from dashboards.app import create_app
from dashboards.backend import Answer, Backend
from dashboards.figures import annotations, diff, replay
from dashboards.figures import series as charts
from dashboards.pages import review
from dashboards.pages.diff import change_table, instants
from dashboards.pages.shell import page_of
from dashboards.pages.snapshots import reopen_href, snapshot_table
from dashboards.state import DEFAULT, ViewState, parse_query, to_query
from tests.unit.dashboards.wire import load

AT = "2026-11-23T10:00:00Z"
AT_S = datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp()
NOW = AT_S + 7200 + 42.5  # two hours later, mid-minute


# ---- URL keys ---------------------------------------------------------------------------------------------
def test_review_keys_round_trip() -> None:
    state = ViewState(at=AT, replay_from="2026-11-23T09:00:00Z", replay_step="5m", diff="1795410465",
                      snapshot="Sn4pSh0tReviewV2")  # fmt: skip
    query = to_query(state)
    assert parse_query(query) == state
    assert "replay_from=2026-11-23T09%3A00%3A00Z" in query and "replay_step=5m" in query and "diff=1795410465" in query


@pytest.mark.parametrize(("query", "field", "value"), [
    ("replay_from=an-hour-ago", "replay_from", ""),
    ("replay_step=2m", "replay_step", "1m"),
    ("replay_step=5m", "replay_step", "5m"),
    ("diff=yesterday", "diff", ""),
    ("diff=2026-11-23T09:00:00%2B01:00", "diff", "2026-11-23T09:00:00+01:00"),
    ("snapshot=../../etc/passwd", "snapshot", ""),
    ("snapshot=" + "a" * 65, "snapshot", ""),
])  # fmt: skip
def test_bad_review_values_fall_back_to_defaults(query: str, field: str, value: Any) -> None:
    assert getattr(parse_query(query), field) == value


def test_review_pages() -> None:
    assert page_of("/diff") == "diff" and page_of("/snapshots/") == "snapshots" and page_of("/other") == "topology"


# ---- replay -------------------------------------------------------------------------------------------------
def test_instants_in_both_url_forms() -> None:
    assert replay.instant_seconds("1795414065") == 1795414065.0
    assert replay.instant_seconds(AT) == AT_S
    assert replay.instant_seconds("2026-11-23T11:00:00+01:00") == AT_S
    assert replay.instant_seconds("") is None and replay.instant_seconds("soon") is None
    assert replay.rfc3339(AT_S + 0.9) == AT


def test_frames_cover_the_hour_and_are_bounded() -> None:
    one = replay.frames(AT_S, 60)
    assert len(one) == 61 and one[0] == AT_S and one[-1] == AT_S + 3600
    assert len(replay.frames(AT_S, 300)) == 13
    assert len(replay.frames(AT_S, 1)) == replay.MAX_FRAMES  # a tiny step never makes an endless slider
    assert replay.frame_index(one, AT_S + 125) == 2 and replay.frame_index(one, None) == 60
    assert replay.frame_index([], AT_S) == 0


def test_windows_in_seconds_and_back() -> None:
    assert replay.window_seconds("5m") == 300 and replay.window_seconds("1d") == 86400
    assert replay.window_name(300.0) == "5m" and replay.window_name(290.0) == "5m" and replay.window_name(1e9) == "1d"


def test_a_replay_keeps_positions_when_an_edge_comes_and_goes() -> None:
    full = load("topology_bookinfo.json")
    thinner = {**full, "edges": [e for e in full["edges"] if e["target"] != "bookinfo/svc/reviews"],
               "nodes": [n for n in full["nodes"] if n["id"] != "bookinfo/svc/reviews"]}  # fmt: skip
    memory = replay.remember(None, "k", full)
    before = replay.remembered_positions(memory)
    memory = replay.remember(memory, "k", thinner)
    assert replay.remembered_positions(memory) == before  # the node that went quiet keeps its place, and so do all
    assert set(memory["nodes"]) == {n["id"] for n in full["nodes"]}
    grown = replay.remembered_positions(replay.remember(replay.remember(None, "k", thinner), "k", full))
    placed = replay.remembered_positions(replay.remember(None, "k", thinner))
    assert {n: grown[n] for n in placed} == placed  # a node seen later never moves the others…
    newcomer = grown["bookinfo/svc/reviews"]
    assert all(abs(newcomer[0] - x) >= 45 or abs(newcomer[1] - y) >= 45 for x, y in placed.values())  # …nor sits on one
    fresh = replay.remember(memory, "another replay", thinner)
    assert "bookinfo/svc/reviews" not in fresh["nodes"]  # a new replay starts from what it sees


# ---- the review bar -----------------------------------------------------------------------------------------
def test_the_time_picker_writes_at_and_leaves_a_replay() -> None:
    state = ViewState(replay_from="2026-11-23T08:00:00Z", at="2026-11-23T08:10:00Z")
    picked = review.act(state, "at-go", {"date": "2026-11-23", "time": "10:00"}, NOW)
    assert picked == ViewState(at=AT)
    assert review.act(state, "at-go", {"date": "2026-11-23T00:00:00", "time": "10:00:00"}, NOW) == ViewState(at=AT)
    assert review.act(state, "at-go", {"date": "2026-11-23", "time": "25:00"}, NOW) is None
    assert review.act(state, "at-go", {"date": None, "time": "10:00"}, NOW) is None
    assert review.act(state, "at-now", {}, NOW) == DEFAULT
    reopened = ViewState(snapshot="Sn4pSh0tReviewV2", at=AT)
    assert review.act(reopened, "at-now", {}, NOW) == DEFAULT  # other instants come from the API, not the snapshot
    started = review.act(reopened, "replay-start", {}, NOW)
    assert started is not None and started.snapshot == ""


def test_replay_starts_an_hour_before_and_steps_to_its_end() -> None:
    started = review.act(ViewState(at=AT), "replay-start", {}, NOW)
    assert started == ViewState(at="2026-11-23T09:00:00Z", replay_from="2026-11-23T09:00:00Z")
    live = review.act(DEFAULT, "replay-start", {}, NOW)  # from now: whole minutes
    assert live is not None and live.replay_from == replay.rfc3339(NOW - 42.5 - 3600)
    ticked = review.act(started, "replay-tick", {}, NOW)
    assert ticked is not None and ticked.at == "2026-11-23T09:01:00Z"
    slid = review.act(started, "replay-slider", {"slider": 30}, NOW)
    assert slid is not None and slid.at == "2026-11-23T09:30:00Z"
    end = review.act(started, "replay-slider", {"slider": 999}, NOW)
    assert end is not None and end.at == AT
    assert review.act(end, "replay-tick", {}, NOW) is None  # the last frame: play stops
    coarse = review.act(ticked, "replay-step", {"step": "5m"}, NOW)
    assert coarse is not None and coarse.replay_step == "5m" and coarse.at == "2026-11-23T09:00:00Z"  # nearest
    assert review.act(started, "replay-stop", {}, NOW) == ViewState(at="2026-11-23T09:00:00Z")


def test_controls_that_did_not_change_anything() -> None:
    assert review.act(DEFAULT, "replay-slider", {"slider": 3}, NOW) is None  # no replay, no slider
    assert review.act(DEFAULT, "replay-tick", {}, NOW) is None
    assert review.act(DEFAULT, "replay-step", {"step": "1m"}, NOW) == DEFAULT
    assert review.act(DEFAULT, "something-else", {}, NOW) is None


def test_the_bar_shows_the_url() -> None:
    shown = review.fill(ViewState(at="2026-11-23T09:30:00Z", replay_from="2026-11-23T09:00:00Z"), NOW)
    assert (shown["date"], shown["time"], shown["index"], shown["slider_max"]) == ("2026-11-23", "09:30:00", 30, 60)
    assert shown["replaying"] and not shown["ended"] and len(shown["marks"]) <= review.MAX_MARKS + 1
    assert shown["marks"][0] == "09:00"
    idle = review.fill(DEFAULT, NOW)
    assert not idle["replaying"] and idle["time"] == "12:00:00"  # now, to the minute


def test_compare_with_the_hour_before_is_a_reproducible_link() -> None:
    href = review.diff_href(ViewState(at=AT, window="5m", namespaces=("bookinfo",), edge="a->b"), NOW)
    state = parse_query(href.split("?", 1)[1])
    assert href.startswith("/diff?") and state == ViewState(at=AT, diff="2026-11-23T09:00:00Z", window="5m",
                                                            namespaces=("bookinfo",))  # fmt: skip
    live = parse_query(review.diff_href(DEFAULT, NOW).split("?", 1)[1])
    assert live.at == "2026-11-23T12:00:00Z" and live.diff == "2026-11-23T11:00:00Z"  # now, written out
    assert instants(live, NOW) == (AT_S + 3600, AT_S + 7200)
    assert instants(ViewState(), NOW) == (AT_S + 3600, AT_S + 7200)  # a bare /diff: the hour before now


def test_snapshot_body() -> None:
    state = ViewState(at=AT, window="5m", namespaces=("bookinfo", "shop"), graph="app")
    assert review.snapshot_body(state, " spike ", " notes ") == {
        "title": "spike", "window": "5m", "graph": "app", "at": AT, "namespace": "bookinfo,shop", "notes": "notes"}
    live = review.snapshot_body(DEFAULT, "live", "")
    assert "at" not in live and "notes" not in live


class StoredSnapshots(Backend):
    """A Backend whose snapshot reads answer from the wire fixture (no network)."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9")

    def get(self, path: str, params: Any) -> Answer:
        if path == "/api/v1/snapshots/Sn4pSh0tReviewV2":
            return Answer(load("snapshot_bookinfo.json"), None, 200)
        return Answer(None, "no such snapshot (HTTP 404)", 404)


def test_a_snapshot_reopens_from_its_stored_topology_and_series() -> None:
    backend = StoredSnapshots()
    answer, notes = review.snapshot_answer(backend, "Sn4pSh0tReviewV2")
    assert answer.ok and answer.data == load("topology_bookinfo.json")
    assert "reviews-v2 error spike" in str(notes[0].children) and "20% HTTP 500" in str(notes[1].children)
    missing, none = review.snapshot_answer(backend, "nope")
    assert not missing.ok and "nope" in (missing.error or "") and missing.status == 404 and none == []
    stored = review.snapshot_series(backend, "Sn4pSh0tReviewV2", "bookinfo/productpage/v1", "bookinfo/reviews/v2")
    assert stored is not None and stored.data == load("edge_series.json")
    assert review.snapshot_series(backend, "Sn4pSh0tReviewV2", "a", "b") is None  # not stored: ask the API
    assert review.replay_key(ViewState()) == "" and review.replay_key(ViewState(replay_from=AT)).startswith(AT)


# ---- diff ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def answer() -> dict[str, Any]:
    return load("diff_bookinfo.json")


def test_changes_keep_the_api_ranking_and_get_a_class(answer: dict[str, Any]) -> None:
    rows = diff.change_rows(answer)
    assert [r.rank for r in rows] == list(range(1, 10))
    first = rows[0]
    assert (first.source, first.target, first.change) == ("bookinfo/productpage/v1", "bookinfo/reviews/v2", "worse")
    kinds = {r.target: r.change for r in rows if r.source == "bookinfo/productpage/v1"}
    assert kinds["bookinfo/svc/reviews"] == "added" and kinds["bookinfo/details/v0"] == "removed"
    assert kinds["bookinfo/reviews/v3"] == "better"  # fewer failures and a lower P99: the API scores it 0
    assert kinds["bookinfo/details/v1"] == "same"
    assert first.cells()[4] == "2.29%" and first.cells()[6] == "100% → 80.00%"
    assert diff.change_label(first) == "#1, success -20.0 pp, P99 +58 ms"
    assert diff.change_rows(None) == []


def test_unknown_side_and_noise(answer: dict[str, Any]) -> None:
    edge = {**answer["edges"][0], "status": "unknown"}
    assert diff.change_of(edge, 30.0) == "unknown"
    small = {**answer["edges"][0], "impact": diff.MIN_SHARE / 2}
    assert diff.change_of(small, 30.0) == "same"
    started = {**answer["edges"][0], "a": {**answer["edges"][0]["a"], "rps": 0.0, "success_rate": None}}
    assert diff.change_of(started, 30.0) == "added"  # an edge the mesh knew, with traffic in B only
    stopped = {**answer["edges"][0], "b": {**answer["edges"][0]["b"], "rps": 0.0, "success_rate": None}}
    assert diff.change_of(stopped, 30.0) == "removed"


def test_the_diff_graph_is_coloured_by_change(answer: dict[str, Any]) -> None:
    elements = diff.diff_elements(answer)
    edges = {e["data"]["id"]: e for e in elements if "source" in e["data"]}
    nodes = {e["data"]["id"]: e for e in elements if "source" not in e["data"] and e.get("classes") != "namespace"}
    worst = edges["e:bookinfo/productpage/v1->bookinfo/reviews/v2"]
    assert worst["classes"] == "worse" and worst["data"]["width"] == diff.MAX_WIDTH
    assert edges["e:bookinfo/productpage/v1->bookinfo/svc/reviews"]["classes"] == "added"
    assert list(edges)[-1] == "e:bookinfo/productpage/v1->bookinfo/reviews/v2"  # drawn last, on top
    assert "removed" in nodes["bookinfo/details/v0"]["classes"]
    assert "k-service" in nodes["bookinfo/svc/reviews"]["classes"]
    assert nodes["unknown"]["classes"].startswith("k-unknown") and "parent" not in nodes["unknown"]["data"]
    assert all("position" in n for n in nodes.values())
    assert {e["data"]["id"] for e in elements if e.get("classes") == "namespace"} == {"ns:bookinfo"}
    selectors = {r["selector"] for r in diff.diff_stylesheet()}
    assert {f"edge.{name}" for name in diff.CLASSES} <= selectors and "node.k-service" in selectors


def test_the_change_table_caps_its_rows(answer: dict[str, Any]) -> None:
    rows = diff.change_rows({**answer, "edges": answer["edges"] * 7})
    table = change_table(rows)[0]
    assert isinstance(table, html.Table) and "the top 50 shown" in str(table.children[0].children)


# ---- annotations --------------------------------------------------------------------------------------------
def test_annotations_in_the_chart_range_become_marks() -> None:
    series = load("edge_series.json")
    found = annotations.marks(load("annotations.json"), series["start"], series["end"])
    assert [m.glyph for m in found] == ["✎", "◉"]  # the revert is before the range
    assert "DestinationRule/bookinfo/reviews" in found[0].hover and "UTC" in found[0].hover
    hostile = annotations.marks({"annotations": [{"time": "2026-11-23T10:00:00Z", "kind": "x", "title": "<b>x</b>"},
                                                 {"time": None}, "junk"]})  # fmt: skip
    assert len(hostile) == 1 and "&lt;b&gt;" in hostile[0].hover and hostile[0].glyph == annotations.OTHER[0]
    assert annotations.marks(None) == []


def test_marks_draw_a_line_and_a_hover_label() -> None:
    found = annotations.marks(load("annotations.json"))
    figure = annotations.add_annotations(charts.rps_figure(load("edge_series.json")), found)
    assert len(figure.layout.shapes) == 3 and figure.layout.shapes[0].yref == "paper"
    labels = [a for a in figure.layout.annotations if a.hovertext]
    assert [a.text for a in labels] == ["↶", "✎", "◉"] and "alice" in labels[1].hovertext


# ---- snapshots ----------------------------------------------------------------------------------------------
def test_a_snapshot_reopens_with_its_instant_window_and_scope() -> None:
    summary = load("snapshots.json")["snapshots"][0]
    state = parse_query(reopen_href(summary).split("?", 1)[1])
    assert state.snapshot == "Sn4pSh0tReviewV2" and state.window == "5m" and state.namespaces == ("bookinfo",)
    assert replay.instant_seconds(state.at) == summary["at"]  # exactly: the snapshot is marked at that instant


def test_the_snapshot_list_and_its_refusals() -> None:
    status, table = snapshot_table(Answer(load("snapshots.json"), None, 200))
    assert status == "" and "reviews-v2 error spike" in str(table)
    off, empty = snapshot_table(Answer(None, "snapshots are off on this server (HTTP 501)", 501))
    assert "banner info" in off.className and "--data-dir" not in str(empty) and empty == []
    assert "No snapshots yet" in snapshot_table(Answer({"snapshots": []}, None, 200))[0]


class Reports(Backend):
    """A Backend whose downloads answer one known snapshot (no network)."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9")

    def download(self, path: str) -> tuple[bytes, str] | Answer:
        if path.startswith("/api/v1/snapshots/Sn4pSh0tReviewV2"):
            return (b"<!doctype html><script>1</script>", "text/html") if path.endswith(".html") else (b"{}", "")
        return Answer(None, "no such snapshot (HTTP 404)", 404)


def test_downloads_go_through_the_ui_as_attachments() -> None:
    client = create_app("http://127.0.0.1:9", backend=Reports()).server.test_client()
    report = client.get("/snapshots/Sn4pSh0tReviewV2/report.html")
    assert report.status_code == 200 and report.data.startswith(b"<!doctype html>")
    assert report.headers["Content-Disposition"] == 'attachment; filename="snapshot-Sn4pSh0tReviewV2.html"'
    assert "script-src 'self'" in report.headers["Content-Security-Policy"]  # never runs under this origin
    document = client.get("/snapshots/Sn4pSh0tReviewV2.json")
    assert document.status_code == 200 and document.mimetype == "application/json"
    missing = client.get("/snapshots/Unknown.json")
    assert missing.status_code == 404 and "no such snapshot" in missing.get_json()["error"]["message"]
    assert client.get("/snapshots/a.b/report.html").status_code == 404
