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
