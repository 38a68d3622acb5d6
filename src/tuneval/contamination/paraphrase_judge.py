"""Confirm semantic contamination candidates with an LLM judge (the LLM Decontaminator step).

Each (eval item, training text) pair found by `semantic_scan` goes to the judge with a prompt
that asks whether the training text rephrases or restates the item, counting the same
question with other numbers or names as a rephrasing. The reply is a JSON object with a
verdict and a reason; a reply that does not parse is retried a bounded number of times and
then left *unscored* (no verdict), never guessed. Calls go through the judge machinery, so
the call cache makes a rerun free.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tuneval.contamination.semantic import SemanticReport
from tuneval.judge.engine import Final, judge_all
from tuneval.judge.parse import ParseFailure, json_objects
from tuneval.models.base import Decoding, ModelBackend, Request
from tuneval.models.runner import CallOptions
from tuneval.records import Record

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


VERDICTS_FILE = "paraphrase_verdicts.jsonl"
"""The workflow's per-pair verdict log in the run directory (`judge_matches`'s `verdicts`)."""


class PairVerdict(Record):
    """The judge's verdict on one (eval item, training record) pair: one line of the log."""

    id: str
    """The eval item's id."""
    found_in: str
    """Where the training record is (``file:line`` or ``file record N``)."""
    similarity: float
    """Cosine similarity of the pair."""
    verdict: bool | None
    """True: a rephrasing of the item; False: not; None: unscored."""
    reason: str | None
    """The judge's reason, or why its reply could not be used."""
    unscored: bool
    """The reply could not be parsed, or the call failed."""
    judge: str
    """The judge model."""
    raw: str | None = None
    """The judge's last reply, as it came."""
    key: str
    """Hash of the judge and the exact prompt: a verdict is reused only for the same question."""


def pair_key(judge: str, request: Request) -> str:
    """What identifies a judged pair: the judge model and the full prompt it was asked."""
    text = json.dumps([judge, [m.content for m in request.messages]], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_verdicts(path: Path) -> dict[str, PairVerdict]:
    """The scored verdicts of a log (unscored ones are asked again).

    A line that does not parse (the last one, when a run was killed while writing it) is
    left out: that pair is simply judged again.
    """
    known: dict[str, PairVerdict] = {}
    if not path.exists():
        return known
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            verdict = PairVerdict.model_validate_json(line)
        except ValueError:
            continue
        if not verdict.unscored:
            known[verdict.key] = verdict
    return known


def judge_matches(
    report: SemanticReport,
    judge: ModelBackend,
    *,
    cache: object | None = None,
    max_attempts: int = 2,
    options: CallOptions | None = None,
    verdicts: Path | None = None,
) -> SemanticReport:
    """Ask `judge` about every match of `report`; return the report with the verdicts.

    Args:
        report: A `semantic_scan` result.
        judge: The judge model (any backend).
        cache: The call cache (`tuneval.models.cache.CallCache`), so reruns cost nothing.
        max_attempts: Calls per pair at most; an unusable last reply leaves it unscored.
        options: Concurrency and timeouts.
        verdicts: A JSONL log of `PairVerdict`: pairs it already holds a verdict for (same
            judge, same prompt) are not asked again, and each new verdict is appended as soon
            as it arrives, so a run killed while judging resumes where it stopped.
    """
    from tuneval.models.loop import run_sync

    pairs = [(i, j) for i, ex in enumerate(report.examples) for j in range(len(ex.matches))]
    requests = [
        pair_request(report.examples[i].text, report.examples[i].matches[j].text) for i, j in pairs
    ]
    keys = [pair_key(judge.name, r) for r in requests]
    known = read_verdicts(verdicts) if verdicts is not None else {}
    found: dict[int, PairVerdict] = {k: known[key] for k, key in enumerate(keys) if key in known}
    ask = [k for k in range(len(pairs)) if k not in found]
    log = open(verdicts, "a", encoding="utf-8") if verdicts is not None else None  # noqa: SIM115

    def final(index: int, outcome: Final[tuple[bool, str | None]]) -> None:
        k = ask[index]
        found[k] = _verdict(report, pairs[k], outcome, judge.name, keys[k])
        if log is not None:
            log.write(found[k].model_dump_json() + "\n")
            log.flush()

    try:
        run_sync(
            judge_all(judge, [requests[k] for k in ask], parse_verdict, final,
                      max_attempts=max_attempts, options=options, cache=cache)
        )  # fmt: skip
    finally:
        if log is not None:
            log.close()
    return _with_verdicts(report, pairs, found, judge.name)


def _verdict(
    report: SemanticReport,
    pair: tuple[int, int],
    outcome: Final[tuple[bool, str | None]],
    judge: str,
    key: str,
) -> PairVerdict:
    ex = report.examples[pair[0]]
    match = ex.matches[pair[1]]
    verdict, reason = (None, outcome.reason) if outcome.verdict is None else outcome.verdict
    return PairVerdict(
        id=ex.id, found_in=match.found_in, similarity=match.similarity, verdict=verdict,
        reason=reason, unscored=outcome.verdict is None, judge=judge, raw=outcome.raw, key=key,
    )  # fmt: skip


def _with_verdicts(
    report: SemanticReport,
    pairs: list[tuple[int, int]],
    found: dict[int, PairVerdict],
    judge: str,
) -> SemanticReport:
    """The report with each match's verdict, reason and unscored flag filled in."""
    matches = [list(ex.matches) for ex in report.examples]
    for k, (i, j) in enumerate(pairs):
        v = found[k]
        update = {"verdict": v.verdict, "reason": v.reason, "unscored": v.unscored}
        matches[i][j] = matches[i][j].model_copy(update=update)
    examples = [
        ex.model_copy(update={"matches": m}) for ex, m in zip(report.examples, matches, strict=True)
    ]
    return report.model_copy(
        update={
            "examples": examples,
            "judge": judge,
            "confirmed": sum(e.confirmed for e in examples),
            "unscored": sum(m.unscored for e in examples for m in e.matches),
        }
    )
