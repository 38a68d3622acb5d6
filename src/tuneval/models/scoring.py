"""Tokenising a context with its continuations for log-likelihood scoring.

Both local backends (llama.cpp, Hugging Face) score the way lm-evaluation-harness does, so
that benchmark numbers agree with it item by item: trailing whitespace of the context moves
to the front of each continuation, the continuation's tokens are those of ``context +
continuation`` past the context's own tokens, and the model reads the context tokens
followed by the continuation tokens. The context is then shared by all continuations:
evaluated once, with single-token continuations read from its last position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
