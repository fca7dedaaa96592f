import json
import sqlite3
from pathlib import Path

import pytest

from observe.errors import Conflict, NotFound, PayloadTooLarge
from observe.services import snapshot_store
from observe.services.snapshot_store import ID_PATTERN, SnapshotStore, SnapshotSummary, new_id


def summary(at: float, title: str = "outage", namespaces: list[str] | None = None) -> SnapshotSummary:
    return SnapshotSummary(new_id(), 1.0, at, 300.0, title, "versioned-app", namespaces or [])


async def test_saved_text_comes_back_byte_for_byte_after_reopening(tmp_path: Path) -> None:
    s = summary(100.0)
    store = SnapshotStore(tmp_path)
    await store.save(s, {**s.to_wire(), "notes": "ünïcode <b>", "x": [1.5, float("nan")]})
    text = await store.document(s.id)
    reopened = SnapshotStore(tmp_path)  # a restart: a new store on the same directory
    assert await reopened.document(s.id) == text
    assert json.loads(text)["notes"] == "ünïcode <b>" and json.loads(text)["x"] == [1.5, None]


async def test_ids_are_random_and_url_safe(tmp_path: Path) -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(ID_PATTERN.fullmatch(i) for i in ids)
    assert not any(i.startswith("-") for i in ids)  # 2,000 draws: ~31 would start with '-' without the guard


async def test_rows_are_immutable(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    s = summary(100.0)
    await store.save(s, s.to_wire())
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("UPDATE snapshots SET title = 'rewritten' WHERE id = ?", (s.id,))
    with pytest.raises(sqlite3.IntegrityError):  # the same id twice
        await store.save(s, s.to_wire())


async def test_unknown_and_malformed_ids_are_not_found(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    s = summary(100.0)
    await store.save(s, s.to_wire())
    for bad in ("AAAAAAAAAAAAAAAA", "' OR 1=1 --", "../../etc/passwd", "", f"{s.id}\n"):  # `$` took a trailing \n
        with pytest.raises(NotFound):
            await store.document(bad)


async def test_listing_is_newest_first_and_filters_by_instant(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    saved = [summary(at) for at in (100.0, 300.0, 200.0)]
    for s in saved:
        await store.save(s, s.to_wire())
    assert [s.at for s in await store.summaries()] == [300.0, 200.0, 100.0]
    assert [s.at for s in await store.summaries(start=150.0, end=250.0)] == [200.0]
    assert len(await store.summaries(limit=2)) == 2


async def test_documents_are_size_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_store, "MAX_DOCUMENT_BYTES", 1000)
    store = SnapshotStore(tmp_path)
    s = summary(100.0)
    with pytest.raises(PayloadTooLarge):
        await store.save(s, {**s.to_wire(), "notes": "x" * 2000})
    assert await store.summaries() == []


async def test_the_store_refuses_snapshots_past_its_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_store, "MAX_SNAPSHOTS", 2)
    store = SnapshotStore(tmp_path)
    for at in (100.0, 200.0):
        s = summary(at)
        await store.save(s, s.to_wire())
    s = summary(300.0)
    with pytest.raises(Conflict, match="snapshot store full: 2 snapshots") as info:
        await store.save(s, s.to_wire())
    assert info.value.status == 409 and info.value.field == "snapshots"
    assert [x.at for x in await store.summaries()] == [200.0, 100.0]
