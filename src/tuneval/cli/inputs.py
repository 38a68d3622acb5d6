"""Loading the files a scoring command is given into aligned predictions and references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuneval.records import Example


@dataclass(frozen=True)
class Fields:
    """Field names from the mapping flags."""

    prediction: str = "prediction"
    reference: str = "reference"
    id: str = "id"


@dataclass(frozen=True)
class Aligned:
    """Predictions of one or more systems aligned to the eval set's examples."""

    ids: list[str]
    references: list[list[str]]
    predictions: list[list[str]]
    examples: list[Example] = field(default_factory=list)
    """The eval set's examples (for cluster labels and prompts)."""


def load_aligned(prediction_files: list[str], references: str | None, fields: Fields) -> Aligned:
    """Read prediction files and references and align them by id.

    Args:
        prediction_files: One file per system, each a prediction file.
        references: The eval set; when None, references are read from the first prediction file.
        fields: Field-name mapping.

    Returns:
        The aligned data, in eval-set order.
    """
    from tuneval.data import align, load_examples, load_predictions, references_from
    from tuneval.errors import DataError

    examples = load_examples(
        references or prediction_files[0],
        id_field=fields.id,
        reference_field=fields.reference,
        require_reference=True,
    )
    outputs: list[list[str]] = []
    for i, path in enumerate(prediction_files):
        generations = load_predictions(
            path, model=f"system{i + 1}", id_field=fields.id, prediction_field=fields.prediction
        )
        pairs = align(examples, generations)
        failed = [g.example_id for _, g in pairs if g.output is None]
        if failed:
            raise DataError(
                f"{len(failed)} predictions have no output (e.g. ids {failed[:5]}); "
                "regenerate them or drop those items from the eval set",
                path=path,
            )
        outputs.append([g.output or "" for _, g in pairs])
    return Aligned(
        ids=[e.id for e in examples],
        references=references_from(examples),
        predictions=outputs,
        examples=list(examples),
    )
