"""Lazy public names of a package: imported from their module on first access (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def lazy_import(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any], name: str
) -> Any:
    """Import ``name`` from its module in ``exports`` and keep it in ``namespace``.

    Args:
        package: The package's name, for the error.
        exports: Public name -> module that defines it.
        namespace: The package's ``globals()``; later accesses find the name there.
        name: The attribute asked for.

    Raises:
        AttributeError: When ``name`` is not a lazy export.
    """
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module '{package}' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
