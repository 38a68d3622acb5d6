"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, TGI, llama.cpp's server).

Specs: ``openai:MODEL`` (api.openai.com, or ``$OPENAI_BASE_URL``; key from
``$OPENAI_API_KEY``) and ``openai-compatible:BASE_URL#MODEL`` (key from
``$TUNEVAL_API_KEY``, else ``$OPENAI_API_KEY``, else none, as local servers need none).
The SDK's own retries are off (``max_retries=0``): the runner owns retries, backoff and
concurrency. Keys are never logged, never part of `identity()`, never written to runs.
"""

from __future__ import annotations

import os
from typing import Any

from tuneval.errors import BackendError, CallError, require
from tuneval.models.base import Completion, ModelBackend, Request, Usage, register_backend

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CLIENT_SHARDS = 8


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` (or ``retry-after-ms``) header, when present."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def map_openai_error(exc: Exception) -> CallError:
    """Turn an ``openai`` SDK exception into a `CallError` with a runner-readable kind."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return CallError(f"request timed out: {exc}", "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return CallError(f"cannot connect: {exc}", "connection")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return CallError(
            f"HTTP {status}: {exc.message}",
            f"http_{status}",
            retry_after=parse_retry_after(exc.response.headers),
        )
    return CallError(f"malformed response: {type(exc).__name__}: {exc}", "bad_response")


@register_backend
class OpenAIBackend(ModelBackend):
    """``openai:MODEL``: the OpenAI API (or ``$OPENAI_BASE_URL``).

    Args:
        spec: ``openai:MODEL``.
        api_key: Overrides the key from the environment.
        base_url: Overrides the server.
    """

    prefix = "openai"

    def __init__(self, spec: str, *, api_key: str | None = None, base_url: str | None = None):
        super().__init__(spec)
        self.model = spec.partition(":")[2]
        if not self.model:
            raise BackendError(f"model spec '{spec}' names no model; use openai:MODEL")
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self._api_key = api_key or self._key_from_env()
        self._clients: list[Any] = []
        self._turn = 0
        self._request_options: Any = {}

    def _key_from_env(self) -> str:
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise BackendError(
                "the openai backend needs an API key: set OPENAI_API_KEY (or use "
                "openai-compatible:BASE_URL#MODEL for a local server)"
            )
        return key

    @property
    def name(self) -> str:
        """The model name."""
        return self.model

    def identity(self) -> str:
        """Base URL and model name (never the key)."""
        return f"openai-compatible:{self.base_url}#{self.model}"

    def _get_client(self) -> Any:
        if not self._clients:
            openai = require("openai", package="openai", extra="api", purpose="The openai backend")
            # Several clients, used in turn: the HTTP connection pool scans all its
            # connections on every request, so one pool of 64 connections costs ~1 ms of CPU
            # per call; eight pools of eight cost an eighth of that.
            self._clients = [
                openai.AsyncOpenAI(  # type: ignore[attr-defined]
                    api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=600.0
                )
                for _ in range(CLIENT_SHARDS)
            ]
            from openai._types import RequestOptions

            # Newer SDKs attach the key per request ("security"); older ones always do.
            if "security" in RequestOptions.__annotations__:
                self._request_options = {"security": {"bearer_auth": True}}
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    def _params(self, request: Request) -> dict[str, Any]:
        d = request.decoding
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.full_messages()],
            "temperature": d.temperature,
            "top_p": d.top_p,
            "max_tokens": d.max_tokens,
        }
        if d.stop:
            params["stop"] = list(d.stop)
        if d.seed is not None:
            params["seed"] = d.seed
        if request.json_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": request.json_schema},
            }
        return params

    async def complete(self, request: Request) -> Completion:
        """One chat completion.

        Raises:
            CallError: ``http_<status>`` (with Retry-After), ``timeout``, ``connection`` or
                ``bad_response`` for a body that is not a chat completion.
        """
        client = self._get_client()
        try:
            # The SDK's low-level post: same client, auth and error types as
            # ``chat.completions.create``, without its per-call TypedDict transform and model
            # building, which cost about 1 ms of CPU per request (a third of the client's time
            # at 300 req/s).
            response = await client.post(
                "/chat/completions",
                body=self._params(request),
                cast_to=dict,  # plain JSON: we read four fields, no model building needed
                options=self._request_options,
            )
        except Exception as exc:
            raise map_openai_error(exc) from None
        try:
            choice = response["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("the reply has no message content")
            usage = response.get("usage") or {}
            return Completion(
                text=text,
                finish_reason=choice.get("finish_reason"),
                usage=Usage(
                    prompt_tokens=int(usage.get("prompt_tokens") or 0),
                    completion_tokens=int(usage.get("completion_tokens") or 0),
                ),
            )
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise CallError(f"malformed response: {exc!r}", "bad_response") from None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        for client in self._clients:
            await client.close()
        self._clients = []


@register_backend
class OpenAICompatibleBackend(OpenAIBackend):
    """``openai-compatible:BASE_URL#MODEL``: any server that speaks the OpenAI chat API."""

    prefix = "openai-compatible"

    def __init__(self, spec: str, *, api_key: str | None = None, base_url: str | None = None):
        rest = spec.partition(":")[2]
        url, sep, model = rest.rpartition("#")
        if not sep or not url or not model:
            raise BackendError(
                f"model spec '{spec}' must be openai-compatible:BASE_URL#MODEL, e.g. "
                "openai-compatible:http://127.0.0.1:8080/v1#my-model"
            )
        super().__init__(f"openai:{model}", api_key=api_key, base_url=base_url or url)
        self.spec = spec

    def _key_from_env(self) -> str:
        # Local servers take any key; the SDK insists on a non-empty one.
        return os.environ.get("TUNEVAL_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none"
