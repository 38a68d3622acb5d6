"""Statistics: bootstrap resampling, paired tests, multiple-comparison correction, pass@k.

`mean_ci`, `paired_difference` and `Interval` are the estimates every package reports.
"""

from tuneval.stats.estimates import (
    BootstrapConfig,
    Interval,
    PairedDifference,
    bootstrap_means,
    mean_ci,
    paired_difference,
)
from tuneval.stats.resample import FloatArray, percentile_interval, resample_counts
from tuneval.stats.tests import (
    approximate_randomization,
    holm,
    mcnemar_exact,
    paired_bootstrap_pvalue,
    pass_at_k,
)

__all__ = [
    "BootstrapConfig",
    "FloatArray",
    "Interval",
    "PairedDifference",
    "approximate_randomization",
    "bootstrap_means",
    "holm",
    "mcnemar_exact",
    "mean_ci",
    "paired_bootstrap_pvalue",
    "paired_difference",
    "pass_at_k",
    "percentile_interval",
    "resample_counts",
]
