"""Scale-out figures: model replicas, and the contamination scan on Ray.

Usage:
    python bench/scale_out.py replicas [--requests 960] [--latency 0.2] [--per-replica 16]
    python bench/scale_out.py ray [--size-mb 200] [--cpus 2]

``replicas``: one stub OpenAI server (tests/models/stub_server.py, its own process) at a fixed
latency with ``per-replica`` calls in flight, against three such servers as one
``openai-compatible:URL1,URL2,URL3#MODEL`` spec with ``replica_concurrency=per-replica``; the
ideal ratio is 3. The client and the three servers share this machine's CPUs (about 7 ms of
CPU per request in all), so on a small box the three-replica figure is CPU-bound; the same
runner and pool over replicas that only sleep give the routing's own ratio.

``ray``: the built-in scan with ``cpus`` worker processes against ``--ray`` on a local Ray
runtime of ``cpus`` CPUs, on bench/contamination.py's synthetic corpus; then Ray with 1 and 2
CPUs (scaling) and a projection of wall time for large corpora from the measured per-core
throughput. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from generation import start_stub  # noqa: E402
from tuneval.models import Request, create_backend  # noqa: E402
from tuneval.models.runner import CallOptions, call_many  # noqa: E402


async def _throughput(spec: str, n: int, concurrency: int, per_replica: int | None) -> float:
    options = {"replica_concurrency": per_replica} if per_replica and "," in spec else {}
    backend = create_backend(spec, **options)
    opts = CallOptions(max_concurrency=concurrency, adaptive_concurrency=False, timeout_s=60)
    warm = [Request.from_prompt(f"warm {i}") for i in range(concurrency)]
    await call_many(backend, warm, opts)  # connections opened before the clock starts
    reqs = [Request.from_prompt(f"item {i}") for i in range(n)]
    started = time.perf_counter()
    results = await call_many(backend, reqs, opts)
    elapsed = time.perf_counter() - started
    await backend.aclose()
    failed = sum(not r.ok for r in results)
    if failed:
        raise SystemExit(f"{failed} requests failed on {spec}")
    return n / elapsed


async def _routing_only(n: int, latency: float, per_replica: int, replicas: int) -> float:
    """Requests/s through `call_many` and the pool alone: replicas that sleep, no HTTP."""
    from tuneval.models.base import Completion, ModelBackend
    from tuneval.models.replicas import ReplicaPool

    async def call(index: int, request: Request) -> Completion:
        await asyncio.sleep(latency)
        return Completion(text="ok")

    async def probe(index: int) -> bool:
        return True

    urls = [f"http://replica{i}/v1" for i in range(replicas)]
    pool = ReplicaPool(urls, call, probe, per_replica=per_replica)

    class Pooled(ModelBackend):
        prefix = "pooled"

        async def complete(self, request: Request) -> Completion:
            return await pool.complete(request)

    opts = CallOptions(max_concurrency=replicas * per_replica, adaptive_concurrency=False)
    reqs = [Request.from_prompt(f"item {i}") for i in range(n)]
    started = time.perf_counter()
    await call_many(Pooled("pooled:x"), reqs, opts)
    return n / (time.perf_counter() - started)


def replicas_bench(n: int, latency: float, per_replica: int) -> None:
    """Print requests/s of one replica and of three, and their ratio."""
    procs, urls = [], []
    for _ in range(3):
        proc, url = start_stub(latency)
        procs.append(proc)
        urls.append(url)
    try:
        one = asyncio.run(_throughput(f"openai-compatible:{urls[0]}#stub", n, per_replica, None))
        spec = f"openai-compatible:{','.join(urls)}#stub"
        three = asyncio.run(_throughput(spec, n, 3 * per_replica, per_replica))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    ideal = per_replica / latency
    print(f"latency {latency * 1000:.0f} ms, {per_replica} in flight per replica, {n} requests")
    print(f"  1 replica : {one:7.1f} req/s (ideal {ideal:.0f})")
    print(f"  3 replicas: {three:7.1f} req/s (ideal {3 * ideal:.0f})")
    print(f"  ratio     : {three / one:.2f}x (goal >= 2.7x)")
    alone = [asyncio.run(_routing_only(n, latency, per_replica, k)) for k in (1, 3)]
    print(f"  routing alone (replicas that sleep, no HTTP): {alone[0]:.1f} -> {alone[1]:.1f} "
          f"req/s = {alone[1] / alone[0]:.2f}x")  # fmt: skip


def _ray_rate(train: Path, ev: Path, cpus: int) -> tuple[float, float]:
    """(MB/s of a scan on a warm local Ray runtime of ``cpus`` CPUs, runtime start-up s)."""
    import ray

    from tuneval.contamination import check

    started = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    startup = time.perf_counter() - started
    try:
        check([str(train)], str(ev), n=13, ray="local")  # workers start, kernels load
        started = time.perf_counter()
        report = check([str(train)], str(ev), n=13, ray="local")
        return report.bytes_scanned / (time.perf_counter() - started) / 1e6, startup
    finally:
        ray.shutdown()


def ray_bench(size_mb: int, cpus: int) -> None:
    """Print the built-in scan and the Ray scan side by side, scaling and a projection."""
    import random
    import tempfile

    from contamination import make_corpus, make_eval, ours

    with tempfile.TemporaryDirectory() as tmp:
        train, ev = Path(tmp, "train.jsonl"), Path(tmp, "eval.jsonl")
        rng = random.Random(0)
        make_corpus(train, size_mb, rng)
        make_eval(train, ev, rng)
        ours(train, ev, 1)  # compile/load the kernels once
        local, _ = ours(train, ev, cpus)
        on_ray, startup = _ray_rate(train, ev, cpus)
        one, _ = _ray_rate(train, ev, 1)
    print(f"{size_mb} MB JSONL, 2000 eval examples, 13-grams; end to end (index, report)")
    print(f"  built-in scan, {cpus} workers: {local:6.1f} MB/s")
    print(
        f"  Ray, {cpus} CPUs (warm):      {on_ray:6.1f} MB/s = {on_ray / local:.2f}x (goal 0.85x)"
    )
    print(f"  Ray runtime start-up: {startup:.1f} s (once per cluster, or per --ray local)")
    print(f"  Ray 1 CPU: {one:.1f} MB/s; 1 -> {cpus} CPUs: {on_ray / one:.2f}x")
    # Linear in cores: a scan shares nothing but the index, so the cluster's per-core rate
    # is the question (the 1 -> N figure above is only meaningful on an otherwise idle box).
    print(f"projected wall time at {one:.1f} MB/s per core, linear in cores:")
    print("  corpus " + "".join(f"{f'{c} cores':>12}" for c in (16, 64, 256)))
    for label, size in (("100 GB", 1e5), ("1 TB", 1e6), ("10 TB", 1e7)):
        cells = "".join(f"{_duration(size / (one * c)):>12}" for c in (16, 64, 256))
        print(f"  {label:<7}{cells}")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    rep = sub.add_parser("replicas")
    rep.add_argument("--requests", type=int, default=960)
    rep.add_argument("--latency", type=float, default=0.2)
    rep.add_argument("--per-replica", type=int, default=16)
    on_ray = sub.add_parser("ray")
    on_ray.add_argument("--size-mb", type=int, default=200)
    on_ray.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    if args.what == "replicas":
        replicas_bench(args.requests, args.latency, args.per_replica)
    else:
        ray_bench(args.size_mb, args.cpus)


if __name__ == "__main__":
    main()
