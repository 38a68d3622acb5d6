"""Step keys that stay the same across tuneval upgrades, and what differs when they do not.

A step is resumed or skipped when the hash of the config sections it depends on matches the
one ``run.json`` saved. Hashing every field would make each new option (added with a default
that keeps the old behaviour) change every key, so a run killed before an upgrade could not
resume after it although nothing that shapes its outputs changed. So a key hashes:

- every field that existed when this scheme was introduced (`KEYED_FIELDS`), always, so the
  keys of runs made before it are unchanged, and a changed default of one of them (which does
  change outputs) changes the key;
- a field added later only when its value differs from its default.

A field added later must therefore default to the old behaviour; when a default of a field
listed here changes, keys change, and the message names the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

KEYED_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "WorkflowConfig": "version name eval_set output_dir limit models decoding metrics judge "
        "comparison contamination human benchmarks calls",
        "Models": "base finetuned",
        "ModelConfig": "spec options system_prompt few_shot prompt_template",
        "FewShot": "prompt response",
        "DecodingOptions": "temperature top_p max_tokens stop seed",
        "MetricsConfig": "default per_category",
        "JudgeSettings": "criteria reference template max_attempts max_tokens structured repeats "
        "repeat_temperature swap inconsistent scale spec options single pairwise",
        "ComparisonOptions": "resamples seed confidence test trials alpha cluster_field",
        "ContaminationConfig": "training_data ngram threshold fields skip_bad ray semantic",
        "SemanticConfig": "enabled model top_k floor verify",
        "HumanConfig": "export items annotators per_item seed",
        "BenchmarkConfig": "name options allow_mismatch",
        "CommonOptions": "data limit temperature max_tokens",
        "AlpacaEvalOptions": "data limit temperature max_tokens protocol",
        "CodeOptions": "data limit temperature max_tokens samples mode timeout_factor workers",
        "MMLUOptions": "data limit temperature max_tokens subjects mode format",
        "MTBenchOptions": "data limit temperature max_tokens protocol against",
        "CallSettings": "max_concurrency timeout_s max_retries backoff_base_s backoff_max_s "
        "adaptive_concurrency batch batch_poll_s batch_poll_max_s run_dir cache refresh "
        "allow_failures prices batch_discount",
        "ModelPrice": "input output",
    }.items()
}
"""The fields of each config record when keys became stable: always hashed (key scheme 1)."""


def keyed_dump(record: BaseModel) -> dict[str, Any]:
    """``record``'s JSON dump without later-added fields that hold their default."""
    data = record.model_dump(mode="json")
    _prune(record, data)
    return data


def _prune(record: BaseModel, data: dict[str, Any]) -> None:
    known = KEYED_FIELDS.get(type(record).__name__, frozenset())
    for name, field in type(record).model_fields.items():
        value = getattr(record, name)
        added = name not in known and name in data and not field.is_required()
        if added and value == field.get_default(call_default_factory=True):
            del data[name]
            continue
        if isinstance(value, BaseModel) and name not in data:
            _prune(value, data)  # a record written flat into its parent (a benchmark's options)
        else:
            _prune_value(value, data.get(name))


def _prune_value(value: Any, dumped: Any) -> None:
    """Prune the records nested in ``value`` (a record, a list or a mapping of records)."""
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        _prune(value, dumped)
    elif isinstance(value, (list, tuple)) and isinstance(dumped, list):
        for item, item_dump in zip(value, dumped, strict=False):
            _prune_value(item, item_dump)
    elif isinstance(value, dict) and isinstance(dumped, dict):
        for key, item in value.items():
            _prune_value(item, dumped.get(key))


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """``key: old -> new`` for every leaf that differs between two dumped sections."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"{where}: (not set) -> {new[key]!r}")
            elif key not in new:
                out.append(f"{where}: {old[key]!r} -> (not set)")
            else:
                out += differences(old[key], new[key], where)
        return out
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]
