"""Creating a blind A/B study: pairing two models' outputs, placing them, assigning annotators.

Everything random comes from one ``random.Random(seed)``, so the same inputs and seed give the
same study: which response is shown as A for each item, which annotators get which items, and
the order each annotator sees them in. Only the secret tokens differ between two creations.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from tuneval.errors import DataError, UsageError, setting_hint
from tuneval.human.records import Placement, StudyInfo, StudyItem
from tuneval.human.store import StudyStore, utc_now

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PROMPT_FIELDS = ("prompt", "input", "instruction", "question")


@dataclass(frozen=True)
class Pair:
    """Both models' outputs for one example, before blinding."""

    example_id: str
    prompt: str
    output_a: str
    output_b: str


@dataclass(frozen=True)
class PairSet:
    """The pairs of a study source, and the example ids left out (a model had no output)."""

    pairs: list[Pair]
    skipped: list[str]
    source: str


def pairs_from_run(run: str | Path, model_a: str, model_b: str) -> PairSet:
    """Pair two models' generations in a run directory, in eval-set order.

    Raises:
        DataError: When a model has no generations in the run, or an example has no prompt.
    """
    from tuneval.rundir import RunDir

    rundir = RunDir(run)
    examples = rundir.examples()
    outputs: dict[str, dict[str, str | None]] = {}
    for model in (model_a, model_b):
        gens = rundir.generations(model)
        if not gens:
            known = ", ".join(rundir.model_names()) or "none"
            raise DataError(
                f"no generations for model '{model}' (models in the run: {known})",
                path=rundir.generations_path,
            )
        outputs[model] = {g.example_id: g.output for g in gens}  # the last record wins
    prompts = {e.id: e.prompt for e in examples}
    return _pair(prompts, outputs[model_a], outputs[model_b], str(run), rundir.examples_path)


def pairs_from_predictions(
    predictions_a: str | Path,
    predictions_b: str | Path,
    *,
    examples: str | Path | None = None,
    id_field: str = "id",
    prediction_field: str = "prediction",
) -> PairSet:
    """Pair two prediction files by example id; prompts come from ``examples`` or the files.

    Without an eval set, the prompt is read from a ``prompt`` (or ``input``, ``instruction``,
    ``question``) field of the prediction records.

    Raises:
        DataError: For unreadable files, or an example with no prompt anywhere.
    """
    from tuneval.data import load_examples, load_predictions

    loaded = [
        load_predictions(p, model=m, id_field=id_field, prediction_field=prediction_field)
        for p, m in ((predictions_a, "a"), (predictions_b, "b"))
    ]
    prompts: dict[str, str | None] = {}
    if examples is not None:
        prompts = {e.id: e.prompt for e in load_examples(examples, id_field=id_field)}
    else:
        for gens in loaded:
            for g in gens:
                found = next((g.metadata[f] for f in _PROMPT_FIELDS if f in g.metadata), None)
                if isinstance(found, str) and g.example_id not in prompts:
                    prompts[g.example_id] = found
    out_a = {g.example_id: g.output for g in loaded[0]}
    out_b = {g.example_id: g.output for g in loaded[1]}
    source = f"{predictions_a} vs {predictions_b}"
    return _pair(prompts, out_a, out_b, source, Path(examples or predictions_a))


def _pair(
    prompts: dict[str, str | None],
    out_a: dict[str, str | None],
    out_b: dict[str, str | None],
    source: str,
    prompt_file: Path,
) -> PairSet:
    order = list(prompts) if prompts else list(out_a)
    pairs: list[Pair] = []
    skipped: list[str] = []
    for example_id in order:
        if example_id not in out_a and example_id not in out_b:
            continue  # not generated for either model: not part of the comparison
        a, b = out_a.get(example_id), out_b.get(example_id)
        if a is None or b is None:
            skipped.append(example_id)
            continue
        prompt = prompts.get(example_id)
        if prompt is None:
            raise DataError(
                f"example '{example_id}' has no prompt to show annotators; add a 'prompt' field"
                + setting_hint("examples", " or pass the eval set with {}"),
                path=prompt_file,
                field="prompt",
            )
        pairs.append(Pair(example_id, prompt, a, b))
    if not pairs:
        raise DataError("no example has outputs from both models; nothing to annotate", path=source)
    return PairSet(pairs, skipped, source)


def check_annotators(annotators: list[str], per_item: int) -> None:
    """Validate annotator names and the number of annotators per item.

    Raises:
        UsageError: For a bad or repeated name, or ``per_item`` outside 1..len(annotators).
    """
    if not annotators:
        raise UsageError(
            "give at least one annotator" + setting_hint("annotators", ", e.g. {} ann1,ann2,ann3")
        )
    for name in annotators:
        if not _NAME.match(name):
            raise UsageError(
                f"annotator name {name!r} must be 1-64 letters, digits, '.', '_' or '-'"
            )
    if len(set(annotators)) != len(annotators):
        raise UsageError("annotator names must be unique")
    if not 1 <= per_item <= len(annotators):
        raise UsageError(
            f"annotators per item{setting_hint('per_item', ' ({})')} must be between 1 and the "
            f"number of annotators ({len(annotators)}), got {per_item}"
        )


def create_study(
    out: str | Path,
    pairs: PairSet,
    *,
    model_a: str,
    model_b: str,
    annotators: list[str],
    per_item: int,
    seed: int,
    limit: int | None = None,
    name: str | None = None,
) -> StudyStore:
    """Blind, place and assign the pairs, and write the study to ``out``.

    Args:
        out: The study directory (must not hold a study yet).
        pairs: The paired outputs (``output_a`` is ``model_a``'s).
        model_a: Name of the first model (usually the base).
        model_b: Name of the second model (usually the fine-tuned one).
        annotators: Annotator names.
        per_item: Annotators per item; each item goes to exactly this many, and the load per
            annotator differs by at most one item.
        seed: Seed of every random choice.
        limit: Keep a seeded random sample of this many items (in eval-set order).
        name: Study name (default: the directory name).

    Returns:
        The new study's store.
    """
    check_annotators(annotators, per_item)
    if model_a == model_b:
        raise UsageError(
            f"the two models are both '{model_a}'"
            + setting_hint("model_a", "; {}")
            + setting_hint("model_b", " and {}")
            + " must name two different models"
        )
    rng = random.Random(seed)
    chosen = list(pairs.pairs)
    if limit is not None and limit < len(chosen):
        keep = set(rng.sample(range(len(chosen)), limit))
        chosen = [p for i, p in enumerate(chosen) if i in keep]
    width = max(4, len(str(len(chosen))))
    items: list[StudyItem] = []
    placements: list[Placement] = []
    for number, pair in enumerate(chosen, start=1):
        item_id = f"item-{number:0{width}d}"
        swap = rng.random() < 0.5
        shown = (pair.output_b, pair.output_a) if swap else (pair.output_a, pair.output_b)
        items.append(
            StudyItem(
                item_id=item_id,
                example_id=pair.example_id,
                prompt=pair.prompt,
                response_a=shown[0],
                response_b=shown[1],
            )
        )
        models = (model_b, model_a) if swap else (model_a, model_b)
        placements.append(Placement(item_id=item_id, model_at_a=models[0], model_at_b=models[1]))
    assignments = assign([i.item_id for i in items], annotators, per_item, rng)
    info = StudyInfo(
        name=name or Path(out).name,
        model_a=model_a,
        model_b=model_b,
        annotators=tuple(annotators),
        per_item=per_item,
        seed=seed,
        items=len(items),
        source=pairs.source,
        created_at=utc_now(),
        skipped=tuple(pairs.skipped),
    )
    tokens = {a: secrets.token_urlsafe(24) for a in annotators}
    return StudyStore.create(
        out, info, items, placements, assignments, tokens, secrets.token_urlsafe(24)
    )


def assign(
    item_ids: list[str], annotators: list[str], per_item: int, rng: random.Random
) -> dict[str, list[str]]:
    """Give each item to ``per_item`` distinct annotators with balanced loads.

    Annotators are taken round-robin from a seeded shuffle, so consecutive windows of
    ``per_item`` names are always distinct and loads differ by at most one. Each annotator's
    items are then shuffled, so that position effects do not line up across annotators.
    """
    order = list(annotators)
    rng.shuffle(order)
    out: dict[str, list[str]] = {a: [] for a in annotators}
    for index, item_id in enumerate(item_ids):
        for k in range(per_item):
            out[order[(index * per_item + k) % len(order)]].append(item_id)
    for ids in out.values():
        rng.shuffle(ids)
    return out
