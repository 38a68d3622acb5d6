"""Eval-set validation and coverage: every schema problem with file:line, and what is missing.

`validate_evalset` checks every record (not just the first bad one), then reports coverage by
category and difficulty, adversarial items, exact and near-duplicate prompts, and warnings
where a category is too small to say anything or lacks hard or adversarial items.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from tuneval.errors import DataError
from tuneval.records import Example, Record

MIN_PER_CATEGORY = 10
"""Fewer items than this in a category gets a warning: its CI will be too wide to use."""

MAX_LISTED_ERRORS = 50
"""How many schema errors `EvalSetReport.error_lines` lists before it only counts the rest."""

NEAR_DUPLICATE_JACCARD = 0.8
"""Word 3-gram Jaccard similarity at or above which two prompts count as near-duplicates."""


class Problem(Record):
    """One schema error in the eval set."""

    path: str
    """The file."""
    line: int | None
    """1-based line (or record) number."""
    field: str | None
    """The field at fault."""
    message: str
    """What is wrong and how to fix it."""

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class EvalSetReport(Record):
    """Validation result and coverage of one eval set."""

    path: str
    """The eval set."""
    n: int
    """Valid items."""
    errors: list[Problem] = Field(default_factory=list)
    """Schema errors, every one of them."""
    coverage: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Items per category and difficulty (``(none)`` where absent)."""
    adversarial: dict[str, int] = Field(default_factory=dict)
    """Adversarial items per category."""
    with_reference: int = 0
    """Items that have at least one reference."""
    duplicates: list[list[str]] = Field(default_factory=list)
    """Groups of ids whose prompts are identical after normalising case and spaces."""
    near_duplicates: list[tuple[str, str, float]] = Field(default_factory=list)
    """Pairs of ids with near-identical prompts and their similarity."""
    warnings: list[str] = Field(default_factory=list)
    """Things to fix before trusting results."""

    @property
    def ok(self) -> bool:
        """True when there are no schema errors."""
        return not self.errors

    def error_lines(self, limit: int = MAX_LISTED_ERRORS) -> list[str]:
        """The errors as printable lines, the first `limit` of them and a count of the rest."""
        lines = [f"error: {problem}" for problem in self.errors[:limit]]
        rest = len(self.errors) - limit
        if rest > 0:
            lines.append(f"... and {rest} more error(s) not listed")
        return lines


def _check_records(path: str) -> tuple[list[Example], list[Problem]]:
    from tuneval.data import read_records
    from tuneval.data.evalset import ExampleFields, id_value, to_example

    fields = ExampleFields(
        "id", "prompt", "reference", "references", "category", "difficulty", "adversarial",
        True, False,
    )  # fmt: skip
    problems: list[Problem] = []
    examples: list[Example] = []
    seen: dict[str, int] = {}
    unreadable: list[DataError] = []
    try:
        records = list(read_records(path, errors=unreadable))
    except DataError as exc:
        unreadable.append(exc)
        records = []
    problems.extend(
        Problem(path=path, line=exc.line, field=exc.field, message=_msg(exc)) for exc in unreadable
    )
    for record in records:
        # Each record is checked on its own so that every bad record is reported.
        try:
            if "id" not in record.data:
                raise DataError("missing id; give every item a unique 'id'", field="id")
            example = to_example(record, id_value(record, "id"), fields)
        except DataError as exc:
            problems.append(
                Problem(path=path, line=record.line, field=exc.field, message=_msg(exc))
            )
            continue
        if example.id in seen:
            message = f"duplicate id '{example.id}' (first on line {seen[example.id]})"
            problems.append(Problem(path=path, line=record.line, field="id", message=message))
            continue
        seen[example.id] = record.line
        examples.append(example)
    # Unreadable lines were collected while reading; list every problem in file order.
    problems.sort(key=lambda p: p.line or 0)
    return examples, problems


def _msg(exc: DataError) -> str:
    # validate_evalset reads the standard field names and maps none: no setting to suggest.
    text = str(exc.name_settings(lambda setting: None))
    if exc.path is not None and text.startswith(exc.path):
        return text[len(exc.path) :].lstrip(":0123456789 ")
    return text


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _norm(text).split()
    if len(words) < 3:
        return {tuple(words)}
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def find_duplicates(
    examples: Sequence[Example], threshold: float = NEAR_DUPLICATE_JACCARD
) -> tuple[list[list[str]], list[tuple[str, str, float]]]:
    """Exact duplicate groups and near-duplicate pairs of prompts."""
    groups: dict[str, list[str]] = {}
    for e in examples:
        groups.setdefault(_norm(e.prompt or ""), []).append(e.id)
    exact = [ids for ids in groups.values() if len(ids) > 1]
    firsts = [(ids[0], key) for key, ids in groups.items()]
    shingles = [(i, _shingles(k)) for i, k in firsts]
    near = []
    for a in range(len(shingles)):
        for b in range(a + 1, len(shingles)):
            sa, sb = shingles[a][1], shingles[b][1]
            sim = len(sa & sb) / max(1, len(sa | sb))
            if sim >= threshold:
                near.append((shingles[a][0], shingles[b][0], round(sim, 3)))
    return exact, near


def validate_evalset(path: str | Path) -> EvalSetReport:
    """Validate an eval set and describe its coverage.

    Raises:
        DataError: Only when the file cannot be read at all; record problems are reported.
    """
    source = str(path)
    if not source.startswith("hf:") and not Path(source).exists():
        raise DataError(
            f"eval set {source} does not exist; check the path and the working directory"
        )
    examples, errors = _check_records(source)
    coverage: dict[str, Counter[str]] = {}
    adversarial: Counter[str] = Counter()
    for e in examples:
        cat = e.category or "(none)"
        coverage.setdefault(cat, Counter())[e.difficulty or "(none)"] += 1
        adversarial[cat] += int(e.adversarial)
    exact, near = find_duplicates(examples)
    warnings = []
    for cat, counts in coverage.items():
        total = sum(counts.values())
        if total < MIN_PER_CATEGORY:
            warnings.append(
                f"category '{cat}' has {total} items (< {MIN_PER_CATEGORY}); its numbers will "
                "have very wide confidence intervals"
            )
        if not counts.get("hard"):
            warnings.append(f"category '{cat}' has no hard items")
        if not adversarial[cat]:
            warnings.append(f"category '{cat}' has no adversarial items")
    if exact:
        warnings.append(f"{len(exact)} groups of duplicate prompts")
    if near:
        warnings.append(f"{len(near)} pairs of near-duplicate prompts")
    return EvalSetReport(
        path=source,
        n=len(examples),
        errors=errors,
        coverage={c: dict(v) for c, v in coverage.items()},
        adversarial=dict(adversarial),
        with_reference=sum(bool(e.references) for e in examples),
        duplicates=exact,
        near_duplicates=near,
        warnings=warnings,
    )
