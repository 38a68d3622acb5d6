"""Speed and exactness of tuneval's ``bleu`` and ``chrf`` against sacreBLEU.

Both compute the corpus score of the same realistic pairs (``rouge_speed.make_pairs``, first
reference of each example, since sacreBLEU needs the same number of references everywhere).
sacreBLEU's time is ``corpus_score``; ours is ``statistics`` + ``aggregate``, the path of
``tuneval score``. Tokenization is sacreBLEU's own in both, so it bounds BLEU's speedup.

Run: ``python bench/bleu_chrf_speed.py [n_pairs]`` (default 20000).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rouge_speed import make_pairs


def _time_ours(spec: str, preds: list[str], refs: list[list[str]]) -> tuple[float, float]:
    from tuneval.metrics import create_metric

    metric = create_metric(spec)
    start = time.perf_counter()
    stats = metric.statistics(preds, refs)
    value = float(metric.aggregate(stats.sum(axis=0, keepdims=True))[metric.score_names[0]][0])
    return value, time.perf_counter() - start


def bench_bleu_chrf(n_pairs: int) -> list[dict[str, float | str]]:
    """Times sacreBLEU and tuneval on ``n_pairs`` pairs for BLEU, chrF and chrF++.

    Returns:
        One row per metric: seconds of both, pairs/s, speedup and the absolute difference of
        the corpus scores.
    """
    from sacrebleu.metrics import BLEU, CHRF

    preds, all_refs = make_pairs(n_pairs)
    refs = [r[:1] for r in all_refs]
    ref_stream = [[r[0] for r in refs]]
    _time_ours("bleu", preds[:50], refs[:50])  # warm-up: first-call imports
    rows: list[dict[str, float | str]] = []
    for name, spec, reference in (
        ("bleu", "bleu", BLEU()),
        ("chrf", "chrf", CHRF()),
        ("chrf++", "chrf:word_order=2", CHRF(word_order=2)),
    ):
        start = time.perf_counter()
        expected = reference.corpus_score(preds, ref_stream).score
        ref_s = time.perf_counter() - start
        got, our_s = _time_ours(spec, preds, refs)
        rows.append(
            {
                "metric": name,
                "sacrebleu_s": ref_s,
                "tuneval_s": our_s,
                "sacrebleu_pairs_per_s": n_pairs / ref_s,
                "tuneval_pairs_per_s": n_pairs / our_s,
                "speedup": ref_s / our_s,
                "score": got,
                "abs_diff": abs(got - expected),
            }
        )
    return rows


def main() -> None:
    n_pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    for row in bench_bleu_chrf(n_pairs):
        print(
            f"{row['metric']}: sacreBLEU {row['sacrebleu_s']:.2f} s, tuneval "
            f"{row['tuneval_s']:.2f} s, speedup {row['speedup']:.2f}x, "
            f"score {row['score']:.4f}, |diff| {row['abs_diff']:.1e}"
        )


if __name__ == "__main__":
    main()
