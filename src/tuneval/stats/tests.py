"""Paired significance tests and multiple-comparison correction.

* `mcnemar_exact`: right/wrong outcomes of two systems on the same items (exact binomial form,
  equal to statsmodels' ``mcnemar(table, exact=True)``).
* `approximate_randomization`: any aggregate of sufficient statistics; swaps the two systems'
  statistics per item at random (Noreen 1989; Riezler & Maxwell 2005).
* `paired_bootstrap_pvalue`: the shifted-distribution bootstrap test (Koehn 2004;
  Berg-Kirkpatrick et al. 2012).
* `holm`: Holm's step-down adjustment, equal to statsmodels' ``multipletests(method="holm")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from tuneval.stats.resample import FloatArray

Aggregate = Callable[[FloatArray], dict[str, FloatArray]]


def mcnemar_exact(base_correct: NDArray[np.bool_], tuned_correct: NDArray[np.bool_]) -> float:
    """Two-sided exact McNemar p-value.

    Only discordant items matter: ``b`` fixed by the fine-tune, ``c`` broken by it. Under the
    null each discordant item goes either way with probability 1/2, so the p-value is
    ``min(1, 2 * P(Binomial(b + c, 1/2) <= min(b, c)))``.

    Args:
        base_correct: Per-item correctness of the base model.
        tuned_correct: Per-item correctness of the fine-tuned model, same items.

    Returns:
        The p-value (1.0 when there are no discordant items).
    """
    from scipy.stats import binom

    fixed = int(np.sum(~base_correct & tuned_correct))
    broken = int(np.sum(base_correct & ~tuned_correct))
    if fixed + broken == 0:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(fixed, broken), fixed + broken, 0.5)))


def approximate_randomization(
    stats_base: FloatArray,
    stats_tuned: FloatArray,
    aggregate: Aggregate,
    *,
    trials: int,
    seed: int,
) -> dict[str, float]:
    """Two-sided approximate randomisation p-values for differences of aggregates.

    Each trial swaps the two systems' statistics on a random half of the items; the p-value
    is ``(1 + #{|d*| >= |d|}) / (1 + trials)``, which is never 0 and is valid at any ``trials``.
    All scores of one metric share the same shuffles.

    Args:
        stats_base: ``(n, d)`` statistics of the base model.
        stats_tuned: ``(n, d)`` statistics of the fine-tuned model on the same items.
        aggregate: Maps ``(b, d)`` summed statistics to ``{score name: (b,) scores}``.
        trials: Number of random shuffles.
        seed: Seed of the random generator.

    Returns:
        The p-value of each score name.
    """
    total_base, total_tuned = stats_base.sum(0), stats_tuned.sum(0)
    base_scores = aggregate(total_base[None, :])
    tuned_scores = aggregate(total_tuned[None, :])
    observed = {k: float(tuned_scores[k][0] - base_scores[k][0]) for k in base_scores}
    hits = dict.fromkeys(observed, 0)
    rng = np.random.default_rng(seed)
    n = stats_base.shape[0]
    delta = stats_tuned - stats_base
    chunk = max(1, min(trials, (1 << 24) // max(n, 1)))
    done = 0
    while done < trials:
        b = min(chunk, trials - done)
        swap = rng.integers(0, 2, size=(b, n)).astype(np.float64)
        moved = swap @ delta  # what the swapped items carry from one system to the other
        shuffled_tuned = aggregate(total_tuned - moved)
        shuffled_base = aggregate(total_base + moved)
        for name, obs in observed.items():
            # A relative tolerance keeps ties (|d*| == |d| up to rounding) counted as extreme.
            tol = 1e-12 * max(1.0, abs(obs))
            diff = np.abs(shuffled_tuned[name] - shuffled_base[name])
            hits[name] += int(np.sum(diff >= abs(obs) - tol))
        done += b
    return {k: (hits[k] + 1) / (trials + 1) for k in observed}


def paired_bootstrap_pvalue(differences: FloatArray, observed: float) -> float:
    """Two-sided paired bootstrap p-value from resampled differences.

    The bootstrap distribution of the difference is centred on the observed difference; shifting
    it to the null (mean 0) and counting resamples at least as extreme as the observed gives the
    p-value: ``(1 + #{|d* - d| >= |d|}) / (1 + b)``.
    """
    finite = differences[~np.isnan(differences)]
    extreme = np.sum(np.abs(finite - observed) >= abs(observed))
    return float((extreme + 1) / (finite.size + 1))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control).

    Sorted ascending, the ``i``-th smallest p-value is multiplied by ``m - i``; the adjusted
    values are made monotone with a running maximum and capped at 1.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [float(x) for x in adjusted]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimator of Chen et al. (2021), in its numerically stable form.

    ``1 - C(n - c, k) / C(n, k)`` computed as ``1 - prod(1 - k / arange(n - c + 1, n + 1))``.

    Args:
        n: Samples generated for the problem.
        c: Samples that passed.
        k: The k of pass@k; must not exceed ``n``.
    """
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got c={c}, n={n}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
