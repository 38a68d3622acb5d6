"""Benchmark of ``tuneval contamination`` against the seed's approach, side by side in one run.

English-like JSONL (Zipf-distributed words, instruction/input/output records of about 1 KB) is
generated into a temporary folder; an eval set of 2,000 examples (10% copied from the training
data) is checked with 13-grams. Reported:

- the seed's approach (a Python set of every training n-gram) on a prefix of the data, MB/s;
- tuneval with 1 and 2 workers on the whole file, MB/s end to end (reading, JSON parsing,
  index build and report included) and the speed-up over the seed;
- peak resident memory of a fresh process scanning the base file and a file ``--scale`` times
  bigger (the same data repeated), to show memory is flat in the training size.

Usage: python bench/contamination.py [--size-mb 200] [--scale 10] [--seed-mb 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 13


def make_corpus(path: Path, size_mb: int, rng: random.Random) -> None:
    words = ["".join(rng.choice("etaoinshrdlucmfwypvbgkqjxz") for _ in range(rng.randint(1, 9)))
             for _ in range(30000)]  # fmt: skip
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(words))))
    pool = []
    for _ in range(20000):
        s = rng.choices(words, cum_weights=cum, k=rng.randint(8, 25))
        pool.append(" ".join(s).capitalize() + rng.choice([".", "?", "!", ","]))
    target = size_mb * 1_000_000
    written = i = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < target:
            row = {
                "id": i,
                "instruction": " ".join(rng.choices(pool, k=2)),
                "input": "",
                "output": " ".join(rng.choices(pool, k=8)),
            }
            line = json.dumps(row) + "\n"
            handle.write(line)
            written += len(line)
            i += 1


def make_eval(train: Path, path: Path, rng: random.Random, count: int = 2000) -> None:
    with train.open(encoding="utf-8") as handle:
        rows = [json.loads(next(handle)) for _ in range(20000)]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            out = rng.choice(rows)["output"]
            text = out if i % 10 == 0 else " ".join(rng.sample(out.split(), 60))
            handle.write(json.dumps({"id": str(i), "prompt": text}) + "\n")


def seed_approach(train: Path, eval_path: Path, limit: int) -> tuple[float, int]:
    """The seed: every training n-gram in a Python set, then look up the eval n-grams."""
    from tuneval.contamination.normalize import tokens

    seen: set[tuple[str, ...]] = set()
    start = time.perf_counter()
    done = 0
    with train.open("rb") as handle:
        for raw in handle:
            rec = json.loads(raw)
            toks = tokens(f"{rec['instruction']}\n{rec['input']}\n{rec['output']}")
            seen.update(tuple(toks[i : i + N]) for i in range(len(toks) - N + 1))
            done += len(raw)
            if done >= limit:
                break
    flagged = 0
    with eval_path.open(encoding="utf-8") as handle:
        for line in handle:
            toks = tokens(json.loads(line)["prompt"])
            flagged += any(tuple(toks[i : i + N]) in seen for i in range(len(toks) - N + 1))
    return done / (time.perf_counter() - start) / 1e6, flagged


def ours(train: Path, eval_path: Path, workers: int) -> tuple[float, int]:
    from tuneval.contamination import check

    start = time.perf_counter()
    report = check([str(train)], str(eval_path), n=N, workers=workers)
    return report.bytes_scanned / (time.perf_counter() - start) / 1e6, report.contaminated


def peak_rss_mb(train: Path, eval_path: Path) -> float:
    """Peak RSS of a fresh process that runs the check (children excluded: 1 worker).

    Read from ``VmHWM``: Linux carries ``ru_maxrss`` across fork and exec, so a child started
    by this (large) process would report the parent's peak instead of its own.
    """
    code = (
        "import sys\n"
        "from tuneval.contamination import check\n"
        "check([sys.argv[1]], sys.argv[2], n=13)\n"
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(train), str(eval_path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed-mb", type=int, default=20, help="prefix the seed approach reads")
    parser.add_argument("--dir", default=None, help="where to write the data (default: temp)")
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base, big, ev = Path(tmp, "train.jsonl"), Path(tmp, "big.jsonl"), Path(tmp, "eval.jsonl")
        make_corpus(base, args.size_mb, rng)
        make_eval(base, ev, rng)
        size = os.path.getsize(base) / 1e6
        print(f"data: {size:.0f} MB JSONL, 2000 eval examples, {N}-grams, {os.cpu_count()} CPUs")
        ours(base, ev, 1)  # compile/load the kernels once
        seed_rate, _ = seed_approach(base, ev, args.seed_mb * 1_000_000)
        print(f"seed approach (Python set), first {args.seed_mb} MB: {seed_rate:.1f} MB/s")
        one, flagged = ours(base, ev, 1)
        two, _ = ours(base, ev, 2)
        print(
            f"tuneval, 1 worker:  {one:.1f} MB/s ({one / seed_rate:.0f}x the seed), "
            f"{flagged} flagged"
        )
        print(f"tuneval, 2 workers: {two:.1f} MB/s ({two / one:.2f}x one worker)")
        small_rss = peak_rss_mb(base, ev)
        with big.open("wb") as out:
            for _ in range(args.scale):
                with base.open("rb") as src:
                    while chunk := src.read(1 << 24):
                        out.write(chunk)
        big_rss = peak_rss_mb(big, ev)
        big_size = os.path.getsize(big) / 1e6
        print(f"peak RSS: {small_rss:.0f} MiB scanning {size:.0f} MB, "
              f"{big_rss:.0f} MiB scanning {big_size:.0f} MB")  # fmt: skip
        from tuneval.contamination.check import load_eval as _load
        from tuneval.contamination.index import EvalIndex as _Index

        index = _Index.build(_load(str(ev)).texts, N)
        per = (index.nbytes() - 8 * index.n_postings) / index.distinct
        packed = index.tok_bytes.nbytes + index.tok_off.nbytes + index.ex_first.nbytes
        print(f"index: {index.distinct} distinct n-grams, {index.n_postings} occurrences, "
              f"{per:.1f} bytes per distinct n-gram + 8 per occurrence; packed eval tokens "
              f"{packed / 1e6:.1f} MB ({index.tok_off.size - 1} tokens)")  # fmt: skip


if __name__ == "__main__":
    main()
