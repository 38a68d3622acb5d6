"""``tuneval human``: blind A/B studies, the annotation app, spreadsheet exchange, results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tuneval.cli.app import app
from tuneval.cli.options import JsonOpt
from tuneval.cli.record_flags import NO_FLAGS, Given, record_flags
from tuneval.errors import UsageError
from tuneval.workflow.config import HumanConfig
from tuneval.workflow.optional_steps import HUMAN_STUDY_DIR

if TYPE_CHECKING:
    from tuneval.human.ppi import RateInterval, RubricPPI
    from tuneval.human.results import HumanResults, JudgeAgreement
    from tuneval.stats import Interval

human_app = typer.Typer(
    help="Human evaluation: blind A/B studies, an annotation web app, agreement, unblinding.",
    no_args_is_help=True,
)
app.add_typer(human_app, name="human")

console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, highlight=False)


def _names(text: str) -> list[str]:
    """Annotator names from a comma-separated list."""
    return [a.strip() for a in text.split(",") if a.strip()]


StudyArg = Annotated[Path, typer.Argument(help="Study directory (made by 'tuneval human create').")]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@human_app.command("create")
@record_flags(
    HumanConfig,
    "flags",
    fields=("annotators", "per_item", "seed", "items"),
    flags={"items": "--limit"},
    help={
        "annotators": "Comma-separated annotator names.",
        "seed": "Seed of placement, sample and assignment.",
        "items": "Use a seeded sample of N items.",
    },
    parsers={"annotators": (_names, "NAMES")},
)
def create(
    run: Annotated[
        str | None, typer.Option("--run", help="Run directory with both models' generations.")
    ] = None,
    predictions_a: Annotated[
        str | None, typer.Option("--predictions-a", help="Predictions file of model --a.")
    ] = None,
    predictions_b: Annotated[
        str | None, typer.Option("--predictions-b", help="Predictions file of model --b.")
    ] = None,
    examples: Annotated[
        str | None,
        typer.Option("--examples", help="Eval set with the prompts (with prediction files)."),
    ] = None,
    model_a: Annotated[str, typer.Option("--a", help="First model (usually the base).")] = "base",
    model_b: Annotated[
        str, typer.Option("--b", help="Second model (usually the fine-tuned one).")
    ] = "finetuned",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Study directory to create (default: RUN/human-study)."),
    ] = None,
    id_field: Annotated[str, typer.Option("--id-field", help="Id field of the files.")] = "id",
    prediction_field: Annotated[
        str, typer.Option("--prediction-field", help="Output field of prediction files.")
    ] = "prediction",
    flags: Given = NO_FLAGS,
) -> None:
    """Create a blind A/B study: random A/B placement per item, items assigned to annotators."""
    from tuneval.human import create_study, pairs_from_predictions, pairs_from_run

    if (run is None) == (predictions_a is None or predictions_b is None):
        raise UsageError("give either --run, or both --predictions-a and --predictions-b")
    study = flags.build(HumanConfig)
    if run is not None:
        pairs = pairs_from_run(run, model_a, model_b)
        target = out or Path(run) / HUMAN_STUDY_DIR
    else:
        if out is None:
            raise UsageError("with prediction files, say where the study goes with --out")
        assert predictions_a is not None and predictions_b is not None
        pairs = pairs_from_predictions(
            predictions_a,
            predictions_b,
            examples=examples,
            id_field=id_field,
            prediction_field=prediction_field,
        )
        target = out
    store = create_study(
        target,
        pairs,
        model_a=model_a,
        model_b=model_b,
        **study.study_options(),
    )
    info = store.info()
    console.print(
        f"Created study {store.path}: {info.items} items, {len(study.annotators)} annotators, "
        f"{study.per_item} per item (seed {study.seed})."
    )
    if info.skipped:
        console.print(f"[yellow]{len(info.skipped)} examples left out (a model had no output).")
    console.print(f"Next: tuneval human serve {store.path}")


@human_app.command("serve")
def serve(
    study: StudyArg,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Run the annotation app and print each annotator's private link."""
    from tuneval.human.app import links
    from tuneval.human.app import serve as run_app

    shown = f"[{host}]" if ":" in host else host
    annotators, organiser = links(study, f"http://{shown}:{port}")
    if host not in _LOOPBACK:
        err_console.print(
            f"[bold yellow]Warning:[/] binding to {host} makes the app reachable from other "
            "machines; the links carry secret tokens and plain HTTP does not encrypt them. "
            "Share them only over a trusted network (or put the app behind HTTPS)."
        )
    console.print("Private links (one per annotator; each link is a secret):")
    for name, url in annotators.items():
        console.print(f"  {name}: {url}", soft_wrap=True)
    console.print(f"Organiser: {organiser}", soft_wrap=True)
    console.print("Press Ctrl+C to stop.")
    run_app(study, host=host, port=port)


@human_app.command("export")
def export(
    study: StudyArg,
    out: Annotated[Path, typer.Option("--out", help="Directory for the files.")] = Path("."),
) -> None:
    """Write annotations.jsonl and annotations.csv for annotating in a spreadsheet."""
    from tuneval.human import export_study

    jsonl, table = export_study(study, out)
    console.print(f"Wrote {jsonl} and {table} (no model names in them).")


@human_app.command("import")
def import_(
    study: StudyArg,
    file: Annotated[Path, typer.Argument(help="The filled annotations.jsonl or .csv.")],
) -> None:
    """Read a filled export back into the study (rows left blank are skipped).

    All or nothing: a file with any bad row (partly filled, repeated, with missing or extra
    cells) stores no vote, and the error names each such row.
    """
    from tuneval.human import import_votes

    summary = import_votes(study, file)
    if not summary.imported:
        from tuneval.errors import DataError

        # An untouched export imports "successfully" yet adds nothing: say so, exit 1.
        raise DataError(
            f"no votes in the file ({summary.blank} rows, all blank); fill it in first", path=file
        )
    console.print(f"Imported {summary.imported} votes; {summary.blank} blank rows skipped.")


@human_app.command("results")
def results(
    study: StudyArg,
    judge: Annotated[
        list[Path] | None,
        typer.Option(
            "--judge",
            help="LLM-judge JSONL of the same items, repeatable: pairwise verdicts "
            "(RUN/judge_pairwise.jsonl) and/or scores (RUN/judge_single.jsonl).",
        ),
    ] = None,
    votes_out: Annotated[
        Path | None, typer.Option("--votes-out", help="Also write the unblinded votes (JSONL).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="Disagreement items to list.")] = 10,
    confidence: Annotated[
        float | None,
        typer.Option("--confidence", help="Confidence level of intervals."),
    ] = None,
    resamples: Annotated[
        int | None,
        typer.Option("--resamples", help="Bootstrap resamples of the intervals."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the bootstrap (recorded).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Unblind the votes: win rates, rubric scores, agreement, judge-vs-human agreement."""
    from tuneval.human import StudyStore, study_results, unblinded_rows

    # Only the flags given override study_results' own defaults.
    given: dict[str, Any] = {"confidence": confidence, "resamples": resamples, "seed": seed}
    report = study_results(
        study, judge_file=judge, **{k: v for k, v in given.items() if v is not None}
    )
    if votes_out is not None:
        rows = unblinded_rows(StudyStore(study))
        votes_out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    _render(report, top)


def _ci(e: Interval | RateInterval, digits: int = 3) -> str:
    return f"{e.value:.{digits}f} [{e.ci_low:.{digits}f}, {e.ci_high:.{digits}f}]"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _render(r: HumanResults, top: int) -> None:
    from rich.table import Table

    level = f"{r.confidence:.0%} CI"
    console.print(
        f"Study {r.study.name}: {r.items_voted}/{r.study.items} items voted, {r.votes} votes"
    )
    wins = Table(title="Overall preference", title_justify="left")
    for col in ("model", f"win rate ({level})", "wins", "ties", "losses"):
        wins.add_column(col)
    for w in r.win_rates:
        wins.add_row(w.model, _ci(w.win_rate), str(w.wins), str(w.ties), str(w.losses))
    console.print(wins)
    crit = Table(title="Rubric (1-5)", title_justify="left")
    a, b = r.study.model_a, r.study.model_b
    for col in ("criterion", a, b, f"{b} - {a}", "p"):
        crit.add_column(col)
    for c in r.criteria:
        crit.add_row(
            c.criterion,
            _ci(c.mean_a, 2),
            _ci(c.mean_b, 2),
            _ci(c.difference, 2),
            f"{c.p_value:.4f}",
        )
    console.print(crit)
    ag = r.agreement
    agree = Table(title="Inter-annotator agreement", title_justify="left")
    agree.add_column("statistic")
    agree.add_column("value")
    agree.add_row(
        "Fleiss' kappa (preference)",
        f"{_num(ag.fleiss_kappa)} ({ag.fleiss_items} items x {ag.fleiss_raters} votes)",
    )
    agree.add_row("Krippendorff's alpha (preference, nominal)", _num(ag.preference_alpha))
    for name, value in ag.criteria_alpha.items():
        agree.add_row(f"Krippendorff's alpha ({name}, ordinal)", _num(value))
    for p in ag.pairwise:
        agree.add_row(
            f"Cohen's kappa {p.annotator_1}-{p.annotator_2}", f"{_num(p.kappa)} (n={p.n})"
        )
    console.print(agree)
    if r.disagreements and top:
        console.print(
            f"{len(r.disagreements)} items with high disagreement (if there are many, "
            "clarify the rubric):"
        )
        for d in r.disagreements[:top]:
            console.print(f"  {d.item_id} (example {d.example_id}): {'; '.join(d.reasons)}")
    if r.judge is not None:
        j = r.judge
        console.print(
            f"Judge vs human majority on {j.n} items: agreement {_num(j.agreement)}, "
            f"Cohen's kappa {_num(j.kappa)}; {b} win rate judge {_num(j.judge_win_rate_b)} "
            f"vs humans {_num(j.human_win_rate_b)}"
        )
        _print_ppi(r.judge, b)
    if r.judge_rubric is not None:
        _print_rubric_ppi(r.judge_rubric, a, b)


def _print_rubric_ppi(rows: list[RubricPPI], a: str, b: str) -> None:
    """Per criterion: the PPI estimates of the human mean scores and their difference."""
    first = rows[0].difference
    console.print(
        f"Rubric (1-5), PPI estimate of the human means from judge scores on "
        f"{first.labelled} labelled + {first.unlabelled} judge-only items (humans only in "
        "parentheses):"
    )
    for c in rows:
        console.print(
            f"  {c.criterion}: {a} {_ci(c.mean_a.ppi, 2)}, {b} {_ci(c.mean_b.ppi, 2)}, "
            f"{b} - {a} {_ci(c.difference.ppi, 2)} ({_ci(c.difference.human_only, 2)})"
        )


def _print_ppi(j: JudgeAgreement, model: str) -> None:
    """Judge-only, human-only and prediction-powered human win rates of ``model``."""
    p = j.ppi
    if p is None:
        console.print(
            "PPI human win rate: not computed (needs 2+ items with both human votes and a judge "
            "verdict, and ppi-python: pip install 'tuneval[human]')"
        )
        return
    console.print(
        f"{model} win rate: judge only {_ci(p.judge_only)} on {p.judge_only.n} items; humans "
        f"only {_ci(p.human_only)} on {p.labelled} items; PPI estimate of the human win rate "
        f"{_ci(p.ppi)} on {p.labelled} labelled + {p.unlabelled} judge-only items"
    )
