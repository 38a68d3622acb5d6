import numpy as np
import pytest

from tuneval.stats import percentile_interval, resample_counts


def test_counts_rows_sum_to_n_and_are_reproducible():
    chunks = list(resample_counts(57, 300, seed=9))
    counts = np.vstack(chunks)
    assert counts.shape == (300, 57)
    assert np.all(counts.sum(1) == 57)
    again = np.vstack(list(resample_counts(57, 300, seed=9)))
    assert np.array_equal(counts, again)
    other = np.vstack(list(resample_counts(57, 300, seed=10)))
    assert not np.array_equal(counts, other)


def test_counts_are_uniform_on_average():
    counts = np.vstack(list(resample_counts(10, 20_000, seed=1)))
    assert np.allclose(counts.mean(0), 1.0, atol=0.03)


def test_chunking_covers_exactly_the_requested_resamples(monkeypatch):
    import tuneval.stats.resample as mod

    monkeypatch.setattr(mod, "_MAX_CELLS", 1000)
    chunks = list(resample_counts(300, 17, seed=2))
    assert len(chunks) > 1
    assert sum(c.shape[0] for c in chunks) == 17


def test_percentile_interval_matches_numpy_and_ignores_nan():
    x = np.random.default_rng(0).normal(size=1001)
    lo, hi = percentile_interval(x, 0.9)
    assert lo == pytest.approx(np.quantile(x, 0.05))
    assert hi == pytest.approx(np.quantile(x, 0.95))
    with_nan = np.concatenate([x, [np.nan] * 10])
    assert percentile_interval(with_nan, 0.9) == (lo, hi)
    assert all(np.isnan(percentile_interval(np.full(5, np.nan), 0.9)))


def test_bootstrap_ci_of_a_mean_covers_the_truth_at_the_nominal_rate():
    from tuneval.evaluation.single import BootstrapConfig, bootstrap_scores
    from tuneval.metrics.exact_match import ExactMatch

    rng = np.random.default_rng(42)
    metric = ExactMatch()
    covered = 0
    trials = 200
    for t in range(trials):
        hits = (rng.random(200) < 0.7).astype(float)
        stats = np.column_stack([hits, np.ones(200)])
        dist = bootstrap_scores(metric, stats, BootstrapConfig(resamples=400, seed=t))
        lo, hi = percentile_interval(dist["exact_match"], 0.95)
        covered += lo <= 0.7 <= hi
    assert 0.88 <= covered / trials <= 0.99
