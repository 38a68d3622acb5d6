"""Time the sandbox on all HumanEval canonical solutions (target: < 30 s on 2 cores).

Usage: python bench/sandbox.py PATH/TO/HumanEval.jsonl.gz [--workers N]
[--isolation bwrap|unshare|rlimits-only]

The per-task figure is wall time x workers / tasks: what one program costs a core, start-up
of the isolation included (compare levels to see the overhead of each).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tuneval.benchmarks.code import check_canonical
from tuneval.benchmarks.humaneval import load_humaneval
from tuneval.sandbox import chosen_isolation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, help="HumanEval.jsonl.gz or its folder")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--isolation",
        choices=["bwrap", "unshare", "rlimits-only"],
        default=None,
        help="Force a level (default: $TUNEVAL_SANDBOX, else the strongest that works here)",
    )
    args = parser.parse_args()
    if args.isolation:
        os.environ["TUNEVAL_SANDBOX"] = args.isolation
    problems = load_humaneval(args.data)
    workers = args.workers or len(os.sched_getaffinity(0))
    start = time.perf_counter()
    failures = check_canonical(problems, workers=workers)
    elapsed = time.perf_counter() - start
    print(f"isolation        {chosen_isolation()}")
    print(f"workers          {workers}")
    print(f"problems         {len(problems)}")
    print(f"passed           {len(problems) - len(failures)}/{len(problems)}")
    print(f"seconds          {elapsed:.2f}")
    print(f"samples/s        {len(problems) / elapsed:.1f}")
    print(f"ms/task/worker   {elapsed * workers / len(problems) * 1000:.0f}")
    for problem, status, err in failures:
        print(f"FAILED {problem.task_id} {status}: {err[-200:]}")


if __name__ == "__main__":
    main()
