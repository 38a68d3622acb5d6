"""Assemble `Results` from a run directory's records (no model calls)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal

from tuneval import __version__
from tuneval.human.ppi import PPIWinRate, RateInterval
from tuneval.judge.pairwise import PAIRWISE_FILE
from tuneval.judge.records import Interval, Judgment, PairJudgment
from tuneval.judge.single import SINGLE_FILE
from tuneval.models.pricing import run_cost
from tuneval.records import Example, Generation
from tuneval.report.schema import (
    BenchmarkResult,
    CategoryResult,
    GenerationStats,
    ItemView,
    Pairwise,
    Results,
    Verdict,
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
from tuneval.workflow.config import ComparisonConfig, WorkflowConfig
from tuneval.workflow.metrics_step import NO_CATEGORY, MetricComparisons, read_metrics
from tuneval.workflow.state import StepState, now

Direction = Literal["better", "worse", "no significant difference"]
"""Which way a tested difference points (distinct from a pairwise `tuneval.records.Outcome`)."""


def _generation_stats(name: str, spec: str, gens: Sequence[Generation]) -> GenerationStats:
    outputs = [len(g.output) for g in gens if g.output is not None]
    latencies = [float(g.metadata.get("latency_s") or 0.0) for g in gens]
    failed = [g for g in gens if g.output is None]
    return GenerationStats(
        model=name,
        spec=spec,
        n=len(gens),
        errors=len(failed),
        first_error=failed[0].error if failed else None,
        mean_chars=statistics.fmean(outputs) if outputs else 0.0,
        mean_latency_s=statistics.fmean(latencies) if latencies else 0.0,
    )


def _judge_records(run: RunDir, state: StepState) -> tuple[list[Judgment], list[PairJudgment]]:
    single_key = state.get("judge_single").get("judge_key")
    pair_key = state.get("judge_pairwise").get("judge_key")
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
    pair_latest = {(r.example_id, r.order): r for r in pairs}
    return list(single_latest.values()), list(pair_latest.values())


def _verdicts(
    results_metrics: MetricComparisons, res: Results, alpha: float, confidence: float = 0.95
) -> list[Verdict]:
    out: list[Verdict] = []
    if results_metrics.overall is not None:
        for c in results_metrics.overall.comparisons:
            out.append(
                Verdict(
                    measure=f"{c.metric}.{c.name}",
                    difference=c.difference,
                    ci_low=c.ci_low,
                    ci_high=c.ci_high,
                    p_value=c.p_adjusted,
                    outcome=outcome(c.difference, c.p_adjusted < alpha),
                    mde=c.mde,
                    unit=_unit(c.unit, c.cluster_field),
                    units=c.units,
                )
            )
    js = res.judge_scores
    if js is not None and js.difference is not None and js.p_value is not None:
        v = _tested_verdict("judge_score", js.difference, js.p_value, alpha)
        out.append(v.model_copy(update={"mde": js.mde, "unit": js.unit, "units": js.n_paired}))
    if res.pairwise is not None and res.pairwise.summary.win_rate is not None:
        w = res.pairwise.summary.win_rate
        excludes_half = w.ci_low > 0.5 or w.ci_high < 0.5
        out.append(
            Verdict(
                measure="win_rate",
                difference=w.value - 0.5,
                ci_low=w.ci_low - 0.5,
                ci_high=w.ci_high - 0.5,
                p_value=None,
                outcome=outcome(w.value - 0.5, excludes_half),
                mde=_mde_from_interval(w, res.pairwise.summary.n, alpha, confidence),
                units=res.pairwise.summary.n,
            )
        )
    return out


def _mde_from_interval(w: Interval, n: int, alpha: float, confidence: float) -> float | None:
    """Minimum detectable effect from an interval's width.

    Its standard error (width over 2·z) times (t_{1−α/2} + t_{0.8}) on n − 1 degrees of freedom.
    """
    from scipy.stats import norm

    from tuneval.stats.paired import detectable_effect

    z = float(norm.ppf(0.5 + confidence / 2))
    return detectable_effect((w.ci_high - w.ci_low) / (2 * z), n, alpha=alpha)


def _unit(unit: str, field: str | None) -> str:
    """``item``, or ``cluster:FIELD`` naming what was resampled."""
    return unit if unit == "item" or field is None else f"{unit}:{field}"


def _bench_verdicts(results: list[BenchmarkResult], cmp: ComparisonConfig) -> list[Verdict]:
    """One verdict per benchmark measure with a difference and a test."""
    return [
        _tested_verdict(f"{r.name}.{m.name}", m.difference, m.p_value, cmp.alpha)
        for r in results
        for m in r.measures
        if m.difference is not None and m.p_value is not None
    ]


def _tested_verdict(measure: str, d: Interval, p_value: float, alpha: float) -> Verdict:
    """The verdict on a difference with its CI and a (Holm-adjusted) p-value."""
    return Verdict(
        measure=measure,
        difference=d.value,
        ci_low=d.ci_low,
        ci_high=d.ci_high,
        p_value=p_value,
        outcome=outcome(d.value, p_value < alpha),
    )


def outcome(difference: float, significant: bool) -> Direction:
    """The verdict on a difference: better or worse when significant and not zero."""
    if not significant or difference == 0:
        return "no significant difference"
    return "better" if difference > 0 else "worse"


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
        f"judge:{config.judge.spec}|key:{state.get('judge_single').get('judge_key')}"
        f"|boot:{cmp.resamples}|seed:{cmp.seed}|ci:{cmp.confidence:g}|tuneval:{__version__}"
    )
    pair_sig = single_sig.replace(
        str(state.get("judge_single").get("judge_key")),
        str(state.get("judge_pairwise").get("judge_key")),
    )
    all_ids = {e.id for e in examples}
    labels = clusters_of(examples, cmp)
    clusters = None if labels is None else dict(zip([e.id for e in examples], labels, strict=True))
    overall_pairwise = pairwise(pairs, all_ids, cmp)
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
                pairwise=pairwise(pairs, ids, cmp),
            )
        )
    res = Results(
        tuneval_version=__version__,
        name=config.name,
        created=now(),
        n_examples=len(examples),
        categories=categories,
        generation=[
            _generation_stats(BASE, config.models.base.spec, list(gens[BASE].values())),
            _generation_stats(
                FINETUNED, config.models.finetuned.spec, list(gens[FINETUNED].values())
            ),
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
    verdicts = _verdicts(metrics, res, cmp.alpha, cmp.confidence)
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
        update["verdicts"] = verdicts + _bench_verdicts(benchmarks, cmp)
    human = _human(run)
    if human is not None:
        update["human_study"], human_notes, update["human_win_rate"] = human
        notes.extend(human_notes)
    return res.model_copy(update=update)


def _human(run: RunDir) -> tuple[str, list[str], PPIWinRate | None] | None:
    """The run's human study, what its votes say so far, and the PPI human win rate.

    The study is given by its path relative to the run; the PPI estimate needs judge verdicts
    on the same items. None without a study.
    """
    from tuneval.human.store import DB_NAME
    from tuneval.workflow.optional_steps import HUMAN_STUDY_DIR

    study = run.path / HUMAN_STUDY_DIR
    if not (study / DB_NAME).exists():
        return None
    from tuneval.human import StudyStore, study_results

    store = StudyStore(study)
    info = store.info()
    if not store.votes():
        return (
            HUMAN_STUDY_DIR,
            [
                f"Blind human study of {info.items} items for {len(info.annotators)} annotators: "
                f"no votes yet; serve it with `tuneval human serve {study}`"
            ],
            None,
        )
    judge_file = run.record_file(PAIRWISE_FILE)
    res = study_results(study, judge_file=judge_file if judge_file.exists() else None)
    ft = next(w for w in res.win_rates if w.model == info.model_b)
    wr = ft.win_rate
    lines = [
        f"Human study ({res.votes} votes on {res.items_voted} of {info.items} items): "
        f"{info.model_b} win rate {wr.value:.3f} [{wr.ci_low:.3f}, {wr.ci_high:.3f}] "
        f"({ft.wins} wins, {ft.ties} ties, {ft.losses} losses); details: "
        f"`tuneval human results {study}`"
    ]
    j = res.judge
    if j is not None and j.n and j.agreement is not None:
        kappa = "n/a" if j.kappa is None else f"{j.kappa:.2f}"
        lines.append(
            f"The LLM judge agrees with the human majority on {j.agreement:.0%} of {j.n} items "
            f"(Cohen's kappa {kappa})"
        )
    ppi = j.ppi if j is not None else None
    if ppi is not None:
        lines.append(
            f"{info.model_b} win rate: judge only {ppi.judge_only.value:.3f} on "
            f"{ppi.judge_only.n} items; humans only {_iv(ppi.human_only)} on {ppi.labelled}; "
            f"PPI estimate of the human win rate {_iv(ppi.ppi)} (judge on all items, "
            "corrected by the human labels)"
        )
    return HUMAN_STUDY_DIR, lines, ppi


def _iv(e: RateInterval) -> str:
    return f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


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
    if js is None:
        return []
    return [
        f"judge noise on {s.model}: {s.repeats} judgings per output; scores differ between "
        f"repeats on {s.flip_rate:.0%} of items, within-item score SD {s.score_sd:.2f}"
        for s in (js.base, js.finetuned)
        if s.repeats > 1 and s.flip_rate is not None and s.score_sd is not None
    ]


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
