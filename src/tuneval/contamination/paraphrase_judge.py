"""Confirm semantic contamination candidates with an LLM judge (the LLM Decontaminator step).

Each (eval item, training text) pair found by `semantic_scan` goes to the judge with a prompt
that asks whether the training text rephrases or restates the item, counting the same
question with other numbers or names as a rephrasing. The reply is a JSON object with a
verdict and a reason; a reply that does not parse is retried a bounded number of times and
then left *unscored* (no verdict), never guessed. Calls go through the judge machinery, so
the call cache makes a rerun free.
"""

from __future__ import annotations

from typing import Any

from tuneval.contamination.semantic import SemanticMatch, SemanticReport
from tuneval.judge.engine import Final, judge_all
from tuneval.judge.parse import ParseFailure, json_objects
from tuneval.models.base import Decoding, ModelBackend, Request
from tuneval.models.runner import CallOptions

PROMPT = """You check an evaluation set for contamination of a model's training data.

Decide whether the TRAINING TEXT is a rephrasing or restatement of the EVAL ITEM: the same \
question or task in other words (reordered clauses, synonyms), the same question with \
different numbers or names, a translation, or a copy with small edits. A text that is only \
about the same topic, or asks a different question, is not a rephrasing.

EVAL ITEM:
{eval_text}

TRAINING TEXT:
{train_text}

Reply with only a JSON object: {{"verdict": "rephrasing" or "different", "reason": "one \
short sentence"}}"""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["rephrasing", "different"]},
        "reason": {"type": "string"},
    },
    "required": ["verdict", "reason"],
}

_YES = {"rephrasing", "paraphrase", "restatement", "yes", "true", "contaminated", "same"}
_NO = {"different", "no", "false", "not_rephrasing", "unrelated", "clean"}


def parse_verdict(text: str) -> tuple[bool, str | None]:
    """(is a rephrasing, reason) from the last JSON object with a ``verdict``.

    Raises:
        ParseFailure: No such object, or a verdict that is neither yes nor no.
    """
    for obj in reversed(json_objects(text)):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        if "verdict" not in lowered:
            continue
        value = lowered["verdict"]
        word = str(value).strip().lower().replace(" ", "_") if value is not None else ""
        reason = lowered.get("reason")
        reason = None if reason is None else str(reason)
        if value is True or word in _YES:
            return True, reason
        if value is False or word in _NO:
            return False, reason
        raise ParseFailure(f'verdict {value!r} is neither "rephrasing" nor "different"')
    raise ParseFailure('no JSON object with a "verdict" field')


def pair_request(eval_text: str, train_text: str, max_tokens: int = 200) -> Request:
    """The judge request for one candidate pair (greedy, with the JSON schema)."""
    prompt = PROMPT.format(eval_text=eval_text, train_text=train_text)
    return Request.from_prompt(
        prompt, Decoding(temperature=0.0, max_tokens=max_tokens), json_schema=SCHEMA
    )


def judge_matches(
    report: SemanticReport,
    judge: ModelBackend,
    *,
    cache: object | None = None,
    max_attempts: int = 2,
    options: CallOptions | None = None,
) -> SemanticReport:
    """Ask `judge` about every match of `report`; return the report with the verdicts.

    Args:
        report: A `semantic_scan` result.
        judge: The judge model (any backend).
        cache: The call cache (`tuneval.models.cache.CallCache`), so reruns cost nothing.
        max_attempts: Calls per pair at most; an unusable last reply leaves it unscored.
        options: Concurrency and timeouts.
    """
    from tuneval.models.loop import run_sync

    pairs = [(i, j) for i, ex in enumerate(report.examples) for j in range(len(ex.matches))]
    requests = [
        pair_request(report.examples[i].text, report.examples[i].matches[j].text) for i, j in pairs
    ]
    outcomes: dict[int, Final[tuple[bool, str | None]]] = {}

    def final(index: int, outcome: Final[tuple[bool, str | None]]) -> None:
        outcomes[index] = outcome

    run_sync(
        judge_all(judge, requests, parse_verdict, final, max_attempts=max_attempts,
                  options=options, cache=cache)
    )  # fmt: skip
    updated = {pair: _judged(report, pair, outcomes[k]) for k, pair in enumerate(pairs)}
    examples = [
        ex.model_copy(update={"matches": [updated[(i, j)] for j in range(len(ex.matches))]})
        for i, ex in enumerate(report.examples)
    ]
    return report.model_copy(
        update={
            "examples": examples,
            "judge": judge.name,
            "confirmed": sum(e.confirmed for e in examples),
            "unscored": sum(m.unscored for e in examples for m in e.matches),
        }
    )


def _judged(
    report: SemanticReport, pair: tuple[int, int], outcome: Final[tuple[bool, str | None]]
) -> SemanticMatch:
    match = report.examples[pair[0]].matches[pair[1]]
    if outcome.verdict is None:
        return match.model_copy(
            update={"verdict": None, "reason": outcome.reason, "unscored": True}
        )
    verdict, reason = outcome.verdict
    return match.model_copy(update={"verdict": verdict, "reason": reason, "unscored": False})
