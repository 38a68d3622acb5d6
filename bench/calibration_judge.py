"""Calibration of the judge-side verdicts by simulation with known truth.

The companion of ``bench/calibration.py`` for what an LLM judge produces; each cell runs the
same code the workflow and ``tuneval judge pairwise`` / ``tuneval human results`` run:

* **win rate at small n** (`tuneval.stats.winrate.win_rate`): n = 4, 10, 30 items judged
  once, win/loss/tie mixes from a null (win = loss) to a near sweep. Coverage of the true win
  rate, the rate at which the test rejects 0.5, and how often interval and test disagree
  (0.5 outside the interval but p > α, or the reverse), for the sign test with its settled
  interval against the earlier Wilson-type interval (score interval ∪ expanded bootstrap)
  read on its own;
* **win rate with clusters** (`win_rate_interval`): 20 categories × 20 items whose
  fine-tune effect varies by category (logit SD 1.0, zero population effect: the true win
  rate is 0.5), and 40 prompts × 5 copies judged identically. False-positive rate of "the
  95% CI excludes 0.5", and coverage, with and without the cluster labels;
* **win rate with judge repeats**: 100 items, each judged 3 times by a noisy judge (each item
  has its own win probability); the item as the unit (repeats averaged, as tuneval does)
  against the 300 judgings counted as independent;
* **PPI of mean rubric scores** (`ppi_mean`): 2,000 items, 10% scored 1-5 by humans, all
  scored 1-10 by a judge that tracks the same latent quality with noise; coverage and width
  of the prediction-powered human mean against the human-only interval (needs
  ``ppi-python``).

Run: ``nice python bench/calibration_judge.py [replications]`` (default 500; a few minutes on
one core). The tests run a small fixed-seed version of each cell.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tuneval.judge.summary import win_rate_interval
from tuneval.stats import BootstrapConfig, FloatArray, mean_ci
from tuneval.stats.intervals import unit_score_interval
from tuneval.stats.units import make_units
from tuneval.stats.winrate import win_rate

BOOT = BootstrapConfig(resamples=1000, seed=1, confidence=0.95)
Rng = np.random.Generator


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def _verdicts(rng: Rng, p_win: FloatArray, tie: float = 0.2) -> FloatArray:
    """Preferences 1 / 0.5 / 0: a tie with probability ``tie``, else a win with ``p_win``."""
    ties = rng.random(p_win.size) < tie
    wins = rng.random(p_win.size) < p_win
    return np.where(ties, 0.5, wins.astype(float))


def clustered_preferences(rng: Rng, design: str) -> tuple[FloatArray, list[int]]:
    """Per-item preferences and cluster labels under a null of win rate 0.5."""
    if design == "copies":  # 40 prompts x 5 identical copies
        pref = _verdicts(rng, _sigmoid(rng.normal(0.0, 1.0, 40)))
        return np.repeat(pref, 5), np.repeat(np.arange(40), 5).tolist()
    effect = rng.normal(0.0, 1.0, 20)  # category x fine-tune interaction, logit scale
    labels = np.repeat(np.arange(20), 20)
    return _verdicts(rng, _sigmoid(effect[labels] + rng.normal(0.0, 0.5, 400))), labels.tolist()


SMALL_N_MIXES = ((0.4, 0.4), (0.5, 0.2), (0.7, 0.1), (0.9, 0.0), (0.3, 0.5))
"""(P(win), P(loss)) of the small-n cells; the rest are ties."""


def small_n_cell(n: int, p_win: float, p_loss: float, reps: int, seed: int) -> dict[str, float]:
    """Coverage, rejection of 0.5 and interval/test disagreement: sign test vs Wilson-type."""
    rng = np.random.default_rng(seed)
    truth = p_win + 0.5 * (1.0 - p_win - p_loss)
    units = make_units(n, None)
    tally = dict.fromkeys(("cover", "reject", "disagree", "cover_old", "reject_old"), 0.0)
    for _ in range(reps):
        u = rng.random(n)
        pref = np.where(u < p_win, 1.0, np.where(u < p_win + p_loss, 0.0, 0.5))
        s = int(rng.integers(1 << 30))
        w, test = win_rate(pref, units, resamples=BOOT.resamples, seed=s)
        significant = test.p_value <= 0.05
        tally["cover"] += w.ci_low <= truth <= w.ci_high
        tally["reject"] += significant
        tally["disagree"] += significant == (w.ci_low <= 0.5 <= w.ci_high)
        # The earlier interval, read alone: the Wilson-type score interval ∪ the bootstrap.
        boot = mean_ci(pref, resamples=BOOT.resamples, seed=s)
        low, high = unit_score_interval(pref, units)
        low, high = min(low, boot.ci_low), max(high, boot.ci_high)
        tally["cover_old"] += low <= truth <= high
        tally["reject_old"] += not low <= 0.5 <= high
    return {k: v / reps for k, v in tally.items()}


def win_rate_cell(design: str, clustered: bool, reps: int, seed: int) -> tuple[float, float]:
    """(false-positive rate, coverage of 0.5) of the win-rate interval under the null."""
    rng = np.random.default_rng(seed)
    excluded = 0
    for _ in range(reps):
        pref, labels = clustered_preferences(rng, design)
        units = make_units(pref.size, labels if clustered else None)
        boot = BOOT.model_copy(update={"seed": int(rng.integers(1 << 30))})
        w = win_rate_interval(pref, boot, units)
        excluded += not w.ci_low <= 0.5 <= w.ci_high
    return excluded / reps, 1.0 - excluded / reps


def repeats_cell(reps: int, seed: int, n: int = 100, repeats: int = 3) -> tuple[float, float]:
    """Coverage of the true win rate: (item as the unit, judgings counted as independent)."""
    rng = np.random.default_rng(seed)
    truth = 0.5 * 0.2 + 0.8 * float(
        np.mean(_sigmoid(np.random.default_rng(0).normal(0.3, 1.5, 4_000_000)))
    )
    item, naive = 0, 0
    for _ in range(reps):
        p_item = _sigmoid(rng.normal(0.3, 1.5, n))  # each item's own win probability
        judged = np.stack([_verdicts(rng, p_item) for _ in range(repeats)], axis=1)
        boot = BOOT.model_copy(update={"seed": int(rng.integers(1 << 30))})
        w = win_rate_interval(judged.mean(axis=1), boot, make_units(n, None))
        item += w.ci_low <= truth <= w.ci_high
        flat = judged.ravel()
        w = win_rate_interval(flat, boot, make_units(flat.size, None))
        naive += w.ci_low <= truth <= w.ci_high
    return item / reps, naive / reps


def _rubric_draw(rng: Rng, n: int) -> tuple[FloatArray, FloatArray]:
    """Human 1-5 and judge 1-10 scores of ``n`` outputs sharing a latent quality."""
    q = rng.normal(0.0, 1.0, n)
    human = np.clip(np.round(3.0 + 0.9 * q + rng.normal(0.0, 0.6, n)), 1, 5)
    judge = np.clip(np.round(5.5 + 2.0 * q + rng.normal(0.0, 1.2, n)), 1, 10)
    return human, judge


def ppi_rubric_cell(
    reps: int, seed: int, n: int = 2000, labelled: float = 0.1
) -> tuple[float, float, float, float] | None:
    """PPI vs human-only mean rubric score: (coverage PPI, human-only, mean width PPI, human)."""
    try:
        from tuneval.human.ppi import ppi_mean
    except ImportError:
        return None
    truth = float(np.mean(_rubric_draw(np.random.default_rng(0), 4_000_000)[0]))
    rng = np.random.default_rng(seed)
    cov = cov_h = width = width_h = 0.0
    for _ in range(reps):
        human, judge = _rubric_draw(rng, n)
        mask = rng.random(n) < labelled
        est = ppi_mean(human[mask], judge[mask], judge[~mask], 0.95, bounds=(1.0, 5.0))
        cov += est.ppi.ci_low <= truth <= est.ppi.ci_high
        cov_h += est.human_only.ci_low <= truth <= est.human_only.ci_high
        width += est.ppi.ci_high - est.ppi.ci_low
        width_h += est.human_only.ci_high - est.human_only.ci_low
    return cov / reps, cov_h / reps, width / reps, width_h / reps


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    start = time.perf_counter()
    print(f"## Win rate at small n, items judged once ({reps} replications per cell)\n")
    print(
        "| n | P(win) | P(loss) | coverage | rejects 0.5 | CI/test disagree "
        "| coverage (Wilson-type) | rejects 0.5 (Wilson-type) |\n|---|---|---|---|---|---|---|---|"
    )
    for n in (4, 10, 30):
        for k, (p_win, p_loss) in enumerate(SMALL_N_MIXES):
            c = small_n_cell(n, p_win, p_loss, reps, 10 * n + k)
            print(
                f"| {n} | {p_win} | {p_loss} | {c['cover']:.3f} | {c['reject']:.3f} "
                f"| {c['disagree']:.3f} | {c['cover_old']:.3f} | {c['reject_old']:.3f} |",
                flush=True,
            )
    print(f"\n## Win rate under the null ({reps} replications per cell)\n")
    print("| design | clusters given | FPR (CI excludes 0.5) |\n|---|---|---|")
    for design, label in (("interaction", "20x20 interaction SD 1.0"), ("copies", "40 x 5")):
        for clustered in (False, True):
            fpr, _ = win_rate_cell(design, clustered, reps, 1 + clustered)
            print(f"| {label} | {'yes' if clustered else 'no'} | {fpr:.3f} |", flush=True)
    item, naive = repeats_cell(reps, 3)
    print(f"\n## Win rate with 3 judge repeats per item ({reps} replications)\n")
    print("| unit | coverage of 95% CI |\n|---|---|")
    print(f"| item (repeats averaged) | {item:.3f} |\n| judging (repeats as items) | {naive:.3f} |")
    ppi = ppi_rubric_cell(reps, 4)
    print("\n## PPI mean rubric score (2000 items, 10% human-scored)\n")
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
