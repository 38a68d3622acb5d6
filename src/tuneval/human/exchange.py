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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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
_REQUIRED = ("annotator", "item_id", *SCORE_FIELDS, "preference")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NO_ROWS = "the file has no rows; fill in the file written by 'tuneval human export'"


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

    Rows with no score or preference are skipped as not rated yet. The import is all or
    nothing: every row is checked first, and when any row has a problem (a partly filled row,
    a repeated annotator and item, a row with missing or extra cells, an unknown annotator or
    an item not assigned to them) no vote is stored and the error names each row.

    Raises:
        DataError: For an empty file, a file that is not UTF-8, or rows with problems (naming
            the file, line and field).
    """
    store = StudyStore(study)
    file = Path(path)
    assigned = {(a, i) for a, ids in store.assignments().items() for i in ids}
    problems = _Problems(file)
    pending = []
    blank = rows = 0
    seen: dict[tuple[str, str], int] = {}
    for line, row in _read(file, problems):
        if all(_blank(v) for v in row.values()):
            continue  # a row of empty cells, as spreadsheets leave below the data
        rows += 1
        key = (str(row.get("annotator") or ""), str(row.get("item_id") or ""))
        first = seen.setdefault(key, line)
        if first != line:
            problems.add(
                line,
                f"repeats the row of annotator '{key[0]}' and item '{key[1]}' at line {first} "
                "(keep one row per annotator and item)",
                "item_id",
            )
        elif all(_blank(row.get(k)) for k in [*SCORE_FIELDS, "preference"]):
            blank += 1
        elif key not in assigned:
            message = f"item_id: item '{key[1]}' is not assigned to annotator '{key[0]}'"
            problems.add(line, message, "item_id")
        else:
            try:
                pending.append((*key, _vote(row, file, line)))
            except DataError as exc:
                problems.add(line, str(exc).removeprefix(f"{file}:{line}: "), exc.field)
    problems.raise_if_any()
    if rows == 0:
        raise DataError(_NO_ROWS, path=file)
    store.put_votes(pending)  # one transaction: all of them or none
    return ImportSummary(imported=len(pending), blank=blank)


@dataclass
class _Problems:
    """Every bad row of an import, so that one error names them all (up to `SHOWN`)."""

    file: Path
    found: list[tuple[int, str, str | None]] = field(default_factory=list)

    SHOWN: ClassVar[int] = 5

    def add(self, line: int, message: str, name: str | None = None) -> None:
        """Note a problem of the row at ``line`` (``name``: the field at fault, if one is)."""
        self.found.append((line, message, name))

    def raise_if_any(self) -> None:
        """Raise one `DataError` for the problems found, if any."""
        if len(self.found) == 1:
            line, message, name = self.found[0]
            raise DataError(
                f"{message}; nothing was imported", path=self.file, line=line, field=name
            )
        if self.found:
            shown = "; ".join(f"{self.file}:{n}: {m}" for n, m, _ in self.found[: self.SHOWN])
            more = len(self.found) - self.SHOWN
            rest = f"; and {more} more" if more > 0 else ""
            raise DataError(
                f"{len(self.found)} rows have problems, nothing was imported: {shown}{rest}",
                line=self.found[0][0],
                field=self.found[0][2],
            )


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


def _read(file: Path, problems: _Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` for each well-formed row; note malformed ones in ``problems``.

    The file is read by `tuneval.data.read_records` (UTF-8 with or without Excel's BOM, cell
    counts, JSON objects): the same strictness and wording as every other data file.
    """
    from tuneval.data.readers import NoRecordsError, read_records

    errors: list[DataError] = []
    header_checked = file.suffix.lower() != ".csv"
    try:
        for record in read_records(file, errors=errors):
            _note(errors, problems)
            row = record.data
            if not header_checked:
                # A CSV's columns are its header's (line 1): one error for the whole file.
                missing = [f for f in _REQUIRED if f not in row]
                unknown = [str(k) for k in row if k not in FIELDS]
                if missing or unknown:
                    raise DataError(_shape(missing, unknown, "columns"), path=file, line=1)
                header_checked = True
            missing = [f for f in _REQUIRED if f not in row]
            unknown = [str(k) for k in row if k not in FIELDS]
            if missing or unknown:
                problems.add(record.line, _shape(missing, unknown, "fields"))
                continue
            yield record.line, row
    except NoRecordsError:
        raise DataError(_NO_ROWS, path=file) from None
    _note(errors, problems)


def _note(errors: list[DataError], problems: _Problems) -> None:
    """Move the reader's malformed-row errors into ``problems`` (without their location)."""
    for exc in errors:
        prefix = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
        problems.add(exc.line or 0, str(exc).removeprefix(prefix), exc.field)
    errors.clear()


def _shape(missing: list[str], unknown: list[str], what: str) -> str:
    parts = [f"missing {what}: {', '.join(missing)}"] if missing else []
    if unknown:
        parts.append(
            f"unknown {what}: {', '.join(unknown)} (the export's {what} are {', '.join(FIELDS)})"
        )
    return " and ".join(parts)
