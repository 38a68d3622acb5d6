"""Bootstrap resampling as weight matrices over per-example statistics.

A bootstrap resample of ``n`` examples is a vector of counts (how often each example was drawn);
summing statistics over a resample is ``counts @ stats``. Drawing all resamples as a ``(b, n)``
count matrix turns the whole bootstrap into a few matrix products, and the *paired* bootstrap
is the same counts applied to both systems' statistics.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# Upper bound on the number of cells of one (chunk, n) count matrix: 2**24 float64s = 128 MiB.
_MAX_CELLS = 1 << 24


def resample_counts(n: int, resamples: int, seed: int) -> Iterator[FloatArray]:
    """Yield bootstrap count matrices, in chunks that bound memory.

    Args:
        n: Number of examples.
        resamples: Total number of bootstrap resamples to draw.
        seed: Seed of numpy's PCG64 generator; the same seed gives the same resamples.

    Yields:
        Arrays of shape ``(chunk, n)``; row ``r`` counts how often each example was drawn in
        resample ``r`` (each row sums to ``n``). The chunks together have ``resamples`` rows.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, _MAX_CELLS // max(n, 1)))
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        draws = rng.integers(0, n, size=(b, n))
        # Offsetting each row's indices makes one flat bincount count all rows at once.
        draws += np.arange(b)[:, None] * n
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)
        yield counts.astype(np.float64)
        done += b


def percentile_interval(samples: FloatArray, confidence: float) -> tuple[float, float]:
    """Percentile interval of a bootstrap distribution, ignoring NaN resamples.

    Args:
        samples: The statistic over resamples, shape ``(b,)``.
        confidence: Coverage, e.g. 0.95.

    Returns:
        ``(low, high)``; NaN when every resample is NaN.
    """
    finite = samples[~np.isnan(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def cluster_codes(labels: Sequence[Hashable]) -> tuple[NDArray[np.int64], int]:
    """Integer code of each item's cluster (in order of first appearance) and the count."""
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(x, len(index)) for x in labels), dtype=np.int64)
    return codes, len(index)


def cluster_resample_counts(
    codes: NDArray[np.int64], resamples: int, seed: int
) -> Iterator[FloatArray]:
    """Cluster-bootstrap count matrices over items: whole clusters are drawn with replacement.

    Each item counts as often as its cluster was drawn, so ``counts @ stats`` sums the
    statistics of a cluster resample exactly as `resample_counts` does for items; the paired
    version applies the same counts to both systems.

    Args:
        codes: Cluster code of each item (0 .. clusters - 1), see `cluster_codes`.
        resamples: Total number of bootstrap resamples.
        seed: Seed of numpy's PCG64 generator.

    Yields:
        Arrays of shape ``(chunk, n)``, ``resamples`` rows in all.
    """
    clusters = int(codes.max()) + 1 if codes.size else 0
    rng = np.random.default_rng(seed)
    # The chunk bounds the item-level matrix, which is what gets materialised.
    chunk = max(1, min(resamples, _MAX_CELLS // max(codes.size, 1)))
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        draws = rng.integers(0, clusters, size=(b, clusters)) + np.arange(b)[:, None] * clusters
        counts = np.bincount(draws.ravel(), minlength=b * clusters).reshape(b, clusters)
        yield counts[:, codes].astype(np.float64)
        done += b
