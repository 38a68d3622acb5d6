"""Single-output scoring: each output of one model rated on a scale against criteria."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tuneval.errors import DataError
from tuneval.judge.config import ScoreConfig
from tuneval.judge.engine import Final
from tuneval.judge.parse import ScoreVerdict, parse_score, score_schema
from tuneval.judge.records import Judgment
from tuneval.judge.resume import Calls, Judging, judge_resumable
from tuneval.judge.templates import SINGLE_SYSTEM, SINGLE_TEMPLATE, fingerprint, reference_block
from tuneval.models.base import Decoding, Message, ModelBackend, Request
from tuneval.models.cache import CallCache
from tuneval.models.loop import synchronous
from tuneval.records import Example, Generation
from tuneval.rundir import RunDir, read_jsonl

SINGLE_FILE = "judge_single"
"""Record file of single-output judgments in the run directory."""


def single_key(judge: ModelBackend, config: ScoreConfig) -> str:
    """Fingerprint of everything but the item that shapes a single verdict."""
    return fingerprint(
        "single",
        judge.identity(),
        SINGLE_SYSTEM,
        config.template or SINGLE_TEMPLATE,
        config.criteria,
        config.scale,
        config.reference,
        config.max_tokens,
        config.structured,
        # Only repeated judging adds to the key, so runs without it keep their old keys.
        *((config.repeats, config.repeat_temperature) if config.repeats > 1 else ()),
    )


def score_request(example: Example, output: str, config: ScoreConfig, repeat: int = 0) -> Request:
    """The first-attempt request that asks the judge to score ``output``.

    With ``config.repeats`` above 1, judging ``repeat`` samples at the repeat temperature with
    seed ``repeat``, so each repeat is its own call (and its own cache entry).
    """
    low, high = config.scale
    user = (config.template or SINGLE_TEMPLATE).format(
        question=example.prompt or "",
        answer=output,
        criteria=config.criteria,
        low=low,
        high=high,
        reference_block=reference_block(example.reference if config.reference else None),
    )
    return Request(
        messages=(
            Message(role="system", content=SINGLE_SYSTEM),
            Message(role="user", content=user),
        ),
        decoding=_decoding(config, repeat),
        json_schema=score_schema(low, high) if config.structured else None,
    )


def _decoding(config: ScoreConfig, repeat: int) -> Decoding:
    if config.repeats == 1:
        return Decoding(temperature=0.0, max_tokens=config.max_tokens)
    return Decoding(
        temperature=config.repeat_temperature, seed=repeat, max_tokens=config.max_tokens
    )


def _pairs(run: RunDir, model: str, config: ScoreConfig) -> list[tuple[Example, Generation]]:
    examples = {e.id: e for e in run.examples()}
    gens = run.generations(model)
    if not gens:
        raise run.no_generations(model)
    out = []
    for gen in {g.example_id: g for g in gens}.values():
        example = examples.get(gen.example_id)
        if example is None:
            raise DataError(
                f"generation for '{gen.example_id}' has no example in examples.jsonl",
                path=run.generations_path,
                field="example_id",
            )
        if config.reference and example.reference is None:
            raise DataError(
                f"example '{example.id}' has no reference; reference-guided judging needs one "
                "for every example (turn the judge's reference setting off, or add references)",
                path=run.examples_path,
                field="references",
            )
        out.append((example, gen))
    return out


def latest(records: list[Judgment], model: str, key: str) -> dict[tuple[str, int], Judgment]:
    """The last judgment of each (example, repeat) for one model and config key."""
    return {
        (r.example_id, r.repeat): r for r in records if r.model == model and r.config_key == key
    }


async def ajudge_scores(
    run: RunDir,
    model: str,
    judge: ModelBackend,
    config: ScoreConfig | None = None,
    *,
    cache: CallCache | None = None,
    on_call: Callable[[], None] | None = None,
    on_item: Callable[[], None] | None = None,
) -> list[Judgment]:
    """Score every output of ``model`` in ``run`` with ``judge``; resumable.

    Judgments are appended to ``judge_single.jsonl`` as each item finishes. Items already
    judged with the same settings are skipped (a rerun makes no calls); items that failed
    only because the call failed are tried again.

    Returns:
        The judgment of every generation of ``model``, in generation order (each output's
        ``config.repeats`` judgings together).
    """
    config = config or ScoreConfig()
    key = single_key(judge, config)
    path = run.record_file(SINGLE_FILE)
    done = latest(read_jsonl(path, Judgment), model, key)
    items = _pairs(run, model, config)
    low, high = config.scale

    def judgings() -> Iterator[Judging[tuple[Example, Generation]]]:
        for example, gen in items:
            for repeat in range(config.repeats):
                if gen.output is None:
                    reason = f"the model produced no output: {gen.error}"
                    yield Judging((example.id, repeat), (example, gen), repeat, None, reason)
                    continue
                request = score_request(example, gen.output, config, repeat)
                yield Judging((example.id, repeat), (example, gen), repeat, request)

    def make_record(
        judging: Judging[tuple[Example, Generation]], prompt: str, outcome: Final[ScoreVerdict]
    ) -> Judgment:
        example, gen = judging.item
        return _record(example, gen, key, judge, config, prompt, outcome, judging.repeat)

    await judge_resumable(
        judge,
        path,
        done,  # type: ignore[arg-type]
        lambda r: (r.example_id, r.repeat),
        judgings(),
        make_record,
        lambda text: parse_score(text, low, high),
        Calls(config.max_attempts, config.calls, cache, on_call, on_item),
    )
    return [done[(example.id, r)] for example, _ in items for r in range(config.repeats)]


judge_scores = synchronous(
    ajudge_scores,
    "judge_scores",
    "Synchronous `ajudge_scores`; inside a running event loop it runs in a worker thread.",
)


def _record(
    example: Example,
    gen: Generation,
    key: str,
    judge: ModelBackend,
    config: ScoreConfig,
    prompt: str,
    outcome: Final[ScoreVerdict],
    repeat: int = 0,
) -> Judgment:
    verdict = outcome.verdict
    return Judgment(
        example_id=example.id,
        repeat=repeat,
        model=gen.model,
        judge=judge.identity(),
        config_key=key,
        prompt=prompt,
        raw=outcome.raw,
        score=None if verdict is None else verdict.score,
        reasoning=None if verdict is None else verdict.reasoning,
        scale=config.scale,
        attempts=outcome.attempts,
        unscored_reason=outcome.reason,
        call_error=outcome.call_error,
        output_chars=len(gen.output or ""),
    )
