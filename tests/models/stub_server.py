"""A fault-injecting OpenAI-compatible chat server for tests and benchmarks.

Answers ``POST /v1/chat/completions`` (and, without faults, Anthropic's ``POST /v1/messages``)
with the last user message reversed, after a fixed latency; at configurable rates it answers
429 with ``Retry-After``, 500, a slow reply or a malformed body instead. Every *successful*
reply is appended (and flushed) to the log file before it is sent, so a test can prove which
calls finished even if the client was killed.

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

    return app


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
    args = parser.parse_args()
    config = StubConfig(
        latency_s=args.latency,
        rate_429=args.rate_429,
        rate_500=args.rate_500,
        rate_malformed=args.rate_malformed,
        log=args.log,
        reply=args.reply,
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
