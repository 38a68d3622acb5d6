"""From judgments to numbers: win rate with CI, position consistency, length bias, scores."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tuneval.judge.length_control import lc_win_rate
from tuneval.judge.records import (
    Interval,
    Judgment,
    Outcome,
    PairJudgment,
    PairwiseSummary,
    ScoreSummary,
)
from tuneval.stats import BootstrapConfig, FloatArray, mean_ci
from tuneval.stats.detectable import Detectable, sign_flip_mde
from tuneval.stats.units import Units, make_units, unit_sums
from tuneval.stats.winrate import win_rate

Bootstrap = BootstrapConfig
"""How intervals are computed: the one bootstrap record of `tuneval.stats` (judge-side name)."""


@dataclass(frozen=True)
class ItemOutcome:
    """One item's combined verdict over both orders (one per repeat with repeated judging)."""

    example_id: str
    outcome: Outcome | None
    """a, b, tie, or None when unscored (or dropped as inconsistent)."""
    consistent: bool | None
    """Whether the two orders agreed (None with fewer than two verdicts)."""
    unscored: bool
    chars_a: int
    chars_b: int
    repeat: int = 0
    """Which repeated judging of the item (``PairConfig.repeats``) this is."""


def combine(
    records: list[PairJudgment], inconsistent: Literal["tie", "drop"] = "tie"
) -> list[ItemOutcome]:
    """Combine each item's verdicts in the two orders into one outcome (per repeat).

    Both orders agree: that outcome. They disagree (including a win in one order and a tie in
    the other, as MT-Bench counts it): inconsistent, counted as a tie or dropped. Any order
    without a verdict makes the item unscored. Repeated judgings of an item (``repeat``)
    are combined order by order, each into its own outcome.
    """
    by_item: dict[tuple[str, int], list[PairJudgment]] = defaultdict(list)
    for r in records:
        by_item[(r.example_id, r.repeat)].append(r)
    out = []
    for (example_id, repeat), recs in by_item.items():
        outcomes = [r.outcome for r in recs]
        first = recs[0]
        if any(o is None for o in outcomes):
            out.append(
                ItemOutcome(example_id, None, None, True, first.chars_a, first.chars_b, repeat)
            )
            continue
        consistent = None if len(outcomes) < 2 else len(set(outcomes)) == 1
        outcome: Outcome | None = outcomes[0]
        if consistent is False:
            outcome = "tie" if inconsistent == "tie" else None
        out.append(
            ItemOutcome(
                example_id, outcome, consistent, False, first.chars_a, first.chars_b, repeat
            )
        )
    return out


def item_verdicts(items: list[ItemOutcome]) -> dict[str, Outcome | None]:
    """One verdict per item: the one all its counted repeats agree on, else a tie.

    Used where an item needs a single label (judge-vs-judge and judge-vs-human agreement,
    the panel majority, the report's per-item view). None when no repeat was counted.
    """
    seen: dict[str, set[Outcome]] = {}
    for i in items:
        seen.setdefault(i.example_id, set())
        if i.outcome is not None:
            seen[i.example_id].add(i.outcome)
    return {k: (next(iter(v)) if len(v) == 1 else "tie") if v else None for k, v in seen.items()}


_PREF = {"b": 1.0, "tie": 0.5, "a": 0.0}


def summarize_outcomes(
    items: list[ItemOutcome],
    model_a: str,
    model_b: str,
    judge: str,
    boot: Bootstrap,
    *,
    inconsistent: Literal["tie", "drop"] = "tie",
    records: list[PairJudgment] | None = None,
    clusters: Mapping[str, str] | None = None,
    cluster_field: str | None = None,
) -> PairwiseSummary:
    """Win rate (with CI and length control) of b over a from combined outcomes.

    Each item's counted repeats are averaged into one preference, so the item, not the
    judging, is the unit (repeats are a cluster of the item). ``clusters`` (id -> label)
    makes whole clusters of items the unit of the win-rate interval. ``records`` (the
    single-order judgments) adds the first-position rate.
    """
    counted = [i for i in items if i.outcome is not None]
    counts = Counter(i.outcome for i in counted)
    both = [i for i in items if i.consistent is not None]
    per_item: dict[str, list[float]] = defaultdict(list)
    lengths: dict[str, tuple[int, int]] = {}
    for i in counted:
        per_item[i.example_id].append(_PREF[i.outcome] if i.outcome else 0.0)
        lengths[i.example_id] = (i.chars_a, i.chars_b)
    win_rate = lc = p_value = None
    det = Detectable(None)
    units = make_units(len(per_item), _labels(list(per_item), clusters), cluster_field)
    if per_item:
        pref = np.array([np.mean(v) for v in per_item.values()], dtype=np.float64)
        win_rate, p_value, det = _tested_win_rate(pref, boot, units)
        value, low, high, _phi = lc_win_rate(
            pref,
            np.array([lengths[k][1] for k in per_item], dtype=np.float64),
            np.array([lengths[k][0] for k in per_item], dtype=np.float64),
            resamples=boot.resamples,
            seed=boot.seed,
            confidence=boot.confidence,
        )
        lc = Interval(value=value, ci_low=low, ci_high=high)
    decided = [i for i in counted if i.outcome != "tie" and i.chars_a != i.chars_b]
    longer = [(i.outcome == "b") == (i.chars_b > i.chars_a) for i in decided]
    first_rate = None
    if records is not None:
        decisive = [r.position for r in records if r.position in ("A", "B")]
        first_rate = decisive.count("A") / len(decisive) if decisive else None
    repeats = max((i.repeat for i in items), default=0) + 1
    return PairwiseSummary(
        model_a=model_a,
        model_b=model_b,
        judge=judge,
        n=len(per_item),
        wins=counts["b"],
        ties=counts["tie"],
        losses=counts["a"],
        inconsistent=sum(1 for i in items if i.consistent is False),
        unscored=sum(1 for i in items if i.unscored),
        win_rate=win_rate,
        p_value=p_value,
        mde=det.mde,
        detectable=det.detectable,
        undetectable_reason=det.reason,
        lc_win_rate=lc,
        position_consistency=(sum(1 for i in both if i.consistent) / len(both) if both else None),
        first_position_rate=first_rate,
        longer_preferred_rate=sum(longer) / len(longer) if longer else None,
        inconsistent_policy=inconsistent,
        unit=_unit_name(units),
        units=units.count,
        repeats=repeats,
        **(_noise(list(per_item.values()), "verdict_sd") if repeats > 1 else {}),
    )


def _labels(ids: list[str], clusters: Mapping[str, str] | None) -> list[str] | None:
    """Cluster labels of ``ids``; None without clusters or when all share one cluster."""
    if clusters is None:
        return None
    labels = [clusters.get(i, i) for i in ids]
    return labels if len(set(labels)) > 1 else None


def _unit_name(units: Units) -> str:
    if units.kind == "item":
        return "item"
    return f"cluster:{units.field}" if units.field else "cluster"


def _noise(values: Sequence[Sequence[float]], sd_field: str) -> dict[str, float | None]:
    """Flip rate and pooled within-item SD over items with at least two usable repeats.

    Args:
        values: Each item's scores (single) or preferences (pairwise), one per repeat.
        sd_field: The summary's name of the SD (``score_sd`` or ``verdict_sd``).
    """
    multi = [np.asarray(v, dtype=np.float64) for v in values if len(v) > 1]
    if not multi:
        return {"flip_rate": None, sd_field: None}
    flips = sum(1 for v in multi if np.ptp(v) > 0) / len(multi)
    pooled = sum(float(((v - v.mean()) ** 2).sum()) for v in multi) / sum(v.size - 1 for v in multi)
    return {"flip_rate": flips, sd_field: float(np.sqrt(pooled))}


def win_rate_interval(pref: FloatArray, boot: Bootstrap, units: Units) -> Interval:
    """Win rate with an interval that agrees with its sign test (`tuneval.stats.winrate`).

    The interval contains 0.5 exactly when the exact sign test (clusters or repeats: the
    cluster-level sign flip) does not reject a win rate of 0.5; it is the union of the
    test's inverted interval, the Wilson-type score interval and the expanded bootstrap, so
    it neither collapses to a point (4 ties) nor calls 4 wins of 4 significant.
    """
    return win_rate(
        pref, units, resamples=boot.resamples, seed=boot.seed, confidence=boot.confidence
    )[0]


def _tested_win_rate(
    pref: FloatArray, boot: Bootstrap, units: Units
) -> tuple[Interval, float, Detectable]:
    """The win rate, its test's p-value and the MDE of that test."""
    interval, test = win_rate(
        pref, units, resamples=boot.resamples, seed=boot.seed, confidence=boot.confidence
    )
    # A clean sweep has no spread around its mean; the spread of the flipped preferences
    # under the null (what the test compares with) still bounds what it can detect.
    sums, _sizes = unit_sums(pref - 0.5, units)
    null_se = float(np.sqrt(np.sum(sums * sums))) / pref.size
    det = sign_flip_mde(
        replace(test, se=max(test.se, null_se)),
        units.count,
        alpha=1.0 - boot.confidence,
        trials=boot.resamples,
        span=0.5,
        unit="items" if units.codes is None else "clusters",
    )
    return interval, test.p_value, det


def pairwise_summary(
    records: list[PairJudgment],
    boot: Bootstrap | None = None,
    *,
    inconsistent: Literal["tie", "drop"] = "tie",
    clusters: Mapping[str, str] | None = None,
    cluster_field: str | None = None,
) -> PairwiseSummary:
    """Summary of one judge's pairwise judgments of one model pair.

    ``clusters`` (example id -> label) makes whole clusters the unit of the win-rate interval.
    """
    boot = boot or Bootstrap()
    first = records[0] if records else None
    return summarize_outcomes(
        combine(records, inconsistent),
        first.model_a if first else "a",
        first.model_b if first else "b",
        first.judge if first else "judge",
        boot,
        inconsistent=inconsistent,
        records=records,
        clusters=clusters,
        cluster_field=cluster_field,
    )


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho, or None when undefined (fewer than 3 items or a constant side)."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def score_summary(judgments: list[Judgment], boot: Bootstrap | None = None) -> ScoreSummary:
    """Mean score with CI, unscored counts, the score-length correlation and judge noise.

    An item judged several times (``ScoreConfig.repeats``) counts once: its mean score enters
    the mean and the bootstrap resamples items, so repeats never narrow the interval. With
    repeats the summary adds the flip rate and the pooled within-item score SD.
    """
    boot = boot or Bootstrap()
    first = judgments[0] if judgments else None
    by_item: dict[str, list[int]] = defaultdict(list)
    chars: dict[str, int] = {}
    for j in judgments:
        by_item.setdefault(j.example_id, [])
        if j.score is not None:
            by_item[j.example_id].append(j.score)
            chars[j.example_id] = j.output_chars
    scored = {k: v for k, v in by_item.items() if v}
    reasons = Counter((j.unscored_reason or "").split(":")[0] for j in judgments if j.score is None)
    means = {k: float(np.mean(v)) for k, v in scored.items()}
    mean = None
    if means:
        values = np.array(list(means.values()), dtype=np.float64)
        mean = mean_ci(values, resamples=boot.resamples, seed=boot.seed, confidence=boot.confidence)
    repeats = max((j.repeat for j in judgments), default=0) + 1
    return ScoreSummary(
        model=first.model if first else "",
        judge=first.judge if first else "",
        n=len(by_item),
        scored=len(scored),
        unscored=len(by_item) - len(scored),
        mean=mean,
        scale=first.scale if first else (1, 10),
        length_spearman=spearman([float(chars[k]) for k in means], list(means.values())),
        unscored_reasons=dict(reasons),
        repeats=repeats,
        **(_noise(list(scored.values()), "score_sd") if repeats > 1 else {}),
    )
