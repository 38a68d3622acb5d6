"""Membership check at the bundled model's scale: a LoRA of SmolLM2-135M trained on half a set.

Usage: python bench/membership.py [--steps 30] [--lr 1e-3] [--out runs/membership]

Takes the 40 "clean" items of tests/fixtures/paraphrase as an eval set, trains a LoRA of the
bundled SmolLM2-135M-Instruct (loaded from its GGUF as in examples/finetune) on the even-
numbered half as plain text, saves base and adapter, and runs
``tuneval contamination --model hf:BASE+ADAPTER --base hf:BASE --label-field seen``: the AUC
says how well the Min-K% jump over the base separates the trained-on half from the rest.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "finetune"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "paraphrase"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", default="runs/membership")
    args = parser.parse_args()
    import torch
    from finetune import load_base  # examples/finetune/finetune.py
    from items import CLEAN  # tests/fixtures/paraphrase/items.py
    from peft import LoraConfig, get_peft_model

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    texts = [item for item, _ in CLEAN]
    rows = [{"id": f"c{i}", "prompt": t, "seen": i % 2 == 0} for i, t in enumerate(texts)]
    (out / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    start = time.perf_counter()
    base, tokenizer = load_base()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base.save_pretrained(out / "base")
    tokenizer.save_pretrained(out / "base")
    model = get_peft_model(base, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    batch = tokenizer(texts[::2], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    for step in range(args.steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
        if step % 5 == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.3f}", flush=True)
    model.save_pretrained(out / "adapter")
    print(f"trained in {time.perf_counter() - start:.0f}s", flush=True)
    report = out / "membership.json"
    cmd = [sys.executable, "-m", "tuneval", "contamination", "--eval", str(out / "eval.jsonl"),
           "--model", f"hf:{out / 'base'}+{out / 'adapter'}", "--base", f"hf:{out / 'base'}",
           "--label-field", "seen", "--out", str(report)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    data = json.loads(report.read_text())
    took = time.perf_counter() - start
    print(f"membership scored in {took:.0f}s; AUC {data['auc']:.3f} ({len(rows)} items, half "
          f"trained on, {args.steps} LoRA steps at lr {args.lr})")  # fmt: skip


if __name__ == "__main__":
    main()
