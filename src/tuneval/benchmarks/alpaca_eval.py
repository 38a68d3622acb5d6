"""AlpacaEval: 805 instructions, win rate against reference outputs with a pairwise judge.

The judge of `tuneval.judge` compares each output with the reference output in both orders;
the summary has the win rate and the length-controlled win rate (each with a CI). Local data:
the reference model's ``model_outputs.json`` (keys instruction, output, generator, dataset),
or a folder holding ``gpt4_1106_preview/model_outputs.json`` (the AlpacaEval 2 reference).
Hub: ``tatsu-lab/alpaca_eval`` (config ``alpaca_eval_gpt4_baseline``, split ``eval``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records, load_hub
from tuneval.benchmarks.base import Benchmark, BenchOptions, register_benchmark
from tuneval.errors import UsageError
from tuneval.models.base import Decoding, ModelBackend, Request, create_backend
from tuneval.models.runner import CallOptions, run_calls
from tuneval.records import Example, Generation, Record, Score
from tuneval.rundir import JsonlAppender, RunDir

HUB_ID = "tatsu-lab/alpaca_eval"
REFERENCE_DIR = "gpt4_1106_preview"


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
        from tuneval.judge import PairConfig, judge_pairs, pairwise_summary

        if options.judge is None:
            raise UsageError("alpaca-eval needs a judge model: --judge SPEC")
        items = load_alpaca_eval(options.data, options.limit)
        decoding = Decoding(temperature=options.temperature, max_tokens=options.max_tokens)
        results = run_calls(
            backend,
            [
                Request.from_prompt(it.instruction, decoding, example_id=f"alpaca/{i}")
                for i, it in enumerate(items)
            ],
            CallOptions(max_concurrency=options.max_concurrency),
        )
        model = backend.name
        reference = f"reference:{items[0].generator}" if items else "reference"
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
                        model=model,
                        output=text,
                        error=None if text is not None else res.error,
                    )
                )
        config = PairConfig(swap=True)
        records = judge_pairs(out, reference, model, create_backend(options.judge), config)
        prefs: dict[str, list[float]] = {}
        for rec in records:
            pref = _preference(rec.order, rec.position)
            if pref is not None:
                prefs.setdefault(rec.example_id, []).append(pref)
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
        summary = pairwise_summary(records, inconsistent=config.inconsistent)
        result: dict[str, Any] = {
            "benchmark": self.name,
            "model": model,
            "reference": reference,
            "judge": options.judge,
            "instructions": len(items),
            **summary.model_dump(include={"wins", "ties", "losses", "inconsistent", "unscored"}),
            "win_rate": summary.win_rate.model_dump() if summary.win_rate else None,
            "lc_win_rate": summary.lc_win_rate.model_dump() if summary.lc_win_rate else None,
        }
        out.update_info(benchmark=result)
        return result
