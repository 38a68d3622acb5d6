"""Statistics: bootstrap resampling, paired tests, multiple-comparison correction, pass@k."""

from tuneval.stats.resample import percentile_interval, resample_counts
from tuneval.stats.tests import (
    approximate_randomization,
    holm,
    mcnemar_exact,
    paired_bootstrap_pvalue,
    pass_at_k,
)

__all__ = [
    "approximate_randomization",
    "holm",
    "mcnemar_exact",
    "paired_bootstrap_pvalue",
    "pass_at_k",
    "percentile_interval",
    "resample_counts",
]
