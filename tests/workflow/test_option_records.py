"""Every workflow config field feeds a library record (or argument) of the same name and default.

The config, the library and the CLI once declared the same options twice with drifting
defaults (judge max tokens 256 vs 512, attempts 2 vs 3, calls 4/300 s vs 8/120 s). This test
walks every field of every config section and fails on the first name or default that differs
from what the library would use on its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from tuneval.contamination import check
from tuneval.evaluation import compare
from tuneval.evaluation.options import ComparisonOptions
from tuneval.judge.config import PairConfig, ScoreConfig
from tuneval.models.base import Decoding
from tuneval.models.pricing import run_cost
from tuneval.models.runner import CallOptions
from tuneval.stats import BootstrapConfig
from tuneval.workflow.config import (
    ContaminationConfig,
    HumanConfig,
    ModelConfig,
    WorkflowConfig,
)

Target = type[BaseModel] | Callable[..., Any]

FEEDS: dict[str, list[Target]] = {
    "decoding": [Decoding],
    "judge": [ScoreConfig, PairConfig],
    "comparison": [BootstrapConfig, compare],
    "calls": [CallOptions, run_cost],
    "contamination": [check],
}
"""Config section -> the library records or functions its fields are handed to."""

RENAMED = {("contamination", "ngram"): "n"}
"""Config keys that reach a library argument under another name (config -> library)."""

NONE_IS_EMPTY = {("calls", "prices")}
"""Config mappings whose empty default the library spells None (no entries either way)."""

CONFIG_ONLY = {
    "judge": {"spec", "options", "single", "pairwise"},
    "calls": {"cache", "refresh", "allow_failures"},
    "contamination": {"training_data", "semantic"},
}
"""Fields that choose what the workflow does rather than feed a library record."""

OWN_SECTIONS = {
    "version": "schema version of the file",
    "name": "run directory name",
    "eval_set": "input file",
    "output_dir": "run directory parent",
    "limit": "item count",
    "models": "backend specs and prompting (ModelConfig), no library record",
    "metrics": "metric spec strings, parsed by the metric registry",
    "human": "create_study takes every setting without a default",
    "benchmarks": "each entry IS its benchmark's options record (checked below)",
}
"""Top-level keys with no library record behind them, and why."""


def _default(target: Target, name: str) -> Any:
    """The default ``target`` gives ``name``, or a KeyError when it has no such field."""
    if isinstance(target, type) and issubclass(target, BaseModel):
        return target.model_fields[name].get_default(call_default_factory=True)
    param = inspect.signature(target).parameters[name]
    if param.default is inspect.Parameter.empty:
        raise KeyError(name)
    return param.default


def _config_fields() -> list[tuple[str, str, Any]]:
    """(section, field, default) of every field of every sectioned config record."""
    out = []
    for section, info in WorkflowConfig.model_fields.items():
        if section in OWN_SECTIONS:
            continue
        record = info.annotation
        assert isinstance(record, type) and issubclass(record, BaseModel), section
        for name, field in record.model_fields.items():
            out.append((section, name, field.get_default(call_default_factory=True)))
    return out


def test_every_top_level_key_is_accounted_for():
    assert set(WorkflowConfig.model_fields) == set(FEEDS) | set(OWN_SECTIONS)


@pytest.mark.parametrize(("section", "name", "default"), _config_fields())
def test_config_field_has_the_library_name_and_default(section, name, default):
    if name in CONFIG_ONLY.get(section, set()):
        return
    library = RENAMED.get((section, name), name)
    found = []
    for target in FEEDS[section]:
        try:
            found.append((target, _default(target, library)))
        except KeyError:
            continue
    where = ", ".join(getattr(t, "__name__", str(t)) for t in FEEDS[section])
    assert found, f"config key '{section}.{name}' feeds no field or argument of {where}"
    for target, value in found:
        if (section, name) in NONE_IS_EMPTY and value is None:
            value = type(default)()
        assert value == default, (
            f"config key '{section}.{name}' defaults to {default!r} but "
            f"{target.__name__}.{library} to {value!r}: one record, one default"
        )


def test_judge_calls_come_from_the_calls_section():
    """The judge section carries no call settings of its own (no second concurrency)."""
    assert "calls" not in WorkflowConfig.model_fields["judge"].annotation.model_fields


def test_config_only_fields_are_really_config_fields():
    for section, names in CONFIG_ONLY.items():
        assert names <= set(WorkflowConfig.model_fields[section].annotation.model_fields)


def test_sections_are_the_library_records():
    """Decoding, bootstrap and calls sections are (subclasses of) the library's records."""
    config = WorkflowConfig.model_validate(
        {
            "eval_set": "e.jsonl",
            "models": {"base": {"spec": "mock:a"}, "finetuned": {"spec": "mock:b"}},
        }
    )
    assert isinstance(config.comparison, ComparisonOptions)
    assert isinstance(config.calls, CallOptions)
    assert config.comparison.bootstrap == BootstrapConfig()
    assert config.calls.options == CallOptions()
    assert config.judge.score_config(CallOptions()) == ScoreConfig()
    assert config.judge.pair_config(CallOptions()) == PairConfig()


def test_benchmark_entries_default_to_their_options_record():
    from tuneval.benchmarks import BENCHMARKS
    from tuneval.workflow.bench_config import BenchmarkConfig

    for name in BENCHMARKS.names():
        entry = BenchmarkConfig.model_validate({"name": name})
        assert entry.options == BENCHMARKS.get(name).options_type(), name


def test_own_records_stay_config_only():
    """Sections without a library record are documented as such (a new one must be mapped)."""
    assert ModelConfig.model_fields and HumanConfig.model_fields
    assert "ngram" in ContaminationConfig.model_fields
