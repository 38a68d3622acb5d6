"""A human win rate from many judge verdicts and a few human labels: prediction-powered inference.

An LLM judge is cheap but not a human; a human study is faithful but small. Prediction-powered
inference (Angelopoulos et al., Science 2023) combines them without trusting the judge: the
judge's mean win rate over every item is corrected by the judge's average error on the items
humans labelled, and the interval accounts for both samples. It stays valid however wrong the
judge is; the better the judge agrees with humans, the narrower the interval (with a useless
judge the power-tuned version falls back to the human-only estimate). Computed with
``ppi_py`` (``pip install 'tuneval[human]'``): ``ppi_mean_pointestimate`` and
``ppi_mean_ci`` with power tuning.

Preferences are coded 1 (the fine-tuned model, ``model_b``, wins), 0.5 (tie) and 0 (loses).
Rubric scores work the same way (`RubricPPI`): the judge's 1-10 scores of every output, plus
the humans' 1-5 scores of a few, give the humans' mean score (and the difference between the
models) over all items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tuneval.errors import MissingDependencyError
from tuneval.records import Record


class RateInterval(Record):
    """A win rate with its confidence interval."""

    value: float
    """The estimate."""
    ci_low: float
    """Lower end of the interval."""
    ci_high: float
    """Upper end of the interval."""
    n: int
    """Items behind it."""


class PPIEstimate(Record):
    """A mean three ways: the judge alone, humans alone, and the prediction-powered estimate."""

    judge_only: RateInterval
    """The judge's mean over every item it judged, on the judge's own scale (valid for the
    judge, not for humans)."""
    human_only: RateInterval
    """The humans' mean on the labelled items alone (t interval)."""
    ppi: RateInterval
    """Prediction-powered estimate of the *human* mean over all items, with its CI."""
    labelled: int
    """Items with both human labels and a judge value."""
    unlabelled: int
    """Items with a judge value only."""
    confidence: float
    """Level of the intervals."""


class PPIWinRate(PPIEstimate):
    """``model_b``'s win rate three ways: judge only, humans only, and PPI (ties count half)."""


class RubricPPI(Record):
    """One rubric criterion's human means, prediction-powered by the judge's scores.

    The judge scores each output on its own scale (1-10); humans score the criterion 1-5.
    PPI with power tuning weighs the judge by how well it predicts the humans, so the scales
    need not match: the estimate is of the *human* mean, on the human scale.
    """

    criterion: str
    """The rubric criterion."""
    mean_a: PPIEstimate
    """model_a's mean score."""
    mean_b: PPIEstimate
    """model_b's mean score."""
    difference: PPIEstimate
    """model_b minus model_a (the judge's score difference predicts the humans')."""


def _t_interval(
    values: np.ndarray, confidence: float, bounds: tuple[float, float] = (0.0, 1.0)
) -> RateInterval:
    from scipy.stats import t

    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return RateInterval(value=mean, ci_low=float("nan"), ci_high=float("nan"), n=n)
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return RateInterval(
        value=mean, ci_low=max(bounds[0], mean - half), ci_high=min(bounds[1], mean + half), n=n
    )


def ppi_win_rate(
    human: Sequence[float],
    judge_labelled: Sequence[float],
    judge_unlabelled: Sequence[float],
    confidence: float = 0.95,
) -> PPIWinRate:
    """Judge-only, human-only and prediction-powered win rates.

    Args:
        human: Human preference (1, 0.5, 0) on each labelled item.
        judge_labelled: The judge's preference on the same items, same order.
        judge_unlabelled: The judge's preference on the items no human labelled.
        confidence: Level of the intervals.

    Raises:
        MissingDependencyError: When ``ppi-python`` is not installed.
        ValueError: When fewer than 2 items are labelled or the labelled lists differ in length.
    """
    est = ppi_mean(human, judge_labelled, judge_unlabelled, confidence)
    return PPIWinRate(**dict(est))


def ppi_mean(
    human: Sequence[float],
    judge_labelled: Sequence[float],
    judge_unlabelled: Sequence[float],
    confidence: float = 0.95,
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
    judge_bounds: tuple[float, float] | None = None,
) -> PPIEstimate:
    """Judge-only, human-only and prediction-powered means of a human label.

    ``ppi_py.ppi_mean_ci`` with power tuning (its default): the judge's values on all items,
    corrected by its average error on the labelled ones, weighted by how well they predict
    the humans; with a useless judge it falls back to the human-only estimate.

    Args:
        human: The human value on each labelled item (a preference, or a mean rubric score).
        judge_labelled: The judge's value on the same items, same order (any scale).
        judge_unlabelled: The judge's value on the items no human labelled.
        confidence: Level of the intervals.
        bounds: The range of the human values; intervals are clipped to it.
        judge_bounds: The range of the judge's values (default: ``bounds``).

    Raises:
        MissingDependencyError: When ``ppi-python`` is not installed.
        ValueError: When fewer than 2 items are labelled or the labelled lists differ in length.
    """
    try:
        import ppi_py
    except ImportError:
        raise MissingDependencyError("ppi_py", "human", "The prediction-powered estimate") from None
    y = np.asarray(human, dtype=np.float64)
    yhat = np.asarray(judge_labelled, dtype=np.float64)
    yhat_u = np.asarray(judge_unlabelled, dtype=np.float64)
    if y.size != yhat.size or y.size < 2:
        raise ValueError("PPI needs at least 2 labelled items with a judge value each")
    judge_all = np.concatenate([yhat, yhat_u])
    human_only = _t_interval(y, confidence, bounds)
    judge_only = _t_interval(judge_all, confidence, judge_bounds or bounds)
    if yhat_u.size == 0 or np.ptp(judge_all) == 0:
        # Humans labelled every judged item, or the judge gave one value throughout: the judge
        # adds nothing (power tuning sets its weight to 0), so PPI is the human estimate.
        return PPIEstimate(
            judge_only=judge_only,
            human_only=human_only,
            ppi=human_only,
            labelled=int(y.size),
            unlabelled=int(yhat_u.size),
            confidence=confidence,
        )
    alpha = 1.0 - confidence
    point = float(np.ravel(ppi_py.ppi_mean_pointestimate(y, yhat, yhat_u))[0])
    low, high = (float(np.ravel(x)[0]) for x in ppi_py.ppi_mean_ci(y, yhat, yhat_u, alpha=alpha))
    return PPIEstimate(
        judge_only=judge_only,
        human_only=human_only,
        ppi=RateInterval(
            value=point,
            ci_low=max(bounds[0], low),
            ci_high=min(bounds[1], high),
            n=int(judge_all.size),
        ),
        labelled=int(y.size),
        unlabelled=int(yhat_u.size),
        confidence=confidence,
    )
