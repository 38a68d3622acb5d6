"""compare and score statistics: clusters, interval-test agreement, Wilson, detectable effect."""

import numpy as np
import pytest

import tuneval
from tuneval.errors import UsageError


def _copies(prompts: int, copies: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Each prompt's outcome repeated ``copies`` times, both models equally good."""
    rng = np.random.default_rng(seed)
    base, tuned = rng.random(prompts) < 0.6, rng.random(prompts) < 0.6
    b = ["ok" if x else "no" for x in np.repeat(base, copies)]
    t = ["ok" if x else "no" for x in np.repeat(tuned, copies)]
    return b, t, ["ok"] * (prompts * copies)


def test_clusters_make_the_cluster_the_unit():
    base, tuned, refs = _copies(10, 5, seed=4)
    groups = [i // 5 for i in range(50)]
    plain = tuneval.compare(base, tuned, refs, "exact_match", trials=2000)
    clustered = tuneval.compare(
        base, tuned, refs, "exact_match", clusters=groups, cluster_field="prompt", trials=2000
    )
    a, c = plain.comparisons[0], clustered.comparisons[0]
    assert (clustered.unit, clustered.units, clustered.cluster_field) == ("cluster", 10, "prompt")
    assert (c.unit, c.units, c.test, c.interval) == (
        "cluster",
        10,
        "approximate_randomization",
        "inverted_sign_flip",
    )
    assert (a.unit, a.units, a.test, a.interval) == ("item", 50, "mcnemar_score", "tango_score")
    assert c.difference == pytest.approx(a.difference)
    # Five copies of one outcome are one piece of evidence: wider interval, larger p, larger MDE.
    assert c.ci_high - c.ci_low > 1.5 * (a.ci_high - a.ci_low)
    assert c.p_value > a.p_value and c.mde > a.mde
    assert c.base.ci_high - c.base.ci_low > a.base.ci_high - a.base.ci_low
    assert "clusters:10" in c.base.signature


def test_cluster_labels_must_match_the_examples():
    with pytest.raises(UsageError, match="clusters has 2 labels for 3 examples"):
        tuneval.compare(["a"] * 3, ["a"] * 3, ["a"] * 3, "exact_match", clusters=[1, 2])
    with pytest.raises(UsageError, match="example 1 has no cluster label"):
        tuneval.score(["a"] * 3, ["a"] * 3, "exact_match", clusters=["x", None, "y"])


def test_interval_and_test_agree_for_every_kind_of_score():
    words = ["alpha beta", "alpha gamma", "beta gamma delta", "delta"]
    for seed in range(6):
        rng = np.random.default_rng(seed)
        refs = [words[i] for i in rng.integers(0, 4, 40)]
        base = [words[i] for i in rng.integers(0, 4, 40)]
        share = 0.3 + 0.08 * seed
        tuned = [r if rng.random() < share else b for r, b in zip(refs, base, strict=True)]
        for test in ("approximate_randomization", "paired_bootstrap"):
            report = tuneval.compare(
                base, tuned, refs, ["exact_match", "token_f1", "chrf"], test=test, trials=2000
            )
            for c in report.comparisons:
                excludes = not c.ci_low <= 0.0 <= c.ci_high
                assert excludes == (c.p_value <= 0.05), (seed, test, c.name, c.p_value)


def test_perfect_scores_get_a_wilson_interval_not_a_point():
    report = tuneval.score(["x"] * 30, ["x"] * 30, "exact_match")
    r = report.results[0]
    assert r.value == 1.0 and r.ci_high == 1.0
    assert r.ci_low == pytest.approx(0.8865, abs=1e-4)


def test_no_difference_reports_what_could_not_be_detected():
    refs = [f"a{i}" for i in range(100)]
    outs = [r if i % 3 else "x" for i, r in enumerate(refs)]
    report = tuneval.compare(outs, outs, refs, "exact_match")
    c = report.comparisons[0]
    assert c.p_value == 1.0 and c.difference == 0.0
    # No discordant item: the rule of three bounds discordance by 3/n, SE √3/n, MDE ≈ 0.049.
    assert c.mde == pytest.approx(0.0489, abs=5e-4)
