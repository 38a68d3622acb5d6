"""`TunevalCallback`: evaluate the model being trained against its base, inside ``Trainer``.

Works with transformers' ``Trainer`` and every trainer built on it (TRL's ``SFTTrainer``,
``DPOTrainer``...). At the start of training the base model's outputs are generated once (a
PEFT model's base is the model with its adapter disabled; a fully fine-tuned model's base is
the model as training starts) and written to ``RUN_DIR/base_outputs.jsonl``; every later
evaluation replays them (``file:`` backend), so the base costs nothing after step 0. At each
evaluation (or every N steps) the model being trained answers the eval set, and the usual
workflow writes ``RUN_DIR/step-N`` (results.json, reports) and returns metrics with CIs,
paired differences and p-values, which are logged through ``trainer.log`` so they land in
the log history and reach TensorBoard, W&B and every other reporter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tuneval.errors import UsageError
from tuneval.models.inmemory import ADAPTER_DISABLED, is_peft_model
from tuneval.workflow.api import full_evaluation
from tuneval.workflow.runner import EvaluationResult

log = logging.getLogger(__name__)

BASE_OUTPUTS = "base_outputs.jsonl"
"""The base model's outputs in the run directory, replayed at every evaluation."""


class TunevalCallback(TrainerCallback):
    """Compare the model being trained with its base at each evaluation, with CIs and tests.

    Usage::

        trainer = SFTTrainer(model=model, args=args, train_dataset=train, eval_dataset=dev)
        TunevalCallback(test_set, metrics=["rouge"], stop_if_worse=["rouge"]).attach(trainer)
        trainer.train()

    Args:
        test_set: The eval set (list of dicts, Hugging Face ``Dataset`` or file path).
        tokenizer: The model's tokenizer (default: the trainer's ``processing_class``).
        base_model: The base (model object, spec, backend or function); default: the PEFT
            model with its adapter disabled, else the model as training starts.
        every_n_steps: Evaluate every N optimizer steps instead of at the trainer's
            evaluations.
        run_dir: Folder of the run directories (default: ``OUTPUT_DIR/tuneval``).
        stop_if_worse: Measures (``token_f1``, ``rouge.rougeL``, ``judge_score``,
            ``win_rate``) that stop training when the fine-tuned model is significantly
            worse than the base on them.
        prefix: Prefix of the logged keys (``tuneval/token_f1/difference``...).
        metrics: Metric specs, as for `tuneval.full_evaluation`.
        judge: An LLM judge, as for `tuneval.full_evaluation`.
        **settings: Other config keys (``decoding``, ``comparison``, ``limit``, ``calls``).
    """

    def __init__(
        self,
        test_set: Any,
        tokenizer: Any = None,
        *,
        base_model: Any = None,
        every_n_steps: int | None = None,
        run_dir: str | Path | None = None,
        stop_if_worse: Sequence[str] = (),
        prefix: str = "tuneval",
        metrics: Any = None,
        judge: Any = None,
        **settings: Any,
    ) -> None:
        if every_n_steps is not None and every_n_steps < 1:
            raise UsageError(f"every_n_steps must be 1 or more, got {every_n_steps}")
        if isinstance(stop_if_worse, str):
            stop_if_worse = [stop_if_worse]
        self.test_set = test_set if isinstance(test_set, str | Path) else list(test_set)
        self.tokenizer = tokenizer
        self.base_model = base_model
        self.every_n_steps = every_n_steps
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.stop_if_worse = list(stop_if_worse)
        self.prefix = prefix
        self.settings = dict(settings, metrics=metrics, judge=judge)
        self.results: dict[int, EvaluationResult] = {}
        """Each evaluation's result by global step."""
        self.stopped_by: str | None = None
        """The measure that stopped training, if one did."""
        self._trainer: Any = None
        self._base_file: Path | None = None
        self._warned = False

    def attach(self, trainer: Any) -> TunevalCallback:
        """Add this callback to ``trainer`` and log through it (so reporters see the numbers)."""
        self._trainer = trainer
        trainer.add_callback(self)
        return self

    # -- trainer events --------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        """Generate the base outputs once, as a step-0 evaluation."""
        if state.is_world_process_zero and self._base_file is None:
            self._evaluate(args, state, control, kwargs, baseline=True)
        return control

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        """Evaluate at the trainer's evaluations (unless ``every_n_steps`` is set)."""
        if self.every_n_steps is None and state.is_world_process_zero:
            self._evaluate(args, state, control, kwargs)
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        """Evaluate every ``every_n_steps`` steps when set."""
        n = self.every_n_steps
        if n is not None and state.global_step % n == 0 and state.is_world_process_zero:
            self._evaluate(args, state, control, kwargs)
        return control

    # -- work -------------------------------------------------------------------------

    def _root(self, args: Any) -> Path:
        return self.run_dir if self.run_dir is not None else Path(args.output_dir) / "tuneval"

    def _evaluate(
        self, args: Any, state: Any, control: Any, kwargs: dict[str, Any], baseline: bool = False
    ) -> None:
        model = kwargs.get("model")
        tokenizer = self.tokenizer or kwargs.get("processing_class") or kwargs.get("tokenizer")
        step = state.global_step
        if step in self.results and not baseline:
            return  # evaluated at this step already (on_step_end and on_evaluate both fired)
        if baseline:
            base = self.base_model
            if base is None:
                base = ADAPTER_DISABLED if is_peft_model(model) else model
        else:
            base = f"file:{self._base_file}"
        result = full_evaluation(
            model, tokenizer, self.test_set, base_model=base,
            run_dir=self._root(args) / f"step-{step}", **self.settings,
        )  # fmt: skip
        self.results[step] = result
        if baseline:
            self._base_file = _write_base_outputs(Path(result.run_dir), self._root(args))
        logs = self.logs(result)
        worse = [v.measure for v in result.results.verdicts if v.outcome == "worse"]
        gated = [m for m in worse if any(_matches(m, g) for g in self.stop_if_worse)]
        logs[f"{self.prefix}/worse_measures"] = float(len(worse))
        self._log(state, logs)
        if gated and not baseline:
            self.stopped_by = gated[0]
            control.should_training_stop = True
            log.warning(
                "tuneval: stopping training at step %d: %s is significantly worse than the "
                "base model (see %s)", step, ", ".join(gated), result.run_dir,
            )  # fmt: skip

    def logs(self, result: EvaluationResult) -> dict[str, float]:
        """The numbers logged for one evaluation.

        Both models' metric values, and per verdict the paired difference with its CI, the
        p-value and whether it is significantly worse.
        """
        out: dict[str, float] = {}
        p = self.prefix
        metrics = result.results.metrics
        for comp in metrics.comparisons if metrics is not None else []:
            # Named like the verdicts (metric.name), so one measure's numbers group together.
            key = f"{p}/{comp.metric}.{comp.name}"
            out[f"{key}/base"] = float(comp.base.value)
            out[f"{key}/finetuned"] = float(comp.finetuned.value)
        for verdict in result.results.verdicts:
            key = f"{p}/{verdict.measure}"
            out[f"{key}/difference"] = verdict.difference
            out[f"{key}/ci_low"] = verdict.ci_low
            out[f"{key}/ci_high"] = verdict.ci_high
            if verdict.p_value is not None:
                out[f"{key}/p_value"] = verdict.p_value
            out[f"{key}/worse"] = float(verdict.outcome == "worse")
        return out

    def _log(self, state: Any, logs: dict[str, float]) -> None:
        if self._trainer is not None:
            self._trainer.log(logs)  # log history and every reporter's on_log
            return
        state.log_history.append({**logs, "step": state.global_step})
        if not self._warned:
            self._warned = True
            log.warning(
                "tuneval: the callback was not attached with TunevalCallback(...).attach(trainer);"
                " its numbers are in trainer.state.log_history but reporters do not see them"
            )


def _matches(measure: str, gate: str) -> bool:
    """``token_f1`` gates the verdict ``token_f1.token_f1``; a full name gates itself."""
    return measure == gate or measure.split(".", 1)[0] == gate


def _write_base_outputs(run: Path, root: Path) -> Path:
    """The base model's generations of ``run`` as a predictions file for the ``file:`` backend."""
    rows = [json.loads(line) for line in (run / "generations.jsonl").read_text().splitlines()]
    out = root / BASE_OUTPUTS
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            if row["model"] != "base":
                continue
            record = {"id": row["example_id"], "prediction": row["output"]}
            if row["output"] is None:
                record["error"] = row.get("error") or "error"
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out
