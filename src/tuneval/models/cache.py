"""The call cache: one SQLite file that remembers every finished model call.

The key is a hash of what determines an answer: the backend's `identity()` (a hash of the
weights for a local file, base URL and model name for a server), the full conversation,
the decoding parameters and the JSON schema. The database runs in WAL mode with a busy
timeout, so several processes (parallel runs, the judge and generation) can read and write
the same cache at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from tuneval.models.base import Completion, ModelBackend, Request

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
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = target
        self._lock = threading.Lock()
        # One connection, guarded by a lock: the runner calls from the event-loop thread,
        # local backends may call from worker threads.
        self._db = sqlite3.connect(target, timeout=60.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS calls ("
                " key TEXT PRIMARY KEY, identity TEXT NOT NULL,"
                " completion TEXT NOT NULL, created REAL NOT NULL)"
            )

    def get(self, backend: ModelBackend | str, request: Request) -> Completion | None:
        """The cached completion of ``request`` (marked ``cached=True``), or None."""
        key = cache_key(_identity(backend), request)
        with self._lock:
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
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, identity, completion, created) "
                "VALUES (?, ?, ?, ?)",
                (key, identity, stored, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
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


def _identity(backend: ModelBackend | str) -> str:
    return backend if isinstance(backend, str) else backend.identity()
