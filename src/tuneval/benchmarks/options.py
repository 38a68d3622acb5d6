"""Typed options of the standard benchmarks: one record per benchmark.

Each benchmark declares its options once, as a record here (defaults, constraints, valid
choices, a docstring per field). The same record serves the library (`Benchmark.run`), the
command line (every field is a flag of ``tuneval bench NAME``, whose ``--help`` lists only
that benchmark's options) and the workflow (a ``benchmarks:`` entry is checked against it).
How calls are made (concurrency, timeout, retries, cache) is not a benchmark option: it is
the caller's `tuneval.models.runner.CallOptions`, as for every other model call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from tuneval.errors import UsageError
from tuneval.records import Record

MMLU_MODES = ("loglikelihood", "generate")
MMLU_FORMATS = ("lm-eval", "original", "chat")
"""Prompt formats: ``lm-eval`` (lm-evaluation-harness's default MMLU task), ``original``
(the Hendrycks et al. ``evaluate.py`` script) and ``chat`` (the question sent as a chat turn,
for instruction-tuned models and generation)."""
CODE_MODES = ("completion", "chat")
MT_BENCH_PROTOCOLS = ("fastchat", "tuneval")
ALPACA_PROTOCOLS = ("both-orders", "alpaca_eval")


def must_be(choices: Sequence[str], value: object) -> str:
    """``must be 'a' or 'b', not 'x'`` (two choices) or ``must be one of a, b, c, not 'x'``."""
    if len(choices) == 2:
        allowed = " or ".join(f"'{c}'" for c in choices)
    else:
        allowed = f"one of {', '.join(choices)}"
    return f"must be {allowed}, not {value!r}"


class BenchOptions(BaseModel):
    """Options of a benchmark run given by name, checked against the benchmark's own record.

    The loose form for Python callers (``BenchOptions(subjects=("anatomy",), limit=2)``), as
    metric options are given by name: `Benchmark.run` validates it against the benchmark's
    options record, so a misspelt or foreign option fails naming the valid ones.
    """

    model_config = ConfigDict(extra="allow", frozen=True)


class CommonOptions(Record):
    """Options every benchmark takes."""

    choices: ClassVar[Mapping[str, Sequence[str]]] = {}
    """The valid values of a benchmark's text options (``mode``, ``format``, ...)."""

    data: Path | None = None
    """Local data file or folder in the original release format (default: the hub)."""
    limit: int | None = Field(default=None, ge=1)
    """Run only the first N problems (MMLU: per subject)."""
    temperature: float = Field(default=0.0, ge=0.0)
    """Sampling temperature."""
    max_tokens: int = Field(default=512, ge=1)
    """Upper bound on generated tokens per answer."""

    @field_validator("*")
    @classmethod
    def _one_of(cls, value: Any, info: ValidationInfo) -> Any:
        allowed = cls.choices.get(info.field_name or "")
        if allowed is not None and value is not None and value not in allowed:
            raise ValueError(must_be(allowed, value))
        return value


class MMLUOptions(CommonOptions):
    """MMLU's options."""

    choices: ClassVar[Mapping[str, Sequence[str]]] = {"mode": MMLU_MODES, "format": MMLU_FORMATS}

    subjects: tuple[str, ...] | None = None
    """Run only these subjects (default: all 57)."""
    mode: str | None = None
    """``loglikelihood`` or ``generate`` (default: log-likelihood when the backend gives
    log-probabilities)."""
    format: str | None = None
    """Prompt format: ``lm-eval`` (default), ``original`` (the Hendrycks script) or ``chat``
    (the prompt as a chat turn, scored after the chat template)."""

    @field_validator("subjects")
    @classmethod
    def _known_subjects(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        from tuneval.benchmarks.mmlu_data import CATEGORY

        unknown = [s for s in value or () if s not in CATEGORY]
        if unknown:
            raise ValueError(f"names unknown MMLU subject(s): {', '.join(unknown)}")
        return value


class CodeOptions(CommonOptions):
    """The options of the code benchmarks (HumanEval, MBPP)."""

    choices: ClassVar[Mapping[str, Sequence[str]]] = {"mode": CODE_MODES}

    samples: int = Field(default=1, ge=1)
    """Samples per problem (n of pass@k)."""
    mode: str | None = None
    """``completion`` (the original prompt continued, for base models) or ``chat``
    (EvalPlus-style instruction; the default for a backend with a chat template)."""
    timeout_factor: float = Field(default=1.0, gt=0.0)
    """Multiplies the reference harness's 3 s per program. Raise it on a slow or busy CPU
    (e.g. 2-3), where correct but slower solutions would otherwise time out; the factor is
    part of the signature since it can change results."""
    workers: int | None = Field(default=None, ge=1)
    """Sandbox processes at once (default: the number of cores)."""


class MTBenchOptions(CommonOptions):
    """MT-Bench's options (the judge model is passed to the run, not named here)."""

    choices: ClassVar[Mapping[str, Sequence[str]]] = {"protocol": MT_BENCH_PROTOCOLS}

    protocol: str | None = None
    """``fastchat`` (default; FastChat's judge templates, parsing and budget, needs
    ``judge_prompts.jsonl`` in the data) or ``tuneval`` (the JSON rubric judge with retries)."""
    against: Path | None = None
    """Another model's MT-Bench run to compare with pairwise (instead of single grading)."""


class AlpacaEvalOptions(CommonOptions):
    """AlpacaEval's options (the judge model is passed to the run, not named here)."""

    choices: ClassVar[Mapping[str, Sequence[str]]] = {"protocol": ALPACA_PROTOCOLS}

    protocol: str | None = None
    """``both-orders`` (default) or ``alpaca_eval`` (one randomised order per item, as
    alpaca_eval annotates)."""


def own_options(record: type[CommonOptions]) -> list[str]:
    """The options a benchmark takes beyond `CommonOptions`, in declaration order."""
    return [f for f in record.model_fields if f not in CommonOptions.model_fields]


def option_problem(name: str, error: ValidationError, label: Any = None) -> str:
    """One line for the first problem of an options record's validation error.

    Args:
        name: The benchmark.
        error: The record's validation error.
        label: Turns a field name into how the caller spells it (default ``--flag``).
    """
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "options"
    shown = label(field) if label else "--" + field.replace("_", "-")
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{name} {shown} {msg[:1].lower()}{msg[1:]}"


def check_options(
    name: str, record: type[CommonOptions], given: BaseModel | Mapping[str, Any]
) -> CommonOptions:
    """``given`` validated against a benchmark's options record.

    Raises:
        UsageError: For an option the benchmark does not take (naming its options) or an
            invalid value (naming the valid ones).
    """
    if isinstance(given, record):
        return given
    data = given.model_dump(exclude_unset=True) if isinstance(given, BaseModel) else dict(given)
    unknown = [k for k in data if k not in record.model_fields]
    if unknown:
        raise UsageError(
            f"{name} takes no option {', '.join(map(repr, unknown))} (its options: "
            f"{', '.join(record.model_fields)})"
        )
    try:
        return record.model_validate(data)
    except ValidationError as exc:
        raise UsageError(option_problem(name, exc)) from None
