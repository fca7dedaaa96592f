"""Saved snapshots in SQLite (stdlib sqlite3) under the data dir: `<data_dir>/snapshots.sqlite3`.

A snapshot is one JSON document, stored as the exact text it was saved as and served back byte for byte, so
it reopens identically after a restart. Immutable: rows are only inserted (a trigger aborts any UPDATE), ids
are random and URL-safe (`secrets.token_urlsafe`, 96 bits, never a leading '-'). Bounded, as creating one
needs no credentials: a document is at most MAX_DOCUMENT_BYTES (4 MiB; 413 past it) and the store holds at
most MAX_SNAPSHOTS (1,000; a save past it is refused with 409 "snapshot store full", counted in the insert's
own transaction, so concurrent saves cannot overshoot). The columns beside the document (time, title, scope)
exist for listing and for annotations without parsing documents. Like the audit log, each call opens its own
connection in a thread (WAL, busy timeout).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from observe.actions.sqlite_db import connection
from observe.errors import Conflict, NotFound, PayloadTooLarge

FILE_NAME = "snapshots.sqlite3"
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_SNAPSHOTS = 1000
ID_BYTES = 12  # 16 URL-safe characters
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16}")  # used with fullmatch

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY, created REAL NOT NULL, at REAL NOT NULL, window_s REAL NOT NULL,
    title TEXT NOT NULL, graph TEXT NOT NULL, namespaces TEXT NOT NULL, document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_at ON snapshots (at);
CREATE TRIGGER IF NOT EXISTS snapshots_immutable BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are immutable'); END;
"""


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    id: str
    created: float
    at: float
    window_s: float
    title: str
    graph: str
    namespaces: list[str]

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: Any) -> Any:
    """NaN and infinities (not JSON) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def new_id() -> str:
    """Random, URL-safe, and never starting with '-': a shell command line would take that for an option
    (`observe snapshot export -Xy…` failed for one id in 64)."""
    while (snapshot_id := secrets.token_urlsafe(ID_BYTES)).startswith("-"):
        pass
    return snapshot_id


class SnapshotStore:
    def __init__(self, data_dir: str | Path) -> None:
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = str(directory / FILE_NAME)
        with connection(self.path) as db:
            db.executescript(SCHEMA)

    async def save(self, summary: SnapshotSummary, document: dict[str, Any]) -> None:
        """Store `document` (which must carry summary.id; NaN and infinities become null)."""
        text = json.dumps(_finite(document), sort_keys=True, separators=(",", ":"), allow_nan=False)
        if len(text.encode()) > MAX_DOCUMENT_BYTES:
            raise PayloadTooLarge(f"snapshot over {MAX_DOCUMENT_BYTES} bytes: narrow the namespaces or the window",
                                  field="namespace")  # fmt: skip
        await asyncio.to_thread(self._insert, summary, text)

    async def document(self, snapshot_id: str) -> str:
        """The stored JSON text of one snapshot, or NotFound."""
        rows = []
        if ID_PATTERN.fullmatch(snapshot_id):
            rows = await asyncio.to_thread(self._query, "SELECT document FROM snapshots WHERE id = ?", (snapshot_id,))
        if not rows:
            raise NotFound(f"no snapshot '{snapshot_id[:40]}'", field="id")
        return str(rows[0][0])

    async def summaries(self, *, limit: int = 100, start: float | None = None, end: float | None = None
                        ) -> list[SnapshotSummary]:  # fmt: skip
        """Newest first (by the instant they show); optionally only those whose instant is in [start, end]."""
        rows = await asyncio.to_thread(
            self._query,
            "SELECT id, created, at, window_s, title, graph, namespaces FROM snapshots "
            "WHERE at >= ? AND at <= ? ORDER BY at DESC, id LIMIT ?",
            (start if start is not None else 0.0, end if end is not None else 1e12, limit),
        )
        return [SnapshotSummary(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def _insert(self, s: SnapshotSummary, text: str) -> None:
        with connection(self.path) as db:
            db.execute("BEGIN IMMEDIATE")  # the count and the insert in one write transaction
            (count,) = db.execute("SELECT COUNT(*) FROM snapshots").fetchone()
            if count >= MAX_SNAPSHOTS:
                raise Conflict(f"snapshot store full: {count} snapshots (at most {MAX_SNAPSHOTS}); delete old ones "
                               f"from {self.path} to save more", field="snapshots")  # fmt: skip
            db.execute(
                "INSERT INTO snapshots (id, created, at, window_s, title, graph, namespaces, document) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s.id, s.created, s.at, s.window_s, s.title, s.graph, json.dumps(s.namespaces), text),
            )

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with connection(self.path) as db:
            return db.execute(sql, args).fetchall()
