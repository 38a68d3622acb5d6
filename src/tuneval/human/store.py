"""The study store: one SQLite database per study, safe for many annotators at once.

The database runs in WAL mode so that readers never block the writer, and every vote is one
``INSERT ... ON CONFLICT DO UPDATE`` inside a ``BEGIN IMMEDIATE`` transaction that also checks
the assignment: a vote is stored whole or not at all, and concurrent votes are serialised by
SQLite rather than by the web server. The table ``placements`` (the A/B -> model mapping) is
read only by `StudyStore.placements`, which the results code calls and the web app never does.
"""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from tuneval.errors import DataError, UsageError
from tuneval.human.records import (
    CRITERIA,
    Placement,
    StudyInfo,
    StudyItem,
    Vote,
    VoteInput,
)

DB_NAME = "study.db"

_SCORE_COLUMNS = [f"{side}_{c}" for side in ("a", "b") for c in CRITERIA]
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    item_id TEXT PRIMARY KEY, position INTEGER NOT NULL, example_id TEXT NOT NULL,
    prompt TEXT NOT NULL, response_a TEXT NOT NULL, response_b TEXT NOT NULL);
CREATE TABLE placements (
    item_id TEXT PRIMARY KEY REFERENCES items, model_at_a TEXT NOT NULL, model_at_b TEXT NOT NULL);
CREATE TABLE annotators (
    name TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, position INTEGER NOT NULL);
CREATE TABLE assignments (
    annotator TEXT NOT NULL REFERENCES annotators, item_id TEXT NOT NULL REFERENCES items,
    position INTEGER NOT NULL, PRIMARY KEY (annotator, item_id));
CREATE TABLE votes (
    annotator TEXT NOT NULL, item_id TEXT NOT NULL,
    {", ".join(f"{col} INTEGER NOT NULL CHECK ({col} BETWEEN 1 AND 5)" for col in _SCORE_COLUMNS)},
    preference TEXT NOT NULL CHECK (preference IN ('A', 'B', 'tie')),
    comment TEXT NOT NULL, revision INTEGER NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (annotator, item_id),
    FOREIGN KEY (annotator, item_id) REFERENCES assignments (annotator, item_id));
"""


class NotAssignedError(UsageError):
    """A vote for an item that is not assigned to the annotator (or does not exist)."""


def utc_now() -> str:
    """The current UTC time in ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class StudyStore:
    """A study directory holding ``study.db``.

    Args:
        path: The study directory.

    Raises:
        DataError: When the directory holds no study.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        self._tokens: dict[str, str] | None = None
        if not self.db_path.is_file():
            raise DataError(
                f"no study here (missing {DB_NAME}); create one with 'tuneval human create'",
                path=self.path,
            )

    @classmethod
    def create(
        cls,
        path: str | Path,
        info: StudyInfo,
        items: list[StudyItem],
        placements: list[Placement],
        assignments: dict[str, list[str]],
        tokens: dict[str, str],
        organiser_token: str,
    ) -> StudyStore:
        """Write a new study; refuses to overwrite an existing one."""
        directory = Path(path)
        db_path = directory / DB_NAME
        if db_path.exists():
            raise UsageError(f"{directory} already holds a study; choose another --out")
        directory.mkdir(parents=True, exist_ok=True)
        tmp = db_path.with_suffix(".db.tmp")
        tmp.unlink(missing_ok=True)
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript(_SCHEMA)
            meta = {"info": info.model_dump_json(), "organiser_token": organiser_token}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            conn.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (i.item_id, n, i.example_id, i.prompt, i.response_a, i.response_b)
                    for n, i in enumerate(items)
                ],
            )
            conn.executemany(
                "INSERT INTO placements VALUES (?, ?, ?)",
                [(p.item_id, p.model_at_a, p.model_at_b) for p in placements],
            )
            conn.executemany(
                "INSERT INTO annotators VALUES (?, ?, ?)",
                [(name, tokens[name], n) for n, name in enumerate(info.annotators)],
            )
            conn.executemany(
                "INSERT INTO assignments VALUES (?, ?, ?)",
                [(a, item, n) for a, ids in assignments.items() for n, item in enumerate(ids)],
            )
            conn.commit()
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        tmp.chmod(0o600)  # it holds the annotators' secret tokens and the mapping
        tmp.replace(db_path)  # a crash mid-creation leaves no half-made study behind
        return cls(directory)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit); closed on exit."""
        conn = sqlite3.connect(self.db_path, timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    def info(self) -> StudyInfo:
        """The study's settings."""
        with self.connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='info'").fetchone()
        return StudyInfo.model_validate_json(row[0])

    def annotator_for(self, token: str) -> str | None:
        """The annotator whose secret token this is (constant-time comparison), or None."""
        found = None
        for name, secret in self.tokens().items():
            if hmac.compare_digest(secret.encode(), token.encode()):
                found = name
        return found

    def is_organiser(self, token: str) -> bool:
        """True when ``token`` is the organiser's secret."""
        return hmac.compare_digest(self.organiser_token().encode(), token.encode())

    def tokens(self) -> dict[str, str]:
        """Each annotator's secret token, in annotator order (fixed when the study is made)."""
        if self._tokens is None:
            with self.connect() as conn:
                rows = conn.execute("SELECT name, token FROM annotators ORDER BY position")
                self._tokens = {name: token for name, token in rows.fetchall()}
        return dict(self._tokens)

    def organiser_token(self) -> str:
        """The organiser page's secret token."""
        with self.connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='organiser_token'").fetchone()
        return str(row[0])

    def items(self) -> list[StudyItem]:
        """All items in study order."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT item_id, example_id, prompt, response_a, response_b FROM items "
                "ORDER BY position"
            ).fetchall()
        return [_item(row) for row in rows]

    def assigned_items(self, annotator: str) -> list[StudyItem]:
        """The items assigned to one annotator, in that annotator's order."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT i.item_id, i.example_id, i.prompt, i.response_a, i.response_b "
                "FROM assignments s JOIN items i USING (item_id) WHERE s.annotator = ? "
                "ORDER BY s.position",
                (annotator,),
            ).fetchall()
        return [_item(row) for row in rows]

    def assignments(self) -> dict[str, list[str]]:
        """Item ids assigned to each annotator, in each annotator's order."""
        out: dict[str, list[str]] = {name: [] for name in self.tokens()}
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT annotator, item_id FROM assignments ORDER BY annotator, position"
            ).fetchall()
        for annotator, item_id in rows:
            out[annotator].append(item_id)
        return out

    def placements(self) -> dict[str, Placement]:
        """The A/B -> model mapping per item: for unblinding only, never for the web app."""
        with self.connect() as conn:
            rows = conn.execute("SELECT item_id, model_at_a, model_at_b FROM placements").fetchall()
        return {r[0]: Placement(item_id=r[0], model_at_a=r[1], model_at_b=r[2]) for r in rows}

    def put_vote(self, annotator: str, item_id: str, vote: VoteInput) -> Vote:
        """Store (or replace) one annotator's vote on one item, atomically.

        Raises:
            NotAssignedError: When the item is not assigned to the annotator.
        """
        return self.put_votes([(annotator, item_id, vote)])[0]

    def put_votes(self, votes: Sequence[tuple[str, str, VoteInput]]) -> list[Vote]:
        """Store (or replace) several ``(annotator, item_id, vote)`` in one transaction.

        Either every vote is stored or, when one fails, none is (an import is all or nothing).

        Raises:
            NotAssignedError: When an item is not assigned to its annotator.
        """
        now = utc_now()
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = [_upsert(conn, a, item, vote, now) for a, item, vote in votes]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return stored

    def votes(self, annotator: str | None = None) -> list[Vote]:
        """Stored votes (of one annotator, or all), ordered by annotator and item."""
        where, args = ("WHERE annotator = ?", (annotator,)) if annotator else ("", ())
        with self.connect() as conn:
            rows = conn.execute(f"{_VOTE_SELECT} {where} ORDER BY annotator, item_id", args)
            return [_vote(row) for row in rows.fetchall()]

    def progress(self) -> dict[str, tuple[int, int]]:
        """Per annotator: (items voted, items assigned)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT s.annotator, COUNT(v.item_id), COUNT(*) FROM assignments s "
                "LEFT JOIN votes v USING (annotator, item_id) GROUP BY s.annotator"
            ).fetchall()
        done = {name: (int(v), int(n)) for name, v, n in rows}
        return {name: done.get(name, (0, 0)) for name in self.tokens()}

    def progress_of(self, annotator: str) -> tuple[int, int]:
        """One annotator's (items voted, items assigned)."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT COUNT(v.item_id), COUNT(*) FROM assignments s "
                "LEFT JOIN votes v USING (annotator, item_id) WHERE s.annotator = ?",
                (annotator,),
            ).fetchone()
        return int(row[0]), int(row[1])


_VOTE_SELECT = (
    f"SELECT annotator, item_id, {', '.join(_SCORE_COLUMNS)}, preference, comment, revision, "
    "updated_at FROM votes"
)


def _upsert(
    conn: sqlite3.Connection, annotator: str, item_id: str, vote: VoteInput, now: str
) -> Vote:
    """Insert or replace one vote inside the caller's transaction; returns the stored vote."""
    assigned = conn.execute(
        "SELECT 1 FROM assignments WHERE annotator = ? AND item_id = ?", (annotator, item_id)
    ).fetchone()
    if assigned is None:
        raise NotAssignedError(f"item '{item_id}' is not assigned to {annotator}")
    scores = [vote.a.value(c) for c in CRITERIA] + [vote.b.value(c) for c in CRITERIA]
    conn.execute(
        f"INSERT INTO votes (annotator, item_id, {', '.join(_SCORE_COLUMNS)}, "
        "preference, comment, revision, updated_at) "
        f"VALUES (?, ?, {', '.join('?' * len(_SCORE_COLUMNS))}, ?, ?, 1, ?) "
        "ON CONFLICT (annotator, item_id) DO UPDATE SET "
        + ", ".join(f"{col} = excluded.{col}" for col in _SCORE_COLUMNS)
        + ", preference = excluded.preference, comment = excluded.comment, "
        "revision = votes.revision + 1, updated_at = excluded.updated_at",
        (annotator, item_id, *scores, vote.preference, vote.comment, now),
    )
    row = conn.execute(
        f"{_VOTE_SELECT} WHERE annotator = ? AND item_id = ?", (annotator, item_id)
    ).fetchone()
    return _vote(row)


def _item(row: tuple[str, ...]) -> StudyItem:
    return StudyItem(
        item_id=row[0], example_id=row[1], prompt=row[2], response_a=row[3], response_b=row[4]
    )


def _vote(row: tuple[object, ...]) -> Vote:
    k = len(CRITERIA)
    return Vote.model_validate(
        {
            "annotator": row[0],
            "item_id": row[1],
            "a": dict(zip(CRITERIA, row[2 : 2 + k], strict=True)),
            "b": dict(zip(CRITERIA, row[2 + k : 2 + 2 * k], strict=True)),
            "preference": row[2 + 2 * k],
            "comment": row[3 + 2 * k],
            "revision": row[4 + 2 * k],
            "updated_at": row[5 + 2 * k],
        }
    )
