"""MMLU data: the 57 subjects with their categories, loaders and the 5-shot prompt."""

from __future__ import annotations

import csv
from pathlib import Path

from tuneval.benchmarks._files import load_hub
from tuneval.errors import DataError
from tuneval.records import Record

HUB_ID = "cais/mmlu"
LETTERS = "ABCD"

_GROUPS = {
    "STEM": "abstract_algebra astronomy college_biology college_chemistry "
    "college_computer_science college_mathematics college_physics computer_security "
    "conceptual_physics electrical_engineering elementary_mathematics high_school_biology "
    "high_school_chemistry high_school_computer_science high_school_mathematics "
    "high_school_physics high_school_statistics machine_learning",
    "humanities": "formal_logic high_school_european_history high_school_us_history "
    "high_school_world_history international_law jurisprudence logical_fallacies "
    "moral_disputes moral_scenarios philosophy prehistory professional_law world_religions",
    "social sciences": "econometrics high_school_geography high_school_government_and_politics "
    "high_school_macroeconomics high_school_microeconomics high_school_psychology "
    "human_sexuality professional_psychology public_relations security_studies sociology "
    "us_foreign_policy",
    "other": "anatomy business_ethics clinical_knowledge college_medicine global_facts "
    "human_aging management marketing medical_genetics miscellaneous nutrition "
    "professional_accounting professional_medicine virology",
}
CATEGORY: dict[str, str] = {s: cat for cat, names in _GROUPS.items() for s in names.split()}
"""Subject -> category, as in the MMLU release's ``categories.py``."""
SUBJECTS = sorted(CATEGORY)


class MCQuestion(Record):
    """One multiple-choice question."""

    subject: str
    """MMLU subject, e.g. ``abstract_algebra``."""
    question: str
    """The question text."""
    choices: tuple[str, str, str, str]
    """The four options, A to D."""
    answer: int
    """Index of the correct option (0-3)."""


def _read_csv(path: Path, subject: str) -> list[MCQuestion]:
    """Read one subject CSV.

    Both the original release (no header, letter answer) and the hub export (header
    ``question,choice0..3,answer`` with an index) are accepted.
    """
    if not path.exists():
        raise DataError("file not found", path=path)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if rows and rows[0] == ["question", "choice0", "choice1", "choice2", "choice3", "answer"]:
        rows, first = rows[1:], 2
    else:
        first = 1
    out = []
    for line, row in enumerate(rows, first):
        if len(row) != 6:
            raise DataError(f"expected 6 columns, got {len(row)}", path=path, line=line)
        raw = row[5].strip()
        if raw in LETTERS and raw:
            answer = LETTERS.index(raw)
        elif raw in ("0", "1", "2", "3"):
            answer = int(raw)
        else:
            raise DataError(
                f"answer '{raw}' is not A-D or 0-3", path=path, line=line, field="answer"
            )
        out.append(
            MCQuestion(
                subject=subject,
                question=row[0],
                choices=(row[1], row[2], row[3], row[4]),
                answer=answer,
            )
        )
    return out


def load_split(data: Path | None, subject: str, split: str) -> list[MCQuestion]:
    """The ``dev`` or ``test`` questions of one subject.

    Read from ``data/<split>/<subject>_<split>.csv``, or from the hub when ``data`` is None.
    """
    if data is not None:
        return _read_csv(data / split / f"{subject}_{split}.csv", subject)
    rows = load_hub(HUB_ID, subject, split)
    return [
        MCQuestion(
            subject=subject,
            question=r["question"],
            choices=tuple(r["choices"]),
            answer=int(r["answer"]),
        )
        for r in rows
    ]


def _header(subject: str, fmt: str) -> str:
    words = subject.split("_")
    # evaluate.py's format_subject puts a space before every word, hence "about  anatomy".
    about = "".join(" " + w for w in words) if fmt == "original" else " ".join(words)
    return f"The following are multiple choice questions (with answers) about {about}.\n\n"


def format_question(q: MCQuestion, with_answer: bool, fmt: str = "lm-eval") -> str:
    """One question ending ``Answer:`` (plus `` X`` and a blank line for a shot).

    lm-eval strips the question (``{{question.strip()}}``); the original script and the
    chat format keep it as written. Choices are never stripped.
    """
    text = q.question.strip() if fmt == "lm-eval" else q.question
    text += "".join(f"\n{LETTERS[i]}. {c}" for i, c in enumerate(q.choices))
    text += "\nAnswer:"
    return text + f" {LETTERS[q.answer]}\n\n" if with_answer else text


def format_prompt(q: MCQuestion, shots: list[MCQuestion], fmt: str = "lm-eval") -> str:
    """The k-shot prompt: subject header, the dev examples with answers, then the question.

    Args:
        q: The question asked.
        shots: The few-shot examples (the first five dev questions of the subject).
        fmt: One of `tuneval.benchmarks.options.MMLU_FORMATS`; the text is scored (or
            answered) right after ``Answer:``.
    """
    body = "".join(format_question(s, True, fmt) for s in shots)
    return _header(q.subject, fmt) + body + format_question(q, False, fmt)
