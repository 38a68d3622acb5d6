"""The annotation app's front door: token and body size are checked before the body is read.

FastAPI reads and parses a request's whole JSON body before it runs any dependency, the token
check included, so without this an anonymous client could make the server read and parse a
body of any size (an 80 MB body cost 562 MB of memory before the 401). Here the ``/api/``
token is checked from the headers first, a declared ``Content-Length`` over the cap is refused
at once, and a body without one (chunked) is counted while it streams and refused as soon as it
passes the cap. Neither refusal reads the rest of the body. The routes still check which
annotator (or the organiser) a token belongs to; this only keeps strangers and oversized
bodies from costing anything.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024
"""Largest request body accepted, in bytes: a vote is a few KB (a comment is <= 4000 chars)."""

MISSING_TOKEN = "missing token: open the private link you were given"
UNKNOWN_TOKEN = "unknown token: check the link you were given"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None if it has none."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestGuard:
    """Refuse unauthenticated ``/api/`` calls and oversized bodies without reading the body.

    Args:
        app: The ASGI app to protect.
        known_token: Whether a token belongs to anyone (an annotator or the organiser).
        max_body: The body size cap in bytes.
    """

    def __init__(
        self, app: ASGIApp, known_token: Callable[[str], bool], max_body: int = MAX_BODY
    ) -> None:
        self.app = app
        self.known_token = known_token
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the headers, then read the (capped) body, then hand the request on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        refusal = self._refuse_by_headers(scope["path"], headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        body = await self._read_body(receive)
        if body is None:
            await _answer(send, 413, self._too_large())
            return
        await self.app(scope, _replay(body, receive), send)

    def _refuse_by_headers(
        self, path: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, str] | None:
        if path.startswith("/api/"):
            token = bearer_token(_header(headers, b"authorization"))
            if token is None:
                return 401, MISSING_TOKEN
            if not self.known_token(token):
                return 403, UNKNOWN_TOKEN
        # The server has already refused a malformed Content-Length; a body without one is
        # counted as it arrives (`_read_body`).
        length = (_header(headers, b"content-length") or "").strip()
        if length.isdigit() and int(length) > self.max_body:
            return 413, self._too_large()
        return None

    def _too_large(self) -> str:
        return f"request body too large: at most {self.max_body // 1024} KB is accepted"

    async def _read_body(self, receive: Receive) -> list[Message] | None:
        """The body's messages, or None as soon as they pass the cap (the rest stays unread)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client left; the app will see the disconnect
            size += len(message.get("body", b""))
            if size > self.max_body:
                return None
            if not message.get("more_body", False):
                return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that returns the already read messages, then waits on the real one."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed


async def _answer(send: Send, status: int, detail: str) -> None:
    """A JSON error response in FastAPI's shape: ``{"detail": ...}``."""
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
