"""The options of a paired comparison, shared by `compare`, the workflow config and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tuneval.stats import BootstrapConfig


class ComparisonOptions(BootstrapConfig):
    """How two models are compared: the bootstrap (`BootstrapConfig`) and the paired tests.

    The workflow config's ``comparison`` section is this record, and ``tuneval compare``'s
    flags are made from its fields; `compare` takes the same values as keyword arguments.
    """

    test: Literal["approximate_randomization", "paired_bootstrap"] = "approximate_randomization"
    """Paired test for continuous scores (binary scores use exact McNemar)."""
    trials: int = Field(default=10_000, ge=100)
    """Shuffles of approximate randomisation."""
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    """Significance level of the verdicts."""
    cluster_field: str | None = None
    """Eval-set field that groups related items (same prompt, category, source): whole
    groups are resampled for every CI and test. Without it, items are independent units."""

    @property
    def bootstrap(self) -> BootstrapConfig:
        """The bootstrap settings alone (metrics and judge alike)."""
        return BootstrapConfig(**{f: getattr(self, f) for f in BootstrapConfig.model_fields})
