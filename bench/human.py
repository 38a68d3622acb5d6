"""Human-evaluation app and statistics: vote throughput, results time, agreement vs references.

1. Vote throughput: the app runs for real (uvicorn on 127.0.0.1, a free port); C annotator
   clients submit V votes each, all at once (asyncio + httpx). Reports votes/s, latency
   percentiles, and checks every vote was stored exactly once.
2. Results: ``study_results`` on a study of N items x 3 annotators (full bootstrap).
3. Agreement: our Fleiss' kappa / Krippendorff's alpha against statsmodels and the
   ``krippendorff`` package on the same data (value and time).

Run: ``python bench/human.py [clients] [votes_per_client] [items]`` (default 10 100 2000).
"""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _study(tmp: Path, items: int, annotators: list[str], per_item: int):  # type: ignore[no-untyped-def]
    from tuneval.human import create_study
    from tuneval.human.study import Pair, PairSet

    pairs = PairSet(
        [
            Pair(f"ex{i}", f"prompt {i}", f"base answer {i}", f"tuned answer {i}")
            for i in range(items)
        ],
        [],
        "bench",
    )
    return create_study(
        tmp,
        pairs,
        model_a="base",
        model_b="tuned",
        annotators=annotators,
        per_item=per_item,
        seed=1,
    )


def _vote(rng: random.Random) -> dict[str, object]:
    crit = ("accuracy", "relevance", "format", "fluency")
    return {
        "a": {c: rng.randint(1, 5) for c in crit},
        "b": {c: rng.randint(1, 5) for c in crit},
        "preference": rng.choice(["A", "B", "tie"]),
        "comment": "",
    }


def throughput(clients: int, per_client: int) -> None:
    import httpx

    annotators = [f"ann{i}" for i in range(clients)]
    with tempfile.TemporaryDirectory() as tmp:
        store = _study(Path(tmp) / "s", per_client, annotators, clients)
        tokens, assignments = store.tokens(), store.assignments()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # The server runs in its own process, as `tuneval human serve` does, so the clients'
        # CPU time is not charged to it (this machine's cores are shared by both).
        code = (
            "import uvicorn; from tuneval.human.app import create_app; "
            f"uvicorn.run(create_app({str(store.path)!r}), host='127.0.0.1', port={port}, "
            "log_level='warning', access_log=False)"
        )
        server = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        latencies: list[float] = []

        async def client(name: str) -> None:
            rng = random.Random(name)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {tokens[name]}"},
                timeout=300,
            ) as c:

                async def one(item: str) -> None:
                    t0 = time.perf_counter()
                    r = await c.put(f"/api/votes/{item}", json=_vote(rng))
                    r.raise_for_status()
                    latencies.append(time.perf_counter() - t0)

                await asyncio.gather(*(one(i) for i in assignments[name]))

        async def everyone() -> None:
            await asyncio.gather(*(client(a) for a in annotators))

        start = time.perf_counter()
        asyncio.run(everyone())
        elapsed = time.perf_counter() - start
        # One annotator voting again on their items one after another (the interactive case).
        rng = random.Random(0)
        name = annotators[0]
        single: list[float] = []
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {tokens[name]}"}
        ) as c:
            for item in assignments[name]:
                t0 = time.perf_counter()
                c.put(f"/api/votes/{item}", json=_vote(rng)).raise_for_status()
                single.append(time.perf_counter() - t0)
        server.terminate()
        server.wait()
        votes = store.votes()
        stored = len(votes)
        total = clients * per_client
        once = stored == total == len({(v.annotator, v.item_id) for v in votes})
        lat = np.array(latencies) * 1000
        print(
            f"votes: {clients} clients x {per_client} at once = {total} votes in {elapsed:.2f} s "
            f"({total / elapsed:.0f} votes/s); stored {stored} (exactly once: {once}); "
            f"latency p50 {np.percentile(lat, 50):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms"
        )
        one = np.array(single) * 1000
        print(
            f"one annotator, sequential changes of {len(single)} votes: latency p50 "
            f"{np.percentile(one, 50):.1f} ms, p99 {np.percentile(one, 99):.1f} ms"
        )


def results_time(items: int) -> None:
    from tuneval.human import VoteInput, study_results

    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        store = _study(Path(tmp) / "s", items, ["r1", "r2", "r3", "r4"], 3)
        for annotator, ids in store.assignments().items():
            for item in ids:
                store.put_vote(annotator, item, VoteInput.model_validate(_vote(rng)))
        start = time.perf_counter()
        r = study_results(store.path, resamples=2000)
        elapsed = time.perf_counter() - start
        print(
            f"results: {items} items x 3 votes ({r.votes} votes), 2000 resamples: {elapsed:.2f} s"
        )


def agreement_vs_references() -> None:
    import krippendorff
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    from tuneval.stats.agreement import fleiss_kappa, krippendorff_alpha

    rng = np.random.default_rng(0)
    table = rng.multinomial(5, [0.5, 0.3, 0.2], size=20000).astype(float)
    data = rng.integers(1, 6, size=(5, 20000)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    rows = [
        (
            "Fleiss' kappa, 20000 items x 5 raters",
            lambda: fleiss_kappa(table),
            lambda: sm_fleiss(table, method="fleiss"),
        ),
        (
            "Krippendorff alpha ordinal, 5 x 20000, 30% missing",
            lambda: krippendorff_alpha(data, "ordinal"),
            lambda: krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"),
        ),
    ]
    for name, ours, ref in rows:
        t0 = time.perf_counter()
        a = ours()
        t1 = time.perf_counter()
        b = ref()
        t2 = time.perf_counter()
        print(
            f"{name}: tuneval {a:.12f} in {1000 * (t1 - t0):.1f} ms | reference {b:.12f} in "
            f"{1000 * (t2 - t1):.1f} ms | |diff| {abs(a - b):.1e}"
        )


def main() -> None:
    args = [int(x) for x in sys.argv[1:]]
    clients, per_client, items = (args + [10, 100, 2000][len(args) :])[:3]
    throughput(clients, per_client)
    results_time(items)
    agreement_vs_references()


if __name__ == "__main__":
    main()
