"""``tuneval judge``: LLM-as-judge scoring and pairwise comparison of a run's generations."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.options import JsonOpt, bootstrap_flags
from tuneval.cli.progress import call_counter
from tuneval.cli.record_flags import NO_FLAGS, Given, record_flags
from tuneval.errors import UsageError
from tuneval.judge.config import JudgeConfig, PairOptions, ScoreOptions
from tuneval.models.runner import CallOptions
from tuneval.stats import BootstrapConfig

if TYPE_CHECKING:
    from rich.table import Table

    from tuneval.judge import AgreementSummary, Interval, JudgeScoreReport, PairwiseReport
    from tuneval.models.base import ModelBackend
    from tuneval.rundir import RunDir

R = TypeVar("R")
J = TypeVar("J", bound=JudgeConfig)

judge_app = typer.Typer(
    help="LLM-as-judge: score outputs, or compare two models in both orders.",
    no_args_is_help=True,
)
app.add_typer(judge_app, name="judge")

console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, highlight=False)

RunOpt = Annotated[str, typer.Option("--run", help="Run directory, e.g. runs/NAME.")]
JudgeOpt = Annotated[
    list[str],
    typer.Option(
        "--judge",
        "-j",
        help="Judge model spec (any backend, e.g. llamacpp:default or "
        "openai-compatible:URL#MODEL); repeat for a judge panel.",
    ),
]
BatchOpt = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="Use the provider's batch API (openai:, openai-compatible:, anthropic:): half price, "
        "within 24 h; batch ids go to RUN/batches.json and a rerun resumes polling them.",
    ),
]


def _settings(record: type[J], flags: Given, run: str, batch: bool) -> tuple[J, BootstrapConfig]:
    """The judging settings and the bootstrap from the flags given.

    Batch ids and token usage of the judge calls go to the run directory.
    """
    from pathlib import Path

    calls = flags.build(CallOptions, batch=batch, run_dir=Path(run))
    return flags.build(record, calls=calls), flags.build(BootstrapConfig)


def _parse_scale(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    try:
        scale = (int(low), int(high))
    except ValueError:
        raise UsageError(f"--scale must look like 1-10, got {text!r}") from None
    if not sep or scale[0] >= scale[1]:
        raise UsageError(f"--scale must look like LOW-HIGH with LOW < HIGH, got {text!r}")
    return scale


def _template(kind: str) -> Callable[[str], str]:
    def read(path: str) -> str:
        from tuneval.judge.templates import load_template

        return load_template(path, kind)

    return read


_HELP = {
    "criteria": "What the judge weighs.",
    "template": "User prompt template file replacing the default.",
    "reference": "Show the reference answer to the judge.",
}
_CALLS = record_flags(
    CallOptions,
    "flags",
    fields=("max_concurrency",),
    flags={"max_concurrency": "--concurrency"},
    help={"max_concurrency": "Judge calls in flight at once."},
)


def _backends(specs: list[str]) -> list[ModelBackend]:
    from tuneval.models import create_backend

    if not specs:
        raise UsageError("give at least one --judge SPEC")
    return [create_backend(spec) for spec in specs]


def _close(backends: list[ModelBackend]) -> None:
    async def close_all() -> None:
        for backend in backends:
            await backend.aclose()

    from tuneval.models.loop import run_sync

    run_sync(close_all())


@contextmanager
def _progress(label: str, batch: bool = False) -> Iterator[Callable[[], None]]:
    if batch:  # the batch bars show the progress; two live displays would fight
        from tuneval.cli.batch_view import batch_progress

        with batch_progress(err_console):
            yield lambda: None
        return
    with call_counter(label, err_console) as tick:
        yield tick


def _ci(value: Interval | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value.value:.{digits}f} [{value.ci_low:.{digits}f}, {value.ci_high:.{digits}f}]"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _agreement_table(rows: list[AgreementSummary]) -> Table:
    from rich.table import Table

    table = Table(title="Agreement", title_justify="left")
    for column in ("rater 1", "rater 2", "n", "agreement", "Cohen's kappa", "Spearman"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.rater_1, r.rater_2, str(r.n), _num(r.agreement), _num(r.kappa), _num(r.spearman)
        )
    return table


def _render_scores(report: JudgeScoreReport) -> None:
    from rich.table import Table

    table = Table(title="Judge scores", title_justify="left")
    for column in ("judge", "model", "n", "scored", "unscored", "mean [CI]", "rho(score,len)"):
        table.add_column(column, overflow="fold" if column == "judge" else "ellipsis")
    for s in report.judges:
        table.add_row(
            s.judge,
            s.model,
            str(s.n),
            str(s.scored),
            str(s.unscored),
            _ci(s.mean, 2),
            _num(s.length_spearman),
        )
    console.print(table)
    if report.panel_mean is not None:
        console.print(f"panel mean score: {_ci(report.panel_mean, 2)}")
    for s in report.judges:
        if s.repeats > 1:
            who = f"{s.judge} on {s.model}"
            noise = _repeat_noise(s.flip_rate, "score", s.score_sd)
            console.print(f"{who}: {s.repeats} judgings per output; scores differ {noise}")
        for reason, count in s.unscored_reasons.items():
            console.print(f"[yellow]{s.judge}: {count} unscored: {reason}[/yellow]")
    if report.agreement:
        console.print(_agreement_table(report.agreement))


def _repeat_noise(flip_rate: float | None, what: str, sd: float | None) -> str:
    """How much repeated judgings of one item disagree, for the repeat line."""
    return (
        f"between repeats on {_num(flip_rate)} of items (flip rate), within-item {what} SD "
        f"{_num(sd)}"
    )


def _clusters(run: RunDir, field: str | None) -> dict[str, str] | None:
    """Example id -> cluster label from ``--cluster-field`` (None without one)."""
    if field is None:
        return None
    from tuneval.evaluation.paired_stats import example_clusters

    examples = run.examples()
    labels = example_clusters(examples, field, str(run.examples_path))
    return {e.id: label for e, label in zip(examples, labels, strict=True)}


def _render_pairs(report: PairwiseReport) -> None:
    from rich.table import Table

    rows = [*report.judges, *([report.panel] if report.panel else [])]
    first = rows[0] if rows else None
    title = f"{first.model_b} vs {first.model_a}" if first else "Pairwise"
    table = Table(
        title=f"{title} (win rate of {first.model_b if first else 'b'})",
        title_justify="left",
        caption="win rate = (wins + 0.5 ties) / n; LC = length-controlled (AlpacaEval 2 GLM); "
        "consistency = same verdict in both orders",
        caption_justify="left",
    )
    for column in (
        "judge", "n", "W/T/L", "win rate [CI]", "p", "LC win rate [CI]", "consistency",
        "first pos.", "longer pref.", "inconsistent", "unscored",
    ):  # fmt: skip
        if column == "judge":
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, no_wrap=True)
    for s in rows:
        table.add_row(
            s.judge,
            str(s.n),
            f"{s.wins}/{s.ties}/{s.losses}",
            _ci(s.win_rate),
            "-" if s.p_value is None else f"{s.p_value:.3g}",
            _ci(s.lc_win_rate),
            _num(s.position_consistency),
            _num(s.first_position_rate),
            _num(s.longer_preferred_rate),
            str(s.inconsistent),
            str(s.unscored),
        )
    console.print(table)
    for s in rows:
        if s.detectable is False and s.undetectable_reason:
            console.print(
                f"{s.judge}: no win-rate difference is detectable: {s.undetectable_reason}"
            )
        if s.unit != "item":
            console.print(f"{s.judge}: win-rate CI resampled {s.units} {s.unit} units")
    for s in report.judges:
        if s.repeats > 1:
            noise = _repeat_noise(s.flip_rate, "preference", s.verdict_sd)
            console.print(
                f"{s.judge}: {s.repeats} judgings per pair and order; the verdict changes "
                f"{noise}; each item counts once"
            )
        if s.position_consistency is not None and s.position_consistency < 0.5:
            console.print(
                f"[yellow]warning: {s.judge} gives the same verdict in both orders for only "
                f"{s.position_consistency:.0%} of items; its verdicts follow position, not "
                "quality[/yellow]"
            )
    if report.agreement:
        console.print(_agreement_table(report.agreement))


def _check_scored(counts: list[tuple[str, int, int]], what: str) -> None:
    """Say loudly what the judge left unscored; a judge that scored nothing is an error.

    Args:
        counts: ``(judge, scored, unscored)`` per judge.
        what: What was scored (``outputs``, ``comparisons``), for the message.

    Raises:
        DataError: When a judge scored none of its items: its numbers would be no result.
    """
    from tuneval.errors import DataError

    for judge, scored, unscored in counts:
        if unscored and scored:
            err_console.print(
                f"warning: {judge} left {unscored} of {scored + unscored} {what} unscored; "
                "the results cover the rest only",
                markup=False,
                soft_wrap=True,
            )
    nothing = [(j, u) for j, s, u in counts if u and not s]
    if nothing:
        judge, unscored = nothing[0]
        raise DataError(
            f"judge {judge} scored 0/{unscored} {what} (every reply unusable, reasons above); "
            "check the judge spec, or raise --max-attempts/--max-tokens"
        )


@judge_app.command("score")
@record_flags(
    ScoreOptions,
    "flags",
    help=_HELP,
    parsers={"scale": (_parse_scale, "LOW-HIGH"), "template": (_template("single"), "FILE")},
)
@_CALLS
@bootstrap_flags
def score_cmd(
    run: RunOpt,
    model_name: Annotated[str, typer.Option("--model-name", help="Model whose outputs to score.")],
    judge: JudgeOpt,
    as_json: JsonOpt = False,
    batch: BatchOpt = False,
    flags: Given = NO_FLAGS,
) -> None:
    """Score each output of one model with a judge (1-10 rubric, JSON verdicts), resumable."""
    from tuneval.judge import ScoreConfig, score_with_panel
    from tuneval.rundir import RunDir

    config, boot = _settings(ScoreConfig, flags, run, batch)
    report = _judged(
        judge,
        f"judging {model_name}",
        batch,
        lambda backends, tick: score_with_panel(
            RunDir(run), model_name, backends, config, boot, on_call=tick
        ),
    )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _render_scores(report)
    _check_scored([(s.judge, s.scored, s.unscored) for s in report.judges], "outputs")


def _judged(specs: list[str], label: str, batch: bool, call: Callable[[Any, Any], R]) -> R:
    """``call(backends, tick)`` under a progress display; the judge backends are closed after."""
    backends = _backends(specs)
    try:
        with _progress(label, batch) as tick:
            return call(backends, tick)
    finally:
        _close(backends)


@judge_app.command("pairwise")
@record_flags(
    PairOptions,
    "flags",
    help=_HELP | {"swap": "Judge both orders, or only a-b."},
    parsers={"template": (_template("pairwise"), "FILE")},
)
@_CALLS
@bootstrap_flags
def pairwise_cmd(
    run: RunOpt,
    judge: JudgeOpt,
    a: Annotated[str, typer.Option("--a", help="The reference model (usually the base).")] = "base",
    b: Annotated[str, typer.Option("--b", help="The challenger (win rate is its).")] = "finetuned",
    human: Annotated[
        str | None,
        typer.Option("--human", help='Human votes JSONL ({"example_id", "preference": a|b|tie}).'),
    ] = None,
    cluster_field: Annotated[
        str | None,
        typer.Option(
            "--cluster-field",
            help="Eval-set field grouping related items (prompt, category, source): the "
            "win-rate CI resamples whole groups.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    batch: BatchOpt = False,
    flags: Given = NO_FLAGS,
) -> None:
    """Compare model b with model a, judged in both orders: win rate, LC win rate, biases."""
    from tuneval.judge import PairConfig, compare_with_panel
    from tuneval.rundir import RunDir

    config, boot = _settings(PairConfig, flags, run, batch)
    clusters = _clusters(RunDir(run), cluster_field)
    report = _judged(
        judge,
        f"judging {b} vs {a}",
        batch,
        lambda backends, tick: compare_with_panel(
            RunDir(run),
            a,
            b,
            backends,
            config,
            boot,
            human_votes=human,
            clusters=clusters,
            cluster_field=cluster_field,
            on_call=tick,
        ),
    )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _render_pairs(report)
    _check_scored([(s.judge, s.n, s.unscored) for s in report.judges], "comparisons")
