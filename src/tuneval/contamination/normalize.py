"""Text normalisation shared by the eval index, the compiled scanner and the verifier.

Following the GPT-3 contamination study (Brown et al., 2020, appendix C): text is lowercased,
punctuation is stripped and the rest is split on whitespace. Concretely a *token* is a maximal
run of characters after ``str.lower()`` that are none of

- ASCII characters other than ``a-z`` and ``0-9`` (whitespace, punctuation, control),
- U+0080-U+00BF (Latin-1 punctuation and symbols, no-break space),
- U+2000-U+206F (general punctuation: dashes, curly quotes, special spaces),
- U+3000-U+303F (CJK punctuation and the ideographic space).

So ``"Hello, World!"`` and ``"hello world"`` give the same tokens, and an n-gram is n
consecutive tokens of one record. The compiled scanner applies the same rule to UTF-8 bytes
(`tuneval.contamination._kernels`); `tokens` is the reference that every match is verified on.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\x00-\x2f\x3a-\x60\x7b-\xbf\u2000-\u206f\u3000-\u303f]+")


def normalize(text: str) -> str:
    """Lowercase `text` (the first step; the scanner then works on its UTF-8 bytes)."""
    return text.lower()


def tokens(text: str) -> list[str]:
    """The normalised tokens of `text`, e.g. ``tokens("Don't stop!") == ["don", "t", "stop"]``."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]
