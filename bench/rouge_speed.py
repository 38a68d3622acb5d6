"""Speed and exactness of tuneval's ``rouge`` against Google's ``rouge-score``.

Both score the same realistic pairs in one run (rouge1, rouge2, rougeL, rougeLsum; stemmer off
and on). The pairs are built from the texts of ``tests/fixtures/golden_pairs.jsonl``:
references of 20-120 words made of its sentences (40% multi-line, 10% of the examples with
2-3 references), predictions derived from them by the edits fine-tuned models make (dropped,
substituted, swapped and re-cased words, truncation, an extra sentence, now and then an
unrelated text). Numba's one-off costs are measured apart from steady state: a cold compile
(in a subprocess with an empty numba cache) and a cached first call in this process.

Run: ``python bench/rouge_speed.py [n_pairs]`` (default 20000).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden_pairs.jsonl"
TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def _sentence_pool() -> list[str]:
    sentences: set[str] = set()
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for text in [record["prediction"], *record["references"]]:
            for part in re.split(r"(?<=[.!?。])\s+|\n", text):
                words = part.split()
                # Long golden texts have run-on lines; cut them into sentence-sized chunks.
                for i in range(0, len(words), 25):
                    if len(words[i : i + 25]) >= 3:
                        sentences.add(" ".join(words[i : i + 25]))
    return sorted(sentences)


def _summary(rng: random.Random, pool: list[str], words: list[str]) -> list[str]:
    target = rng.randint(20, 120)
    out: list[str] = []
    total = 0
    while total < target:
        sentence = rng.choice(pool).split()
        for _ in range(len(sentence) // 5):  # new topics bring new words
            sentence[rng.randrange(len(sentence))] = _zipf_word(rng, words)
        out.append(" ".join(sentence))
        total += len(sentence)
    if total > 120 and len(out) > 1:
        out.pop()
    return out


def _vocabulary(pool: list[str], size: int = 30_000) -> list[str]:
    """Golden words plus English-looking blends (``comp`` + ``ating``), Zipf-ranked later.

    The golden texts have only a few hundred word types; real summaries have tens of
    thousands, which matters for the per-type stemming cost.
    """
    rng = random.Random(7)
    golden = sorted({w.strip(".,;:!?'()") for s in pool for w in s.split()} - {""})
    alpha = [w.lower() for w in golden if w.isalpha() and len(w) >= 4]
    blends = {
        rng.choice(alpha)[: rng.randint(2, 5)] + rng.choice(alpha)[-rng.randint(2, 5) :]
        for _ in range(2 * size)
    }
    return golden + sorted(blends)[: size - len(golden)]


def _zipf_word(rng: random.Random, words: list[str]) -> str:
    # Rank r drawn with probability ~ 1/r, the usual shape of word frequencies.
    return words[min(int(len(words) ** rng.random()) - 1, len(words) - 1)]


def _edit_sentence(sentence: str, rng: random.Random, words: list[str]) -> str:
    out: list[str] = []
    for word in sentence.split():
        roll = rng.random()
        if roll < 0.07:
            continue  # dropped
        if roll < 0.14:
            word = _zipf_word(rng, words)  # substituted
        elif roll < 0.17:
            word = word.upper()
        out.append(word)
        if rng.random() < 0.04 and len(out) > 1:
            out[-1], out[-2] = out[-2], out[-1]  # swapped
    return " ".join(out)


def _prediction(ref: list[str], rng: random.Random, pool: list[str], words: list[str]) -> list[str]:
    if rng.random() < 0.05:
        return _summary(rng, pool, words)  # off-topic output
    sents = [_edit_sentence(s, rng, words) for s in ref]
    if rng.random() < 0.3 and len(sents) > 1:
        sents = sents[: rng.randint(1, len(sents) - 1)]
    if rng.random() < 0.3:
        sents.insert(rng.randint(0, len(sents)), rng.choice(pool))
    if rng.random() < 0.1:
        rng.shuffle(sents)
    return sents


def make_pairs(n_pairs: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """Deterministic realistic (prediction, references) pairs."""
    rng = random.Random(seed)
    pool = _sentence_pool()
    words = _vocabulary(pool)
    preds: list[str] = []
    refs: list[list[str]] = []
    for _ in range(n_pairs):
        sep = "\n" if rng.random() < 0.4 else " "
        ref = _summary(rng, pool, words)
        others = [_prediction(ref, rng, pool, words) for _ in range(rng.choice([1, 2]))]
        n_refs = 1 if rng.random() < 0.9 else len(others) + 1
        preds.append(sep.join(_prediction(ref, rng, pool, words)))
        refs.append([sep.join(r) for r in [ref, *others][:n_refs]])
    return preds, refs


def _reference_scores(
    preds: list[str], refs: list[list[str]], stem: bool
) -> tuple[np.ndarray, float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(TYPES), use_stemmer=stem)
    start = time.perf_counter()
    results = [scorer.score_multi(r, p) for p, r in zip(preds, refs, strict=True)]
    elapsed = time.perf_counter() - start
    rows = [
        [d[t].fmeasure for t in TYPES] + [x for t in TYPES for x in (d[t].precision, d[t].recall)]
        for d in results
    ]
    return np.array(rows, dtype=np.float64), elapsed


def _ours(
    preds: list[str], refs: list[list[str]], stem: bool, repeats: int = 3
) -> tuple[np.ndarray, float]:
    from tuneval.metrics.rouge import Rouge

    best = float("inf")
    for _ in range(repeats):
        metric = Rouge(use_stemmer=stem, precision_recall=True)  # fresh: empty stem cache
        start = time.perf_counter()
        stats = metric.statistics(preds, refs)
        best = min(best, time.perf_counter() - start)
    return stats[:, :-1], best


_FIRST_CALL = (
    "import time; t = time.perf_counter(); from tuneval.metrics.rouge import Rouge; "
    "Rouge(use_stemmer=True).statistics(['a b c'], [['a b\\nc']]); "
    "print(time.perf_counter() - t)"
)


def cold_compile_seconds() -> float:
    """First call in a fresh interpreter with an empty numba cache (import + compile)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True
        )
    return float(out.stdout.strip())


def bench_rouge(n_pairs: int) -> list[dict[str, float | int | bool]]:
    """Times rouge-score and tuneval on ``n_pairs`` pairs, stemmer off and on.

    Returns:
        One row per stemmer setting: pairs/s of both, speedup, the largest absolute score
        difference and the number of differing scores (over P, R and F of all four types),
        and the one-off seconds of the first call in this process (imports, kernels loaded
        from numba's cache) and of a cold compile.
    """
    from tuneval.metrics.rouge import Rouge

    preds, refs = make_pairs(n_pairs)
    warm_preds, warm_refs = make_pairs(50, seed=1)
    cold = cold_compile_seconds()
    # The first call in this process imports numba and NLTK and loads the compiled kernels
    # from numba's cache; steady state is measured after it.
    start = time.perf_counter()
    Rouge(use_stemmer=True).statistics(warm_preds, warm_refs)
    warmup = time.perf_counter() - start
    rows: list[dict[str, float | int | bool]] = []
    for stem in (False, True):
        expected, ref_s = _reference_scores(preds, refs, stem)
        got, our_s = _ours(preds, refs, stem)
        diff = np.abs(expected - got)
        rows.append(
            {
                "use_stemmer": stem,
                "n_pairs": n_pairs,
                "rouge_score_pairs_per_s": n_pairs / ref_s,
                "tuneval_pairs_per_s": n_pairs / our_s,
                "speedup": ref_s / our_s,
                "max_abs_diff": float(diff.max()),
                "n_different": int((diff > 0).sum()),
                "warmup_s": warmup,
                "cold_compile_s": cold,
            }
        )
    return rows


def main() -> None:
    n_pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rows = bench_rouge(n_pairs)
    print(f"{n_pairs} pairs, rouge1+rouge2+rougeL+rougeLsum, steady state (best of 3 for tuneval)")
    print(
        f"one-off: cold numba compile {rows[0]['cold_compile_s']:.2f} s (fresh interpreter, "
        f"empty cache); first call here {rows[0]['warmup_s']:.2f} s (imports + cache load)"
    )
    header = (
        f"{'stemmer':<8}{'rouge-score/s':>15}{'tuneval/s':>12}{'speedup':>9}"
        f"{'max|diff|':>11}{'#diff':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{'on' if row['use_stemmer'] else 'off':<8}{row['rouge_score_pairs_per_s']:>15,.0f}"
            f"{row['tuneval_pairs_per_s']:>12,.0f}{row['speedup']:>8.1f}x"
            f"{row['max_abs_diff']:>11.1e}{row['n_different']:>7}"
        )


if __name__ == "__main__":
    main()
