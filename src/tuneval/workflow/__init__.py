"""The full evaluation workflow: one config from generation to verdict and report.

The public names are imported on first use, so that reading a config section record (the CLI
builds its flags from them) does not import the runner and everything it drives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneval._lazy import lazy_import

_EXPORTS = {
    "STEPS": "tuneval.workflow.steps",
    "EvaluationResult": "tuneval.workflow.runner",
    "StepReport": "tuneval.workflow.steps",
    "WorkflowConfig": "tuneval.workflow.config",
    "afull_evaluation": "tuneval.workflow.api",
    "full_evaluation": "tuneval.workflow.api",
    "load_config": "tuneval.workflow.config",
    "load_results": "tuneval.workflow.runner",
    "validate_config": "tuneval.workflow.config",
}

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

if TYPE_CHECKING:
    from tuneval.workflow.api import afull_evaluation, full_evaluation
    from tuneval.workflow.config import WorkflowConfig, load_config, validate_config
    from tuneval.workflow.runner import EvaluationResult, load_results
    from tuneval.workflow.steps import STEPS, StepReport


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access."""
    return lazy_import("tuneval.workflow", _EXPORTS, globals(), name)
