"""Workflow commands: ``init``, ``dataset validate|stats``, ``power``, ``run``, ``report``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.options import NoCacheOpt, RefreshOpt

if TYPE_CHECKING:
    from tuneval.data.validate import EvalSetReport

console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, highlight=False)

dataset_app = typer.Typer(
    help="Check an eval set: schema, coverage, duplicates.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")


@app.command("init")
def init_cmd(
    folder: Annotated[str, typer.Argument(help="Folder to create the project in.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Scaffold a project: a commented config.yaml and an eval-set template."""
    from tuneval.workflow.scaffold import scaffold

    for path in scaffold(folder, overwrite=force):
        console.print(f"wrote {path}")
    console.print(f"next: edit {folder}/eval.jsonl, then run: tuneval run {folder}/config.yaml")


def _print_report(report: EvalSetReport, show_coverage: bool) -> None:
    from rich.table import Table

    for line in report.error_lines():
        console.print(line, markup=False, soft_wrap=True)  # one line per error, never wrapped
    if show_coverage and report.coverage:
        levels = ["easy", "medium", "hard", "(none)"]
        table = Table(
            title=f"{report.path}: {report.n} items, {report.with_reference} with references"
        )
        for col in ["category", *levels, "total", "adversarial"]:
            table.add_column(col, justify="left" if col == "category" else "right")
        for cat, counts in report.coverage.items():
            row = [str(counts.get(level, 0)) for level in levels]
            total = str(sum(counts.values()))
            table.add_row(cat, *row, total, str(report.adversarial.get(cat, 0)))
        console.print(table)
    for group in report.duplicates:
        console.print(f"duplicate prompts: {', '.join(group)}", markup=False)
    for a, b, sim in report.near_duplicates:
        console.print(f"near-duplicate prompts: {a} ~ {b} (similarity {sim:.2f})", markup=False)
    for warning in report.warnings:
        console.print(f"warning: {warning}", markup=False)


def _valid_evalset(path: str, show_coverage: bool) -> EvalSetReport:
    """Validate and print the eval set; exit 1 with the count of invalid items when any is."""
    from tuneval.data.validate import validate_evalset

    report = validate_evalset(path)
    _print_report(report, show_coverage=show_coverage)
    if report.errors:
        err_console.print(f"{len(report.errors)} invalid item(s) in {path}")
        raise typer.Exit(1)
    return report


@dataset_app.command("validate")
def validate_cmd(
    path: Annotated[str, typer.Argument(help="Eval set (JSONL, JSON, CSV, Parquet).")],
) -> None:
    """Check every item's schema (file:line errors); exit 1 when any is invalid."""
    report = _valid_evalset(path, show_coverage=False)
    console.print(f"{path}: {report.n} items, all valid")


@dataset_app.command("stats")
def stats_cmd(
    path: Annotated[str, typer.Argument(help="Eval set (JSONL, JSON, CSV, Parquet).")],
    training: Annotated[
        list[str] | None,
        typer.Option("--training", help="Training data to check for overlap (repeatable)."),
    ] = None,
    ngram: Annotated[int, typer.Option("--ngram", min=1, help="N-gram length.")] = 13,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad", help="Finish the overlap check past unreadable training records."
        ),
    ] = False,
) -> None:
    """Coverage table (category x difficulty, adversarial), duplicates and warnings."""
    # Coverage computed from a set that could not be read whole is not a result.
    _valid_evalset(path, show_coverage=True)
    if training:
        from tuneval.contamination import check

        report = check(list(training), path, n=ngram, skip_bad=skip_bad)
        console.print(
            f"contamination: {report.contaminated} of {report.total} items share {ngram}-grams "
            f"with the training data",
            markup=False,
        )
        if report.bad_records:
            # Only --skip-bad gets here: say loudly what the overlap figure did not see.
            first = "; ".join(report.problems[:3])
            err_console.print(
                f"warning: {report.bad_records} training record(s) could not be read and were "
                f"not checked, first: {first}",
                markup=False,
                soft_wrap=True,
            )
        for e in report.examples:
            if e.flagged:
                where = ", ".join(e.found_in[:2])
                console.print(f"  {e.id}: overlap {e.overlap:.2f} ({where})", markup=False)


@app.command("power")
def power_cmd(
    items: Annotated[
        int | None, typer.Option("--items", "-n", help="Items in the eval set.")
    ] = None,
    difference: Annotated[
        float | None, typer.Option("--difference", "-d", help="Difference to detect.")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="win-rate (against 50%) or accuracy (two models).")
    ] = "win-rate",
    baseline: Annotated[float, typer.Option("--baseline", help="Base accuracy.")] = 0.5,
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    power: Annotated[float, typer.Option("--power")] = 0.8,
) -> None:
    """Smallest detectable difference for N items, or items needed for a difference."""
    from tuneval.errors import UsageError
    from tuneval.workflow.power import minimal_detectable_difference, required_items

    if kind not in ("win-rate", "accuracy"):
        raise UsageError("--kind must be win-rate or accuracy")
    k: Literal["win_rate", "accuracy"] = "win_rate" if kind == "win-rate" else "accuracy"
    if (items is None) == (difference is None):
        raise UsageError("give exactly one of --items and --difference")
    what = "win rate above 50%" if k == "win_rate" else f"accuracy above {baseline:.0%}"
    if items is not None:
        r = minimal_detectable_difference(items, k, baseline=baseline, alpha=alpha, power=power)
        console.print(
            f"With {r.n} items, the smallest {what} detectable at {r.power:.0%} power "
            f"(alpha {r.alpha:g}) is +{r.difference:.3f}"
        )
    else:
        assert difference is not None
        r = required_items(difference, k, baseline=baseline, alpha=alpha, power=power)
        console.print(
            f"To detect {what} of {r.difference:+.3f} at {r.power:.0%} power "
            f"(alpha {r.alpha:g}) you need {r.n} items"
        )


@app.command("run")
def run_cmd(
    config: Annotated[str, typer.Argument(help="Workflow config (YAML).")],
    force: Annotated[
        list[str] | None, typer.Option("--force", help="Redo this step (and later ones).")
    ] = None,
    fail_if_worse: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-if-worse",
            help="Exit 1 when the fine-tuned model is significantly worse on this measure.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a config key: key.path=value.")
    ] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Judge model spec.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Run name.")] = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    allow_failures: Annotated[
        bool,
        typer.Option(
            "--allow-failures",
            help="Exit 0 although some generations failed (they stay excluded from scoring).",
        ),
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Send model and judge calls through the provider's batch API (OpenAI, "
            "Anthropic: half price, within 24 h); a killed run resumes polling (calls.batch).",
        ),
    ] = False,
) -> None:
    """Generate, score, judge, compare and report, as the config says; resumable."""
    from contextlib import nullcontext

    from tuneval.cli.batch_view import batch_progress
    from tuneval.cli.progress import step_bars
    from tuneval.workflow import full_evaluation, load_config
    from tuneval.workflow.gate import worse_reasons
    from tuneval.workflow.run_checks import check_gates, unusable_reasons

    overrides = list(set_ or [])
    if judge is not None:
        overrides.append(f"judge.spec={judge}")
    if name is not None:
        from tuneval.workflow.layers import check_run_name

        check_run_name(name, "--name")
        overrides.append(f"name={name}")
    if no_cache:
        overrides.append("calls.cache=false")
    if refresh:
        overrides.append("calls.refresh=true")
    if allow_failures:
        overrides.append("calls.allow_failures=true")
    if batch:
        overrides.append("calls.batch=true")
    cfg = load_config(config, overrides=overrides)
    check_gates(cfg, fail_if_worse or [])
    # One live display at a time: batch polls draw their own bars instead of the call bars.
    bars = nullcontext(None) if cfg.calls.batch else step_bars(err_console)
    with batch_progress(err_console), bars as show_calls:
        result = full_evaluation(
            cfg,
            force=force or (),
            on_step=lambda s: console.print(f"{s.step:15} {s.status:8} {s.detail}", markup=False),
            on_progress=show_calls,
        )
    for v in result.results.verdicts:
        p = "" if v.p_value is None else f"  p={v.p_value:.4f}"
        console.print(
            f"{v.measure:28} {v.difference:+.3f} [{v.ci_low:.3f}, {v.ci_high:.3f}]{p}  {v.text}",
            markup=False,
        )
    console.print(f"report: {result.run_dir}/report.html")
    if result.results.cost is not None:
        from tuneval.report.cost_section import cost_summary

        console.print(cost_summary(result.results.cost), markup=False)
    for stats in result.results.generation:
        if stats.errors:  # loud even when --allow-failures accepts them
            err_console.print(
                f"warning: {stats.errors} of {stats.n} {stats.model} generations failed and are "
                "excluded from scoring",
                markup=False,
            )
    unusable = unusable_reasons(result.results, cfg)
    if unusable:
        for reason in unusable:
            err_console.print(f"Error: {reason}", markup=False, soft_wrap=True)
        raise typer.Exit(1)
    reasons = worse_reasons(result.results, fail_if_worse or [])
    if reasons:
        for reason in reasons:
            err_console.print(f"FAIL: {reason}", markup=False)
        raise typer.Exit(1)


@app.command("report")
def report_cmd(
    run: Annotated[str, typer.Argument(help="Run directory, e.g. runs/NAME.")],
    open_: Annotated[bool, typer.Option("--open", help="Open report.html in a browser.")] = False,
) -> None:
    """Recompute results.json and re-render report.md and report.html of a run."""
    from pathlib import Path

    from tuneval.errors import DataError
    from tuneval.report import write_reports
    from tuneval.rundir import RunDir
    from tuneval.workflow.config import validate_config
    from tuneval.workflow.results import build_results

    run_dir = RunDir(run)
    info = run_dir.read_info()
    if "config" not in info:
        raise DataError(f"{run_dir.info_path} has no config; is {run} a workflow run?")
    # The run holds its own examples; the eval set need not be where it was when the run ran.
    cfg = validate_config(info["config"], str(run_dir.info_path), check_files=False)  # type: ignore[arg-type]
    paths = write_reports(run_dir.path, build_results(run_dir, cfg))
    for path in paths:
        console.print(f"wrote {path}")
    if open_:
        import webbrowser

        webbrowser.open(Path(paths[-1]).resolve().as_uri())
