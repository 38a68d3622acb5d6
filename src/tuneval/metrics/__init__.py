"""Metrics: a registry by name; every metric emits per-example sufficient statistics."""

from tuneval.metrics.base import METRICS, MeanMetric, Metric, create_metric, register_metric

__all__ = ["METRICS", "MeanMetric", "Metric", "create_metric", "register_metric"]
