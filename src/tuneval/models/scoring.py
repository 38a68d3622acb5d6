"""Tokenising a context with its continuations for log-likelihood scoring.

Both local backends (llama.cpp, Hugging Face) score the way lm-evaluation-harness does, so
that benchmark numbers agree with it item by item: trailing whitespace of the context moves
to the front of each continuation, the continuation's tokens are those of ``context +
continuation`` past the context's own tokens, and the model reads the context tokens
followed by the continuation tokens. The context is then shared by all continuations:
evaluated once, with single-token continuations read from its last position.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuneval.models.base import Message

Encode = Callable[[str], list[int]]


def encode_pairs(
    encode: Encode, context: str, continuations: Sequence[str]
) -> tuple[list[int], list[list[int]]]:
    """Token ids of the shared context and of each continuation, as lm-eval encodes them.

    Args:
        encode: Text to token ids, without special tokens added.
        context: The prompt text.
        continuations: Texts scored after the prompt.

    Returns:
        ``(context_ids, [continuation_ids, ...])``. When the context ends in whitespace,
        that whitespace is scored as part of every continuation (lm-eval's
        ``_encode_pair``), so the shared context is the stripped one.
    """
    stripped = context.rstrip()
    ctx = encode(stripped)
    # The whole text is unchanged, only the boundary moves: "Answer: " + "A" is scored as
    # "Answer:" + " A", the way the model saw it in the few-shot examples.
    conts = [encode(context + continuation)[len(ctx) :] for continuation in continuations]
    return ctx, conts


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LocalScoring:
    """The log-likelihood methods of a local backend (llama.cpp, Hugging Face).

    Scoring runs on a worker thread (the event loop stays free) and holds the backend's
    ``_lock`` (one model, one computation at a time). The backend provides ``render`` and
    ``_score_text(prompt, continuations, plain)``, where ``plain`` is true for plain text (the
    tokenizer adds the model's start token, as lm-eval encodes) and false for a rendered chat
    template, which already has it.
    """

    _lock: threading.Lock

    def render(self, context: Sequence[Message]) -> str:
        """The conversation as the model's chat template writes it."""
        raise NotImplementedError

    def _score_text(self, prompt: str, continuations: Sequence[str], plain: bool, /) -> list[float]:
        raise NotImplementedError

    def _loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        with self._lock:
            return self._score_text(self.render(context), continuations, False)

    async def loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        """Sum of token log-probabilities of each continuation after the templated context."""
        return await asyncio.to_thread(self._loglikelihood, context, continuations)

    def _loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        with self._lock:
            return self._score_text(prompt, continuations, True)

    async def loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Sum of token log-probabilities of each continuation after the plain ``prompt``."""
        return await asyncio.to_thread(self._loglikelihood_text, prompt, continuations)
