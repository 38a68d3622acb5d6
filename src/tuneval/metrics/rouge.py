"""ROUGE-N, ROUGE-L and ROUGE-Lsum, score for score identical to Google's ``rouge-score``.

``rouge-score`` spends its time in pure-Python loops over tokens (tokenising and stemming
every occurrence, n-gram Counters, LCS tables, union-LCS backtracking). Here Python only
lowercases each text; a numba kernel splits the batch into tokens and numbers the distinct
token types, Python stems and maps each *type* once (cached across batches), and all counting
and dynamic programming runs in numba kernels over flat integer arrays
(`tuneval.metrics._rouge_kernels`). The arithmetic mirrors ``rouge-score`` 0.1.2 step by step,
so the scores are equal to the last bit, not merely close.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from itertools import chain

import numpy as np
from numpy.typing import NDArray

from tuneval.errors import MetricError
from tuneval.metrics.base import FloatArray, MeanMetric, register_metric

DEFAULT_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# rouge-score accepts rouge1 .. rouge9 ("rouge[0-9]$", with rouge0 rejected), rougeL, rougeLsum.
_TYPE_RE = re.compile(r"rouge[1-9]|rougeL|rougeLsum")
_VALID_TOKEN = re.compile(r"[a-z0-9]+")
_DROP = -1


class _Vocabulary(dict[str, int]):
    """Token type -> id of its (stemmed) form, kept across batches.

    A miss runs `__missing__`, so each type is stemmed once, ever; later batches hit the dict.
    Forms share ids, so ``runs`` and ``running`` get one id when stemming.
    """

    def __init__(self, stem: Callable[[str], str] | None) -> None:
        super().__init__()
        self._stem = stem
        self.forms: dict[str, int] = {}

    def __missing__(self, token: str) -> int:
        form = token
        # rouge-score stems only tokens longer than 3 characters, then drops any token that
        # is no longer [a-z0-9]+ (NLTK's stemmer could, in principle, return such a form).
        if self._stem is not None and len(token) > 3:
            form = self._stem(token)
        valid = _VALID_TOKEN.fullmatch(form) is not None
        ident = self.forms.setdefault(form, len(self.forms)) if valid else _DROP
        self[token] = ident
        return ident


@dataclass(frozen=True)
class _Encoded:
    """A batch of texts as flat token ids (see `_rouge_kernels.score_examples`)."""

    tokens: NDArray[np.int32]
    starts: NDArray[np.bool_]
    offsets: NDArray[np.int64]


def _encode(texts: Sequence[str], vocab: _Vocabulary) -> _Encoded:
    """Tokenises ``texts`` exactly like rouge-score, as ids of (stemmed) forms.

    rouge-score lowercases, replaces ``[^a-z0-9]+`` by a space and splits, so its tokens are
    the maximal ``[a-z0-9]`` runs of the lowercased text. Lowercasing comes first (the Kelvin
    sign becomes ``k``); then any non-ASCII character is a separator, so it may as well be
    ``?``, and a numba kernel can split plain bytes. Python then sees each distinct type once.
    """
    from tuneval.metrics import _rouge_kernels as kernels

    blobs = [text.lower().encode("ascii", "replace") for text in texts]
    byte_offsets = np.zeros(len(blobs) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, blobs), np.int64, len(blobs)), out=byte_offsets[1:])
    data = b"".join(blobs)
    types, starts, offsets, spans = kernels.tokenize(np.frombuffer(data, np.uint8), byte_offsets)
    names = [data[s:e].decode("ascii") for s, e in spans.tolist()]
    forms = np.fromiter(map(vocab.__getitem__, names), np.int32, len(names))
    tokens = forms[types]
    if forms.size and forms.min() < 0:
        return _drop_invalid(tokens, starts, offsets)
    return _Encoded(tokens, starts, offsets)


def _drop_invalid(
    tokens: NDArray[np.int32], starts: NDArray[np.bool_], offsets: NDArray[np.int64]
) -> _Encoded:
    """Removes tokens whose stem is not ``[a-z0-9]+``, keeping sentence and text bounds."""
    keep = tokens >= 0
    # Each text's first token starts a sentence, so sentence numbers never span two texts.
    sentence = np.cumsum(starts)[keep]
    text_of = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))[keep]
    new_starts = np.ones(int(keep.sum()), np.bool_)
    new_starts[1:] = sentence[1:] != sentence[:-1]
    new_offsets = np.zeros_like(offsets)
    np.cumsum(np.bincount(text_of, minlength=offsets.size - 1), out=new_offsets[1:])
    return _Encoded(tokens[keep], new_starts, new_offsets)


def _parse_types(rouge_types: Iterable[str] | str) -> tuple[str, ...]:
    """Validates ROUGE types and puts them in canonical order (rougeN by n, rougeL, rougeLsum).

    Raises:
        MetricError: An unknown type, or no type at all.
    """
    names = rouge_types.split("+") if isinstance(rouge_types, str) else list(rouge_types)
    names = [name.strip() for name in names]
    bad = [name for name in names if not _TYPE_RE.fullmatch(name)]
    if bad or not names:
        raise MetricError(
            f"invalid ROUGE type(s) {', '.join(map(repr, bad)) or '(none given)'}; valid types "
            "are rouge1 ... rouge9 (n-gram overlap), rougeL (LCS) and rougeLsum (summary-level "
            "LCS over newline-separated sentences), e.g. rouge_types=rouge1+rougeL"
        )
    # rougeN by n first; "rougeL" (6 characters) sorts before "rougeLsum" (9) by length.
    return tuple(
        sorted(set(names), key=lambda t: (0, int(t[5:])) if t[5:].isdigit() else (1, len(t)))
    )


def _library_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


@register_metric
class Rouge(MeanMetric):
    """ROUGE F-measures (optionally precision and recall), identical to ``rouge-score``.

    Each example is scored against every reference and, for each ROUGE type on its own, the
    reference with the highest F-measure supplies the values (``RougeScorer.score_multi``);
    an example without references scores 0. Values are on the 0-1 scale.

    Args:
        use_stemmer: Porter-stem tokens longer than 3 characters (NLTK's stemmer, as
            ``rouge-score`` does).
        rouge_types: Any of ``rouge1`` ... ``rouge9``, ``rougeL`` and ``rougeLsum``; a tuple,
            or one string joined by ``+`` (``rouge_types=rouge1+rougeL`` in a spec string).
        precision_recall: Also report ``<type>_precision`` and ``<type>_recall``.

    Raises:
        MetricError: An invalid ROUGE type.
    """

    name = "rouge"
    description = "ROUGE-1/2/L/Lsum F-measure (max over references), identical to rouge-score"

    def __init__(
        self,
        *,
        use_stemmer: bool = False,
        rouge_types: tuple[str, ...] | str = DEFAULT_TYPES,
        precision_recall: bool = False,
    ) -> None:
        self.use_stemmer = use_stemmer
        self.rouge_types = _parse_types(rouge_types)
        self.precision_recall = precision_recall
        # Kept across calls: stems and ids of token types already seen are reused.
        self._vocab: _Vocabulary | None = None

    @property
    def score_names(self) -> list[str]:
        """F-measures named by type, then ``_precision`` and ``_recall`` pairs if asked for."""
        names = list(self.rouge_types)
        if self.precision_recall:
            names += [f"{t}_{part}" for t in self.rouge_types for part in ("precision", "recall")]
        return names

    def _vocabulary(self) -> _Vocabulary:
        if self._vocab is None:
            stem = None
            if self.use_stemmer:
                from nltk.stem import porter  # rouge-score's stemmer, in its default mode

                stem = porter.PorterStemmer().stem
            self._vocab = _Vocabulary(stem)
        return self._vocab

    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-example scores, columns in `score_names` order.

        Raises:
            MetricError: When there are not as many reference lists as predictions.
        """
        if len(predictions) != len(references):
            raise MetricError(
                f"rouge got {len(predictions)} predictions but {len(references)} reference "
                "lists; give one list of references per prediction"
            )
        from tuneval.metrics import _rouge_kernels  # numba is imported only to compute

        vocab = self._vocabulary()
        n_refs = np.fromiter(map(len, references), np.int64, len(references))
        encoded = _encode([*predictions, *chain.from_iterable(references)], vocab)
        ref_offsets = np.zeros(len(references) + 1, np.int64)
        np.cumsum(n_refs, out=ref_offsets[1:])
        orders = np.array([int(t[5:]) for t in self.rouge_types if t[5:].isdigit()], np.int64)
        scores = _rouge_kernels.score_examples(
            encoded.tokens,
            encoded.starts,
            encoded.offsets,
            np.arange(len(predictions), dtype=np.int64),
            np.arange(len(predictions), len(predictions) + int(ref_offsets[-1]), dtype=np.int64),
            ref_offsets,
            orders,
            "rougeL" in self.rouge_types,
            "rougeLsum" in self.rouge_types,
            len(vocab.forms),
        )
        columns = [scores[:, :, 2]]
        if self.precision_recall:
            columns.append(scores[:, :, :2].reshape(len(predictions), 2 * len(self.rouge_types)))
        return np.ascontiguousarray(np.hstack(columns), dtype=np.float64)

    def signature_fields(self) -> dict[str, str]:
        """Types, stemming, tokeniser and the versions of ``rouge-score`` and NLTK."""
        return {
            "types": "+".join(self.rouge_types),
            "stem": "yes" if self.use_stemmer else "no",
            "tok": "rouge-score-default",
            "rouge_score_version": _library_version("rouge-score"),
            "nltk": _library_version("nltk"),
        }
