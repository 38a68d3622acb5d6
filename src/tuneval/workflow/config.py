"""The workflow config: one strict YAML file from eval set to report.

Layers, later ones winning: the defaults of the models below < the YAML file < ``TUNEVAL_*``
environment variables (``TUNEVAL_JUDGE__SPEC=openai:gpt-4o-mini`` sets ``judge.spec``; only
variables whose first part names a top-level key are read) < command-line overrides
(``--set judge.spec=mock:echo``). Every model forbids unknown keys, so a typo fails with the
key's dotted path instead of being ignored. Relative paths in the file are resolved against
the file's folder, so a config runs the same from any working directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tuneval.errors import ConfigError
from tuneval.evaluation.options import ComparisonOptions
from tuneval.judge.config import PairConfig, PairOptions, ScoreConfig, ScoreOptions
from tuneval.models.base import DecodingOptions
from tuneval.models.pricing import DEFAULT_BATCH_DISCOUNT, ModelPrice
from tuneval.models.runner import CallOptions
from tuneval.workflow.bench_config import BenchmarkConfig as BenchmarkConfig
from tuneval.workflow.layers import (
    check_run_name,
    env_overrides,
    format_errors,
    origin_of,
    parse_overrides,
    set_path,
)
from tuneval.workflow.semantic_config import SemanticConfig

SCHEMA_VERSION = 1
"""Version of the config schema; bumped when a key changes meaning."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class FewShot(_Strict):
    """One demonstration put before the real prompt."""

    prompt: str
    """The demonstration's user turn."""
    response: str
    """The demonstration's assistant turn."""


class ModelConfig(_Strict):
    """One model under evaluation and how it is prompted."""

    spec: str
    """Backend spec, e.g. ``llamacpp:default``, ``hf:PATH+ADAPTER``, ``openai:gpt-4o-mini``."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend-specific keyword options passed to `create_backend`."""
    system_prompt: str | None = None
    """System message sent before every prompt."""
    few_shot: list[FewShot] = Field(default_factory=list)
    """Demonstrations sent as earlier user/assistant turns."""
    prompt_template: str = "{prompt}"
    """How an example's prompt becomes the user turn; ``{prompt}`` is replaced."""

    @field_validator("spec")
    @classmethod
    def _has_prefix(cls, value: str) -> str:
        if ":" not in value:
            raise ValueError(f"'{value}' has no backend prefix; write PREFIX:REST, e.g. mock:echo")
        return value

    @field_validator("prompt_template")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{prompt}" not in value:
            raise ValueError("must contain {prompt}")
        return value


class Models(_Strict):
    """The two models compared on the same items."""

    base: ModelConfig
    """The model before fine-tuning."""
    finetuned: ModelConfig
    """The fine-tuned model (the challenger)."""


DecodingConfig = DecodingOptions
"""The ``decoding`` section: the library's `DecodingOptions` record itself."""


class MetricsConfig(_Strict):
    """Automated metrics, computed on items with references."""

    default: list[str] = Field(default_factory=lambda: ["exact_match:lowercase=true", "token_f1"])
    """Metric specs for every category without its own list."""
    per_category: dict[str, list[str]] = Field(default_factory=dict)
    """Metric specs for named categories, replacing ``default`` there."""

    def for_category(self, category: str | None) -> list[str]:
        """The metric specs that apply to ``category``."""
        if category is not None and category in self.per_category:
            return self.per_category[category]
        return self.default


class JudgeSettings(ScoreOptions, PairOptions):
    """The LLM judge: the library's judge options plus which judge and which judgings.

    Every option the judge package has (criteria, reference, template, max_tokens,
    max_attempts, structured, scale, repeats, swap...) is inherited with its one default;
    the calls are made with the ``calls`` section's settings.
    """

    spec: str | None = None
    """Judge backend spec; None turns judging off."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend options for the judge."""
    single: bool = True
    """Score each output on a scale."""
    pairwise: bool = True
    """Compare the two outputs of each item, in both orders."""

    def score_config(self, calls: CallOptions) -> ScoreConfig:
        """The single-scoring settings of a judging run made with ``calls``."""
        return ScoreConfig(**_fields_of(self, ScoreOptions), calls=calls)

    def pair_config(self, calls: CallOptions) -> PairConfig:
        """The pairwise settings of a judging run made with ``calls``."""
        return PairConfig(**_fields_of(self, PairOptions), calls=calls)


ComparisonConfig = ComparisonOptions
"""The ``comparison`` section: the library's `ComparisonOptions` record itself."""


class ContaminationConfig(_Strict):
    """The training-data overlap check."""

    training_data: list[Path] = Field(default_factory=list)
    """Training files to scan; empty turns the check off."""
    ngram: int = Field(default=13, ge=1)
    """N-gram length of the overlap check."""
    threshold: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Flag items whose share of matched n-grams is above this (0: any match)."""
    fields: list[str] | None = None
    """Training fields that form the text (default: every string field)."""
    skip_bad: bool = False
    """Scan the rest when some training records are unreadable (counted and listed in the
    report); without it they fail the step."""
    ray: str | None = None
    """Scan on Ray: ``local`` starts a local runtime, ``auto``, ``HOST:PORT`` or
    ``ray://HOST:PORT`` joins a cluster (as ``tuneval contamination --ray``); same report."""
    semantic: SemanticConfig | None = None
    """Paraphrase candidates by sentence embeddings (``semantic: true``, or a mapping)."""


class HumanConfig(_Strict):
    """Export of a blind human-evaluation study."""

    export: bool = False
    """Create a blind A/B study of base vs fine-tuned in ``RUN/human-study`` (served with
    ``tuneval human serve``) and write its spreadsheet files (``annotations.jsonl``/``.csv``)."""
    items: int | None = Field(default=None, ge=1)
    """Items in the study: a seeded random sample (all when absent)."""
    annotators: list[str] = Field(default_factory=lambda: ["ann1", "ann2", "ann3"], min_length=1)
    """Annotator names; each gets a private link."""
    per_item: int = Field(default=3, ge=1)
    """Annotators per item (at most the number of annotators)."""
    seed: int = 0
    """Seed of the A/B placement, the sample and the assignment."""

    def study_options(self) -> dict[str, Any]:
        """The keyword arguments of `tuneval.human.create_study` these settings give."""
        return {
            "annotators": list(self.annotators),
            "per_item": self.per_item,
            "seed": self.seed,
            "limit": self.items,
        }

    @model_validator(mode="after")
    def _enough_annotators(self) -> HumanConfig:
        if self.per_item > len(self.annotators):
            raise ValueError(
                f"per_item ({self.per_item}) is more than the number of annotators "
                f"({len(self.annotators)})"
            )
        if len(set(self.annotators)) != len(self.annotators):
            raise ValueError("annotator names must be unique")
        return self


class CallSettings(CallOptions):
    """How model calls are made: the library's `CallOptions` plus the call cache switches."""

    cache: bool = True
    """Serve and store model and judge calls in the call cache (``TUNEVAL_CACHE_DIR``, else
    ``~/.cache/tuneval``), so a rerun or a new run with the same calls costs nothing."""
    refresh: bool = False
    """Ignore cached answers and store fresh ones."""
    allow_failures: bool = False
    """Finish with exit status 0 although some model calls failed (``--allow-failures``).
    Failed generations are always excluded from scoring and counted in the report; without
    this the run ends in an error, as a verdict on part of the eval set is easy to misread."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """USD per 1M input/output tokens by model name or spec (``gpt-4o-mini: {input: 0.15,
    output: 0.6}``) for the cost estimate; these win over the built-in list prices, and a
    model priced nowhere costs "unknown" in the report."""
    batch_discount: float = Field(default=DEFAULT_BATCH_DISCOUNT, ge=0.0, le=1.0)
    """Share of the price that batch calls save (0.5: half price)."""

    @property
    def options(self) -> CallOptions:
        """The library's call options alone."""
        return CallOptions(**_fields_of(self, CallOptions))


def _fields_of(record: BaseModel, cls: type[BaseModel]) -> dict[str, Any]:
    """The values of ``record``'s fields that ``cls`` declares (a section -> its library record)."""
    return {name: getattr(record, name) for name in cls.model_fields}


class WorkflowConfig(_Strict):
    """Everything `full_evaluation` needs."""

    version: Literal[1] = 1
    """Schema version of this file."""
    name: str = "run"
    """Run name; the run directory is ``output_dir/name``."""
    eval_set: Path
    """The eval set (JSONL, JSON, CSV, Parquet or ``hf:``)."""
    output_dir: Path = Path("runs")
    """Folder holding run directories, relative to the working directory."""
    limit: int | None = Field(default=None, ge=1)
    """Use only the first N items (quick trials)."""
    models: Models
    """Base and fine-tuned model."""
    decoding: DecodingOptions = Field(default_factory=DecodingOptions)
    """Decoding parameters of both models."""
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    """Automated metrics."""
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    """LLM judge."""
    comparison: ComparisonConfig = Field(default_factory=ComparisonConfig)
    """Intervals and tests."""
    contamination: ContaminationConfig = Field(default_factory=ContaminationConfig)
    """Training-data overlap check."""
    human: HumanConfig = Field(default_factory=HumanConfig)
    """Human-evaluation study export."""
    benchmarks: list[BenchmarkConfig] = Field(default_factory=list)
    """Standard benchmarks run on both models (MT-Bench and AlpacaEval use the judge)."""
    calls: CallSettings = Field(default_factory=CallSettings)
    """Concurrency and timeouts."""

    @field_validator("judge", mode="before")
    @classmethod
    def _null_judge(cls, value: Any) -> Any:
        # ``judge: null`` reads as "no judge"; it means what ``judge: {spec: null}`` means.
        return {} if value is None else value

    @property
    def run_dir(self) -> Path:
        """``output_dir/name``."""
        return self.output_dir / self.name

    def section_values(self, *sections: str) -> dict[str, Any]:
        """The named sections as hashed by `section_key`.

        They are kept in ``run.json``, so that a differing key can say what changed.
        """
        from tuneval.workflow.keys import keyed_dump

        data = keyed_dump(self)
        return {s: data.get(s) for s in sections}

    def section_key(self, *sections: str) -> str:
        """A short hash of the named sections, to tell whether a step's inputs changed.

        Options added after a run was made do not change its key while they hold their
        defaults (see `tuneval.workflow.keys`), so a killed run resumes after an upgrade.
        """
        values = self.section_values(*sections)
        payload = json.dumps([values[s] for s in sections], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_config(
    path: str | Path,
    *,
    overrides: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> WorkflowConfig:
    """Read, layer and validate a workflow config.

    Args:
        path: The YAML file.
        overrides: ``key.path=value`` strings (command-line flags), applied last.
        environ: Environment to read ``TUNEVAL_*`` from (default: `os.environ`).

    Raises:
        ConfigError: For a missing or unreadable file, invalid YAML, a key given twice, an
            unknown key, a wrong type, an unknown backend or metric option, or a missing eval
            set or training file; the message names the key or path.
    """
    from tuneval.workflow.checks import load_yaml
    from tuneval.workflow.paths import resolve_paths

    source = Path(path)
    if source.is_dir():
        hint = source / "config.yaml"
        raise ConfigError(f"{source} is a directory, not a config file (did you mean {hint}?)")
    if not source.is_file():
        raise ConfigError(f"config file {source} does not exist; create one with 'tuneval init'")
    data = load_yaml(source.read_text(encoding="utf-8"), str(source)) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys to values")
    resolve_paths(data, source.resolve().parent)
    layers = env_overrides(os.environ if environ is None else environ, WorkflowConfig.model_fields)
    layers += parse_overrides(overrides)
    origins: dict[tuple[str, ...], str] = {}
    for key_path, value, origin in layers:
        set_path(data, key_path, value, origin)
        origins[tuple(key_path)] = origin
    return validate_config(data, str(source), origins=origins)


def validate_config(
    data: Mapping[str, Any],
    source: str = "config",
    *,
    check_files: bool = True,
    origins: Mapping[tuple[str, ...], str] | None = None,
) -> WorkflowConfig:
    """Validate a config mapping and (unless ``check_files`` is False) that its input files exist.

    Args:
        data: The config mapping.
        source: Where it came from (the file), named in messages.
        check_files: Check that the eval set, training and benchmark files exist.
        origins: Where overridden key paths got their values (see `format_errors`).

    Raises:
        ConfigError: Naming the key path of every problem (schema, backend specs and options,
            metric specs).
        UsageError: For a run name that is not a plain folder name.
    """
    from tuneval.workflow.checks import check_config

    check_run_name(data.get("name"), origin_of(("name",), source, origins or {}))
    try:
        config = WorkflowConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, source, origins)) from None
    check_config(config, source)
    if not check_files:
        return config
    eval_set = str(config.eval_set)
    if not eval_set.startswith("hf:") and not config.eval_set.is_file():
        what = "is a directory, not a file" if config.eval_set.is_dir() else "does not exist"
        raise ConfigError(f"{source}: key 'eval_set': {config.eval_set} {what}")
    for i, train in enumerate(config.contamination.training_data):
        if not train.exists():
            raise ConfigError(
                f"{source}: key 'contamination.training_data.{i}': file {train} does not exist"
            )
    for i, bench in enumerate(config.benchmarks):
        if bench.data is not None and not bench.data.exists():
            raise ConfigError(f"{source}: key 'benchmarks.{i}.data': {bench.data} does not exist")
    return config
