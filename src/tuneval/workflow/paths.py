"""Relative paths in a workflow config resolve against the config file's folder.

A config must run the same from any working directory, so a path written in it means a path
next to it. Model specs and options mix paths with other words (``hf:org/model`` is a hub id,
``llamacpp:default`` a name), so there a value is taken for a path only when it starts with
``./`` or ``../`` or names something that exists next to the config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SPEC_PATH_PREFIXES = ("file", "hf", "llamacpp")
"""Backends whose spec, after the prefix, names local files."""

_ALWAYS_PATHS = frozenset({"adapter", "lora"})
"""Model options that only ever name local files (a LoRA ships next to its config)."""


def _plain(value: Any, base: Path) -> Any:
    """A path key's value (eval set, training data): every relative path is the config's."""
    if isinstance(value, str) and not value.startswith("hf:") and not Path(value).is_absolute():
        return str(base / value)
    return value


def _maybe_path(text: str, base: Path) -> str:
    """``text`` resolved against ``base`` when it reads as a path there, else unchanged."""
    if not text or Path(text).is_absolute():
        return text
    explicit = text.startswith(("./", "../", ".\\", "..\\"))
    if explicit or (base / text).exists():
        return str((base / text).resolve())
    return text


def _spec(spec: Any, base: Path) -> Any:
    """A model spec with the local paths it names resolved (``file:P#F``, ``hf:B+A``)."""
    if not isinstance(spec, str):
        return spec
    prefix, sep, rest = spec.partition(":")
    if not sep or prefix not in _SPEC_PATH_PREFIXES:
        return spec
    if prefix == "file":
        path, hash_, field = rest.partition("#")
        return f"file:{_maybe_path(path, base)}{hash_}{field}"
    if prefix == "hf":
        model, plus, adapter = rest.partition("+")
        return f"hf:{_maybe_path(model, base)}{plus}{_maybe_path(adapter, base) if plus else ''}"
    return f"{prefix}:{_maybe_path(rest, base)}"


def _model(model: Any, base: Path) -> None:
    if not isinstance(model, dict):
        return
    if "spec" in model:
        model["spec"] = _spec(model["spec"], base)
    options = model.get("options")
    if isinstance(options, dict):
        for key, value in options.items():
            if key in _ALWAYS_PATHS:
                options[key] = _plain(value, base)
            elif isinstance(value, str):
                # Any other option may be a path too (a weights file); words stay words.
                options[key] = _maybe_path(value, base)


def resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Resolve, in place, the relative paths of a config mapping read from folder ``base``."""
    if "eval_set" in data:
        data["eval_set"] = _plain(data["eval_set"], base)
    cont = data.get("contamination")
    if isinstance(cont, dict) and isinstance(cont.get("training_data"), list):
        cont["training_data"] = [_plain(v, base) for v in cont["training_data"]]
    for bench in data.get("benchmarks") or []:
        if isinstance(bench, dict) and bench.get("data") is not None:
            bench["data"] = _plain(bench["data"], base)
    models = data.get("models")
    for model in models.values() if isinstance(models, dict) else []:
        _model(model, base)
    judge = data.get("judge")
    if isinstance(judge, dict):
        _model(judge, base)
