"""The semantic check end to end, as the CLI and the workflow run it next to the n-gram scan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tuneval.contamination.semantic import DEFAULT_FLOOR, SemanticReport, semantic_scan

if TYPE_CHECKING:
    from tuneval.contamination.embedder import Encoder
    from tuneval.contamination.report import ContaminationReport
    from tuneval.models.base import ModelBackend


def semantic_check(
    train: list[str],
    eval_path: str,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    top_k: int = 5,
    floor: float = DEFAULT_FLOOR,
    fields: list[str] | None = None,
    eval_fields: list[str] | None = None,
    skip_bad: bool = False,
    judge: ModelBackend | None = None,
    cache: object | None = None,
    progress: Callable[[int], None] | None = None,
    ray: str | None = None,
    verdicts: Path | None = None,
) -> SemanticReport:
    """Semantic candidates for every eval item, confirmed by `judge` when one is given.

    Args:
        train: Training files, directories, globs or ``hf:`` datasets.
        eval_path: The eval set.
        model: A sentence-transformers model folder or name (default: the bundled
            all-MiniLM-L6-v2); ignored when `encoder` is given.
        encoder: An embedding model object to use instead of loading `model`.
        top_k: Candidates kept per eval item.
        floor: Lowest cosine similarity that makes a candidate.
        fields: Training fields that form the text.
        eval_fields: Eval fields that form the text.
        skip_bad: Go on when some training records are unreadable.
        judge: Asked about every candidate pair (`paraphrase_judge.judge_matches`).
        cache: The call cache for the judge.
        progress: Called with the number of training records embedded so far.
        ray: Embed the training shards in Ray tasks (``local``, ``auto`` or an address; see
            `semantic_scan`). The report is the same.
        verdicts: The judge's per-pair verdict log (JSONL): pairs it holds are not asked
            again, new verdicts are appended as they arrive (`judge_matches`).
    """
    from tuneval.contamination.check import load_eval
    from tuneval.contamination.embedder import SentenceEncoder

    evalset = load_eval(eval_path, eval_fields)
    report = semantic_scan(
        train, evalset.ids, evalset.texts, encoder or SentenceEncoder(model),
        top_k=top_k, floor=floor, fields=fields, skip_bad=skip_bad, progress=progress, ray=ray,
    )  # fmt: skip
    if judge is not None:
        from tuneval.contamination.paraphrase_judge import judge_matches

        report = judge_matches(report, judge, cache=cache, verdicts=verdicts)
    return report


def write_clean_semantic(
    report: ContaminationReport, eval_path: str, out: str | Path, fields: list[str] | None = None
) -> ContaminationReport:
    """`write_clean` that also drops the items with a judge-confirmed rephrasing in training.

    Returns:
        The report with `removed` listing every dropped id (n-gram flagged or confirmed).
    """
    from tuneval.contamination.check import write_clean

    semantic = report.semantic
    confirmed = {e.id for e in semantic.examples if e.confirmed} if semantic else set()
    marked = [
        e.model_copy(update={"flagged": True}) if e.id in confirmed else e for e in report.examples
    ]
    cleaned = write_clean(report.model_copy(update={"examples": marked}), eval_path, out, fields)
    return report.model_copy(update={"removed": cleaned.removed})
