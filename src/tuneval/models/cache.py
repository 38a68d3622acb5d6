"""The call cache: one SQLite file that remembers every finished model call.

The key is a hash of what determines an answer: the backend's `identity()` (a hash of the
weights for a local file, base URL and model name for a server), the full conversation,
the decoding parameters and the JSON schema. The database runs in WAL mode with a busy
timeout, so several processes (parallel runs, the judge and generation) can read and write
the same cache at once. A file that is not a usable cache (garbage, truncated, another
schema) is moved aside with a warning and replaced by an empty one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tuneval.errors import ConfigError
from tuneval.models.base import Completion, ModelBackend, Request

log = logging.getLogger(__name__)

CACHE_ENV = "TUNEVAL_CACHE_DIR"
"""Environment variable that overrides the cache directory."""


def default_cache_dir() -> Path:
    """``$TUNEVAL_CACHE_DIR`` when set, else ``~/.cache/tuneval``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tuneval"


def cache_key(identity: str, request: Request) -> str:
    """The cache key of ``request`` sent to the backend with ``identity`` (hex sha256)."""
    payload = {
        "identity": identity,
        "messages": [m.model_dump() for m in request.full_messages()],
        "decoding": request.decoding.model_dump(mode="json"),
        "json_schema": request.json_schema,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    """A SQLite cache of completions, safe under concurrent writers (threads and processes).

    Args:
        path: The database file, or a directory to hold ``calls.sqlite``; default
            `default_cache_dir()`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        target = Path(path) if path is not None else default_cache_dir()
        if target.suffix not in {".sqlite", ".db"}:
            target = target / "calls.sqlite"
        self.path = target
        self._lock = threading.Lock()
        if target.is_dir():
            raise _unusable(target, "it is a directory, not a SQLite file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unusable(target, f"cannot create its folder ({exc.strerror})") from None
        # One connection, guarded by a lock: the runner calls from the event-loop thread,
        # local backends may call from worker threads.
        try:
            self._db = _open(target)
        except sqlite3.DatabaseError as exc:
            _move_aside(target, exc)
            try:
                self._db = _open(target)
            except sqlite3.DatabaseError as again:
                raise _unusable(target, str(again)) from None

    def get(self, backend: ModelBackend | str, request: Request) -> Completion | None:
        """The cached completion of ``request`` (marked ``cached=True``), or None."""
        key = cache_key(_identity(backend), request)
        with self._lock, self._damaged():
            row = self._db.execute("SELECT completion FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        completion = Completion.model_validate_json(row[0])
        return completion.model_copy(update={"cached": True, "latency_s": 0.0})

    def put(self, backend: ModelBackend | str, request: Request, completion: Completion) -> None:
        """Store (or replace) the completion of ``request``."""
        identity = _identity(backend)
        key = cache_key(identity, request)
        stored = completion.model_copy(update={"cached": False}).model_dump_json()
        with self._lock, self._damaged(), self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, identity, completion, created) "
                "VALUES (?, ?, ?, ?)",
                (key, identity, stored, time.time()),
            )

    @contextmanager
    def _damaged(self) -> Iterator[None]:
        """Turn SQLite's error on a cache damaged inside into one clear `ConfigError`."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise _unusable(self.path, f"it is damaged ({exc})") from None

    def __len__(self) -> int:
        with self._lock, self._damaged():
            return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def clear(self) -> None:
        """Forget every cached call."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM calls")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_COLUMNS = ("key", "identity", "completion", "created")


def _open(target: Path) -> sqlite3.Connection:
    """Open (or create) the cache database and check that it is one.

    Raises:
        sqlite3.DatabaseError: For a file that is not SQLite, is damaged, or holds another
            schema.
    """
    db = sqlite3.connect(target, timeout=60.0, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=60000")
        with db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS calls ("
                " key TEXT PRIMARY KEY, identity TEXT NOT NULL,"
                " completion TEXT NOT NULL, created REAL NOT NULL)"
            )
        columns = tuple(row[1] for row in db.execute("PRAGMA table_info(calls)"))
        if columns != _COLUMNS:
            raise sqlite3.DatabaseError(f"table 'calls' has columns {columns}, not {_COLUMNS}")
        # No "PRAGMA quick_check": it reads the whole file (about 1 s for 300 MB) on every
        # open. Garbage and truncated files already fail above; damage deeper inside
        # surfaces as a clear error from get/put (see _damaged).
    except BaseException:
        db.close()
        raise
    return db


def _move_aside(target: Path, exc: Exception) -> None:
    """Rename a corrupt cache (and its WAL files) out of the way and warn once.

    Raises:
        ConfigError: When the file cannot be moved.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.name}.corrupt-{stamp}")
    try:
        target.replace(aside)
        for suffix in ("-wal", "-shm"):
            side = target.with_name(target.name + suffix)
            if side.exists():
                side.replace(aside.with_name(aside.name + suffix))
    except OSError as err:
        raise _unusable(target, f"{exc}; moving it aside failed ({err.strerror})") from None
    log.warning(
        "warning: the call cache %s is not a usable SQLite cache (%s); moved it to %s and "
        "started an empty one",
        target,
        exc,
        aside,
    )


def _unusable(target: Path, why: str) -> ConfigError:
    return ConfigError(
        f"cannot use the call cache {target}: {why}; delete or move it (or set "
        f"{CACHE_ENV} to another folder), or run with --no-cache"
    )


def _identity(backend: ModelBackend | str) -> str:
    return backend if isinstance(backend, str) else backend.identity()
