"""``--fail-if-worse``: turn verdicts into a CI gate."""

from __future__ import annotations

from collections.abc import Sequence

from tuneval.errors import UsageError
from tuneval.report.schema import Results, Verdict


def _matches(verdict: Verdict, measure: str) -> bool:
    name = verdict.measure
    metric, _, score = name.partition(".")
    return measure in (name, metric, score)


def worse_reasons(results: Results, measures: Sequence[str]) -> list[str]:
    """One reason per measure on which the fine-tuned model is significantly worse.

    A measure is a verdict name (``exact_match.exact_match``, ``judge_score``, ``win_rate``),
    a metric name (``rouge``: all its scores) or a score name (``rougeL_f``).

    Raises:
        UsageError: For a measure that matches no verdict of the run.
    """
    reasons = []
    for measure in measures:
        matched = [v for v in results.verdicts if _matches(v, measure)]
        if not matched:
            known = ", ".join(v.measure for v in results.verdicts) or "none"
            raise UsageError(
                f"--fail-if-worse {measure}: the run has no such measure (has: {known})"
            )
        for v in matched:
            if v.outcome == "worse":
                p = "" if v.p_value is None else f", p = {v.p_value:.4g}"
                reasons.append(
                    f"fine-tuned is significantly worse on {v.measure}: difference "
                    f"{v.difference:+.4f} [{v.ci_low:.4f}, {v.ci_high:.4f}]{p}"
                )
    return reasons
