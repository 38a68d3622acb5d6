"""Checking what users pass to `score` and `compare` before any metric sees it.

Python callers pass whatever they have: lists, tuples, NumPy arrays, pandas Series, one string
per reference or several. A plain string is itself a sequence of characters, so taken as it
comes it would turn ``"Paris"`` into five one-letter references and give silently wrong
numbers. Everything is therefore turned into plain ``list[str]`` / ``list[list[str]]`` here, and
anything that is not text fails with a `UsageError` naming the argument and the example index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tuneval.errors import UsageError
from tuneval.metrics.base import Metric


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _items(value: Any, what: str) -> list[Any]:
    """The elements of a list-like argument (list, tuple, NumPy array, pandas Series...)."""
    if isinstance(value, (str, bytes)):
        raise UsageError(
            f"{what} is a single string ({_shown(value)}); pass a list with one entry per example"
        )
    # A mapping iterates over its keys and a set has no order: neither lines up with examples.
    unordered = isinstance(value, (Mapping, set, frozenset))
    if value is None or unordered or not isinstance(value, Iterable):
        raise UsageError(
            f"{what} must be a list (or tuple, NumPy array, pandas Series) with one entry per "
            f"example, got {type(value).__name__}"
        )
    if hasattr(value, "to_numpy") and not hasattr(value, "tolist"):
        value = value.to_numpy()  # a pandas DataFrame iterates over its column names
    # NumPy arrays and pandas Series give plain Python values through tolist(); a 0-d array
    # gives a scalar, which is caught below as "not a list".
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    if not isinstance(items, list):
        raise UsageError(f"{what} must hold one entry per example, got a single {_shown(items)}")
    return items


def as_list(value: Any, what: str) -> list[Any]:
    """The entries of a list-like argument, one per example (a string or a dict is refused).

    Args:
        value: A list, tuple, NumPy array, pandas Series, or any ordered iterable.
        what: The argument's name, for messages.

    Raises:
        UsageError: For a bare string, a mapping, a set, None or a non-iterable.
    """
    return _items(value, what)


def shown(value: Any) -> str:
    """A value as a message shows it: its repr, cut to 40 characters."""
    return _shown(value)


def _text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return str(value)  # plain str, also for str subclasses such as numpy.str_
    if value is None:
        raise UsageError(f"{where} is None; give a string (use '' for an empty output)")
    raise UsageError(f"{where} must be a string, got {type(value).__name__} {_shown(value)}")


def as_texts(values: Any, what: str) -> list[str]:
    """One string per example, e.g. a model's outputs.

    Args:
        values: A list-like of strings.
        what: The argument's name, for messages (e.g. ``"predictions"``).

    Raises:
        UsageError: For a bare string, a non-list, or an entry that is not a string.
    """
    return [_text(v, f"{what}[{i}]") for i, v in enumerate(_items(values, what))]


def as_references(values: Any, what: str = "references") -> list[list[str]]:
    """The references of each example: a string is one reference, a list of strings several.

    Args:
        values: A list-like with one entry per example; each entry a string or a list-like of
            strings (a 2-D NumPy array gives one row of references per example).
        what: The argument's name, for messages.

    Raises:
        UsageError: For an entry that is None, not text, or an empty list of references.
    """
    refs: list[list[str]] = []
    for i, entry in enumerate(_items(values, what)):
        where = f"{what}[{i}]"
        if isinstance(entry, str):
            refs.append([str(entry)])
            continue
        if entry is None or isinstance(entry, (bytes, Mapping)) or not isinstance(entry, Iterable):
            raise UsageError(
                f"{where} must be a string or a list of strings, got "
                f"{type(entry).__name__} {_shown(entry)}"
            )
        several = [_text(r, f"{where}[{j}]") for j, r in enumerate(entry)]
        if not several:
            raise UsageError(f"{where} is an empty list; give at least one reference")
        refs.append(several)
    return refs


def as_metrics(metrics: Any) -> list[Metric | str]:
    """A metric spec, a `Metric`, or a list of them, as a list (``"bleu"`` is one metric)."""
    if isinstance(metrics, (str, Metric)):
        return [metrics]
    items = _items(metrics, "metrics")
    for i, m in enumerate(items):
        if not isinstance(m, (str, Metric)):
            raise UsageError(
                f"metrics[{i}] must be a metric name such as 'bleu' or a Metric, got "
                f"{type(m).__name__} {_shown(m)}"
            )
    return items


def check_lengths(**named: Sequence[object]) -> int:
    """Every argument holds one entry per example, and there is at least one example.

    Args:
        **named: The per-example arguments by name; the first one sets the count.

    Returns:
        The number of examples.

    Raises:
        UsageError: For empty inputs, or an argument whose length differs from the first's.
    """
    (first, values), *others = named.items()
    n = len(values)
    if n == 0:
        raise UsageError(f"no examples: {first} is empty; give at least one example")
    for name, other in others:
        if len(other) != n:
            short, index = (name, len(other)) if len(other) < n else (first, n)
            raise UsageError(
                f"{n} {first} but {len(other)} {name}: {short} has no entry for index {index}; "
                "give one entry per example, in the same order"
            )
    return n


def as_ids(ids: Any, n: int) -> list[str]:
    """Example ids as strings (default ``"1"``, ``"2"``, ...), one per example, unique."""
    if ids is None:
        return [str(i + 1) for i in range(n)]
    items = _items(ids, "ids")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise UsageError(f"ids[{i}] must be a string or an integer, got {_shown(v)}")
        out.append(str(v))
    check_lengths(examples=range(n), ids=out)
    seen: dict[str, int] = {}
    for i, v in enumerate(out):
        if v in seen:
            raise UsageError(f"ids[{i}] repeats id {v!r} of ids[{seen[v]}]; ids must be unique")
        seen[v] = i
    return out
