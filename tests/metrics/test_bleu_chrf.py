"""BLEU and chrF against sacreBLEU, NLTK BLEU against NLTK, on golden and random data."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from tuneval.errors import MetricError
from tuneval.metrics import create_metric


def _sacre_stats(metric, preds, refs):
    # Per example, so that a variable number of references is handled as sacreBLEU would.
    return np.array(
        [
            metric._extract_corpus_statistics([p], [[r] for r in rs])[0]
            for p, rs in zip(preds, refs, strict=True)
        ],
        dtype=np.float64,
    )


def _split(pairs):
    return [r["prediction"] for r in pairs], [r["references"] for r in pairs]


BLEU_OPTIONS = list(
    itertools.product(
        ["13a", "intl", "char", "none", "zh"],
        [False, True],
        ["none", "floor", "add-k", "exp"],
        [False, True],
    )
)


@pytest.mark.parametrize(("tok", "lowercase", "smooth", "eff"), BLEU_OPTIONS)
def test_bleu_golden_equals_sacrebleu(golden_pairs, tok, lowercase, smooth, eff):
    preds, refs = _split(golden_pairs)
    ours = create_metric(
        "bleu", tokenize=tok, lowercase=lowercase, smooth_method=smooth, effective_order=eff
    )
    theirs = BLEU(
        tokenize=tok, lowercase=lowercase, smooth_method=smooth, effective_order=eff, force=True
    )
    stats = ours.statistics(preds, refs)
    expected = _sacre_stats(theirs, preds, refs)
    assert np.array_equal(stats, expected)
    corpus = ours.aggregate(stats.sum(0, keepdims=True))["bleu"][0]
    assert corpus == pytest.approx(
        theirs._compute_score_from_stats(list(expected.sum(0))).score, abs=1e-9
    )
    sentence = ours.aggregate(stats)["bleu"]
    for i in range(0, len(preds), 5):
        assert sentence[i] == pytest.approx(
            theirs._compute_score_from_stats(list(expected[i])).score, abs=1e-9
        )


def test_bleu_corpus_score_and_signature_equal_sacrebleu_single_reference(golden_pairs):
    preds = [r["prediction"] for r in golden_pairs]
    refs = [r["references"][0] for r in golden_pairs]
    ours = create_metric("bleu")
    theirs = BLEU()
    stats = ours.statistics(preds, [[r] for r in refs])
    score = theirs.corpus_score(preds, [refs])
    assert ours.aggregate(stats.sum(0, keepdims=True))["bleu"][0] == pytest.approx(
        score.score, abs=1e-9
    )
    assert ours.signature() == "bleu|" + str(theirs.get_signature())


def test_bleu_per_example_is_sacrebleu_sentence_bleu(golden_pairs):
    preds, refs = _split(golden_pairs[:60])
    ours = create_metric("bleu")
    per = ours.per_example(ours.statistics(preds, refs))["bleu"]
    theirs = BLEU(effective_order=True)
    for value, p, rs in zip(per, preds, refs, strict=True):
        assert value == pytest.approx(theirs.sentence_score(p, rs).score, abs=1e-9)


def test_bleu_variable_reference_count_signature():
    ours = create_metric("bleu")
    ours.statistics(["a b c", "d e f"], [["a b c"], ["d e f", "d e"]])
    assert ours.signature_fields()["nrefs"] == "var"


def test_bleu_empty_corpus_and_bad_options():
    ours = create_metric("bleu")
    stats = ours.statistics([], [])
    assert stats.shape == (0, 10)
    assert ours.aggregate(stats.sum(0, keepdims=True))["bleu"][0] == 0.0
    with pytest.raises(MetricError, match="tokenizer"):
        create_metric("bleu:tokenize=nonsense")
    with pytest.raises(MetricError, match="smooth_method"):
        create_metric("bleu:smooth_method=magic")
    assert create_metric("bleu:tokenize=intl,smooth_method=floor").smooth_method == "floor"


PIECES = [*"ab cdé,.!?-'\n東京 ", "the", "cat", "12", "3.5", " . "]
TEXT = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


@given(st.lists(st.tuples(TEXT, st.lists(TEXT, min_size=1, max_size=3)), min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_bleu_random_stats_equal_sacrebleu_and_are_additive(pairs):
    preds = [p for p, _ in pairs]
    refs = [r for _, r in pairs]
    ours = create_metric("bleu")
    stats = ours.statistics(preds, refs)
    assert np.array_equal(stats, _sacre_stats(BLEU(force=True), preds, refs))
    half = len(preds) // 2
    parts = np.vstack(
        [ours.statistics(preds[:half], refs[:half]), ours.statistics(preds[half:], refs[half:])]
    )
    assert np.array_equal(parts, stats)
    value = ours.aggregate(stats.sum(0, keepdims=True))["bleu"][0]
    assert 0.0 <= value <= 100.0 + 1e-9  # sacreBLEU itself can give 100.00000000000004


def test_bleu_identical_text_is_100():
    ours = create_metric("bleu")
    text = "the quick brown fox jumps over the lazy dog"
    stats = ours.statistics([text], [[text]])
    assert ours.aggregate(stats)["bleu"][0] == pytest.approx(100.0)


CHRF_OPTIONS = list(
    itertools.product([6, 3], [0, 2], [2, 1], [False, True], [False, True], [False, True])
)


@pytest.mark.parametrize(("char", "word", "beta", "lowercase", "ws", "eps"), CHRF_OPTIONS)
def test_chrf_golden_equals_sacrebleu(golden_pairs, char, word, beta, lowercase, ws, eps):
    preds, refs = _split(golden_pairs)
    opts = dict(
        char_order=char,
        word_order=word,
        beta=beta,
        lowercase=lowercase,
        whitespace=ws,
        eps_smoothing=eps,
    )
    ours = create_metric("chrf", **opts)
    theirs = CHRF(**opts)
    stats = ours.statistics(preds, refs)
    expected = _sacre_stats(theirs, preds, refs)
    assert np.array_equal(stats, expected)
    corpus = ours.aggregate(stats.sum(0, keepdims=True))["chrf"][0]
    assert corpus == pytest.approx(
        theirs._compute_score_from_stats(list(expected.sum(0))).score, abs=1e-9
    )


def test_chrf_corpus_score_and_signature_equal_sacrebleu(golden_pairs):
    preds = [r["prediction"] for r in golden_pairs]
    refs = [r["references"][0] for r in golden_pairs]
    ours = create_metric("chrf:word_order=2")
    theirs = CHRF(word_order=2)
    stats = ours.statistics(preds, [[r] for r in refs])
    assert ours.aggregate(stats.sum(0, keepdims=True))["chrf"][0] == pytest.approx(
        theirs.corpus_score(preds, [refs]).score, abs=1e-9
    )
    assert ours.signature() == "chrf|" + str(theirs.get_signature())


@given(st.lists(st.tuples(TEXT, st.lists(TEXT, min_size=1, max_size=3)), min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_chrf_random_stats_equal_sacrebleu(pairs):
    preds = [p for p, _ in pairs]
    refs = [r for _, r in pairs]
    ours = create_metric("chrf:word_order=2")
    assert np.array_equal(
        ours.statistics(preds, refs), _sacre_stats(CHRF(word_order=2), preds, refs)
    )


@pytest.mark.parametrize("method", [f"method{i}" for i in (0, 1, 2, 3, 4, 5, 7)])
@pytest.mark.parametrize("tokenize", ["whitespace", "13a"])
def test_bleu_nltk_equals_nltk(golden_pairs, method, tokenize):
    preds, refs = _split(golden_pairs)
    ours = create_metric(f"bleu_nltk:smoothing={method},tokenize={tokenize}")
    values = ours.example_values(preds, refs)[:, 0]
    smooth = getattr(SmoothingFunction(), method)
    if tokenize == "13a":
        from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

        tok = Tokenizer13a()
        split = lambda s: tok(s).split()  # noqa: E731
    else:
        split = str.split
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [
            sentence_bleu([split(r) for r in rs], split(p), smoothing_function=smooth)
            for p, rs in zip(preds, refs, strict=True)
        ]
    assert values.tolist() == pytest.approx(expected, abs=1e-12)


def test_bleu_nltk_options():
    with pytest.raises(MetricError, match="smoothing"):
        create_metric("bleu_nltk:smoothing=method6")
    metric = create_metric("bleu_nltk:max_order=2,lowercase=true")
    assert metric.example_values(["The cat"], [["the cat"]])[0, 0] == pytest.approx(1.0)
