"""The resampling unit of a statistic: independent items, or clusters of items."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tuneval.stats.resample import (
    FloatArray,
    cluster_codes,
    cluster_resample_counts,
    resample_counts,
)


@dataclass(frozen=True)
class Units:
    """The resampling unit of a comparison: items, or clusters of items."""

    codes: NDArray[np.int64] | None
    """Cluster code per item; None when items are independent."""
    count: int
    """Number of independent units (items, or clusters)."""
    field: str | None = None
    """Name of the field the clusters come from, when known."""

    @property
    def kind(self) -> str:
        """``item`` or ``cluster``."""
        return "item" if self.codes is None else "cluster"


def make_units(n: int, clusters: Sequence[Hashable] | None, field: str | None = None) -> Units:
    """Units from optional cluster labels (one per item)."""
    if clusters is None:
        return Units(None, n)
    codes, count = cluster_codes(list(clusters))
    return Units(codes, count, field)


def resample(n: int, units: Units, resamples: int, seed: int) -> list[FloatArray]:
    """Bootstrap count matrices over items: item or cluster bootstrap."""
    if units.codes is None:
        return list(resample_counts(n, resamples, seed))
    return list(cluster_resample_counts(units.codes, resamples, seed))


def unit_sums(values: FloatArray, units: Units) -> tuple[FloatArray, FloatArray]:
    """Per unit, the sum of ``values`` and the number of items."""
    if units.codes is None:
        return values.astype(np.float64), np.ones(values.size)
    sums = np.bincount(units.codes, weights=values, minlength=units.count)
    sizes = np.bincount(units.codes, minlength=units.count)
    return np.asarray(sums, dtype=np.float64), np.asarray(sizes, dtype=np.float64)
