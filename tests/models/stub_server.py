"""A fault-injecting OpenAI-compatible chat server for tests and benchmarks.

Answers ``POST /v1/chat/completions`` (and, without faults, Anthropic's ``POST /v1/messages``)
with the last user message reversed, after a fixed latency; at configurable rates it answers
429 with ``Retry-After``, 500, a slow reply or a malformed body instead. Every *successful*
reply is appended (and flushed) to the log file before it is sent, so a test can prove which
calls finished even if the client was killed.

It also implements the batch endpoints: OpenAI's ``/v1/files``, ``/v1/batches`` and file
content, and Anthropic's ``/v1/messages/batches`` with results; a batch stays pending for
``batch_pending_polls`` polls (or while ``state.hold``), and ``state.batches_created``
counts submissions so a test can prove a resumed run did not submit again.

Run as a process: ``python tests/models/stub_server.py --port P --latency 0.2 --log F``.
In a test: ``with serve_in_thread(StubConfig(...)) as (url, state): ...``.
"""

import argparse
import asyncio
import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StubConfig:
    latency_s: float = 0.0
    rate_429: float = 0.0
    retry_after: float = 0.05
    rate_500: float = 0.0
    rate_slow: float = 0.0
    slow_s: float = 2.0
    rate_malformed: float = 0.0
    fail_first: int = 0
    """Answer 429 to the first N attempts of every distinct prompt (deterministic retries)."""
    seed: int = 0
    log: str | None = None
    reply: str = "reverse"
    """``reverse``: the last user message reversed; ``verdict``: a pairwise judge's JSON
    verdict preferring the longer of ``[Answer A]`` and ``[Answer B]`` (judge benchmarks)."""
    batch_api: bool = True
    """Serve the batch endpoints (False: a server without them, as vLLM)."""
    batch_pending_polls: int = 0
    """Polls a batch stays ``in_progress`` before it completes (batch endpoints)."""
    batch_fail_marker: str = "[batch-fail]"
    """A batch request whose prompt contains this fails (an error line, as OpenAI's error
    file or Anthropic's ``errored`` result)."""


@dataclass
class StubState:
    config: StubConfig
    requests: int = 0
    ok: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    peak_in_flight: int = 0
    authorization: str | None = None
    batches_created: dict[str, int] = field(default_factory=dict)
    """Batches created, by provider (``openai``, ``anthropic``)."""
    batch_polls: int = 0
    hold: bool = False
    """While True every batch stays pending, whatever ``batch_pending_polls`` says."""
    hold_calls: bool = False
    """While True every chat call waits before answering (a run is kept busy for a test)."""
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


def make_app(config: StubConfig) -> Any:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response

    app = FastAPI()
    state = StubState(config)
    app.state.stub = state
    rng = random.Random(config.seed)
    log = open(config.log, "a", encoding="utf-8") if config.log else None  # noqa: SIM115

    def fault(name: str) -> None:
        state.faults[name] = state.faults.get(name, 0) + 1

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        prompt = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        state.requests += 1
        state.authorization = request.headers.get("authorization")
        state.attempts[prompt] = state.attempts.get(prompt, 0) + 1
        state.in_flight += 1
        state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            if state.attempts[prompt] <= config.fail_first or rng.random() < config.rate_429:
                fault("429")
                return JSONResponse(
                    {"error": {"message": "rate limited", "type": "rate_limit"}},
                    status_code=429,
                    headers={"Retry-After": str(config.retry_after)},
                )
            if rng.random() < config.rate_500:
                fault("500")
                return JSONResponse({"error": {"message": "boom"}}, status_code=500)
            while state.hold_calls:  # a test holds the caller mid-call until it lets go
                await asyncio.sleep(0.01)
            delay = config.latency_s
            if rng.random() < config.rate_slow:
                fault("slow")
                delay = config.slow_s
            if delay:
                await asyncio.sleep(delay)
            if rng.random() < config.rate_malformed:
                fault("malformed")
                return PlainTextResponse("{not json", media_type="application/json")
            text = _verdict(prompt) if config.reply == "verdict" else prompt[::-1]
            state.ok += 1
            if log is not None:
                log.write(json.dumps({"prompt": prompt, "t": time.time()}) + "\n")
                log.flush()
            return JSONResponse(
                {
                    "id": f"chatcmpl-{state.requests}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": len(prompt.split()),
                        "completion_tokens": len(text.split()),
                        "total_tokens": len(prompt.split()) + len(text.split()),
                    },
                }
            )
        finally:
            state.in_flight -= 1

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        # Anthropic's Messages API, enough for the anthropic backend's happy path.
        body = await request.json()
        prompt = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        state.requests += 1
        state.ok += 1
        text = _verdict(prompt) if config.reply == "verdict" else prompt[::-1]
        return JSONResponse(
            {
                "id": f"msg_{state.requests}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": len(prompt.split()), "output_tokens": 1},
            }
        )

    if config.batch_api:
        answer = _verdict if config.reply == "verdict" else (lambda prompt: prompt[::-1])
        add_batch_routes(app, state, answer)
    return app


def _multipart_file(body: bytes, content_type: str) -> bytes:
    """The ``file`` part of a multipart upload (no python-multipart needed)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            return data.removesuffix(b"\r\n")
    raise ValueError("the upload has no file part")


def _last_user(messages: list[dict[str, Any]]) -> str:
    return [m["content"] for m in messages if m["role"] == "user"][-1]


def _chat_body(model: str, text: str, prompt: str, n: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-b{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": len(prompt.split()),
            "completion_tokens": len(text.split()),
            "total_tokens": len(prompt.split()) + len(text.split()),
        },
    }


def add_batch_routes(app: Any, state: StubState, answer: Any) -> None:
    """OpenAI files/batches and Anthropic message batches, pending for N polls each."""
    from fastapi import HTTPException, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response

    config = state.config

    def created(provider: str) -> str:
        state.batches_created[provider] = state.batches_created.get(provider, 0) + 1
        return f"{provider[:3]}batch_{sum(state.batches_created.values())}"

    def ready(batch: dict[str, Any]) -> bool:
        state.batch_polls += 1
        batch["polls"] += 1
        return not state.hold and batch["polls"] > config.batch_pending_polls

    @app.post("/v1/files")
    async def upload(request: Request) -> Response:
        data = _multipart_file(await request.body(), request.headers["content-type"])
        file_id = f"file-{len(state.files) + 1}"
        state.files[file_id] = data
        return JSONResponse(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(data),
                "created_at": int(time.time()),
                "filename": "batch.jsonl",
                "purpose": "batch",
                "status": "processed",
            }
        )

    @app.get("/v1/files/{file_id}/content")
    async def content(file_id: str) -> Response:
        if file_id not in state.files:
            raise HTTPException(404, "no such file")
        return PlainTextResponse(state.files[file_id].decode())

    def openai_view(batch: dict[str, Any]) -> dict[str, Any]:
        done = batch["status"] == "completed"
        n = len(batch["requests"])
        return {
            "id": batch["id"],
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "created_at": batch["created"],
            "input_file_id": batch["input_file_id"],
            "status": batch["status"],
            "output_file_id": batch.get("output_file_id"),
            "error_file_id": batch.get("error_file_id"),
            "request_counts": {
                "total": n,
                "completed": n if done else 0,
                "failed": batch.get("failed", 0),
            },
        }

    def finish_openai(batch: dict[str, Any]) -> None:
        out, err = [], []
        for i, line in enumerate(batch["requests"]):
            body = line["body"]
            prompt = _last_user(body["messages"])
            if config.batch_fail_marker in prompt:
                err.append(
                    {
                        "id": f"req_{i}",
                        "custom_id": line["custom_id"],
                        "error": None,
                        "response": {
                            "status_code": 400,
                            "body": {"error": {"message": "the stub refuses this request"}},
                        },
                    }
                )
                continue
            text = answer(prompt)
            out.append(
                {
                    "id": f"req_{i}",
                    "custom_id": line["custom_id"],
                    "error": None,
                    "response": {
                        "status_code": 200,
                        "body": _chat_body(body["model"], text, prompt, i),
                    },
                }
            )
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                file_id = f"file-{len(state.files) + 1}"
                state.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[name] = file_id
        batch["failed"] = len(err)
        batch["status"] = "completed"

    @app.post("/v1/batches")
    async def create_batch(request: Request) -> Response:
        body = await request.json()
        data = state.files[body["input_file_id"]].decode()
        batch = {
            "id": created("openai"),
            "created": int(time.time()),
            "polls": 0,
            "input_file_id": body["input_file_id"],
            "status": "in_progress",
            "requests": [json.loads(x) for x in data.splitlines() if x.strip()],
        }
        state.batches[batch["id"]] = batch
        return JSONResponse(openai_view(batch))

    @app.get("/v1/batches/{batch_id}")
    async def get_batch(batch_id: str) -> Response:
        batch = state.batches.get(batch_id)
        if batch is None:
            raise HTTPException(404, "no such batch")
        if batch["status"] != "completed" and ready(batch):
            finish_openai(batch)
        return JSONResponse(openai_view(batch))

    def anthropic_view(batch: dict[str, Any], base: str) -> dict[str, Any]:
        ended = batch["status"] == "ended"
        n, failed = len(batch["requests"]), batch.get("failed", 0)
        return {
            "id": batch["id"],
            "type": "message_batch",
            "processing_status": batch["status"],
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2026-01-02T00:00:00Z",
            "request_counts": {
                "processing": 0 if ended else n,
                "succeeded": n - failed if ended else 0,
                "errored": failed,
                "canceled": 0,
                "expired": 0,
            },
            "results_url": f"{base}v1/messages/batches/{batch['id']}/results" if ended else None,
        }

    @app.post("/v1/messages/batches")
    async def create_message_batch(request: Request) -> Response:
        body = await request.json()
        batch = {
            "id": created("anthropic"),
            "polls": 0,
            "status": "in_progress",
            "requests": body["requests"],
        }
        state.batches[batch["id"]] = batch
        return JSONResponse(anthropic_view(batch, str(request.base_url)))

    @app.get("/v1/messages/batches/{batch_id}")
    async def get_message_batch(batch_id: str, request: Request) -> Response:
        batch = state.batches.get(batch_id)
        if batch is None:
            raise HTTPException(404, "no such batch")
        if batch["status"] != "ended" and ready(batch):
            batch["status"] = "ended"
            batch["failed"] = sum(
                config.batch_fail_marker in _last_user(r["params"]["messages"])
                for r in batch["requests"]
            )
        return JSONResponse(anthropic_view(batch, str(request.base_url)))

    @app.get("/v1/messages/batches/{batch_id}/results")
    async def message_batch_results(batch_id: str) -> Response:
        batch = state.batches[batch_id]
        lines = []
        for r in batch["requests"]:
            prompt = _last_user(r["params"]["messages"])
            if config.batch_fail_marker in prompt:
                result: dict[str, Any] = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {
                            "type": "invalid_request_error",
                            "message": "the stub refuses this",
                        },
                    },
                }
            else:
                text = answer(prompt)
                result = {
                    "type": "succeeded",
                    "message": {
                        "id": "msg_b",
                        "type": "message",
                        "role": "assistant",
                        "model": r["params"]["model"],
                        "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": len(prompt.split()), "output_tokens": 1},
                    },
                }
            lines.append(json.dumps({"custom_id": r["custom_id"], "result": result}))
        return PlainTextResponse("\n".join(lines) + "\n", media_type="application/binary")


def _verdict(prompt: str) -> str:
    """A judge's verdict on a pairwise prompt: the longer answer wins."""
    a = prompt.split("[Answer A]\n", 1)[-1].split("\n\n[Answer B]", 1)[0]
    b = prompt.split("[Answer B]\n", 1)[-1].split("\n\nCompare", 1)[0]
    winner = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"
    return json.dumps({"reasoning": "the longer answer", "winner": winner})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(config: StubConfig) -> Iterator[tuple[str, StubState]]:
    """Run the stub on a free port in a thread; yields (base URL ending in /v1, state)."""
    import uvicorn

    app = make_app(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("stub server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1", app.state.stub
    finally:
        server.should_exit = True
        thread.join(10)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--rate-500", type=float, default=0.0)
    parser.add_argument("--rate-malformed", type=float, default=0.0)
    parser.add_argument("--log", default=None)
    parser.add_argument("--reply", choices=("reverse", "verdict"), default="reverse")
    parser.add_argument("--batch-pending-polls", type=int, default=0)
    args = parser.parse_args()
    config = StubConfig(
        latency_s=args.latency,
        rate_429=args.rate_429,
        rate_500=args.rate_500,
        rate_malformed=args.rate_malformed,
        log=args.log,
        reply=args.reply,
        batch_pending_polls=args.batch_pending_polls,
    )
    if args.log:
        Path(args.log).touch()
    uvicorn.run(
        make_app(config),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
