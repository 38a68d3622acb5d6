"""``tuneval contamination --model M --base B``: the model-side membership check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tuneval.errors import DataError

if TYPE_CHECKING:
    from tuneval.contamination.membership import MembershipReport


def run_membership(
    eval_path: str,
    model: str,
    base: str,
    *,
    k: float,
    label_field: str | None,
    eval_fields: list[str] | None,
) -> MembershipReport:
    """Load the eval set and both models, and score every item (`membership`)."""
    from tuneval.contamination.check import load_eval
    from tuneval.contamination.membership import membership
    from tuneval.models import create_backend

    evalset = load_eval(eval_path, eval_fields)
    labels: list[bool | None] | None = None
    if label_field:
        labels = []
        for rec, line in zip(evalset.records, evalset.lines, strict=True):
            value = rec.get(label_field)
            if value is not None and not isinstance(value, bool):
                raise DataError(
                    f"--label-field {label_field} must be true, false or absent, got {value!r}",
                    path=eval_path, line=line, field=label_field,
                )  # fmt: skip
            labels.append(value)
    return membership(evalset.ids, evalset.texts, create_backend(model), create_backend(base),
                      k=k, labels=labels)  # fmt: skip


def membership_lines(report: MembershipReport) -> Iterator[str]:
    """Console lines: the models, the AUC when labels were given, the likeliest items."""
    auc = "" if report.auc is None else f"; AUC {report.auc:.3f} against the labels"
    yield (
        f"membership: Min-{report.k:.0%} word log-probability of {report.model} minus "
        f"{report.base} on {len(report.items)} eval items{auc}"
    )
    by_id = {it.id: it for it in report.items}
    yield "most likely seen in fine-tuning (score = fine-tune minus base):"
    for ex_id in report.most_likely_seen:
        it = by_id[ex_id]
        label = (
            "" if it.label is None else (" (labelled seen)" if it.label else " (labelled unseen)")
        )
        yield f"  {ex_id}: {it.score:+.3f}{label}"
