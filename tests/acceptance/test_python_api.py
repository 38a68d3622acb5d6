"""The Python API as a notebook user calls it: plain strings, arrays, short unicode items."""

import math

import numpy as np
import pandas as pd
import pytest
import sacrebleu
from rouge_score import rouge_scorer

import tuneval

BASE = ["Paris", "The capital is Rome", "Tokio", "ça va très bien", "42", "Nein"]
FINETUNED = ["Paris", "Rome is the capital", "Tokyo", "ça va très bien", "42", "Ja"]
REFS = ["Paris", "Rome is the capital", "Tokyo", "ça va très bien !", "42", "Ja"]


def _value(report, name):
    return next(r.value for r in report.results if r.name == name)


def test_score_with_plain_string_references():
    report = tuneval.score(["Paris", "Rome"], ["Paris", "Rome"], "exact_match")
    assert _value(report, "exact_match") == 1.0
    # A string reference is one reference, never a list of its characters.
    assert _value(tuneval.score(["a"], ["Paris"], "exact_match"), "exact_match") == 0.0
    assert _value(tuneval.score(["is"], ["Paris"], "token_f1"), "token_f1") == 0.0


def test_numpy_and_pandas_inputs_equal_lists():
    preds, refs = ["Paris", "Berlin", "Rome"], ["Paris", "Bern", "Rome"]
    expected = _value(tuneval.score(preds, refs, ["exact_match"]), "exact_match")
    assert expected == pytest.approx(2 / 3)
    for p, r in [
        (np.array(preds), np.array(refs)),
        (pd.Series(preds), pd.Series(refs)),
        (tuple(preds), [[x] for x in refs]),
        (preds, np.array([[x] for x in refs])),
    ]:
        assert _value(tuneval.score(p, r, "exact_match"), "exact_match") == expected
    # Several references: a list (or tuple) of strings per example.
    multi = tuneval.score(["Bern"], [("Berne", "Bern")], "exact_match")
    assert _value(multi, "exact_match") == 1.0


def test_compare_equals_reference_libraries():
    report = tuneval.compare(BASE, FINETUNED, REFS, ["exact_match", "rouge", "bleu"])
    by = {c.name: c for c in report.comparisons}
    em_base = np.mean([b == r for b, r in zip(BASE, REFS, strict=True)])
    em_ft = np.mean([f == r for f, r in zip(FINETUNED, REFS, strict=True)])
    assert by["exact_match"].base.value == pytest.approx(em_base)
    assert by["exact_match"].difference == pytest.approx(em_ft - em_base)
    assert by["exact_match"].difference > 0
    for outputs, side in ((BASE, "base"), (FINETUNED, "finetuned")):
        bleu = sacrebleu.corpus_bleu(outputs, [REFS]).score
        assert getattr(by["bleu"], side).value == pytest.approx(bleu, abs=1e-9)
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"])
        per_item = [scorer.score(r, o) for o, r in zip(outputs, REFS, strict=True)]
        for t in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            expected = np.mean([s[t].fmeasure for s in per_item])
            assert getattr(by[t], side).value == pytest.approx(expected, abs=1e-12)
    assert by["bleu"].difference > 0 and math.isfinite(by["bleu"].p_value)


def test_compare_significance_follows_alpha():
    n = 40
    refs = [f"answer {i}" for i in range(n)]
    base = ["wrong"] * n
    tuned = refs[:12] + ["wrong"] * (n - 12)  # 12 fixed, none broken
    p = tuneval.compare(base, tuned, refs, "exact_match").comparisons[0].p_adjusted
    assert 0 < p < 0.01
    strict = tuneval.compare(base, tuned, refs, "exact_match", alpha=p / 2).comparisons[0]
    loose = tuneval.compare(base, tuned, refs, "exact_match", alpha=min(2 * p, 0.5)).comparisons[0]
    assert strict.p_adjusted == loose.p_adjusted == p
    assert (strict.alpha, strict.significant) == (p / 2, False)  # was: p < 0.05, always
    assert loose.significant


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tuneval.score(["a", None], ["a", "b"], "bleu"), r"predictions\[1\] is None"),
        (lambda: tuneval.score(["a", "b"], ["a", None], "exact_match"), r"references\[1\] must"),
        (lambda: tuneval.score(["a", 3], ["a", "b"], "exact_match"), r"predictions\[1\] must be"),
        (lambda: tuneval.score(["a"], [[]], "exact_match"), r"references\[0\] is an empty list"),
        (lambda: tuneval.score(["a"], [["x", 1]], "exact_match"), r"references\[0\]\[1\]"),
        (lambda: tuneval.score(["a", "b"], ["a"], "exact_match"), r"no entry for index 1"),
        (lambda: tuneval.score([], [], "exact_match"), "no examples"),
        (lambda: tuneval.score("Paris", ["Paris"], "exact_match"), "single string"),
        (lambda: tuneval.score(["a"], ["a"], []), "no metric"),
        (
            lambda: tuneval.compare(["a", "b"], ["a"], ["a", "b"], "exact_match"),
            r"finetuned has no entry for index 1",
        ),
        (lambda: tuneval.compare(["a"], [None], ["a"], "bleu"), r"finetuned\[0\] is None"),
        (lambda: tuneval.compare([], [], [], "bleu"), "no examples"),
        (lambda: tuneval.compare(["a"], ["a"], ["a"], "bleu", alpha=1.5), "alpha"),
    ],
)
def test_bad_inputs_are_usage_errors(call, message):
    with pytest.raises(tuneval.UsageError, match=message):
        call()


def test_pandas_missing_value_names_the_index():
    with pytest.raises(tuneval.UsageError, match=r"predictions\[2\] must be a string, got float"):
        tuneval.score(pd.Series(["a", "b", np.nan]), ["a"] * 3, "bleu")


def test_dataframe_rows_are_references_and_unordered_inputs_are_refused():
    refs = pd.DataFrame({"r1": ["Paris", "Bern"], "r2": ["paris", "Berne"]})
    assert _value(tuneval.score(["paris", "Berne"], refs, "exact_match"), "exact_match") == 1.0
    with pytest.raises(tuneval.UsageError, match="predictions must be a list"):
        tuneval.score({"Paris", "Rome"}, ["Paris", "Rome"], "exact_match")
    with pytest.raises(tuneval.UsageError, match="references must be a list"):
        tuneval.score(["Paris"], {"q1": "Paris"}, "exact_match")


def test_classification_scores_get_their_own_intervals():
    # Each macro/weighted score has its own bootstrap interval, which contains its value;
    # only accuracy (right/wrong per item) gets the proportion interval.
    result = tuneval.score(["a"] * 100, ["a"] * 95 + ["b"] * 5, ["classification"])
    by_name = {r.name: r for r in result.results}
    for r in result.results:
        assert r.ci_low <= r.value + 1e-12 and r.value <= r.ci_high + 1e-12, r.name
    assert (by_name["macro_f1"].ci_low, by_name["macro_f1"].ci_high) != (
        by_name["accuracy"].ci_low,
        by_name["accuracy"].ci_high,
    )


def test_dir_lists_the_public_api_for_tab_completion() -> None:
    import tuneval

    names = dir(tuneval)
    for name in ("score", "compare", "full_evaluation", "EvaluationResult"):
        assert name in names
