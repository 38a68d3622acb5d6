import math

import pytest
from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from tuneval.errors import UsageError
from tuneval.workflow.power import minimal_detectable_difference, required_items


@pytest.mark.parametrize("n", [20, 40, 100, 500])
def test_win_rate_mde_matches_closed_form(n):
    r = minimal_detectable_difference(n, "win_rate")
    # One-sample normal test on Cohen's h: h = (z_{1-a/2} + z_{power}) / sqrt(n).
    h = (norm.ppf(0.975) + norm.ppf(0.8)) / math.sqrt(n)
    p1 = math.sin((h + 2 * math.asin(math.sqrt(0.5))) / 2) ** 2
    assert r.difference == pytest.approx(p1 - 0.5, rel=1e-3)
    achieved = NormalIndPower().power(
        proportion_effectsize(0.5 + r.difference, 0.5), nobs1=n, alpha=0.05, ratio=0
    )
    assert achieved == pytest.approx(0.8, abs=1e-3)


@pytest.mark.parametrize(("n", "p0"), [(40, 0.5), (200, 0.7), (1000, 0.9)])
def test_accuracy_mde_has_80_percent_power(n, p0):
    r = minimal_detectable_difference(n, "accuracy", baseline=p0)
    effect = proportion_effectsize(p0 + r.difference, p0)
    achieved = NormalIndPower().power(effect, nobs1=n, alpha=0.05, ratio=1)
    assert achieved == pytest.approx(0.8, abs=1e-3)
    assert 0 < r.difference < 1 - p0 + 1e-9


@pytest.mark.parametrize("kind", ["win_rate", "accuracy"])
def test_required_items_inverts_mde(kind):
    r = required_items(0.1, kind, baseline=0.6)
    expected = NormalIndPower().solve_power(
        abs(proportion_effectsize(r.baseline + 0.1, r.baseline)),
        alpha=0.05,
        power=0.8,
        ratio=0 if kind == "win_rate" else 1,
    )
    assert r.n == math.ceil(expected)
    back = minimal_detectable_difference(r.n, kind, baseline=0.6)
    assert back.difference <= 0.1 + 1e-9
    assert minimal_detectable_difference(r.n - 1, kind, baseline=0.6).difference > 0.1


def test_more_items_detect_smaller_differences():
    small = minimal_detectable_difference(50).difference
    large = minimal_detectable_difference(500).difference
    assert large < small


def test_bad_inputs():
    with pytest.raises(UsageError):
        required_items(0.0)
    with pytest.raises(UsageError):
        required_items(0.6, "accuracy", baseline=0.5)
    with pytest.raises(UsageError):
        minimal_detectable_difference(1)
