import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize

import tuneval.metrics.rouge  # noqa: F401  (registers "rouge")
from tuneval.errors import MetricError
from tuneval.metrics import create_metric
from tuneval.metrics.rouge import Rouge, _Vocabulary

TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def _flat(score_dict, types=TYPES):
    """F-measures, then (precision, recall) per type: our column order with precision_recall."""
    fs = [score_dict[t].fmeasure for t in types]
    return fs + [x for t in types for x in (score_dict[t].precision, score_dict[t].recall)]


def _expected(preds, refs, stem, types=TYPES, scorer=None):
    scorer = scorer or rouge_scorer.RougeScorer(list(types), use_stemmer=stem)
    return np.array(
        [_flat(scorer.score_multi(r, p), types) for p, r in zip(preds, refs, strict=True)]
    )


def _ours(preds, refs, stem, types=TYPES):
    return Rouge(use_stemmer=stem, rouge_types=types, precision_recall=True).example_values(
        preds, refs
    )


# --- golden ------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", [False, True])
def test_golden_pairs_equal_rouge_score(golden_pairs, stem):
    preds = [r["prediction"] for r in golden_pairs]
    refs = [r["references"] for r in golden_pairs]
    expected = _expected(preds, refs, stem)
    metric = Rouge(use_stemmer=stem, precision_recall=True)
    got = metric.example_values(preds, refs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert np.array_equal(got, expected)  # in practice bit-identical
    corpus = metric.aggregate(metric.statistics(preds, refs).sum(axis=0, keepdims=True))
    for i, name in enumerate(metric.score_names):
        assert corpus[name][0] == pytest.approx(expected[:, i].mean(), abs=1e-9)


def test_batching_and_reuse_do_not_change_scores(golden_pairs):
    preds = [r["prediction"] for r in golden_pairs[:60]]
    refs = [r["references"] for r in golden_pairs[:60]]
    metric = Rouge(use_stemmer=True, precision_recall=True)
    whole = metric.example_values(preds, refs)
    one_by_one = np.vstack(
        [metric.example_values([p], [r]) for p, r in zip(preds, refs, strict=True)]
    )
    assert np.array_equal(whole, one_by_one)
    assert np.array_equal(whole, metric.example_values(preds, refs))


# --- edge cases ----------------------------------------------------------------------------

LONG = " ".join(f"word{i % 97} filler{i % 13}" for i in range(300))
EDGE_CASES = [
    ("", "The cat sat."),
    ("The cat sat.", ""),
    ("", ""),
    ("?!... --- ;;", "The cat sat."),
    ("The cat sat.", "?!... ---"),
    ("   \n\n  \t ", "a\n\nb"),
    ("東京は日本の首都です。", "日本の首都は東京です。"),
    ("The café served crème brûlée 🍷.", "The cafe served creme brulee!"),
    ("\u212a\u0130stanbul", "kistanbul i stanbul"),  # Kelvin sign and dotted I lowercase to ASCII
    ("a a a a b", "a b a"),
    ("x\ny\nx\ny", "x y\ny x\n\nx"),
    ("one", "one"),
    (LONG, LONG.replace("filler3", "other")),
    (LONG.replace(" word5 ", "\nword5 "), LONG),
    ("running runs ran\r\nthe runner's run", "run running\nrunner runs"),
]


@pytest.mark.parametrize("stem", [False, True])
@pytest.mark.parametrize(("pred", "ref"), EDGE_CASES)
def test_edge_cases_equal_rouge_score(pred, ref, stem):
    np.testing.assert_array_equal(_ours([pred], [[ref]], stem), _expected([pred], [[ref]], stem))


def test_multiple_references_pick_best_per_type():
    preds = ["the cat sat on the mat\nit was happy"]
    refs = [
        ["a dog ran", "the cat sat on a mat", "it was happy\nthe cat sat", "the cat sat on a mat"]
    ]
    np.testing.assert_array_equal(_ours(preds, refs, False), _expected(preds, refs, False))


def test_no_references_scores_zero():
    values = Rouge(precision_recall=True).example_values(["the cat"], [[]])
    assert values.shape == (1, 12) and not values.any()


def test_stems_that_are_not_tokens_are_dropped():
    # rouge-score drops a stemmed token unless it is [a-z0-9]+; NLTK's stemmer never produces
    # one, so use a stemmer that does, on both sides.
    class OddStemmer:
        def stem(self, word):
            return "" if word.startswith("x") else porter.PorterStemmer().stem(word)

    class OddTokenizer:
        def tokenize(self, text):
            return tokenize.tokenize(text, OddStemmer())

    preds = ["xyzzy running\nxxxx cats sat", "xxxx\nxyzw", "the dogs xxxx barked"]
    refs = [["running cats\nxyzq sat"], ["xxxx"], ["dogs barked\nxxxx the dogs"]]
    scorer = rouge_scorer.RougeScorer(list(TYPES), tokenizer=OddTokenizer())
    metric = Rouge(use_stemmer=True, precision_recall=True)
    metric._vocab = _Vocabulary(OddStemmer().stem)
    expected = _expected(preds, refs, True, scorer=scorer)
    np.testing.assert_array_equal(metric.example_values(preds, refs), expected)


# --- properties ----------------------------------------------------------------------------

WORDS = [
    "the",
    "cat",
    "cats",
    "sat",
    "sitting",
    "on",
    "mat",
    "a",
    "runs",
    "running",
    "x",
    "2024",
    "Über",
    "naïve",
    "東京",
    "généralement",
    "CAT",
    "it's",
    "\u212a",
    "I",
]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", ", ", ". ", "!", "\t", " - ", "'", "\r\n", "é"]
token_texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30
).map(lambda parts: "".join(w + s for w, s in parts))
raw_texts = st.text(alphabet="abcAB01 \n.-'é\u212a東", max_size=40)
texts = st.one_of(token_texts, raw_texts)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    st.lists(st.tuples(texts, st.lists(texts, min_size=1, max_size=3)), min_size=1, max_size=4),
    st.booleans(),
)
def test_random_texts_equal_rouge_score(pairs, stem):
    preds = [p for p, _ in pairs]
    refs = [r for _, r in pairs]
    got = _ours(preds, refs, stem)
    np.testing.assert_allclose(got, _expected(preds, refs, stem), rtol=0, atol=1e-9)


@PROPERTY
@given(texts, texts)
def test_swapping_prediction_and_reference_swaps_precision_and_recall(a, b):
    # ROUGE-Lsum is asymmetric by design (the union LCS is taken per reference sentence).
    types = ("rouge1", "rouge2", "rougeL")
    ab = _ours([a], [[b]], False, types)[0]
    ba = _ours([b], [[a]], False, types)[0]
    k = len(types)
    assert np.array_equal(ab[:k], ba[:k])
    assert np.array_equal(ab[k::2], ba[k + 1 :: 2]) and np.array_equal(ab[k + 1 :: 2], ba[k::2])


@PROPERTY
@given(texts, st.booleans())
def test_identical_text_scores_one(text, stem):
    n_tokens = len(rouge_scorer.RougeScorer(["rouge1"])._tokenizer.tokenize(text))
    f1, f2, fl, flsum = _ours([text], [[text]], stem)[0, :4]
    assert (f1, fl, flsum) == ((1.0, 1.0, 1.0) if n_tokens else (0.0, 0.0, 0.0))
    assert f2 == (1.0 if n_tokens >= 2 else 0.0)


@PROPERTY
@given(st.lists(st.tuples(texts, st.lists(texts, max_size=3)), max_size=5), st.booleans())
def test_scores_are_within_unit_interval(pairs, stem):
    values = _ours([p for p, _ in pairs], [r for _, r in pairs], stem)
    assert values.shape == (len(pairs), 12)
    assert ((values >= 0) & (values <= 1)).all()


# --- options, names, signature -------------------------------------------------------------


def test_spec_gives_score_names():
    metric = create_metric("rouge:use_stemmer=true,precision_recall=true")
    assert isinstance(metric, Rouge) and metric.use_stemmer
    assert metric.score_names == [
        "rouge1", "rouge2", "rougeL", "rougeLsum",
        "rouge1_precision", "rouge1_recall", "rouge2_precision", "rouge2_recall",
        "rougeL_precision", "rougeL_recall", "rougeLsum_precision", "rougeLsum_recall",
    ]  # fmt: skip
    assert create_metric("rouge").score_names == list(TYPES)


def test_rouge_types_in_spec_and_python_are_ordered_and_deduplicated():
    assert create_metric("rouge:rouge_types=rougeLsum+rouge3+rougeL").score_names == [
        "rouge3", "rougeL", "rougeLsum"
    ]  # fmt: skip
    assert Rouge(rouge_types=("rougeL", "rouge1", "rougeL")).score_names == ["rouge1", "rougeL"]


def test_subset_of_types_and_higher_orders_equal_rouge_score(golden_pairs):
    types = ("rouge3", "rouge9", "rougeLsum")
    preds = [r["prediction"] for r in golden_pairs[:80]]
    refs = [r["references"] for r in golden_pairs[:80]]
    got = _ours(preds, refs, False, types)
    np.testing.assert_array_equal(got, _expected(preds, refs, False, types))


@pytest.mark.parametrize("bad", ["rouge0", "rougeX", "ROUGE1", "rouge10", "rougelsum", ""])
def test_invalid_rouge_type_raises_metric_error(bad):
    with pytest.raises(MetricError, match=r"invalid ROUGE type.*valid types are rouge1"):
        Rouge(rouge_types=("rouge1", bad))
    with pytest.raises(MetricError, match="invalid ROUGE type"):
        create_metric(f"rouge:rouge_types={bad or '+'}")


def test_mismatched_lengths_raise_metric_error():
    with pytest.raises(MetricError, match="2 predictions but 1 reference lists"):
        Rouge().example_values(["a", "b"], [["a"]])


def test_statistics_and_aggregate_are_means():
    metric = Rouge()
    stats = metric.statistics(["the cat sat", "a dog", ""], [["the cat sat"], ["the dog"], ["x"]])
    assert stats.shape == (3, 5) and (stats[:, -1] == 1).all()
    scores = metric.aggregate(stats.sum(axis=0, keepdims=True))
    assert scores["rouge1"][0] == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert Rouge().example_values([], []).shape == (0, 4)


def test_signature():
    fields = create_metric("rouge:use_stemmer=true").signature_fields()
    assert fields["types"] == "rouge1+rouge2+rougeL+rougeLsum"
    assert fields["stem"] == "yes" and fields["tok"] == "rouge-score-default"
    assert fields["rouge_score_version"] == "0.1.2" and fields["nltk"][0].isdigit()
    assert Rouge().signature().startswith("rouge|types:rouge1+rouge2+rougeL+rougeLsum|stem:no")


def test_import_does_not_load_numba_kernels():
    code = "import sys, tuneval.metrics.rouge; print('_rouge_kernels' in str(list(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_long_single_line_texts_are_fast_and_exact():
    # 5,000 x 4,500 tokens: far beyond what rouge-score can check in a test, but the LCS is
    # known: the prediction is the reference minus every tenth word.
    words = [f"w{i % 701}" for i in range(5000)]
    ref = " ".join(words)
    pred = " ".join(w for i, w in enumerate(words) if i % 10)
    values = Rouge(rouge_types=("rougeL", "rougeLsum"), precision_recall=True).example_values(
        [pred], [[ref]]
    )[0]
    np.testing.assert_array_equal(values[2:], [1.0, 4500 / 5000, 1.0, 4500 / 5000])
