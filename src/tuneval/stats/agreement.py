"""Inter-rater agreement: Fleiss' kappa, Cohen's kappa and Krippendorff's alpha.

Each function follows one reference implementation exactly (the tests compare them on the same
data): Fleiss' kappa as statsmodels' ``fleiss_kappa(table, method="fleiss")``, Cohen's kappa as
scikit-learn's ``cohen_kappa_score`` (unweighted), Krippendorff's alpha as the ``krippendorff``
package's ``alpha``. They are written out here so that computing results needs neither
package, and so that an undefined value (every rater always giving the same label) comes back as
NaN instead of a warning or an exception.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from tuneval.stats.resample import FloatArray

LevelOfMeasurement = Literal["nominal", "ordinal", "interval"]


def fleiss_kappa(table: ArrayLike) -> float:
    """Fleiss' kappa of items rated by the same number of raters each.

    Args:
        table: Counts of shape ``(items, categories)``: ``table[i, j]`` raters put item ``i``
            in category ``j``. Every row must have the same sum (the raters per item), at
            least 2.

    Returns:
        ``(P̄ - P_e) / (1 - P_e)``; NaN when ``P_e`` is 1 (one category used throughout) or
        the table is empty.

    Raises:
        ValueError: When rows have different sums or fewer than 2 raters.
    """
    counts = np.asarray(table, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return float("nan")
    raters = counts.sum(axis=1)
    if not np.all(raters == raters[0]):
        raise ValueError("Fleiss' kappa needs the same number of raters for every item")
    n = float(raters[0])
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least 2 raters per item")
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts * counts).sum(axis=1) - n) / (n * (n - 1.0))
    p_bar = float(p_i.mean())
    p_e = float((p_j * p_j).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return (p_bar - p_e) / (1.0 - p_e)


def category_table(
    ratings: Sequence[Sequence[Hashable]], categories: Sequence[Hashable]
) -> FloatArray:
    """Turn each item's list of labels into a row of counts per category (for Fleiss)."""
    index = {c: j for j, c in enumerate(categories)}
    table = np.zeros((len(ratings), len(categories)))
    for i, labels in enumerate(ratings):
        for label in labels:
            table[i, index[label]] += 1
    return table


def cohen_kappa(x: Sequence[Hashable], y: Sequence[Hashable]) -> float:
    """Unweighted Cohen's kappa of two raters on the same items.

    Returns:
        ``(p_o - p_e) / (1 - p_e)``; NaN when there are no items or ``p_e`` is 1.

    Raises:
        ValueError: When the two sequences differ in length.
    """
    if len(x) != len(y):
        raise ValueError("both raters must label the same items")
    if not x:
        return float("nan")
    labels = sorted(set(x) | set(y), key=repr)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for a, b in zip(x, y, strict=True):
        table[index[a], index[b]] += 1
    n = table.sum()
    observed = float(np.trace(table)) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / (n * n)
    if np.isclose(expected, 1.0):
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def krippendorff_alpha(
    data: ArrayLike, level: LevelOfMeasurement = "ordinal", domain: Sequence[float] | None = None
) -> float:
    """Krippendorff's alpha of reliability data with missing values.

    Args:
        data: Shape ``(raters, units)``; ``NaN`` where a rater did not rate a unit.
        level: ``nominal``, ``ordinal`` or ``interval`` distance between values.
        domain: The ordered possible values (default: the values that occur). Values that never
            occur do not change the result, as in the ``krippendorff`` package.

    Returns:
        ``1 - D_o / D_e`` over units rated at least twice; NaN when no unit is, or when the
        expected disagreement is 0 (a single value throughout).
    """
    matrix = np.asarray(data, dtype=np.float64)
    values = (
        np.array(sorted(domain)) if domain is not None else np.unique(matrix[~np.isnan(matrix)])
    )
    if values.size == 0:
        return float("nan")
    coincidence = _coincidences(matrix, values)
    n_c = coincidence.sum(axis=0)
    n = float(n_c.sum())
    if n <= 1:
        return float("nan")
    delta = _distances(values, n_c, level)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(n_c, n_c) * delta).sum()) / (n - 1.0)
    if expected == 0.0:
        return float("nan")
    return 1.0 - observed / expected


def _coincidences(matrix: FloatArray, values: FloatArray) -> FloatArray:
    """The coincidence matrix ``o_ck`` over units with at least two values."""
    k = values.size
    counts = np.zeros((matrix.shape[1], k))
    for j, value in enumerate(values):
        counts[:, j] = (matrix == value).sum(axis=0)
    m_u = counts.sum(axis=1)
    pairable = counts[m_u >= 2]
    m_u = m_u[m_u >= 2]
    # Ordered pairs of values from different raters within a unit, each unit weighted 1/(m_u-1).
    pairs = np.einsum("uc,uk->uck", pairable, pairable)
    pairs[:, np.arange(k), np.arange(k)] -= pairable
    result: FloatArray = (pairs / (m_u - 1.0)[:, None, None]).sum(axis=0)
    return result


def _distances(values: FloatArray, n_c: FloatArray, level: LevelOfMeasurement) -> FloatArray:
    """Squared distances ``δ²_ck`` between the values for the level of measurement."""
    k = values.size
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
    delta = np.zeros((k, k))
    for c in range(k):
        for d in range(k):
            lo, hi = min(c, d), max(c, d)
            delta[c, d] = (cumulative[hi + 1] - cumulative[lo] - (n_c[c] + n_c[d]) / 2.0) ** 2
    return delta
