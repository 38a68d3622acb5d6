import gc
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from tuneval.stats import (
    approximate_randomization,
    holm,
    mcnemar_exact,
    paired_bootstrap_pvalue,
    pass_at_k,
)


def _mean_aggregate(totals):
    return {"mean": totals[:, 0] / totals[:, 1]}


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=300))
@settings(max_examples=200, deadline=None)
def test_mcnemar_equals_statsmodels_exact(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    expected = mcnemar(table, exact=True).pvalue
    assert mcnemar_exact(a, b) == pytest.approx(expected, abs=1e-12)


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_holm_equals_statsmodels(pvalues):
    # multipletests runs gc.collect() on every call: over a full test session's heap that is
    # ~0.4 s a call, and it changes no result.
    with mock.patch.object(gc, "collect", lambda *args: 0):
        expected = multipletests(pvalues, method="holm")[1]
    assert holm(pvalues) == pytest.approx(list(expected), abs=1e-12)


def test_holm_empty():
    assert holm([]) == []


def test_approximate_randomization_detects_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(0)
    n = 400
    base = rng.normal(0.5, 0.1, n)
    better = base + 0.05 + rng.normal(0, 0.02, n)
    same = base + rng.normal(0, 0.02, n)
    as_stats = lambda x: np.column_stack([x, np.ones(n)])  # noqa: E731
    p_real = approximate_randomization(
        as_stats(base), as_stats(better), _mean_aggregate, trials=2000, seed=1
    )["mean"]
    p_null = approximate_randomization(
        as_stats(base), as_stats(same), _mean_aggregate, trials=2000, seed=1
    )["mean"]
    assert p_real == pytest.approx(1 / 2001)
    assert p_null > 0.05


def test_approximate_randomization_identical_systems_gives_p_one():
    stats = np.column_stack([np.arange(10.0), np.ones(10)])
    p = approximate_randomization(stats, stats, _mean_aggregate, trials=500, seed=3)["mean"]
    assert p == 1.0


def test_approximate_randomization_matches_exact_permutation_test_on_small_data():
    # With n=8 there are 2**8 swap patterns; the AR p-value converges to the exact one.
    import itertools

    base = np.array([0.2, 0.4, 0.1, 0.9, 0.5, 0.3, 0.6, 0.2])
    tuned = np.array([0.5, 0.6, 0.1, 0.8, 0.9, 0.7, 0.6, 0.4])
    obs = abs(tuned.mean() - base.mean())
    extreme = 0
    for mask in itertools.product([0, 1], repeat=8):
        m = np.array(mask, dtype=bool)
        a = np.where(m, tuned, base)
        b = np.where(m, base, tuned)
        extreme += abs(b.mean() - a.mean()) >= obs - 1e-12
    exact = extreme / 256
    ones = np.ones(8)
    p = approximate_randomization(
        np.column_stack([base, ones]),
        np.column_stack([tuned, ones]),
        _mean_aggregate,
        trials=40_000,
        seed=5,
    )["mean"]
    assert p == pytest.approx(exact, abs=0.01)


def test_paired_bootstrap_pvalue_bounds():
    diffs = np.random.default_rng(0).normal(1.0, 0.1, 999)
    assert paired_bootstrap_pvalue(diffs, 1.0) == pytest.approx(1 / 1000)
    assert paired_bootstrap_pvalue(np.zeros(99), 0.0) == 1.0


def _pass_at_k_brute(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)


@given(st.integers(1, 60), st.data())
@settings(max_examples=200, deadline=None)
def test_pass_at_k_equals_combinatorial_form(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_brute(n, c, k), abs=1e-12)


def test_pass_at_k_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 10 samples"):
        pass_at_k(5, 1, 10)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(5, 6, 1)
