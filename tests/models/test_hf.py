"""hf: backend on a tiny randomly initialised Llama model and a LoRA adapter built here."""

from pathlib import Path

import pytest

from tuneval.errors import BackendError
from tuneval.models import Decoding, Message, Request, create_backend
from tuneval.models.runner import CallOptions, CallStats, call_many

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

WORDS = [
    "hello", "world", "the", "cat", "sat", "on", "mat", "what", "is", "a", "dog", "yes", "no",
    "answer", "question",
]  # fmt: skip
TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<assistant> {% endif %}"
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    root = tmp_path_factory.mktemp("tiny")
    specials = ["<unk>", "<pad>", "<s>", "</s>", "<system>", "<user>", "<assistant>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    fast.chat_template = TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=2,
        eos_token_id=3,
        pad_token_id=1,
    )
    model = LlamaForCausalLM(config)
    base = root / "base"
    model.save_pretrained(base)
    fast.save_pretrained(base)
    lora = get_peft_model(
        model,
        LoraConfig(
            r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False
        ),
    )
    adapter = root / "adapter"
    lora.save_pretrained(adapter)
    return base, adapter


async def test_generation_batched_with_chat_template(tiny: tuple[Path, Path]):
    base, _ = tiny
    backend = create_backend(f"hf:{base}", batch_size=4)
    rendered = backend.render([Message(role="user", content="hello world")])  # type: ignore[attr-defined]
    assert rendered == "<user> hello world </s> <assistant> "
    reqs = [
        Request.from_prompt(p, Decoding(max_tokens=5))
        for p in ["hello world", "the cat sat on the mat", "what is a dog", "yes", "no answer"]
    ]
    stats = CallStats()
    calls: list[int] = []
    original = backend._generate_batch  # type: ignore[attr-defined]

    def spy(requests):
        calls.append(len(requests))
        return original(requests)

    backend._generate_batch = spy  # type: ignore[attr-defined]
    results = await call_many(backend, reqs, CallOptions(max_concurrency=8), stats=stats)
    assert all(r.ok for r in results), results
    assert sorted(calls, reverse=True) == [4, 1]  # batched: 5 requests in 2 generate calls
    for r, q in zip(results, reqs, strict=True):
        assert r.completion is not None
        assert r.completion.usage.completion_tokens <= 5
        n_prompt = len(backend.render(q.full_messages()).split())  # type: ignore[attr-defined]
        assert r.completion.usage.prompt_tokens == n_prompt
        words = r.completion.text.split()
        assert all(
            w in [*WORDS, "<unk>", "<s>", "<system>", "<user>", "<assistant>"] for w in words
        )
        assert r.completion.finish_reason in ("stop", "length")
    # Greedy decoding is deterministic; a single request gives the same as in the batch.
    (alone,) = await call_many(backend, reqs[:1])
    assert alone.completion is not None and results[0].completion is not None
    assert alone.completion.text == results[0].completion.text
    await backend.aclose()


async def test_loglikelihood_matches_manual_and_adapter_changes_it(tiny: tuple[Path, Path]):
    from transformers import AutoModelForCausalLM

    base, adapter = tiny
    backend = create_backend(f"hf:{base}")
    context = [Message(role="user", content="what is a dog")]
    scores = await backend.loglikelihood(context, ["yes", "the cat sat"])
    model = AutoModelForCausalLM.from_pretrained(base).eval()
    tok = backend._tokenizer  # type: ignore[attr-defined]
    ctx = tok(backend.render(context), add_special_tokens=False)["input_ids"]  # type: ignore[attr-defined]
    cont = tok("the cat sat", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ctx + cont])).logits[0]
    logp = torch.log_softmax(logits, -1)
    manual = sum(float(logp[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))
    assert scores[1] == pytest.approx(manual, abs=1e-4)
    assert all(s < 0 for s in scores)

    tuned = create_backend(f"hf:{base}+{adapter}")
    via_option = create_backend(f"hf:{base}", adapter=str(adapter))
    assert tuned.identity() == via_option.identity() != backend.identity()
    tuned_scores = await tuned.loglikelihood(context, ["yes", "the cat sat"])
    assert tuned_scores != pytest.approx(scores, abs=1e-3)
    for b in (backend, tuned, via_option):
        await b.aclose()


def test_bad_specs(tiny: tuple[Path, Path], tmp_path: Path):
    base, adapter = tiny
    with pytest.raises(BackendError, match="adapter directory not found"):
        create_backend(f"hf:{base}+{tmp_path / 'nope'}")
    with pytest.raises(BackendError, match="either"):
        create_backend(f"hf:{base}+{adapter}", adapter=str(adapter))
    backend = create_backend(f"hf:{tmp_path / 'missing'}")
    with pytest.raises(BackendError, match="cannot load"):
        backend._load()  # type: ignore[attr-defined]
