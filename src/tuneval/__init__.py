"""tuneval: is the fine-tuned model really better than its base model, and how sure can you be?

The public API is re-exported here and imported lazily on first use, so that ``tuneval --help``
and ``import tuneval`` stay instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BootstrapConfig": "tuneval.evaluation",
    "ComparisonReport": "tuneval.evaluation",
    "ScoreReport": "tuneval.evaluation",
    "compare": "tuneval.evaluation",
    "score": "tuneval.evaluation",
    "METRICS": "tuneval.metrics",
    "Metric": "tuneval.metrics",
    "MeanMetric": "tuneval.metrics",
    "create_metric": "tuneval.metrics",
    "register_metric": "tuneval.metrics",
    "Comparison": "tuneval.records",
    "Example": "tuneval.records",
    "FlippedItems": "tuneval.records",
    "Generation": "tuneval.records",
    "MetricResult": "tuneval.records",
    "Score": "tuneval.records",
    "align": "tuneval.data",
    "load_examples": "tuneval.data",
    "load_predictions": "tuneval.data",
    "read_records": "tuneval.data",
    "DataError": "tuneval.errors",
    "MetricError": "tuneval.errors",
    "MissingDependencyError": "tuneval.errors",
    "TunevalError": "tuneval.errors",
    "UsageError": "tuneval.errors",
}

__all__ = [
    "METRICS",
    "BootstrapConfig",
    "Comparison",
    "ComparisonReport",
    "DataError",
    "Example",
    "FlippedItems",
    "Generation",
    "MeanMetric",
    "Metric",
    "MetricError",
    "MetricResult",
    "MissingDependencyError",
    "Score",
    "ScoreReport",
    "TunevalError",
    "UsageError",
    "__version__",
    "align",
    "compare",
    "create_metric",
    "load_examples",
    "load_predictions",
    "read_records",
    "register_metric",
    "score",
]

if TYPE_CHECKING:
    from tuneval.data import align, load_examples, load_predictions, read_records
    from tuneval.errors import (
        DataError,
        MetricError,
        MissingDependencyError,
        TunevalError,
        UsageError,
    )
    from tuneval.evaluation import BootstrapConfig, ComparisonReport, ScoreReport, compare, score
    from tuneval.metrics import METRICS, MeanMetric, Metric, create_metric, register_metric
    from tuneval.records import (
        Comparison,
        Example,
        FlippedItems,
        Generation,
        MetricResult,
        Score,
    )


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tuneval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
