"""Models held in memory as backends: transformers/PEFT objects and plain ``str -> str`` callables.

People who fine-tune in a notebook or a training script hold ``model`` and ``tokenizer`` as
Python objects. `InMemoryHFBackend` generates with them through the ``hf:`` backend's code
(micro-batching, chat template, stop strings, log-likelihoods), without a save/load round
trip and without moving or copying weights. A `PeftModel` can also stand for its own base
model with the adapter disabled (``with model.disable_adapter():``), so no second copy of the
weights is needed.

The call cache must never serve the outputs of yesterday's weights, so an in-memory model's
identity is a fingerprint of its weights taken when the backend is made: everything that
training can change (parameters that require gradients, and every adapter tensor) is hashed
in full; frozen weights (a PEFT model's base) are fingerprinted by their config, names,
shapes and an evenly spaced sample of their values, so a 7B base is not re-read on every
evaluation.

The workflow config names such a model ``inmemory:ROLE@FINGERPRINT``; `register_live` keeps
the backend in a process-wide table under that spec, so a config naming it resolves to the
same object (`LiveBackend`) for as long as it lives, and fails with a clear message in any
other process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from tuneval.errors import BackendError
from tuneval.models.base import Completion, Message, ModelBackend, Request, register_backend
from tuneval.models.hf import HFBackend

ADAPTER_DISABLED = "adapter-disabled"
"""``base_model`` value meaning: the fine-tuned PEFT model itself with its adapter disabled."""

_SAMPLE = 4096
"""Values sampled from each frozen tensor for its fingerprint."""

_ADAPTER_MARKS = ("lora_", "modules_to_save", "prompt_encoder")
"""Parameter-name parts that mark PEFT adapter weights."""

_LIVE: weakref.WeakValueDictionary[str, ModelBackend] = weakref.WeakValueDictionary()
# One lock per model object: two backends over one PeftModel (adapter on and off) must not
# generate at the same time, since disabling the adapter changes the shared module.
_MODEL_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def is_peft_model(model: Any) -> bool:
    """True for a peft ``PeftModel`` (checked by its interface; peft need not be imported)."""
    return hasattr(model, "peft_config") and hasattr(model, "disable_adapter")


def is_hf_model(model: Any) -> bool:
    """True for a transformers ``PreTrainedModel`` or a peft ``PeftModel``."""
    return is_peft_model(model) or (hasattr(model, "generate") and hasattr(model, "config"))


def _hash_tensor(h: Any, tensor: Any, *, full: bool) -> None:
    import torch

    flat = tensor.detach().reshape(-1)
    if not full and flat.numel() > _SAMPLE:
        step = flat.numel() // _SAMPLE
        flat = flat[::step][:_SAMPLE]
    raw = flat.contiguous().view(torch.uint8) if flat.numel() else flat
    h.update(f"{tuple(tensor.shape)}|{tensor.dtype}|".encode())
    h.update(raw.cpu().numpy().tobytes())


def _adapter_names(model: Any) -> set[str]:
    """Names of the parameters that belong to a PEFT adapter (LoRA, prompt encoders, copies)."""
    if not is_peft_model(model):
        return set()
    return {name for name, _ in model.named_parameters() if any(m in name for m in _ADAPTER_MARKS)}


def weights_fingerprint(model: Any, *, include_adapter: bool = True) -> str:
    """A sha256 over a model's config and weights (see the module docstring for what is read).

    Args:
        model: A transformers ``PreTrainedModel`` or a peft ``PeftModel``.
        include_adapter: False fingerprints a PEFT model's base alone (adapter disabled).
    """
    h = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_json_string"):
        h.update(config.to_json_string(use_diff=False).encode())
    adapter = _adapter_names(model)
    if adapter and include_adapter:
        peft_config = {k: str(v) for k, v in model.peft_config.items()}
        h.update(json.dumps(peft_config, sort_keys=True).encode())
        h.update(f"active={getattr(model, 'active_adapter', '')}".encode())
    for name, param in model.named_parameters():
        if name in adapter and not include_adapter:
            continue
        h.update(name.encode())
        _hash_tensor(h, param, full=name in adapter or param.requires_grad)
    for name, buffer in model.named_buffers():
        h.update(name.encode())
        _hash_tensor(h, buffer, full=False)
    return h.hexdigest()


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A sha256 over a tokenizer's class, vocabulary, special tokens and chat template."""
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    vocab = tokenizer.get_vocab()
    h.update(json.dumps(sorted(vocab.items())).encode())
    h.update(json.dumps(getattr(tokenizer, "special_tokens_map", {}), sort_keys=True).encode())
    h.update(str(getattr(tokenizer, "chat_template", None)).encode())
    return h.hexdigest()


def _model_lock(model: Any) -> threading.RLock:
    with _LOCKS_GUARD:
        lock = _MODEL_LOCKS.get(model)
        if lock is None:
            lock = _MODEL_LOCKS[model] = threading.RLock()
        return lock


class InMemoryHFBackend(HFBackend):
    """A transformers or PEFT model object and its tokenizer, generating in this process.

    The model stays where it is (device, dtype); for each batch it is put in eval mode and
    the tokenizer pads on the left, and both are restored afterwards, so a model in the
    middle of training keeps training as before.

    Args:
        model: A ``PreTrainedModel`` or ``PeftModel``.
        tokenizer: Its tokenizer.
        disable_adapter: Generate with the PEFT adapter disabled (the base model).
        label: Readable name used in the spec (``inmemory:LABEL@FINGERPRINT``).
        batch_size: Most requests generated in one ``generate`` call.
    """

    prefix = "inmemory"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        disable_adapter: bool = False,
        label: str = "model",
        batch_size: int = 8,
    ) -> None:
        if tokenizer is None or not callable(getattr(tokenizer, "get_vocab", None)):
            raise BackendError(
                f"the in-memory model '{label}' needs its tokenizer; pass it as the second "
                "argument: full_evaluation(model, tokenizer, test_set)"
            )
        if disable_adapter and not is_peft_model(model):
            raise BackendError(
                f"base_model='{ADAPTER_DISABLED}' needs a peft PeftModel as the model; got "
                f"{type(model).__name__}: pass the base model object or spec instead"
            )
        fingerprint = weights_fingerprint(model, include_adapter=not disable_adapter)
        tok = tokenizer_fingerprint(tokenizer)
        identity = hashlib.sha256(f"{fingerprint}|{tok}".encode()).hexdigest()
        super().__init__(f"hf:{label}@{identity[:16]}", batch_size=batch_size)
        self.spec = f"{self.prefix}:{label}@{identity[:16]}"
        self._identity = f"inmemory-hf:{identity}"
        self._model, self._tokenizer = model, tokenizer
        self._disable_adapter = disable_adapter
        self._lock = _model_lock(model)  # type: ignore[assignment]

    @property
    def name(self) -> str:
        """The model's class and, with the adapter off, a note saying so."""
        suffix = " (adapter disabled)" if self._disable_adapter else ""
        return f"{type(self._model).__name__}{suffix}"

    def identity(self) -> str:
        """The weights and tokenizer fingerprint taken when the backend was made."""
        assert self._identity is not None
        return self._identity

    def _load(self) -> tuple[Any, Any]:
        return self._model, self._tokenizer

    @contextmanager
    def _prepared(self) -> Iterator[None]:
        """Eval mode, left padding, a pad token and (if asked) no adapter; all restored after."""
        model, tokenizer = self._model, self._tokenizer
        training, side, pad = model.training, tokenizer.padding_side, tokenizer.pad_token
        with ExitStack() as stack:
            model.eval()
            tokenizer.padding_side = "left"  # generation continues from the right edge
            if pad is None:
                tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
            if self._disable_adapter:
                stack.enter_context(model.disable_adapter())
            try:
                yield
            finally:
                model.train(training)
                tokenizer.padding_side = side
                if pad is None:
                    tokenizer.pad_token = pad

    def _generate_batch(self, requests: Sequence[Request]) -> list[Completion]:
        with self._lock, self._prepared():
            return super()._generate_batch(requests)

    def _score_text(self, prompt: str, continuations: Sequence[str], special: bool) -> list[float]:
        with self._lock, self._prepared():
            return super()._score_text(prompt, continuations, special)

    async def aclose(self) -> None:
        """Nothing to free: the model belongs to the caller."""


class CallableBackend(ModelBackend):
    """A plain Python function ``prompt -> reply`` as a model.

    The function gets the last user turn (the prompt after the model's template) and runs in
    a worker thread, one call at a time (it need not be thread-safe). tuneval cannot see what
    a function depends on (a model it closes over may have changed since the last call), so
    its identity is new for every backend: within one evaluation repeated requests are served
    from the cache, but a new evaluation calls it again.

    Args:
        func: The function.
        label: Readable name used in the spec (``inmemory:LABEL@ID``).
    """

    prefix = "inmemory"

    def __init__(self, func: Callable[[str], str], *, label: str = "callable") -> None:
        token = uuid.uuid4().hex
        super().__init__(f"{self.prefix}:{label}@{token[:16]}")
        self._func = func
        self._identity = f"callable:{getattr(func, '__qualname__', type(func).__name__)}:{token}"
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The function's qualified name."""
        return str(getattr(self._func, "__qualname__", type(self._func).__name__))

    def identity(self) -> str:
        """Unique to this backend (see the class docstring)."""
        return self._identity

    def _call(self, prompt: str) -> str:
        with self._lock:
            reply = self._func(prompt)
        if not isinstance(reply, str):
            raise BackendError(
                f"the model function {self.name} returned {type(reply).__name__}, not str; "
                "make it return the generated text"
            )
        return reply

    async def complete(self, request: Request) -> Completion:
        """Call the function with the last user turn, in a worker thread."""
        prompt = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        text = await asyncio.to_thread(self._call, prompt)
        return Completion(text=text, finish_reason="stop")


def register_live(backend: ModelBackend, spec: str | None = None) -> str:
    """Keep ``backend`` resolvable by ``spec`` (default: its own) in this process while it lives.

    Returns:
        The spec.
    """
    key = spec or backend.spec
    _LIVE[key] = backend
    return key


@register_backend
class LiveBackend(ModelBackend):
    """``inmemory:LABEL@ID``: a model object registered in this process by `register_live`.

    Configs written by `tuneval.full_evaluation` for in-memory models name them this way;
    every call is passed on to the registered object.

    Raises:
        BackendError: When no such object lives in this process (a config of an in-memory
            run read by the CLI or another process).
    """

    prefix = "inmemory"

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        target = _LIVE.get(spec)
        if target is None:
            raise BackendError(
                f"'{spec}' is a model object that lived in the Python process that evaluated "
                "it; it cannot be loaded here. Save it (model.save_pretrained(DIR)) and use "
                "hf:DIR (or hf:BASE+ADAPTER) as its spec"
            )
        self._target = target
        self.supports_logprobs = target.supports_logprobs

    @property
    def name(self) -> str:
        """The registered model's name."""
        return self._target.name

    def identity(self) -> str:
        """The registered model's identity."""
        return self._target.identity()

    async def complete(self, request: Request) -> Completion:
        """Passed on to the registered model."""
        return await self._target.complete(request)

    async def loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        """Passed on to the registered model."""
        return await self._target.loglikelihood(context, continuations)

    async def loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Passed on to the registered model."""
        return await self._target.loglikelihood_text(prompt, continuations)


def as_backend(
    model: Any, tokenizer: Any = None, *, label: str = "model", disable_adapter: bool = False
) -> ModelBackend | str:
    """Turn what a user holds into a backend (or keep a spec string as it is).

    Args:
        model: A backend spec string, a `ModelBackend`, a transformers/PEFT model object, or
            a callable ``str -> str``.
        tokenizer: The tokenizer of a model object.
        label: Readable name used in specs.
        disable_adapter: For a PEFT model: the base model, adapter disabled.

    Raises:
        BackendError: For anything else, or a model object without its tokenizer.
    """
    if isinstance(model, str | ModelBackend):
        return model
    if is_hf_model(model):
        return InMemoryHFBackend(model, tokenizer, disable_adapter=disable_adapter, label=label)
    if callable(model):
        return CallableBackend(model, label=label)
    raise BackendError(
        f"cannot use a {type(model).__name__} as the {label} model; give a transformers or "
        "peft model with its tokenizer, a ModelBackend, a function str -> str, or a spec "
        "such as hf:PATH or openai:gpt-4o-mini"
    )
