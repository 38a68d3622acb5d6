"""A tiny randomly initialised Llama model and word-level tokenizer, built offline by tests."""

from __future__ import annotations

from typing import Any

WORDS = [
    "hello", "world", "the", "cat", "sat", "on", "mat", "what", "is", "a", "dog", "yes", "no",
    "answer", "question", "red", "blue", "green", "one", "two",
]  # fmt: skip
SPECIALS = ["<unk>", "<pad>", "<s>", "</s>", "<system>", "<user>", "<assistant>"]
TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<assistant> {% endif %}"
)


def tiny_tokenizer() -> Any:
    """A word-level fast tokenizer over `WORDS` with a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>",
    )  # fmt: skip
    fast.chat_template = TEMPLATE
    return fast


def tiny_model(seed: int = 0) -> Any:
    """A 2-layer Llama with hidden size 32, randomly initialised from ``seed``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(SPECIALS) + len(WORDS), hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=128, bos_token_id=2, eos_token_id=3, pad_token_id=1,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def tiny_lora(model: Any) -> Any:
    """``model`` wrapped in a LoRA adapter whose weights are random (so it changes outputs)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    return get_peft_model(model, config)


def tiny_eval_set(n: int = 6) -> list[dict[str, str]]:
    """Prompts and references made of the tokenizer's words."""
    prompts = ["what is the cat", "hello world", "the dog sat", "is a mat red", "one two", "no"]
    refs = ["the cat", "hello", "dog", "red mat", "two", "yes"]
    return [{"id": f"q{i}", "prompt": prompts[i % 6], "reference": refs[i % 6]} for i in range(n)]
