"""`full_evaluation`: one config from generation to report, resumable step by step.

The steps are the `Step` objects of `WORKFLOW`, in order: generate with both models ->
metrics (paired comparison, per category) -> judge single scores -> judge pairwise in both
orders -> standard benchmarks on both models -> contamination -> human study -> report. Each
step records in ``run.json`` that it finished and with which inputs; a rerun skips finished
steps, resumes unfinished ones record by record, and ``force`` redoes the named steps (and
everything after them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from tuneval.errors import ConfigError, UsageError
from tuneval.models.base import ModelBackend
from tuneval.models.loop import outside_loop
from tuneval.records import Record
from tuneval.report import RESULTS_FILE
from tuneval.report.schema import Results
from tuneval.rundir import RunDir
from tuneval.workflow.checks import check_config
from tuneval.workflow.config import WorkflowConfig
from tuneval.workflow.context import RunContext
from tuneval.workflow.run_checks import check_inputs
from tuneval.workflow.state import RECORDS_KEY
from tuneval.workflow.steps import GENERATE, STEPS, WORKFLOW, OnProgress, Step, StepReport

__all__ = ["EvaluationResult", "StepReport", "full_evaluation", "load_results", "step_key"]


class EvaluationResult(Record):
    """What `full_evaluation` returns."""

    run_dir: str
    """The run directory."""
    steps: list[StepReport] = Field(default_factory=list)
    """Each step's status, in order."""
    results: Results
    """The computed results (also in ``results.json``)."""


def step_sections(step: str | Step) -> tuple[str, ...]:
    """The config sections a step's output depends on (its own and every earlier step's)."""
    name = step if isinstance(step, str) else step.name
    upto = WORKFLOW[: STEPS.index(name) + 1]
    return tuple(dict.fromkeys(s for earlier in upto for s in earlier.sections))


def step_key(config: WorkflowConfig, step: str | Step) -> str:
    """Hash of the config sections a step's output depends on (cumulative over earlier steps)."""
    return config.section_key(*step_sections(step))


def _check_generate_inputs(ctx: RunContext, key: str) -> None:
    saved = ctx.state.get(GENERATE.name)
    if saved and saved.get("key") != key and ctx.run.generations_path.exists():
        what = _what_differs(ctx, saved)
        raise ConfigError(
            f"run directory {ctx.run.path} holds generations made with other inputs ({what}); "
            "rerun with --force generate to redo them, or give the run a new --name (key "
            "'name') to start a new run"
        )


def _what_differs(ctx: RunContext, saved: Mapping[str, Any]) -> str:
    """The generate inputs that changed since ``saved`` (old -> new), and the tuneval versions."""
    from tuneval import __version__
    from tuneval.workflow.keys import differences

    now = ctx.config.section_values(*step_sections(GENERATE))
    before = saved.get("sections")
    if isinstance(before, dict):
        changed = differences(before, now)
    else:
        # A run made before run.json kept the sections: compare the config it saved, leaving
        # out keys it did not have (options added since, at their defaults).
        config = ctx.previous_info.get("config")
        old = {s: config.get(s) for s in now} if isinstance(config, dict) else {}
        changed = [d for d in differences(old, now) if "(not set) ->" not in d] if old else []
    parts = ["; ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")]
    if not changed:
        parts = ["which settings differ is unknown: the run did not record them"]
    made_with = saved.get("tuneval") or ctx.previous_info.get("tuneval_version")
    if made_with != __version__:
        parts.append(f"made with tuneval {made_with or 'before 0.1.0'}, this is {__version__}")
    return "; ".join(parts)


def full_evaluation(
    config: WorkflowConfig | str | Path,
    *,
    force: Collection[str] = (),
    backends: Mapping[str, ModelBackend] | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    on_progress: OnProgress | None = None,
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
        on_progress: Called after every model call with the step's count (progress bars);
            the library draws nothing itself.

    Returns:
        The status of every step and the results (also written to ``results.json``).

    Raises:
        UsageError: For an unknown step name in ``force``, or when another process is
            running the workflow in the same run directory.
        ConfigError: For an invalid config (backend spec, backend or metric option), a run
            directory that cannot be created, or one holding generations of another config.
    """
    return outside_loop(_evaluate, config, tuple(force), dict(backends or {}), on_step, on_progress)


def _evaluate(
    config: WorkflowConfig | str | Path,
    force: tuple[str, ...],
    backends: dict[str, ModelBackend],
    on_step: Callable[[StepReport], None] | None,
    on_progress: OnProgress | None = None,
) -> EvaluationResult:
    if isinstance(config, WorkflowConfig):
        check_config(config)
    else:
        from tuneval.workflow.config import load_config

        config = load_config(config)
    unknown = sorted(set(force) - set(STEPS))
    if unknown:
        raise UsageError(f"unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
    ctx = RunContext(config, backends, on_progress)
    try:
        # Everything that can refuse the config runs before the run directory exists, so a
        # refused run leaves no run.json or run.lock behind to confuse the next one.
        check_inputs(config, ctx.examples())
        ctx.build_backends()
        _make_run_dir(ctx.run)
        with ctx.run.lock():
            ctx.previous_info = ctx.run.read_info()
            ctx.run.update_info(
                config=config.model_dump(mode="json"), config_version=config.version
            )
            reports = _run_steps(ctx, force, on_step)
    finally:
        ctx.close()
    results = Results.model_validate_json((ctx.run.path / RESULTS_FILE).read_text(encoding="utf-8"))
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
    for step in WORKFLOW:
        key = step_key(ctx.config, step)
        if step.name in force:
            ctx.state.clear(step.name)
            step.forget(ctx.run)
            dirty = True
        elif step is GENERATE:
            _check_generate_inputs(ctx, key)
        if not dirty and ctx.state.is_done(step.name, key):
            report = StepReport(step=step.name, status="skipped", detail="already done")
        else:
            report = _run_step(ctx, step, key)
            dirty = dirty or report.status == "ran"
        reports.append(report)
        if on_step is not None:
            on_step(report)
    return reports


def _run_step(ctx: RunContext, step: Step, key: str) -> StepReport:
    """Run one step and record in ``run.json`` that it finished (and with what)."""
    ctx.build_backends()
    if ctx.state.get(step.name).get("key") != key:
        from tuneval import __version__

        # The sections and version let a later mismatch say what changed (see _what_differs).
        sections = ctx.config.section_values(*step_sections(step))
        ctx.state.start(step.name, key, sections=sections, tuneval=__version__)
    report = step.run(ctx)
    saved = {} if report.records_key is None else {RECORDS_KEY: report.records_key}
    ctx.state.finish(step.name, status=report.status, detail=report.detail, **saved)
    return report


def load_results(run_dir: str | Path) -> Results:
    """Read ``results.json`` of a finished run."""
    from tuneval.errors import DataError

    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise DataError(f"{path} does not exist; run 'tuneval run CONFIG' first")
    return Results.model_validate_json(path.read_text(encoding="utf-8"))
