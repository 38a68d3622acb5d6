"""Steps that depend on optional packages: contamination check and human-study export.

They run when configured and when the package that does the work is part of this tuneval;
otherwise the step reports ``off`` with the reason, and the report shows that reason.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from tuneval.errors import ConfigError, settings_named
from tuneval.rundir import RunDir
from tuneval.workflow.config import ContaminationConfig, WorkflowConfig

if TYPE_CHECKING:
    from tuneval.contamination.semantic import SemanticReport
    from tuneval.models.base import ModelBackend

Status = Literal["ran", "skipped", "off"]


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


CONTAMINATION_FILE = "contamination.json"
"""Where the contamination step writes its `ContaminationReport`."""


def run_contamination(
    run: RunDir,
    config: WorkflowConfig,
    judge: Callable[[], ModelBackend] | None = None,
    cache: object | None = None,
) -> tuple[Status, str]:
    """Check the eval set against the configured training data (``contamination.json``).

    With ``contamination.semantic`` the paraphrase scan runs too, and with its ``verify``
    the workflow's judge (`judge` builds it) confirms the candidates through `cache`.
    """
    cont = config.contamination
    if not cont.training_data:
        return "off", "no contamination.training_data configured"
    if not _available("tuneval.contamination"):
        return "off", "the contamination check is not available in this tuneval version"
    from tuneval.contamination import check

    semantic_on = cont.semantic is not None and cont.semantic.enabled
    # Library messages name check()'s parameters; a config user reads its config keys.
    with settings_named(_contamination_key), _shared_ray(cont.ray if semantic_on else None):
        report = check(
            [str(p) for p in cont.training_data],
            str(config.eval_set),
            n=cont.ngram,
            fields=cont.fields,
            threshold=cont.threshold,
            skip_bad=cont.skip_bad,
            ray=cont.ray,
        )
        if semantic_on:
            semantic = _semantic(run, config, judge, cache)
            report = report.model_copy(update={"semantic": semantic})
    path = run.path / CONTAMINATION_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)
    detail = f"{report.contaminated} of {report.total} items overlap the training data"
    if report.semantic is not None:
        sem = report.semantic
        detail += f"; {sem.candidates} have semantic candidates"
        detail += f", {sem.confirmed} confirmed by the judge" if sem.judge else ""
    if report.bad_records:
        detail += (
            f"; {report.bad_records} unreadable training records skipped (skip_bad), first: "
            + "; ".join(report.problems[:3])
        )
    return "ran", detail


def _shared_ray(address: str | None) -> contextlib.AbstractContextManager[object]:
    """One Ray runtime for both scans (n-gram, then semantic).

    As ``tuneval contamination --semantic --ray`` shares one: starting a runtime takes
    seconds, and each scan joins a runtime already running instead of starting its own.
    """
    if address is None:
        return contextlib.nullcontext()
    from tuneval.contamination.ray_scan import ray_session

    return ray_session(address)


def _contamination_key(setting: str) -> str | None:
    """The config key of a contamination setting, None when the config has no such key."""
    return f"contamination.{setting}" if setting in ContaminationConfig.model_fields else None


def _semantic(
    run: RunDir,
    config: WorkflowConfig,
    judge: Callable[[], ModelBackend] | None,
    cache: object | None,
) -> SemanticReport:
    """The paraphrase scan of ``contamination.semantic``, verified by the judge if asked.

    Each verdict is logged in the run directory as it arrives (``paraphrase_verdicts.jsonl``),
    so a rerun of the step asks the judge only about pairs it has not answered yet.
    """
    from tuneval.contamination.paraphrase_judge import VERDICTS_FILE
    from tuneval.contamination.semantic_check import semantic_check

    cont = config.contamination
    sem = cont.semantic
    assert sem is not None
    backend = None
    if sem.verify:
        if not config.judge.spec or judge is None:
            raise ConfigError(
                "contamination.semantic.verify needs a judge: set judge.spec, or set "
                "contamination.semantic.verify to false"
            )
        backend = judge()
    return semantic_check(
        [str(p) for p in cont.training_data], str(config.eval_set), model=sem.model,
        top_k=sem.top_k, floor=sem.floor, fields=cont.fields, skip_bad=cont.skip_bad,
        judge=backend, cache=cache, ray=cont.ray, verdicts=run.path / VERDICTS_FILE,
    )  # fmt: skip


HUMAN_STUDY_DIR = "human-study"
"""Where the human step creates its study, inside the run directory."""


def run_human_export(run: RunDir, config: WorkflowConfig) -> tuple[Status, str]:
    """Create a blind A/B study of base vs fine-tuned and write its spreadsheet export.

    An existing study is kept as it is, even when the step is forced: it may already hold
    annotators' votes, and recreating it would lose them and change every link.
    """
    human = config.human
    if not human.export:
        return "off", "human.export is off"
    from tuneval.human import create_study, export_study, pairs_from_run
    from tuneval.human.store import DB_NAME
    from tuneval.workflow.analysis import BASE, FINETUNED

    study_dir = run.path / HUMAN_STUDY_DIR
    if (study_dir / DB_NAME).exists():
        return "skipped", (
            f"{study_dir} exists (it may hold votes); delete it to create a new study"
        )
    store = create_study(
        study_dir,
        pairs_from_run(run.path, BASE, FINETUNED),
        model_a=BASE,
        model_b=FINETUNED,
        **human.study_options(),
    )
    export_study(study_dir, study_dir)
    return "ran", (
        f"{store.info().items} items for {len(human.annotators)} annotators in {study_dir}; "
        f"serve it with: tuneval human serve {study_dir}"
    )
