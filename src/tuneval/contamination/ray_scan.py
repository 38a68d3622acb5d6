"""The contamination scans on Ray: one task per training shard, on a local runtime or a cluster.

``--ray`` (or ``local``) starts a local Ray runtime; ``auto`` or an address
(``10.0.0.5:6379``, ``ray://head:10001``) joins a running cluster. The eval index goes into the
object store once; each worker process fetches it once and runs the same compiled kernel as
the built-in scan (`scan.scan_shard`) on every shard it is given. Shards are files, or byte
ranges of large uncompressed JSONL/text files, sized so that every cluster CPU gets several.

Exactly one result per shard reaches the report: a task that fails (an exception or a worker
or node that dies) is run again from the start of its shard by Ray (``max_retries``), and only
the result of the run that finishes is kept. Results are merged in shard order by the same
`report.build_report` as the local scan, so the report is identical to it.

The semantic scan (``--semantic``) runs the same way: each task embeds one shard with the
same `semantic_shard.embed_shard` as the local scan and returns that shard's top-k per eval
item; `semantic_shard.merge_shards` merges them exactly, in shard order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneval.contamination.index import EvalIndex
from tuneval.contamination.scan import ShardResult, scan_shard
from tuneval.contamination.semantic_shard import ShardOptions, ShardTop, embed_shard
from tuneval.contamination.sources import Shard
from tuneval.errors import TunevalError, UsageError, require, setting_hint

if TYPE_CHECKING:
    from tuneval.contamination.embedder import Encoder

MAX_RETRIES = 3
"""Times Ray runs a shard's task again after a failure (an exception or a lost node)."""

ScanFn = Callable[..., list[ShardResult]]

# Per worker process: the index of the scan in progress, fetched from the object store once;
# likewise the eval embeddings and encoder of a semantic scan.
_INDEX: tuple[str, EvalIndex] | None = None
_SEMANTIC: tuple[str, tuple[np.ndarray, Encoder]] | None = None


def _local_index(refs: list[Any]) -> EvalIndex:
    """The eval index in this worker, fetched and made writable once per scan.

    Arrays read from the object store are read-only views; the compiled kernels were compiled
    (and cached) for writable arrays, so one copy here avoids compiling them again.
    """
    global _INDEX
    import ray

    (ref,) = refs  # in a list, so that Ray passes the reference instead of the value
    key = ref.hex()
    if _INDEX is None or _INDEX[0] != key:
        shared = ray.get(ref)
        copies = {
            f.name: np.array(value)
            for f in dataclasses.fields(shared)
            if isinstance(value := getattr(shared, f.name), np.ndarray)
        }
        _INDEX = (key, dataclasses.replace(shared, **copies))
    return _INDEX[1]


def _scan_task(refs: list[Any], shard: Shard, fields: list[str] | None, strict: bool) -> Any:
    return scan_shard(_local_index(refs), shard, fields, strict)


def scan_ray(
    index: EvalIndex,
    shards: list[Shard],
    fields: list[str] | None = None,
    *,
    strict: bool = False,
    progress: Callable[[ShardResult], None] | None = None,
    max_retries: int = MAX_RETRIES,
) -> list[ShardResult]:
    """Scan every shard as a Ray task on the connected runtime; results in shard order.

    Raises:
        TunevalError: A shard whose task failed ``max_retries + 1`` times (the message names
            the shard and the cause), or a `DataError` raised by the scan itself.
    """
    return _run(_scan_task, index, shards, (fields, strict), progress, max_retries)


def _semantic_task(refs: list[Any], shard: Shard, options: ShardOptions) -> ShardTop:
    global _SEMANTIC
    import ray

    (ref,) = refs
    if _SEMANTIC is None or _SEMANTIC[0] != ref.hex():
        # The encoder is pickled by name and loaded here, once per worker process.
        _SEMANTIC = (ref.hex(), ray.get(ref))
    eval_vecs, encoder = _SEMANTIC[1]
    return embed_shard(shard, eval_vecs, encoder, options)


def semantic_ray(
    eval_vecs: np.ndarray,
    encoder: Encoder,
    shards: list[Shard],
    options: ShardOptions,
    *,
    progress: Callable[[ShardTop], None] | None = None,
    max_retries: int = MAX_RETRIES,
) -> list[ShardTop]:
    """Embed every shard in a Ray task (semantic scan); per-shard top-k lists in shard order.

    The eval embeddings and the encoder go into the object store once; a `SentenceEncoder`
    travels as its model name and is loaded by each worker process (the model must be
    installed, or its folder present, on every node).
    """
    return _run(_semantic_task, (eval_vecs, encoder), shards, (options,), progress, max_retries)


def _run(
    fn: Callable[..., Any],
    shared: object,
    shards: list[Shard],
    args: tuple[Any, ...],
    progress: Callable[[Any], None] | None,
    max_retries: int,
) -> list[Any]:
    """``fn([ref of shared], shard, *args)`` as one Ray task per shard; results in shard order."""
    ray: Any = importlib.import_module("ray")
    task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=[OSError])(fn)
    refs = [ray.put(shared)]  # in a list, so that Ray passes the reference instead of the value
    futures = [task.remote(refs, shard, *args) for shard in shards]
    position = {future.hex(): i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    pending = list(futures)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for future in done:
            i = position[future.hex()]
            result = results[i] = _get(ray, future, shards[i])
            if progress:
                progress(result)
    return results


def _get(ray: Any, future: Any, shard: Shard) -> Any:
    try:
        result = ray.get(future)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.as_instanceof_cause()
        if isinstance(cause, TunevalError):
            raise cause from None
        raise TunevalError(_failed(shard, f"{type(cause).__name__}: {cause}")) from None
    except ray.exceptions.RayError as exc:  # a worker or node lost more often than retried
        raise TunevalError(_failed(shard, f"{type(exc).__name__}: {exc}")) from None
    return result


def _check_reachable(address: str) -> None:
    """Fail fast on a HOST:PORT that refuses connections (Ray itself retries for minutes)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot join the Ray cluster at '{address}' ({exc}); give the head node's "
            "HOST:PORT (ray start --head prints it; port 6379 by default), 'auto' on a "
            "cluster node, or 'local' for a runtime on this machine"
        ) from None


def _failed(shard: Shard, why: str) -> str:
    where = shard.path if shard.end < 0 else f"{shard.path} bytes {shard.start}-{shard.end}"
    return (
        f"the Ray task scanning {where} failed {MAX_RETRIES + 1} times ({why}); check the "
        "file and the cluster (ray status), then run the scan again"
    )


@contextlib.contextmanager
def ray_session(address: str, cpus: int | None = None) -> Iterator[tuple[ScanFn, int]]:
    """Connect to Ray; yields the scan function and the cluster's CPU count.

    Args:
        address: ``local`` (or empty) starts a local runtime, stopped on exit; ``auto`` or
            ``HOST:PORT`` / ``ray://HOST:PORT`` joins a cluster. A runtime this process
            already started is used as it is.
        cpus: CPUs of a local runtime (None: all of this machine's).

    Raises:
        MissingDependencyError: When Ray is not installed.
        UsageError: When the cluster cannot be reached.
    """
    ray: Any = require(
        "ray", package="ray", extra="ray", purpose="The scan on Ray" + setting_hint("ray", " ({})")
    )
    started = False
    if not ray.is_initialized():
        local = address in ("", "local")
        if not local:
            _check_reachable(address)
        kwargs: dict[str, Any] = {"num_cpus": cpus} if local else {"address": address}
        try:
            ray.init(**kwargs, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(
                f"cannot join the Ray cluster at '{address}': {exc}; start one with "
                "'ray start --head', give its address (HOST:6379 or ray://HOST:10001), or "
                f"'local'{setting_hint('ray', ' as {}')} for a runtime on this machine"
            ) from None
        started = True
    try:
        yield scan_ray, max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        if started:
            ray.shutdown()
