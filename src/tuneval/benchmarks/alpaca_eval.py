"""AlpacaEval: 805 instructions, win rate against reference outputs with a pairwise judge.

Two judging protocols: ``both-orders`` (default) has the judge of `tuneval.judge` compare each
output with the reference in both orders (position bias cancelled); ``alpaca_eval`` judges
each item once, in an order drawn from the instruction (as alpaca_eval's annotators
randomise it), and summarises with alpaca_eval's ``get_winrate``. The length-controlled win
rate reported is the minimal GLM (``lc_win_rate_minimal``), not the leaderboard's
``length_controlled_v1``. An existing alpaca_eval ``annotations.json`` is scored without any
call by `tuneval.benchmarks.alpaca_winrate` (``tuneval bench alpaca-eval --annotations``).
Local data:
the reference model's ``model_outputs.json`` (keys instruction, output, generator, dataset),
or a folder holding ``gpt4_1106_preview/model_outputs.json`` (the AlpacaEval 2 reference).
Hub: ``tatsu-lab/alpaca_eval`` (config ``alpaca_eval_gpt4_baseline``, split ``eval``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.alpaca_winrate import get_winrate
from tuneval.benchmarks.base import (
    Benchmark,
    Item,
    Scored,
    protocol_signature,
    register_benchmark,
)
from tuneval.benchmarks.framework import BenchRun, replace_records
from tuneval.benchmarks.options import AlpacaEvalOptions
from tuneval.models.base import Decoding, ModelBackend, Request
from tuneval.records import Example, Generation, Score
from tuneval.rundir import RunDir

HUB_ID = "tatsu-lab/alpaca_eval"
REFERENCE_DIR = "gpt4_1106_preview"

LC_NOTE = (
    "minimal length-controlled GLM (length term only); not the leaderboard's "
    "length_controlled_v1, not comparable with it"
)


class Instruction(Item):
    """One AlpacaEval instruction with the reference model's output (``id``: ``alpaca/N``)."""

    instruction: str
    """The user instruction."""
    reference: str
    """The reference model's output."""
    generator: str
    """Name of the reference model."""
    dataset: str = ""
    """Source subset (helpful_base, koala, oasst, selfinstruct, vicuna)."""


def load_alpaca_eval(data: Path | None = None, limit: int | None = None) -> list[Instruction]:
    """The instructions with reference outputs, from a local file or the hub."""
    if data is None:
        rows = list(enumerate(load_hub(HUB_ID, "alpaca_eval_gpt4_baseline", "eval"), 1))
        where: Path | str = f"hf:{HUB_ID}"
    else:
        path = data / REFERENCE_DIR / "model_outputs.json" if data.is_dir() else data
        rows = list(iter_json_records(path))
        where = path
    out = [
        Instruction(
            id=f"alpaca/{i}",
            instruction=field(obj, "instruction", str, where, line),
            reference=field(obj, "output", str, where, line),
            generator=field(obj, "generator", str, where, line),
            dataset=str(obj.get("dataset") or ""),
        )
        for i, (line, obj) in enumerate(rows)
    ]
    return out[:limit] if limit is not None else out


def _preference(order: str, position: str | None) -> float | None:
    """Preference for model_b of one judgment (position is the displayed slot)."""
    if position is None:
        return None
    if position == "tie":
        return 0.5
    b_slot = "B" if order == "ab" else "A"
    return 1.0 if position == b_slot else 0.0


@register_benchmark
class AlpacaEval(Benchmark[Instruction, AlpacaEvalOptions]):
    """AlpacaEval win rate (pairwise judge, both orders) and length-controlled win rate."""

    name = "alpaca-eval"
    description = "AlpacaEval: 805 instructions, (LC) win rate vs reference outputs (--judge)"
    options_type = AlpacaEvalOptions
    needs_judge = True

    def load(self, backend: ModelBackend, options: AlpacaEvalOptions) -> list[Instruction]:
        """The instructions with the reference outputs."""
        self.options = options
        self.protocol = options.protocol or "both-orders"
        self.decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
        items = load_alpaca_eval(options.data, options.limit)
        self.reference = f"reference:{items[0].generator}" if items else "reference"
        return items

    def requests(self, item: Instruction, answers: Sequence[Generation]) -> list[Request]:
        """The instruction as one user turn."""
        return [Request.from_prompt(item.instruction, self.decoding, example_id=item.id)]

    def score(self, item: Instruction, answers: Sequence[Generation]) -> Scored:
        """The example and both sides' outputs (reference first); the judge grades."""
        example = Example(id=item.id, prompt=item.instruction, category=item.dataset or None)
        reference = Generation(example_id=item.id, model=self.reference, output=item.reference)
        return Scored(examples=[example], generations=[reference, *answers])

    def judge(
        self, run: BenchRun, items: Sequence[Instruction], scored: list[Scored]
    ) -> list[Scored]:
        """Judge against the reference in the protocol's order(s); a win score per item."""
        if self.protocol == "alpaca_eval":
            prefs, self.result = _one_order(run, items, self.reference)
        else:
            prefs, self.result = _both_orders(run, self.reference)
        out = []
        for item, one in zip(items, scored, strict=True):
            ps = prefs.get(item.id)
            values = {"win": sum(ps) / len(ps)} if ps else None
            scores = (
                [Score(example_id=item.id, model=run.model, metric=self.name, values=values)]
                if values is not None
                else []  # no usable verdict: the item is unscored
            )
            out.append(Scored(one.examples, one.generations, scores))
        return out

    def summarize(
        self, run: BenchRun, items: Sequence[Instruction], scored: list[Scored]
    ) -> dict[str, Any]:
        """The win rates with the run's facts and protocol signature."""
        judge = run.judge.spec if run.judge is not None else None
        return {
            "benchmark": self.name,
            "model": run.model,
            "reference": self.reference,
            "judge": judge,
            "instructions": len(items),
            "protocol": self.protocol,
            **self.result,
            "signature": protocol_signature(
                self.name,
                protocol=self.protocol,
                judge=judge,
                template="tuneval-pairwise",
                baseline=self.reference,
                lc="minimal",
                temp=self.options.temperature,
                max_tokens=self.options.max_tokens,
            ),
        }


def _both_orders(run: BenchRun, reference: str) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Judge every item in both orders; tuneval's pairwise summary."""
    from tuneval.judge import PairConfig, judge_pairs, pairwise_summary

    assert run.judge is not None  # the framework refuses a judged benchmark without one
    config = PairConfig(swap=True, calls=run.calls)
    records = judge_pairs(run.out, reference, run.model, run.judge, config, cache=run.cache)
    prefs: dict[str, list[float]] = {}
    for rec in records:
        pref = _preference(rec.order, rec.position)
        if pref is not None:
            prefs.setdefault(rec.example_id, []).append(pref)
    summary = pairwise_summary(records, inconsistent=config.inconsistent)
    lc = summary.lc_win_rate.model_dump() if summary.lc_win_rate else None
    return prefs, {
        **summary.model_dump(include={"wins", "ties", "losses", "inconsistent", "unscored"}),
        "win_rate": summary.win_rate.model_dump() if summary.win_rate else None,
        "lc_win_rate_minimal": {**lc, "note": LC_NOTE} if lc else None,
    }


def model_shown_first(instruction: str) -> bool:
    """The order of one item in the ``alpaca_eval`` protocol, drawn from its instruction.

    alpaca_eval randomises the output order per example with the instruction as the seed;
    this draws from Python's generator seeded the same way, so one item always gets the
    same order (the draw itself differs from alpaca_eval's pandas/numpy one).
    """
    return random.Random(instruction).random() < 0.5


def _one_order(
    run: BenchRun, items: Sequence[Instruction], reference: str
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Judge every item once in its drawn order; alpaca_eval's ``get_winrate`` summary."""
    from tuneval.judge import PairConfig, judge_pairs

    assert run.judge is not None  # the framework refuses a judged benchmark without one
    out, model = run.out, run.model
    examples = {e.id: e for e in out.examples()}
    gens = out.generations()
    prefs: dict[str, list[float]] = {}
    for first in (False, True):
        ids = {
            f"alpaca/{i}"
            for i, it in enumerate(items)
            if model_shown_first(it.instruction) == first
        }
        if not ids:
            continue
        sub = RunDir(out.path / ("judge-model-first" if first else "judge-reference-first"))
        # Replaced, not appended: a rerun finds the same inputs and resumes the judge.
        sub.write_examples(examples[i] for i in sorted(ids))
        replace_records(sub.generations_path, (g for g in gens if g.example_id in ids))
        a, b = (model, reference) if first else (reference, model)
        config = PairConfig(swap=False, calls=run.calls)
        for rec in judge_pairs(sub, a, b, run.judge, config, cache=run.cache):
            outcome = rec.outcome
            if outcome is not None:
                won = {"tie": 0.5, "a": 1.0 if first else 0.0, "b": 0.0 if first else 1.0}
                prefs[rec.example_id] = [won[outcome]]
    ordered = [
        prefs[e][0] + 1 if e in prefs else None for e in (f"alpaca/{i}" for i in range(len(items)))
    ]
    stats = get_winrate(ordered)
    return prefs, {**stats.model_dump(), "unscored": len(items) - stats.n_total}
