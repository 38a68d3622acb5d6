"""Hugging Face causal LMs, optionally with a LoRA adapter: ``hf:PATH_OR_HUB_ID[+ADAPTER]``.

Requests that arrive together are generated together: a small micro-batcher collects the
calls in flight (same decoding parameters) into one left-padded ``generate`` call, run in
a worker thread. Prompts use the tokenizer's chat template when it has one. Device is
chosen automatically (CUDA when available, else CPU).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.errors import BackendError, require
from tuneval.models.base import (
    Completion,
    Decoding,
    Message,
    ModelBackend,
    Request,
    Usage,
    register_backend,
)
from tuneval.models.scoring import LocalScoring, encode_pairs

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def _dir_identity(path: Path) -> str:
    """sha256 over the weights and config files of a local model or adapter directory."""
    from tuneval.models.llamacpp import weights_sha256

    h = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.is_file() and (file.suffix in WEIGHT_SUFFIXES or file.name.endswith(".json")):
            h.update(f"{file.name}={weights_sha256(file)}\n".encode())
    return h.hexdigest()


def _apply_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    cut = min((text.index(s) for s in stops if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@register_backend
class HFBackend(LocalScoring, ModelBackend):
    """A transformers causal LM, with an optional peft LoRA adapter.

    Args:
        spec: ``hf:PATH_OR_HUB_ID`` or ``hf:BASE+ADAPTER``.
        adapter: LoRA adapter directory (instead of ``+ADAPTER`` in the spec).
        batch_size: Most requests generated in one ``generate`` call.
        device: ``cpu``, ``cuda``... (default: CUDA when available).
    """

    prefix = "hf"
    supports_logprobs = True

    def __init__(
        self,
        spec: str,
        *,
        adapter: str | None = None,
        batch_size: int = 8,
        device: str | None = None,
    ) -> None:
        super().__init__(spec)
        rest = spec.partition(":")[2]
        base, plus, spec_adapter = rest.partition("+")
        if not base:
            raise BackendError(f"model spec '{spec}' names no model; use hf:PATH[+ADAPTER]")
        if plus and adapter:
            raise BackendError("give the LoRA adapter either as hf:BASE+ADAPTER or --adapter")
        self.base = base
        self.adapter = adapter or spec_adapter or None
        if self.adapter is not None and not Path(self.adapter).is_dir():
            raise BackendError(f"LoRA adapter directory not found: {self.adapter}")
        self.batch_size = max(1, batch_size)
        self._device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._queue: list[tuple[Request, asyncio.Future[Completion]]] = []
        self._worker: asyncio.Task[None] | None = None
        self._identity: str | None = None

    def identity(self) -> str:
        """A hash of the local weights (and adapter), or the hub id for remote models."""
        if self._identity is None:
            base = Path(self.base)
            parts = [_dir_identity(base) if base.is_dir() else f"hub:{self.base}"]
            if self.adapter is not None:
                parts.append("lora:" + _dir_identity(Path(self.adapter)))
            self._identity = "hf:" + "+".join(parts)
        return self._identity

    # -- loading ---------------------------------------------------------------------

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._tokenizer
        torch: Any = require("torch", package="torch", extra="hf", purpose="The hf backend")
        transformers: Any = require(
            "transformers", package="transformers", extra="hf", purpose="The hf backend"
        )
        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.base)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.base)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load Hugging Face model '{self.base}': {exc}") from None
        if self.adapter is not None:
            peft: Any = require("peft", package="peft", extra="hf", purpose="LoRA adapters")
            model = peft.PeftModel.from_pretrained(model, self.adapter)
        tokenizer.padding_side = "left"  # generation continues from the right edge
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        model.to(device).eval()
        self._model, self._tokenizer = model, tokenizer
        return model, tokenizer

    def render(self, messages: Sequence[Message]) -> str:
        """The conversation as the model's prompt (chat template when the tokenizer has one)."""
        _, tokenizer = self._load()
        dicts = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(tokenizer, "chat_template", None):
            text: str = tokenizer.apply_chat_template(
                dicts, tokenize=False, add_generation_prompt=True
            )
            return text
        return "\n".join(m.content for m in messages) + "\n"

    # -- generation --------------------------------------------------------------------

    def _generate_batch(self, requests: Sequence[Request]) -> list[Completion]:
        import torch

        with self._lock:
            model, tokenizer = self._load()
            d: Decoding = requests[0].decoding
            prompts = [self.render(r.full_messages()) for r in requests]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(model.device) for k, v in enc.items()}
            sampling = d.temperature > 0
            if sampling and d.seed is not None:
                torch.manual_seed(d.seed)
            kwargs: dict[str, Any] = {
                "max_new_tokens": d.max_tokens,
                "do_sample": sampling,
                "pad_token_id": tokenizer.pad_token_id,
            }
            if sampling:
                kwargs |= {"temperature": d.temperature, "top_p": d.top_p}
            with torch.no_grad():
                out = model.generate(**enc, **kwargs)
        width = enc["input_ids"].shape[1]
        eos = tokenizer.eos_token_id
        completions = []
        for row, mask in zip(out, enc["attention_mask"], strict=True):
            new = row[width:].tolist()
            ended = eos is not None and eos in new
            if ended:
                new = new[: new.index(eos)]
            while new and new[-1] == tokenizer.pad_token_id:
                new.pop()
            text, stopped = _apply_stop(tokenizer.decode(new, skip_special_tokens=True), d.stop)
            completions.append(
                Completion(
                    text=text,
                    finish_reason="stop" if ended or stopped else "length",
                    usage=Usage(prompt_tokens=int(mask.sum()), completion_tokens=len(new)),
                )
            )
        return completions

    async def complete(self, request: Request) -> Completion:
        """Queue the request; the batcher generates it with others in flight."""
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            await asyncio.sleep(0)  # let the other calls of this tick join the batch
            first = self._queue[0][0].decoding
            batch = [item for item in self._queue if item[0].decoding == first]
            batch = batch[: self.batch_size]
            for item in batch:
                self._queue.remove(item)
            live = [(r, f) for r, f in batch if not f.cancelled()]
            if not live:
                continue
            try:
                results = await asyncio.to_thread(self._generate_batch, [r for r, _ in live])
            except Exception as exc:
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)

    # -- log-likelihood ----------------------------------------------------------------

    def _score_text(self, prompt: str, continuations: Sequence[str], special: bool) -> list[float]:
        """Log-likelihoods of the continuations after ``prompt`` (held under the lock).

        One forward pass over the context gives every single-token continuation (the
        logits of its last position); a longer continuation gets its own pass. ``special``:
        the tokenizer adds its special tokens (BOS for models that want one), as lm-eval
        encodes plain text; a rendered chat template already has them.
        """
        import torch

        model, tokenizer = self._load()

        def encode(text: str) -> list[int]:
            return list(tokenizer(text, add_special_tokens=special)["input_ids"])

        ctx, conts = encode_pairs(encode, prompt, continuations)
        if not ctx:
            start = tokenizer.bos_token_id
            if start is None:
                start = tokenizer.eos_token_id
            ctx = [start]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ctx], device=model.device)).logits
            last = torch.log_softmax(logits[0, -1].float(), dim=-1)
            out: list[float] = []
            for cont in conts:
                if len(cont) <= 1:
                    out.append(float(last[cont[0]]) if cont else 0.0)
                    continue
                ids = torch.tensor([ctx + cont[:-1]], device=model.device)
                rows = torch.log_softmax(model(input_ids=ids).logits[0, len(ctx) - 1 :].float(), -1)
                picked = rows.gather(1, torch.tensor(cont, device=model.device)[:, None])
                out.append(float(picked.sum()))
        return out

    async def aclose(self) -> None:
        """Drop the model (memory is freed when no other reference holds it)."""
        with self._lock:
            self._model = self._tokenizer = None
