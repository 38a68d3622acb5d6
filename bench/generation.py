"""Generation throughput: the runner against a slow server, the call cache, and llama.cpp.

Usage:
    python bench/generation.py [--requests 2560] [--concurrency 64] [--latency 0.2]
    python bench/generation.py --skip-llama      # only the stub-server and cache figures

1. The fault-free stub server (tests/models/stub_server.py, its own process) answers after a
   fixed latency; with C calls in flight the ideal is C / latency requests per second.
2. The same requests again, fully cached: results served per second by `call_many`, and by
   `generate` (which also writes a Generation record per result).
3. Tokens per second of the bundled SmolLM2-135M-Instruct through llama.cpp on this CPU.

Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tuneval.models import Decoding, Request, create_backend
from tuneval.models.cache import CallCache
from tuneval.models.generate import agenerate
from tuneval.models.runner import CallOptions, CallStats, call_many
from tuneval.records import Example
from tuneval.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "models"))

from stub_server import free_port  # noqa: E402


def start_stub(latency: float, reply: str = "reverse") -> tuple[subprocess.Popen[bytes], str]:
    """Start the stub server in its own process; returns it and its base URL (``.../v1``)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "models" / "stub_server.py"),
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--reply",
            reply,
        ]
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc, url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def server_bench(n: int, concurrency: int, latency: float, folder: Path) -> None:
    proc, url = start_stub(latency)
    try:
        backend = create_backend(f"openai-compatible:{url}#stub")
        requests = [Request.from_prompt(f"request number {i}") for i in range(n)]
        options = CallOptions(max_concurrency=concurrency, timeout_s=30)
        await call_many(backend, requests[:concurrency], options)  # warm the connection pool
        with CallCache(folder / "cache") as cache:
            stats = CallStats()
            start = time.perf_counter()
            await call_many(backend, requests, options, cache=cache, stats=stats)
            elapsed = time.perf_counter() - start
            ideal = concurrency / latency
            rate = n / elapsed
            print(
                f"stub server, {latency * 1000:.0f} ms latency, concurrency {concurrency}: "
                f"{n} requests in {elapsed:.2f} s = {rate:.1f} req/s "
                f"({100 * rate / ideal:.1f}% of ideal {ideal:.0f} req/s); "
                f"failed {stats.failed}, retries {stats.retries}"
            )
            stats = CallStats()
            start = time.perf_counter()
            await call_many(backend, requests, options, cache=cache, stats=stats)
            elapsed = time.perf_counter() - start
            print(
                f"fully cached rerun (call_many): {stats.cached}/{n} cached in {elapsed:.3f} s "
                f"= {n / elapsed:,.0f} results/s"
            )
            examples = [Example(id=f"e{i}", prompt=f"request number {i}") for i in range(n)]
            run = RunDir(folder / "run")
            start = time.perf_counter()
            summary = await agenerate(
                backend, examples, run, name="m", cache=cache, options=options, progress=False
            )
            elapsed = time.perf_counter() - start
            print(
                f"fully cached rerun (generate, writing records): {summary.cached}/{n} cached "
                f"in {elapsed:.3f} s = {n / elapsed:,.0f} results/s"
            )
        await backend.aclose()
    finally:
        proc.terminate()
        proc.wait(10)


async def llama_bench(max_tokens: int) -> None:
    try:
        backend = create_backend("llamacpp:default")
    except Exception as exc:  # report and go on; this is a bench
        print(f"llama.cpp: skipped ({exc})")
        return
    prompts = [
        "Write a short paragraph about the sea.",
        "Explain what a neural network is.",
        "List three uses of copper.",
        "Describe a sunrise in the mountains.",
    ]
    decoding = Decoding(max_tokens=max_tokens, temperature=0.0)
    await backend.complete(Request.from_prompt("Hi", Decoding(max_tokens=2)))  # load the model
    stats = CallStats()
    start = time.perf_counter()
    results = await call_many(
        backend, [Request.from_prompt(p, decoding) for p in prompts], CallOptions(), stats=stats
    )
    elapsed = time.perf_counter() - start
    decode_time = sum(r.completion.latency_s for r in results if r.completion)
    print(
        f"llama.cpp {backend.name}, {len(prompts)} prompts, max_tokens {max_tokens}: "
        f"{stats.completion_tokens} tokens generated ({stats.prompt_tokens} prompt tokens) in "
        f"{elapsed:.2f} s = {stats.completion_tokens / elapsed:.1f} generated tokens/s "
        f"(per-call latency sum {decode_time:.2f} s)"
    )
    await backend.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2560)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--llama-tokens", type=int, default=128)
    parser.add_argument("--skip-llama", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tuneval-genbench-"))
    asyncio.run(server_bench(args.requests, args.concurrency, args.latency, folder))
    if not args.skip_llama:
        asyncio.run(llama_bench(args.llama_tokens))


if __name__ == "__main__":
    main()
