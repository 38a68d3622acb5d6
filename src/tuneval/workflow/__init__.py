"""The full evaluation workflow: one config from generation to verdict and report."""

from tuneval.workflow.api import afull_evaluation, full_evaluation
from tuneval.workflow.config import WorkflowConfig, load_config, validate_config
from tuneval.workflow.runner import EvaluationResult, StepReport, load_results
from tuneval.workflow.state import STEPS

__all__ = [
    "STEPS",
    "EvaluationResult",
    "StepReport",
    "WorkflowConfig",
    "afull_evaluation",
    "full_evaluation",
    "load_config",
    "load_results",
    "validate_config",
]
