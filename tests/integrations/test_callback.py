"""TunevalCallback inside a real transformers Trainer, training a tiny model on CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from tiny import tiny_lora, tiny_model, tiny_tokenizer  # noqa: E402

from tuneval.integrations import TunevalCallback  # noqa: E402

PROMPTS = ["what is the cat", "hello world", "the dog sat", "is a mat red", "one two",
           "no answer", "what is a dog", "the cat sat"]  # fmt: skip
ANSWERS = ["cat", "hello", "dog", "red", "two", "yes", "dog", "mat"]
EVAL = [
    {"id": f"q{i}", "prompt": p, "reference": a}
    for i, (p, a) in enumerate(zip(PROMPTS, ANSWERS, strict=True))
]
FAST = {"comparison": {"resamples": 50, "trials": 200}, "decoding": {"max_tokens": 3}}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def _rows(tok: Any, answers: list[str], width: int = 16) -> list[dict[str, Any]]:
    """Chat-formatted training rows 'prompt -> answer </s>', padded to one width."""
    rows = []
    for prompt, answer in zip(PROMPTS, answers, strict=True):
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                       add_generation_prompt=True) + f"{answer} </s>"  # fmt: skip
        ids = tok(text, add_special_tokens=False)["input_ids"]
        pad = width - len(ids)
        rows.append({
            "input_ids": torch.tensor(ids + [tok.pad_token_id] * pad),
            "attention_mask": torch.tensor([1] * len(ids) + [0] * pad),
            "labels": torch.tensor(ids + [-100] * pad),
        })  # fmt: skip
    return rows


def _trainer(model: Any, tok: Any, rows: list, out: Path, steps: int, lr: float) -> Any:
    args = transformers.TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=8, learning_rate=lr,
        report_to=[], save_strategy="no", logging_steps=1, use_cpu=True, disable_tqdm=True,
        lr_scheduler_type="constant", warmup_steps=0,
    )  # fmt: skip
    return transformers.Trainer(model=model, args=args, train_dataset=rows, processing_class=tok)


class Recorder(transformers.TrainerCallback):
    """Stands in for a reporter (TensorBoard, W&B): keeps what on_log receives."""

    def __init__(self) -> None:
        self.logged: list[dict[str, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logged.append(dict(logs or {}))


def test_lora_training_logs_paired_results_and_writes_a_run_per_step(tmp_path: Path):
    tok = tiny_tokenizer()
    model = tiny_lora(tiny_model(0))
    trainer = _trainer(model, tok, _rows(tok, ANSWERS), tmp_path / "out", steps=4, lr=1e-2)
    recorder = Recorder()
    trainer.add_callback(recorder)
    callback = TunevalCallback(EVAL, every_n_steps=2, metrics=["token_f1"], **FAST)
    callback.attach(trainer)
    trainer.train()

    root = tmp_path / "out" / "tuneval"
    assert sorted(callback.results) == [0, 2, 4]
    for step in (0, 2, 4):
        assert (root / f"step-{step}" / "results.json").is_file()
    # The base (adapter disabled) was generated once; later steps replay its outputs.
    later = [
        json.loads(x) for x in (root / "step-4" / "generations.jsonl").read_text().splitlines()
    ]
    assert {g["metadata"]["backend"] for g in later if g["model"] == "base"} == {
        f"file:{root / 'base_outputs.jsonl'}"
    }
    history = [h for h in trainer.state.log_history if "tuneval/token_f1.token_f1/p_value" in h]
    assert [h["step"] for h in history] == [0, 2, 4]
    for key in ("difference", "ci_low", "ci_high", "p_value"):
        assert f"tuneval/token_f1.token_f1/{key}" in history[-1]
    assert "tuneval/token_f1.token_f1/finetuned" in history[-1]
    # What reporters (TensorBoard, W&B) receive through on_log.
    assert any("tuneval/token_f1.token_f1/base" in logs for logs in recorder.logged)
    assert model.training or trainer.state.global_step == 4  # training went on to the end
    assert callback.stopped_by is None


def _memorised(tok: Any) -> Any:
    """A tiny model trained (plain torch loop) to give every eval answer."""
    model = tiny_model(1)
    rows = _rows(tok, ANSWERS)
    batch = {k: torch.stack([r[k] for r in rows]) for k in rows[0]}
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(150):
        optim.zero_grad()
        model(**batch).loss.backward()
        optim.step()
    return model


def test_training_that_makes_the_model_worse_is_stopped(tmp_path: Path):
    tok = tiny_tokenizer()
    model = _memorised(tok)
    wrong = _rows(tok, ["no"] * len(PROMPTS))  # fine-tuning on wrong answers, on purpose
    trainer = _trainer(model, tok, wrong, tmp_path / "out", steps=200, lr=1e-2)
    callback = TunevalCallback(
        EVAL, every_n_steps=10, metrics=["exact_match"], stop_if_worse=["exact_match"], **FAST
    ).attach(trainer)
    trainer.train()

    base = callback.results[0].results.metrics.comparisons[0].base.value
    assert base == 1.0  # the memorised model answered everything before this training
    assert callback.stopped_by == "exact_match.exact_match"
    assert trainer.state.global_step < 200
    last = callback.results[trainer.state.global_step].results.verdicts
    assert [v.outcome for v in last if v.measure == "exact_match.exact_match"] == ["worse"]
