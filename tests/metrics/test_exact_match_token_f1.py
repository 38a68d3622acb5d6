import re
import string
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneval.metrics import create_metric


def _values(metric, preds, refs):
    return metric.example_values(preds, refs)[:, 0].tolist()


@pytest.mark.parametrize(
    ("spec", "pred", "ref", "expected"),
    [
        ("exact_match", " Paris ", "Paris", 1.0),
        ("exact_match:strip=false", " Paris ", "Paris", 0.0),
        ("exact_match", "paris", "Paris", 0.0),
        ("exact_match:lowercase=true", "paris", "Paris", 1.0),
        ("exact_match:punctuation=true", "Paris.", "Paris", 1.0),
        ("exact_match:articles=true,lowercase=true", "The Eiffel Tower", "eiffel tower", 1.0),
        ("exact_match:whitespace=true", "New   York", "New York", 1.0),
        ("exact_match", "New   York", "New York", 0.0),
    ],
)
def test_exact_match_normalisation(spec, pred, ref, expected):
    assert _values(create_metric(spec), [pred], [[ref]]) == [expected]


def test_exact_match_any_reference():
    metric = create_metric("exact_match")
    assert _values(metric, ["b", "z"], [["a", "b"], ["x", "y"]]) == [1.0, 0.0]


# Faithful re-statements of the official SQuAD evaluation scripts' functions.
def _normalize_answer(s):  # identical in v1.1 and v2.0
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text, flags=re.UNICODE)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _v1_f1_score(prediction, ground_truth):  # SQuAD v1.1 evaluate-v1.1.py
    prediction_tokens = _normalize_answer(prediction).split()
    ground_truth_tokens = _normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def _v1_max_over_ground_truths(prediction, ground_truths):
    return max(_v1_f1_score(prediction, gt) for gt in ground_truths)


def _v2_get_tokens(s):  # SQuAD v2.0 evaluate-v2.0.py
    if not s:
        return []
    return _normalize_answer(s).split()


def _v2_compute_f1(a_gold, a_pred):
    gold_toks = _v2_get_tokens(a_gold)
    pred_toks = _v2_get_tokens(a_pred)
    common = Counter(gold_toks) & Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def _v2_raw_f1(prediction, answers):  # get_raw_scores for one question
    gold_answers = [a for a in answers if _normalize_answer(a)]
    if not gold_answers:
        gold_answers = [""]
    return max(_v2_compute_f1(a, prediction) for a in gold_answers)


_EMPTY_CASES = [
    ("", [""]),
    ("the", ["a"]),
    ("...", [""]),
    ("", ["Paris"]),
    ("Paris", [""]),
    ("", ["", "Paris"]),
    ("Paris", ["an", "paris!"]),
    ("the cat sat", ["a cat", "sat on the mat"]),
    ("Übung macht den Meister", ["übung MACHT meister"]),
]


def test_token_f1_squad_is_v1(golden_pairs):
    metric = create_metric("token_f1")
    cases = [(r["prediction"], r["references"]) for r in golden_pairs] + _EMPTY_CASES
    got = _values(metric, [p for p, _ in cases], [rs for _, rs in cases])
    expected = [_v1_max_over_ground_truths(p, rs) for p, rs in cases]
    assert got == pytest.approx(expected, abs=1e-12)
    assert _values(metric, [""], [[""]]) == [0.0]  # v1.1 gives 0 when nothing is shared
    assert metric.signature() == "token_f1|norm:squad|empty:zero|tok:whitespace"


def test_token_f1_squad_v2_rule(golden_pairs):
    metric = create_metric("token_f1:normalize=squad_v2")
    cases = [(r["prediction"], r["references"]) for r in golden_pairs] + _EMPTY_CASES
    got = _values(metric, [p for p, _ in cases], [rs for _, rs in cases])
    expected = [_v2_raw_f1(p, rs) for p, rs in cases]
    assert got == pytest.approx(expected, abs=1e-12)
    assert _values(metric, ["", ""], [[""], ["", "Paris"]]) == [1.0, 0.0]
    assert metric.signature() == "token_f1|norm:squad|empty:match|tok:whitespace"


def test_token_f1_rules_reach_the_score_api():
    import tuneval

    v1 = tuneval.score(["", "Paris"], ["", "Paris"], "token_f1").results[0]
    v2 = tuneval.score(["", "Paris"], ["", "Paris"], "token_f1:normalize=squad_v2").results[0]
    assert (v1.value, v2.value) == (0.5, 1.0)
    assert "|empty:zero|" in v1.signature and "|empty:match|" in v2.signature


@given(st.text(max_size=60), st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_token_f1_properties(a, b):
    v1, v2 = create_metric("token_f1"), create_metric("token_f1:normalize=squad_v2")
    ab = _values(v1, [a], [[b]])[0]
    assert ab == pytest.approx(_values(v1, [b], [[a]])[0])  # symmetric
    assert 0.0 <= ab <= 1.0
    assert ab == pytest.approx(_v1_f1_score(a, b))
    assert _values(v2, [a], [[b]])[0] == pytest.approx(_v2_raw_f1(a, [b]))
    assert _values(v1, [a], [[a]]) == [1.0 if _normalize_answer(a) else 0.0]


def test_token_f1_rejects_unknown_normalisation():
    from tuneval.errors import MetricError

    with pytest.raises(MetricError, match="normalize"):
        create_metric("token_f1:normalize=fancy")
