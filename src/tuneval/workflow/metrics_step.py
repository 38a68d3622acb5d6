"""The metrics step: paired comparisons overall and per category, saved as ``comparison.json``."""

from __future__ import annotations

from pydantic import Field

from tuneval.evaluation import ComparisonReport
from tuneval.records import Generation, Record
from tuneval.rundir import RunDir
from tuneval.workflow.analysis import BASE, FINETUNED, metric_comparison
from tuneval.workflow.config import WorkflowConfig

COMPARISON_FILE = "comparison.json"
"""Where the metrics step writes its `MetricComparisons`."""

NO_CATEGORY = "(none)"
"""Category label of items without one."""


class MetricComparisons(Record):
    """Metric comparisons of a run."""

    overall: ComparisonReport | None = None
    """All items with references, each scored with its category's metrics where those are the
    default ones; None when no item has a reference."""
    per_category: dict[str, ComparisonReport | None] = Field(default_factory=dict)
    """Each category's comparison with that category's metrics."""


def _answered(gens: list[Generation]) -> dict[str, str]:
    """Output per example id of the calls that succeeded.

    A failed call is left out, so the item drops out of the paired comparison: scoring it as an
    empty answer would count the backend's failure as the model's mistake.
    """
    return {g.example_id: g.output for g in gens if g.output is not None}


def compute_metrics(run: RunDir, config: WorkflowConfig) -> str:
    """Compare the two models' outputs and write ``comparison.json``.

    The overall comparison uses ``metrics.default`` on the items whose category has no
    metrics of its own; each category is also compared alone with its own metrics, so a
    summarisation category can use ROUGE while classification uses exact match.

    Returns:
        A one-line summary of what was compared.
    """
    examples = run.examples()
    base = _answered(run.generations(BASE))
    tuned = _answered(run.generations(FINETUNED))
    cmp = config.comparison
    own = set(config.metrics.per_category)
    default_items = [e for e in examples if (e.category or NO_CATEGORY) not in own]
    overall = metric_comparison(default_items, base, tuned, config.metrics.default, cmp)
    per_category: dict[str, ComparisonReport | None] = {}
    for category in dict.fromkeys(e.category or NO_CATEGORY for e in examples):
        items = [e for e in examples if (e.category or NO_CATEGORY) == category]
        specs = config.metrics.for_category(None if category == NO_CATEGORY else category)
        per_category[category] = metric_comparison(items, base, tuned, specs, cmp)
    result = MetricComparisons(overall=overall, per_category=per_category)
    path = run.path / COMPARISON_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(result.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)
    n = overall.n if overall else 0
    return f"{n} items with references compared, {len(per_category)} categories"


def read_metrics(run: RunDir) -> MetricComparisons:
    """The saved comparisons (empty when the step has not run)."""
    path = run.path / COMPARISON_FILE
    if not path.exists():
        return MetricComparisons()
    return MetricComparisons.model_validate_json(path.read_text(encoding="utf-8"))
