"""Where users live: the transformers/TRL training callback.

``from tuneval.integrations import TunevalCallback`` imports transformers; importing this
package alone does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneval.integrations.callback import TunevalCallback

__all__ = ["TunevalCallback"]


def __getattr__(name: str) -> Any:
    """Import `TunevalCallback` (and transformers) on first access."""
    if name == "TunevalCallback":
        from tuneval.errors import require

        require("transformers", package="transformers", extra="hf", purpose="TunevalCallback")
        from tuneval.integrations.callback import TunevalCallback

        return TunevalCallback
    raise AttributeError(f"module 'tuneval.integrations' has no attribute {name!r}")
