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


class PPIWinRate(Record):
    """``model_b``'s win rate three ways: judge only, humans only, and PPI."""

    judge_only: RateInterval
    """The judge's win rate over every item it judged (valid for the judge, not for humans)."""
    human_only: RateInterval
    """The human majority's win rate on the labelled items alone (t interval)."""
    ppi: RateInterval
    """Prediction-powered estimate of the *human* win rate over all items, with its CI."""
    labelled: int
    """Items with both human votes and a judge verdict."""
    unlabelled: int
    """Items with a judge verdict only."""
    confidence: float
    """Level of the intervals."""


def _t_interval(values: np.ndarray, confidence: float) -> RateInterval:
    from scipy.stats import t

    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return RateInterval(value=mean, ci_low=float("nan"), ci_high=float("nan"), n=n)
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return RateInterval(
        value=mean, ci_low=max(0.0, mean - half), ci_high=min(1.0, mean + half), n=n
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
    try:
        import ppi_py
    except ImportError:
        raise MissingDependencyError(
            "ppi_py", "human", "The prediction-powered human win rate"
        ) from None
    y = np.asarray(human, dtype=np.float64)
    yhat = np.asarray(judge_labelled, dtype=np.float64)
    yhat_u = np.asarray(judge_unlabelled, dtype=np.float64)
    if y.size != yhat.size or y.size < 2:
        raise ValueError("PPI needs at least 2 labelled items with a judge verdict each")
    judge_all = np.concatenate([yhat, yhat_u])
    human_only = _t_interval(y, confidence)
    if yhat_u.size == 0 or np.ptp(judge_all) == 0:
        # Humans labelled every judged item, or the judge gave one verdict throughout: the judge
        # adds nothing (power tuning sets its weight to 0), so PPI is the human estimate.
        return PPIWinRate(
            judge_only=_t_interval(judge_all, confidence),
            human_only=human_only,
            ppi=human_only,
            labelled=int(y.size),
            unlabelled=0,
            confidence=confidence,
        )
    alpha = 1.0 - confidence
    point = float(np.ravel(ppi_py.ppi_mean_pointestimate(y, yhat, yhat_u))[0])
    low, high = (float(np.ravel(x)[0]) for x in ppi_py.ppi_mean_ci(y, yhat, yhat_u, alpha=alpha))
    return PPIWinRate(
        judge_only=_t_interval(judge_all, confidence),
        human_only=human_only,
        ppi=RateInterval(
            value=point, ci_low=max(0.0, low), ci_high=min(1.0, high), n=int(judge_all.size)
        ),
        labelled=int(y.size),
        unlabelled=int(yhat_u.size),
        confidence=confidence,
    )
