"""Anthropic Message Batches: ``POST /v1/messages/batches``, poll, stream the results JSONL.

Through the official SDK (``messages.batches.create``/``retrieve``/``results``) on the
backend's own client and private loop; each request's ``params`` are exactly what the live
backend sends to ``/v1/messages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuneval.errors import CallError
from tuneval.models.base import Completion, Request
from tuneval.models.batch import BatchStatus, sdk_errors
from tuneval.models.batch_provider import ProviderBatchAPI

if TYPE_CHECKING:
    from tuneval.models.anthropic_backend import AnthropicBackend


class AnthropicBatchAPI(ProviderBatchAPI):
    """Anthropic's Message Batches for one `AnthropicBackend` (its model, server and key)."""

    provider = "anthropic"
    max_requests = 100_000  # Anthropic's limit of requests per batch
    backend: AnthropicBackend

    def _payload(self, items: Sequence[tuple[str, Request]]) -> list[dict[str, Any]]:
        return [
            {"custom_id": custom_id, "params": self.backend._params(request)}
            for custom_id, request in items
        ]

    async def _submit(self, requests: list[dict[str, Any]]) -> str:
        """Create a message batch of (custom_id, request)."""
        client = self.backend._get_client()
        async with sdk_errors("anthropic", no_api=f"the server {self.backend.base_url}"):
            batch = await client.messages.batches.create(requests=requests)
        return str(batch.id)

    async def _status(self, batch_id: str) -> BatchStatus:
        """Retrieve the batch and read its processing status and request counts."""
        client = self.backend._get_client()
        async with sdk_errors("anthropic"):
            batch = await client.messages.batches.retrieve(batch_id)
        c = batch.request_counts
        failed = c.errored + c.canceled + c.expired
        return BatchStatus(
            state=batch.processing_status,
            ended=batch.processing_status == "ended",
            completed=c.succeeded + failed,
            failed=failed,
            total=c.processing + c.succeeded + failed,
        )

    async def _results(self, batch_id: str) -> dict[str, Completion | CallError]:
        """Stream the results file and map each custom_id to its completion or error."""
        client = self.backend._get_client()
        out: dict[str, Completion | CallError] = {}
        async with sdk_errors("anthropic"):
            stream = await client.messages.batches.results(batch_id)
            async for item in stream:
                out[item.custom_id] = result_outcome(item.result)
        return out


def result_outcome(result: Any) -> Completion | CallError:
    """A batch item's result: the message's completion, or the error that ended it."""
    from tuneval.models.anthropic_backend import parse_message

    kind = getattr(result, "type", None)
    if kind == "succeeded":
        try:
            return parse_message(result.message)
        except CallError as exc:
            return exc
    if kind == "errored":
        error = getattr(getattr(result, "error", None), "error", None)
        what = str(getattr(error, "type", "error"))
        return CallError(f"{what}: {getattr(error, 'message', '')}", what)
    # canceled or expired: the batch ended before this request ran.
    return CallError(f"the request was {kind} before it ran", f"batch_{kind}")
