"""PEFT LoRA -> GGUF LoRA conversion, and llama.cpp serving the converted adapter.

The fast tests check the mapping and the q/k row permutation on small arrays. The slow ones
use the quickstart's committed adapter: llama.cpp with the converted file must predict what
transformers + PEFT predict (same greedy continuation, near-equal change of the logits), and
differ from the base.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from tuneval.errors import BackendError
from tuneval.models import create_backend
from tuneval.models.gguf_lora import _adapter_settings, _gguf_name, _permute_rows

ADAPTER = Path(__file__).resolve().parents[2] / "examples" / "finetune" / "adapter"


def _hf_rows_to_llamacpp(w: np.ndarray, n_head: int) -> np.ndarray:
    # llama.cpp's convert_hf_to_gguf.py LlamaModel.permute, written out independently:
    # within each head, row 2*i+j of llama.cpp's order is row j*half+i of the HF order.
    out = np.empty_like(w)
    size = w.shape[0] // n_head
    half = size // 2
    for h in range(n_head):
        for i in range(half):
            for j in range(2):
                out[h * size + 2 * i + j] = w[h * size + j * half + i]
    return out


def test_q_k_rows_are_permuted_like_llamacpp_and_the_update_follows():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 12)), rng.normal(size=(24, 4))  # rank 4, 3 heads of size 8
    assert np.array_equal(_permute_rows(b, 3), _hf_rows_to_llamacpp(b, 3))
    # Permuting lora_B rows permutes the rows of the update B @ A the same way as the weight.
    assert np.allclose(_permute_rows(b, 3) @ a, _hf_rows_to_llamacpp(b @ a, 3))
    assert not np.allclose(_permute_rows(b, 3), b)


def test_peft_names_map_to_llamacpp_tensors():
    key = "base_model.model.model.layers.12.self_attn.q_proj.lora_A.weight"
    assert _gguf_name(key) == ("blk.12.attn_q.weight", "a")
    key = "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"
    assert _gguf_name(key) == ("blk.0.ffn_down.weight", "b")
    with pytest.raises(BackendError, match=r"lm_head.*no llama\.cpp counterpart"):
        _gguf_name("base_model.model.lm_head.lora_A.weight")


def test_adapter_settings_map_alpha_and_refuse_what_cannot_convert(tmp_path: Path):
    def settings(**config: object) -> tuple[float, int]:
        (tmp_path / "adapter_config.json").write_text(json.dumps(config))
        return _adapter_settings(tmp_path)

    assert settings(peft_type="LORA", r=8, lora_alpha=16) == (16.0, 8)
    # rsLoRA scales by alpha/sqrt(r): the alpha llama.cpp divides by r must be alpha*sqrt(r).
    alpha, rank = settings(peft_type="LORA", r=16, lora_alpha=8, use_rslora=True)
    assert alpha / rank == pytest.approx(8 / 4)
    with pytest.raises(BackendError, match="DoRA"):
        settings(peft_type="LORA", r=8, lora_alpha=16, use_dora=True)
    with pytest.raises(BackendError, match="rank_pattern"):
        settings(peft_type="LORA", r=8, lora_alpha=16, rank_pattern={"q_proj": 4})


def test_a_missing_lora_file_is_one_clear_error(tmp_path: Path):
    pytest.importorskip("llama_cpp")
    with pytest.raises(BackendError, match=r"LoRA adapter file not found: .*nope\.gguf"):
        create_backend("llamacpp:default", lora=str(tmp_path / "nope.gguf"))


PROMPTS = [  # written for this test: not from the eval set, not from the training set
    "Is this review positive or negative? Review: 'The blanket is soft and warm.'",
    "Find the value in the text; reply with just that value.\nText: 'The hall seats 300 "
    "people.'\nValue: the number of seats",
    "Read the text and answer the question briefly.\nText: 'Jon keeps three goats.'\n"
    "Question: How many goats does Jon keep?",
    "Give a short one-sentence summary.\nText: 'The market moved to the harbour because "
    "the old square is being rebuilt.'",
]


def _llamacpp_runs(lora: Path | None, prompts: list[list[int]]) -> list[tuple[np.ndarray, list]]:
    """(next-token logits after the prompt, 8 greedy tokens) per prompt, in llama.cpp."""
    import llama_cpp

    from tuneval.models.llamacpp import LlamaCppBackend, default_model_path

    llm = llama_cpp.Llama(
        model_path=str(default_model_path()), n_ctx=512, n_threads=2, verbose=False,
        lora_path=None if lora is None else str(lora),
    )  # fmt: skip
    out = []
    for ids in prompts:
        llm.reset()
        llm.eval(ids)
        first = LlamaCppBackend._last_logits(llm)
        tokens, row = [], first
        for _ in range(8):
            tokens.append(int(np.argmax(row)))
            llm.eval([tokens[-1]])
            row = LlamaCppBackend._last_logits(llm)
        out.append((first, tokens))
    llm.close()
    return out


def _hf_runs(model, prompts: list[list[int]]) -> list[tuple[np.ndarray, list]]:
    """The same with transformers (the de-quantized GGUF weights)."""
    import torch

    out = []
    with torch.no_grad():
        for ids in prompts:
            seq, first, tokens = list(ids), None, []
            for _ in range(8):
                row = model(input_ids=torch.tensor([seq])).logits[0, -1].float().numpy()
                first = row if first is None else first
                tokens.append(int(np.argmax(row)))
                seq.append(tokens[-1])
            out.append((first, tokens))
    return out


def _hf_peft_model():
    import copy

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tuneval.models.llamacpp import default_model_path

    gguf = default_model_path()
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = copy.deepcopy(loaded.config)
    del config.quantization_config  # a plain model of the same weights, as finetune.py trains
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    return PeftModel.from_pretrained(model.eval(), str(ADAPTER / "peft")).eval()


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


@pytest.mark.slow
def test_llamacpp_with_the_converted_adapter_predicts_what_peft_predicts(tmp_path, monkeypatch):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("peft")
    gguf = pytest.importorskip("gguf")
    from tuneval.models import gguf_lora
    from tuneval.models.llamacpp import LlamaCppBackend, default_model_path

    converted = gguf_lora.convert_peft_lora(
        ADAPTER / "peft", default_model_path(), tmp_path / "lora.gguf"
    )
    # The committed lora.gguf is what the converter makes of the committed PEFT adapter.
    mine, committed = gguf.GGUFReader(converted), gguf.GGUFReader(ADAPTER / "lora.gguf")
    assert [t.name for t in mine.tensors] == [t.name for t in committed.tensors]
    assert all(
        np.array_equal(a.data, b.data) for a, b in zip(mine.tensors, committed.tensors, strict=True)
    )
    assert committed.fields["adapter.lora.alpha"].contents() == 16.0

    backend = create_backend("llamacpp:default")
    assert isinstance(backend, LlamaCppBackend)
    from tuneval.models import Message

    prompts = [
        backend._get_scorer().tokenize(
            backend.render([Message(role="user", content=p)]).encode(),
            add_bos=False,
            special=True,
        )
        for p in PROMPTS
    ]
    model = _hf_peft_model()
    hf_tuned = _hf_runs(model, prompts)
    with model.disable_adapter():
        hf_base = _hf_runs(model, prompts)
    cpp_base = _llamacpp_runs(None, prompts)
    cpp_tuned = _llamacpp_runs(ADAPTER / "lora.gguf", prompts)
    # Without the q/k row permutation the adapter would be applied to the wrong rotary pairs.
    monkeypatch.setattr(gguf_lora, "_permute_rows", lambda rows, n_head: rows)
    unpermuted = gguf_lora.convert_peft_lora(
        ADAPTER / "peft", default_model_path(), tmp_path / "unpermuted.gguf"
    )
    cpp_wrong = _llamacpp_runs(unpermuted, prompts)

    right, wrong = [], []
    for i in range(len(PROMPTS)):
        want = hf_tuned[i][0] - hf_base[i][0]  # what the adapter changes, per transformers
        right.append(_relative_error(cpp_tuned[i][0] - cpp_base[i][0], want))
        wrong.append(_relative_error(cpp_wrong[i][0] - cpp_base[i][0], want))
        assert cpp_tuned[i][1] == hf_tuned[i][1], i  # same greedy continuation
    # Measured: right 0.04-0.15 (mean 0.08; llama.cpp multiplies Q4_1 weights by 8-bit
    # activations), unpermuted 0.14-0.62 (mean 0.29).
    assert max(right) < 0.25 and np.mean(wrong) > 2 * np.mean(right), (right, wrong)
    assert sum(cpp_tuned[i][1] != cpp_base[i][1] for i in range(len(PROMPTS))) >= 2
