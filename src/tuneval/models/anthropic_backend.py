"""``anthropic:MODEL``: Anthropic's Messages API through the official SDK.

The key comes from ``$ANTHROPIC_API_KEY`` (never logged or written); the SDK's own retries
are off so that the runner owns retries, backoff and concurrency. System turns become the
``system`` parameter. The API has no sampling seed, so ``seed`` is not sent; temperature and
top_p are sent only where the installed SDK still has them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tuneval.errors import BackendError, CallError, require
from tuneval.models.base import Completion, ModelBackend, Request, Usage, register_backend
from tuneval.models.loop import PrivateLoop
from tuneval.models.openai_backend import map_sdk_error

if TYPE_CHECKING:
    from tuneval.models.batch_anthropic import AnthropicBatchAPI

DEFAULT_BASE_URL = "https://api.anthropic.com"


def parse_message(response: Any) -> Completion:
    """The `Completion` in a Messages API reply (live, or a batch's succeeded result).

    Raises:
        CallError: ``bad_response`` for a reply without content or usage.
    """
    try:
        text = "".join(b.text for b in response.content if getattr(b, "type", "") == "text")
        usage = Usage(
            prompt_tokens=response.usage.input_tokens,
            completion_tokens=response.usage.output_tokens,
        )
    except (AttributeError, TypeError) as exc:
        raise CallError(f"malformed response: {exc}", "bad_response") from None
    return Completion(text=text, finish_reason=response.stop_reason, usage=usage)


@register_backend
class AnthropicBackend(ModelBackend):
    """Claude models.

    Args:
        spec: ``anthropic:MODEL``.
        api_key: Overrides ``$ANTHROPIC_API_KEY``.
        base_url: Overrides the API address (``$ANTHROPIC_BASE_URL``).
        http_client: An ``httpx.AsyncClient`` for the SDK (tests pass a mock transport).
    """

    prefix = "anthropic"

    def __init__(
        self,
        spec: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: Any = None,
    ) -> None:
        super().__init__(spec)
        self.model = spec.partition(":")[2]
        if not self.model:
            raise BackendError(f"model spec '{spec}' names no model; use anthropic:MODEL")
        self._api_key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not self._api_key:
            raise BackendError("the anthropic backend needs an API key: set ANTHROPIC_API_KEY")
        self.base_url = (
            base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self._http_client = http_client
        self._client: Any = None
        self._accepted: frozenset[str] | None = None
        # The client lives and dies on this loop, whatever loop the caller runs.
        self._loop = PrivateLoop("tuneval-anthropic")

    @property
    def name(self) -> str:
        """The model name."""
        return self.model

    def identity(self) -> str:
        """Base URL and model name (never the key)."""
        return f"anthropic:{self.base_url}#{self.model}"

    def _get_client(self) -> Any:
        if self._client is None:
            sdk: Any = require(
                "anthropic", package="anthropic", extra="api", purpose="The anthropic backend"
            )
            self._client = sdk.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=600.0,
                http_client=self._http_client,
            )
        return self._client

    def _params(self, request: Request) -> dict[str, Any]:
        d = request.decoding
        messages = request.full_messages()
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": d.max_tokens,
            "messages": [
                {"role": m.role, "content": m.content} for m in messages if m.role != "system"
            ],
        }
        if system:
            params["system"] = system
        # Newer SDK versions (and models) take no sampling parameters; send them only where
        # the installed SDK still accepts them.
        accepted = self._accepted_params()
        if "temperature" in accepted:
            params["temperature"] = d.temperature
        if "top_p" in accepted and d.top_p < 1.0:
            params["top_p"] = d.top_p
        if d.stop:
            params["stop_sequences"] = list(d.stop)
        return params

    def _accepted_params(self) -> frozenset[str]:
        import inspect

        if self._accepted is None:
            create = self._get_client().messages.create
            self._accepted = frozenset(inspect.signature(create).parameters)
        return self._accepted

    async def complete(self, request: Request) -> Completion:
        """One Messages API call, made on the backend's private loop.

        Raises:
            CallError: ``http_<status>`` (with Retry-After), ``timeout``, ``connection`` or
                ``bad_response``.
        """
        return await self._loop.call(self._complete(request))

    async def _complete(self, request: Request) -> Completion:
        client = self._get_client()
        try:
            response = await client.messages.create(**self._params(request))
        except Exception as exc:
            import anthropic

            raise map_sdk_error(exc, anthropic) from None
        return parse_message(response)

    def batch_api(self) -> AnthropicBatchAPI:
        """Anthropic's Message Batches API for this model and key."""
        from tuneval.models.batch_anthropic import AnthropicBatchAPI

        return AnthropicBatchAPI(self)

    async def aclose(self) -> None:
        """Close the HTTP client on the loop that used it, then stop that loop."""
        await self._loop.aclose(self._close_client)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
