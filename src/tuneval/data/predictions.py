"""Loading model predictions into `Generation`s and aligning them with an eval set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tuneval.data.evalset import (
    RecordList,
    field_error,
    missing_error,
    optional_string,
    record_ids,
)
from tuneval.data.readers import SourceRecord, read_records
from tuneval.errors import DataError, setting_hint
from tuneval.records import Example, Generation

ERROR_FIELD = "error"
"""Field that says why a record has no prediction (its prediction is then null)."""


def load_predictions(
    source: str | Path,
    *,
    model: str,
    id_field: str = "id",
    prediction_field: str = "prediction",
) -> RecordList[Generation]:
    """Load one model's predictions from any format `read_records` understands.

    Ids follow the rules of `load_examples`: strings or integers, unique, and either present in
    every record or in none (then they are the 1-based line/record numbers and `align` matches
    by position). The prediction must be a string; it may be null only when the record has a
    string ``error`` field saying why, which gives a `Generation` with that error. All other
    fields go into `Generation.metadata`.

    Args:
        source: A file path or an ``hf:`` spec.
        model: Name of the model that produced the predictions, e.g. ``finetuned``.
        id_field: Field that holds the example id.
        prediction_field: Field that holds the model output.

    Returns:
        The generations in file order, as a list that remembers its source.

    Raises:
        DataError: For unreadable sources, missing or mistyped fields, or bad ids; the message
            names the file, line and field.
    """
    records = list(read_records(source))
    ids, synthetic = record_ids(records, id_field)
    used = {id_field, prediction_field, ERROR_FIELD}
    generations = [
        Generation(
            example_id=example_id,
            model=model,
            output=_prediction(record, prediction_field),
            error=_error(record),
            metadata={k: v for k, v in record.data.items() if k not in used},
        )
        for record, example_id in zip(records, ids, strict=True)
    ]
    return RecordList(generations, path=str(source), id_field=id_field, synthetic_ids=synthetic)


def _prediction(record: SourceRecord, field: str) -> str | None:
    expected = "a string: the model output"
    if field not in record.data:
        raise missing_error(record, field, expected, "prediction_field")
    value = optional_string(record, field, expected, "prediction_field")
    if value is None and _error(record) is None:
        raise field_error(
            record,
            field,
            f"field '{field}' is null and there is no '{ERROR_FIELD}' field saying why; give "
            f"the output, or a string '{ERROR_FIELD}' when the model call failed",
        )
    return value


def _error(record: SourceRecord) -> str | None:
    expected = "a string: why the model call failed"
    # An empty CSV cell means "no error", not an error with an empty message.
    return optional_string(record, ERROR_FIELD, expected, None) or None


def align(
    examples: Sequence[Example], generations: Sequence[Generation], *, what: str = "predictions"
) -> list[tuple[Example, Generation]]:
    """Pair each example with its generation, in eval-set order.

    Generations are matched by id. When both sides come from files without ids (lists from
    `load_examples` and `load_predictions` whose ids were synthesised), they are matched by
    position instead, and must have the same length.

    Args:
        examples: The eval set.
        generations: One model's generations.
        what: What the generations are, for messages, e.g. ``"base model predictions"``.

    Returns:
        ``(example, generation)`` pairs, one per example, in the order of `examples`.

    Raises:
        DataError: If the lengths differ, ids are duplicated, or some ids have no counterpart;
            the message gives counts and the first five ids of each kind.
    """
    path = getattr(generations, "path", None)
    if _synthetic(examples) and _synthetic(generations):
        if len(examples) != len(generations):
            raise DataError(
                f"the eval set has {len(examples)} examples but the {what} have "
                f"{len(generations)}; neither has ids, so they are matched by position and "
                "must be equally long. Add an id field to both to match by id",
                path=path,
            )
        return list(zip(examples, generations, strict=True))
    _check_unique([e.id for e in examples], "the eval set", getattr(examples, "path", None))
    _check_unique([g.example_id for g in generations], f"the {what}", path)
    by_id = {generation.example_id: generation for generation in generations}
    known = {example.id for example in examples}
    missing = [example.id for example in examples if example.id not in by_id]
    extra = [
        generation.example_id for generation in generations if generation.example_id not in known
    ]
    if missing or extra:
        raise DataError(_mismatch_message(examples, generations, missing, extra, what), path=path)
    return [(example, by_id[example.id]) for example in examples]


def _synthetic(items: Sequence[object]) -> bool:
    return bool(getattr(items, "synthetic_ids", False))


def _first(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:5])
    return shown + (", ..." if len(ids) > 5 else "")


def _check_unique(ids: Sequence[str], where: str, path: str | None) -> None:
    duplicates = [i for i, count in Counter(ids).items() if count > 1]
    if duplicates:
        raise DataError(
            f"{len(duplicates)} ids occur more than once in {where} ({_first(duplicates)}); "
            "each id must appear once",
            path=path,
        )


def _mismatch_message(
    examples: Sequence[Example],
    generations: Sequence[Generation],
    missing: list[str],
    extra: list[str],
    what: str,
) -> str:
    parts = [
        f"the {len(generations)} {what} do not match the {len(examples)} examples of the eval set"
    ]
    if missing:
        parts.append(f"{len(missing)} eval-set ids have no prediction ({_first(missing)})")
    if extra:
        parts.append(f"{len(extra)} ids are not in the eval set ({_first(extra)})")
    for items, name in ((generations, f"the {what}"), (examples, "the eval set")):
        if _synthetic(items):
            field = getattr(items, "id_field", "id")
            parts.append(
                f"no record of {name} has an '{field}' field, so they were numbered by line; "
                "add the ids"
                + setting_hint("id_field", ", or use {} to map the field that holds them")
            )
    return "; ".join(parts) + ". Check that both files belong to the same eval set"
