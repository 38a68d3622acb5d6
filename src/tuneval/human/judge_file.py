"""Reading an LLM judge's verdicts and scores, to compare them with the human votes.

The coupling to the judge is one file format, read leniently. A file of *scores*
(`load_judge_scores`) is tuneval's single-output judge records (``judge_single.jsonl``):
``example_id``, ``model`` and ``score`` (null when unscored) on each line. A file of
*verdicts* (`load_judge_verdicts`) has ``example_id`` and a verdict on each line, given as

* ``outcome`` / ``winner`` / ``verdict`` / ``preference``: ``a``, ``b``, ``tie`` (in the
  study's ``--a``/``--b`` terms) or the name of the winning model; or
* tuneval's pairwise judge records (``judge_pairwise.jsonl``): ``position`` (A, B, tie or
  null when unscored), ``order`` (``ab``/``ba``) and ``model_a``/``model_b``.

An item judged several times (both orders, several judges) gets the verdict they all agree on,
and ``tie`` when they differ (an order-inconsistent verdict is a tie, as MT-Bench counts it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneval.errors import DataError
from tuneval.records import Outcome

_VERDICT_FIELDS = ("outcome", "winner", "verdict", "preference")


def is_score_file(path: str | Path) -> bool:
    """Whether a judge file holds single-output scores (its first record has ``score``)."""
    from tuneval.data.readers import read_records

    first = next(iter(read_records(path)), None)
    return first is not None and "score" in first.data and "model" in first.data


def load_judge_scores(path: str | Path, model_a: str, model_b: str) -> dict[str, dict[str, float]]:
    """Each example's judge score per side (``a``, ``b``): the mean of its scored repeats.

    Records of other models are skipped; an unscored record (``score`` null) adds nothing.

    Raises:
        DataError: For a line without a string ``example_id`` or ``model``, or a score that
            is not a number (naming the file, line and field).
    """
    from tuneval.data.readers import read_records

    sides = {model_a: "a", model_b: "b"}
    seen: dict[str, dict[str, list[float]]] = {}
    for rec in read_records(path):
        for field in ("example_id", "model"):
            if not isinstance(rec.data.get(field), str):
                raise DataError(
                    f"{field}: each line of a judge score file needs a string {field}",
                    path=rec.path,
                    line=rec.line,
                    field=field,
                )
        side, score = sides.get(rec.data["model"]), rec.data.get("score")
        if side is None or score is None:
            continue
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise DataError(
                f"score: {score!r} is not a number", path=rec.path, line=rec.line, field="score"
            )
        seen.setdefault(rec.data["example_id"], {}).setdefault(side, []).append(float(score))
    return {k: {s: sum(v) / len(v) for s, v in d.items()} for k, d in seen.items()}


def load_judge_verdicts(path: str | Path, model_a: str, model_b: str) -> dict[str, Outcome]:
    """One verdict per example id, in the study's terms (``a`` is ``model_a``).

    Raises:
        DataError: For a missing file, a line that is not a JSON object, no ``example_id``, or
            a verdict that cannot be read (naming the file, line and field).
    """
    from tuneval.data.readers import read_records

    seen: dict[str, set[Outcome]] = {}
    for rec in read_records(path):
        if not isinstance(rec.data.get("example_id"), str):
            raise DataError(
                "example_id: each line needs a string example_id",
                path=rec.path,
                line=rec.line,
                field="example_id",
            )
        outcome = _verdict(rec.data, model_a, model_b, Path(rec.path), rec.line)
        if outcome is not None:
            seen.setdefault(rec.data["example_id"], set()).add(outcome)
    return {k: next(iter(v)) if len(v) == 1 else "tie" for k, v in seen.items()}


def _verdict(
    record: dict[str, Any], model_a: str, model_b: str, file: Path, line: int
) -> Outcome | None:
    if "position" in record and "order" in record:
        return _pair_judgment(record, model_a, model_b, file, line)
    field = next((f for f in _VERDICT_FIELDS if f in record), None)
    if field is None:
        raise DataError(
            f"no verdict: give one of {', '.join(_VERDICT_FIELDS)} or position+order",
            path=file,
            line=line,
        )
    value = record[field]
    if value is None:
        return None  # unscored
    names: dict[str, Outcome] = {"a": "a", "b": "b", "tie": "tie", model_a: "a", model_b: "b"}
    text = str(value).strip()
    outcome = names.get(text) or names.get(text.lower())
    if outcome is None:
        raise DataError(
            f"{field}: verdict {value!r} is not a, b, tie, '{model_a}' or '{model_b}'",
            path=file,
            line=line,
            field=field,
        )
    return outcome


def _pair_judgment(
    record: dict[str, Any], model_a: str, model_b: str, file: Path, line: int
) -> Outcome | None:
    position, order = record.get("position"), record.get("order")
    if position is None:
        return None
    if position not in ("A", "B", "tie") or order not in ("ab", "ba"):
        raise DataError(
            f"position/order: {position!r}/{order!r} must be A, B or tie / ab or ba",
            path=file,
            line=line,
            field="position",
        )
    if position == "tie":
        return "tie"
    # Its own a/b: ``ab`` shows its model_a first.
    own: Outcome = "a" if (position == "A") == (order == "ab") else "b"
    pair = (record.get("model_a", model_a), record.get("model_b", model_b))
    if pair == (model_a, model_b):
        return own
    if pair == (model_b, model_a):
        return "b" if own == "a" else "a"
    raise DataError(
        f"model_a/model_b: the judge compared {pair[0]} vs {pair[1]}, "
        f"the study compares {model_a} vs {model_b}",
        path=file,
        line=line,
        field="model_a",
    )
