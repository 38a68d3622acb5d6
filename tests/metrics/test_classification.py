import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import classification_report, confusion_matrix

from tuneval.errors import MetricError
from tuneval.evaluation import score
from tuneval.metrics import create_metric


def _check_against_sklearn(preds, truth, **options):
    metric = create_metric("classification", **options)
    stats = metric.statistics(preds, [[t] for t in truth])
    point = {k: float(v[0]) for k, v in metric.aggregate(stats.sum(0, keepdims=True)).items()}
    norm = metric._norm
    y_true = [norm(t) for t in truth]
    y_pred = [norm(p) for p in preds]
    ref = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    labels = sorted(set(y_true) | set(y_pred))
    assert metric.labels == labels
    acc = np.mean([a == b for a, b in zip(y_true, y_pred, strict=False)])
    assert point["accuracy"] == pytest.approx(acc, abs=1e-12)
    for avg in ("macro", "weighted"):
        for m in ("precision", "recall"):
            assert point[f"{avg}_{m}"] == pytest.approx(ref[f"{avg} avg"][m], abs=1e-12)
        assert point[f"{avg}_f1"] == pytest.approx(ref[f"{avg} avg"]["f1-score"], abs=1e-12)
    details = metric.details(stats)
    for label in labels:
        for m, ref_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert details["per_class"][label][m] == pytest.approx(ref[label][ref_key], abs=1e-12)
        assert details["per_class"][label]["support"] == ref[label]["support"]
    assert details["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()


def test_golden_labels_equal_sklearn(golden_labels):
    preds = [r["prediction"] for r in golden_labels]
    truth = [r["reference"] for r in golden_labels]
    _check_against_sklearn(preds, truth)
    _check_against_sklearn(preds, truth, lowercase=True)


@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcde")), min_size=1, max_size=80)
)
@settings(max_examples=150, deadline=None)
def test_random_labels_equal_sklearn(pairs):
    _check_against_sklearn([p for _, p in pairs], [t for t, _ in pairs])


def test_fixed_label_set_refuses_strays():
    metric = create_metric("classification:labels=yes|no")
    with pytest.raises(MetricError, match="not in the given label set"):
        metric.statistics(["maybe"], [["yes"]])


def test_score_reports_ci_and_details(golden_labels):
    preds = [r["prediction"] for r in golden_labels]
    refs = [[r["reference"]] for r in golden_labels]
    report = score(preds, refs, ["classification"])
    acc = report.results[0]
    assert acc.name == "accuracy"
    assert acc.ci_low < acc.value < acc.ci_high
    assert "confusion_matrix" in acc.details


def test_macro_average_ignores_labels_absent_from_the_sample():
    # Labels fitted over both systems: the base alone never sees 'd'; its macro F1 must equal
    # scikit-learn's on its own data, not count 'd' as a class with F1 = 0.
    from sklearn.metrics import f1_score

    metric = create_metric("classification")
    refs = [["a"], ["b"], ["a"], ["c"]]
    base, tuned = ["a", "a", "a", "a"], ["a", "b", "a", "d"]
    metric.fit([base, tuned], refs)
    stats = metric.statistics(base, refs)
    macro = metric.aggregate(stats.sum(0, keepdims=True))["macro_f1"][0]
    assert macro == pytest.approx(
        f1_score([r[0] for r in refs], base, average="macro", zero_division=0)
    )


def _sklearn_equal(metric, y_true, y_pred, labels, zero_division):
    """Every averaged score, per-class value and support equals scikit-learn's."""
    from sklearn.metrics import precision_recall_fscore_support

    stats = metric.statistics(y_pred, [[t] for t in y_true])
    point = {k: float(v[0]) for k, v in metric.aggregate(stats.sum(0, keepdims=True)).items()}
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=avg, zero_division=zero_division
        )
        for name, ref in (("precision", p), ("recall", r), ("f1", f)):
            assert point[f"{avg}_{name}"] == pytest.approx(ref, abs=1e-12, nan_ok=True)
    report = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=zero_division
    )
    per_class = metric.details(stats)["per_class"]
    for label in labels:
        for m, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert per_class[label][m] == pytest.approx(report[label][key], abs=1e-12, nan_ok=True)
        assert per_class[label]["support"] == report[label]["support"]
    for avg in ("macro", "weighted"):
        assert point[f"{avg}_f1"] == pytest.approx(
            report[f"{avg} avg"]["f1-score"], abs=1e-12, nan_ok=True
        )


LABEL_CASES = [
    # (truth, predictions, given label set): 'c' never occurs; 'b' is never predicted.
    (["a", "b", "a"], ["a", "a", "a"], ["a", "b", "c"]),
    (["a", "a", "b", "b"], ["a", "b", "b", "a"], ["a", "b", "c", "d"]),
    (["x", "y", "z", "x"], ["x", "x", "x", "x"], ["z", "y", "x"]),
    (["pos", "neg", "neg"], ["neg", "neg", "neg"], ["pos", "neg"]),
]


@pytest.mark.parametrize("zero_division", [0, 1, np.nan])
@pytest.mark.parametrize(("y_true", "y_pred", "labels"), LABEL_CASES)
def test_given_labels_and_zero_division_equal_sklearn(y_true, y_pred, labels, zero_division):
    spec = f"classification:labels={'|'.join(labels)},zero_division={zero_division}"
    _sklearn_equal(create_metric(spec), y_true, y_pred, labels, zero_division)


@pytest.mark.parametrize("zero_division", [0, 1, np.nan])
def test_seen_labels_and_zero_division_equal_sklearn(golden_labels, zero_division):
    y_true = [r["reference"] for r in golden_labels]
    y_pred = [r["prediction"] for r in golden_labels]
    metric = create_metric("classification", zero_division=zero_division)
    stats = metric.statistics(y_pred, [[t] for t in y_true])  # fits the seen labels
    y_true, y_pred = [metric._norm(t) for t in y_true], [metric._norm(p) for p in y_pred]
    assert metric.labels == sorted(set(y_true) | set(y_pred))
    assert stats.shape == (len(y_true), len(metric.labels) ** 2)
    _sklearn_equal(metric, y_true, y_pred, metric.labels, zero_division)


def test_never_seen_given_label_counts_in_macro_average():
    import tuneval

    report = tuneval.score(["a", "a", "a"], ["a", "b", "a"], "classification:labels=a|b|c")
    macro = next(r for r in report.results if r.name == "macro_f1")
    assert macro.value == pytest.approx(0.8 / 3)  # F1: a 0.8, b 0, c 0 (not 0.8 / 2)
    assert "|labels:a,b,c|zero_div:0|" in macro.signature


def test_zero_division_rejects_other_values():
    with pytest.raises(MetricError, match="zero_division must be 0, 1 or nan"):
        create_metric("classification:zero_division=0.5")
