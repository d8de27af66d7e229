"""The store of a dataset evaluation: one SQLite file, a row per (dataset, image, scale,
method), written as each image finishes.

SQLite is in Python's standard library, commits are atomic (a row is in the file whole or
not at all, also when the process is killed or the disk fills), and pandas reads it as it
is: ``pandas.read_sql("select * from rows", sqlite3.connect(path))``. The settings the rows
were made with are kept beside them (``meta``); a store of other settings is refused
unless it is replaced, and an image whose file changed (its SHA-256) loses only its own rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from core.common.errors import ImageError, ParameterError

#: The columns of a row, in order: what identifies it, then its numbers.
KEY_COLUMNS = ("dataset", "image", "scale", "method")
COLUMNS = (*KEY_COLUMNS, "image_sha256", "source", "label", "params", "psnr", "ssim", "mae", "max_error",
           "checkerboard", "time_ms", "width", "height", "reason")
STORE_NAME = "rows.sqlite"

_SCHEMA = f"""
create table if not exists meta (key text primary key, value text not null);
create table if not exists rows (
    dataset text not null, image text not null, scale real not null, method text not null,
    image_sha256 text not null, source text, label text, params text, psnr real, ssim real, mae real, max_error real,
    checkerboard real, time_ms real, width integer, height integer, reason text,
    primary key ({', '.join(KEY_COLUMNS)})
);
"""


class Store:
    """The rows of one evaluation (``folder/rows.sqlite``), for one set of ``settings``
    (a JSON-able mapping that fixes every number: methods, convention, downsampler...).

    Opening a store made with other settings raises `ParameterError` unless ``replace``
    is True, which empties it first. Thread-safe; one process writes a store."""

    def __init__(self, folder: str | Path, settings: Mapping[str, Any], *, replace: bool = False) -> None:
        self.path = Path(folder) / STORE_NAME
        self.settings_text = json.dumps(settings, sort_keys=True)
        self._lock = threading.Lock()
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise ParameterError(f"{self.path.parent}: a file, not a folder; give --out a folder for the evaluation")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("pragma journal_mode=wal")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ImageError(f"{self.path}: cannot open the evaluation's store ({exc})") from None
        held = self._db.execute("select value from meta where key = 'settings'").fetchone()
        count = self._db.execute("select count(*) from rows").fetchone()[0]
        differences = _differences(json.loads(held[0]), dict(settings)) if held is not None else ""
        if differences and count:
            if not replace:
                raise ParameterError(
                    f"{self.path.parent}: holds an evaluation of other settings ({count} rows; {differences}); "
                    "use another folder, or --force to replace it"
                )
            with self._transaction():
                self._db.execute("delete from rows")
        with self._transaction():
            self._db.execute("insert or replace into meta values ('settings', ?)", (self.settings_text,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    # Reading -----------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """Every row, as dicts of `COLUMNS`, in key order."""
        with self._lock:
            cursor = self._db.execute(f"select {', '.join(COLUMNS)} from rows order by {', '.join(KEY_COLUMNS)}")
            return [dict(zip(COLUMNS, values)) for values in cursor.fetchall()]

    def done(self, dataset: str, image: str, sha256: str) -> set[tuple[float, str]]:
        """The (scale, method) pairs stored for an image whose file still has ``sha256``;
        rows of an older version of the file are deleted (they no longer describe it)."""
        with self._transaction():
            self._db.execute("delete from rows where dataset = ? and image = ? and image_sha256 != ?",
                             (dataset, image, sha256))
        with self._lock:
            cursor = self._db.execute("select scale, method from rows where dataset = ? and image = ?", (dataset, image))
            return {(float(scale), method) for scale, method in cursor.fetchall()}

    # Writing -----------------------------------------------------------------------------------

    def add(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Store ``rows`` (dicts with the keys of `COLUMNS`) in one transaction: all of
        them or, if the process dies meanwhile, none. A row with the key of a stored one
        replaces it. Returns how many were written."""
        values = [tuple(_cell(row.get(column)) for column in COLUMNS) for row in rows]
        try:
            with self._transaction():
                self._db.executemany(f"insert or replace into rows values ({', '.join('?' * len(COLUMNS))})", values)
        except sqlite3.OperationalError as exc:  # a full disk, a read-only folder
            raise ImageError(f"{self.path}: cannot write the rows ({exc}); the rows stored before are kept") from None
        return len(values)


def _differences(held: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    """How ``given`` settings differ from ``held`` ones (``"downsampler asked for:
    area, stored: bicubic-aa"``), or "" when they fix the same numbers: the order of the methods only
    orders the tables."""
    found = []
    for key in sorted(set(held) | set(given)):
        old, new = held.get(key), given.get(key)
        if key == "methods" and isinstance(old, list) and isinstance(new, list):
            if sorted(map(str, old)) != sorted(map(str, new)):
                found.append(f"methods asked for: {' '.join(map(str, new))}, stored: {' '.join(map(str, old))}")
        elif old != new:
            found.append(f"{key} asked for: {_setting_text(new)}, stored: {_setting_text(old)}")
    return "; ".join(found)


def _setting_text(value: Any) -> str:
    return "none" if value in (None, {}, []) else value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return value


class _Transaction:
    """``with`` block: one SQLite transaction under the store's lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self.db, self.lock = db, lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        self.db.execute("begin immediate")
        return self.db

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        try:
            self.db.execute("commit" if kind is None else "rollback")
        finally:
            self.lock.release()


def read_store(folder: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The settings and every row of the evaluation in ``folder``, read only (nothing
    is changed; a run may be writing it meanwhile). Raises `ParameterError` naming the
    folder when it holds no evaluation."""
    path = Path(folder) / STORE_NAME
    if not path.is_file():
        raise ParameterError(f"{folder}: holds no evaluation ({STORE_NAME} is missing); make one with --evaluate")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            held = db.execute("select value from meta where key = 'settings'").fetchone()
            cursor = db.execute(f"select {', '.join(COLUMNS)} from rows order by {', '.join(KEY_COLUMNS)}")
            rows = [dict(zip(COLUMNS, values)) for values in cursor.fetchall()]
    except sqlite3.Error as exc:
        raise ParameterError(f"{path}: not an evaluation's store ({exc})") from None
    return (json.loads(held[0]) if held else {}), rows
