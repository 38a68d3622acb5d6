"""The metric protocol: a scorer grades one example; the metric aggregates statistics.

Every metric turns (prediction, references) pairs into a matrix of per-example *sufficient
statistics* (one row per example). An aggregate score is a function of the column sums, so a
bootstrap resample is just a weighted sum of rows: nothing is re-tokenised, and a paired test
resamples both systems' statistics with the same weights. Mean-style metrics (exact match,
token F1, ROUGE) store the per-example value and a count; corpus metrics (BLEU, chrF) store
n-gram match counts and lengths.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import ValidationError, create_model

from tuneval.errors import MetricError, UsageError
from tuneval.registry import Registry, keyword_options
from tuneval.stats.resample import FloatArray as FloatArray


class Metric(ABC):
    """Base class of all metrics.

    Subclasses set `name` and `description`, take their options as typed keyword arguments
    of ``__init__`` and implement `statistics`, `aggregate` and `signature_fields`.

    `statistics` and `fit` take a plain string as one reference (as `tuneval.score` does):
    every subclass's own `statistics` and `fit` receive a list of references per example.
    """

    name: ClassVar[str]
    """Registered name, e.g. ``bleu``."""
    description: ClassVar[str]
    """One line for ``tuneval metrics``."""
    score_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    """Lowest and highest value of every score (BLEU and chrF: 0-100); a difference wider
    than this range is impossible, which caps the minimum detectable effect."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Wrapped here so that plugins get it too: "Paris" is one reference, not five.
        for method in ("statistics", "fit"):
            own = cls.__dict__.get(method)
            if own is not None and not getattr(own, "_one_string_one_reference", False):
                setattr(cls, method, _string_is_one_reference(own))

    @property
    @abstractmethod
    def score_names(self) -> list[str]:
        """Names of the scores this metric reports, headline first."""

    @property
    def binary_scores(self) -> frozenset[str]:
        """Scores whose per-example value is 0 or 1 (compared with McNemar's exact test)."""
        return frozenset()

    def fit(
        self, predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
    ) -> None:
        """Fix data-dependent settings from every system's outputs before any statistics.

        Called once with all systems' predictions when several are scored together, so that
        their statistics share one layout (e.g. the label set of a classification metric).
        The default does nothing.
        """
        del predictions, references

    @abstractmethod
    def statistics(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-example sufficient statistics.

        Args:
            predictions: One output per example.
            references: One or more references per example.

        Returns:
            An ``(n, d)`` float64 array; row ``i`` belongs to example ``i``.
        """

    @abstractmethod
    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        """Scores from summed statistics, vectorised over resamples.

        Args:
            totals: A ``(b, d)`` array; each row is a (weighted) sum of per-example statistics.

        Returns:
            For every name in `score_names`, a ``(b,)`` array of scores.
        """

    def per_example(self, stats: FloatArray) -> dict[str, FloatArray]:
        """Per-example scores: each example's statistics aggregated on their own.

        For mean-style metrics this is the example's value; for BLEU it is sentence BLEU with
        the metric's smoothing.
        """
        return self.aggregate(stats)

    @abstractmethod
    def signature_fields(self) -> dict[str, str]:
        """Options and library versions that determine the value, for the signature."""

    def details(self, stats: FloatArray) -> dict[str, Any] | None:
        """Optional extra output computed on the whole set (e.g. a confusion matrix)."""
        return None

    def signature(self) -> str:
        """sacreBLEU-style signature of the metric part, e.g. ``bleu|tok:13a|smooth:exp``."""
        fields = "|".join(f"{k}:{v}" for k, v in self.signature_fields().items())
        return f"{self.name}|{fields}" if fields else self.name


def _string_is_one_reference(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` with each example's references as a list, a plain string being one of them."""

    @functools.wraps(method)
    def wrapper(self: Metric, predictions: Any, references: Any) -> Any:
        if any(isinstance(refs, str) for refs in references):
            references = [[refs] if isinstance(refs, str) else refs for refs in references]
        return method(self, predictions, references)

    wrapper._one_string_one_reference = True  # type: ignore[attr-defined]
    return wrapper


class MeanMetric(Metric):
    """A metric whose scores are means of per-example values.

    Subclasses implement `example_values`, returning an ``(n, k)`` array with one column per
    score name; the statistics append a count column.
    """

    @abstractmethod
    def example_values(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-example values, ``(n, len(score_names))``."""

    def statistics(
        self, predictions: Sequence[str], references: Sequence[Sequence[str]]
    ) -> FloatArray:
        """Per-example values with a trailing column of ones (the count)."""
        values = np.asarray(self.example_values(predictions, references), dtype=np.float64)
        values = values.reshape(len(predictions), len(self.score_names))
        return np.hstack([values, np.ones((values.shape[0], 1))])

    def aggregate(self, totals: FloatArray) -> dict[str, FloatArray]:
        """Means: column sums divided by the count (0 for an empty set)."""
        count = totals[:, -1]
        safe = np.where(count > 0, count, 1.0)
        return {name: totals[:, i] / safe for i, name in enumerate(self.score_names)}


METRICS: Registry[type[Metric]] = Registry("metric", MetricError)
"""All metrics by name; ``@register_metric`` fills it."""


def register_metric(cls: type[Metric]) -> type[Metric]:
    """Class decorator that registers a metric under its `Metric.name`."""
    return METRICS.register(cls.name)(cls)


def _parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    name, _, rest = spec.partition(":")
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise MetricError(
                f"metric option '{part}' in '{spec}' must look like key=value, "
                f"e.g. 'bleu:tokenize=intl,lowercase=true'"
            )
        key = key.strip()
        if key in options:
            # Keeping the last value would run a different metric than half the spec asks for.
            raise _RepeatedOptionError(
                f"metric option '{key}' is given twice in '{spec}' ({key}={options[key]} and "
                f"{key}={value.strip()}); give it once"
            )
        options[key] = value.strip()
    return name.strip(), options


class _RepeatedOptionError(MetricError, UsageError):
    """A metric spec names one option twice: a malformed command line (CLI exit code 2)."""


def metric_options(cls: type[Metric]) -> dict[str, tuple[Any, Any]]:
    """The typed options a metric accepts: name -> (annotation, default)."""
    return keyword_options(cls)


def create_metric(spec: str, **overrides: Any) -> Metric:
    """Build a metric from a spec string ``name[:key=value,...]``.

    Option values are validated and coerced against the metric's typed ``__init__``, so
    ``rouge:use_stemmer=true`` gives a bool and an unknown key fails with the list of valid ones.

    Args:
        spec: For example ``"bleu"`` or ``"bleu:tokenize=intl,smooth_method=floor"``.
        **overrides: Options given in Python, applied over those in the spec.

    Raises:
        MetricError: Unknown metric, unknown option or a value of the wrong type.
    """
    name, options = _parse_spec(spec)
    cls = METRICS.get(name)
    accepted = metric_options(cls)
    merged: dict[str, Any] = {**options, **overrides}
    unknown = sorted(set(merged) - set(accepted))
    if unknown:
        valid = ", ".join(accepted) or "none"
        raise MetricError(
            f"metric '{name}' has no option {', '.join(map(repr, unknown))}; valid options: {valid}"
        )
    fields: dict[str, Any] = {
        k: (ann, ... if default is inspect.Parameter.empty else default)
        for k, (ann, default) in accepted.items()
    }
    model = create_model(f"{cls.__name__}Options", **fields)
    try:
        validated = model(**merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MetricError(f"invalid options for metric '{name}': {problems}") from None
    return cls(**{k: getattr(validated, k) for k in merged})
