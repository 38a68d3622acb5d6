"""The ``benchmarks:`` entries of the workflow config, checked per benchmark.

Each standard benchmark takes its own options (MMLU ``format``, code ``mode`` and
``timeout_factor``, judged benchmarks ``protocol``); an option a benchmark does not take, an
invalid value or an unknown key fails when the config loads, naming the valid choices, so
no model call is paid for a typo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


def benchmark_options(name: str) -> dict[str, tuple[str, ...] | None] | None:
    """The benchmark-specific options of ``name`` and their valid values (None: any value).

    Returns None for a benchmark without an entry here (a plugin), whose options are then
    checked by the benchmark itself when it runs.
    """
    from tuneval.benchmarks import alpaca_eval, code, mt_bench
    from tuneval.benchmarks.mmlu_data import FORMATS

    code_options: dict[str, tuple[str, ...] | None] = {"mode": code.MODES, "timeout_factor": None}
    table: dict[str, dict[str, tuple[str, ...] | None]] = {
        "mmlu": {"subjects": None, "mode": ("loglikelihood", "generate"), "format": FORMATS},
        "humaneval": code_options,
        "mbpp": code_options,
        "mbpp-sanitized": code_options,
        "mt-bench": {"protocol": mt_bench.PROTOCOLS},
        "alpaca-eval": {"protocol": alpaca_eval.PROTOCOLS},
    }
    return table.get(name)


_BENCH_SPECIFIC = ("subjects", "mode", "format", "protocol", "timeout_factor")
"""BenchmarkConfig options that only some benchmarks take (see `benchmark_options`)."""

_CLI_ONLY = {
    "annotations": "it scores one model's finished alpaca_eval annotations, while the "
    "workflow generates and judges both models itself",
    "lc_data": "it goes with --annotations",
    "against": "the workflow compares the two models itself",
    "judge": "set the workflow's judge.spec, which judges the benchmarks too",
}
"""``tuneval bench`` options a workflow entry cannot take, and why."""


class BenchmarkConfig(BaseModel):
    """A standard benchmark run on both models and compared item by item."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    """Registered benchmark (``tuneval bench list``): mmlu, humaneval, mbpp, mt-bench, ..."""
    data: Path | None = None
    """Local data in the release format (default: the Hugging Face hub)."""
    limit: int | None = Field(default=None, ge=1)
    """First N problems (MMLU: per subject)."""
    samples: int = Field(default=1, ge=1)
    """Samples per problem (code benchmarks: n of pass@k)."""
    temperature: float = Field(default=0.0, ge=0.0)
    """Sampling temperature."""
    max_tokens: int = Field(default=512, ge=1)
    """Upper bound on generated tokens per answer."""
    subjects: list[str] | None = None
    """MMLU: only these subjects."""
    mode: str | None = None
    """MMLU: ``loglikelihood`` or ``generate`` (default: log-likelihood when the backend gives
    log-probabilities). HumanEval/MBPP: ``completion`` or ``chat`` (default: chat when the
    model has a chat template). Set it when the two models would default differently."""
    format: str | None = None
    """MMLU: prompt format ``lm-eval`` (default), ``original`` or ``chat``."""
    protocol: str | None = None
    """MT-Bench: ``fastchat`` (default) or ``tuneval``. AlpacaEval: ``both-orders`` (default)
    or ``alpaca_eval``."""
    timeout_factor: float = Field(default=1.0, gt=0.0)
    """HumanEval/MBPP: multiplies the reference harness's 3 s per program (slow CPUs)."""
    allow_mismatch: bool = False
    """Compare the two models even when their runs' protocol signatures differ (e.g. one
    model ran in chat mode, the other in completion mode); the report flags it."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """An unknown key names the options this benchmark takes (extra="forbid" would not)."""
        if not isinstance(data, dict):
            return data
        unknown = [k for k in data if k not in cls.model_fields]
        if not unknown:
            return data
        name = data.get("name")
        specific = benchmark_options(name) if isinstance(name, str) else None
        valid = [k for k in cls.model_fields if k not in _BENCH_SPECIFIC or specific is None]
        valid += list(specific or ())
        why = [
            f"'{k}' is for tuneval bench only: {_CLI_ONLY[k]}" for k in unknown if k in _CLI_ONLY
        ]
        raise ValueError(
            f"unknown option {', '.join(repr(k) for k in unknown)} for benchmark "
            f"{name!r}; valid: {', '.join(dict.fromkeys(valid))}"
            + (f"; {'; '.join(why)}" if why else "")
        )

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        from tuneval.benchmarks import BENCHMARKS

        if value not in BENCHMARKS.names():
            raise ValueError(f"unknown benchmark '{value}'; known: {', '.join(BENCHMARKS.names())}")
        return value

    @field_validator(*_BENCH_SPECIFIC)
    @classmethod
    def _fits_benchmark(cls, value: Any, info: ValidationInfo) -> Any:
        """A benchmark-specific option must be one this benchmark takes, with a valid value."""
        name = info.data.get("name")
        options = benchmark_options(name) if isinstance(name, str) else None
        field = str(info.field_name)
        # The default passes: a resolved config (run.json) spells out every field.
        if options is None or value == cls.model_fields[field].default:
            return value
        if field not in options:
            takes = ", ".join(options) or "none"
            raise ValueError(f"{name} takes no option '{field}' (its own options: {takes})")
        choices = options[field]
        if choices is not None and value not in choices:
            raise ValueError(f"{name} {field} must be one of {', '.join(choices)}, not {value!r}")
        return value
