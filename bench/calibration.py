"""Calibration of tuneval's verdicts by simulation with known truth.

Every cell draws data whose truth is known, runs the same code `tuneval.compare` and
`tuneval.score` run (`paired_outcome` for the paired test and its interval, `summarize` for a
single system's interval) and counts how often the verdict is wrong:

* **false-positive rate** at α = 0.05 when the two models are equally good, for a right/wrong
  score (McNemar), a continuous mean (sign-flip randomisation) and a BLEU-like corpus ratio
  (sum of matches / sum of lengths; paired bootstrap), with independent items at n = 30, 100,
  400, and with clustered items: 20 categories × 20 items with a category × fine-tune
  interaction (SD 1.0 on the logit scale, zero population effect) and 40 prompts × 5 identical
  copies; clustered designs are run with and without the cluster labels;
* **coverage** of 95% intervals: means (incl. p = 0.95 at n = 30), paired differences with a
  real effect, the corpus ratio, and clustered means;
* **PPI**: coverage and width of the prediction-powered human win rate (10% of items labelled
  by humans, a judge agreeing 70% with them) against the human-only interval (needs
  ``ppi-python``; skipped with a note when it is missing).

Run: ``nice python bench/calibration.py [replications]`` (default 500; about 15 minutes on one
core). The tests run a small fixed-seed version of some cells. The judge-side cells (win rate
with clusters and judge repeats, PPI of rubric means) are in ``bench/calibration_judge.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tuneval.evaluation.paired_stats import paired_outcome
from tuneval.evaluation.single import BootstrapConfig, summarize
from tuneval.metrics.base import FloatArray, MeanMetric, Metric
from tuneval.stats.units import Units, make_units, resample

ALPHA = 0.05
TRIALS = 2000
BOOT = BootstrapConfig(resamples=1000, seed=1, confidence=0.95)
Rng = np.random.Generator


class Values(MeanMetric):
    """Per-item values as a mean metric (right/wrong when ``binary``)."""

    name = "values"
    description = "simulated per-item values"

    def __init__(self, binary: bool) -> None:
        self.binary = binary

    @property
    def score_names(self) -> list[str]:
        return ["value"]

    @property
    def binary_scores(self) -> frozenset[str]:
        return frozenset({"value"}) if self.binary else frozenset()

    def example_values(self, predictions, references):  # type: ignore[no-untyped-def]
        raise NotImplementedError  # statistics are simulated directly

    def signature_fields(self) -> dict[str, str]:
        return {}


class Ratio(Metric):
    """A BLEU-like corpus score: summed matches over summed lengths."""

    name = "ratio"
    description = "simulated corpus ratio"

    @property
    def score_names(self) -> list[str]:
        return ["ratio"]

    def statistics(self, predictions, references):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        return {"ratio": totals[:, 0] / np.maximum(totals[:, 1], 1.0)}

    def signature_fields(self) -> dict[str, str]:
        return {}


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Design:
    """How items relate: independent, categories with an interaction, or prompt copies."""

    n: int
    groups: int = 0  # clusters; 0 = independent items
    copies: bool = False  # True: each cluster is one item repeated (identical outcomes)
    interaction_sd: float = 0.0


def _labels(d: Design) -> NDArray[np.int64]:
    size = d.n // d.groups
    return np.repeat(np.arange(d.groups), size)


def _logits(rng: Rng, d: Design, shift: float) -> tuple[FloatArray, FloatArray]:
    """Base and fine-tuned logits per item (per prompt for copies)."""
    k = d.groups if d.copies else d.n
    a = rng.normal(0.0, 1.0, k)
    tuned = a + shift
    if d.groups and not d.copies:
        tuned = tuned + rng.normal(0.0, d.interaction_sd, d.groups)[_labels(d)]
    return a, tuned


def _expand(d: Design, x: FloatArray) -> FloatArray:
    return np.repeat(x, d.n // d.groups, axis=0) if d.copies else x


def draw(kind: str, rng: Rng, d: Design, shift: float = 0.0) -> tuple[FloatArray, FloatArray]:
    """Per-item statistics of both models: ``(n, d)`` arrays."""
    a, t = _logits(rng, d, shift)
    k = a.size
    if kind == "binary":
        stats = [(rng.random(k) < _sigmoid(x)).astype(float) for x in (a, t)]
        return tuple(np.c_[_expand(d, s), np.ones(d.n)] for s in stats)  # type: ignore[return-value]
    if kind == "continuous":
        # Skewed noise: centred exponential; the fine-tune adds shift/10 plus the interaction.
        mu = 0.5 + 0.1 * a
        vals = [mu + 0.1 * (x - a) + 0.15 * (rng.exponential(1.0, k) - 1.0) for x in (a, t)]
        return tuple(np.c_[_expand(d, v), np.ones(d.n)] for v in vals)  # type: ignore[return-value]
    lengths = 5 + rng.poisson(15, k)
    out = []
    for x in (a, t):
        matches = rng.binomial(lengths, _sigmoid(x))
        out.append(_expand(d, np.c_[matches, lengths].astype(float)))
    return out[0], out[1]


def metric_for(kind: str) -> Metric:
    return Ratio() if kind == "ratio" else Values(binary=kind == "binary")


def paired_once(kind: str, rng: Rng, d: Design, shift: float, clustered: bool):  # type: ignore[no-untyped-def]
    """One simulated comparison: the `PairedOutcome` tuneval reports."""
    stats = draw(kind, rng, d, shift)
    units = make_units(d.n, _labels(d).tolist() if clustered and d.groups else None)
    metric = metric_for(kind)
    name = metric.score_names[0]
    diffs = np.empty(0)
    if kind == "ratio":
        diffs = np.concatenate(
            [
                metric.aggregate(c @ stats[1])[name] - metric.aggregate(c @ stats[0])[name]
                for c in resample(d.n, units, BOOT.resamples, int(rng.integers(1 << 30)))
            ]
        )
    return paired_outcome(
        metric,
        name,
        stats,
        diffs,
        units,
        test="approximate_randomization",
        trials=TRIALS,
        seed=int(rng.integers(1 << 30)),
        confidence=1.0 - ALPHA,
    )


def false_positive_rate(kind: str, d: Design, clustered: bool, reps: int, seed: int) -> float:
    """Share of simulations under the null that tuneval calls significant."""
    rng = np.random.default_rng(seed)
    hits = sum(
        paired_once(kind, rng, d, 0.0, clustered).result.p_value < ALPHA for _ in range(reps)
    )
    return hits / reps


def true_difference(kind: str, shift: float) -> float:
    """The population difference for a logit shift (Monte Carlo, 4M draws, fixed seed)."""
    a = np.random.default_rng(0).normal(0.0, 1.0, 4_000_000)
    if kind == "continuous":
        return 0.1 * shift
    return float(np.mean(_sigmoid(a + shift)) - np.mean(_sigmoid(a)))


def paired_coverage(kind: str, d: Design, shift: float, reps: int, seed: int) -> float:
    """Share of 95% intervals of the difference that contain the true difference."""
    truth = true_difference(kind, shift)
    rng = np.random.default_rng(seed)
    inside = 0
    for _ in range(reps):
        r = paired_once(kind, rng, d, shift, clustered=True).result
        inside += r.ci_low <= truth <= r.ci_high
    return inside / reps


def mean_coverage(
    draw_one: Callable[[Rng], tuple[FloatArray, Units]],
    metric: Metric,
    truth: float,
    reps: int,
    seed: int,
) -> float:
    """Share of 95% intervals of one system's score that contain the truth."""
    rng = np.random.default_rng(seed)
    inside = 0
    for _ in range(reps):
        stats, units = draw_one(rng)
        boot = BOOT.model_copy(update={"seed": int(rng.integers(1 << 30))})
        r = summarize(metric, stats, boot, units=units)[0]
        inside += r.ci_low <= truth <= r.ci_high
    return inside / reps


def wilson_exact_coverage(n: int, p: float, confidence: float = 0.95) -> float:
    """Exact coverage of tuneval's Wilson interval: the binomial probability of every count
    whose interval contains ``p`` (no simulation noise)."""
    from scipy.stats import binom

    from tuneval.stats.intervals import wilson_interval

    inside = [k for k in range(n + 1) if wilson_interval(k, n, confidence)[0] <= p]
    inside = [k for k in inside if p <= wilson_interval(k, n, confidence)[1]]
    return float(sum(binom.pmf(k, n, p) for k in inside))


def _bernoulli(n: int, p: float) -> Callable[[Rng], tuple[FloatArray, Units]]:
    return lambda rng: (np.c_[(rng.random(n) < p).astype(float), np.ones(n)], make_units(n, None))


def _skewed(n: int) -> Callable[[Rng], tuple[FloatArray, Units]]:
    return lambda rng: (np.c_[rng.beta(2, 5, n), np.ones(n)], make_units(n, None))


def _single(kind: str, d: Design) -> Callable[[Rng], tuple[FloatArray, Units]]:
    def one(rng: Rng) -> tuple[FloatArray, Units]:
        stats = draw(kind, rng, d)[1]  # the fine-tuned side carries the interaction
        labels = _labels(d).tolist() if d.groups else None
        return stats, make_units(d.n, labels)

    return one


def ppi_cell(
    reps: int, seed: int, n: int = 2000, labelled: float = 0.1, agreement: float = 0.7
) -> tuple[float, float, float, float] | None:
    """PPI vs human-only: (coverage PPI, coverage human-only, mean width PPI, human-only)."""
    try:
        from tuneval.human.ppi import ppi_win_rate
    except ImportError:
        return None
    rng = np.random.default_rng(seed)
    truth, cov, cov_h, width, width_h = 0.6, 0, 0, 0.0, 0.0
    for _ in range(reps):
        human = (rng.random(n) < truth).astype(float)
        agree = rng.random(n) < agreement
        judge = np.where(agree, human, 1.0 - human)
        labelled_mask = rng.random(n) < labelled
        est = ppi_win_rate(human[labelled_mask], judge[labelled_mask], judge[~labelled_mask], 0.95)
        cov += est.ppi.ci_low <= truth <= est.ppi.ci_high
        cov_h += est.human_only.ci_low <= truth <= est.human_only.ci_high
        width += est.ppi.ci_high - est.ppi.ci_low
        width_h += est.human_only.ci_high - est.human_only.ci_low
    return cov / reps, cov_h / reps, width / reps, width_h / reps


CLUSTERED = {
    "20x20 interaction SD 1.0": Design(400, groups=20, interaction_sd=1.0),
    "40 prompts x 5 copies": Design(200, groups=40, copies=True),
}


def fpr_table(reps: int) -> list[str]:
    rows = ["| kind | design | clusters given | FPR at α=.05 |", "|---|---|---|---|"]
    for i, kind in enumerate(("binary", "continuous", "ratio")):
        for n in (30, 100, 400):
            rate = false_positive_rate(kind, Design(n), False, reps, 100 + 10 * i + n)
            rows.append(f"| {kind} | independent n={n} | – | {rate:.3f} |")
        for j, (label, d) in enumerate(CLUSTERED.items()):
            for clustered in (False, True):
                rate = false_positive_rate(kind, d, clustered, reps, 200 + 10 * i + j)
                rows.append(f"| {kind} | {label} | {'yes' if clustered else 'no'} | {rate:.3f} |")
    return rows


def _row(label: str, case: str, value: float) -> str:
    return f"| {label} | {case} | {value:.3f} |"


def coverage_table(reps: int) -> list[str]:
    rows = ["| interval | case | coverage of 95% CI |", "|---|---|---|"]
    binary, cont, ratio = Values(True), Values(False), Ratio()
    # E[sigmoid(a)] for a ~ N(0, 1): the population ratio when lengths are independent.
    half = float(np.mean(_sigmoid(np.random.default_rng(0).normal(0, 1, 4_000_000))))
    for n in (30, 100, 400):
        for p in (0.5, 0.95):
            cov = mean_coverage(_bernoulli(n, p), binary, p, reps, n)
            exact = wilson_exact_coverage(n, p)
            rows.append(_row("mean, right/wrong (Wilson)", f"p={p} n={n} (exact {exact:.3f})", cov))
        cov = mean_coverage(_skewed(n), cont, 2 / 7, reps, n + 1)
        rows.append(_row("mean, skewed continuous", f"Beta(2,5) n={n}", cov))
        cov = mean_coverage(_single("ratio", Design(n)), ratio, half, reps, n + 2)
        rows.append(_row("corpus ratio", f"n={n}", cov))
    for kind, shift in (("binary", 0.5), ("continuous", 0.5), ("ratio", 0.3)):
        for n in (30, 100, 400):
            cov = paired_coverage(kind, Design(n), shift, reps, 300 + n)
            case = f"effect {true_difference(kind, shift):+.3f}, n={n}"
            rows.append(_row(f"paired difference, {kind}", case, cov))
    d = CLUSTERED["20x20 interaction SD 1.0"]
    for kind, metric, seed in (("binary", binary, 7), ("continuous", cont, 8)):
        cov = mean_coverage(_single(kind, d), metric, 0.5, reps, seed)
        rows.append(_row(f"clustered mean, {kind}", "20x20 SD 1.0, clusters given", cov))
    return rows


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    start = time.perf_counter()
    print(f"## False-positive rate ({reps} replications per cell)\n")
    print("\n".join(fpr_table(reps)), flush=True)
    print(f"\n## Coverage ({reps} replications per cell)\n")
    print("\n".join(coverage_table(reps)), flush=True)
    ppi = ppi_cell(reps, 11)
    print("\n## PPI (2000 items, 10% human-labelled, judge agrees 70%)\n")
    if ppi is None:
        print("skipped: ppi-python is not installed (pip install 'tuneval[human]')")
    else:
        print("| estimate | coverage | mean CI width |\n|---|---|---|")
        print(
            f"| PPI | {ppi[0]:.3f} | {ppi[2]:.3f} |\n| human-only | {ppi[1]:.3f} | {ppi[3]:.3f} |"
        )
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
