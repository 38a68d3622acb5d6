"""MMLU log-likelihood speed through llama.cpp: tuneval against direct llama_cpp code.

All four ways score the same items, the 5-shot lm-eval prompts of the first N test questions
of each subject, with the bundled model and the same thread count:

- ``tuneval``: ``tuneval bench mmlu``'s path (`MMLU.run` on ``llamacpp:default``): the
  prompt evaluated once per item, its prefix shared with the previous item reused from the
  KV cache, the four letters read from the last position's logits.
- ``direct``: the shortest direct llama_cpp code: ``reset``, ``eval`` the prompt, read the
  last logits (no prefix reuse).
- ``direct-prefix``: the same plus KV-cache prefix reuse, the fastest direct code we know.
- ``before``: how tuneval scored before (a ``logits_all`` model, the prompt plus each letter
  evaluated from scratch, four passes per item).

Printed: items/s of each, tuneval's speedup over ``before`` and its ratio to ``direct-prefix``,
and how often the predicted letters agree.

Run: ``nice python bench/mmlu.py [items_per_subject] [subject,subject,...]``
(default 8 items of anatomy, astronomy, college_biology; data from ``../shared/data/mmlu``
or ``$MMLU_DATA``; ``before`` is timed on the first ``$BENCH_BEFORE_ITEMS`` items, default 3;
``$BENCH_THREADS`` sets the thread count, default all cores).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

LETTERS = [" A", " B", " C", " D"]


def _data_dir() -> Path:
    env = os.environ.get("MMLU_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared/data/mmlu"


def _prompts(data: Path, subjects: list[str], limit: int) -> list[str]:
    from tuneval.benchmarks.mmlu_data import format_prompt, load_split

    out = []
    for subject in subjects:
        shots = load_split(data, subject, "dev")[:5]
        out += [format_prompt(q, shots) for q in load_split(data, subject, "test")[:limit]]
    return out


def _llama(path: Path, logits_all: bool, threads: int) -> Any:
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(path), n_ctx=2048, n_threads=threads, logits_all=logits_all, verbose=False
    )


def _last_logits(llm: Any) -> np.ndarray:
    import llama_cpp

    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float64)


def _letter_ids(llm: Any, prompt: str) -> tuple[list[int], list[int]]:
    ctx = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    ids = []
    for letter in LETTERS:
        whole = llm.tokenize((prompt + letter).encode(), add_bos=True, special=True)
        ids.append(whole[len(ctx)])
    return ctx, ids


def direct(path: Path, prompts: list[str], threads: int, prefix: bool) -> list[int]:
    """Direct llama_cpp scoring; returns the predicted letter index per item."""
    llm = _llama(path, False, threads)
    preds = []
    for prompt in prompts:
        ctx, ids = _letter_ids(llm, prompt)
        keep = 0
        if prefix:
            cached = llm.input_ids[: llm.n_tokens].tolist()
            while keep < min(len(cached), len(ctx) - 1) and cached[keep] == ctx[keep]:
                keep += 1
        llm.n_tokens = keep
        llm.eval(ctx[keep:])
        logits = _last_logits(llm)
        preds.append(int(np.argmax(logits[ids])))
    llm.close()
    return preds


def before(path: Path, prompts: list[str], threads: int) -> list[int]:
    """The scoring loop tuneval had: four from-scratch passes with all logits."""
    from tuneval.models.llamacpp import log_softmax_at

    llm = _llama(path, True, threads)
    preds = []
    for prompt in prompts:
        ctx = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        lls = []
        for letter in LETTERS:
            cont = llm.tokenize(letter.encode(), add_bos=False, special=False)
            llm.reset()
            llm.eval(ctx + cont)
            lls.append(
                sum(log_softmax_at(llm.scores[len(ctx) + i - 1], t) for i, t in enumerate(cont))
            )
        preds.append(int(np.argmax(lls)))
    llm.close()
    return preds


def through_tuneval(data: Path, subjects: list[str], limit: int, threads: int) -> list[int]:
    """`MMLU.run` on ``llamacpp:default``; the predicted letter index per item."""
    from tuneval.benchmarks import MMLUOptions, get_benchmark
    from tuneval.models.base import create_backend
    from tuneval.models.runner import CallOptions
    from tuneval.rundir import RunDir

    backend = create_backend("llamacpp:default", n_threads=threads)
    backend._get_scorer()  # type: ignore[attr-defined]  (load outside the timing)
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        opts = MMLUOptions(data=data, subjects=tuple(subjects), limit=limit)
        start = time.perf_counter()
        get_benchmark("mmlu").run(backend, run, opts, calls=CallOptions(max_concurrency=1))
        through_tuneval.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
        return ["ABCD".index(g.metadata["letter"]) for g in run.generations()]


def _timed(fn: Any, *args: Any) -> tuple[list[int], float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main() -> None:
    """Run the four ways on the same items and print the table."""
    from tuneval.models.llamacpp import default_model_path

    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    subjects = (sys.argv[2] if len(sys.argv) > 2 else "anatomy,astronomy,college_biology").split(
        ","
    )
    threads = int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))
    before_items = int(os.environ.get("BENCH_BEFORE_ITEMS", "3"))
    data, path = _data_dir(), default_model_path()
    prompts = _prompts(data, subjects, limit)
    n = len(prompts)
    rows: dict[str, tuple[list[int], float]] = {}
    ours = through_tuneval(data, subjects, limit, threads)
    rows["tuneval"] = (ours, through_tuneval.seconds)  # type: ignore[attr-defined]
    load = _timed(_llama, path, False, threads)[1]  # model load time, taken out of direct runs
    rows["direct"] = _timed(direct, path, prompts, threads, False)
    rows["direct-prefix"] = _timed(direct, path, prompts, threads, True)
    # The old way is slow: time it on the first few items only (items/s stays comparable).
    rows["before"] = _timed(before, path, prompts[:before_items], threads)
    print(f"{n} items ({limit} per subject: {', '.join(subjects)}), {threads} threads")
    print(f"{'way':14} {'items':>5} {'seconds':>8} {'items/s':>8} {'agree w/ tuneval':>17}")
    speed = {}
    for name, (preds, secs) in rows.items():
        secs = secs if name == "tuneval" else max(secs - load, 1e-9)
        speed[name] = len(preds) / secs
        agree = sum(a == b for a, b in zip(preds, ours, strict=False)) / len(preds)
        print(f"{name:14} {len(preds):5} {secs:8.2f} {speed[name]:8.3f} {agree:17.1%}")
    print(
        f"speedup over before: {speed['tuneval'] / speed['before']:.2f}x; "
        f"tuneval / direct-prefix: {speed['tuneval'] / speed['direct-prefix']:.2f}; "
        f"tuneval / direct: {speed['tuneval'] / speed['direct']:.2f}"
    )


if __name__ == "__main__":
    main()
