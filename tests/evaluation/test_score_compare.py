import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from tuneval.errors import MetricError, UsageError
from tuneval.evaluation import BootstrapConfig, compare, score
from tuneval.metrics import create_metric


def _qa(n=200, p_base=0.5, p_tuned=0.7, seed=0):
    rng = np.random.default_rng(seed)
    refs = [[f"answer {i}"] for i in range(n)]
    base = [r[0] if rng.random() < p_base else "wrong" for r in refs]
    tuned = [r[0] if rng.random() < p_tuned else "wrong" for r in refs]
    return base, tuned, refs


def test_score_point_estimate_ci_and_signature():
    base, _, refs = _qa()
    boot = BootstrapConfig(resamples=500, seed=7, confidence=0.9)
    report = score(base, refs, ["exact_match"], bootstrap=boot, model="base")
    (r,) = report.results
    assert r.value == pytest.approx(np.mean([b == x[0] for b, x in zip(base, refs, strict=False)]))
    assert r.ci_low < r.value < r.ci_high
    assert (r.resamples, r.seed, r.confidence, r.n) == (500, 7, 0.9, 200)
    assert r.signature.startswith("exact_match|norm:strip|n:200|boot:500|seed:7|ci:0.9|tuneval:")
    # Same seed, same interval: the signature is enough to reproduce the numbers.
    again = score(base, refs, ["exact_match"], bootstrap=boot).results[0]
    assert (again.ci_low, again.ci_high) == (r.ci_low, r.ci_high)
    assert len(report.scores) == 200 and report.scores[0].values["exact_match"] in (0.0, 1.0)


def test_score_rejects_mismatched_lengths_and_empty_metric_list():
    with pytest.raises(UsageError, match="2 predictions but 1 references"):
        score(["a", "b"], [["a"]], ["exact_match"])
    with pytest.raises(UsageError, match="no metric"):
        score(["a"], [["a"]], [])
    with pytest.raises(UsageError, match="given twice"):
        score(["a"], [["a"]], ["exact_match", "exact_match:lowercase=true"])
    with pytest.raises(MetricError, match="unknown metric 'bleurt'"):
        score(["a"], [["a"]], ["bleurt"])


def test_compare_binary_uses_mcnemar_and_lists_flips():
    base, tuned, refs = _qa()
    ids = [f"x{i}" for i in range(len(refs))]
    report = compare(base, tuned, refs, ["exact_match"], ids=ids)
    (c,) = report.comparisons
    a = np.array([b == r[0] for b, r in zip(base, refs, strict=False)])
    b = np.array([t == r[0] for t, r in zip(tuned, refs, strict=False)])
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    # McNemar's asymptotic test (with Tango's interval, which agrees with it); the exact test
    # was needlessly conservative (see tuneval.stats.paired).
    assert c.test == "mcnemar_score"
    assert c.p_value == pytest.approx(mcnemar(table, exact=False, correction=False).pvalue)
    assert c.difference == pytest.approx(b.mean() - a.mean())
    assert c.ci_low < c.difference < c.ci_high
    assert set(c.flipped.fixed) == {ids[i] for i in np.flatnonzero(~a & b)}
    assert set(c.flipped.broken) == {ids[i] for i in np.flatnonzero(a & ~b)}
    assert c.p_adjusted == c.p_value  # a single score: Holm changes nothing
    assert c.significant


def test_compare_continuous_uses_ar_and_holm_across_scores():
    base, tuned, refs = _qa(n=120, p_base=0.5, p_tuned=0.5, seed=3)
    report = compare(base, tuned, refs, ["token_f1", "exact_match"], trials=2000)
    by_name = {c.name: c for c in report.comparisons}
    assert by_name["token_f1"].test == "approximate_randomization"
    assert by_name["token_f1"].trials == 2000
    ps = [c.p_value for c in report.comparisons]
    from statsmodels.stats.multitest import multipletests

    assert [c.p_adjusted for c in report.comparisons] == pytest.approx(
        list(multipletests(ps, method="holm")[1])
    )


def test_compare_paired_bootstrap_option():
    base, tuned, refs = _qa(seed=5)
    report = compare(base, tuned, refs, ["token_f1"], test="paired_bootstrap")
    (c,) = report.comparisons
    assert c.test == "paired_bootstrap"
    assert 0 < c.p_value <= 1


def test_paired_ci_is_narrower_than_unpaired_when_items_correlate():
    # Both systems share item difficulty: the paired CI of the difference must exploit it.
    rng = np.random.default_rng(1)
    n = 300
    difficulty = rng.random(n)
    refs = [[f"r{i}"] for i in range(n)]
    base = [f"r{i}" if difficulty[i] > 0.4 else "x" for i in range(n)]
    tuned = [f"r{i}" if difficulty[i] > 0.35 else "x" for i in range(n)]
    c = compare(base, tuned, refs, ["exact_match"]).comparisons[0]
    unpaired_width = (c.base.ci_high - c.base.ci_low) + (c.finetuned.ci_high - c.finetuned.ci_low)
    assert (c.ci_high - c.ci_low) < unpaired_width / 2


def test_compare_classification_shares_label_set_across_systems():
    refs = [["a"], ["b"], ["a"], ["c"]] * 10
    base = ["a", "a", "a", "a"] * 10
    tuned = ["a", "b", "a", "d"] * 10  # 'd' exists only in the tuned outputs
    report = compare(base, tuned, refs, ["classification"])
    acc = next(c for c in report.comparisons if c.name == "accuracy")
    assert acc.base.value == pytest.approx(0.5) and acc.finetuned.value == pytest.approx(0.75)
    assert acc.finetuned.details["labels"] == ["a", "b", "c", "d"]


def test_compare_requires_same_items():
    with pytest.raises(UsageError, match="1 base but 2 finetuned: base has no entry for index 1"):
        compare(["a"], ["a", "b"], [["a"]], ["exact_match"])
    with pytest.raises(UsageError, match="1 base but 2 references: base has no entry for index 1"):
        compare(["a"], ["a"], ["a", "b"], ["exact_match"])


def test_create_metric_errors_are_clear():
    with pytest.raises(MetricError, match="has no option 'lowercasee'; valid options: strip"):
        create_metric("exact_match:lowercasee=true")
    with pytest.raises(MetricError, match="key=value"):
        create_metric("exact_match:lowercase")
    with pytest.raises(MetricError, match="invalid options for metric 'exact_match'"):
        create_metric("exact_match:lowercase=maybe")
