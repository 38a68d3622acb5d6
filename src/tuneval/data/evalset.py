"""Loading eval sets into `Example`s, with field checks that name the file, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tuneval.data.readers import SourceRecord, json_type, read_records
from tuneval.errors import DataError, setting_hint
from tuneval.records import Difficulty, Example

_T = TypeVar("_T")
_DIFFICULTIES: dict[str, Difficulty] = {"easy": "easy", "medium": "medium", "hard": "hard"}
_TRUE = ("true", "1")
_FALSE = ("false", "0", "")


class RecordList(list[_T]):
    """A list of loaded items that remembers its source and whether its ids were synthesised.

    `align` uses `synthetic_ids` to match two id-less files by position, and `path` to name the
    file in its errors. Slicing or copying gives a plain list, which is always safe: it only
    loses those hints.

    Attributes:
        path: The source the items were read from, if any.
        id_field: The field the ids were read from.
        synthetic_ids: True when no record had an id and ids are 1-based line/record numbers.
    """

    def __init__(
        self, items: list[_T], *, path: str | None, id_field: str, synthetic_ids: bool
    ) -> None:
        super().__init__(items)
        self.path = path
        self.id_field = id_field
        self.synthetic_ids = synthetic_ids


@dataclass(frozen=True)
class ExampleFields:
    """Source field names of the `Example` attributes, and which fields are required."""

    id: str
    prompt: str
    reference: str
    references: str
    category: str
    difficulty: str
    adversarial: str
    require_prompt: bool
    require_reference: bool

    @property
    def names(self) -> set[str]:
        """The mapped field names; every other field goes into the metadata."""
        return {self.id, self.prompt, self.reference, self.references, self.category,
                self.difficulty, self.adversarial}  # fmt: skip


def to_example(record: SourceRecord, example_id: str, fields: ExampleFields) -> Example:
    """The `Example` of one source record under the field mapping (the rest is metadata)."""
    mapped = fields.names
    return Example(
        id=example_id,
        prompt=_prompt(record, fields.prompt, fields.require_prompt),
        references=_references(record, fields, fields.require_reference),
        category=_category(record, fields.category),
        difficulty=_difficulty(record, fields.difficulty),
        adversarial=_adversarial(record, fields.adversarial),
        metadata={k: v for k, v in record.data.items() if k not in mapped},
    )


def load_examples(
    source: str | Path,
    *,
    id_field: str = "id",
    prompt_field: str = "prompt",
    reference_field: str = "reference",
    references_field: str = "references",
    category_field: str = "category",
    difficulty_field: str = "difficulty",
    adversarial_field: str = "adversarial",
    require_prompt: bool = False,
    require_reference: bool = False,
) -> RecordList[Example]:
    """Load an eval set from any format `read_records` understands.

    A record holds its reference as a string in `reference_field` (a list of strings is also
    accepted there) or as a list of strings in `references_field`. Ids may be strings or
    integers (converted to strings). When no record has an id field, ids are the records'
    1-based line numbers (JSONL, CSV) or record numbers (JSON arrays, Parquet, Hugging Face)
    as strings, and `align` matches such files by position. Fields not mapped to an `Example`
    attribute are kept in `Example.metadata`. Empty CSV cells count as absent for category,
    difficulty and adversarial.

    Args:
        source: A file path or an ``hf:`` spec.
        id_field: Field that holds the example id.
        prompt_field: Field that holds the prompt.
        reference_field: Field that holds the reference string.
        references_field: Field that holds a list of reference strings.
        category_field: Field that holds the category.
        difficulty_field: Field that holds the difficulty: easy, medium or hard (any case).
        adversarial_field: Field that holds the adversarial flag: true/false, 1/0, or those
            words as strings.
        require_prompt: Fail for records without a prompt.
        require_reference: Fail for records without a reference.

    Returns:
        The examples in file order, as a list that remembers its source.

    Raises:
        DataError: For unreadable sources, missing or mistyped fields, some records without
            ids, or duplicate ids; the message names the file, line and field.
    """
    records = list(read_records(source))
    ids, synthetic = record_ids(records, id_field)
    fields = ExampleFields(
        id_field, prompt_field, reference_field, references_field, category_field,
        difficulty_field, adversarial_field, require_prompt, require_reference,
    )  # fmt: skip
    examples = [
        to_example(record, example_id, fields)
        for record, example_id in zip(records, ids, strict=True)
    ]
    return RecordList(examples, path=str(source), id_field=id_field, synthetic_ids=synthetic)


def references_from(examples: Sequence[Example]) -> list[list[str]]:
    """The references of each example, for metrics.

    Args:
        examples: Examples, typically from `load_examples`.

    Returns:
        One list of reference strings per example, in order.

    Raises:
        DataError: If some examples have no reference; the message names their ids.
    """
    missing = [example.id for example in examples if not example.references]
    if missing:
        raise DataError(
            f"{len(missing)} of {len(examples)} examples have no reference (ids: "
            f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); add a 'reference' "
            f"field to each{setting_hint('reference_field', ', or use {} to map another field')}",
            path=getattr(examples, "path", None),
        )
    return [list(example.references) for example in examples]


def record_ids(records: Sequence[SourceRecord], id_field: str) -> tuple[list[str], bool]:
    """Read and check the id of each record, or number the records when none has an id.

    Args:
        records: The records of one source.
        id_field: Field that holds the id.

    Returns:
        The ids, and whether they were synthesised from line/record numbers.

    Raises:
        DataError: If only some records have the field, an id is not a non-empty string or an
            integer, or two records share an id.
    """
    with_id = [record for record in records if id_field in record.data]
    if not with_id:
        return [str(record.line) for record in records], True
    ids: list[str] = []
    seen: dict[str, SourceRecord] = {}
    for record in records:
        if id_field not in record.data:
            raise field_error(
                record,
                id_field,
                f"missing field '{id_field}', but other records have one "
                f"(e.g. {with_id[0].where}); give every record an id, or none to number them "
                f"by line{setting_hint('id_field', '; use {} to map another field')}",
            )
        example_id = id_value(record, id_field)
        if example_id in seen:
            raise field_error(
                record,
                id_field,
                f"duplicate id '{example_id}' in field '{id_field}' (first on "
                f"{seen[example_id].where}); ids must be unique",
            )
        seen[example_id] = record
        ids.append(example_id)
    return ids, False


def id_value(record: SourceRecord, id_field: str) -> str:
    """The record's id as a string (an integer id is accepted; anything else is an error)."""
    value = record.data[id_field]
    # bool is an int subclass, but True as an id is almost surely a wrong column.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    expected = "a non-empty string or an integer: the example id"
    raise type_error(record, id_field, value, expected, "id_field")


def field_error(record: SourceRecord, field: str, message: str) -> DataError:
    """A `DataError` located at `record` and `field`."""
    return DataError(message, path=record.path, line=record.line, field=field)


def type_error(
    record: SourceRecord, field: str, value: Any, expected: str, setting: str | None
) -> DataError:
    """A `DataError` for a field whose value has the wrong type or form.

    Args:
        record: The record that holds the field.
        field: The field's name.
        value: The value found.
        expected: What the value should be, e.g. ``"a string: the prompt"``.
        setting: The setting that maps another field, e.g. ``"prompt_field"``, if any.
    """
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    hint = setting_hint(setting, " or use {} to map another field") if setting else ""
    return field_error(
        record,
        field,
        f"field '{field}' must be {expected}, found {json_type(value)} {shown}; "
        f"fix the value{hint}",
    )


def missing_error(record: SourceRecord, field: str, expected: str, setting: str) -> DataError:
    """A `DataError` for a required field the record lacks, listing the fields it has."""
    present = ", ".join(f"'{key}'" for key in record.data) or "none"
    return field_error(
        record,
        field,
        f"missing field '{field}' (expected {expected}"
        f"{setting_hint(setting, '; use {} to map another field')}); the record has fields: "
        f"{present}",
    )


def optional_string(
    record: SourceRecord, field: str, expected: str, setting: str | None
) -> str | None:
    """The string value of `field`, None when absent or null; any other type is an error."""
    value = record.data.get(field)
    if value is None or isinstance(value, str):
        return value
    raise type_error(record, field, value, expected, setting)


def _prompt(record: SourceRecord, field: str, required: bool) -> str | None:
    expected = "a string: the input shown to the model"
    value = optional_string(record, field, expected, "prompt_field")
    if value is None and required:
        raise missing_error(record, field, expected, "prompt_field")
    return value


def _references(record: SourceRecord, fields: ExampleFields, required: bool) -> tuple[str, ...]:
    single, several = record.data.get(fields.reference), record.data.get(fields.references)
    if single is not None and several is not None:
        raise field_error(
            record,
            fields.reference,
            f"both '{fields.reference}' and '{fields.references}' are "
            "set; keep one (a list of strings may go in either)",
        )
    field, value = (
        (fields.reference, single) if single is not None else (fields.references, several)
    )
    expected = "a string: the reference output"
    if value is None:
        if required:
            raise missing_error(record, fields.reference, expected, "reference_field")
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise type_error(
            record, field, value, expected + " (or a list of strings)", "reference_field"
        )
    for item in value:
        if not isinstance(item, str):
            raise type_error(
                record, field, item, "a list of strings: the reference outputs", "reference_field"
            )
    if required and not value:
        raise field_error(
            record, field, f"field '{field}' is an empty list; give at least one reference"
        )
    return tuple(value)


def _category(record: SourceRecord, field: str) -> str | None:
    value = optional_string(record, field, "a string: the category", "category_field")
    return value or None


def _difficulty(record: SourceRecord, field: str) -> Difficulty | None:
    expected = f"one of {', '.join(_DIFFICULTIES)} (any case)"
    value = optional_string(record, field, expected, "difficulty_field")
    if not value:
        return None
    difficulty = _DIFFICULTIES.get(value.strip().lower())
    if difficulty is not None:
        return difficulty
    raise type_error(record, field, value, expected, "difficulty_field")


def _adversarial(record: SourceRecord, field: str) -> bool:
    value = record.data.get(field)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    expected = 'a boolean: true/false, 1/0, or "true"/"false"'
    raise type_error(record, field, value, expected, "adversarial_field")
