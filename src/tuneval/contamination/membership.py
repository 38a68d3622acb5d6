"""Model-side membership signal: did the fine-tune see an eval item during training?

Min-K% Prob (Shi et al. 2023) scores a text by the mean log-probability of its least likely
k% of tokens: text a model was trained on has fewer surprising tokens. A fine-tune's raw
Min-K% also reflects how predictable the text is anyway, so each item is scored by the
*jump* from the base model to the fine-tune (the reference-model calibration of Carlini et al.
2021): items the fine-tune saw gain likelihood that comparable unseen items do not.

The backends give log-probabilities of a continuation after a prompt (`loglikelihood_text`,
llama.cpp and Hugging Face), so the unit here is the word: each word is scored after the
text before it, and the first word (which has no context) is not scored. Min-K%++ needs the
whole next-token distribution, which that interface does not expose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import Field

from tuneval.models.base import ModelBackend
from tuneval.records import Record


class MembershipItem(Record):
    """Scores of one eval item."""

    id: str
    """The eval example's id."""
    words: int
    """Words scored (all but the first)."""
    finetuned: float | None
    """Min-K% of the fine-tune (mean log-probability of its lowest k% words)."""
    base: float | None
    """Min-K% of the base model."""
    score: float | None
    """``finetuned - base``: higher means more likely seen in fine-tuning."""
    label: bool | None = None
    """The item's known membership, when the eval set says."""


class MembershipReport(Record):
    """Result of the membership check (``tuneval contamination --model M --base B``)."""

    model: str
    """The fine-tuned model."""
    base: str
    """The base model."""
    k: float
    """Share of the lowest-probability words averaged (Min-K%)."""
    items: list[MembershipItem] = Field(default_factory=list)
    """Every eval item, in eval-set order."""
    most_likely_seen: list[str] = Field(default_factory=list)
    """Ids of the highest-scoring items, most likely seen first (at most 10)."""
    auc: float | None = None
    """ROC AUC of `score` against the labels (when the eval set has both kinds)."""


def min_k(logprobs: Sequence[float], k: float) -> float | None:
    """Mean of the lowest ``ceil(k * n)`` values (None for no values)."""
    if not logprobs:
        return None
    count = max(1, math.ceil(k * len(logprobs)))
    return sum(sorted(logprobs)[:count]) / count


async def word_logprobs(backend: ModelBackend, text: str) -> list[float]:
    """Log-probability of each word after the text before it (the first word is skipped)."""
    words = text.split()
    out: list[float] = []
    for i in range(1, len(words)):
        (value,) = await backend.loglikelihood_text(" ".join(words[:i]), [" " + words[i]])
        out.append(float(value))
    return out


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """ROC AUC (Mann-Whitney, ties count half); None unless both classes are present."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def membership(
    ids: list[str],
    texts: list[str],
    model: ModelBackend,
    base: ModelBackend,
    *,
    k: float = 0.2,
    labels: list[bool | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> MembershipReport:
    """Score every eval text under the fine-tune and the base (see the module docstring).

    Args:
        ids: Eval item ids.
        texts: Eval item texts.
        model: The fine-tuned model (a backend with log-likelihoods).
        base: Its base model.
        k: Share of lowest-probability words averaged (0.2 as in the Min-K% paper).
        labels: Known membership per item (None where unknown), for the AUC.
        progress: Called with the number of items done.

    Raises:
        BackendError: A backend cannot give log-probabilities.
    """
    from tuneval.models.loop import run_sync

    async def score_all() -> list[MembershipItem]:
        items = []
        for i, (ex_id, text) in enumerate(zip(ids, texts, strict=True)):
            tuned, ref = await word_logprobs(model, text), await word_logprobs(base, text)
            mt, mb = min_k(tuned, k), min_k(ref, k)
            label = labels[i] if labels else None
            score = None if mt is None or mb is None else round(mt - mb, 6)
            items.append(MembershipItem(id=ex_id, words=len(tuned), finetuned=mt, base=mb,
                                        score=score, label=label))  # fmt: skip
            if progress:
                progress(i + 1)
        return items

    items = run_sync(score_all())
    scored = [it for it in items if it.score is not None]
    ranked = sorted(scored, key=lambda it: -(it.score or 0.0))
    known = [it for it in scored if it.label is not None]
    return MembershipReport(
        model=model.name,
        base=base.name,
        k=k,
        items=items,
        most_likely_seen=[it.id for it in ranked[:10]],
        auc=auc([it.score or 0.0 for it in known], [bool(it.label) for it in known]),
    )
