r"""The answer letter of a generated MMLU reply, strictly: an unclear reply is unscored.

A reply is read as letter X only where it says X in a form that means "my answer is X":

* the whole reply is the letter: ``C``, ``(C)``, ``C.``, ``**C**``;
* the reply starts with the letter followed by ``)``, ``.``, ``:`` or a space: ``C) ...``,
  ``C. because ...``, ``(C) ...``;
* an answer phrase: ``answer is C``, ``answer is (C)``, ``answer: C``, ``Answer is: **C**``
  (the word "answer" in any case).

The letter itself must be an uppercase A-D: a lowercase "a" is almost always the English
article ("The answer is a bit unclear"), and so is a reply opening with "A " then a
lowercase word ("A good choice here is D"). When these patterns find no letter, or two
different ones ("A: the answer is D"), the reply is *unscored* with its reason: it counts
neither right nor wrong, the same rule as an unparseable judge reply. The answer phrases
are those of common "answer is (X)" / ``Answer: X`` regex filters (e.g. simple-evals'
``Answer\s*:\s*([A-D])``). A bare letter elsewhere in the text does not count: reading the
first standalone A-D graded prose such as "a good choice here is D" as A.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHOLE = re.compile(r"\(?([ABCD])\)?[.:)]?")
"""The whole reply (stripped of spaces and ``*``) is the letter."""
_START = re.compile(r"\(?([ABCD])(?:[).:]|(\s+)|$)")
"""The reply (stripped) opens with the letter and a delimiter."""
_PHRASE = re.compile(r"(?i:answer)\s*(?:(?i:is)\s*:?|:)\s*\**\s*\(?([ABCD])(?![A-Za-z0-9])")
"""An answer phrase: ``answer is (X)``, ``answer: X``."""


@dataclass(frozen=True)
class LetterReading:
    """What a reply says its answer is."""

    letter: str | None
    """The letter (A-D), or None when the reply is unscored."""
    reason: str | None = None
    """Why there is no letter: ``no answer letter`` or ``ambiguous: A, D``."""


def read_letter(text: str) -> LetterReading:
    """The answer letter of ``text``, or the reason it has none (see the module docstring)."""
    body = text.strip().strip("*").strip()
    whole = _WHOLE.fullmatch(body)
    if whole:
        return LetterReading(whole.group(1))
    found = [m.group(1) for m in _PHRASE.finditer(body)]
    start = _START.match(body)
    if start and not _is_article(body, start):
        found.insert(0, start.group(1))
    letters = sorted(set(found))
    if not letters:
        return LetterReading(None, "no answer letter")
    if len(letters) > 1:
        return LetterReading(None, f"ambiguous: {', '.join(letters)}")
    return LetterReading(letters[0])


def _is_article(body: str, start: re.Match[str]) -> bool:
    """``A`` then a space then a lowercase word: the article, not an answer."""
    rest = body[start.end() :]
    return start.group(1) == "A" and start.group(2) is not None and rest[:1].islower()


def extract_letter(text: str) -> str | None:
    """The answer letter of ``text`` (None when unscored: absent or ambiguous)."""
    return read_letter(text).letter
