"""The common part of the provider batch APIs: every endpoint call runs on the backend's loop.

An SDK client belongs to the loop that first used it (see `tuneval.models.loop`), so each
public method hands its coroutine to the backend's private loop; the provider modules write
only the SDK calls and how their answers read.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from tuneval.errors import CallError
from tuneval.models.base import Completion, Request
from tuneval.models.batch import BatchStatus
from tuneval.models.loop import PrivateLoop


class _LoopBackend(Protocol):
    _loop: PrivateLoop


class ProviderBatchAPI:
    """A provider's batch endpoints for one backend (its model, server and key).

    Args:
        backend: The backend whose client, loop and request parameters are used.
    """

    provider: str
    max_requests: int
    backend: _LoopBackend
    """Subclasses narrow it to their backend class."""

    def __init__(self, backend: _LoopBackend) -> None:
        self.backend = backend

    async def submit(self, items: Sequence[tuple[str, Request]]) -> str:
        """Create a batch of (custom_id, request); returns the batch id.

        Raises:
            CallError: When the creation fails (HTTP status, connection).
        """
        return await self.backend._loop.call(self._submit(self._payload(items)))

    async def status(self, batch_id: str) -> BatchStatus:
        """Retrieve the batch and read its state and request counts."""
        return await self.backend._loop.call(self._status(batch_id))

    async def results(self, batch_id: str) -> dict[str, Completion | CallError]:
        """Each custom_id's completion, or the error that ended it."""
        return await self.backend._loop.call(self._results(batch_id))

    def _payload(self, items: Sequence[tuple[str, Request]]) -> Any:
        raise NotImplementedError

    def _submit(self, payload: Any) -> Coroutine[Any, Any, str]:
        raise NotImplementedError

    def _status(self, batch_id: str) -> Coroutine[Any, Any, BatchStatus]:
        raise NotImplementedError

    def _results(self, batch_id: str) -> Coroutine[Any, Any, dict[str, Completion | CallError]]:
        raise NotImplementedError
