"""Text normalisation shared by exact match and token F1 (SQuAD conventions)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", flags=re.UNICODE)


@dataclass(frozen=True)
class Normalizer:
    """Configurable answer normalisation; each step is off unless enabled.

    The steps run in SQuAD's order: lowercase, punctuation removal (ASCII punctuation, as in
    SQuAD's evaluation script), article removal (English ``a``/``an``/``the``), whitespace
    collapsing, and finally stripping.
    """

    strip: bool = True
    lowercase: bool = False
    punctuation: bool = False
    articles: bool = False
    whitespace: bool = False

    def __call__(self, text: str) -> str:
        """Normalise ``text``."""
        if self.lowercase:
            text = text.lower()
        if self.punctuation:
            text = text.translate(_PUNCTUATION)
        if self.articles:
            text = _ARTICLES.sub(" ", text)
        if self.whitespace:
            text = " ".join(text.split())
        if self.strip:
            text = text.strip()
        return text

    def describe(self) -> str:
        """Short signature form, e.g. ``strip+lower+punct``."""
        flags = [
            ("strip", self.strip),
            ("lower", self.lowercase),
            ("punct", self.punctuation),
            ("articles", self.articles),
            ("ws", self.whitespace),
        ]
        return "+".join(name for name, on in flags if on) or "none"


SQUAD = Normalizer(strip=True, lowercase=True, punctuation=True, articles=True, whitespace=True)
"""The normalisation of SQuAD's official evaluation script."""
