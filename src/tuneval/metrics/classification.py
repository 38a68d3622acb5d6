"""Classification report: per-class precision/recall/F1/support, averages, confusion matrix.

Each example's statistic is a one-hot cell of the ``K x K`` confusion matrix (true label row,
predicted label column), so a bootstrap resample's confusion matrix is a weighted row sum and
every averaged score gets a CI. Values equal scikit-learn's ``classification_report`` with
``zero_division=0`` on the same labels (labels = sorted union of references and predictions).
"""

from __future__ import annotations

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


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """Divide num by den, giving 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def per_class(confusion: FloatArray) -> dict[str, FloatArray]:
    """Per-class precision, recall, F1 and support from ``(b, K, K)`` confusion matrices."""
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    support = confusion.sum(axis=2)
    predicted = confusion.sum(axis=1)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    # F1 from counts (2tp / (2tp + fp + fn)) is what scikit-learn computes.
    f1 = _ratio(2 * tp, support + predicted)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


@register_metric
class Classification(Metric):
    """Classification metrics over string labels (the first reference is the true label).

    Args:
        lowercase: Compare labels case-insensitively.
        strip: Strip whitespace around labels.
        labels: The label set, separated by "|" (e.g. ``yes|no``); default: every label
            seen in references or predictions. A prediction outside a given label set is an error.
    """

    name = "classification"
    description = "accuracy, macro/weighted precision-recall-F1, per-class report, confusion"

    def __init__(self, *, lowercase: bool = False, strip: bool = True, labels: str = "") -> None:
        self.lowercase = lowercase
        self.strip = strip
        self.fixed_labels = [self._norm(x) for x in labels.split("|") if x.strip()]
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
        pc = per_class(confusion)
        n = confusion.sum(axis=(1, 2))
        weights = _ratio(pc["support"], n[:, None])
        out = {"accuracy": _ratio(np.trace(confusion, axis1=1, axis2=2), n)}
        # Like scikit-learn, macro averages run over the labels present (as truth or as a
        # prediction) in this sample: a label absent from a bootstrap resample, or seen only in
        # the other system's outputs, must not count as a class with F1 = 0.
        present = (pc["support"] + confusion.sum(axis=1)) > 0
        n_present = present.sum(axis=1)
        for measure in ("precision", "recall", "f1"):
            out[f"macro_{measure}"] = _ratio((pc[measure] * present).sum(axis=1), n_present)
            out[f"weighted_{measure}"] = (pc[measure] * weights).sum(axis=1)
        return out

    def details(self, stats: FloatArray) -> dict[str, Any]:
        """The full per-class report and the confusion matrix (rows: true, columns: predicted)."""
        k = len(self.labels)
        confusion = stats.sum(0).reshape(1, k, k)
        pc = per_class(confusion)
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
        """Label normalisation."""
        return {"case": "lc" if self.lowercase else "mixed", "strip": "yes" if self.strip else "no"}
