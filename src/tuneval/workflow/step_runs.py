"""What each workflow step does: ``run(ctx) -> StepReport`` for every `Step` in `WORKFLOW`.

Each function resumes what a killed run left, reports its calls through the context's
progress callback and returns what it did; the runner records that in ``run.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneval.workflow.analysis import BASE, FINETUNED
from tuneval.workflow.steps import StepReport

if TYPE_CHECKING:
    from collections.abc import Callable

    from tuneval.models.base import ModelBackend
    from tuneval.workflow.context import CallTick, RunContext

_Judged = tuple[list[bool], str]
"""Whether each judgment has no usable verdict, and the judge's records key."""


def generate(ctx: RunContext) -> StepReport:
    """Both models answer every example the run has no answer for yet."""
    from tuneval.workflow.generate import generate_missing

    examples = ctx.examples()
    ctx.run.write_examples(examples)
    made = cached = failed = 0
    ids = {e.id for e in examples}
    have = {name: {g.example_id for g in ctx.run.generations(name)} for name in (BASE, FINETUNED)}
    tick = ctx.progress("generate", sum(len(ids - done) for done in have.values()))
    for name in (BASE, FINETUNED):
        summary = generate_missing(
            ctx.run, examples, name, ctx.backend(name), getattr(ctx.config.models, name),
            ctx.config.decoding, ctx.call_options(), cache=ctx.cache,
            refresh=ctx.config.calls.refresh, on_result=lambda _result: tick(),
        )  # fmt: skip
        made += summary.done + summary.failed - summary.cached
        cached += summary.cached
        failed += summary.failed
    lost = f"{failed} FAILED (excluded from scoring)" if failed else "0 failed"
    return _ran("generate", f"{made} model calls, {cached} cached, {lost}")


def metrics(ctx: RunContext) -> StepReport:
    """Paired metric comparisons, overall and per category."""
    from tuneval.workflow.metrics_step import compute_metrics

    return _ran("metrics", compute_metrics(ctx.run, ctx.config))


def judge_single(ctx: RunContext) -> StepReport:
    """The judge scores every output of both models."""
    return _judge_step(ctx, "judge_single", ctx.config.judge.single, _score_outputs, "outputs")


def judge_pairwise(ctx: RunContext) -> StepReport:
    """The judge compares the two outputs of every item, in both orders."""
    return _judge_step(ctx, "judge_pairwise", ctx.config.judge.pairwise, _compare, "comparisons")


def benchmarks(ctx: RunContext) -> StepReport:
    """The configured standard benchmarks on both models."""
    from tuneval.workflow.benchmarks_step import failed_calls, run_benchmarks, unscored_replies

    if not ctx.config.benchmarks:
        return StepReport(step="benchmarks", status="off", detail="no benchmarks configured")
    made, kept = run_benchmarks(ctx)
    names = ", ".join(b.name for b in ctx.config.benchmarks)
    failed = failed_calls(ctx.run, ctx.config)
    lost = f"; FAILED: {'; '.join(failed)}" if failed else ""
    unscored = unscored_replies(ctx.run, ctx.config)
    lost += f"; UNSCORED: {'; '.join(unscored)}" if unscored else ""
    return _ran("benchmarks", f"{names}: {made} model runs made, {kept} already done{lost}")


def contamination(ctx: RunContext) -> StepReport:
    """The training-data overlap check (and the paraphrase scan when configured)."""
    from tuneval.workflow.optional_steps import run_contamination

    status, detail = run_contamination(ctx.run, ctx.config, lambda: ctx.backend("judge"), ctx.cache)
    return StepReport(step="contamination", status=status, detail=detail)


def human(ctx: RunContext) -> StepReport:
    """The blind human-study export."""
    from tuneval.workflow.optional_steps import run_human_export

    status, detail = run_human_export(ctx.run, ctx.config)
    return StepReport(step="human", status=status, detail=detail)


def report(ctx: RunContext) -> StepReport:
    """``results.json``, ``report.md`` and ``report.html`` from the run's records."""
    from tuneval.report import write_reports
    from tuneval.workflow.results import build_results

    paths = write_reports(ctx.run.path, build_results(ctx.run, ctx.config))
    return _ran("report", ", ".join(p.name for p in paths))


def _ran(step: str, detail: str, records_key: str | None = None) -> StepReport:
    return StepReport(step=step, status="ran", detail=detail, records_key=records_key)


def _score_outputs(ctx: RunContext, judge: ModelBackend, tick: CallTick) -> _Judged:
    from tuneval.judge.single import judge_scores, single_key

    config = ctx.config.judge.score_config(ctx.call_options())
    judged = []
    for name in (BASE, FINETUNED):
        judged += judge_scores(
            ctx.run, name, judge, config, cache=ctx.cache, on_call=tick.call, on_item=tick.item
        )
    return [j.score is None for j in judged], single_key(judge, config)


def _judge_step(
    ctx: RunContext,
    step: str,
    enabled: bool,
    judge_run: Callable[[RunContext, ModelBackend, CallTick], _Judged],
    what: str,
) -> StepReport:
    """Run a judge step: ``judge_run`` judges and says which items have no usable verdict.

    The step is off without a judge, and with its switch (``judge.single``/``pairwise``) off.
    """
    if not ctx.config.judge.spec:
        return StepReport(step=step, status="off", detail="no judge configured")
    if not enabled:
        switch = step.replace("_", ".")
        return StepReport(step=step, status="off", detail=f"{switch} is off")
    judge = ctx.config.judge
    # Items to judge: each output (single) or each order of each pair, once per repeat.
    per_example = 2 if step == "judge_single" or judge.swap else 1
    total = per_example * judge.repeats * len(ctx.run.examples())
    backend = ctx.backend("judge")
    tick = ctx.progress(step, total)
    unscored, key = judge_run(ctx, backend, tick)
    detail = f"{tick.calls} judge calls, {_unscored(sum(unscored), len(unscored), what)}"
    return _ran(step, detail, records_key=key)


def _compare(ctx: RunContext, judge: ModelBackend, tick: CallTick) -> _Judged:
    from tuneval.judge.pairwise import judge_pairs, pair_key

    config = ctx.config.judge.pair_config(ctx.call_options())
    pairs = judge_pairs(
        ctx.run, BASE, FINETUNED, judge, config, cache=ctx.cache, on_call=tick.call,
        on_item=tick.item,
    )  # fmt: skip
    return [p.position is None for p in pairs], pair_key(judge, config)


def _unscored(unscored: int, total: int, what: str) -> str:
    """The step line's count of unusable judge replies, in capitals when there are any."""
    return f"UNSCORED {unscored} of {total} {what}" if unscored else f"all {total} {what} scored"
