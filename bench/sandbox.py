"""Time the sandbox on all HumanEval canonical solutions (target: < 30 s on 2 cores).

Usage: python bench/sandbox.py PATH/TO/HumanEval.jsonl.gz [--workers N]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tuneval.benchmarks.code import check_canonical
from tuneval.benchmarks.humaneval import load_humaneval
from tuneval.sandbox import detect_isolation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, help="HumanEval.jsonl.gz or its folder")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    problems = load_humaneval(args.data)
    workers = args.workers or len(os.sched_getaffinity(0))
    start = time.perf_counter()
    failures = check_canonical(problems, workers=workers)
    elapsed = time.perf_counter() - start
    print(f"isolation        {detect_isolation()}")
    print(f"workers          {workers}")
    print(f"problems         {len(problems)}")
    print(f"passed           {len(problems) - len(failures)}/{len(problems)}")
    print(f"seconds          {elapsed:.2f}")
    print(f"samples/s        {len(problems) / elapsed:.1f}")
    for problem, status, err in failures:
        print(f"FAILED {problem.task_id} {status}: {err[-200:]}")


if __name__ == "__main__":
    main()
