"""Intervals and the tests they belong to: Wilson, Tango/McNemar, sign flips, expanded bootstrap."""

import math

import numpy as np
import pytest

from tuneval.stats.detectable import detectable_effect
from tuneval.stats.intervals import (
    expanded_percentile_interval,
    expanded_percentile_pvalue,
    wilson_interval,
)
from tuneval.stats.paired import mcnemar_score, sign_flip
from tuneval.stats.resample import cluster_codes, cluster_resample_counts


def _pairs(n: int, fixed: int, broken: int) -> tuple[np.ndarray, np.ndarray]:
    base, tuned = np.zeros(n, bool), np.zeros(n, bool)
    tuned[:fixed] = True
    base[fixed : fixed + broken] = True
    return base, tuned


def test_wilson_matches_statsmodels_and_never_collapses():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 30), (7, 30), (30, 30), (57, 60), (400, 401)]:
        low, high = wilson_interval(k, n, 0.95)
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (low, high) == pytest.approx(ref, abs=1e-12)
    low, high = wilson_interval(30, 30, 0.95)
    assert high == 1.0 and low == pytest.approx(0.8865, abs=1e-4)  # not the bootstrap's [1, 1]


def test_mcnemar_score_is_the_asymptotic_mcnemar_test():
    from statsmodels.stats.contingency_tables import mcnemar

    for fixed, broken in [(5, 0), (7, 3), (12, 1), (2, 2)]:
        base, tuned = _pairs(30, fixed, broken)
        table = [[0, broken], [fixed, 30 - fixed - broken]]
        ref = mcnemar(table, exact=False, correction=False).pvalue
        assert mcnemar_score(base, tuned).p_value == pytest.approx(ref, rel=1e-9)


def test_issue_example_interval_and_test_agree():
    # 5 fixed, 0 broken of 30: before, the CI was (.033, .300) while exact McNemar said p=.0625.
    r = mcnemar_score(*_pairs(30, 5, 0))
    assert r.difference == pytest.approx(1 / 6)
    assert r.p_value < 0.05 and r.ci_low > 0.0
    # Tango's interval: the Δ0 where |z(Δ0)| = 1.96, independently found on a fine grid.
    assert (r.ci_low, r.ci_high) == pytest.approx((0.0342, 0.3356), abs=2e-4)


def test_mcnemar_interval_agrees_with_its_test_for_every_table():
    for fixed in range(0, 16):
        for broken in range(0, 16 - fixed):
            for confidence in (0.9, 0.95, 0.99):
                r = mcnemar_score(*_pairs(30, fixed, broken), confidence)
                excludes = not r.ci_low <= 0.0 <= r.ci_high
                assert excludes == (r.p_value <= 1 - confidence), (fixed, broken, confidence)
                assert -1.0 <= r.ci_low <= r.difference <= r.ci_high <= 1.0


def test_sign_flip_matches_the_t_test_and_agrees_with_its_interval():
    from scipy import stats

    rng = np.random.default_rng(3)
    for shift in (0.0, 0.25, 0.6):
        d = rng.normal(shift, 1.0, 60)
        r = sign_flip(d, np.ones(60), trials=4000, seed=1)
        t = stats.ttest_1samp(d, 0.0)
        assert r.p_value == pytest.approx(t.pvalue, abs=0.03)
        ci = t.confidence_interval()
        assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), abs=0.04)
        assert (not r.ci_low <= 0 <= r.ci_high) == (r.p_value <= 0.05)


def test_sign_flip_over_clusters_uses_cluster_sums():
    # 4 clusters, the whole effect in one: with 4 units the smallest p-value is 2/16.
    sums, sizes = np.array([5.0, 0.0, 0.0, 0.0]), np.array([5.0, 5.0, 5.0, 5.0])
    r = sign_flip(sums, sizes, trials=2000, seed=0)
    assert r.difference == pytest.approx(0.25)
    assert r.p_value > 0.5 and r.ci_low <= 0.0 <= r.ci_high


def test_expanded_bootstrap_p_value_inverts_its_interval():
    rng = np.random.default_rng(5)
    for units in (5, 30, 400):
        for centre in np.linspace(-0.3, 0.3, 13):
            samples = rng.normal(centre, 0.1, 999)
            p = expanded_percentile_pvalue(samples, units)
            for confidence in (0.9, 0.95):
                low, high = expanded_percentile_interval(samples, confidence, units)
                assert (not low <= 0 <= high) == (p < 1 - confidence), (units, centre)


def test_expanded_interval_is_as_wide_as_t_for_a_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 20)
    from tuneval.stats.resample import resample_counts

    means = np.concatenate([c @ x / 20 for c in resample_counts(20, 20000, 1)])
    low, high = expanded_percentile_interval(means, 0.95, 20)
    half_t = 2.093 * x.std(ddof=1) / math.sqrt(20)
    assert (high - low) / 2 == pytest.approx(half_t, rel=0.06)


def test_cluster_bootstrap_draws_whole_clusters():
    codes, count = cluster_codes(["a", "a", "b", "c", "c", "c"])
    assert count == 3 and codes.tolist() == [0, 0, 1, 2, 2, 2]
    for counts in cluster_resample_counts(codes, 50, 1):
        assert np.all(counts[:, 0] == counts[:, 1]) and np.all(counts[:, 3] == counts[:, 5])
        assert np.all(counts[:, [0, 2, 3]].sum(1) == 3)  # 3 clusters drawn per resample


def test_detectable_effect():
    assert detectable_effect(0.01, 100_000) == pytest.approx(0.028, abs=1e-4)  # (1.96+0.84)·SE
    assert detectable_effect(0.01, 20) > detectable_effect(0.01, 100_000)  # t on 19 df
    assert detectable_effect(0.0, 50) is None


def test_sign_flip_enumerates_up_to_16_units_and_floors_monte_carlo_beyond():
    from tuneval.stats.paired import EXACT_UNITS

    assert EXACT_UNITS == 16
    for units in (4, 16):
        r = sign_flip(np.ones(units), np.ones(units), trials=100, seed=0)
        assert r.exact and r.p_value == 2.0 / 2**units  # only all-up and all-down as extreme
    r = sign_flip(np.ones(17), np.ones(17), trials=100, seed=0)
    assert not r.exact and r.p_value == 1.0 / 101  # never below 1/(B + 1)
