"""Planted paraphrases: recall and false positives of the n-gram scan vs the semantic scan.

Usage: python bench/semantic.py [--judge SPEC] [--floor 0.45] [--throughput 2000] [--threads 2]

Reads tests/fixtures/paraphrase (eval.jsonl, train.jsonl, labels.json; see its build.py).
A planted item counts as caught by the n-gram scan when it is flagged, and by the semantic
scan when its planted training line is among its top-5 candidates; the false-positive rate is
the share of clean items (nothing planted) that get flagged / get any candidate. With
``--judge`` every candidate pair is also judged and "semantic + judge" counts confirmed items.
Throughput embeds synthetic records of ~40 words and projects the time for 1M records.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

FIX = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "paraphrase"


def _rates(caught: dict[str, bool], labels: dict[str, int | None], kind: str) -> str:
    ids = [i for i in labels if i.startswith(kind)]
    hit = sum(caught[i] for i in ids)
    return f"{hit}/{len(ids)} ({hit / len(ids):.0%})"


def _row(name: str, caught: dict[str, bool], labels: dict[str, int | None]) -> None:
    print(
        f"{name:<22} paraphrases {_rates(caught, labels, 'para'):<14} "
        f"edited copies {_rates(caught, labels, 'edit'):<14} "
        f"false positives (clean) {_rates(caught, labels, 'clean')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge", default=None, help="Judge model spec (e.g. llamacpp:default)")
    parser.add_argument("--floor", type=float, default=None, help="Default: DEFAULT_FLOOR")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--throughput", type=int, default=2000, help="Records for the speed run")
    parser.add_argument("--threads", type=int, default=2, help="Torch CPU threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from tuneval.contamination import check
    from tuneval.contamination.embedder import SentenceEncoder
    from tuneval.contamination.semantic import DEFAULT_FLOOR
    from tuneval.contamination.semantic_check import semantic_check

    args.floor = DEFAULT_FLOOR if args.floor is None else args.floor

    train, evalp = [str(FIX / "train.jsonl")], str(FIX / "eval.jsonl")
    labels: dict[str, int | None] = json.loads((FIX / "labels.json").read_text())
    print(f"{len(labels)} eval items, {sum(v is not None for v in labels.values())} planted")
    for n in (13, 8):
        rep = check(train, evalp, n=n)
        _row(f"n-gram (n={n})", {e.id: e.flagged for e in rep.examples}, labels)
    t0 = time.perf_counter()
    encoder = SentenceEncoder()
    print(f"model load {time.perf_counter() - t0:.1f}s ({encoder.name}, {args.threads} threads)")
    judge = None
    if args.judge:
        from tuneval.models import create_backend

        judge = create_backend(args.judge)
    sem = semantic_check(train, evalp, encoder=encoder, top_k=args.top_k, floor=args.floor,
                         judge=judge)  # fmt: skip

    def planted_in(ex_id: str, confirmed_only: bool) -> bool:
        ex = next(e for e in sem.examples if e.id == ex_id)
        line = labels[ex_id]
        ok = [m for m in ex.matches if not confirmed_only or m.verdict]
        if line is None:  # a clean item: any candidate is a false positive
            return bool(ok)
        return any(m.found_in.endswith(f"train.jsonl:{line}") for m in ok)

    _row(f"semantic top-{args.top_k}", {i: planted_in(i, False) for i in labels}, labels)
    if judge is not None:
        _row("semantic + judge", {i: planted_in(i, True) for i in labels}, labels)
        print(f"judge {judge.name}: {sem.unscored} unscored replies")
    _ranges(sem, labels, args.floor)
    if args.throughput:
        _speed(encoder, args.throughput)


def _ranges(sem: object, labels: dict[str, int | None], floor: float) -> None:
    """Similarity of each planted record to its item, and of the best record of clean items."""
    from tuneval.contamination.semantic import SemanticReport

    assert isinstance(sem, SemanticReport)
    for kind in ("para", "edit"):
        sims, ranks = [], []
        for ex in sem.examples:
            if ex.id.startswith(kind):
                at = [i for i, m in enumerate(ex.matches)
                      if m.found_in.endswith(f"train.jsonl:{labels[ex.id]}")]  # fmt: skip
                if at:
                    sims.append(ex.matches[at[0]].similarity)
                    ranks.append(at[0] + 1)
        print(f"{kind}: planted record's similarity {_spread(sims)}; its rank: "
              f"1st {ranks.count(1)}, 2nd-5th {len(ranks) - ranks.count(1)}")  # fmt: skip
    clean = [e.best.similarity if e.best else None for e in sem.examples
             if e.id.startswith("clean")]  # fmt: skip
    got = [s for s in clean if s is not None]
    per_item = sum(len(e.matches) for e in sem.examples if e.id.startswith("clean")) / len(clean)
    print(f"clean: {len(got)}/{len(clean)} have a candidate >= floor {floor}; best similarity "
          f"{_spread(got)}; candidates per clean item {per_item:.1f}")  # fmt: skip


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    v = sorted(values)
    return f"min {v[0]:.2f} / median {v[len(v) // 2]:.2f} / max {v[-1]:.2f} (n={len(v)})"


def _speed(encoder: object, count: int) -> None:
    rng = random.Random(0)
    vocab = (FIX / "items.py").read_text().split()
    texts = [" ".join(rng.choice(vocab) for _ in range(40)) for _ in range(count)]
    start, cpu = time.perf_counter(), time.process_time()
    encoder.encode(texts)  # type: ignore[attr-defined]
    rate = count / (time.perf_counter() - start)
    per_cpu_s = count / (time.process_time() - cpu)
    print(
        f"throughput: {rate:.0f} records/s wall (40-word records, {os.cpu_count()} CPUs visible, "
        f"load average {os.getloadavg()[0]:.1f}); 1M records: {1e6 / rate / 3600:.1f} h"
    )
    # On a shared machine the wall rate mostly measures the neighbours; CPU time does not.
    print(
        f"  {per_cpu_s:.0f} records per CPU-second: two dedicated cores would do about "
        f"{2 * per_cpu_s:.0f} records/s, 1M records in {1e6 / (2 * per_cpu_s) / 3600:.1f} h"
    )


if __name__ == "__main__":
    main()
