"""Agreement statistics against the reference implementations on the same data."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from tuneval.stats.agreement import category_table, cohen_kappa, fleiss_kappa, krippendorff_alpha


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_kappa_equals_statsmodels(seed):
    rng = np.random.default_rng(seed)
    raters = int(rng.integers(2, 6))
    cats = int(rng.integers(2, 5))
    items = int(rng.integers(3, 40))
    # Correlated labels so kappa is not always near zero.
    truth = rng.integers(0, cats, size=items)
    labels = [
        [int(t) if rng.random() < 0.6 else int(rng.integers(0, cats)) for _ in range(raters)]
        for t in truth
    ]
    table = category_table(labels, list(range(cats)))
    assert fleiss_kappa(table) == pytest.approx(sm_fleiss(table, method="fleiss"), abs=1e-12)


def test_fleiss_kappa_known_value_and_edges():
    # Fleiss (1971) style example: perfect agreement is 1.
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert np.isnan(fleiss_kappa([[3, 0], [3, 0]]))  # one category throughout: undefined
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[2, 0], [1, 0]])


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_equals_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 60))
    labels = ["a", "b", "tie"]
    x = [labels[i] for i in rng.integers(0, 3, size=n)]
    y = [v if rng.random() < 0.5 else labels[int(rng.integers(0, 3))] for v in x]
    if len(set(x) | set(y)) == 1:
        pytest.skip("degenerate draw")
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)


def test_cohen_kappa_degenerate_is_nan():
    assert np.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert np.isnan(cohen_kappa([], []))


def _reliability(seed, coders, units, missing, values):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, values + 1, size=units)
    data = np.clip(truth + rng.integers(-1, 2, size=(coders, units)), 1, values).astype(float)
    data[rng.random((coders, units)) < missing] = np.nan
    return data


@pytest.mark.parametrize("level", ["ordinal", "nominal", "interval"])
@pytest.mark.parametrize("seed", range(6))
def test_krippendorff_alpha_equals_package(level, seed):
    data = _reliability(seed, coders=3 + seed % 3, units=25, missing=0.25, values=5)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=1e-10)
    # An explicit domain with values that never occur gives the same number.
    domain = [1, 2, 3, 4, 5, 6]
    expected = krippendorff.alpha(
        reliability_data=data, level_of_measurement=level, value_domain=domain
    )
    assert krippendorff_alpha(data, level, domain) == pytest.approx(expected, abs=1e-10)


def test_krippendorff_alpha_textbook_example():
    # Krippendorff's worked example (also in the krippendorff package's docs): 0.815 ordinal.
    nan = np.nan
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    assert round(krippendorff_alpha(data, "ordinal"), 3) == 0.815
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]], "ordinal"))
    assert np.isnan(krippendorff_alpha([[1, nan], [nan, 2]], "ordinal"))
