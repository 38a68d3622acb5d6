"""A scripted in-process backend for tests, demos and exact pipeline checks.

``mock:echo`` answers with the last user message, ``mock:upper`` with it upper-cased,
``mock:constant=TEXT`` always with TEXT. In Python, ``MockBackend("mock:x", responder=f)``
answers with ``f(request)``; the responder may raise `CallError` to simulate failures.
Every request is recorded in `MockBackend.calls` so tests can count calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tuneval.errors import BackendError
from tuneval.models.base import Completion, Message, ModelBackend, Request, Usage, register_backend


def _last_user(request: Request) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.content
    return ""


_BUILTIN: dict[str, Callable[[Request], str]] = {
    "echo": _last_user,
    "upper": lambda r: _last_user(r).upper(),
    "empty": lambda r: "",
}


@register_backend
class MockBackend(ModelBackend):
    """Scripted responses, no model.

    Args:
        spec: ``mock:echo``, ``mock:upper``, ``mock:empty`` or ``mock:constant=TEXT``; any
            other name needs ``responder``.
        responder: Maps a request to the reply text.
        logprob: Maps (rendered context, continuation) to a log-probability, enabling
            `loglikelihood`.
    """

    prefix = "mock"

    def __init__(
        self,
        spec: str,
        *,
        responder: Callable[[Request], str] | None = None,
        logprob: Callable[[str, str], float] | None = None,
    ) -> None:
        super().__init__(spec)
        name = spec.partition(":")[2]
        if responder is None:
            if name.startswith("constant="):
                text = name.partition("=")[2]
                responder = lambda r: text  # noqa: E731
            elif name in _BUILTIN:
                responder = _BUILTIN[name]
            else:
                raise BackendError(
                    f"unknown mock '{name}'; use mock:echo, mock:upper, mock:empty or "
                    "mock:constant=TEXT (or pass a responder in Python)"
                )
        self.responder = responder
        self._logprob = logprob
        self.supports_logprobs = logprob is not None
        self.calls: list[Request] = []

    async def complete(self, request: Request) -> Completion:
        """Answer with the responder's text; usage counts whitespace tokens."""
        self.calls.append(request)
        text = self.responder(request)
        for stop in request.decoding.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        prompt_tokens = sum(len(m.content.split()) for m in request.full_messages())
        return Completion(
            text=text,
            finish_reason="stop",
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split())),
        )

    async def loglikelihood(
        self, context: Sequence[Message], continuations: Sequence[str]
    ) -> list[float]:
        """Log-probabilities from the ``logprob`` callable."""
        if self._logprob is None:
            return await super().loglikelihood(context, continuations)
        rendered = "\n".join(m.content for m in context)
        return [float(self._logprob(rendered, c)) for c in continuations]

    async def loglikelihood_text(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Log-probabilities from the ``logprob`` callable, given the plain prompt."""
        if self._logprob is None:
            return await super().loglikelihood_text(prompt, continuations)
        return [float(self._logprob(prompt, c)) for c in continuations]


def uniform_logprob(context: str, continuation: str) -> float:
    """A log-probability that prefers shorter continuations; handy for deterministic tests."""
    return -math.log(2.0) * max(1, len(continuation))
