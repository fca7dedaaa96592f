"""The audit log of writes, in SQLite (stdlib sqlite3): who, when, target, before, after, reason, result.

Append-only by use: entries are inserted and read, never updated. Every applied edit, every revert, every
conflict and failure of a write, and every denied attempt is recorded; previews (dry runs) are not, as they
change nothing. `before` is the pre-image that a revert writes back. sqlite3 blocks, so every call runs in a
thread; each call opens its own connection (WAL mode, busy timeout), which keeps threads and processes (the
server and the CLI) safe to share one file.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from observe.actions.resources import Obj
from observe.actions.sqlite_db import connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, actor TEXT NOT NULL, strategy TEXT NOT NULL, remote TEXT,
    action TEXT NOT NULL, target TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,
    detail TEXT NOT NULL, before TEXT, after TEXT, diff TEXT NOT NULL, reverts INTEGER
);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, id);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
"""


class Result(Enum):
    APPLIED = "applied"
    CONFLICT = "conflict"
    INVALID = "invalid"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class Actor:
    """Who asked: `strategy` is how they were identified (token, header, cli, anonymous)."""

    name: str
    strategy: str
    remote: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int | None
    ts: float
    actor: str
    strategy: str
    remote: str | None
    action: str  # edit | revert | a denied request's method and path
    target: str  # Kind/namespace/name
    result: Result
    reason: str
    detail: str = ""
    before: Obj | None = None
    after: Obj | None = None
    diff: str = ""
    reverts: int | None = None  # the entry a revert undid

    def to_wire(self) -> dict[str, Any]:
        wire = asdict(self)
        wire["result"] = self.result.value
        return wire


class AuditLog:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with connection(self.path) as db:
            db.executescript(SCHEMA)

    async def record(self, entry: AuditEntry) -> int:
        return await asyncio.to_thread(self._insert, entry)

    async def get(self, entry_id: int) -> AuditEntry | None:
        rows = await asyncio.to_thread(self._select, "WHERE id = ?", (entry_id,), 1)
        return rows[0] if rows else None

    async def entries(self, *, limit: int = 50, target: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        if target:
            return await asyncio.to_thread(self._select, "WHERE target = ?", (target,), limit)
        return await asyncio.to_thread(self._select, "", (), limit)

    async def entries_between(self, start: float, end: float, *, limit: int) -> list[AuditEntry]:
        """Entries whose time is in [start, end], newest first (by the ts index, however long the log)."""
        return await asyncio.to_thread(self._select, "WHERE ts BETWEEN ? AND ?", (start, end), limit)

    def _insert(self, e: AuditEntry) -> int:
        with connection(self.path) as db:
            cursor = db.execute(
                "INSERT INTO audit (ts, actor, strategy, remote, action, target, result, reason, detail, before, "
                "after, diff, reverts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.ts, e.actor, e.strategy, e.remote, e.action, e.target, e.result.value, e.reason, e.detail,
                 _dump(e.before), _dump(e.after), e.diff, e.reverts),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def _select(self, where: str, args: tuple[Any, ...], limit: int) -> list[AuditEntry]:
        with connection(self.path) as db:
            rows = db.execute(
                "SELECT id, ts, actor, strategy, remote, action, target, result, reason, detail, before, after, "
                f"diff, reverts FROM audit {where} ORDER BY id DESC LIMIT ?",  # `where` is a constant of this class
                (*args, limit),
            ).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], Result(r[7]), r[8], r[9], _load(r[10]),
                           _load(r[11]), r[12], r[13]) for r in rows]  # fmt: skip


def _dump(obj: Obj | None) -> str | None:
    return None if obj is None else json.dumps(obj, sort_keys=True)


def _load(text: str | None) -> Obj | None:
    if text is None:
        return None
    loaded: Obj = json.loads(text)
    return loaded
