"""Default judge prompts (written for tuneval) and loading of user templates.

A template is a plain-text user message with ``{placeholders}`` filled by `str.format`:

* single scoring: ``{question}``, ``{answer}``, ``{criteria}``, ``{low}``, ``{high}``,
  ``{reference_block}`` (empty unless reference-guided);
* pairwise: ``{question}``, ``{answer_a}``, ``{answer_b}``, ``{criteria}``,
  ``{reference_block}``.

Literal braces in a template file are written ``{{`` and ``}}``.
"""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

from tuneval.errors import ConfigError

DEFAULT_CRITERIA = (
    "accuracy (is it correct and free of made-up facts?), helpfulness and relevance (does it "
    "do what was asked, without padding?), format (does it follow any requested format?), "
    "clarity (is it easy to read and understand?)"
)
"""The criteria the judge weighs unless the user states others."""

SINGLE_SYSTEM = (
    "You are a strict, impartial evaluator of AI assistant answers. You judge only the answer's "
    "quality against the stated criteria. Length is not quality: a short correct answer beats "
    "a long padded one. Reply with a single JSON object and nothing else."
)

SINGLE_TEMPLATE = """Rate the assistant's answer to the user's question.

Criteria: {criteria}
{reference_block}
Rubric (integer score from {low} to {high}):
- {low}: wrong, harmful or does not address the question.
- low scores: major errors or omissions, or the requested format is ignored.
- middle scores: partly correct or helpful, with clear problems.
- high scores: correct, helpful, well formatted and clear, with at most minor flaws.
- {high}: fully correct, as helpful as possible, exactly the requested format, very clear.

[Question]
{question}

[Answer]
{answer}

First think briefly about the criteria, then reply with JSON only:
{{"reasoning": "<one or two sentences>", "score": <integer {low}-{high}>}}"""

PAIRWISE_SYSTEM = (
    "You are a strict, impartial evaluator comparing two AI assistant answers to the same "
    "question. The order in which the answers appear must not influence you, and neither must "
    "their length or the assistants' names. Reply with a single JSON object and nothing else."
)

PAIRWISE_TEMPLATE = """Which answer to the user's question is better?

Criteria: {criteria}
{reference_block}
[Question]
{question}

[Answer A]
{answer_a}

[Answer B]
{answer_b}

Compare the answers on the criteria, then reply with JSON only:
{{"reasoning": "<one or two sentences>", "winner": "A" | "B" | "tie"}}
Use "tie" only when neither answer is better."""

REFERENCE_BLOCK = """
A reference answer is given; judge correctness against it.
[Reference answer]
{reference}
"""

SINGLE_FIELDS = frozenset({"question", "answer", "criteria", "low", "high", "reference_block"})
PAIRWISE_FIELDS = frozenset({"question", "answer_a", "answer_b", "criteria", "reference_block"})


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def load_template(path: str | Path, kind: str) -> str:
    """Read a user template file and check its placeholders.

    Args:
        path: The template file (UTF-8 text).
        kind: ``single`` or ``pairwise``.

    Raises:
        ConfigError: When the file is missing, uses an unknown placeholder, or lacks the
            answer placeholders.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"judge template {file} does not exist")
    text = file.read_text(encoding="utf-8")
    allowed = SINGLE_FIELDS if kind == "single" else PAIRWISE_FIELDS
    needed = {"answer"} if kind == "single" else {"answer_a", "answer_b"}
    try:
        found = _fields(text)
    except ValueError as exc:
        raise ConfigError(
            f"judge template {file}: {exc}; write literal braces as {{{{ }}}}"
        ) from None
    unknown = found - allowed
    if unknown:
        raise ConfigError(
            f"judge template {file} uses unknown placeholder(s) {sorted(unknown)}; "
            f"allowed: {sorted(allowed)}"
        )
    if not needed <= found:
        raise ConfigError(f"judge template {file} must contain {sorted(needed)}")
    return text


def reference_block(reference: str | None) -> str:
    """The reference section of a prompt ('' when not reference-guided)."""
    return "" if reference is None else REFERENCE_BLOCK.format(reference=reference)


def fingerprint(*parts: object) -> str:
    """Short stable hash of the settings that shape a verdict."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()
    return digest[:16]
