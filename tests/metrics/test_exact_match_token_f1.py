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


# An independent transcription of SQuAD v2's official answer normalisation and F1.
def _squad_normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _squad_f1(pred, gold):
    p, g = _squad_normalize(pred).split(), _squad_normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def test_token_f1_golden(golden_pairs):
    metric = create_metric("token_f1")
    preds = [r["prediction"] for r in golden_pairs]
    refs = [r["references"] for r in golden_pairs]
    got = _values(metric, preds, refs)
    expected = [max(_squad_f1(p, r) for r in rs) for p, rs in zip(preds, refs, strict=False)]
    assert got == pytest.approx(expected, abs=1e-12)


@given(st.text(max_size=60), st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_token_f1_properties(a, b):
    metric = create_metric("token_f1")
    ab = _values(metric, [a], [[b]])[0]
    assert ab == pytest.approx(_values(metric, [b], [[a]])[0])  # symmetric
    assert 0.0 <= ab <= 1.0
    assert _values(metric, [a], [[a]]) == [1.0]
    assert ab == pytest.approx(_squad_f1(a, b))


def test_token_f1_rejects_unknown_normalisation():
    from tuneval.errors import MetricError

    with pytest.raises(MetricError, match="normalize"):
        create_metric("token_f1:normalize=fancy")
