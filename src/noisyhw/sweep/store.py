"""SQLite result store of a run directory: one row per finished trial, written as it finishes.

A killed run loses at most the trials in flight; a rerun skips the finished ones. The store
remembers the grid's fingerprint, and refuses a different grid in the same directory.

Damaged files are refused before anything is written: :func:`check_sqlite` reads a store
without writing (``immutable`` when no ``-wal`` journal is beside it, else ``mode=ro``) and
raises one ``--out: <dir> holds a damaged store (<reason>)`` line. A store being written is
locked (:class:`RunLock`, a POSIX lock the OS drops when its process dies), so a second
process never takes over a run in progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ParameterError
from .grid import canonical_json, identity, trial_key

__all__ = [
    "ResultStore",
    "RunLock",
    "check_sqlite",
    "comparable",
    "connect_readonly",
    "damaged",
    "same_run",
]

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

_MAGIC = b"SQLite format 3\x00"


def damaged(folder: Path, reason: str, option: str = "--out") -> ParameterError:
    """The one error every damaged run file gives (the folder is left as it is)."""
    return ParameterError(
        option,
        f"{folder} holds a damaged store ({reason}); move it away or pick another {option}",
    )


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an existing SQLite file without writing anything beside it.

    Without a ``-wal`` journal the file is complete and is opened ``immutable`` (no lock, no
    ``-shm``); with one (a run writing now, or killed) ``mode=ro`` reads the journal too.
    """
    path = Path(path)
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    return sqlite3.connect(f"file:{path.resolve()}?{mode}", uri=True, timeout=10.0)


def check_sqlite(path: str | Path, tables: tuple[str, ...], option: str = "--out") -> None:
    """Refuse a damaged SQLite file (not SQLite, truncated, a page flipped, tables missing).

    Reads only; an empty (0-byte) file is a valid empty store. Raises :func:`damaged`.
    """
    path = Path(path)
    folder = path.parent
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise damaged(folder, f"{path.name}: cannot read ({exc.strerror})", option) from None
    if not head:
        return
    if len(head) < 100 or not head.startswith(_MAGIC):
        raise damaged(folder, f"{path.name} is not an SQLite database", option)
    try:
        con = connect_readonly(path)
        try:
            problems = [r[0] for r in con.execute("PRAGMA quick_check")]
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise damaged(folder, f"{path.name}: {exc}", option) from None
    if problems != ["ok"]:
        first = " ".join(str(problems[0]).split())[:80]
        raise damaged(folder, f"{path.name}: {first}", option)
    missing = [t for t in tables if t not in names]
    if names and missing:
        raise damaged(folder, f"{path.name} lacks the table {missing[0]!r}", option)


class RunLock:
    """An exclusive lock on ``folder/run.lock`` held while a run writes its folder.

    A POSIX record lock: the OS releases it when the process ends (also on kill -9), so a
    killed run is resumable at once while a running one is never taken over. Within one
    process a folder may be opened again (tests, a resumed call). No-op where ``fcntl`` is
    missing (Windows).
    """

    _held: ClassVar[dict[str, int]] = {}  # realpath -> fd, the locks this process holds

    def __init__(self, folder: Path, option: str = "--out") -> None:
        self.folder = Path(folder)
        self.option = option
        self.path = self.folder / "run.lock"
        self._fd: int | None = None

    @property
    def _key(self) -> str:
        return os.path.realpath(self.path)

    def held_elsewhere(self) -> bool:
        """Whether another process holds the lock, probed with a shared lock on a read-only
        handle (writes and creates nothing; False where ``fcntl`` is missing). A lock this
        process holds is not probed: closing the probe's handle would release it."""
        if self._key in RunLock._held or not self.path.is_file():
            return False
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # drops the probe's shared lock (this process held none on the file)
        return False

    def check(self) -> None:
        """Refuse when another process holds the lock (reads only; creates nothing)."""
        if self.held_elsewhere():
            raise self._busy()

    def acquire(self) -> None:
        if self._key in RunLock._held:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise self._busy()
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        RunLock._held[self._key] = fd

    def release(self) -> None:
        if self._fd is not None:
            RunLock._held.pop(self._key, None)
            os.close(self._fd)  # closing drops the POSIX lock
            self._fd = None

    def _busy(self) -> ParameterError:
        pid = ""
        with contextlib.suppress(OSError, ValueError):
            pid = f" (pid {int(self.path.read_text().split()[0])})"
        return ParameterError(
            self.option,
            f"{self.folder} is in use by a running noisyhw process{pid}; "
            f"wait for it to end or pick another {self.option}",
        )


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class ResultStore:
    """Trial results of one run, in ``path`` (SQLite, WAL journal, one writer: the driver).

    Opening checks an existing file (:func:`check_sqlite`) and takes the folder's
    :class:`RunLock` before anything is written; :meth:`close` releases it.
    """

    TABLES = ("meta", "trials")

    def __init__(self, path: str | Path, *, option: str = "--out") -> None:
        self.path = Path(path)
        if self.path.exists():
            check_sqlite(self.path, self.TABLES, option)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = RunLock(self.path.parent, option)
        self.lock.acquire()
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
        except sqlite3.Error as exc:
            self.lock.release()
            raise damaged(self.path.parent, str(exc), option) from None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()
        self.lock.release()

    @staticmethod
    def read_fingerprint(path: str | Path) -> dict[str, Any] | None:
        """The fingerprint recorded in an existing (checked) store, read without writing."""
        con = connect_readonly(path)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            n = con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        except sqlite3.Error:
            return None  # an empty file: no run recorded yet
        finally:
            con.close()
        return None if row is None else {"fingerprint": json.loads(row[0]), "trials": n}

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ fingerprint
    def bind(
        self,
        fingerprint: Mapping[str, Any],
        *,
        replace: bool = False,
        extendable: tuple[str, ...] = (),
    ) -> None:
        """Record the grid's fingerprint, or check that it matches the recorded one.

        The recorded one matches when equal after dropping runtime keys at any depth (folders of
        older versions kept some) and the config keys in ``extendable`` (the caller checked that
        they grew); the new fingerprint is then recorded. With ``replace`` (a store without
        trials) a different recorded run is forgotten. :class:`~noisyhw.sweep.Run` checks all
        this first, with messages that name what differs.
        """
        text = canonical_json(dict(fingerprint))
        row = self._db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if row is not None and row[0] != text:
            if replace and not len(self):
                self._db.execute("DELETE FROM meta")
            elif not same_run(json.loads(row[0]), json.loads(text), extendable):
                raise ParameterError(
                    "--out",
                    f"{self.path.parent} holds a run with a different command or grid; "
                    "rerun with its original parameters to resume, or choose another --out",
                )
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (text,))
        self._db.commit()

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


def comparable(fingerprint: Mapping[str, Any], extendable: Sequence[str] = ()) -> str:
    """A fingerprint as the canonical JSON it is stored as, without runtime keys (any depth)
    and the extendable config keys: the one form two fingerprints are compared in (so 1 and
    1.0, which JSON keeps apart, differ here as they do in the store)."""
    fp = identity(dict(fingerprint))
    fp["config"] = {k: v for k, v in dict(fp.get("config", {})).items() if k not in extendable}
    return canonical_json(fp)


def same_run(
    old: Mapping[str, Any], new: Mapping[str, Any], extendable: Sequence[str] = ()
) -> bool:
    """Whether two fingerprints name the same run (:func:`comparable` forms equal); used by
    both :meth:`ResultStore.bind` and :class:`~noisyhw.sweep.Run`'s check of ``--out``."""
    return comparable(old, extendable) == comparable(new, extendable)


def _jsonable(obj: Any) -> Any:
    """numpy scalars/arrays and tensors to plain JSON types."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
