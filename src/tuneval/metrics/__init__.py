"""Metrics: a registry by name; every metric emits per-example sufficient statistics.

Importing this package registers the built-in metrics; their heavy dependencies (numba,
sacreBLEU, NLTK) are imported only when a metric computes.
"""

from tuneval.metrics import bleu, bleu_nltk, chrf, classification, exact_match, rouge, token_f1
from tuneval.metrics.base import METRICS, MeanMetric, Metric, create_metric, register_metric

__all__ = [
    "METRICS",
    "MeanMetric",
    "Metric",
    "bleu",
    "bleu_nltk",
    "chrf",
    "classification",
    "create_metric",
    "exact_match",
    "register_metric",
    "rouge",
    "token_f1",
]
