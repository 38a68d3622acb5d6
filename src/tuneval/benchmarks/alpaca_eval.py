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
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.alpaca_winrate import LC_NOTE, get_winrate
from tuneval.benchmarks.base import (
    Benchmark,
    BenchOptions,
    protocol_signature,
    register_benchmark,
)
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, ModelBackend, Request, create_backend
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir

HUB_ID = "tatsu-lab/alpaca_eval"
REFERENCE_DIR = "gpt4_1106_preview"
PROTOCOLS = ("both-orders", "alpaca_eval")


class Instruction(Record):
    """One AlpacaEval instruction with the reference model's output."""

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
            instruction=field(obj, "instruction", str, where, line),
            reference=field(obj, "output", str, where, line),
            generator=field(obj, "generator", str, where, line),
            dataset=str(obj.get("dataset") or ""),
        )
        for line, obj in rows
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
class AlpacaEval(Benchmark):
    """AlpacaEval win rate (pairwise judge, both orders) and length-controlled win rate."""

    name = "alpaca-eval"
    description = "AlpacaEval: 805 instructions, (LC) win rate vs reference outputs (--judge)"

    def run(self, backend: ModelBackend, out: RunDir, options: BenchOptions) -> dict[str, Any]:
        """Generate, judge against the reference in both orders, write records, summarise."""
        if options.judge is None:
            raise UsageError("alpaca-eval needs a judge model: --judge SPEC")
        protocol = options.protocol or "both-orders"
        if protocol not in PROTOCOLS:
            raise UsageError(
                f"alpaca-eval --protocol must be both-orders or alpaca_eval, got '{protocol}'"
            )
        items = load_alpaca_eval(options.data, options.limit)
        model = backend.name
        reference = f"reference:{items[0].generator}" if items else "reference"
        _generate(backend, items, out, options, reference)
        judge = create_backend(options.judge)
        if protocol == "alpaca_eval":
            prefs, extra = _one_order(out, items, reference, model, judge)
        else:
            prefs, extra = _both_orders(out, reference, model, judge)
        with JsonlAppender(out.record_file("scores")) as scores:
            for ex_id, ps in prefs.items():
                scores.write(
                    Score(
                        example_id=ex_id,
                        model=model,
                        metric="alpaca-eval",
                        values={"win": sum(ps) / len(ps)},
                    )
                )
        result: dict[str, Any] = {
            "benchmark": self.name,
            "model": model,
            "reference": reference,
            "judge": options.judge,
            "instructions": len(items),
            "protocol": protocol,
            **extra,
            "signature": protocol_signature(
                self.name,
                protocol=protocol,
                judge=options.judge,
                template="tuneval-pairwise",
                baseline=reference,
                lc="minimal",
                temp=options.temperature,
                max_tokens=options.max_tokens,
            ),
        }
        out.update_info(benchmark=result)
        return result


def _generate(
    backend: ModelBackend,
    items: list[Instruction],
    out: RunDir,
    options: BenchOptions,
    reference: str,
) -> None:
    """Answer every instruction; write examples and both sides' generations into ``out``."""
    decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
    results = run_calls(
        backend,
        [
            Request.from_prompt(it.instruction, decoding, example_id=f"alpaca/{i}")
            for i, it in enumerate(items)
        ],
        CallOptions(max_concurrency=options.max_concurrency),
    )
    out.write_examples(
        Example(id=f"alpaca/{i}", prompt=it.instruction, category=it.dataset or None)
        for i, it in enumerate(items)
    )
    with JsonlAppender(out.generations_path) as gens:
        for i, (it, res) in enumerate(zip(items, results, strict=True)):
            ex_id = f"alpaca/{i}"
            gens.write(Generation(example_id=ex_id, model=reference, output=it.reference))
            text = res.completion.text if res.completion else None
            gens.write(
                Generation(
                    example_id=ex_id,
                    model=backend.name,
                    output=text,
                    error=None if text is not None else res.error,
                )
            )


def _both_orders(
    out: RunDir, reference: str, model: str, judge: ModelBackend
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Judge every item in both orders; tuneval's pairwise summary."""
    from tuneval.judge import PairConfig, judge_pairs, pairwise_summary

    config = PairConfig(swap=True)
    records = judge_pairs(out, reference, model, judge, config)
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
    out: RunDir, items: list[Instruction], reference: str, model: str, judge: ModelBackend
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Judge every item once in its drawn order; alpaca_eval's ``get_winrate`` summary."""
    from tuneval.judge import PairConfig, judge_pairs

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
        sub.write_examples(examples[i] for i in sorted(ids))
        with JsonlAppender(sub.generations_path) as handle:
            for gen in gens:
                if gen.example_id in ids:
                    handle.write(gen)
        a, b = (model, reference) if first else (reference, model)
        for rec in judge_pairs(sub, a, b, judge, PairConfig(swap=False)):
            outcome = rec.outcome
            if outcome is not None:
                won = {"tie": 0.5, "a": 1.0 if first else 0.0, "b": 0.0 if first else 1.0}
                prefs[rec.example_id] = [won[outcome]]
    ordered = [
        prefs[e][0] + 1 if e in prefs else None for e in (f"alpaca/{i}" for i in range(len(items)))
    ]
    stats = get_winrate(ordered)
    return prefs, {**stats.model_dump(), "unscored": len(items) - stats.n_total}
