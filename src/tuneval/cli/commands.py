"""The commands: each parses options, makes one library call and renders the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.inputs import Fields, load_aligned
from tuneval.cli.options import (
    ClusterFieldOpt,
    IdFieldOpt,
    JsonOpt,
    MetricOpt,
    PredictionFieldOpt,
    ReferenceFieldOpt,
    ReferencesOpt,
    bootstrap_flags,
)
from tuneval.cli.record_flags import NO_FLAGS, Given, record_flags
from tuneval.errors import UsageError
from tuneval.evaluation.options import ComparisonOptions

if TYPE_CHECKING:
    from tuneval.records import Example
    from tuneval.rundir import RunDir

# Piped output (CI logs, files) gets a fixed width wide enough for the comparison table
# instead of rich's 80-column default; a terminal uses its own width.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


@app.command("score")
@bootstrap_flags
def score_cmd(
    predictions: Annotated[
        str, typer.Argument(help="Prediction file (JSONL, JSON, CSV, Parquet).")
    ],
    metric: MetricOpt,
    references: ReferencesOpt = None,
    prediction_field: PredictionFieldOpt = "prediction",
    reference_field: ReferenceFieldOpt = "reference",
    id_field: IdFieldOpt = "id",
    cluster_field: ClusterFieldOpt = None,
    as_json: JsonOpt = False,
    flags: Given = NO_FLAGS,
) -> None:
    """Score one model's predictions: every metric with a bootstrap CI and a signature."""
    from tuneval.evaluation import BootstrapConfig, score

    data = load_aligned(
        [predictions], references, Fields(prediction_field, reference_field, id_field)
    )
    report = score(
        data.predictions[0],
        data.references,
        metric,
        ids=data.ids,
        model=predictions,
        bootstrap=flags.build(BootstrapConfig),
        clusters=_clusters(data.examples, cluster_field, references or predictions),
        cluster_field=cluster_field,
    )
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in report.results], indent=2))
        return
    from tuneval.cli.render import print_signatures, score_table

    console.print(score_table(report))
    print_signatures(console, [r.signature for r in report.results])


@app.command("compare")
@record_flags(
    ComparisonOptions,
    "flags",
    fields=("trials", "alpha", "resamples", "seed", "confidence"),
    help={
        "trials": "Shuffles for the AR test.",
        "alpha": "Significance level.",
        "resamples": "Bootstrap resamples for confidence intervals.",
        "seed": "Seed of the bootstrap and the tests (recorded).",
        "confidence": "Confidence level of intervals.",
    },
)
def compare_cmd(
    base: Annotated[
        str, typer.Argument(help="The base model's prediction file (or benchmark run dir).")
    ],
    finetuned: Annotated[
        str, typer.Argument(help="The fine-tuned model's prediction file (or benchmark run dir).")
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="Metric spec NAME[:key=value,...], repeatable (prediction files only).",
        ),
    ] = None,
    references: ReferencesOpt = None,
    prediction_field: PredictionFieldOpt = "prediction",
    reference_field: ReferenceFieldOpt = "reference",
    id_field: IdFieldOpt = "id",
    test: Annotated[
        str,
        typer.Option(
            "--test",
            help="Test for continuous scores: ar (approximate "
            "randomisation) or bootstrap. Right/wrong scores use exact McNemar.",
        ),
    ] = "ar",
    show_flipped: Annotated[
        int, typer.Option("--show-flipped", min=0, help="Ids of flipped items to print per score.")
    ] = 10,
    cluster_field: ClusterFieldOpt = None,
    allow_mismatch: Annotated[
        bool,
        typer.Option(
            "--allow-mismatch",
            help="Benchmark runs: compare even when their protocol signatures differ.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    flags: Given = NO_FLAGS,
) -> None:
    """Compare a fine-tuned model with its base on the same items: paired tests, Holm-corrected.

    Two prediction files are scored with the ``-m`` metrics. Two benchmark run directories
    (``tuneval bench ... --out DIR``) are compared on their per-item scores, and only when
    their protocol signatures agree (unless ``--allow-mismatch``).
    """
    from tuneval.evaluation import compare

    tests = {"ar": "approximate_randomization", "bootstrap": "paired_bootstrap"}
    if test not in tests:
        raise UsageError(f"--test must be 'ar' or 'bootstrap', got {test!r}")
    cfg = flags.build(ComparisonOptions, test=tests[test], cluster_field=cluster_field)
    _check_compare_paths(base, finetuned)
    if _is_score_run(base) or _is_score_run(finetuned):
        _compare_score_runs(base, finetuned, cfg, allow_mismatch, as_json)
        return
    if not metric:
        raise UsageError("give at least one metric with -m, e.g. -m exact_match -m rouge")
    data = load_aligned(
        [base, finetuned], references, Fields(prediction_field, reference_field, id_field)
    )
    report = compare(
        data.predictions[0],
        data.predictions[1],
        data.references,
        metric,
        ids=data.ids,
        base_model="base",
        finetuned_model="finetuned",
        bootstrap=cfg.bootstrap,
        test=cfg.test,
        trials=cfg.trials,
        alpha=cfg.alpha,
        clusters=_clusters(data.examples, cluster_field, references or base),
        cluster_field=cluster_field,
    )
    if cluster_field is None:
        from tuneval.evaluation.paired_stats import duplicate_warning

        warning = duplicate_warning([e.prompt for e in data.examples])
        if warning:
            Console(stderr=True).print(f"Warning: {warning}", highlight=False, soft_wrap=True)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    from tuneval.cli.render import (
        comparison_table,
        print_flipped,
        print_power,
        print_signatures,
    )

    console.print(comparison_table(report))
    print_power(console, report)
    print_flipped(console, report, show_flipped)
    print_signatures(console, [c.base.signature for c in report.comparisons])


def _clusters(examples: list[Example], cluster_field: str | None, source: str) -> list[str] | None:
    """Cluster labels from the eval set's ``cluster_field`` (None without the flag)."""
    if cluster_field is None:
        return None
    from tuneval.evaluation.paired_stats import example_clusters

    return example_clusters(examples, cluster_field, source)


def _check_compare_paths(*paths: str) -> None:
    """Say which argument is missing, or is a workflow run, before anything is read."""
    local = [Path(p) for p in paths if not p.startswith("hf:")]
    for where in local:
        if not where.exists():
            raise UsageError(f"{where} does not exist; pass two prediction files or run dirs")
    for where in local:
        if where.is_dir() and not _is_score_run(str(where)) and _is_workflow_run(where):
            raise UsageError(
                f"{where} is a workflow run directory; its comparison is in its results.json "
                f"(re-render with 'tuneval report {where}')"
            )


def _is_workflow_run(path: Path) -> bool:
    """A run directory of ``tuneval run``: its run.json holds the workflow config."""
    try:
        return "config" in json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _is_score_run(path: str) -> bool:
    return Path(path).is_dir() and (Path(path) / "scores.jsonl").is_file()


def _compare_score_runs(
    base: str, finetuned: str, cfg: ComparisonOptions, allow_mismatch: bool, as_json: bool
) -> None:
    """Compare two benchmark runs item by item (see `tuneval.workflow.compare_runs`)."""
    from rich.table import Table

    from tuneval.rundir import RunDir
    from tuneval.workflow.benchmarks_step import adjust_holm, compare_runs

    for path in (base, finetuned):
        if not _is_score_run(path):
            raise UsageError(f"{path} is not a benchmark run directory (no scores.jsonl)")
    runs = RunDir(base), RunDir(finetuned)
    signatures = _check_signatures(runs, allow_mismatch)
    measures = adjust_holm(compare_runs(*runs, cfg))
    if not measures:
        raise UsageError("the two runs share no scored measure; are they the same benchmark?")
    if as_json:
        print(json.dumps([m.model_dump(mode="json") for m in measures], indent=2))
        return
    from tuneval.workflow.verdicts import outcome

    table = Table(title=f"{finetuned} vs {base}")
    for col in ("measure", "n", "base", "fine-tuned", "difference [CI]", "p (Holm)", "verdict"):
        table.add_column(col)
    for m in measures:
        d = m.difference
        significant = d is not None and m.p_value is not None and m.p_value < cfg.alpha
        verdict = outcome(d.value if d is not None else 0.0, significant)
        table.add_row(
            m.name,
            str(m.n),
            f"{m.base:.4f}",
            f"{m.finetuned:.4f}",
            "—" if d is None else f"{d.value:+.4f} [{d.ci_low:.4f}, {d.ci_high:.4f}]",
            "—" if m.p_value is None else f"{m.p_value:.4f}",
            verdict,
        )
    console.print(table)
    for label, signature in signatures:
        console.print(f"signature{label}: {signature}", soft_wrap=True, markup=False)


def _check_signatures(runs: tuple[RunDir, RunDir], allow: bool) -> list[tuple[str, str]]:
    """The runs' protocol signatures to print; different ones refused unless ``allow``.

    Raises:
        ProtocolMismatchError: When the signatures differ and ``allow`` is False.
    """
    from tuneval.errors import ProtocolMismatchError
    from tuneval.workflow.benchmarks_step import protocol_mismatch, run_signature

    first, second = (run_signature(r) for r in runs)
    warn = Console(stderr=True, highlight=False, soft_wrap=True)
    for run, signature in zip(runs, (first, second), strict=True):
        if signature is None:
            warn.print(
                f"Warning: {run.info_path} has no benchmark signature (made before tuneval "
                "recorded them); cannot tell whether the runs used the same protocol",
                markup=False,
            )
    diffs = protocol_mismatch(*runs)
    if diffs and not allow:
        raise ProtocolMismatchError(
            f"{runs[0].path} and {runs[1].path} were run with different benchmark protocols "
            f"({'; '.join(diffs)}), so their numbers are not comparable; rerun one with the "
            "other's settings (benchmark.signature in each run.json says how each was run), "
            "or pass --allow-mismatch to compare them anyway"
        )
    if diffs:
        warn.print(
            f"Warning: the runs used different protocols ({'; '.join(diffs)}); the "
            "differences below mix the protocol with the model",
            markup=False,
        )
        return [(" (base)", str(first)), (" (fine-tuned)", str(second))]
    return [("", first)] if first is not None else []


@app.command("metrics")
def metrics_cmd(as_json: JsonOpt = False) -> None:
    """List the registered metrics with their options."""
    from rich.table import Table

    from tuneval.metrics import METRICS
    from tuneval.metrics.base import metric_options

    rows = []
    for name in METRICS.names():
        cls = METRICS.get(name)
        opts = {k: repr(default) for k, (_, default) in metric_options(cls).items()}
        rows.append({"name": name, "description": cls.description, "options": opts})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Metrics", title_justify="left")
    for column in ("name", "description", "options (default)"):
        table.add_column(column)
    for row in rows:
        options = ", ".join(f"{k}={v}" for k, v in row["options"].items())  # type: ignore[attr-defined]
        table.add_row(str(row["name"]), str(row["description"]), options or "-")
    console.print(table)
