"""The SQLite files observe keeps (the audit log, the snapshots): one connection per call, in WAL mode so
readers never block the writer, committed on success and closed on the way out."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def connection(path: Path | str) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=10.0)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        with db:
            yield db
    finally:
        db.close()
