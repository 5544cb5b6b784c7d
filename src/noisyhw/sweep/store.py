"""SQLite result store of a run directory: one row per finished trial, written as it finishes.

A killed run loses at most the trials in flight; a rerun skips the finished ones. The store
remembers the grid's fingerprint, and refuses a different grid in the same directory.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .grid import canonical_json, trial_key

__all__ = ["ResultStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    finished REAL NOT NULL
);
"""


class ResultStore:
    """Trial results of one run, in ``path`` (SQLite, WAL journal, one writer: the driver)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ fingerprint
    def bind(self, fingerprint: Mapping[str, Any], *, replace: bool = False) -> None:
        """Record the grid's fingerprint, or check that it equals the recorded one; with
        ``replace`` (for a store without trials) a different recorded run is forgotten instead."""
        text = canonical_json(dict(fingerprint))
        row = self._db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if row is not None and row[0] != text and replace and not len(self):
            self._db.execute("DELETE FROM meta")
            row = None
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (text,))
            self._db.commit()
        elif row[0] != text:
            raise ParameterError(
                "--out",
                f"{self.path.parent} holds a run with a different command or grid; "
                "rerun with its original parameters to resume, or choose another --out",
            )

    def get_meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str))
        )
        self._db.commit()

    # ------------------------------------------------------------------ trials
    def done_keys(self) -> set[str]:
        return {k for (k,) in self._db.execute("SELECT key FROM trials")}

    def add(self, idx: int, params: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """Store one finished trial (committed at once). A duplicate key is ignored."""
        self._db.execute(
            "INSERT OR IGNORE INTO trials VALUES (?, ?, ?, ?, ?)",
            (
                trial_key(params),
                idx,
                canonical_json(dict(params)),
                json.dumps(dict(result), default=_jsonable),
                time.time(),
            ),
        )
        self._db.commit()

    def discard(self, params: Mapping[str, Any]) -> None:
        """Forget one stored trial, so that the next sweep runs it again (e.g. a failed one)."""
        self._db.execute("DELETE FROM trials WHERE key=?", (trial_key(params),))
        self._db.commit()

    def rows(self) -> list[dict[str, Any]]:
        """All finished trials as ``{**params, **result}``, in grid order."""
        out = []
        for params, result in self._db.execute("SELECT params, result FROM trials ORDER BY idx"):
            out.append({**json.loads(params), **json.loads(result)})
        return out

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]


def _jsonable(obj: Any) -> Any:
    """numpy scalars/arrays and tensors to plain JSON types."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
