"""Workflow overhead and the quickstart's wall time.

Usage:
    python bench/workflow.py [--items N]      # mock models: time of each step, rerun, report
    python bench/workflow.py --quickstart     # the real quickstart (bundled model), wall time

With mock models every model call is instant, so the figures are tuneval's own overhead:
writing records, metrics with bootstrap CIs and paired tests, judge bookkeeping, rendering
the reports, and a rerun that must skip every step. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tuneval.models.base import Request
from tuneval.models.mock import MockBackend
from tuneval.workflow import full_evaluation, load_config

ROOT = Path(__file__).resolve().parents[1]


def _judge(request: Request) -> str:
    user = request.messages[1].content
    if "[Answer A]" in user:
        return json.dumps({"reasoning": "r", "winner": "B" if len(user) % 3 else "tie"})
    return json.dumps({"reasoning": "r", "score": 1 + len(user) % 10})


def mock_bench(items: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tuneval-bench-"))
    cats = ["classification", "extraction", "summarisation", "closed_qa"]
    rows = [
        {
            "id": f"i{i}",
            "prompt": f"Question {i} about topic {i % 17}?",
            "reference": f"answer {i % 5} words here",
            "category": cats[i % 4],
        }
        for i in range(items)
    ]
    (folder / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "config.yaml").write_text(
        "name: bench\neval_set: eval.jsonl\n"
        f"output_dir: {folder / 'runs'}\n"
        "models: {base: {spec: 'mock:b'}, finetuned: {spec: 'mock:f'}}\n"
        "metrics: {default: [exact_match, token_f1], per_category: {summarisation: [rouge]}}\n"
        "judge: {spec: 'mock:j'}\n"
        "calls: {max_concurrency: 64}\n"
    )
    backends = {
        "base": MockBackend("mock:b", responder=lambda r: "answer 1 words"),
        "finetuned": MockBackend("mock:f", responder=lambda r: "answer 2 words here"),
        "judge": MockBackend("mock:j", responder=_judge),
    }
    cfg = load_config(folder / "config.yaml", environ={})
    times: dict[str, float] = {}
    last = [time.perf_counter()]

    def on_step(report: object) -> None:
        now = time.perf_counter()
        times[report.step] = now - last[0]  # type: ignore[attr-defined]
        last[0] = now

    start = time.perf_counter()
    full_evaluation(cfg, backends=backends, on_step=on_step)
    total = time.perf_counter() - start
    start = time.perf_counter()
    full_evaluation(cfg, backends=backends)
    rerun = time.perf_counter() - start
    html = folder / "runs" / "bench" / "report.html"
    print(f"items: {items} ({items * 6} model/judge calls, mock models)")
    for step, seconds in times.items():
        print(f"  {step:15} {seconds:7.2f} s")
    print(f"total: {total:.2f} s; rerun (all steps skipped): {rerun:.2f} s")
    print(f"report.html: {html.stat().st_size / 1024:.0f} KiB")


def quickstart_bench() -> None:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable, "-m", "tuneval", "run",
            str(ROOT / "examples" / "quickstart" / "config.yaml"), "--set", f"output_dir={out}",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(cmd, check=False)
        wall = time.perf_counter() - start
        print(f"quickstart: exit {done.returncode}, wall time {wall:.0f} s ({wall / 60:.1f} min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--quickstart", action="store_true")
    args = parser.parse_args()
    if args.quickstart:
        quickstart_bench()
    else:
        mock_bench(args.items)


if __name__ == "__main__":
    main()
