"""Classification report: per-class precision/recall/F1/support, averages, confusion matrix.

Each example's statistic is a one-hot cell of the ``K x K`` confusion matrix (true label row,
predicted label column), so a bootstrap resample's confusion matrix is a weighted row sum and
every averaged score gets a CI. Values equal scikit-learn's ``classification_report`` and
``precision_recall_fscore_support`` with the same ``zero_division``: with a given label set
(``labels=a|b|c``, like scikit-learn's ``labels=[...]``) every given label counts in the
averages, seen or not; otherwise the labels are those seen in references or predictions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tuneval.errors import MetricError
from tuneval.metrics.base import FloatArray, Metric, register_metric

_SCORES = [
    "accuracy",
    "macro_f1",
    "weighted_f1",
    "macro_precision",
    "macro_recall",
    "weighted_precision",
    "weighted_recall",
]


def _ratio(num: FloatArray, den: FloatArray, zero_division: float = 0.0) -> FloatArray:
    """Divide num by den, giving `zero_division` where den is 0 (as scikit-learn does)."""
    out = np.full(np.broadcast(num, den).shape, zero_division, dtype=np.float64)
    return np.divide(num, den, out=out, where=den > 0)


def per_class(confusion: FloatArray, zero_division: float = 0.0) -> dict[str, FloatArray]:
    """Per-class precision, recall, F1 and support from ``(b, K, K)`` confusion matrices.

    Args:
        confusion: Confusion matrices, rows true labels and columns predicted labels.
        zero_division: The value of a ratio whose denominator is 0 (0, 1 or NaN).
    """
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    support = confusion.sum(axis=2)
    predicted = confusion.sum(axis=1)
    precision = _ratio(tp, predicted, zero_division)
    recall = _ratio(tp, support, zero_division)
    # F1 from counts (2tp / (2tp + fp + fn)) is what scikit-learn computes; it is
    # zero_division only for a label neither true nor predicted.
    f1 = _ratio(2 * tp, support + predicted, zero_division)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def nan_average(values: FloatArray, include: np.ndarray, weights: FloatArray | None) -> FloatArray:
    """Row-wise average over the included labels, skipping NaN, like scikit-learn's.

    scikit-learn averages the non-NaN values (``zero_division=nan`` marks undefined ones), falls
    back to an unweighted mean when their weights are all zero, and gives NaN when none is left.

    Args:
        values: ``(b, K)`` per-class values.
        include: ``(b, K)`` booleans, the labels that count in each row.
        weights: ``(b, K)`` weights (supports), or None for a plain mean.
    """
    keep = include & ~np.isnan(values)
    plain = keep.astype(np.float64)
    w = plain if weights is None else np.where(keep, weights, 0.0)
    w = np.where((w.sum(axis=1) > 0)[:, None], w, plain)
    total = w.sum(axis=1)
    summed = (np.where(keep, values, 0.0) * w).sum(axis=1)
    averaged: FloatArray = np.divide(
        summed, total, out=np.full(total.shape, np.nan), where=total > 0
    )
    return averaged


@register_metric
class Classification(Metric):
    """Classification metrics over string labels (the first reference is the true label).

    Args:
        lowercase: Compare labels case-insensitively.
        strip: Strip whitespace around labels.
        labels: The label set, separated by "|" (e.g. ``yes|no``); default: every label
            seen in references or predictions. A given label counts in the macro average even
            when no example has it (as scikit-learn's ``labels=``); a label outside a given
            set is an error.
        zero_division: The value of a precision, recall or F1 whose denominator is 0: 0, 1
            or ``nan`` (then left out of the averages), as scikit-learn's ``zero_division``.
    """

    name = "classification"
    description = "accuracy, macro/weighted precision-recall-F1, per-class report, confusion"

    def __init__(
        self,
        *,
        lowercase: bool = False,
        strip: bool = True,
        labels: str = "",
        zero_division: float = 0.0,
    ) -> None:
        if not (math.isnan(zero_division) or zero_division in (0.0, 1.0)):
            raise MetricError(
                f"classification: zero_division must be 0, 1 or nan, got {zero_division:g}"
            )
        self.lowercase = lowercase
        self.strip = strip
        self.zero_division = float(zero_division)
        # dict.fromkeys drops repeats (also those that only normalisation makes equal).
        given = (self._norm(x) for x in labels.split("|") if x.strip())
        self.fixed_labels = list(dict.fromkeys(given))
        self.labels: list[str] = list(self.fixed_labels)
        self._fitted = False

    def _norm(self, label: str) -> str:
        label = label.strip() if self.strip else label
        return label.lower() if self.lowercase else label

    @property
    def score_names(self) -> list[str]:
        """Accuracy first, then macro and weighted averages."""
        return list(_SCORES)

    @property
    def binary_scores(self) -> frozenset[str]:
        """Accuracy is right/wrong per item."""
        return frozenset({"accuracy"})

    def fit(
        self, predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
    ) -> None:
        """Fix the label set from the references and every system's predictions."""
        seen = {self._norm(refs[0]) if refs else "" for refs in references}
        for system in predictions:
            seen.update(self._norm(p) for p in system)
        if self.fixed_labels:
            unknown = sorted(seen - set(self.fixed_labels))
            if unknown:
                raise MetricError(
                    f"classification: labels {unknown[:5]} are not in the given label set "
                    f"{self.fixed_labels}; add them to 'labels' or fix the data"
                )
        else:
            self.labels = sorted(seen)
        self._fitted = True

    def statistics(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """One-hot confusion cells, ``(n, K*K)``, over the fitted label set."""
        if not self._fitted:
            self.fit([predictions], references)
        truth = [self._norm(refs[0]) if refs else "" for refs in references]
        preds = [self._norm(p) for p in predictions]
        index = {label: i for i, label in enumerate(self.labels)}
        k = len(self.labels)
        cells = np.asarray([index[t] * k + index[p] for t, p in zip(truth, preds, strict=True)])
        stats = np.zeros((len(preds), k * k))
        stats[np.arange(len(preds)), cells.astype(np.int64)] = 1.0
        return stats

    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        """Accuracy and averaged scores from summed one-hot cells."""
        k = len(self.labels)
        confusion = totals.reshape(totals.shape[0], k, k)
        pc = per_class(confusion, self.zero_division)
        n = confusion.sum(axis=(1, 2))
        out = {"accuracy": _ratio(np.trace(confusion, axis1=1, axis2=2), n)}
        if self.fixed_labels:
            # scikit-learn's labels=[...]: every given label is a class of the average.
            counted = np.ones_like(pc["support"], dtype=bool)
        else:
            # scikit-learn's default labels: those present (as truth or as a prediction) in
            # this sample. A label absent from a bootstrap resample, or seen only in the other
            # system's outputs, must not count as a class.
            counted = (pc["support"] + confusion.sum(axis=1)) > 0
        for measure in ("precision", "recall", "f1"):
            out[f"macro_{measure}"] = nan_average(pc[measure], counted, None)
            out[f"weighted_{measure}"] = nan_average(pc[measure], counted, pc["support"])
        return out

    def details(self, stats: FloatArray) -> dict[str, Any]:
        """The full per-class report and the confusion matrix (rows: true, columns: predicted)."""
        k = len(self.labels)
        confusion = stats.sum(0).reshape(1, k, k)
        pc = per_class(confusion, self.zero_division)
        report = {
            label: {m: float(pc[m][0, i]) for m in ("precision", "recall", "f1", "support")}
            for i, label in enumerate(self.labels)
        }
        return {
            "labels": self.labels,
            "per_class": report,
            "confusion_matrix": confusion[0].astype(int).tolist(),
        }

    def signature_fields(self) -> dict[str, str]:
        """Label normalisation, the label set and the zero-division value."""
        return {
            "case": "lc" if self.lowercase else "mixed",
            "strip": "yes" if self.strip else "no",
            "labels": ",".join(self.fixed_labels) if self.fixed_labels else "seen",
            "zero_div": f"{self.zero_division:g}",
        }
