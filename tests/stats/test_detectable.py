"""Minimum detectable effects that agree with the test, and the win rate's score interval."""

import math

import numpy as np
import pytest

from tuneval.stats.detectable import (
    attained_sign_flip_alpha,
    detectable_effect,
    mcnemar_floor,
    smallest_mcnemar_p,
    smallest_sign_flip_p,
)
from tuneval.stats.intervals import score_interval, wilson_interval


def test_smallest_attainable_p_values():
    assert smallest_sign_flip_p(4) == pytest.approx(0.125)  # 2 of 16 sign patterns
    assert smallest_sign_flip_p(6) == pytest.approx(1 / 32)
    assert smallest_sign_flip_p(30, trials=999) == pytest.approx(1e-3)  # the random-flip floor
    assert smallest_mcnemar_p(3) > 0.05 > smallest_mcnemar_p(4)  # z = √n, all discordant
    assert mcnemar_floor(100, 0.05) == pytest.approx(1.959964**2 / 100)


def test_attained_sign_flip_alpha_is_a_reachable_level():
    assert attained_sign_flip_alpha(5, 0.05) == 0.0  # 2/32 > 0.05
    assert attained_sign_flip_alpha(6, 0.05) == pytest.approx(2 / 64)
    assert attained_sign_flip_alpha(8, 0.05) == pytest.approx(6 / 128)
    assert attained_sign_flip_alpha(100, 0.05) == 0.05


def test_no_difference_is_detectable_when_the_test_cannot_reach_alpha():
    assert detectable_effect(0.05, 4, smallest_p=0.125) == math.inf
    assert detectable_effect(0.0, 4, smallest_p=0.125) == math.inf  # even without variation
    assert detectable_effect(0.05, 6, smallest_p=1 / 32) == pytest.approx(
        detectable_effect(0.05, 6)
    )


def test_the_mde_is_capped_at_the_range_and_floored():
    assert detectable_effect(0.433, 4) == pytest.approx(1.80, abs=0.01)  # the old 1.80
    assert detectable_effect(0.433, 4, span=1.0) == math.inf  # beyond any possible difference
    assert detectable_effect(0.01, 100, floor=0.245) == 0.245  # never below a missed effect
    assert detectable_effect(0.1, 100, floor=0.01) == pytest.approx(0.1 * (1.984 + 0.845), 1e-3)


def test_score_interval_is_wilson_for_right_wrong_and_never_a_point():
    for k, n in [(0, 4), (3, 10), (30, 30)]:
        p = k / n
        assert score_interval(p, p * (1 - p), n) == pytest.approx(wilson_interval(k, n))
    low, high = score_interval(0.5, 0.0, 4)  # 4 ties of 4: variance 0, still z²/n wide
    assert (low, high) == pytest.approx((0.2551, 0.7449), abs=1e-4)
    ties = np.array([0.5, 0.5, 1.0, 0.0, 0.5, 1.0])
    low, high = score_interval(float(ties.mean()), float(ties.var()), ties.size)
    assert low < ties.mean() < high


def test_minimum_detectable_says_why_none_is_detectable():
    from tuneval.stats.detectable import minimum_detectable

    d = minimum_detectable(0.05, 4, smallest_p=0.125, unit="clusters")
    assert d.mde == math.inf and d.detectable is False
    assert (
        d.reason == "the test cannot reach p < 0.05 with 4 clusters (smallest attainable p = 0.125)"
    )
    d = minimum_detectable(0.433, 4, span=1.0)
    assert d.detectable is False and "largest possible difference (1)" in d.reason
    d = minimum_detectable(0.01, 100)
    assert d.detectable is True and d.reason is None
    assert minimum_detectable(0.0, 100).detectable is None


def test_unit_score_interval_widens_with_clusters_and_matches_without():
    from tuneval.stats.intervals import unit_score_interval
    from tuneval.stats.units import make_units

    pref = np.repeat([1.0, 0.5, 0.5, 0.0, 1.0, 1.0, 0.5, 1.0, 0.5, 0.5], 5)
    flat = unit_score_interval(pref, make_units(pref.size, None))
    assert flat == pytest.approx(score_interval(float(pref.mean()), float(pref.var()), pref.size))
    clustered = unit_score_interval(pref, make_units(pref.size, np.repeat(np.arange(10), 5)))
    # 10 groups of 5 identical verdicts carry the evidence of 10 items, not 50.
    assert clustered[0] < flat[0] and clustered[1] > flat[1]
    ten = unit_score_interval(pref[::5], make_units(10, None))
    assert clustered[1] - clustered[0] >= ten[1] - ten[0]


def test_mean_ci_resamples_whole_clusters():
    from tuneval.stats import mean_ci
    from tuneval.stats.units import make_units

    values = np.repeat(np.linspace(0.0, 1.0, 8), 6)
    items = mean_ci(values, resamples=2000, seed=1)
    clusters = mean_ci(values, resamples=2000, seed=1, units=make_units(48, np.repeat(range(8), 6)))
    assert clusters.value == items.value
    assert clusters.ci_high - clusters.ci_low > 2 * (items.ci_high - items.ci_low)
