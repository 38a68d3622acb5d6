"""`full_evaluation`: one config from generation to report, resumable step by step.

Steps (see `STEPS`): generate with both models -> metrics (paired comparison, per category)
-> judge single scores -> judge pairwise in both orders -> standard benchmarks on both models
-> contamination -> human study -> report. Each step records in ``run.json`` that it finished
and with which inputs; a rerun skips finished steps, resumes unfinished ones record by record,
and ``force`` redoes the named steps (and everything after them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tuneval.errors import ConfigError, UsageError
from tuneval.models.base import ModelBackend
from tuneval.models.loop import outside_loop
from tuneval.records import Record
from tuneval.report.schema import Results
from tuneval.rundir import RunDir
from tuneval.workflow.analysis import BASE, FINETUNED
from tuneval.workflow.checks import check_config
from tuneval.workflow.config import WorkflowConfig
from tuneval.workflow.context import RunContext
from tuneval.workflow.run_checks import check_inputs
from tuneval.workflow.state import STEPS

if TYPE_CHECKING:
    from tuneval.judge.config import PairConfig, ScoreConfig

StepStatus = Literal["ran", "skipped", "off"]


class StepReport(Record):
    """What one step did in this invocation."""

    step: str
    """Step name."""
    status: StepStatus
    """``ran``, ``skipped`` (already done with the same inputs) or ``off`` (not configured)."""
    detail: str = ""
    """A short note (calls made, why off)."""


class EvaluationResult(Record):
    """What `full_evaluation` returns."""

    run_dir: str
    """The run directory."""
    steps: list[StepReport] = Field(default_factory=list)
    """Each step's status, in order."""
    results: Results
    """The computed results (also in ``results.json``)."""


def step_key(config: WorkflowConfig, step: str) -> str:
    """Hash of the config sections a step's output depends on (cumulative over earlier steps)."""
    sections: dict[str, tuple[str, ...]] = {
        "generate": ("eval_set", "limit", "models", "decoding"),
        "metrics": ("metrics", "comparison"),
        "judge_single": ("judge",),
        "judge_pairwise": ("judge",),
        "benchmarks": ("benchmarks",),
        "contamination": ("contamination",),
        "human": ("human",),
        "report": ("comparison",),
    }
    upto = STEPS[: STEPS.index(step) + 1]
    return config.section_key(*dict.fromkeys(s for name in upto for s in sections[name]))


def _run_generate(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.workflow.generate import generate_missing

    examples = ctx.examples()
    ctx.run.write_examples(examples)
    made = cached = failed = 0
    for name in (BASE, FINETUNED):
        summary = generate_missing(
            ctx.run, examples, name, ctx.backend(name), getattr(ctx.config.models, name),
            ctx.config.decoding, ctx.call_options(), cache=ctx.cache,
            refresh=ctx.config.calls.refresh,
        )  # fmt: skip
        made += summary.done + summary.failed - summary.cached
        cached += summary.cached
        failed += summary.failed
    lost = f"{failed} FAILED (excluded from scoring)" if failed else "0 failed"
    return "ran", f"{made} model calls, {cached} cached, {lost}"


def _run_metrics(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.workflow.metrics_step import compute_metrics

    written = compute_metrics(ctx.run, ctx.config)
    return "ran", written


def _judge_configs(ctx: RunContext) -> tuple[ScoreConfig, PairConfig]:
    """The judge's single-scoring and pairwise settings from the workflow config."""
    from tuneval.judge.config import PairConfig, ScoreConfig

    judge = ctx.config.judge
    common: dict[str, object] = {
        "reference": judge.reference,
        "max_tokens": judge.max_tokens,
        "max_attempts": judge.max_attempts,
        "calls": ctx.call_options(),
    }
    if judge.criteria:
        common["criteria"] = judge.criteria
    single = ScoreConfig.model_validate({**common, "repeats": judge.repeats})
    return single, PairConfig.model_validate(common)


def _run_judge_single(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.judge.single import judge_scores, single_key

    if not ctx.config.judge.spec or not ctx.config.judge.single:
        return "off", "no judge configured" if not ctx.config.judge.spec else "judge.single is off"
    judge = ctx.backend("judge")
    score_config, _ = _judge_configs(ctx)
    key = single_key(judge, score_config)
    calls = [0]
    judged = []
    with _progress("judge single", 2 * len(ctx.run.examples())) as bump:
        for name in (BASE, FINETUNED):
            judged += judge_scores(
                ctx.run, name, judge, score_config,
                cache=ctx.cache, on_call=_counter(calls, bump),
            )  # fmt: skip
    ctx.state.finish("judge_single", judge_key=key)
    unscored = sum(j.score is None for j in judged)
    return "ran", f"{calls[0]} judge calls, {_unscored(unscored, len(judged), 'outputs')}"


def _run_judge_pairwise(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.judge.pairwise import judge_pairs, pair_key

    if not ctx.config.judge.spec or not ctx.config.judge.pairwise:
        return (
            "off",
            "no judge configured" if not ctx.config.judge.spec else "judge.pairwise is off",
        )
    judge = ctx.backend("judge")
    _, pair_config = _judge_configs(ctx)
    key = pair_key(judge, pair_config)
    calls = [0]
    with _progress("judge pairwise", 2 * len(ctx.run.examples())) as bump:
        pairs = judge_pairs(
            ctx.run, BASE, FINETUNED, judge, pair_config,
            cache=ctx.cache, on_call=_counter(calls, bump),
        )  # fmt: skip
    ctx.state.finish("judge_pairwise", judge_key=key)
    unscored = sum(p.position is None for p in pairs)
    return "ran", f"{calls[0]} judge calls, {_unscored(unscored, len(pairs), 'comparisons')}"


def _unscored(unscored: int, total: int, what: str) -> str:
    """The step line's count of unusable judge replies, in capitals when there are any."""
    return f"UNSCORED {unscored} of {total} {what}" if unscored else f"all {total} {what} scored"


def _counter(box: list[int], advance: Callable[[], None]) -> Callable[[], None]:
    def bump() -> None:
        box[0] += 1
        advance()

    return bump


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient progress bar; yields the function that advances it by one call."""
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def _run_benchmarks(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.workflow.benchmarks_step import run_benchmarks

    if not ctx.config.benchmarks:
        return "off", "no benchmarks configured"
    backends = {role: ctx.backend(role) for role in (BASE, FINETUNED)}
    made, kept = run_benchmarks(ctx.run, ctx.config, backends, ctx.config.calls.max_concurrency)
    names = ", ".join(b.name for b in ctx.config.benchmarks)
    return "ran", f"{names}: {made} model runs made, {kept} already done"


def _run_contamination(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.workflow.optional_steps import run_contamination

    return run_contamination(ctx.run, ctx.config, lambda: ctx.backend("judge"), ctx.cache)


def _run_human(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.workflow.optional_steps import run_human_export

    return run_human_export(ctx.run, ctx.config)


def _run_report(ctx: RunContext) -> tuple[StepStatus, str]:
    from tuneval.report import write_reports
    from tuneval.workflow.results import build_results

    results = build_results(ctx.run, ctx.config)
    paths = write_reports(ctx.run.path, results)
    return "ran", ", ".join(p.name for p in paths)


_RUNNERS: dict[str, Callable[[RunContext], tuple[StepStatus, str]]] = {
    "generate": _run_generate,
    "metrics": _run_metrics,
    "judge_single": _run_judge_single,
    "judge_pairwise": _run_judge_pairwise,
    "benchmarks": _run_benchmarks,
    "contamination": _run_contamination,
    "human": _run_human,
    "report": _run_report,
}

_RECORD_FILES = {
    "generate": ("generations.jsonl",),
    "metrics": ("comparison.json",),
    "judge_single": ("judge_single.jsonl",),
    "judge_pairwise": ("judge_pairwise.jsonl",),
    "contamination": ("contamination.json",),
    "report": ("results.json", "report.md", "report.html"),
}


def _check_generate_inputs(ctx: RunContext, key: str) -> None:
    saved = ctx.state.get("generate")
    if saved and saved.get("key") != key and ctx.run.generations_path.exists():
        raise ConfigError(
            f"run directory {ctx.run.path} holds generations made with a different eval set, "
            "models or decoding; rerun with --force generate to redo them, or change 'name' "
            "to start a new run"
        )


def _forget(ctx: RunContext, step: str) -> None:
    ctx.state.clear(step)
    for name in _RECORD_FILES.get(step, ()):
        (ctx.run.path / name).unlink(missing_ok=True)
    if step == "benchmarks":
        from tuneval.workflow.benchmarks_step import BENCH_DIR

        shutil.rmtree(ctx.run.path / BENCH_DIR, ignore_errors=True)


def full_evaluation(
    config: WorkflowConfig | str | Path,
    *,
    force: Collection[str] = (),
    backends: Mapping[str, ModelBackend] | None = None,
    on_step: Callable[[StepReport], None] | None = None,
) -> EvaluationResult:
    """Run (or resume) the whole evaluation described by ``config``.

    Safe inside a running event loop (Jupyter): the run then happens in a worker thread and
    ``on_step`` is called from there.

    Args:
        config: A validated config (see `load_config`), or the path of a YAML config file.
        force: Steps to redo even when finished; every later step is redone too.
        backends: Ready-made backends by role (``base``, ``finetuned``, ``judge``) used instead
            of building them from the config's specs (tests, notebooks).
        on_step: Called after each step with what it did (progress output).

    Returns:
        The status of every step and the results (also written to ``results.json``).

    Raises:
        UsageError: For an unknown step name in ``force``, or when another process is
            running the workflow in the same run directory.
        ConfigError: For an invalid config (backend spec, backend or metric option), a run
            directory that cannot be created, or one holding generations of another config.
    """
    return outside_loop(_evaluate, config, tuple(force), dict(backends or {}), on_step)


def _evaluate(
    config: WorkflowConfig | str | Path,
    force: tuple[str, ...],
    backends: dict[str, ModelBackend],
    on_step: Callable[[StepReport], None] | None,
) -> EvaluationResult:
    if isinstance(config, WorkflowConfig):
        check_config(config)
    else:
        from tuneval.workflow.config import load_config

        config = load_config(config)
    unknown = sorted(set(force) - set(STEPS))
    if unknown:
        raise UsageError(f"unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
    ctx = RunContext(config, backends)
    check_inputs(config, ctx.examples())
    _make_run_dir(ctx.run)
    with ctx.run.lock():
        ctx.run.update_info(config=config.model_dump(mode="json"), config_version=config.version)
        try:
            reports = _run_steps(ctx, force, on_step)
        finally:
            ctx.close()
    results = Results.model_validate_json(
        (ctx.run.path / "results.json").read_text(encoding="utf-8")
    )
    return EvaluationResult(run_dir=str(ctx.run.path), steps=reports, results=results)


def _make_run_dir(run: RunDir) -> None:
    """Create the run directory, or say in one line why it cannot be and how to fix it."""
    try:
        run.path.mkdir(parents=True, exist_ok=True)
        writable = os.access(run.path, os.W_OK | os.X_OK)
        problem = "" if writable else "Permission denied"
    except OSError as exc:
        problem = exc.strerror or type(exc).__name__
    if problem:
        raise ConfigError(
            f"cannot write the run directory {run.path}: {problem}; set 'output_dir' (e.g. "
            "--set output_dir=runs) to a folder you can write to"
        )


def _run_steps(
    ctx: RunContext, force: Collection[str], on_step: Callable[[StepReport], None] | None
) -> list[StepReport]:
    reports: list[StepReport] = []
    dirty = False
    for step in STEPS:
        key = step_key(ctx.config, step)
        if step in force:
            _forget(ctx, step)
            dirty = True
        elif step == "generate":
            _check_generate_inputs(ctx, key)
        if not dirty and ctx.state.is_done(step, key):
            report = StepReport(step=step, status="skipped", detail="already done")
        else:
            ctx.build_backends()
            if ctx.state.get(step).get("key") != key:
                ctx.state.start(step, key)
            status, detail = _RUNNERS[step](ctx)
            ctx.state.finish(step, status=status, detail=detail)
            dirty = dirty or status == "ran"
            report = StepReport(step=step, status=status, detail=detail)
        reports.append(report)
        if on_step is not None:
            on_step(report)
    return reports


def load_results(run_dir: str | Path) -> Results:
    """Read ``results.json`` of a finished run."""
    from tuneval.errors import DataError

    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise DataError(f"{path} does not exist; run 'tuneval run CONFIG' first")
    return Results.model_validate_json(path.read_text(encoding="utf-8"))
