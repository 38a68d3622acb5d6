"""Export a study for spreadsheet annotation (JSONL and CSV) and import the filled file back.

The exported rows are annotator-facing: one per (annotator, item) assignment with the prompt,
the two anonymous responses and empty rubric columns (pre-filled where a vote exists). Neither
file says which model is where. Cells that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``) are prefixed with ``'`` in the CSV, and the prefix is removed from
comments on import.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tuneval.errors import DataError
from tuneval.human.records import CRITERIA, VoteInput
from tuneval.human.store import StudyStore

SCORE_FIELDS = [f"{side}_{c}" for side in ("a", "b") for c in CRITERIA]
FIELDS = [
    "annotator",
    "item_id",
    "prompt",
    "response_a",
    "response_b",
    *SCORE_FIELDS,
    "preference",
    "comment",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    imported: int
    """Votes stored (new or changed)."""
    blank: int
    """Rows left empty (not rated yet), skipped."""


def export_study(study: str | Path, out: str | Path) -> tuple[Path, Path]:
    """Write ``annotations.jsonl`` and ``annotations.csv`` into ``out``.

    Returns:
        The two paths.
    """
    store = StudyStore(study)
    rows = list(_rows(store))
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, table = directory / "annotations.jsonl", directory / "annotations.csv"
    with jsonl.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return jsonl, table


def _rows(store: StudyStore) -> Iterator[dict[str, Any]]:
    votes = {(v.annotator, v.item_id): v for v in store.votes()}
    for annotator in store.tokens():
        for item in store.assigned_items(annotator):
            row: dict[str, Any] = {
                "annotator": annotator,
                "item_id": item.item_id,
                "prompt": item.prompt,
                "response_a": item.response_a,
                "response_b": item.response_b,
            }
            vote = votes.get((annotator, item.item_id))
            for side in ("a", "b"):
                for c in CRITERIA:
                    row[f"{side}_{c}"] = getattr(vote, side).value(c) if vote else None
            row["preference"] = vote.preference if vote else None
            row["comment"] = vote.comment if vote else ""
            yield row


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def import_votes(study: str | Path, path: str | Path) -> ImportSummary:
    """Read a filled JSONL or CSV export and store its votes (replacing earlier ones).

    Rows with no score, preference or comment are skipped as not rated yet; a partly filled row
    is an error. Every row is checked before any vote is stored.

    Raises:
        DataError: For a row with a missing or invalid field, an unknown annotator or an item
            not assigned to them (naming the file, line and field).
    """
    store = StudyStore(study)
    file = Path(path)
    assigned = {(a, i) for a, ids in store.assignments().items() for i in ids}
    pending = []
    blank = 0
    for line, row in _read(file):
        values = {k: row.get(k) for k in [*SCORE_FIELDS, "preference"]}
        if all(_blank(v) for v in values.values()):
            blank += 1
            continue
        annotator, item_id = str(row.get("annotator") or ""), str(row.get("item_id") or "")
        if (annotator, item_id) not in assigned:
            raise DataError(
                f"item_id: item '{item_id}' is not assigned to annotator '{annotator}'",
                path=file,
                line=line,
                field="item_id",
            )
        pending.append((annotator, item_id, _vote(row, file, line)))
    for annotator, item_id, vote in pending:
        store.put_vote(annotator, item_id, vote)
    return ImportSummary(imported=len(pending), blank=blank)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _vote(row: dict[str, Any], file: Path, line: int) -> VoteInput:
    data: dict[str, Any] = {"a": {}, "b": {}}
    for side in ("a", "b"):
        for c in CRITERIA:
            field = f"{side}_{c}"
            data[side][c] = _score(row.get(field), file, line, field)
    pref = row.get("preference")
    if isinstance(pref, str):
        pref = {"a": "A", "b": "B", "TIE": "tie", "Tie": "tie"}.get(pref.strip(), pref.strip())
    data["preference"] = pref
    comment = row.get("comment") or ""
    if isinstance(comment, str) and comment[:1] == "'" and comment[1:2] in _FORMULA_START:
        comment = comment[1:]
    data["comment"] = comment
    try:
        return VoteInput.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = "_".join(str(p) for p in error["loc"])
        raise DataError(f"{field}: {error['msg']}", path=file, line=line, field=field) from None


def _score(value: Any, file: Path, line: int, field: str) -> int:
    if isinstance(value, bool) or _blank(value):
        raise DataError(f"{field}: missing score (1-5)", path=file, line=line, field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"{field}: score {value!r} is not a number", path=file, line=line, field=field
        ) from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise DataError(
            f"{field}: score {value!r} must be a whole number from 1 to 5",
            path=file,
            line=line,
            field=field,
        )
    return int(number)


def _read(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not file.is_file():
        raise DataError("file does not exist", path=file)
    if file.suffix.lower() == ".csv":
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [
                f
                for f in ("annotator", "item_id", *SCORE_FIELDS, "preference")
                if f not in (reader.fieldnames or [])
            ]
            if missing:
                raise DataError(f"missing columns: {', '.join(missing)}", path=file, line=1)
            for row in reader:
                yield reader.line_num, dict(row)
        return
    with file.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"not JSON: {exc.msg}", path=file, line=number) from None
            if not isinstance(record, dict):
                raise DataError("each line must be a JSON object", path=file, line=number)
            yield number, record
