"""The ``benchmarks:`` entries of the workflow config, checked against each benchmark's record.

An entry names a benchmark and sets its options flat (``{name: mmlu, subjects: [anatomy],
format: original}``). The options are the benchmark's own record
(`tuneval.benchmarks.options`: the same defaults and checks as ``tuneval bench NAME`` and the
library), so an option a benchmark does not take, an invalid value or an unknown key fails
when the config loads, naming the valid choices, and no model call is paid for a typo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from tuneval.benchmarks.options import CommonOptions

_CLI_ONLY = {
    "annotations": "it scores one model's finished alpaca_eval annotations, while the "
    "workflow generates and judges both models itself",
    "lc_data": "it goes with --annotations",
    "against": "the workflow compares the two models itself",
    "judge": "set the workflow's judge.spec, which judges the benchmarks too",
}
"""``tuneval bench`` options a workflow entry cannot take, and why."""

_OWN = ("name", "allow_mismatch", "allow_unscored")


class BenchmarkConfig(BaseModel):
    """A standard benchmark run on both models and compared item by item."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    """Registered benchmark (``tuneval bench list``): mmlu, humaneval, mbpp, mt-bench, ..."""
    options: SerializeAsAny[CommonOptions]
    """The benchmark's options record, written flat in the entry (``data``, ``limit``, ...)."""
    allow_mismatch: bool = False
    """Compare the two models even when their runs' protocol signatures differ (e.g. one
    model ran in chat mode, the other in completion mode); the report flags it."""
    allow_unscored: bool = False
    """Finish with exit status 0 although some generated replies could not be scored (MMLU
    generate mode: no clear answer letter), as ``tuneval bench mmlu --allow-unscored``. They
    are always counted in the step line and the report; without this the run ends in an
    error, as an accuracy over part of the items is easy to misread."""

    @property
    def data(self) -> Path | None:
        """Local data in the release format (default: the Hugging Face hub)."""
        return self.options.data

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        """Check the flat entry against the named benchmark's options record."""
        if not isinstance(data, dict) or isinstance(data.get("options"), CommonOptions):
            return data
        from tuneval.benchmarks import BENCHMARKS

        name = data.get("name")
        if not isinstance(name, str):
            return data  # pydantic reports the missing or mistyped name
        if name not in BENCHMARKS.names():
            raise ValueError(f"unknown benchmark '{name}'; known: {', '.join(BENCHMARKS.names())}")
        record = BENCHMARKS.get(name).options_type
        given = {k: v for k, v in data.items() if k not in _OWN}
        _check_keys(name, record, given)
        own = {k: data[k] for k in _OWN if k in data}
        return {**own, "options": _validated(name, record, given)}

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Written back flat, as entries are written (a resolved config reloads as it is)."""
        dumped = handler(self)
        flat = {"name": dumped["name"], **dumped["options"], "allow_mismatch": self.allow_mismatch}
        # Written only when set: entries dumped before the option existed stay as they were.
        return flat | ({"allow_unscored": True} if self.allow_unscored else {})


def _check_keys(name: str, record: type[CommonOptions], given: dict[str, Any]) -> None:
    """Refuse a key the benchmark does not take, naming what it takes."""
    from tuneval.benchmarks import BENCHMARKS

    unknown = [k for k in given if k not in record.model_fields]
    if not unknown:
        return
    elsewhere = {f for n in BENCHMARKS.names() for f in BENCHMARKS.get(n).options_type.model_fields}
    foreign = [k for k in unknown if k in elsewhere and k not in _CLI_ONLY]
    if foreign and len(foreign) == len(unknown):
        takes = [f for f in record.model_fields if f not in CommonOptions.model_fields]
        raise ValueError(
            f"{name} takes no option {', '.join(map(repr, foreign))} (its own options: "
            f"{', '.join(takes) or 'none'})"
        )
    valid = [_OWN[0], *(f for f in record.model_fields if f not in _CLI_ONLY), *_OWN[1:]]
    why = [f"'{k}' is for tuneval bench only: {_CLI_ONLY[k]}" for k in unknown if k in _CLI_ONLY]
    raise ValueError(
        f"unknown option {', '.join(repr(k) for k in unknown)} for benchmark {name!r}; valid: "
        f"{', '.join(valid)}" + (f"; {'; '.join(why)}" if why else "")
    )


def _validated(name: str, record: type[CommonOptions], given: dict[str, Any]) -> CommonOptions:
    """The options record; a bad value is reported at its own key, naming the benchmark."""
    try:
        return record.model_validate(given)
    except ValidationError as exc:
        errors = [
            {
                "type": "value_error",
                "loc": e["loc"],
                "input": e.get("input"),
                "ctx": {"error": ValueError(f"{name} {e['loc'][0]} {_message(e['msg'])}")},
            }
            for e in exc.errors()
        ]
        raise ValidationError.from_exception_data("BenchmarkConfig", errors) from None  # type: ignore[arg-type]


def _message(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]
