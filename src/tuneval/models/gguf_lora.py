"""Convert a PEFT LoRA adapter of a llama-architecture model into a GGUF LoRA for llama.cpp.

llama.cpp applies a LoRA adapter at load time (``llamacpp:... options: {lora: FILE.gguf}``),
so a fine-tune is served by the same fast backend as its base. The GGUF LoRA format is:

- metadata ``general.architecture`` (the base model's), ``general.type = adapter``,
  ``adapter.type = lora`` and ``adapter.lora.alpha``; llama.cpp scales by alpha / rank;
- per adapted weight two tensors, ``blk.N.attn_q.weight.lora_a`` (PEFT's ``lora_A``, rank x
  in) and ``...lora_b`` (PEFT's ``lora_B``, out x rank), stored as they are.

One subtlety: llama.cpp's converter permutes the rows of ``q_proj`` and ``k_proj`` of llama
models (its rotary embedding pairs dimensions differently from transformers). The update
``B @ A`` must be permuted the same way, which means permuting the rows of ``lora_B``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tuneval.errors import BackendError, require

# transformers module name -> llama.cpp tensor name (inside blk.N).
_MODULES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_ARCHITECTURES = ("llama",)


def _permute_rows(rows: Any, n_head: int) -> Any:
    """llama.cpp's q/k row order: per head, interleaved halves become contiguous pairs."""
    return (
        rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )


def _base_facts(base_gguf: Path) -> tuple[str, int, int]:
    """(architecture, attention heads, key/value heads) from the base model's GGUF."""
    gguf: Any = require("gguf", package="gguf", extra="hf", purpose="Converting a LoRA to GGUF")
    reader = gguf.GGUFReader(str(base_gguf))
    arch = str(reader.fields["general.architecture"].contents())
    if arch not in _ARCHITECTURES:
        raise BackendError(
            f"{base_gguf}: converting LoRA adapters of '{arch}' models is not supported "
            f"(supported: {', '.join(_ARCHITECTURES)}); serve the adapter with hf:BASE+ADAPTER"
        )
    n_head = int(reader.fields[f"{arch}.attention.head_count"].contents())
    n_kv = int(reader.fields[f"{arch}.attention.head_count_kv"].contents())
    return arch, n_head, n_kv


def _adapter_settings(adapter_dir: Path) -> tuple[float, int]:
    """(alpha as llama.cpp needs it, rank) from adapter_config.json; refuses what it can't map."""
    path = adapter_dir / "adapter_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(f"{path}: cannot read the PEFT adapter config ({exc})") from None
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        raise BackendError(f"{path}: only plain LoRA adapters convert (not DoRA or other PEFT)")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise BackendError(f"{path}: per-module rank_pattern/alpha_pattern cannot be converted")
    rank, alpha = int(config["r"]), float(config["lora_alpha"])
    if config.get("use_rslora"):  # PEFT scales by alpha/sqrt(r); llama.cpp by alpha/r
        alpha *= math.sqrt(rank)
    return alpha, rank


def _gguf_name(key: str) -> tuple[str, str]:
    """PEFT key -> (llama.cpp weight name, 'a' or 'b'); the module kind for the q/k rule."""
    # e.g. base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
    head, _, tail = key.partition(".layers.")
    layer, _, rest = tail.partition(".")
    module, _, which = rest.rpartition(".lora_")
    if not (head and layer.isdigit() and module in _MODULES and which in ("A.weight", "B.weight")):
        raise BackendError(
            f"adapter tensor '{key}' has no llama.cpp counterpart (only the attention and MLP "
            f"projections of the decoder layers convert: {', '.join(sorted(_MODULES))})"
        )
    return f"blk.{layer}.{_MODULES[module]}.weight", "a" if which[0] == "A" else "b"


def convert_peft_lora(adapter_dir: str | Path, base_gguf: str | Path, out: str | Path) -> Path:
    """Write a PEFT LoRA adapter as a GGUF LoRA that llama.cpp applies to ``base_gguf``.

    Args:
        adapter_dir: Folder with ``adapter_config.json`` and ``adapter_model.safetensors``.
        base_gguf: The base model's GGUF file (architecture and head counts are read from it).
        out: The GGUF file to write.

    Returns:
        The written path.

    Raises:
        BackendError: For an unsupported architecture, adapter type or adapted module.
    """
    gguf: Any = require("gguf", package="gguf", extra="hf", purpose="Converting a LoRA to GGUF")
    st: Any = require("safetensors.numpy", package="safetensors", extra="hf", purpose="LoRA")
    folder, base = Path(adapter_dir), Path(base_gguf)
    arch, n_head, n_kv = _base_facts(base)
    alpha, _rank = _adapter_settings(folder)
    weights_file = folder / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise BackendError(f"{weights_file} not found: save the adapter with save_pretrained()")
    tensors = st.load_file(str(weights_file))
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_string(gguf.Keys.General.TYPE, gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for key in sorted(tensors):
        name, which = _gguf_name(key)
        data = tensors[key].astype("float32")
        if which == "b" and name.endswith((".attn_q.weight", ".attn_k.weight")):
            data = _permute_rows(data, n_head if ".attn_q." in name else n_kv)
        writer.add_tensor(f"{name}.lora_{which}", data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out)
