"""The OpenAI Batch API: upload a JSONL of chat requests, create a batch, poll, download.

Through the official SDK, on the backend's own client and private loop: ``files.create``
(purpose ``batch``), ``batches.create`` on ``/v1/chat/completions``, ``batches.retrieve``,
and ``files.content`` of the output and error files. Any server that implements these
endpoints (OpenAI itself, or a compatible one) works with ``openai-compatible:``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuneval.errors import CallError
from tuneval.models.base import Completion, Request
from tuneval.models.batch import BatchStatus, sdk_errors
from tuneval.models.batch_provider import ProviderBatchAPI

if TYPE_CHECKING:
    from tuneval.models.openai_backend import OpenAIBackend

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch states after which no request changes any more."""


class OpenAIBatchAPI(ProviderBatchAPI):
    """OpenAI's batch endpoints for one `OpenAIBackend` (its model, server and key)."""

    provider = "openai"
    max_requests = 50_000  # OpenAI's limit of requests per batch
    backend: OpenAIBackend

    def _payload(self, items: Sequence[tuple[str, Request]]) -> bytes:
        lines = [
            json.dumps(
                {
                    "custom_id": custom_id,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": self.backend._params(request),
                },
                ensure_ascii=False,
            )
            for custom_id, request in items
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    async def _submit(self, data: bytes) -> str:
        """Upload the requests and create a batch on ``/v1/chat/completions``."""
        client = self.backend._get_client()
        async with sdk_errors("openai", no_api=f"the server {self.backend.base_url}"):
            upload = await client.files.create(
                file=("tuneval-batch.jsonl", data, "application/jsonl"), purpose="batch"
            )
            batch = await client.batches.create(
                input_file_id=upload.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"created_by": "tuneval"},
            )
        return str(batch.id)

    async def _status(self, batch_id: str) -> BatchStatus:
        client = self.backend._get_client()
        async with sdk_errors("openai"):
            batch = await client.batches.retrieve(batch_id)
        counts = batch.request_counts
        error = None
        if batch.status in ("failed", "expired", "cancelled"):
            errors = (batch.errors.data if batch.errors else None) or []
            why = "; ".join(str(e.message) for e in errors)
            error = f"the batch {batch.status}" + (f": {why}" if why else "")
        return BatchStatus(
            state=batch.status,
            ended=batch.status in ENDED,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            total=counts.total if counts else 0,
            error=error,
        )

    async def _results(self, batch_id: str) -> dict[str, Completion | CallError]:
        """Download the output and error files and map each custom_id to its outcome."""
        client = self.backend._get_client()
        out: dict[str, Completion | CallError] = {}
        async with sdk_errors("openai"):
            batch = await client.batches.retrieve(batch_id)
            for file_id in (batch.output_file_id, batch.error_file_id):
                if not file_id:
                    continue
                content = await client.files.content(file_id)
                for line in content.text.splitlines():
                    if line.strip():
                        custom_id, outcome = parse_output_line(line)
                        out[custom_id] = outcome
        return out


def parse_output_line(line: str) -> tuple[str, Completion | CallError]:
    """One line of a batch output or error file: its custom_id and completion or error.

    Raises:
        CallError: ``bad_response`` for a line that is not a batch result.
    """
    from tuneval.models.openai_backend import parse_chat_completion

    try:
        record = json.loads(line)
        custom_id = str(record["custom_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CallError(f"malformed batch output line: {exc!r}", "bad_response") from None
    error = record.get("error")
    response = record.get("response") or {}
    status = int(response.get("status_code") or 0)
    if error:
        kind = str(error.get("code") or "batch_error")
        return custom_id, CallError(f"{kind}: {error.get('message', '')}", kind)
    if status != 200:
        body = response.get("body") or {}
        message = (body.get("error") or {}).get("message", "") if isinstance(body, dict) else ""
        return custom_id, CallError(f"HTTP {status}: {message}", f"http_{status}")
    try:
        return custom_id, parse_chat_completion(response.get("body"))
    except CallError as exc:
        return custom_id, exc
