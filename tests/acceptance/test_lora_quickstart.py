"""The quickstart's real fine-tune: base vs base + the committed LoRA, as a user runs it.

The fine-tuned model is ``llamacpp:default`` with ``options.lora`` naming the committed GGUF
LoRA, relative to the config file. A user runs ``tuneval run examples/quickstart/config.yaml``
from anywhere; the adapter's hash keys the call cache.
"""

import json
import shutil
from pathlib import Path

import pytest

from cli_helpers import run_cli
from tuneval.models import create_backend
from tuneval.workflow import load_config

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart" / "config.yaml"
LORA = ROOT / "examples" / "finetune" / "adapter" / "lora.gguf"

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")


def test_the_quickstart_fine_tune_is_the_committed_lora_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config("../" * 10 + str(QUICKSTART).lstrip("/"), environ={})
    tuned, base = cfg.models.finetuned, cfg.models.base
    assert Path(tuned.options["lora"]).resolve() == LORA.resolve() and LORA.is_file()
    assert base.spec == tuned.spec == cfg.judge.spec == "llamacpp:default"
    assert not base.options and not tuned.system_prompt and not tuned.few_shot
    assert LORA.stat().st_size < 8_000_000  # a few MB, committed


def test_the_adapter_is_part_of_the_model_identity(tmp_path):
    plain = create_backend("llamacpp:default")
    tuned = create_backend("llamacpp:default", lora=str(LORA))
    assert tuned.identity().startswith(plain.identity() + "+lora:sha256=")
    retrained = tmp_path / "lora.gguf"
    shutil.copyfile(LORA, retrained)
    assert create_backend("llamacpp:default", lora=str(retrained)).identity() == tuned.identity()
    with retrained.open("r+b") as handle:  # a changed adapter is a new model
        handle.seek(-4, 2)
        handle.write(b"\x00\x00\x80\x3f")
    assert create_backend("llamacpp:default", lora=str(retrained)).identity() != tuned.identity()


def test_a_missing_adapter_in_a_config_is_one_line(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.yaml"
    text = QUICKSTART.read_text(encoding="utf-8").replace(
        "../finetune/adapter/lora.gguf", "missing-lora.gguf"
    )
    config.write_text(text.replace("eval.jsonl", str(QUICKSTART.parent / "eval.jsonl")))
    monkeypatch.chdir(tmp_path)
    code, _out, err = run_cli(["run", str(config)], capsys)
    assert code == 1 and "Traceback" not in err
    assert f"LoRA adapter file not found: {tmp_path / 'missing-lora.gguf'}" in err


@pytest.mark.slow
def test_tuneval_run_quickstart_compares_base_with_the_lora(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    code, _out, err = run_cli(
        [
            "run", str(QUICKSTART), "--set", "limit=4", "--set", "judge.spec=null",
            "--set", "comparison.resamples=100", "--set", "comparison.trials=200",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(x) for x in (tmp_path / "runs/quickstart/generations.jsonl").open()]
    by_model: dict[str, list[str]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row["output"])
    assert set(by_model) == {"base", "finetuned"} and len(by_model["base"]) == 4
    # The adapter answers these sentiment items with the bare label; the base does not.
    assert by_model["base"] != by_model["finetuned"]
    assert all(o.strip().lower() in ("positive", "negative") for o in by_model["finetuned"])
