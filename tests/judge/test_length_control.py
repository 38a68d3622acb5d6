import numpy as np
import pytest

from tuneval.judge.length_control import fit_glm, lc_win_rate, length_feature


def test_hand_computed_example():
    # b is 10 characters longer on 8 items (wins 6) and 10 shorter on 4 items (wins 1).
    # Two distinct feature values make the model saturated: theta + phi*c = logit(6/8) and
    # theta - phi*c = logit(1/4), so theta = (log 3 - log 3) / 2 = 0 and LC = sigmoid(0) = 0.5,
    # whereas the raw win rate is 7/12.
    pref = np.array([1.0] * 6 + [0.0] * 2 + [1.0] * 1 + [0.0] * 3)
    len_a = np.full(12, 100.0)
    len_b = np.array([110.0] * 8 + [90.0] * 4)
    lc, low, high, phi = lc_win_rate(pref, len_b, len_a, resamples=300)
    assert pref.mean() == pytest.approx(7 / 12)
    assert lc == pytest.approx(0.5, abs=1e-4)
    c = float(np.tanh(10.0 / np.std(len_b - len_a, ddof=1)))
    assert phi == pytest.approx(np.log(3.0) / c, abs=1e-3)
    assert low <= lc <= high


def test_matches_statsmodels_on_soft_labels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    delta = rng.normal(50, 120, size=300)
    x = length_feature(delta)
    y = rng.choice([0.0, 0.5, 1.0], size=300, p=[0.3, 0.2, 0.5])
    theta, phi = fit_glm(y, x, np.ones((1, 300)))[0]
    fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    assert theta == pytest.approx(fit.params[0], abs=1e-3)
    assert phi == pytest.approx(fit.params[1], abs=1e-3)


def test_recovers_known_preference_on_synthetic_data():
    rng = np.random.default_rng(0)
    n = 6000
    len_a = rng.integers(100, 400, size=n).astype(float)
    len_b = len_a + rng.normal(150, 250, size=n)  # b tends to be longer
    x = length_feature(len_b - len_a)
    true_theta, true_phi = np.log(0.4 / 0.6), 2.0  # without length, b wins 40%
    p = 1 / (1 + np.exp(-(true_theta + true_phi * x)))
    pref = (rng.random(n) < p).astype(float)
    lc, low, high, phi = lc_win_rate(pref, len_b, len_a, resamples=200)
    assert pref.mean() > 0.55  # the length-biased judge inflates the raw win rate
    assert lc == pytest.approx(0.4, abs=0.03)
    assert low < 0.4 < high
    assert phi == pytest.approx(true_phi, abs=0.25)


def test_no_length_effect_keeps_the_win_rate():
    rng = np.random.default_rng(1)
    n = 4000
    len_a = rng.integers(50, 500, size=n).astype(float)
    len_b = rng.integers(50, 500, size=n).astype(float)
    pref = (rng.random(n) < 0.7).astype(float)
    lc, *_ = lc_win_rate(pref, len_b, len_a, resamples=0)
    assert lc == pytest.approx(pref.mean(), abs=0.02)


def test_degenerate_samples_stay_finite():
    lc, low, high, _ = lc_win_rate(np.ones(20), np.arange(20.0), np.zeros(20), resamples=50)
    assert 0.99 < lc <= 1.0 and np.isfinite(low) and np.isfinite(high)
    lc_equal, *_ = lc_win_rate(np.array([1.0, 0.0, 0.5, 1.0]), np.ones(4), np.ones(4), resamples=0)
    assert lc_equal == pytest.approx(0.625, abs=1e-4)  # no length signal: the plain win rate
