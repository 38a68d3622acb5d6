"""The model protocol: typed requests and completions, and the `ModelBackend` interface.

Every backend (llama.cpp, Hugging Face, OpenAI-compatible, Anthropic, file replay, mock)
implements `ModelBackend`; generation, the judge and the benchmarks only ever see this
interface. Backends are chosen by a spec string ``PREFIX:REST`` (``llamacpp:default``,
``openai-compatible:http://127.0.0.1:8080/v1#model``) through the `BACKENDS` registry.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, create_model

from tuneval.errors import BackendError
from tuneval.records import Record
from tuneval.registry import Registry, keyword_options

Role = Literal["system", "user", "assistant"]


class Message(Record):
    """One turn of a chat conversation."""

    role: Role
    """Who speaks: system, user or assistant."""
    content: str
    """The text of the turn."""


class DecodingOptions(Record):
    """How a model samples: the one decoding record of the library, the config and the CLI.

    The workflow config's ``decoding`` section is this record and ``tuneval generate``'s flags
    are made from its fields, so a new decoding option is added here and nowhere else.
    """

    temperature: float = Field(default=0.0, ge=0.0)
    """Sampling temperature; 0 is greedy."""
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    max_tokens: int = Field(default=256, ge=1)
    """Upper bound on generated tokens."""
    stop: tuple[str, ...] = ()
    """Strings that end a generation (not included in the output)."""
    seed: int | None = 0
    """Sampling seed where the backend accepts one."""


class Decoding(DecodingOptions):
    """Decoding parameters; part of every request and recorded with every generation."""

    system_prompt: str | None = None
    """A system message put before the conversation when it has none."""


class Request(Record):
    """One call to a model: a conversation and how to decode."""

    messages: tuple[Message, ...]
    """The conversation so far; the model answers its last user turn."""
    decoding: Decoding = Field(default_factory=Decoding)
    """Decoding parameters."""
    json_schema: dict[str, Any] | None = None
    """A JSON schema the reply must follow, for backends with structured output."""
    example_id: str | None = None
    """The example the request answers, when known; only replay backends (``file:``) use it.
    Not part of the cache key."""

    def full_messages(self) -> list[Message]:
        """The messages with `Decoding.system_prompt` prepended when no system turn exists."""
        msgs = list(self.messages)
        system = self.decoding.system_prompt
        if system is not None and not (msgs and msgs[0].role == "system"):
            msgs.insert(0, Message(role="system", content=system))
        return msgs

    @classmethod
    def from_prompt(cls, prompt: str, decoding: Decoding | None = None, **kw: Any) -> Request:
        """A single-turn request with ``prompt`` as the user message."""
        return cls(
            messages=(Message(role="user", content=prompt),),
            decoding=decoding or Decoding(),
            **kw,
        )


class Usage(Record):
    """Token counts of one call, as the backend reports them."""

    prompt_tokens: int = 0
    """Tokens of the input."""
    completion_tokens: int = 0
    """Tokens generated."""


class Completion(Record):
    """What a model returned for one request."""

    text: str
    """The generated text."""
    finish_reason: str | None = None
    """Why generation stopped (``stop``, ``length``...), when the backend says."""
    usage: Usage = Field(default_factory=Usage)
    """Token usage of the call."""
    latency_s: float = 0.0
    """Seconds the call took (0 for cached replies)."""
    cached: bool = False
    """True when served from the call cache instead of the model."""


class ModelBackend(ABC):
    """A model that answers chat requests.

    Subclasses set `prefix` (the spec prefix they are registered under) and implement
    `complete`. Calls are async so that many can be in flight against a server; local
    backends may run the work in a thread.
    """

    prefix: str = ""
    supports_logprobs: bool = False
    """True when `loglikelihood` is implemented (llama.cpp, Hugging Face)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """Human-readable name of the model (the spec by default)."""
        return self.spec

    def identity(self) -> str:
        """What makes this backend's answers what they are, for the call cache.

        For a local file, a hash of the weights; for a server, base URL and model name. Never
        contains secrets.
        """
        return self.spec

    @abstractmethod
    async def complete(self, request: Request) -> Completion:
        """Answer one request.

        Raises:
            CallError: When the call fails (retryable kinds are retried by the runner).
        """

    async def loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        """Sum of log-probabilities of each continuation after the rendered ``context``.

        Raises:
            BackendError: When the backend cannot give log-probabilities.
        """
        raise BackendError(
            f"backend '{self.prefix}' cannot give log-probabilities; use a llamacpp: or hf: "
            "model, or a generation-based mode"
        )

    async def loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each continuation right after the plain text ``prompt``.

        No chat template is applied: this is how base-model benchmarks (lm-evaluation-harness,
        the original MMLU script) score, with the continuation following the prompt text.

        Raises:
            BackendError: When the backend cannot score plain text.
        """
        raise BackendError(
            f"backend '{self.prefix}' cannot give log-probabilities of plain text; use a "
            "llamacpp: or hf: model, or a generation-based mode"
        )

    async def aclose(self) -> None:  # noqa: B027  (optional hook; most backends hold nothing)
        """Release clients, threads and memory."""


BACKENDS: Registry[type[ModelBackend]] = Registry("backend", BackendError)


def register_backend(cls: type[ModelBackend]) -> type[ModelBackend]:
    """Class decorator: register a backend under its `prefix`."""
    return BACKENDS.register(cls.prefix)(cls)


def backend_options(cls: type[ModelBackend]) -> dict[str, tuple[Any, Any]]:
    """The typed options a backend accepts: name -> (annotation, default)."""
    return keyword_options(cls)


def backend_class(spec: str) -> type[ModelBackend]:
    """The registered backend class of a spec ``PREFIX:REST``.

    Raises:
        BackendError: For a spec without a prefix or with an unknown prefix.
    """
    import tuneval.models  # noqa: F401  (registers the built-in backends)

    prefix, sep, _rest = spec.partition(":")
    if not sep:
        raise BackendError(
            f"model spec '{spec}' has no backend prefix; expected PREFIX:..., one of "
            + ", ".join(BACKENDS.names())
        )
    return BACKENDS.get(prefix)


def validate_backend_options(spec: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``options`` against the typed keyword options of the spec's backend.

    Returns:
        The options, coerced to their declared types (``"2048"`` -> 2048 for an int).

    Raises:
        BackendError: For an unknown backend, an unknown option (listing the valid ones) or a
            value of the wrong type.
    """
    cls = backend_class(spec)
    accepted = backend_options(cls)
    prefix = spec.partition(":")[0]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        valid = ", ".join(accepted) or "none"
        raise BackendError(
            f"backend '{prefix}' has no option {', '.join(map(repr, unknown))}; "
            f"valid options: {valid}"
        )
    fields: dict[str, Any] = {
        k: (ann, ... if default is inspect.Parameter.empty else default)
        for k, (ann, default) in accepted.items()
    }
    model = create_model(
        f"{cls.__name__}Options", __config__=ConfigDict(arbitrary_types_allowed=True), **fields
    )
    try:
        validated = model(**options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BackendError(f"invalid options for backend '{prefix}': {problems}") from None
    return {k: getattr(validated, k) for k in options}


def create_backend(spec: str, **options: Any) -> ModelBackend:
    """Build a backend from a spec string ``PREFIX:REST``.

    Args:
        spec: e.g. ``llamacpp:default``, ``hf:PATH+ADAPTER``, ``openai:gpt-4o-mini``,
            ``mock:echo``.
        **options: Backend-specific keyword options (e.g. ``adapter`` for ``hf``), checked
            against the backend's typed options.

    Raises:
        BackendError: For a spec without a prefix or with an unknown prefix, an unknown
            option or an option value of the wrong type.
    """
    cls = backend_class(spec)
    return cls(spec, **validate_backend_options(spec, options))


Responder = Callable[[Request], str]
