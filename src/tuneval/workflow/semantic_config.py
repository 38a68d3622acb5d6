"""``contamination.semantic`` of the workflow config: the paraphrase scan next to the n-grams."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SemanticConfig(BaseModel):
    """Semantic (paraphrase) contamination candidates, optionally confirmed by the judge.

    ``semantic: true`` turns it on with the defaults (``false`` leaves it off); a mapping
    sets the keys below.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Run the scan (``semantic: false`` sets this to false)."""
    model: str | None = None
    """sentence-transformers model folder or name (default: the bundled all-MiniLM-L6-v2)."""
    top_k: int = Field(default=5, ge=1)
    """Candidates kept per eval item."""
    floor: float = Field(default=0.45, gt=0.0, le=1.0)
    """Lowest cosine similarity of a candidate."""
    verify: bool = False
    """Ask the workflow's judge (``judge.spec``) whether each candidate rephrases its item;
    confirmed items are reported as contaminated."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": value}
        return value
