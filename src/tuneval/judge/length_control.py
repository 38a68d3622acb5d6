"""Length-controlled win rate, after AlpacaEval 2's generalised linear model.

For item ``i`` let ``y_i`` be the preference for model b over model a (1 win, 0 loss, 0.5 tie)
and ``d_i = len(b_i) - len(a_i)`` the difference of output lengths in characters. The model is

    logit P(b preferred on i) = theta + phi * tanh(d_i / sd(d))

with ``sd`` the sample standard deviation (ddof=1, pandas' ``std`` as AlpacaEval uses it),
fitted by maximum likelihood on the soft labels (each item contributes
``y_i log p_i + (1 - y_i) log(1 - p_i)``), with a negligible ridge (``1e-4 * (theta² + phi²)``)
so that a sample where one side always wins still has a finite fit. The length-controlled win
rate is the model's prediction with the length term zeroed, averaged over items:

    LC = mean_i sigmoid(theta) = sigmoid(theta)

i.e. the win rate the judge would give if both outputs had the same length. This is AlpacaEval's
``length_controlled_minimal`` formula (``tanh(std_delta_len) + model term``); its default also
has a per-instruction difficulty term estimated from the many models on its leaderboard and a
regularisation towards length-gamed baselines, which are not identifiable with only two
models compared and are left out. The interval is a percentile bootstrap over items (the
model refitted on each resample, vectorised).
"""

from __future__ import annotations

import numpy as np

from tuneval.stats import percentile_interval, resample_counts
from tuneval.stats.resample import FloatArray

RIDGE = 1e-4
_MAX_ITER = 100


def length_feature(delta: FloatArray) -> FloatArray:
    """``tanh(d / sd(d))``; all zeros when every length difference is equal."""
    sd = float(np.std(delta, ddof=1)) if delta.size > 1 else 0.0
    if sd == 0.0:
        return np.zeros_like(delta, dtype=np.float64)
    return np.tanh(delta / sd)


def fit_glm(y: FloatArray, x: FloatArray, weights: FloatArray) -> FloatArray:
    """Fit ``logit p = theta + phi * x`` for each row of ``weights`` by Newton's method.

    Args:
        y: Soft labels in [0, 1], shape ``(n,)``.
        x: The length feature, shape ``(n,)``.
        weights: Item weights, shape ``(b, n)`` (bootstrap counts, or one row of ones).

    Returns:
        ``(b, 2)`` array of ``(theta, phi)``.
    """
    b = weights.shape[0]
    beta = np.zeros((b, 2))
    wy = weights @ y
    wxy = weights @ (x * y)
    for _ in range(_MAX_ITER):
        eta = beta[:, :1] + beta[:, 1:] * x[None, :]
        p = 1.0 / (1.0 + np.exp(-eta))
        q = weights * p * (1.0 - p)
        grad = np.stack([wy - (weights * p).sum(1), wxy - (weights * p) @ x], axis=1)
        grad -= 2 * RIDGE * beta
        h00 = q.sum(1) + 2 * RIDGE
        h01 = q @ x
        h11 = q @ (x * x) + 2 * RIDGE
        det = h00 * h11 - h01 * h01
        step = (
            np.stack(
                [h11 * grad[:, 0] - h01 * grad[:, 1], h00 * grad[:, 1] - h01 * grad[:, 0]], axis=1
            )
            / det[:, None]
        )
        # Damp huge steps (near-separated samples) so Newton cannot overshoot wildly.
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        step *= np.minimum(1.0, 5.0 / np.maximum(norm, 1e-300))
        beta += step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return beta


def _sigmoid(value: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-value))


def lc_win_rate(
    preference: FloatArray,
    len_b: FloatArray,
    len_a: FloatArray,
    *,
    resamples: int = 1000,
    seed: int = 12345,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """The length-controlled win rate of b over a, with a bootstrap interval.

    Args:
        preference: Per-item preference for b (1, 0.5 or 0; soft values allowed).
        len_b: Output lengths of b.
        len_a: Output lengths of a.
        resamples: Bootstrap resamples (0 for no interval).
        seed: Seed of the resampling.
        confidence: Coverage of the interval.

    Returns:
        ``(lc, ci_low, ci_high, phi)``: the LC win rate, its interval and the fitted length
        coefficient (positive when the judge favours the longer output).
    """
    y = np.asarray(preference, dtype=np.float64)
    x = length_feature(np.asarray(len_b, dtype=np.float64) - np.asarray(len_a, dtype=np.float64))
    theta, phi = fit_glm(y, x, np.ones((1, y.size)))[0]
    lc = float(_sigmoid(np.array(theta)))
    if resamples <= 0 or y.size == 0:
        return lc, float("nan"), float("nan"), float(phi)
    samples = [
        _sigmoid(fit_glm(y, x, counts)[:, 0]) for counts in resample_counts(y.size, resamples, seed)
    ]
    low, high = percentile_interval(np.concatenate(samples), confidence)
    return lc, low, high, float(phi)
