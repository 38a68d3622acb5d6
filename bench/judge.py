"""Pairwise judging throughput: 1,000 pairs in both orders (2,000 calls), then a rerun.

Usage: ``python bench/judge.py [--pairs N] [--latency S] [--concurrency C] [--judge SPEC|--stub]``

Without ``--judge`` the judge is an in-process backend that answers after ``--latency``
seconds of asynchronous sleep (a stand-in for a server with that latency); with ``--judge``
any backend spec is used; with ``--stub`` the judge is the fault-free stub server
(``tests/models/stub_server.py`` in its own process, answering verdicts after ``--latency``)
reached over HTTP through the ``openai-compatible`` backend.
Ideal time = calls x latency / concurrency. Prints wall time, the ratio to ideal, the calls the
rerun made (should be 0) and the time of the summary statistics. Timings are reported, never
asserted: a benchmark is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from tuneval.judge import PairConfig, judge_pairs, pairwise_summary
from tuneval.judge.summary import Bootstrap
from tuneval.models.base import Completion, ModelBackend, Request, create_backend
from tuneval.models.mock import MockBackend
from tuneval.models.runner import CallOptions
from tuneval.records import Example, Generation
from tuneval.rundir import JsonlAppender, RunDir


class SleepyJudge(MockBackend):
    """A mock judge that waits ``latency`` seconds (asynchronously) before answering."""

    def __init__(self, latency: float) -> None:
        super().__init__("mock:sleepy-judge", responder=self._verdict)
        self.latency = latency

    @staticmethod
    def _verdict(request: Request) -> str:
        user = request.messages[-1].content
        a = user.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
        b = user.split("[Answer B]\n", 1)[1].split("\n\nCompare", 1)[0]
        winner = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"
        return json.dumps({"reasoning": "longer is better", "winner": winner})

    async def complete(self, request: Request) -> Completion:
        await asyncio.sleep(self.latency)
        return await super().complete(request)


def make_run(path: Path, pairs: int) -> RunDir:
    run = RunDir(path)
    run.write_examples(Example(id=f"q{i}", prompt=f"Question {i}?") for i in range(pairs))
    with JsonlAppender(run.generations_path) as app:
        for i in range(pairs):
            app.write(Generation(example_id=f"q{i}", model="base", output="base " * (i % 7 + 1)))
            app.write(Generation(example_id=f"q{i}", model="ft", output="ft " * (i % 11 + 1)))
    return run


def count_calls(judge: ModelBackend) -> int:
    return len(getattr(judge, "calls", []))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--judge", default=None, help="backend spec instead of the sleepy mock")
    parser.add_argument(
        "--stub",
        action="store_true",
        help="judge = the stub server (its own process, --latency) through openai-compatible",
    )
    args = parser.parse_args()
    stub = None
    if args.stub:
        from generation import start_stub

        stub, url = start_stub(args.latency, reply="verdict")
        args.judge = f"openai-compatible:{url}#stub-judge"
    try:
        run_bench(args)
    finally:
        if stub is not None:
            stub.terminate()
            stub.wait(10)


def run_bench(args: argparse.Namespace) -> None:
    """Judge the pairs, rerun, summarise; print the figures."""

    def new_judge() -> ModelBackend:
        return create_backend(args.judge) if args.judge else SleepyJudge(args.latency)

    config = PairConfig(calls=CallOptions(max_concurrency=args.concurrency))
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "run", args.pairs)
        judge = new_judge()
        calls = 2 * args.pairs
        counter = [0]
        start = time.perf_counter()
        records = judge_pairs(
            run, "base", "ft", judge, config, on_call=lambda: counter.__setitem__(0, counter[0] + 1)
        )
        wall = time.perf_counter() - start
        ideal = calls * args.latency / args.concurrency
        print(
            f"judge: {args.judge or f'in-process mock, {args.latency * 1000:.0f} ms async sleep'}"
        )
        print(
            f"first run: {counter[0]} calls, {len(records)} records in {wall:.2f} s; "
            f"ideal {ideal:.2f} s; ratio {wall / ideal:.3f}"
        )
        again = new_judge()
        counter[0] = 0
        start = time.perf_counter()
        judge_pairs(
            run, "base", "ft", again, config, on_call=lambda: counter.__setitem__(0, counter[0] + 1)
        )
        print(
            f"rerun: {counter[0]} calls (backend saw {count_calls(again)}) "
            f"in {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        summary = pairwise_summary(records, Bootstrap(resamples=1000))
        print(
            f"summary (win rate + LC win rate, 1000 bootstrap resamples each): "
            f"{time.perf_counter() - start:.2f} s; win rate {summary.win_rate.value:.3f}, "  # type: ignore[union-attr]
            f"LC {summary.lc_win_rate.value:.3f}, "  # type: ignore[union-attr]
            f"longer preferred {summary.longer_preferred_rate:.3f}, "
            f"consistency {summary.position_consistency:.3f}"
        )


if __name__ == "__main__":
    main()
