"""tuneval: is the fine-tuned model really better than its base model, and how sure can you be?

The public API is re-exported here and imported lazily on first use, so that ``tuneval --help``
and ``import tuneval`` stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneval._lazy import lazy_import

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
    "Completion": "tuneval.models",
    "Decoding": "tuneval.models",
    "Message": "tuneval.models",
    "ModelBackend": "tuneval.models",
    "Request": "tuneval.models",
    "create_backend": "tuneval.models",
    "agenerate": "tuneval.models.generate",
    "generate": "tuneval.models.generate",
    "ajudge_pairs": "tuneval.judge",
    "ajudge_scores": "tuneval.judge",
    "judge_pairs": "tuneval.judge",
    "judge_scores": "tuneval.judge",
    "lc_win_rate": "tuneval.judge",
    "EvaluationResult": "tuneval.workflow",
    "WorkflowConfig": "tuneval.workflow",
    "afull_evaluation": "tuneval.workflow",
    "full_evaluation": "tuneval.workflow",
    "load_config": "tuneval.workflow",
}

__all__ = [
    "METRICS",
    "BootstrapConfig",
    "Comparison",
    "ComparisonReport",
    "Completion",
    "DataError",
    "Decoding",
    "EvaluationResult",
    "Example",
    "FlippedItems",
    "Generation",
    "MeanMetric",
    "Message",
    "Metric",
    "MetricError",
    "MetricResult",
    "MissingDependencyError",
    "ModelBackend",
    "Request",
    "Score",
    "ScoreReport",
    "TunevalError",
    "UsageError",
    "WorkflowConfig",
    "__version__",
    "afull_evaluation",
    "agenerate",
    "ajudge_pairs",
    "ajudge_scores",
    "align",
    "compare",
    "create_backend",
    "create_metric",
    "full_evaluation",
    "generate",
    "judge_pairs",
    "judge_scores",
    "lc_win_rate",
    "load_config",
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
    from tuneval.judge import ajudge_pairs, ajudge_scores, judge_pairs, judge_scores, lc_win_rate
    from tuneval.metrics import METRICS, MeanMetric, Metric, create_metric, register_metric
    from tuneval.models import (
        Completion,
        Decoding,
        Message,
        ModelBackend,
        Request,
        create_backend,
    )
    from tuneval.models.generate import agenerate, generate
    from tuneval.records import (
        Comparison,
        Example,
        FlippedItems,
        Generation,
        MetricResult,
        Score,
    )
    from tuneval.workflow import (
        EvaluationResult,
        WorkflowConfig,
        afull_evaluation,
        full_evaluation,
        load_config,
    )


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access."""
    return lazy_import("tuneval", _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    """List the lazily exported names too, so tab completion in Jupyter finds them."""
    return sorted(set(globals()) | set(__all__))
