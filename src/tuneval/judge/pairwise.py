"""Pairwise comparison: which of two models' outputs is better, judged in both orders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from tuneval.errors import DataError
from tuneval.judge.config import PairConfig
from tuneval.judge.engine import Final
from tuneval.judge.parse import PairVerdict, pair_schema, parse_preference
from tuneval.judge.records import PairJudgment
from tuneval.judge.resume import Calls, Judging, judge_resumable
from tuneval.judge.templates import (
    PAIRWISE_SYSTEM,
    PAIRWISE_TEMPLATE,
    fingerprint,
    reference_block,
)
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.loop import synchronous
from tuneval.records import Example, Generation
from tuneval.rundir import RunDir, read_jsonl

PAIRWISE_FILE = "judge_pairwise"
"""Record file of pairwise judgments in the run directory."""

Order = Literal["ab", "ba"]


def pair_key(judge: ModelBackend, config: PairConfig) -> str:
    """Fingerprint of everything but the item that shapes a pairwise verdict."""
    return fingerprint(
        "pair",
        judge.identity(),
        PAIRWISE_SYSTEM,
        config.template or PAIRWISE_TEMPLATE,
        config.criteria,
        config.reference,
        config.max_tokens,
        config.structured,
        # Only repeated judging adds to the key, so runs without it keep their old keys.
        *((config.repeats, config.repeat_temperature) if config.repeats > 1 else ()),
    )


def pair_request(
    example: Example, first: str, second: str, config: PairConfig, repeat: int = 0
) -> Request:
    """The first-attempt request comparing ``first`` (position A) with ``second`` (B).

    With ``config.repeats`` above 1, judging ``repeat`` samples at the repeat temperature with
    seed ``repeat``, so each repeat is its own call (and its own cache entry).
    """
    user = (config.template or PAIRWISE_TEMPLATE).format(
        question=example.prompt or "",
        answer_a=first,
        answer_b=second,
        criteria=config.criteria,
        reference_block=reference_block(example.reference if config.reference else None),
    )
    return Request(
        messages=(
            Message(role="system", content=PAIRWISE_SYSTEM),
            Message(role="user", content=user),
        ),
        decoding=_decoding(config, repeat),
        json_schema=pair_schema() if config.structured else None,
    )


def _decoding(config: PairConfig, repeat: int) -> Decoding:
    if config.repeats == 1:
        return Decoding(temperature=0.0, max_tokens=config.max_tokens)
    return Decoding(
        temperature=config.repeat_temperature, seed=repeat, max_tokens=config.max_tokens
    )


_Item = tuple[Example, Generation, Generation]


def _items(run: RunDir, model_a: str, model_b: str, config: PairConfig) -> list[_Item]:
    examples = {e.id: e for e in run.examples()}
    gens: dict[str, dict[str, Generation]] = {model_a: {}, model_b: {}}
    for g in run.generations():
        if g.model in gens:
            gens[g.model][g.example_id] = g
    for model in (model_a, model_b):
        if not gens[model]:
            raise run.no_generations(model)
    items = []
    for example_id, ga in gens[model_a].items():
        gb = gens[model_b].get(example_id)
        example = examples.get(example_id)
        if gb is None or example is None:
            continue  # only items both models answered can be compared
        if config.reference and example.reference is None:
            raise DataError(
                f"example '{example_id}' has no reference; turn the judge's reference setting "
                "off, or add references",
                path=run.examples_path,
                field="references",
            )
        items.append((example, ga, gb))
    return items


_Slot = tuple[str, Order, int]
"""One judging: (example id, order, repeat)."""


def latest_pairs(
    records: list[PairJudgment], model_a: str, model_b: str, key: str
) -> dict[_Slot, PairJudgment]:
    """The last judgment of each (example, order, repeat) for one model pair and config key."""
    return {
        (r.example_id, r.order, r.repeat): r
        for r in records
        if r.model_a == model_a and r.model_b == model_b and r.config_key == key
    }


async def ajudge_pairs(
    run: RunDir,
    model_a: str,
    model_b: str,
    judge: ModelBackend,
    config: PairConfig | None = None,
    *,
    cache: CallCache | None = None,
    on_call: Callable[[], None] | None = None,
    on_item: Callable[[], None] | None = None,
) -> list[PairJudgment]:
    """Compare ``model_b`` with ``model_a`` on every shared item, in both orders; resumable.

    Each call's judgment is appended to ``judge_pairwise.jsonl`` when it is final; calls
    already made with the same settings are skipped (a rerun makes no calls).

    Returns:
        The judgments of every item and order (``ab`` then ``ba`` per item), each order's
        ``config.repeats`` judgings together.
    """
    config = config or PairConfig()
    key = pair_key(judge, config)
    path = run.record_file(PAIRWISE_FILE)
    done = latest_pairs(read_jsonl(path, PairJudgment), model_a, model_b, key)
    orders: tuple[Order, ...] = ("ab", "ba") if config.swap else ("ab",)
    slots = [(o, r) for o in orders for r in range(config.repeats)]
    wanted: list[_Slot] = []

    def judgings() -> Iterator[Judging[tuple[_Item, Order]]]:
        for item in _items(run, model_a, model_b, config):
            example, ga, gb = item
            for order, repeat in slots:
                slot = (example.id, order, repeat)
                wanted.append(slot)
                if ga.output is None or gb.output is None:
                    reason = f"a model produced no output: {ga.error or gb.error}"
                    yield Judging(slot, (item, order), repeat, None, reason)
                    continue
                first, second = (ga.output, gb.output) if order == "ab" else (gb.output, ga.output)
                request = pair_request(example, first, second, config, repeat)
                yield Judging(slot, (item, order), repeat, request)

    def make_record(
        judging: Judging[tuple[_Item, Order]], prompt: str, outcome: Final[PairVerdict]
    ) -> PairJudgment:
        item, order = judging.item
        return _record(item, order, key, judge, prompt, outcome, judging.repeat)

    await judge_resumable(
        judge,
        path,
        done,  # type: ignore[arg-type]
        lambda r: (r.example_id, r.order, r.repeat),
        judgings(),
        make_record,
        parse_preference,
        Calls(config.max_attempts, config.calls, cache, on_call, on_item),
    )
    return [done[w] for w in wanted]


judge_pairs = synchronous(
    ajudge_pairs,
    "judge_pairs",
    "Synchronous `ajudge_pairs`; inside a running event loop it runs in a worker thread.",
)


def _record(
    item: _Item,
    order: Order,
    key: str,
    judge: ModelBackend,
    prompt: str,
    outcome: Final[PairVerdict],
    repeat: int = 0,
) -> PairJudgment:
    example, ga, gb = item
    verdict = outcome.verdict
    return PairJudgment(
        example_id=example.id,
        model_a=ga.model,
        model_b=gb.model,
        order=order,
        repeat=repeat,
        judge=judge.identity(),
        config_key=key,
        prompt=prompt,
        raw=outcome.raw,
        position=None if verdict is None else verdict.position,
        reasoning=None if verdict is None else verdict.reasoning,
        attempts=outcome.attempts,
        unscored_reason=outcome.reason,
        call_error=outcome.call_error,
        chars_a=len(ga.output or ""),
        chars_b=len(gb.output or ""),
    )
