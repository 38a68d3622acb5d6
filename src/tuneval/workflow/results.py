"""Assemble `Results` from a run directory's records (no model calls)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import PurePath

from tuneval import __version__
from tuneval.judge.pairwise import PAIRWISE_FILE
from tuneval.judge.records import Judgment, PairJudgment
from tuneval.judge.single import SINGLE_FILE
from tuneval.models.pricing import run_cost
from tuneval.records import Example, Generation
from tuneval.report.schema import (
    CategoryResult,
    GenerationStats,
    ItemView,
    Pairwise,
    Results,
)
from tuneval.rundir import RunDir, read_jsonl
from tuneval.workflow.analysis import (
    BASE,
    FINETUNED,
    clusters_of,
    judge_scores,
    pair_outcomes,
    pairwise,
)
from tuneval.workflow.config import ComparisonConfig, ModelConfig, WorkflowConfig
from tuneval.workflow.human_section import human_section
from tuneval.workflow.metrics_step import NO_CATEGORY, MetricComparisons, read_metrics
from tuneval.workflow.state import StepState, now
from tuneval.workflow.steps import JUDGE_PAIRWISE, JUDGE_SINGLE
from tuneval.workflow.verdicts import bench_verdicts
from tuneval.workflow.verdicts import verdicts as verdict_list


def _short(value: object) -> str:
    """An option value for a report line: a path by its file name (no machine paths), capped."""
    text = str(value)
    if isinstance(value, str) and ("/" in text or "\\" in text):
        text = PurePath(text).name
    return text if len(text) <= 60 else text[:57] + "..."


def _model_setup(model: ModelConfig) -> str:
    """Options and prompting of a model in one short line, e.g. ``lora=adapter.gguf``."""
    parts = [f"{key}={_short(value)}" for key, value in sorted(model.options.items())]
    if model.system_prompt:
        parts.append("system prompt")
    if model.few_shot:
        parts.append(f"{len(model.few_shot)} few-shot turns")
    if model.prompt_template != "{prompt}":
        parts.append("prompt template")
    return ", ".join(parts)


def _generation_stats(
    model: str, config: ModelConfig, gens: Sequence[Generation]
) -> GenerationStats:
    outputs = [len(g.output) for g in gens if g.output is not None]
    latencies = [float(g.metadata.get("latency_s") or 0.0) for g in gens]
    failed = [g for g in gens if g.output is None]
    return GenerationStats(
        model=model,
        spec=config.spec,
        setup=_model_setup(config),
        n=len(gens),
        errors=len(failed),
        first_error=failed[0].error if failed else None,
        mean_chars=statistics.fmean(outputs) if outputs else 0.0,
        mean_latency_s=statistics.fmean(latencies) if latencies else 0.0,
    )


def _judge_records(run: RunDir, state: StepState) -> tuple[list[Judgment], list[PairJudgment]]:
    single_key = state.records_key(JUDGE_SINGLE.name)
    pair_key = state.records_key(JUDGE_PAIRWISE.name)
    singles = [
        r for r in read_jsonl(run.record_file(SINGLE_FILE), Judgment) if r.config_key == single_key
    ]
    pairs = [
        r
        for r in read_jsonl(run.record_file(PAIRWISE_FILE), PairJudgment)
        if r.config_key == pair_key and r.model_a == BASE and r.model_b == FINETUNED
    ]
    # The last record of an item wins (a rerun after a failed call appends a newer one).
    single_latest = {(r.model, r.example_id, r.repeat): r for r in singles}
    pair_latest = {(r.example_id, r.order, r.repeat): r for r in pairs}
    return list(single_latest.values()), list(pair_latest.values())


def _items(
    examples: Sequence[Example],
    gens: dict[str, dict[str, Generation]],
    singles: Sequence[Judgment],
    pairs: Sequence[PairJudgment],
    metrics: MetricComparisons,
) -> list[ItemView]:
    scores = {(j.model, j.example_id): j.score for j in singles}
    outcomes = pair_outcomes(pairs)
    flips: dict[str, str] = {}
    for report in metrics.per_category.values():
        if report is None:
            continue
        for c in report.comparisons[:1]:
            flips |= dict.fromkeys(c.flipped.fixed, "fixed") | dict.fromkeys(
                c.flipped.broken, "broken"
            )
    items = []
    for e in examples:
        b, f = gens[BASE].get(e.id), gens[FINETUNED].get(e.id)
        items.append(
            ItemView(
                id=e.id,
                category=e.category,
                difficulty=e.difficulty,
                adversarial=e.adversarial,
                prompt=e.prompt or "",
                reference=e.reference,
                base=b.output if b else None,
                finetuned=f.output if f else None,
                base_score=scores.get((BASE, e.id)),
                finetuned_score=scores.get((FINETUNED, e.id)),
                pair_outcome=outcomes.get(e.id),  # type: ignore[arg-type]
                flipped=flips.get(e.id),  # type: ignore[arg-type]
            )
        )
    return items


def build_results(run: RunDir, config: WorkflowConfig) -> Results:
    """Everything the report shows, computed from the run's records."""
    state = StepState(run)
    examples = run.examples()
    gens = {name: {g.example_id: g for g in run.generations(name)} for name in (BASE, FINETUNED)}
    metrics = read_metrics(run)
    singles, pairs = _judge_records(run, state)
    cmp = config.comparison
    single_sig = (
        f"judge:{config.judge.spec}|key:{state.records_key(JUDGE_SINGLE.name)}"
        f"|boot:{cmp.resamples}|seed:{cmp.seed}|ci:{cmp.confidence:g}|tuneval:{__version__}"
    )
    pair_sig = single_sig.replace(
        str(state.records_key(JUDGE_SINGLE.name)),
        str(state.records_key(JUDGE_PAIRWISE.name)),
    )
    all_ids = {e.id for e in examples}
    labels = clusters_of(examples, cmp)
    clusters = None if labels is None else dict(zip([e.id for e in examples], labels, strict=True))
    overall_pairwise = pairwise(pairs, all_ids, cmp, clusters)
    categories = list(dict.fromkeys(e.category or NO_CATEGORY for e in examples))
    per_category = []
    for cat in categories:
        ids = {e.id for e in examples if (e.category or NO_CATEGORY) == cat}
        per_category.append(
            CategoryResult(
                category=cat,
                n=len(ids),
                metrics=metrics.per_category.get(cat),
                judge_scores=judge_scores(singles, ids, cmp, single_sig, clusters),
                pairwise=pairwise(pairs, ids, cmp, clusters),
            )
        )
    res = Results(
        tuneval_version=__version__,
        name=config.name,
        created=now(),
        n_examples=len(examples),
        categories=categories,
        generation=[
            _generation_stats(BASE, config.models.base, list(gens[BASE].values())),
            _generation_stats(FINETUNED, config.models.finetuned, list(gens[FINETUNED].values())),
        ],
        metrics=metrics.overall,
        judge_scores=judge_scores(singles, all_ids, cmp, single_sig, clusters),
        pairwise=Pairwise(signature=pair_sig, summary=overall_pairwise)
        if overall_pairwise
        else None,
        per_category=per_category,
        items=_items(examples, gens, singles, pairs, metrics),
        notes=_notes(state, gens),
    )
    notes = res.notes + _judge_warnings(res) + _judge_noise(res) + _clustering_notes(examples, cmp)
    verdicts = verdict_list(metrics, res.judge_scores, overall_pairwise, cmp.alpha, cmp.confidence)
    update: dict[str, object] = {"verdicts": verdicts, "notes": notes}
    update["cost"] = run_cost(run.path, config.calls.prices, config.calls.batch_discount)
    contamination = _contamination(run)
    if contamination is not None:
        summary, overlaps = contamination
        update["contamination"] = summary
        update["items"] = [
            i.model_copy(update={"contamination": overlaps.get(i.id)}) for i in res.items
        ]
        if summary["contaminated"]:
            notes.append(
                f"{summary['contaminated']} of {summary['total']} items share "
                f"{summary['n']}-grams with the training data; see the contamination section"
            )
        sem = summary.get("semantic")
        if isinstance(sem, dict) and sem.get("confirmed"):
            notes.append(
                f"{sem['confirmed']} of {summary['total']} items have a judge-confirmed "
                "rephrasing in the training data; see the contamination section"
            )
        if summary["bad_records"]:
            notes.append(
                f"{summary['bad_records']} unreadable training records were skipped by the "
                "contamination check; see the contamination section"
            )
    if config.benchmarks:
        from tuneval.workflow.benchmarks_step import compare_benchmarks

        benchmarks = compare_benchmarks(run, config, cmp)
        update["benchmarks"] = benchmarks
        update["verdicts"] = verdicts + bench_verdicts(benchmarks, cmp)
    human = human_section(run, singles)
    if human is not None:
        update["human_study"], update["human_win_rate"] = human.study, human.win_rate
        update["human_rubric"] = human.rubric
        notes.extend(human.notes)
    return res.model_copy(update=update)


def _contamination(run: RunDir) -> tuple[dict[str, object], dict[str, float]] | None:
    """The contamination summary and each flagged item's overlap, when the check ran."""
    from tuneval.workflow.optional_steps import CONTAMINATION_FILE

    path = run.path / CONTAMINATION_FILE
    if not path.exists():
        return None
    from tuneval.contamination import ContaminationReport

    report = ContaminationReport.model_validate_json(path.read_text(encoding="utf-8"))
    summary: dict[str, object] = report.model_dump(
        exclude={"examples", "removed", "problems", "semantic"}
    )
    if report.semantic is not None:
        from tuneval.contamination.semantic import semantic_summary

        summary["semantic"] = semantic_summary(report.semantic)
    summary["problems"] = report.problems[:5]  # the first unreadable training records
    summary["flagged"] = [
        {"id": e.id, "overlap": e.overlap, "spans": e.spans[:3], "found_in": e.found_in[:3]}
        for e in report.examples
        if e.flagged
    ]
    return summary, {e.id: e.overlap for e in report.examples if e.flagged}


def _judge_noise(res: Results) -> list[str]:
    """With repeated judgings: how much the judge disagrees with itself."""
    js = res.judge_scores
    notes = [
        f"judge noise on {s.model}: {s.repeats} judgings per output; scores differ between "
        f"repeats on {s.flip_rate:.0%} of items, within-item score SD {s.score_sd:.2f}"
        for s in ((js.base, js.finetuned) if js is not None else ())
        if s.repeats > 1 and s.flip_rate is not None and s.score_sd is not None
    ]
    p = res.pairwise.summary if res.pairwise is not None else None
    if p is not None and p.repeats > 1 and p.flip_rate is not None and p.verdict_sd is not None:
        notes.append(
            f"pairwise judge noise: {p.repeats} judgings per pair and order; the verdict "
            f"changes between repeats on {p.flip_rate:.0%} of items (within-item preference "
            f"SD {p.verdict_sd:.2f}); each item's repeats are averaged and count as one unit"
        )
    return notes


def _clustering_notes(examples: Sequence[Example], cmp: ComparisonConfig) -> list[str]:
    """What the tests resampled, and a warning when repeated prompts are treated as independent."""
    if cmp.cluster_field is not None:
        labels = clusters_of(examples, cmp) or []
        return [
            f"CIs and tests resample whole clusters of {cmp.cluster_field!r} "
            f"({len(set(labels))} clusters of {len(examples)} items), not single items"
        ]
    from tuneval.evaluation.paired_stats import duplicate_warning

    warning = duplicate_warning([e.prompt for e in examples])
    return [warning] if warning else []


def _judge_warnings(res: Results) -> list[str]:
    """Say so when the judge's own diagnostics make its numbers hard to trust."""
    out = []
    if res.pairwise is not None:
        s = res.pairwise.summary
        if s.position_consistency is not None and s.position_consistency < 0.6:
            out.append(
                f"the judge gave the same verdict in both answer orders on only "
                f"{s.position_consistency:.0%} of items: its pairwise results mostly reflect "
                "answer position; use a stronger judge (--judge SPEC)"
            )
    if res.judge_scores is not None:
        for summary in (res.judge_scores.base, res.judge_scores.finetuned):
            if summary.n and summary.unscored / summary.n > 0.2:
                out.append(
                    f"the judge left {summary.unscored} of {summary.n} {summary.model} outputs "
                    "unscored (unusable replies); judge scores cover the rest only"
                )
    return out


def _notes(state: StepState, gens: dict[str, dict[str, Generation]]) -> list[str]:
    notes = []
    for name, by_id in gens.items():
        errors = sum(g.output is None for g in by_id.values())
        if errors:
            notes.append(
                f"{errors} {name} generations failed; those items are excluded from the "
                "metrics and left unscored by the judge"
            )
    for step, saved in state.all().items():
        if saved.get("status") == "off" and saved.get("detail"):
            notes.append(f"step {step} was not run: {saved['detail']}")
    return notes
