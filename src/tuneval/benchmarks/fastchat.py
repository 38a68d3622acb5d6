"""FastChat's MT-Bench judging protocol (``fastchat/llm_judge``), restated.

The eight judge templates come from the benchmark's own ``judge_prompts.jsonl``; prompts are
filled exactly as ``run_judge_single``/``run_judge_pair`` fill them (``str.format`` with the
same keys; turn 2 sees both questions and both answers, reference-guided turn 2 sees both
reference answers); the judge is called once per item with temperature 0 and 2048 tokens;
replies are parsed with FastChat's patterns (first ``[[x]]``, else first ``[x]``, floats
allowed; pairwise ``[[A]]`` before ``[[B]]`` before ``[[C]]``); an unparseable reply is
excluded (score -1, verdict ``error``) rather than retried.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path
from typing import Literal

from tuneval.benchmarks._files import field, iter_json_records
from tuneval.errors import DataError
from tuneval.models.base import Decoding, Message, Request
from tuneval.records import Record

NEED_REF_CATS = ("math", "reasoning", "coding", "arena-hard-200")
"""Categories judged against a reference answer (FastChat's ``NEED_REF_CATS``)."""
JUDGE_MAX_TOKENS = 2048
"""FastChat's judge budget (``chat_completion_openai(..., max_tokens=2048)``)."""
TIE_DELTA = 0.1
"""Two ratings closer than this are a tie (``[[rating_a,rating_b]]`` format)."""
PROMPTS_FILE = "judge_prompts.jsonl"

_ONE = re.compile(r"\[\[(\d+\.?\d*)\]\]")
_ONE_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")
_TWO = re.compile(r"\[\[(\d+\.?\d*),\s?(\d+\.?\d*)\]\]")
_TWO_BACKUP = re.compile(r"\[(\d+\.?\d*),\s?(\d+\.?\d*)\]")

Winner = Literal["A", "B", "tie", "error"]


class JudgeTemplate(Record):
    """One line of FastChat's ``judge_prompts.jsonl``."""

    name: str
    """e.g. ``single-v1``, ``pair-math-v1-multi-turn``."""
    type: Literal["single", "pairwise"]
    """Single grading or pairwise comparison."""
    system_prompt: str
    """The judge's system message."""
    prompt_template: str
    """The user message, a ``str.format`` template."""
    output_format: str
    """``[[rating]]``, ``[[A]]`` or ``[[rating_a,rating_b]]``."""


class JudgePrompts(Record):
    """The judge templates of a benchmark's data and where they came from."""

    templates: dict[str, JudgeTemplate]
    """Templates by name."""
    digest: str
    """First 12 hex digits of the file's SHA-256, for the signature."""

    def get(self, name: str) -> JudgeTemplate:
        """The template ``name``; a `DataError` saying what the file lacks otherwise."""
        if name not in self.templates:
            raise DataError(
                f"{PROMPTS_FILE} has no judge template '{name}' (has: "
                f"{', '.join(sorted(self.templates))}); use FastChat's file"
            )
        return self.templates[name]


def find_judge_prompts(data: Path | None) -> Path:
    """``judge_prompts.jsonl`` next to the questions or one folder up (FastChat's layout)."""
    if data is None:
        raise DataError(
            "the FastChat protocol reads the judge templates from judge_prompts.jsonl; pass "
            "--data DIR (FastChat's data/mt_bench with judge_prompts.jsonl beside it) or use "
            "--protocol tuneval"
        )
    folder = data if data.is_dir() else data.parent
    for candidate in (folder / PROMPTS_FILE, folder.parent / PROMPTS_FILE):
        if candidate.exists():
            return candidate
    raise DataError(
        f"no {PROMPTS_FILE} in {folder} or its parent; copy FastChat's "
        "fastchat/llm_judge/data/judge_prompts.jsonl there or use --protocol tuneval"
    )


def load_judge_prompts(path: Path) -> JudgePrompts:
    """The templates of a ``judge_prompts.jsonl`` file, by name."""
    templates: dict[str, JudgeTemplate] = {}
    for line, obj in iter_json_records(path):
        fields = {
            key: field(obj, key, str, path, line)
            for key in ("name", "type", "system_prompt", "prompt_template", "output_format")
        }
        if fields["type"] not in ("single", "pairwise"):
            raise DataError("type must be single or pairwise", path=path, line=line, field="type")
        templates[fields["name"]] = JudgeTemplate.model_validate(fields)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return JudgePrompts(templates=templates, digest=digest)


def template_name(kind: Literal["single", "pairwise"], category: str, multi_turn: bool) -> str:
    """The template FastChat's ``gen_judgment`` picks for a question and turn."""
    math = category in NEED_REF_CATS
    if kind == "single":
        name = "single-math-v1" if math else "single-v1"
    else:
        name = "pair-math-v1" if math else "pair-v2"
    return f"{name}-multi-turn" if multi_turn else name


def _ref_kwargs(references: tuple[str, ...] | None, multi_turn: bool) -> dict[str, str]:
    if references is None:
        return {}
    kwargs = {"ref_answer_1": references[0]}
    if multi_turn:
        kwargs["ref_answer_2"] = references[1]
    return kwargs


def render_single(
    template: JudgeTemplate,
    questions: tuple[str, str],
    answers: tuple[str, str],
    references: tuple[str, ...] | None,
    multi_turn: bool,
) -> str:
    """The user prompt of ``run_judge_single``."""
    return _render(template, questions, {"": answers}, references, multi_turn)


def render_pair(
    template: JudgeTemplate,
    questions: tuple[str, str],
    answers_a: tuple[str, str],
    answers_b: tuple[str, str],
    references: tuple[str, ...] | None,
    multi_turn: bool,
) -> str:
    """The user prompt of ``run_judge_pair`` (A shown first)."""
    return _render(template, questions, {"_a": answers_a, "_b": answers_b}, references, multi_turn)


def _render(
    template: JudgeTemplate,
    questions: tuple[str, str],
    sides: dict[str, tuple[str, str]],
    references: tuple[str, ...] | None,
    multi_turn: bool,
) -> str:
    """The template filled as FastChat fills it (``str.format`` with the same keys).

    One turn: ``question`` and ``answer{side}``; both turns: ``question_1``, ``question_2``,
    ``answer{side}_1`` and ``answer{side}_2``; ``side`` is empty (single) or ``_a``/``_b``.
    """
    kwargs = _ref_kwargs(references, multi_turn)
    if multi_turn:
        kwargs |= {"question_1": questions[0], "question_2": questions[1]}
        for side, answers in sides.items():
            kwargs |= {f"answer{side}_1": answers[0], f"answer{side}_2": answers[1]}
    else:
        kwargs["question"] = questions[0]
        kwargs |= {f"answer{side}": answers[0] for side, answers in sides.items()}
    return template.prompt_template.format(**kwargs)


def judge_request(template: JudgeTemplate, user_prompt: str, example_id: str) -> Request:
    """The judge call: the template's system message, the prompt, greedy, 2048 tokens."""
    return Request(
        messages=(
            Message(role="system", content=template.system_prompt),
            Message(role="user", content=user_prompt),
        ),
        decoding=Decoding(temperature=0.0, max_tokens=JUDGE_MAX_TOKENS),
        example_id=example_id,
    )


def parse_rating(judgment: str) -> float:
    """FastChat's single rating: first ``[[x]]``, else first ``[x]``; -1 when neither."""
    match = _ONE.search(judgment) or _ONE_BACKUP.search(judgment)
    if match is None:
        return -1
    return float(ast.literal_eval(match.group(1)))


def parse_winner(judgment: str, output_format: str = "[[A]]") -> Winner:
    """FastChat's pairwise verdict by position (``error`` when none is found).

    ``[[A]]`` is looked for first, then ``[[B]]``, then ``[[C]]`` (tie), anywhere in the
    reply; with ``[[rating_a,rating_b]]`` the first pair of ratings decides (tie within 0.1).
    """
    if output_format == "[[rating_a,rating_b]]":
        match = _TWO.search(judgment) or _TWO_BACKUP.search(judgment)
        if match is None:
            return "error"
        a, b = (float(ast.literal_eval(s.strip())) for s in match.groups())
        return "tie" if abs(a - b) <= TIE_DELTA else ("A" if a > b else "B")
    for token, verdict in (("[[A]]", "A"), ("[[B]]", "B"), ("[[C]]", "tie")):
        if token in judgment:
            return verdict  # type: ignore[return-value]
    return "error"


def combine(g1: Winner, g2: Winner) -> Literal["a", "b", "tie"] | None:
    """One item's result from both orders, as FastChat's ``show_result`` counts it.

    ``g1`` has model a shown first, ``g2`` model b first. An error in either order
    excludes the item (None); a tie or disagreeing orders count as a tie.
    """
    if g1 == "error" or g2 == "error":
        return None
    first = {"A": "a", "B": "b", "tie": "tie"}[g1]
    second = {"A": "b", "B": "a", "tie": "tie"}[g2]
    if first == "tie" or first != second:
        return "tie"
    return "a" if first == "a" else "b"
