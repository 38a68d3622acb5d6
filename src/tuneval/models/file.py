"""``file:PREDICTIONS.jsonl[#FIELD]``: replay outputs made elsewhere as if a model gave them.

Each request is answered with the prediction of its example (matched by
`Request.example_id`, else by the prompt when the file has a ``prompt`` field). The file is
read with `tuneval.data.load_predictions` (JSONL, JSON, CSV, Parquet), so bad records are
reported with file, line and field. A prediction recorded as an error replays as that error.
"""

from __future__ import annotations

from pathlib import Path

from tuneval.errors import BackendError, CallError
from tuneval.models.base import Completion, ModelBackend, Request, register_backend
from tuneval.records import Generation


@register_backend
class FileBackend(ModelBackend):
    """Replays a predictions file.

    Args:
        spec: ``file:PATH`` (predictions in the ``prediction`` field) or ``file:PATH#FIELD``.
    """

    prefix = "file"

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        from tuneval.data import load_predictions

        rest = spec.partition(":")[2]
        path, _, field = rest.partition("#")
        self.path = Path(path)
        if not self.path.is_file():
            raise BackendError(f"predictions file not found: {self.path}")
        records = load_predictions(self.path, model="file", prediction_field=field or "prediction")
        self._by_id: dict[str, Generation] = {g.example_id: g for g in records}
        self._by_prompt: dict[str, Generation] = {}
        for g in records:
            prompt = g.metadata.get("prompt")
            if isinstance(prompt, str):
                self._by_prompt.setdefault(prompt, g)

    def identity(self) -> str:
        """sha256 of the predictions file."""
        from tuneval.models.llamacpp import weights_sha256

        return f"file:sha256={weights_sha256(self.path)}"

    async def complete(self, request: Request) -> Completion:
        """The recorded prediction of the request's example.

        Raises:
            CallError: ``missing`` when the file has no prediction for it; ``replayed_error``
                when the file recorded a failure.
        """
        found = self._by_id.get(request.example_id) if request.example_id is not None else None
        if found is None and request.messages:
            found = self._by_prompt.get(request.messages[-1].content)
        if found is None:
            raise CallError(
                f"{self.path} has no prediction for example '{request.example_id}'", "missing"
            )
        if found.output is None:
            raise CallError(found.error or "error", "replayed_error")
        return Completion(text=found.output, finish_reason="replay")
