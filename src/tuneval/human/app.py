"""The annotation web app (FastAPI): annotator pages, the vote API and the organiser page.

Security model: every API call carries a secret token (``Authorization: Bearer``), which the
pages read from the URL fragment of the private link (``/annotate#token=...``), so the token
is never sent in a URL to the server, never logged and never leaked through ``Referer``. An
annotator token sees and votes on that annotator's items only; the organiser token sees
progress and aggregate agreement. No response ever carries the A/B -> model mapping, and the
pages put model output into the DOM as text only, under a Content-Security-Policy that allows
no inline script. `RequestGuard` refuses a missing or unknown token and a body over 64 KB
before any of the body is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneval.errors import require

# This module is imported only when the app is built (``tuneval human serve``), so FastAPI is
# imported at module level: route signatures must resolve in module globals.
require("fastapi", package="fastapi", extra="human", purpose="The annotation app")

from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import FileResponse, JSONResponse  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402

from tuneval.human.agreement import agreement_report  # noqa: E402
from tuneval.human.guard import MISSING_TOKEN, UNKNOWN_TOKEN, RequestGuard, bearer_token  # noqa: E402
from tuneval.human.records import (  # noqa: E402
    CRITERIA,
    CRITERION_HELP,
    SCORE_MAX,
    SCORE_MIN,
    VoteInput,
)
from tuneval.human.store import NotAssignedError, StudyStore  # noqa: E402

STATIC = Path(__file__).parent / "static"
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(study: str | Path) -> FastAPI:
    """Build the app for one study directory."""
    store = StudyStore(study)
    info = store.info()
    app = FastAPI(title="tuneval annotation", docs_url=None, redoc_url=None, openapi_url=None)

    # The last added runs first: SecurityHeaders also covers RequestGuard's refusals.
    app.add_middleware(RequestGuard, known_token=lambda t: _known(store, t))
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the request body is not valid JSON"}, status_code=400)
        parts = []
        for e in errors:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return JSONResponse({"detail": "invalid vote: " + "; ".join(parts)}, status_code=422)

    # Defence in depth: RequestGuard has already refused missing and unknown tokens (before
    # the body was read); these dependencies decide whose token it is.
    def bearer(request: Request) -> str:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise HTTPException(401, MISSING_TOKEN)
        return token

    def annotator(token: str = Depends(bearer)) -> str:
        name = store.annotator_for(token)
        if name is None:
            raise HTTPException(403, UNKNOWN_TOKEN)
        return name

    def organiser(token: str = Depends(bearer)) -> None:
        if not store.is_organiser(token):
            raise HTTPException(403, "this page needs the organiser's token")

    @app.get("/api/session")
    def session(name: str = Depends(annotator)) -> dict[str, Any]:
        items = store.assigned_items(name)
        votes = store.votes(name)
        return {
            "study": info.name,
            "annotator": name,
            "scale": [SCORE_MIN, SCORE_MAX],
            "rubric": [
                {"key": c, "label": CRITERION_HELP[c][0], "help": CRITERION_HELP[c][1]}
                for c in CRITERIA
            ],
            "items": [
                {
                    "item_id": i.item_id,
                    "prompt": i.prompt,
                    "response_a": i.response_a,
                    "response_b": i.response_b,
                }
                for i in items
            ],
            "votes": {v.item_id: _vote_json(v) for v in votes},
        }

    @app.put("/api/votes/{item_id}")
    def put_vote(item_id: str, vote: VoteInput, name: str = Depends(annotator)) -> dict[str, Any]:
        try:
            stored = store.put_vote(name, item_id, vote)
        except NotAssignedError:
            raise HTTPException(403, f"item '{item_id}' is not assigned to you") from None
        done, total = store.progress_of(name)
        return {"vote": _vote_json(stored), "progress": {"done": done, "total": total}}

    @app.get("/api/organiser", dependencies=[Depends(organiser)])
    def organiser_view() -> dict[str, Any]:
        from tuneval.human.results import load_unblinded

        # Agreement is computed on unblinded labels here, server side; only the aggregate
        # figures leave, never a per-item mapping.
        report = agreement_report(load_unblinded(store), list(info.annotators))
        return {
            "study": info.name,
            "items": info.items,
            "per_item": info.per_item,
            "progress": [
                {"annotator": a, "done": d, "total": t} for a, (d, t) in store.progress().items()
            ],
            "agreement": report.model_dump(),
        }

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/annotate")
    def annotate_page() -> FileResponse:
        return FileResponse(STATIC / "annotate.html")

    @app.get("/organiser")
    def organiser_page() -> FileResponse:
        return FileResponse(STATIC / "organiser.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


class SecurityHeaders:
    """Pure ASGI middleware adding `_HEADERS` to every response.

    Cheaper per request than Starlette's ``BaseHTTPMiddleware``, which matters when many
    annotators vote at once.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _known(store: StudyStore, token: str) -> bool:
    return store.annotator_for(token) is not None or store.is_organiser(token)


def _vote_json(vote: Any) -> dict[str, Any]:
    data: dict[str, Any] = vote.model_dump(exclude={"annotator"})
    return data


def links(study: str | Path, base_url: str) -> tuple[dict[str, str], str]:
    """Each annotator's private link and the organiser's link.

    Returns:
        ``({annotator: url}, organiser_url)``.
    """
    store = StudyStore(study)
    base = base_url.rstrip("/")
    annotators = {name: f"{base}/annotate#token={t}" for name, t in store.tokens().items()}
    return annotators, f"{base}/organiser#token={store.organiser_token()}"


def serve(study: str | Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with uvicorn until interrupted (no access log: URLs are not logged)."""
    require("uvicorn", package="uvicorn", extra="human", purpose="The annotation app")
    import uvicorn

    uvicorn.run(create_app(study), host=host, port=port, log_level="warning", access_log=False)
