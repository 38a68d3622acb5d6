"""Rich tables for results; numbers formatted once, the same way everywhere."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from tuneval.evaluation import ComparisonReport, ScoreReport
from tuneval.records import Comparison


def fmt(value: float) -> str:
    """Four decimals for scores in [0, 1] and two for scores on a 0-100 scale."""
    if math.isnan(value):
        return "nan"
    return f"{value:.2f}" if abs(value) > 1.0 else f"{value:.4f}"


def fmt_p(p: float) -> str:
    """P-values: scientific notation when tiny."""
    return f"{p:.1e}" if p < 1e-3 else f"{p:.4f}"


def score_table(report: ScoreReport) -> Table:
    """One row per score: value and CI."""
    first = report.results[0] if report.results else None
    level = f"{first.confidence:.0%} CI" if first else "CI"
    table = Table(title="Scores", title_justify="left")
    for column in ("metric", "score", "value", level, "n"):
        table.add_column(column, justify="right" if column in ("value", "n") else "left")
    for r in report.results:
        table.add_row(
            r.metric, r.name, fmt(r.value), f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]", str(r.n)
        )
    return table


def print_signatures(console: Console, signatures: list[str]) -> None:
    """Print each distinct signature once, in order."""
    for sig in dict.fromkeys(signatures):
        console.print(f"[dim]signature: {sig}[/dim]", highlight=False, soft_wrap=True)


def _verdict(diff: float, p_adjusted: float, alpha: float) -> str:
    if p_adjusted >= alpha:
        return "no sig. diff."
    return "[green]better[/green]" if diff > 0 else "[red]worse[/red]"


def _unit(report: ComparisonReport) -> str:
    if report.unit == "cluster":
        field = f" of {report.cluster_field}" if report.cluster_field else ""
        return f"resampled unit: {report.units} clusters{field}"
    return f"resampled unit: item ({report.n})"


_TEST_NAMES = {
    "mcnemar_exact": "McNemar",
    "mcnemar_score": "McNemar",
    "approximate_randomization": "AR",
    "paired_bootstrap": "bootstrap",
}


def comparison_table(report: ComparisonReport) -> Table:
    """One row per score: both systems, the difference with its CI, the test and the verdict."""
    table = Table(
        title=f"{report.finetuned_model} vs {report.base_model} ({report.n} paired items)",
        title_justify="left",
        caption=f"p (Holm): Holm-adjusted over all {len(report.comparisons)} scores; "
        f"alpha {report.alpha:g}; {_unit(report)}; MDE: smallest difference found 80% of "
        "the time at this n",
        caption_justify="left",
    )
    table.add_column("score", no_wrap=True)
    for column in (report.base_model, report.finetuned_model, "diff [CI]"):
        table.add_column(column)
    for column in ("test", "p (Holm)", "MDE", "verdict"):
        table.add_column(column, no_wrap=True)
    for c in report.comparisons:
        diff = f"{c.difference:+.4f}" if abs(c.difference) <= 1 else f"{c.difference:+.2f}"
        table.add_row(
            c.name,
            fmt(c.base.value),
            fmt(c.finetuned.value),
            f"{diff} [{fmt(c.ci_low)}, {fmt(c.ci_high)}]",
            _TEST_NAMES[c.test],
            fmt_p(c.p_adjusted),
            "—" if c.mde is None else "none" if math.isinf(c.mde) else fmt(c.mde),
            _verdict(c.difference, c.p_adjusted, report.alpha),
        )
    return table


def print_flipped(console: Console, report: ComparisonReport, limit: int) -> None:
    """Items that changed outcome, for right/wrong scores; largest moves for the others."""
    for c in report.comparisons:
        f = c.flipped
        if f.fixed or f.broken:
            console.print(
                f"{c.name}: fixed by the fine-tune {len(f.fixed)} "
                f"(e.g. {', '.join(f.fixed[:limit]) or '-'}); "
                f"broken {len(f.broken)} (e.g. {', '.join(f.broken[:limit]) or '-'})",
                highlight=False,
                soft_wrap=True,
            )


def verdict_text(
    difference: float, significant: bool, mde: float | None, units: str = "items"
) -> str:
    """The verdict in words, with what the comparison could not have seen.

    ``units`` (e.g. ``"4 items"``) is named when no difference is detectable at all (``mde``
    infinite: too few units for the test to reach alpha, or an effect beyond the range).
    """
    if significant and difference != 0:
        return "better" if difference > 0 else "worse"
    if mde is None:
        return "no significant difference"
    if math.isinf(mde):
        return f"no significant difference; no difference is detectable with {units}"
    return f"no significant difference; effects below {fmt(mde)} could not be detected (80% power)"


def _count(c: Comparison) -> str:
    """``"4 items"`` or ``"3 clusters"``: the units behind a comparison."""
    n = c.units if c.units is not None else c.n
    return f"{n} {c.unit}{'' if n == 1 else 's'}"


def print_power(console: Console, report: ComparisonReport) -> None:
    """One line per score without a significant difference: the effect it could have missed.

    Where the table says ``none`` (no difference is detectable), each distinct reason follows
    once, as the JSON's ``undetectable_reason`` gives it.
    """
    for c in report.comparisons:
        if c.p_adjusted >= report.alpha:
            console.print(
                f"{c.name}: {verdict_text(c.difference, False, c.mde, _count(c))}",
                highlight=False,
                soft_wrap=True,
            )
    reasons: dict[str, list[str]] = {}
    for c in report.comparisons:
        if c.detectable is False and c.undetectable_reason:
            reasons.setdefault(c.undetectable_reason, []).append(c.name)
    for reason, names in reasons.items():
        console.print(f"MDE none ({', '.join(names)}): {reason}", highlight=False, soft_wrap=True)
