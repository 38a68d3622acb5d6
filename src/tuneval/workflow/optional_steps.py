"""Steps that depend on optional packages: contamination check and human-study export.

They run when configured and when the package that does the work is part of this tuneval;
otherwise the step reports ``off`` with the reason, and the report shows that reason.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

from tuneval.rundir import RunDir
from tuneval.workflow.config import WorkflowConfig

Status = Literal["ran", "skipped", "off"]


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


CONTAMINATION_FILE = "contamination.json"
"""Where the contamination step writes its `ContaminationReport`."""


def run_contamination(run: RunDir, config: WorkflowConfig) -> tuple[Status, str]:
    """Check the eval set against the configured training data (``contamination.json``)."""
    cont = config.contamination
    if not cont.training_data:
        return "off", "no contamination.training_data configured"
    if not _available("tuneval.contamination"):
        return "off", "the contamination check is not available in this tuneval version"
    from tuneval.contamination import check

    report = check(
        [str(p) for p in cont.training_data],
        str(config.eval_set),
        n=cont.ngram,
        fields=cont.fields,
        threshold=cont.threshold,
    )
    path = run.path / CONTAMINATION_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)
    return "ran", f"{report.contaminated} of {report.total} items overlap the training data"


def run_human_export(run: RunDir, config: WorkflowConfig) -> tuple[Status, str]:
    """Export a blind human-evaluation study from the run."""
    if not config.human.export:
        return "off", "human.export is off"
    if not _available("tuneval.human"):
        return "off", "human evaluation is not available in this tuneval version"
    return "off", "the human package has no workflow entry point yet"
