"""Metric speed, side by side with the reference implementations, in one run.

Usage: ``python bench/metrics.py [N_PAIRS]`` (default 20,000). Prints:

* ROUGE (stemmer off and on) vs Google's rouge-score: pairs/s, speedup, max score difference;
* BLEU and chrF vs sacreBLEU: pairs/s, speedup, max score difference;
* 1,000 bootstrap resamples of corpus BLEU over 10,000 items, through the same code path as
  ``tuneval score`` (statistics extracted once, resampled as weight matrices).

Timings are reported, never asserted: a benchmark is not a test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bleu_chrf_speed import bench_bleu_chrf
from rouge_speed import bench_rouge, make_pairs


def bench_bootstrap(n_items: int = 10_000, resamples: int = 1_000) -> dict[str, float]:
    """Seconds for the bootstrap CI of corpus BLEU, statistics extraction excluded."""
    from tuneval.evaluation.single import BootstrapConfig, summarize
    from tuneval.metrics import create_metric

    preds, refs = make_pairs(n_items, seed=3)
    metric = create_metric("bleu")
    start = time.perf_counter()
    stats = metric.statistics(preds, refs)
    extract = time.perf_counter() - start
    boot = BootstrapConfig(resamples=resamples, seed=1)
    summarize(metric, stats[:100], boot)  # warm-up: first-call imports
    start = time.perf_counter()
    (result,) = summarize(metric, stats, boot)
    elapsed = time.perf_counter() - start
    return {
        "n_items": n_items,
        "resamples": resamples,
        "bootstrap_s": elapsed,
        "extract_s": extract,
        "bleu": result.value,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
    }


def main() -> None:
    n_pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(f"== ROUGE vs rouge-score ({n_pairs} pairs)")
    for row in bench_rouge(n_pairs):
        print(
            f"stemmer {'on ' if row['use_stemmer'] else 'off'}: rouge-score "
            f"{row['rouge_score_pairs_per_s']:,.0f}/s, "
            f"tuneval {row['tuneval_pairs_per_s']:,.0f}/s, "
            f"speedup {row['speedup']:.1f}x, max|diff| {row['max_abs_diff']:.1e}"
        )
    print(f"== BLEU and chrF vs sacreBLEU ({n_pairs} pairs)")
    for row in bench_bleu_chrf(n_pairs):
        print(
            f"{row['metric']}: sacreBLEU {row['sacrebleu_s']:.2f} s, tuneval "
            f"{row['tuneval_s']:.2f} s, speedup {row['speedup']:.2f}x, "
            f"score {row['score']:.4f}, |diff| {row['abs_diff']:.1e}"
        )
    b = bench_bootstrap()
    print(
        f"== bootstrap: {b['resamples']} resamples of corpus BLEU over {b['n_items']} items: "
        f"{b['bootstrap_s']:.3f} s (statistics extracted once in {b['extract_s']:.2f} s); "
        f"BLEU {b['bleu']:.2f} [{b['ci_low']:.2f}, {b['ci_high']:.2f}]"
    )


if __name__ == "__main__":
    main()
