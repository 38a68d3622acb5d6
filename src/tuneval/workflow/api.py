"""`full_evaluation` for the model you just trained: objects in memory in, the usual run out.

``full_evaluation(model, tokenizer, test_set, base_model)`` takes what a fine-tuning notebook
or script holds (transformers/PEFT model objects, plain functions, backend specs or backends;
a list of dicts, a file or a Hugging Face ``Dataset``), builds the same `WorkflowConfig` a
YAML file would give, and drives the same runner as ``tuneval run``: the run directory,
``results.json`` and the reports are the ones the CLI writes. ``full_evaluation(CONFIG)``
(a YAML path or a `WorkflowConfig`) keeps working as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from tuneval.errors import BackendError, ConfigError, UsageError
from tuneval.models.base import ModelBackend
from tuneval.models.inmemory import ADAPTER_DISABLED, as_backend, is_peft_model, register_live
from tuneval.workflow import runner
from tuneval.workflow.config import WorkflowConfig, validate_config
from tuneval.workflow.runner import EvaluationResult, StepReport
from tuneval.workflow.steps import OnProgress

EVAL_INPUT = "eval_input.jsonl"
"""File in the run directory that holds an eval set given as Python records."""

OnStep = Callable[[StepReport], None] | None


def full_evaluation(
    model: Any,
    tokenizer: Any = None,
    test_set: Any = None,
    base_model: Any = None,
    *,
    judge: Any = None,
    metrics: Any = None,
    run_dir: str | Path | None = None,
    base_tokenizer: Any = None,
    force: Collection[str] = (),
    backends: Mapping[str, ModelBackend] | None = None,
    on_step: OnStep = None,
    on_progress: OnProgress | None = None,
    **settings: Any,
) -> EvaluationResult:
    """Evaluate a fine-tuned model against its base: generate, score, compare, report.

    Two forms:

    - ``full_evaluation("config.yaml")`` (or a `WorkflowConfig`): the run the config
      describes, as ``tuneval run`` does.
    - ``full_evaluation(model, tokenizer, test_set, base_model=...)``: in-memory models.

    Args:
        model: The fine-tuned model: a transformers ``PreTrainedModel`` or peft ``PeftModel``
            (with ``tokenizer``), a backend spec (``hf:PATH``), a `ModelBackend`, or a function
            ``str -> str``. Or, for the first form, a config path or `WorkflowConfig`.
        tokenizer: The tokenizer of a model object.
        test_set: The eval set: a list of dicts (``prompt``, ``reference``, ``id``,
            ``category``...), a Hugging Face ``Dataset``, a file path or an ``hf:`` spec.
        base_model: The model before fine-tuning, in any form ``model`` takes, or
            ``"adapter-disabled"``: the PEFT ``model`` itself with its adapter disabled (the
            default for a ``PeftModel``; no second copy of the weights).
        judge: An LLM judge (spec, backend or function), or the ``judge`` settings as a dict.
        metrics: Metric specs for every item (``["exact_match", "rouge"]``), or the
            ``metrics`` settings as a dict.
        run_dir: The run directory (default: ``runs/eval-TIMESTAMP``, a new one per call).
        base_tokenizer: The base model object's tokenizer when it is not ``tokenizer``.
        force: Steps to redo even when finished (every later step is redone too).
        backends: Ready-made backends by role, as for the config form.
        on_step: Called after each step with what it did.
        on_progress: Called after every model call with the step's count (progress bars).
        **settings: Any other top-level config key (``limit``, ``decoding``, ``comparison``,
            ``calls``, ``name``, ``output_dir``...), as in the YAML file.

    Returns:
        Each step's status and the results (also in ``RUN_DIR/results.json``).

    Raises:
        UsageError: For arguments that fit neither form.
        ConfigError: For an invalid setting (named by its key) or model.
    """
    if test_set is None:
        _check_config_form(model, tokenizer, base_model, judge, metrics, run_dir, settings)
        return runner.full_evaluation(
            model, force=force, backends=backends, on_step=on_step, on_progress=on_progress
        )
    config, given = _build(
        model, tokenizer, test_set, base_model, judge, metrics, run_dir, base_tokenizer, settings
    )
    return runner.full_evaluation(
        config,
        force=force,
        backends={**given, **(backends or {})},
        on_step=on_step,
        on_progress=on_progress,
    )


async def afull_evaluation(
    model: Any,
    tokenizer: Any = None,
    test_set: Any = None,
    base_model: Any = None,
    **kwargs: Any,
) -> EvaluationResult:
    """`full_evaluation` for async code (same arguments and result), run in a worker thread."""
    return await asyncio.to_thread(
        full_evaluation, model, tokenizer, test_set, base_model, **kwargs
    )


def _check_config_form(model: Any, *rest: Any) -> None:
    if not isinstance(model, str | Path | WorkflowConfig):
        raise UsageError(
            f"full_evaluation got a {type(model).__name__} but no test_set; call "
            "full_evaluation(model, tokenizer, test_set, base_model=...) or "
            "full_evaluation('config.yaml')"
        )
    if any(rest):
        raise UsageError(
            "full_evaluation(CONFIG) takes its models, judge, metrics and settings from the "
            "config; pass a test_set to evaluate models given as arguments"
        )


def _build(
    model: Any,
    tokenizer: Any,
    test_set: Any,
    base_model: Any,
    judge: Any,
    metrics: Any,
    run_dir: str | Path | None,
    base_tokenizer: Any,
    settings: dict[str, Any],
) -> tuple[WorkflowConfig, dict[str, ModelBackend]]:
    for key in ("models", "eval_set"):
        if key in settings:
            raise UsageError(f"pass '{key}' as an argument of full_evaluation, not a setting")
    if base_model is None:
        if not is_peft_model(model):
            raise UsageError(
                "full_evaluation needs base_model (a model object, spec, backend or function) "
                f"unless the model is a peft PeftModel (then '{ADAPTER_DISABLED}' is used)"
            )
        base_model = ADAPTER_DISABLED
    given: dict[str, ModelBackend] = {}
    specs = {
        "finetuned": _role(given, "finetuned", model, tokenizer),
        "base": _base_role(given, model, tokenizer, base_model, base_tokenizer),
    }
    data: dict[str, Any] = dict(settings)
    folder = _run_folder(run_dir, data)
    data["models"] = {role: {"spec": spec} for role, spec in specs.items()}
    records = _records(test_set)
    data["eval_set"] = str(test_set) if records is None else str((folder / EVAL_INPUT).resolve())
    if metrics is not None:
        data["metrics"] = {"default": [metrics]} if isinstance(metrics, str) else metrics
        if not isinstance(data["metrics"], Mapping):
            data["metrics"] = {"default": list(data["metrics"])}
    if judge is not None:
        data["judge"] = _judge(given, judge)
    if records is None:
        return validate_config(data, "full_evaluation"), given
    # Every setting is checked before anything is written into the run directory.
    config = validate_config(data, "full_evaluation", check_files=False)
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    (folder / EVAL_INPUT).write_text(text, encoding="utf-8")
    return config, given


def _role(given: dict[str, ModelBackend], role: str, model: Any, tokenizer: Any, **kw: Any) -> str:
    try:
        made = as_backend(model, tokenizer, label=role, **kw)
    except BackendError as exc:
        raise ConfigError(f"full_evaluation: {role} model: {exc}") from None
    if isinstance(made, str):
        return made
    spec = made.spec
    if spec.partition(":")[0] != "inmemory":
        # A ready-made backend gets an in-memory spec from its identity: its own prefix may
        # not be registered, and the config must never rebuild it without the object's state.
        digest = hashlib.sha256(made.identity().encode()).hexdigest()[:16]
        spec = f"inmemory:{role}@{digest}"
    given[role] = made
    return register_live(made, spec)


def _base_role(
    given: dict[str, ModelBackend], model: Any, tokenizer: Any, base: Any, base_tokenizer: Any
) -> str:
    if isinstance(base, str) and base == ADAPTER_DISABLED:
        return _role(given, "base", model, tokenizer, disable_adapter=True)
    return _role(given, "base", base, base_tokenizer if base_tokenizer is not None else tokenizer)


def _judge(given: dict[str, ModelBackend], judge: Any) -> dict[str, Any]:
    if isinstance(judge, Mapping):
        return dict(judge)
    return {"spec": _role(given, "judge", judge, None)}


def _run_folder(run_dir: str | Path | None, data: dict[str, Any]) -> Path:
    """Set ``output_dir`` and ``name`` from ``run_dir`` (or a fresh timestamped name)."""
    if run_dir is not None:
        if "name" in data or "output_dir" in data:
            raise UsageError("give either run_dir or the name/output_dir settings, not both")
        path = Path(run_dir)
        data["output_dir"], data["name"] = str(path.parent), path.name
        return path
    output = Path(data.get("output_dir", "runs"))
    if "name" not in data:
        stamp = time.strftime("eval-%Y%m%d-%H%M%S")
        name, n = stamp, 1
        while (output / name).exists():
            n += 1
            name = f"{stamp}-{n}"
        data["name"] = name
    data["output_dir"] = str(output)
    return output / str(data["name"])


def _records(test_set: Any) -> list[dict[str, Any]] | None:
    """The eval set's records, or None when ``test_set`` is a path or an ``hf:`` spec."""
    if isinstance(test_set, str | Path):
        return None
    if isinstance(test_set, Mapping) or not isinstance(test_set, Iterable):
        raise UsageError(
            f"test_set must be a list of dicts, a Hugging Face Dataset or a file path; got "
            f"{type(test_set).__name__}"
        )
    rows = list(test_set)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise UsageError(
                f"test_set item {i} is a {type(row).__name__}; each item must be a dict with "
                "at least a 'prompt'"
            )
    if not rows:
        raise UsageError("test_set is empty; give at least one item with a 'prompt'")
    return [dict(r) for r in rows]
